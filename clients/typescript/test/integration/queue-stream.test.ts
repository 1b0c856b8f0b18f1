// Queue control, steer, the session-wide stream (also through a proxy that
// cuts it), lifecycle events, turn meta, agent options, end reasons and the
// newest-first work log, against the reference server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AgentSession,
  InvalidAgentOptionsError,
  TurnEndedError,
  UnsupportedBusyPolicyError,
  type SessionStreamItem,
  type TurnResult,
} from '../../src/index.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { startServer, type RefServer } from '../helpers/refserver.js';
import { script } from '../helpers/script.js';

let srv: RefServer;
let client: AgentSession;

before(async () => {
  srv = await startServer();
  client = new AgentSession({ baseURL: srv.url, token: srv.tokens[0], retry: { initialDelay: 5, maxDelay: 20 } });
});
after(() => srv.stop());

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function collect(it: AsyncIterable<SessionStreamItem>): Promise<SessionStreamItem[]> {
  const out: SessionStreamItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('queue control', () => {
  it('queued turns have positions, are listed by status and cancelled one by one; an ended turn is TurnEndedError', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const first = s.turn(script(['first', ' done'], 300));
    await until('the first turn to run', async () => (await s.refresh()).activity === 'running');
    const second = s.turnStream(script(['second']), { busyPolicy: 'enqueue' });
    const secondEvents: unknown[] = [];
    const secondRead = (async () => {
      for await (const e of second) secondEvents.push(e);
      return second.result();
    })();
    const third = s.turn(script(['third']), { busyPolicy: 'enqueue' });
    await until('two queued turns', async () => (await s.refresh()).queued_turns === 2);
    assert.equal(second.accepted?.status, 'queued');
    assert.equal(second.accepted?.queue_position, 1);

    const queued = await s.history({ status: 'queued' }).toArray();
    assert.deepEqual(queued.map((t) => [t.turn_index, t.queue_position]), [[2, 1], [3, 2]]);
    const cancelled = await s.cancelTurn(2);
    assert.equal(cancelled.status, 'completed');
    assert.equal(cancelled.stop_reason, 'cancelled');
    assert.equal(cancelled.cancelled_by, 'cancel_request');
    assert.deepEqual((await s.history({ status: 'queued' }).toArray()).map((t) => [t.turn_index, t.queue_position]), [[3, 1]]);
    assert.equal((await s.refresh()).queued_turns, 1);

    const r2 = await secondRead;
    assert.equal(r2.stop_reason, 'cancelled');
    assert.deepEqual(secondEvents, []);
    assert.equal((await first).text(), 'first done');
    assert.equal((await third).text(), 'third');
    await assert.rejects(s.cancelTurn(1), TurnEndedError);
    assert.deepEqual((await s.history({ status: 'completed' }).toArray()).map((t) => t.stop_reason), ['end_turn', 'cancelled', 'end_turn']);
  });

  it('steer hands the prompt to the running turn; an agent that cannot be steered is UnsupportedBusyPolicyError', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const long = s.turn(JSON.stringify({ steps: [{ event: { type: 'text', content: 'a' } }, { delay_ms: 300, event: { type: 'text', content: 'b' } }] }));
    await until('the turn to run', async () => (await s.refresh()).activity === 'running');
    const steered = await s.turn('go left', { busyPolicy: 'steer' });
    assert.equal(steered.turn_index, 1);
    assert.ok(steered.events.some((e) => e.type === 'guidance' && e.content === 'go left'));
    assert.equal((await long).text(), 'ab');
    assert.equal((await s.history().toArray()).length, 1);

    const echo = await client.sessions.create({ agent: 'echo' });
    await assert.rejects(echo.turn('x', { busyPolicy: 'steer' }), UnsupportedBusyPolicyError);
  });
});

