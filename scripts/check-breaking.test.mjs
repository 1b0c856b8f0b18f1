// Proves the breaking-change gate (scripts/check-breaking.sh) works: in a scratch git
// repository holding a copy of openapi.yaml it makes compatible and breaking edits and
// checks the gate's verdict, the deliberate-release path (major version + CHANGELOG.md),
// the release tag becoming the new base, and the BASE override. Run by
// `make test-spec-tools`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'scripts/check-breaking.sh');
// Reuse the oasdiff the repository's gate builds, so the test does not build it again.
const oasdiff = join(root, 'bin/oasdiff-v1.21.0/oasdiff');
const original = readFileSync(join(root, 'openapi.yaml'), 'utf8');

let repo;
const git = (...args) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

function gate(env = {}) {
  const run = spawnSync(script, [], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, OASDIFF: oasdiff, BASE: '', ...env },
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

// Rewrites the scratch openapi.yaml with edit(doc) applied to the committed version.
function editSpec(edit) {
  const doc = YAML.parseDocument(original);
  edit(doc);
  writeFileSync(join(repo, 'openapi.yaml'), doc.toString());
}

before(() => {
  // Build the tool through the real gate once (a no-op when bin/ already has it). The
  // verdict on the working tree does not matter here (that is `make check-breaking`),
  // only that the gate could run.
  const build = spawnSync(script, [], { cwd: root, encoding: 'utf8', env: { ...process.env, BASE: 'HEAD' } });
  assert.notEqual(build.status, 2, `the gate cannot run:\n${build.stdout}${build.stderr}`);
  assert.ok(existsSync(oasdiff), `the gate did not build ${oasdiff}`);

  repo = mkdtempSync(join(tmpdir(), 'check-breaking-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.invalid');
  git('config', 'user.name', 'check-breaking test');
  writeFileSync(join(repo, 'openapi.yaml'), original);
  writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [Unreleased]\n');
  git('add', '.');
  git('commit', '-q', '-m', 'contract v1');
});

after(() => {
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test('an unchanged spec passes against the first commit that has it', () => {
  const { status, output } = gate();
  assert.equal(status, 0, output);
  assert.match(output, /the first commit that has openapi\.yaml/);
  assert.match(output, /no breaking changes/);
});

test('a compatible change passes (a new optional request member)', () => {
  editSpec((doc) =>
    doc.setIn(['components', 'schemas', 'CreateSessionRequest', 'properties', 'labels'], {
      type: 'array',
      description: 'Free-form labels.',
      items: { type: 'string' },
    }),
  );
  const { status, output } = gate();
  assert.equal(status, 0, output);
});

test('removing an operation fails', () => {
  editSpec((doc) => doc.deleteIn(['paths', '/v1/health']));
  const { status, output } = gate();
  assert.equal(status, 1, output);
  assert.match(output, /api-path-removed-without-deprecation/);
  assert.match(output, /GET \/v1\/health/);
});

test('making a request member required fails', () => {
  editSpec((doc) => doc.setIn(['components', 'schemas', 'CreateSessionRequest', 'required'], ['agent', 'meta']));
  const { status, output } = gate();
  assert.equal(status, 1, output);
  assert.match(output, /request-property-became-required/);
  assert.match(output, /POST \/v1\/sessions/);
});

test('a major version bump without a CHANGELOG.md section still fails', () => {
  editSpec((doc) => {
    doc.deleteIn(['paths', '/v1/health']);
    doc.setIn(['info', 'version'], '2.0.0');
  });
  const { status, output } = gate();
  assert.equal(status, 1, output);
  assert.match(output, /CHANGELOG\.md has no '## \[2\.0\.0\]' section/);
});

test('a deliberate breaking release passes, and its tag becomes the new base', () => {
  editSpec((doc) => {
    doc.deleteIn(['paths', '/v1/health']);
    doc.setIn(['info', 'version'], '2.0.0');
  });
  writeFileSync(join(repo, 'CHANGELOG.md'), '# Changelog\n\n## [2.0.0] - 2026-11-21\n\n### Removed\n\n- `getHealth`.\n');
  let { status, output } = gate();
  assert.equal(status, 0, output);
  // The base is the committed contract, whatever its 1.x version is today.
  assert.match(output, /accepted as a deliberate breaking change: info\.version 1\.\d+\.\d+ -> 2\.0\.0/);

  git('commit', '-q', '-am', 'release 2.0.0: drop getHealth');
  git('tag', 'v2.0.0');
  ({ status, output } = gate());
  assert.equal(status, 0, output);
  assert.match(output, /against v2\.0\.0 .*the last release tag/);

  // The same release, compared with the first commit on purpose, is still a break of
  // 1.0.0 that the changelog accepts.
  const first = git('rev-list', '--max-parents=0', 'HEAD');
  ({ status, output } = gate({ BASE: first }));
  assert.equal(status, 0, output);
  assert.match(output, /api-path-removed-without-deprecation/);

  // After the release, removing one more operation is a new break of 2.0.0.
  editSpec((doc) => {
    doc.deleteIn(['paths', '/v1/health']);
    doc.deleteIn(['paths', '/v1/capabilities']);
    doc.setIn(['info', 'version'], '2.0.0');
  });
  ({ status, output } = gate());
  assert.equal(status, 1, output);
  assert.match(output, /GET \/v1\/capabilities/);
  assert.doesNotMatch(output, /GET \/v1\/health/);
});

test('an unknown BASE is a configuration error', () => {
  const { status, output } = gate({ BASE: 'no-such-ref' });
  assert.equal(status, 2, output);
  assert.match(output, /unknown base ref 'no-such-ref'/);
});
