// The session-wide stream, permission answers and the 202 path on an injected
// fetch: framing, resume positions, exactly once, unknown frames and values,
// and what is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AgentSession,
  isPermissionRequest,
  PermissionRequiredError,
  RequestTimeoutError,
  RetryBudget,
  StreamIdleTimeoutError,
  StreamLostError,
  UnexpectedResponseError,
  type SessionStreamItem,
} from '../../src/index.js';
import { fakeFetch, fastRetry, json, problem, sse, TOKEN, type Handler } from '../helpers/fake.js';

function client(handlers: Handler[] | Handler) {
  const fetch = fakeFetch(handlers);
  const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch, retry: { ...fastRetry, budget: new RetryBudget(10_000) } });
  return { c, fetch, s: c.sessions.handle('s1') };
}

const ev = (seq: number, lc: number, content: string, type = 'text') =>
  `id: ${seq}.${lc}\ndata: {"seq":${seq},"turn_index":1,"type":"${type}","content":"${content}","created_at":"t"}\n\n`;
const lifecycle = (seq: number, lc: number, type: string, extra = '') =>
  `event: session.lifecycle\nid: ${seq}.${lc}\ndata: {"lifecycle_seq":${lc},"after_seq":${seq},"type":"${type}","created_at":"t"${extra}}\n\n`;
const ended = 'event: session.ended\ndata: {"session_id":"s1","status":"completed","end_reason":"closed","queued_turns":0}\n\n';

async function collect(it: AsyncIterable<SessionStreamItem>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) {
    out.push(x.type === 'event' ? `e${x.event.seq}@${x.position}` : x.type === 'lifecycle' ? `${x.lifecycle.type}@${x.position}` : `end:${x.session.end_reason}`);
  }
  return out;
}

