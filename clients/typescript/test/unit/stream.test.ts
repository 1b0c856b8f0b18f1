import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbortError,
  AgentSession,
  BusyError,
  NotFoundError,
  RetryBudget,
  StreamIdleTimeoutError,
  StreamLostError,
  UnexpectedResponseError,
  type TurnEvent,
} from '../../src/index.js';
import { fakeFetch, fastRetry, json, problem, sse, TOKEN, type Handler } from '../helpers/fake.js';

const accepted = (idx: number, status = 'running') =>
  `event: turn.accepted\ndata: {"session_id":"s1","turn_index":${idx},"status":"${status}"}\n\n`;
const ev = (seq: number, idx: number, content: string, type = 'text', extra = '') =>
  `id: ${seq}\ndata: {"seq":${seq},"turn_index":${idx},"type":"${type}","content":"${content}","created_at":"2026-01-01T00:00:00Z"${extra}}\n\n`;
const completed = (idx: number, first: number, last: number, stop = 'end_turn') =>
  `event: turn.completed\ndata: {"session_id":"s1","turn_index":${idx},"stop_reason":"${stop}","duration_ms":5,"event_count":${last - first + 1},"first_seq":${first},"last_seq":${last},"started_at":"x","ended_at":"y"}\n\n`;

function client(handlers: Handler[] | Handler) {
  const fetch = fakeFetch(handlers);
  const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch, retry: { ...fastRetry, budget: new RetryBudget(10_000) } });
  return { c, fetch, s: c.sessions.handle('s1') };
}

