// Every TypeScript snippet of README.md is an example program, included
// verbatim, and each example runs against a fresh reference server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { packageDir, startServer, type RefServer } from '../helpers/refserver.js';

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

  it('the driver snippet runs', async () => {
    const m = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## For a scenario runner')));
    assert.ok(m?.[1]);
    const code = `const baseURL = ${JSON.stringify(srv.url)}, token = ${JSON.stringify(srv.tokens[0])};\n${m[1]}\nconsole.log(JSON.stringify(await d.run({ op: 'turn', session: 'a', args: { prompt: 'again' } })));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: packageDir });
    const res = JSON.parse(stdout) as { ok: boolean; value: { text: string } };
    assert.equal(res.ok, true);
    assert.equal(res.value.text, 'again');
  });
});