describe('session.stream()', () => {
  it('yields events, lifecycle events and the ended session; skips unknown frame types; keeps unknown values', async () => {
    const { s, fetch } = client([
      () =>
        sse([
          lifecycle(0, 1, 'turn_started', ',"turn_index":1'),
          ': keep-alive\n\n',
          ev(1, 1, 'hi'),
          'event: session.from_the_future\nid: 1.1\ndata: {"x":1}\n\n',
          lifecycle(1, 2, 'turn_paused_by_moon'),
          ended,
        ]),
    ]);
    const st = s.stream();
    assert.equal(fetch.calls.length, 0, 'nothing is sent before the loop');
    assert.deepEqual(await collect(st), ['turn_started@0.1', 'e1@1.1', 'turn_paused_by_moon@1.2', 'end:closed']);
    assert.equal(st.session?.status, 'completed');
    assert.equal(st.position, '1.2');
    const req = fetch.calls[0];
    assert.equal(req?.url, 'http://api.test/v1/sessions/s1/stream');
    assert.equal(req?.method, 'GET');
    assert.equal(req?.headers.get('accept'), 'text/event-stream');
    assert.equal(req?.headers.get('last-event-id'), '0.0');
    assert.equal(req?.headers.get('idempotency-key'), null);
    assert.throws(() => st[Symbol.asyncIterator](), /only once/);
  });

  it('resumes a cut stream after the last position; replayed frames are not yielded twice', async () => {
    const { s, fetch } = client([
      () => sse([ev(1, 0, 'a'), lifecycle(1, 1, 'turn_ended')], { fail: true }),
      // A server may replay: the SDK drops what it has.
      () => sse([lifecycle(1, 1, 'turn_ended'), ev(2, 1, 'b')]), // ends without session.ended: cut
      () => sse([ev(3, 1, 'c'), ended]),
    ]);
    const st = s.stream({ after: '0.0' });
    assert.deepEqual(await collect(st), ['e1@1.0', 'turn_ended@1.1', 'e2@2.1', 'e3@3.1', 'end:closed']);
    assert.deepEqual(fetch.calls.map((r) => r.headers.get('last-event-id')), ['0.0', '1.1', '2.1']);
    assert.equal(st.resumes, 2);
  });

  it('starts after a given position and fails with StreamLostError when resumes bring nothing', async () => {
    const { s, fetch } = client(() => sse([], { fail: true }));
    const err = await collect(s.stream({ after: '41.7', maxResumes: 2 })).catch((e: unknown) => e);
    assert.ok(err instanceof StreamLostError, String(err));
    assert.equal(fetch.calls.length, 3);
    assert.ok(fetch.calls.every((r) => r.headers.get('last-event-id') === '41.7'));
    assert.throws(() => s.stream({ after: '41' }), /position/);
  });

  it('a frame that is not JSON is an UnexpectedResponseError', async () => {
    const { s } = client([() => sse(['id: 1.0\ndata: {oops\n\n'])]);
    await assert.rejects(collect(s.stream()), UnexpectedResponseError);
  });

  it('a permission_request event of the session stream can be answered', async () => {
    const { s, fetch } = client([
      () =>
        sse([
          'id: 1.0\ndata: {"seq":1,"turn_index":1,"type":"permission_request","request_id":"perm_1","title":"ok?","options":[],"created_at":"t"}\n\n',
          ended,
        ]),
      () => json(200, { request_id: 'perm_1', status: 'answered', option_id: 'allow' }),
    ]);
    for await (const x of s.stream()) {
      if (x.type === 'event' && isPermissionRequest(x.event)) assert.equal((await x.event.answer('allow')).status, 'answered');
    }
    const answer = fetch.calls[1];
    assert.equal(answer?.url, 'http://api.test/v1/sessions/s1/permissions/perm_1');
    assert.equal(answer?.body, '{"option_id":"allow"}');
    assert.match(answer?.headers.get('idempotency-key') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('permission plumbing', () => {
  const waiting = {
    session_id: 's1',
    turn_index: 4,
    status: 'waiting_for_input',
    last_seq: 9,
    permission_requests: [{ request_id: 'perm_1', session_id: 's1', turn_index: 4, title: 'Drop it?', options: [], status: 'pending', created_at: 't' }],
  };

  it('a 202 without onPermission is a PermissionRequiredError, and the turn order is released', async () => {
    const { c, s } = client([() => json(202, waiting), () => json(200, { session_id: 's1', turn_index: 5, stop_reason: 'end_turn', events: [] })]);
    const err = await s.turn('x').catch((e: unknown) => e);
    assert.ok(err instanceof PermissionRequiredError);
    assert.equal(err.turnIndex, 4);
    assert.equal(err.lastSeq, 9);
    assert.equal(err.requests[0]?.title, 'Drop it?');
    assert.match(err.message, /perm_1/);
    assert.equal(c.turnOrder.size, 0);
    assert.equal((await s.turn('y')).turn_index, 5, 'the next turn is not held behind it');
  });

  it('an answer is retried after 408 request_timeout with the same key; RequestTimeoutError when the attempts run out', async () => {
    const { s, fetch } = client([
      () => problem(408, 'request_timeout'),
      () => json(200, { request_id: 'perm_1', status: 'answered' }),
      ...Array.from({ length: 4 }, () => () => problem(408, 'request_timeout')),
    ]);
    assert.equal((await s.answerPermission('perm_1', 'allow')).status, 'answered');
    assert.equal(fetch.calls[0]?.headers.get('idempotency-key'), fetch.calls[1]?.headers.get('idempotency-key'));
    await assert.rejects(s.answerPermission('perm_1', 'allow'), RequestTimeoutError);
    assert.equal(fetch.calls.length, 6);
  });

  it('a turn stream holds its idle timer while a permission request it yielded waits for its answer', async () => {
    const pr = 'id: 2\ndata: {"seq":2,"turn_index":1,"type":"permission_request","request_id":"p","title":"t","options":[],"created_at":"t"}\n\n';
    const resp = 'id: 3\ndata: {"seq":3,"turn_index":1,"type":"permission_response","request_id":"p","outcome":"selected","option_id":"a","created_at":"t"}\n\n';
    const text = 'id: 1\ndata: {"seq":1,"turn_index":1,"type":"text","content":"x","created_at":"t"}\n\n';
    const done = 'event: turn.completed\ndata: {"session_id":"s1","turn_index":1,"stop_reason":"end_turn","duration_ms":1,"event_count":3,"first_seq":1,"last_seq":3,"started_at":"x","ended_at":"y"}\n\n';
    const slow = (chunks: string[], pauseBefore: number, ms: number): Response => {
      const enc = new TextEncoder();
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (i === pauseBefore) await new Promise((r) => setTimeout(r, ms));
            const ch = chunks[i++];
            if (ch === undefined) c.close();
            else c.enqueue(enc.encode(ch));
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    };
    const accepted = 'event: turn.accepted\ndata: {"session_id":"s1","turn_index":1,"status":"running"}\n\n';
    // The quiet after the request is four times the idle timeout: no failure.
    const ok = client([() => slow([accepted, text, pr, resp, done], 3, 200)]);
    const events = [];
    for await (const e of ok.s.turnStream('x', { idleTimeout: 50 })) events.push(e.seq);
    assert.deepEqual(events, [1, 2, 3]);
    // The same quiet after a plain event is a stall.
    const stalled = client([() => slow([accepted, text, text.replaceAll('1', '2'), done], 2, 200)]);
    const err = await (async () => {
      for await (const _ of stalled.s.turnStream('x', { idleTimeout: 50, maxResumes: 0 })) {
        // read
      }
    })().catch((e: unknown) => e);
    assert.ok(err instanceof StreamIdleTimeoutError, String(err));
  });
});
