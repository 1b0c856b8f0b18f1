// Against the real reference server, started by the test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AgentSession,
  AuthError,
  BusyError,
  InvalidTransitionError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  SessionEndedError,
  SessionPausedError,
  SpawnLimitError,
  ValidationError,
  type TurnEvent,
} from '../../src/index.js';
import { startServer, type RefServer } from '../helpers/refserver.js';
import { script } from '../helpers/script.js';

let srv: RefServer;
let client: AgentSession;

before(async () => {
  srv = await startServer(['-max-children', '2', '-max-file-bytes', '2048']);
  client = new AgentSession({ baseURL: srv.url, token: srv.tokens[0], retry: { initialDelay: 5, maxDelay: 20 } });
});
after(() => srv.stop());

describe('sessions and turns', () => {
  it('creates a session, runs turns with text(), lists and closes it idempotently', async () => {
    const s = await client.sessions.create({ agent: 'echo', meta: { app: 'ts-test' }, plan_slug: 'ts-plan' });
    assert.equal(s.info?.status, 'active');
    const r1 = await s.turn('Hello');
    const r2 = await s.turn('World');
    assert.equal(r1.text(), 'Hello');
    assert.equal(r2.text(), 'World');
    assert.equal(r2.turn_index, 2);
    assert.equal(r1.stop_reason, 'end_turn');
    assert.ok(r1.response?.requestId);
    assert.equal(r1.events[0]?.type, 'text');
    assert.match(r1.events[0]?.raw ?? '', /"content":"Hello"/);

    const found: string[] = [];
    for await (const x of client.sessions.list({ plan_slug: 'ts-plan', limit: 1 })) found.push(x.id);
    assert.deepEqual(found, [s.id]);

    const history = await s.history().toArray();
    assert.deepEqual(history.map((t) => t.prompt), ['Hello', 'World']);
    const events = await s.events({ after: 0 }).toArray();
    assert.deepEqual(events.map((e) => e.seq), [1, 2]);
    assert.equal((await s.getTurn(2)).events?.[0]?.content, 'World');

    const closed = await s.close();
    assert.equal(closed.already_closed, false);
    assert.equal(s.info?.status, 'completed');
    assert.equal(await s.close(), closed, 'a second close answers from the handle');
    const again = await client.sessions.close(s.id);
    assert.equal(again.already_closed, true);
    await assert.rejects(s.turn('more'), SessionEndedError);
  });

  it('auto-pages a list', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await client.sessions.create({ agent: 'echo', plan_slug: 'paging' })).id);
    const pages: number[] = [];
    for await (const page of client.sessions.list({ plan_slug: 'paging', limit: 2 }).pages()) pages.push(page.items.length);
    assert.deepEqual(pages, [2, 2, 1]);
    const all = await client.sessions.list({ plan_slug: 'paging', limit: 2 }).toArray();
    assert.deepEqual(new Set(all.map((s) => s.id)), ids);
  });

  it('streams a turn: every event once, in order, then the result', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const st = s.turnStream(script(['one ', 'two ', 'three'], 20));
    const seqs: number[] = [];
    let text = '';
    for await (const ev of st) {
      seqs.push(ev.seq);
      if (ev.type === 'text') text += ev.content;
    }
    assert.deepEqual(seqs, [1, 2, 3]);
    assert.equal(text, 'one two three');
    const r = await st.result();
    assert.equal(r.text(), 'one two three');
    assert.equal(r.last_seq, 3);
    assert.equal(st.turnIndex, 1);
    await s.close();
  });

  it('cancel ends a running turn with stop_reason cancelled', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const st = s.turnStream(script(['a', 'b'], 2000));
    const done = st.result();
    while ((await s.refresh()).activity !== 'running') await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    const c = await s.cancel();
    assert.equal(c.cancelled, true);
    const r = await done;
    assert.equal(r.stop_reason, 'cancelled');
    assert.equal(r.cancelled_by, 'cancel_request');
    assert.ok(performance.now() - t0 < 1500, 'cancel did not wait for the turn');
    assert.equal((await s.cancel()).cancelled, false, 'idempotent');
    await s.close();
  });
});

