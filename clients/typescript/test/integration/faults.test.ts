// Through a fault-injecting proxy in front of the real reference server:
// cut bodies and cut streams lose nothing and duplicate nothing on the
// server (counted through the API, not through the SDK under test).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentSession, RetryBudget, ServerError, TransportError } from '../../src/index.js';
import { startProxy, type Fault } from '../helpers/proxy.js';
import { startServer, type RefServer } from '../helpers/refserver.js';
import { script } from '../helpers/script.js';

let srv: RefServer;
let direct: AgentSession;

before(async () => {
  srv = await startServer();
  direct = new AgentSession({ baseURL: srv.url, token: srv.tokens[0] });
});
after(() => srv.stop());

function through(url: string, maxRetries = 3): AgentSession {
  return new AgentSession({ baseURL: url, token: srv.tokens[0], maxRetries, retry: { initialDelay: 2, maxDelay: 10, budget: new RetryBudget(100_000) } });
}

describe('through faults', () => {
  it('50 keyed turns with half of the bodies cut after 600 bytes: all succeed, none duplicated', async () => {
    const s = await direct.sessions.create({ agent: 'echo' });
    let turnPosts = 0;
    const proxy = await startProxy(srv.url, (req): Fault => {
      if (req.method === 'POST' && req.url?.endsWith('/turns')) return ++turnPosts % 2 === 1 ? { kind: 'cutBytes', after: 600 } : { kind: 'pass' };
      return { kind: 'pass' };
    });
    try {
      const c = through(proxy.url);
      const h = c.sessions.handle(s.id);
      const long = 'x'.repeat(1200); // the echo answer is longer than the cut
      let ok = 0;
      for (let i = 0; i < 50; i++) {
        const r = await h.turn(`${i} ${long}`);
        assert.equal(r.text(), `${i} ${long}`);
        assert.equal(r.response?.attempts, 2);
        ok++;
      }
      assert.equal(ok, 50);
      const turns = await direct.sessions.handle(s.id).history({ limit: 100 }).toArray();
      assert.equal(turns.length, 50, 'the server ran each turn once');
      assert.equal(turnPosts, 100);
    } finally {
      await proxy.close();
      await s.close();
    }
  });

  it('a stream cut after each event resumes with Last-Event-ID: every event once, one turn on the server', async () => {
    const s = await direct.sessions.create({ agent: 'scripted' });
    const proxy = await startProxy(srv.url, (): Fault => ({ kind: 'cutEvents', after: 1 }));
    try {
      const h = through(proxy.url).sessions.handle(s.id);
      const st = h.turnStream(script(['a', 'b', 'c', 'd', 'e'], 15));
      const seqs: number[] = [];
      for await (const ev of st) seqs.push(ev.seq);
      assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
      assert.equal((await st.result()).text(), 'abcde');
      assert.ok(st.resumes >= 4, `resumed ${st.resumes} times`);
      assert.ok(proxy.seen.some((r) => /^GET .*\/turns\/1\/stream$/.test(r)), proxy.seen.join('\n'));
      const turns = await direct.sessions.handle(s.id).history().toArray();
      assert.equal(turns.length, 1);
      assert.equal(turns[0]?.event_count, 5);
    } finally {
      await proxy.close();
      await s.close();
    }
  });

  it('a stream cut before its first frame resumes by re-sending the turn with the same key', async () => {
    const s = await direct.sessions.create({ agent: 'scripted' });
    let n = 0;
    const proxy = await startProxy(srv.url, (req): Fault => (req.method === 'POST' && n++ === 0 ? { kind: 'cutBytes', after: 0 } : { kind: 'pass' }));
    try {
      const st = through(proxy.url).sessions.handle(s.id).turnStream(script(['only'], 50));
      const r = await st.result();
      assert.equal(r.text(), 'only');
      assert.equal(proxy.seen.filter((x) => x.startsWith('POST')).length, 2);
      assert.equal((await direct.sessions.handle(s.id).history().toArray()).length, 1, 'not a second turn');
    } finally {
      await proxy.close();
      await s.close();
    }
  });

  it('503s are retried; when they do not stop the error is a ServerError; resets are TransportErrors', async () => {
    let n = 0;
    const flaky = await startProxy(srv.url, (): Fault => (n++ < 2 ? { kind: 'status', status: 503, headers: { 'retry-after': '0' } } : { kind: 'pass' }));
    const down = await startProxy(srv.url, (): Fault => ({ kind: 'status', status: 503 }));
    const reset = await startProxy(srv.url, (): Fault => ({ kind: 'cutBytes', after: 0 }));
    try {
      assert.equal((await through(flaky.url).capabilities()).api_version, 'v1');
      const e = await through(down.url, 2).capabilities().catch((x: unknown) => x);
      assert.ok(e instanceof ServerError);
      assert.equal(e.attempts, 3);
      const e2 = await through(reset.url, 1).sessions.create({ agent: 'echo' }).catch((x: unknown) => x);
      assert.ok(e2 instanceof TransportError, String(e2));
      assert.equal(e2.attempts, 2);
    } finally {
      await Promise.all([flaky.close(), down.close(), reset.close()]);
    }
  });
});