async function collect(it: AsyncIterable<TurnEvent>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('turnStream', () => {
  it('yields the events in order and ends with the result', async () => {
    const { s, fetch } = client([() => sse([accepted(3), ': keep-alive\n\n', ev(7, 3, 'Hel'), ev(8, 3, 'lo'), completed(3, 7, 8)])]);
    const st = s.turnStream('hi', { files: ['f1'], busyPolicy: 'enqueue' });
    const events = await collect(st);
    assert.deepEqual(events.map((e) => e.seq), [7, 8]);
    assert.equal(events[0]?.raw, '{"seq":7,"turn_index":3,"type":"text","content":"Hel","created_at":"2026-01-01T00:00:00Z"}');
    assert.ok(!Object.keys(events[0] ?? {}).includes('raw'), 'raw is not enumerable');
    const r = await st.result();
    assert.equal(r.text(), 'Hello');
    assert.equal(r.turn_index, 3);
    assert.equal(st.accepted?.status, 'running');
    const req = fetch.calls[0];
    assert.equal(req?.headers.get('accept'), 'text/event-stream');
    assert.deepEqual(JSON.parse(req?.body ?? ''), { prompt: 'hi', files: ['f1'], busy_policy: 'enqueue' });
    assert.ok(req?.headers.get('idempotency-key'));
    assert.throws(() => st[Symbol.asyncIterator](), /only once/);
  });

  it('resumes a dropped stream with Last-Event-ID and yields every event exactly once', async () => {
    const { s, fetch } = client([
      () => sse([accepted(2), ev(4, 2, 'a'), ev(5, 2, 'b')], { fail: true }),
      // The resumed stream replays event 5 (a server may): it must not be yielded twice.
      () => sse([ev(5, 2, 'b'), ev(6, 2, 'c')], { fail: true }),
      () => sse([ev(7, 2, 'd'), completed(2, 4, 7)]),
    ]);
    const st = s.turnStream('hi');
    const events = await collect(st);
    assert.deepEqual(events.map((e) => e.content), ['a', 'b', 'c', 'd']);
    assert.equal(st.resumes, 2);
    assert.equal(fetch.calls[1]?.method, 'GET');
    assert.equal(fetch.calls[1]?.url, 'http://api.test/v1/sessions/s1/turns/2/stream');
    assert.equal(fetch.calls[1]?.headers.get('last-event-id'), '5');
    assert.equal(fetch.calls[2]?.headers.get('last-event-id'), '6');
    assert.equal((await st.result()).events.length, 4);
  });

  it('before the turn index is known, resumes by re-sending the turn with the same key', async () => {
    const { s, fetch } = client([() => sse([], { fail: true }), () => sse([accepted(1), ev(1, 1, 'x'), completed(1, 1, 1)])]);
    const events = await collect(s.turnStream('hi'));
    assert.equal(events.length, 1);
    const [a, b] = fetch.calls;
    assert.equal(b?.method, 'POST');
    assert.equal(b?.headers.get('idempotency-key'), a?.headers.get('idempotency-key'));
    assert.equal(b?.headers.get('last-event-id'), '0');
    assert.equal(b?.body, a?.body);
  });

  it('a stream whose events carry no seq ends with StreamLostError at the resume bound, backing off', async () => {
    const noSeq = 'data: {"turn_index":1,"type":"text","content":"again"}\n\n';
    const { s, fetch } = client(() => sse([accepted(1), noSeq], { fail: true }));
    const t0 = performance.now();
    const seen: string[] = [];
    const e = await (async () => {
      for await (const x of s.turnStream('hi', { maxResumes: 3 })) seen.push(String(x.content));
    })().catch((x: unknown) => x);
    const took = performance.now() - t0;
    assert.ok(e instanceof StreamLostError, String(e));
    assert.match(e.message, /carry no seq/);
    assert.deepEqual(seen, ['again'], 'yielded once, never again after a resume');
    assert.equal(fetch.calls.length, 4, 'the first connection and 3 resumes');
    assert.equal(e.resumes, 3);
    assert.ok(took >= 290, `resumes back off (0 + 100 + 200 ms), took ${took}`);
  });

  it('gives up after maxResumes in a row without progress', async () => {
    const { s, fetch } = client([() => sse([accepted(1), ev(1, 1, 'x')], { fail: true }), ...Array<Handler>(3).fill(() => sse([ev(1, 1, 'x')], { fail: true }))]);
    const st = s.turnStream('hi', { maxResumes: 2 });
    const e = await st.result().catch((x: unknown) => x);
    assert.ok(e instanceof StreamLostError);
    assert.equal(e.lastSeq, 1);
    assert.equal(e.turnIndex, 1);
    assert.equal(fetch.calls.length, 3);
  });

  it('progress resets the resume count', async () => {
    const handlers: Handler[] = [() => sse([accepted(1)], { fail: true })];
    for (let seq = 1; seq <= 6; seq++) handlers.push(() => sse([ev(seq, 1, String(seq))], { fail: true }));
    handlers.push(() => sse([completed(1, 1, 6)]));
    const { s } = client(handlers);
    const events = await collect(s.turnStream('hi', { maxResumes: 1 }));
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  });

  it('reads events the stream skipped from the event log before it ends', async () => {
    const { s, fetch } = client([
      () => sse([accepted(2), ev(10, 2, 'a'), completed(2, 10, 12)]),
      () => json(200, { items: [{ seq: 11, turn_index: 2, type: 'text', content: 'b' }], next_cursor: 'c2' }),
      () => json(200, { items: [{ seq: 12, turn_index: 2, type: 'text', content: 'c' }] }),
    ]);
    const events = await collect(s.turnStream('hi'));
    assert.deepEqual(events.map((e) => e.content), ['a', 'b', 'c']);
    assert.match(fetch.calls[1]?.url ?? '', /\/events\?after=10&turn_index=2&limit=100$/);
    assert.match(fetch.calls[2]?.url ?? '', /cursor=c2/);
  });

  it('passes unknown event types, members and enum values through, and skips unknown frames', async () => {
    const { s } = client([
      () =>
        sse([
          accepted(1, 'warming_up'),
          'event: turn.progress\ndata: {"pct":50}\n\n',
          ev(1, 1, 'hm', 'hologram', ',"status":"levitating","novel":{"x":[1,2]}'),
          completed(1, 1, 1, 'out_of_coffee'),
        ]),
    ]);
    const st = s.turnStream('hi');
    const [e] = await collect(st);
    assert.equal(e?.type, 'hologram');
    assert.equal(e?.status, 'levitating');
    assert.deepEqual((e as unknown as { novel: unknown }).novel, { x: [1, 2] });
    const r = await st.result();
    assert.equal(r.stop_reason, 'out_of_coffee');
    assert.equal(st.accepted?.status, 'warming_up');
    assert.equal(r.text(), '');
  });

  it("reads frames as the contract's Stream framing says: message is the default type, unknown types are skipped", async () => {
    const { s } = client([
      () =>
        sse([
          accepted(1).replaceAll('\n', '\r\n'),
          // An unknown frame type, even with an id, is skipped and moves no resume point.
          'event: turn.progress\nid: 99\ndata: {"seq":99,"type":"text","content":"no"}\n\n',
          // `event: message` spelled out is an event frame like an unnamed one.
          'event: message\nid: 1\ndata: {"seq":1,"turn_index":1,"type":"text","content":"a"}\n\n',
          ': keep-alive\r\r',
          // Several data lines join with LF.
          'id: 2\ndata: {"seq":2,"turn_index":1,\ndata: "type":"text","content":"b"}\n\n',
          'event: turn.completed\ndata: {"session_id":"s1","turn_index":1,"stop_reason":"end_turn","duration_ms":1,"event_count":2,"first_seq":1,"last_seq":2,"started_at":"x","ended_at":"y"}\n\n',
        ]),
    ]);
    const st = s.turnStream('hi');
    assert.deepEqual((await collect(st)).map((e) => e.content), ['a', 'b']);
    assert.equal((await st.result()).text(), 'ab');
    assert.equal(st.turnIndex, 1);
  });

  it('an API error when opening is thrown as it is, not resumed', async () => {
    const { s, fetch } = client([() => problem(409, 'turn_in_progress')]);
    await assert.rejects(s.turnStream('hi', { busyPolicy: 'reject' }).result(), BusyError);
    assert.equal(fetch.calls.length, 1);
    const b = client([() => sse([accepted(4)], { fail: true }), () => problem(404, 'not_found')]);
    await assert.rejects(b.s.turnStream('hi').result(), NotFoundError);
  });

  it('a frame it cannot read is an UnexpectedResponseError', async () => {
    const { s } = client([() => sse([accepted(1), 'id: 1\ndata: {not json\n\n'])]);
    await assert.rejects(s.turnStream('hi').result(), UnexpectedResponseError);
  });

  it('a server that answers with JSON instead of a stream still gives the events', async () => {
    const { s } = client([() => json(200, { session_id: 's1', turn_index: 1, stop_reason: 'end_turn', events: [{ seq: 1, turn_index: 1, type: 'text', content: 'j' }] })]);
    const st = s.turnStream('hi');
    assert.deepEqual((await collect(st)).map((e) => e.content), ['j']);
    assert.equal((await st.result()).text(), 'j');
  });

  it('fails with StreamIdleTimeoutError when no event comes (keep-alives do not count)', async () => {
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    const { s } = client(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(enc.encode(accepted(1)));
              timer = setInterval(() => c.enqueue(enc.encode(': keep-alive\n\n')), 10);
            },
            cancel() {
              clearInterval(timer);
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    );
    const t0 = performance.now();
    await assert.rejects(s.turnStream('hi', { idleTimeout: 80 }).result(), StreamIdleTimeoutError);
    assert.ok(performance.now() - t0 < 1000);
  });

  it('aborting mid-stream throws AbortError and releases the session order', async () => {
    const enc = new TextEncoder();
    const { c, s } = client([
      (req) =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(ctl) {
              ctl.enqueue(enc.encode(accepted(1) + ev(1, 1, 'x')));
              req.signal?.addEventListener('abort', () => ctl.error(new DOMException('aborted', 'AbortError')));
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
      () => json(200, { session_id: 's1', turn_index: 2, stop_reason: 'end_turn', events: [] }),
    ]);
    const ac = new AbortController();
    const seen: unknown[] = [];
    const e = await (async () => {
      for await (const x of s.turnStream('hi', { signal: ac.signal })) {
        seen.push(x.seq);
        ac.abort();
      }
    })().catch((x: unknown) => x);
    assert.ok(e instanceof AbortError, String(e));
    assert.deepEqual(seen, [1]);
    assert.equal(c.turnOrder.size, 0);
    await s.turn('next'); // not blocked
  });

  it('leaving the loop early releases the order and result() says the stream was not read to its end', async () => {
    const { c, s } = client([
      () => sse([accepted(1), ev(1, 1, 'x'), ev(2, 1, 'y'), completed(1, 1, 2)]),
      () => json(200, { session_id: 's1', turn_index: 2, stop_reason: 'end_turn', events: [] }),
    ]);
    const st = s.turnStream('hi');
    for await (const x of st) {
      assert.equal(x.seq, 1);
      break;
    }
    assert.equal(c.turnOrder.size, 0);
    await assert.rejects(st.result(), /not read to its end/);
    await s.turn('next');
  });
});