describe('busy policy', () => {
  const slow = script(['slow'], 600);

  async function running(s: Awaited<ReturnType<AgentSession['sessions']['create']>>) {
    // Wait until the server says a turn runs.
    for (let i = 0; i < 100; i++) {
      if ((await s.refresh()).activity === 'running') return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail('the turn never started');
  }

  it('reject: a BusyError at once, from the same handle', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const first = s.turn(slow);
    await running(s);
    const t0 = performance.now();
    await assert.rejects(s.turn(slow, { busyPolicy: 'reject' }), BusyError);
    assert.ok(performance.now() - t0 < 400, 'did not wait for the running turn');
    assert.equal((await first).stop_reason, 'end_turn');
    await s.close();
  });

  it('reject from a second handle of the same session', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const other = client.sessions.handle(s.id);
    const first = s.turn(slow);
    await running(s);
    await assert.rejects(other.turn(slow, { busyPolicy: 'reject' }), BusyError);
    await first;
    await s.close();
  });

  it('interrupt: the running turn ends cancelled and this one runs', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const first = s.turn(slow);
    await running(s);
    const second = await s.turn(script(['now']), { busyPolicy: 'interrupt' });
    const r1 = await first;
    assert.equal(r1.stop_reason, 'cancelled');
    assert.equal(r1.cancelled_by, 'interrupt');
    assert.equal(second.text(), 'now');
    await s.close();
  });

  it('enqueue: queued behind the running turn, in order', async () => {
    const s = await client.sessions.create({ agent: 'scripted' });
    const first = s.turn(script(['1'], 300));
    await running(s);
    const second = s.turn(script(['2']), { busyPolicy: 'enqueue' });
    // Sent at once, two turns may reach the server in either order: send the third once the second is queued.
    while ((await s.history().toArray()).length < 2) await new Promise((r) => setTimeout(r, 10));
    const third = s.turn(script(['3']), { busyPolicy: 'enqueue' });
    const rs = await Promise.all([first, second, third]);
    assert.deepEqual(rs.map((r) => r.text()), ['1', '2', '3']);
    assert.deepEqual(rs.map((r) => r.turn_index), [1, 2, 3]);
    await s.close();
  });

  it('no policy: turns keep call order per session, across handles, and never wait across sessions', async () => {
    const a = await client.sessions.create({ agent: 'scripted' });
    const b = await client.sessions.create({ agent: 'scripted' });
    const a2 = client.sessions.handle(a.id);
    const t0 = performance.now();
    const turns = [a.turn(script(['a1'], 250)), a2.turn(script(['a2'], 0)), a.turn(script(['a3'], 0)), b.turn(script(['b1'], 250))];
    const rs = await Promise.all(turns);
    const took = performance.now() - t0;
    assert.deepEqual(rs.map((r) => r.text()), ['a1', 'a2', 'a3', 'b1'], 'none was rejected busy');
    assert.deepEqual(rs.slice(0, 3).map((r) => r.turn_index), [1, 2, 3], 'the server saw the call order');
    assert.ok(took < 480, `sessions a and b ran side by side (${Math.round(took)} ms)`);
    await a.close();
    await b.close();
  });
});

