import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Driver, describeError } from '../../src/driver.js';
import { AgentSessionError } from '../../src/index.js';
import { startServer, type RefServer } from '../helpers/refserver.js';
import { script } from '../helpers/script.js';

let srv: RefServer;
before(async () => {
  srv = await startServer();
});
after(() => srv.stop());

describe('driver', () => {
  it('runs steps as data and describes failures the same way', async () => {
    const d = new Driver({ baseURL: srv.url, token: srv.tokens[0] });
    const created = await d.run({ op: 'create', as: 'a', args: { params: { agent: 'scripted' } } });
    assert.equal(created.ok, true);
    const bg = await d.run({ op: 'turn', session: 'a', background: 't1', args: { prompt: script(['slow'], 400) } });
    assert.deepEqual(bg, { ok: true, value: { background: 't1' } });
    for (let i = 0; i < 100 && (await d.client.sessions.list().toArray())[0]?.info?.activity !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    const busy = await d.run({ op: 'turn', session: 'a', args: { prompt: script(['x']), options: { busyPolicy: 'reject' } } });
    assert.deepEqual(busy.ok ? undefined : { class: busy.error.class, status: busy.error.status, code: busy.error.code, attempts: busy.error.attempts }, {
      class: 'BusyError', status: 409, code: 'turn_in_progress', attempts: 1,
    });
    const t1 = await d.run({ op: 'await', args: { name: 't1' } });
    assert.ok(t1.ok && (t1.value as { text: string }).text === 'slow');
    const st = await d.run({ op: 'turnStream', session: 'a', args: { prompt: script(['a', 'b']) } });
    assert.ok(st.ok);
    assert.deepEqual((st.value as { seqs: number[] }).seqs, [2, 3]);
    const nf = await d.run({ op: 'get', args: { id: 'sess_missing' } });
    assert.ok(!nf.ok && nf.error.class === 'NotFoundError' && nf.error.status === 404);
    const unknown = await d.run({ op: 'fly' });
    assert.ok(!unknown.ok && unknown.error.class === 'AgentSessionError' && /unknown op/.test(unknown.error.message));
    assert.ok((await d.run({ op: 'close', session: 'a' })).ok);
    assert.deepEqual(describeError(new AgentSessionError('m')), { class: 'AgentSessionError', message: 'm' });
  });
});
