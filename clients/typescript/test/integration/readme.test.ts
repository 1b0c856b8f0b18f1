// Every TypeScript snippet of README.md is an example program, included
// verbatim, and each example runs against a fresh reference server; so does
// the scenario runner's command line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { packageDir, repoDir, startServer, type RefServer } from '../helpers/refserver.js';
import { loadScenarios, type ResultFile } from '../helpers/scenario-check.js';

const run = promisify(execFile);
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');

let srv: RefServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

const expectations: Record<string, RegExp[]> = {
  quickstart: [/turn 1 \(end_turn\): Hello/, /turn 2 \(end_turn\): Summarise the open pull requests\./, /active: sess_/],
  streaming: [/#1 thinking: Reading the diff\./, /#3 text: good\./, /end_turn after 0 resumes: Looks good\./],
  errors: [/not found \(404 not_found, request req_/, /rejected: unknown_agent/, /busy: turn_in_progress/, /the running turn: done/],
  retries: [/same turn: true, replayed: true/, /aborted: AbortError/],
  lifecycle: [/after handoff: paused 1 actions/, /handoff notes: tests fail/, /child at depth 1/, /cannot resume an ended session/, /replayed as sess_/],
  permissions: [/asked: Drop the table orders_old\? \[allow\/deny\]/, /streamed: Done\./, /handler: refusal: Left it\./, /answered later: Done\./],
  queue: [
    /queued: turn 2 at position 1/,
    /queued turn: cancelled/,
    /running turn: slow \(meta \{"ticket":"OPS-42"\}\)/,
    /turn 1 has already ended/,
    /lifecycle turn_queued 2/,
    /event #1 text/,
    /lifecycle status_changed completed/,
    /ended: closed$/m,
  ],
};

describe('README.md', () => {
  it('every ts snippet is an example file, verbatim', () => {
    const blocks = [...readme.matchAll(/<!-- example: (examples\/\w+\.ts)[^>]*-->\n```ts\n([\s\S]*?)```/g)];
    const allTs = [...readme.matchAll(/```ts\n/g)];
    assert.equal(blocks.length, allTs.length, 'a ts block that is not an included example');
    assert.deepEqual(blocks.map((b) => b[1]).sort(), Object.keys(expectations).map((n) => `examples/${n}.ts`).sort());
    for (const [, file, body] of blocks) {
      assert.equal(body, readFileSync(join(packageDir, file as string), 'utf8'), `${file} differs from its README copy`);
    }
  });

  for (const [name, want] of Object.entries(expectations)) {
    it(`examples/${name}.ts runs against the reference server`, async () => {
      const { stdout } = await run(process.execPath, [join(packageDir, 'build', 'examples', `${name}.js`)], {
        env: { ...process.env, AGENTSESSION_BASE_URL: srv.url, AGENTSESSION_TOKEN: srv.tokens[0] },
        timeout: 30_000,
      });
      for (const re of want) assert.match(stdout, re);
    });
  }

  it('the scenario runner snippet runs from the repository root', async () => {
    const block = /<!-- runner: [^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the runner snippet');
    assert.match(block, /^make ts-scenario-runner\b/m); // built by make ts-test before the tests run
    const command = block.slice(block.indexOf('node ')).replace(/\\\n/g, ' ');
    const out = /--out (\S+)/.exec(command)?.[1] as string;
    rmSync(out, { force: true });
    try {
      await run('sh', ['-c', command], {
        cwd: repoDir,
        env: { ...process.env, AGENTSESSION_BASE_URL: srv.url, AGENTSESSION_TOKEN: srv.tokens[0], SECOND_TENANT_TOKEN: srv.tokens[1] },
        timeout: 60_000,
      });
      // Straight to the server, without the proxy rules some scenarios need, so only
      // that it ran every scenario is checked here (scenarios.test.ts checks the rest).
      const result = JSON.parse(readFileSync(out, 'utf8')) as ResultFile;
      assert.equal(result.run, 'r1');
      assert.deepEqual(result.scenarios.map((x) => [x.id, x.aborted]), loadScenarios(join(repoDir, 'scenarios')).map((x) => [x.id, null]));
    } finally {
      rmSync(out, { force: true });
    }
  });
});
