// Proves the project rules of .spectral.yaml fire: lints spectral/testdata/violations.yaml
// (one deliberate violation per rule, plus operations that follow every rule) and expects
// exactly the findings below, no more, no fewer. Run by `make test-spec-tools`;
// `make lint-spec` is what lints openapi.yaml itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const spectral = join(root, 'node_modules/.bin/spectral');

function lint(file) {
  const run = spawnSync(spectral, ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet', file], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.ok(run.stdout.trim().startsWith('['), `spectral printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  return { status: run.status, results: JSON.parse(run.stdout) };
}

// rule -> where it must fire (JSON paths joined with " > ").
const expected = {
  'operation-id-camel-case': ['paths > /things/{thing_id} > get > operationId'],
  'operation-4xx-problem-response': [
    'paths > /things/{thing_id} > get > responses > 404',
    'paths > /things/{thing_id} > post > responses',
  ],
  'post-patch-idempotency-key': ['paths > /things/{thing_id} > post', 'paths > /things/{thing_id} > patch'],
  'list-operation-pagination': ['paths > /widgets > get', 'paths > /widgets > get > responses > 200'],
  'response-x-request-id': ['paths > /things/{thing_id} > get > responses > 200'],
  'operation-request-example': [
    'paths > /things/{thing_id} > get > x-codeSamples > 0',
    'paths > /things/{thing_id} > get > x-codeSamples > 1',
    'paths > /things/{thing_id} > get > x-codeSamples > 2',
    'paths > /things/{thing_id} > post > x-codeSamples > 0',
    'paths > /things/{thing_id} > post > requestBody > content > application/json',
    'paths > /things/{thing_id} > patch',
  ],
  'operation-response-examples': ['paths > /things/{thing_id} > get > responses > 200 > content > application/json'],
  'parameter-example': ['paths > /things/{thing_id} > parameters > 0'],
  'response-media-example': [
    'paths > /things/{thing_id} > get > responses > 200 > content > application/json',
    // once as components.responses.Bare and once through /widgets' 500, which refers to it
    'components > responses > Bare > content',
    'components > responses > Bare > content > application/problem+json',
  ],
  'no-inline-object-schema': ['components > schemas > Thing > properties > extra'],
  'response-enum-extensible': ['components > schemas > Thing > properties > color'],
  'schema-description': ['components > schemas > WidgetList'],
  'schema-property-description': ['components > schemas > WidgetList > properties > items'],
};

test('each project rule fires where the fixture breaks it, and nowhere else', () => {
  const { status, results } = lint('spectral/testdata/violations.yaml');
  assert.notEqual(status, 0, 'spectral exited 0 on a spec with errors');

  const ruleset = YAML.parse(readFileSync(join(root, '.spectral.yaml'), 'utf8'));
  const projectRules = Object.keys(ruleset.rules).filter((name) => typeof ruleset.rules[name] === 'object');
  assert.deepEqual([...projectRules].sort(), Object.keys(expected).sort(), 'every project rule needs a fixture here');

  const got = {};
  for (const r of results) {
    if (r.code === 'parser') assert.fail(`the fixture does not parse: ${r.message} at line ${r.range.start.line + 1}`);
    if (!projectRules.includes(r.code)) continue;
    (got[r.code] ??= []).push(r.path.join(' > '));
  }
  for (const rule of projectRules) {
    assert.deepEqual((got[rule] ?? []).sort(), [...expected[rule]].sort(), `findings of ${rule}`);
  }

  // The operations under /ok follow every rule, the spectral:oas ones included.
  const onOk = results.filter((r) => r.path[0] === 'paths' && r.path[1] === '/ok');
  assert.deepEqual(onOk, [], 'a rule fired on an operation that follows it');
});