describe('the session-wide stream', () => {
  it('carries every turn event and lifecycle event once, in order, until the session ends; resumes from a position', async () => {
    const s = await client.sessions.create({ agent: 'echo' });
    const whole = s.stream();
    const read = collect(whole);
    await s.turn('one');
    await s.turn('two');
    await s.close();
    const items = await read;
    const last = items.at(-1);
    assert.equal(last?.type, 'ended');
    assert.equal(last?.type === 'ended' && last.session.end_reason, 'closed');
    assert.equal(whole.session?.status, 'completed');
    const events = items.flatMap((x) => (x.type === 'event' ? [x.event] : []));
    const lifecycle = items.flatMap((x) => (x.type === 'lifecycle' ? [x.lifecycle] : []));
    assert.deepEqual(events.map((e) => [e.seq, e.content]), [[1, 'one'], [2, 'two']]);
    assert.deepEqual(lifecycle.map((l) => l.lifecycle_seq), lifecycle.map((_, i) => i + 1));
    assert.deepEqual(lifecycle.map((l) => l.type), ['turn_started', 'turn_ended', 'turn_started', 'turn_ended', 'status_changed']);
    // Each lifecycle event comes after the turn event its after_seq names and before the next.
    let seq = 0;
    for (const x of items) {
      if (x.type === 'event') seq = x.event.seq;
      if (x.type === 'lifecycle') assert.equal(x.lifecycle.after_seq, seq);
    }
    assert.equal(whole.position, `2.${lifecycle.length}`);
    // History agrees.
    assert.deepEqual(await s.lifecycleEvents().toArray(), lifecycle);
    assert.deepEqual((await s.lifecycleEvents({ after: 3 }).toArray()).map((l) => l.lifecycle_seq), [4, 5]);

    const rest = await collect(s.stream({ after: '1.2' }));
    assert.deepEqual(
      rest.map((x) => (x.type === 'event' ? `e${x.event.seq}` : x.type === 'lifecycle' ? `l${x.lifecycle.lifecycle_seq}` : 'end')),
      ['l3', 'e2', 'l4', 'l5', 'end'],
    );
    assert.throws(() => s.stream({ after: '3' }), /position/);
  });

  it('a cut stream is resumed with Last-Event-ID: every frame exactly once', async () => {
    let proxy: Proxy | undefined;
    try {
      // Every session stream is cut after two frames with an id.
      proxy = await startProxy(srv.url, (req) => (req.url?.endsWith('/stream') ? { kind: 'cutEvents', after: 2 } : { kind: 'pass' }));
      const viaProxy = new AgentSession({ baseURL: proxy.url, token: srv.tokens[0] });
      const s = await client.sessions.create({ agent: 'scripted' });
      const results: TurnResult[] = [];
      for (const texts of [['a', 'b', 'c'], ['d', 'e']]) results.push(await s.turn(script(texts)));
      await s.close();
      const st = viaProxy.sessions.handle(s.id).stream();
      const items = await collect(st);
      assert.ok(st.resumes >= 3, `${st.resumes} resumes`);
      const seqs = items.flatMap((x) => (x.type === 'event' ? [x.event.seq] : []));
      assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
      const lcs = items.flatMap((x) => (x.type === 'lifecycle' ? [x.lifecycle.lifecycle_seq] : []));
      assert.deepEqual(lcs, lcs.map((_, i) => i + 1));
      assert.equal(lcs.length, (await s.lifecycleEvents().toArray()).length);
      assert.equal(items.at(-1)?.type, 'ended');
      const resumedFrom = proxy.seen.filter((r) => r.includes('/stream')).length;
      assert.equal(resumedFrom, st.resumes + 1);
    } finally {
      await proxy?.close();
    }
  });
});

describe('meta, agent options, end reasons, log order', () => {
  it('round-trips them', async () => {
    const s = await client.sessions.create({ agent: 'echo', agent_options: { prefix: '> ' } });
    assert.deepEqual(s.info?.agent_options, { prefix: '> ' });
    const r = await s.turn('hi', { meta: { trace: 't-1' } });
    assert.equal(r.text(), '> hi');
    assert.deepEqual(r.meta, { trace: 't-1' });
    const st = s.turnStream('again', { meta: { trace: 't-2' } });
    assert.deepEqual((await st.result()).meta, { trace: 't-2' });
    assert.deepEqual(st.accepted?.meta, { trace: 't-2' });
    assert.deepEqual((await s.history().toArray()).map((t) => t.meta), [{ trace: 't-1' }, { trace: 't-2' }]);

    const err = await client.sessions.create({ agent: 'echo', agent_options: { colour: 'red' } }).catch((e: unknown) => e);
    assert.ok(err instanceof InvalidAgentOptionsError, String(err));
    assert.equal(err.code, 'invalid_agent_options');
    assert.ok(err.fieldErrors.some((f) => f.location.includes('colour')), JSON.stringify(err.fieldErrors));

    await s.log({ type: 'info', message: 'a' });
    await s.log({ type: 'info', message: 'b' });
    assert.deepEqual((await s.listLog({ order: 'newest_first' }).toArray()).map((e) => e.message), ['b', 'a']);
    const ended = await s.end({ status: 'completed' });
    assert.equal(ended.end_reason, 'ended');
    assert.equal(typeof ended.duration_ms, 'number');

    const child = await (await client.sessions.create({ agent: 'echo' })).spawn({ agent: 'echo', agent_options: { prefix: '# ' } });
    assert.equal((await child.turn('x')).text(), '# x');
  });
});