describe('lifecycle', () => {
  it('log, artifacts, context, handoff, resume, continue, replay and end keep the handle current', async () => {
    const s = await client.sessions.create({ agent: 'echo', plan_slug: 'migrate-db', context: { repo: 'acme' } });
    const entry = await s.log({ type: 'checkpoint', message: 'schema migrated', data: { tables: 12 } });
    assert.equal(entry.type, 'checkpoint');
    await s.log({ type: 'decision', message: 'keep the old table' });
    assert.equal(s.info?.action_count, 2);
    await s.addArtifact({ path: 'db/0042.sql', action: 'created', metadata: { lines: 87 } });
    assert.equal(s.info?.artifact_count, 1);
    assert.deepEqual((await s.listLog({ type: 'checkpoint' }).toArray()).map((e) => e.message), ['schema migrated']);
    assert.equal((await s.artifacts({ action: 'created' }).toArray())[0]?.path, 'db/0042.sql');

    const info = await s.updateContext({ current_task: 'tests', repo: null });
    assert.deepEqual(info.context_summary, { current_task: 'tests' });
    assert.deepEqual(s.info?.context_summary, { current_task: 'tests' });

    await s.handoff({ summary: 'tests fail', next_steps: ['fix them'], blockers: [] });
    assert.equal(s.info?.status, 'paused');
    await assert.rejects(s.turn('x'), SessionPausedError);
    const hc = await s.handoffContext();
    assert.equal(hc.handoff?.summary, 'tests fail');
    assert.equal(hc.recent_actions.length, 2);
    await s.resume();
    assert.equal(s.info?.status, 'active');
    await assert.rejects(s.resume(), InvalidTransitionError);

    const next = await s.continue({ agent: 'echo' });
    assert.equal(next.info?.continued_from, s.id);
    assert.equal(next.info?.plan_slug, 'migrate-db');

    const rc = await s.replayContext();
    assert.equal(rc.checkpoints.length, 1);
    assert.equal(rc.decisions.length, 1);
    const replayed = await s.replay();
    assert.equal(replayed.info?.continued_from, s.id);

    await s.end({ status: 'failed', summary: 'stopped' });
    assert.equal(s.info?.status, 'failed');
    assert.equal(s.info?.final_summary, 'stopped');
    await assert.rejects(s.pause(), InvalidTransitionError);
    await assert.rejects(s.log({ type: 'info', message: 'late' }), SessionEndedError);
    for (const x of [next, replayed]) await x.close();
  });

  it('children: spawn up to the cap, then SpawnLimitError; closing the parent closes them', async () => {
    const p = await client.sessions.create({ agent: 'echo' });
    const c1 = await p.spawn({ agent: 'echo', meta: { role: 'reviewer' } });
    await p.spawn({ agent: 'echo' });
    assert.equal(c1.info?.parent_session_id, p.id);
    assert.equal(c1.info?.depth, 1);
    await assert.rejects(p.spawn({ agent: 'echo' }), SpawnLimitError);
    await assert.rejects(c1.spawn({ agent: 'echo' }), SpawnLimitError, 'depth cap');
    const kids = await p.children({ status: 'active' }).toArray();
    assert.equal(kids.length, 2);
    assert.equal((await kids[0]?.turn('child'))?.text(), 'child');
    await p.close();
    assert.equal((await c1.refresh()).status, 'completed');
  });

  it('files: upload, read back and use in a turn; too large is a PayloadTooLargeError', async () => {
    const s = await client.sessions.create({ agent: 'echo' });
    const f = await s.upload(new TextEncoder().encode('hello file'), { filename: 'notes.txt', contentType: 'text/plain' });
    assert.equal(f.filename, 'notes.txt');
    assert.equal(f.size_bytes, 10);
    assert.equal((await client.files.get(f.file_token)).sha256, f.sha256);
    const r = await s.turn('with a file', { files: [f.file_token] });
    assert.equal(r.text(), 'with a file');
    await assert.rejects(s.turn('bad file', { files: ['file_nope'] }), ValidationError);
    await assert.rejects(client.files.upload(new Blob(['x'.repeat(5000)]), { filename: 'big.bin' }), PayloadTooLargeError);
    await s.close();
  });
});

describe('typed errors from the server', () => {
  it('auth, not found, validation, another tenant', async () => {
    const bad = new AgentSession({ baseURL: srv.url, token: 'wrong-token', maxRetries: 0 });
    await assert.rejects(bad.sessions.create({ agent: 'echo' }), AuthError);
    assert.equal((await bad.health()).status, 'ok', 'health needs no token');
    await assert.rejects(client.sessions.get('sess_nope'), NotFoundError);
    const e = await client.sessions.create({ agent: '' }).catch((x: unknown) => x);
    assert.ok(e instanceof ValidationError);
    assert.ok(e.fieldErrors.length > 0);
    await assert.rejects(client.sessions.create({ agent: 'gpt-9' }), (x: unknown) => x instanceof ValidationError && x.code === 'unknown_agent');
    const mine = await client.sessions.create({ agent: 'echo' });
    const other = new AgentSession({ baseURL: srv.url, token: srv.tokens[1] });
    await assert.rejects(other.sessions.get(mine.id), NotFoundError);
    await mine.close();
  });

  it('rate limited: a RateLimitError with retryAfter once retries are spent', async () => {
    const limited = await startServer(['-rate-limit', '1', '-rate-burst', '1']);
    try {
      const c = new AgentSession({ baseURL: limited.url, token: limited.tokens[0], maxRetries: 0 });
      await c.capabilities();
      const e = await c.capabilities().catch((x: unknown) => x);
      assert.ok(e instanceof RateLimitError, String(e));
      assert.ok((e.retryAfter ?? 0) >= 1000);
    } finally {
      await limited.stop();
    }
  });

  it('capabilities pass through', async () => {
    const caps = await client.capabilities();
    assert.ok(caps.agents.some((a) => a.name === 'echo'));
    assert.equal(caps.limits.max_children, 2);
    const unused: TurnEvent[] = [];
    assert.equal(unused.length, 0);
  });
});
