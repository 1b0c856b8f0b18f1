import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AbortError,
  AgentSession,
  AgentStartFailedError,
  FINAL_PROBLEM_CODES,
  BusyError,
  ConflictError,
  NotFoundError,
  RetryBudget,
  ServerError,
  serverDelay,
  TimeoutError,
  TransportError,
  UnexpectedResponseError,
  ValidationError,
} from '../../src/index.js';
import { backoff, backoffCeiling } from '../../src/retry.js';
import { cutBody, fakeFetch, fastRetry, hang, json, problem, TOKEN, type Handler } from '../helpers/fake.js';

const session = { session_id: 's1', agent: 'echo', status: 'active' };

function client(handlers: Handler[] | Handler, extra: ConstructorParameters<typeof AgentSession>[0] = {}) {
  const fetch = fakeFetch(handlers);
  const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch, retry: { ...fastRetry, budget: new RetryBudget(10_000) }, ...extra });
  return { c, fetch };
}

describe('which answers are retried', () => {
  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`${status} is retried`, async () => {
      const { c, fetch } = client([() => problem(status, 'x'), () => json(200, session)]);
      const s = await c.sessions.get('s1');
      assert.equal(s.id, 's1');
      assert.equal(fetch.calls.length, 2);
    });
  }
  for (const status of [400, 401, 403, 404, 409, 413, 422, 501]) {
    it(`${status} is not retried`, async () => {
      const { c, fetch } = client(() => problem(status, 'x'));
      await assert.rejects(c.sessions.get('s1'));
      assert.equal(fetch.calls.length, 1);
    });
  }

  const startFailed = () =>
    problem(502, 'agent_start_failed', { title: 'Agent start failed', detail: 'agent "hangs" did not answer initialize within 30s' });

  it('502 agent_start_failed is final: one attempt, the typed error', async () => {
    assert.deepEqual(FINAL_PROBLEM_CODES, ['agent_start_failed']);
    const calls: Array<(c: AgentSession) => Promise<unknown>> = [
      (c) => c.sessions.create({ agent: 'hangs' }),
      (c) => c.sessions.handle('s1').spawn({ agent: 'hangs' }),
      (c) => c.sessions.handle('s1').continue({ agent: 'hangs' }),
      (c) => c.sessions.handle('s1').replay({ agent: 'hangs' }),
    ];
    for (const call of calls) {
      const { c, fetch } = client([startFailed, () => json(201, session)]);
      const e = await call(c).catch((x: unknown) => x);
      assert.ok(e instanceof AgentStartFailedError, String(e));
      assert.ok(e instanceof ServerError);
      assert.equal(e.status, 502);
      assert.equal(e.code, 'agent_start_failed');
      assert.equal(e.detail, 'agent "hangs" did not answer initialize within 30s');
      assert.equal(e.attempts, 1);
      assert.equal(fetch.calls.length, 1);
      assert.ok(fetch.calls[0]?.headers.get('idempotency-key'), 'the call was retryable');
    }
  });

  it('any other 502 is still retried: another code, no problem, the code outside a problem document', async () => {
    const others: Handler[] = [
      () => problem(502, 'internal'),
      () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
      () => new Response(JSON.stringify({ code: 'agent_start_failed' }), { status: 502, headers: { 'content-type': 'application/json' } }),
    ];
    for (const first of others) {
      const { c, fetch } = client([first, () => json(201, session)]);
      const s = await c.sessions.create({ agent: 'echo' });
      assert.equal(s.id, 's1');
      assert.equal(fetch.calls.length, 2);
    }
  });

  it('a POST is retried with the same Idempotency-Key on every attempt', async () => {
    const { c, fetch } = client([() => problem(503, 'x'), () => problem(500, 'x'), () => json(201, session), () => json(200, session)]);
    await c.sessions.create({ agent: 'echo' });
    const keys = fetch.calls.map((r) => r.headers.get('idempotency-key'));
    assert.equal(keys.length, 3);
    assert.match(keys[0] ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(keys.every((k) => k === keys[0]));
    assert.ok(fetch.calls.every((r) => r.body === '{"agent":"echo"}'));
    // A second call gets a new key.
    await c.sessions.handle('s1').pause();
    assert.notEqual(fetch.calls[3]?.headers.get('idempotency-key'), keys[0]);
  });

  it('a caller-given key is used; a POST with no key (null) is never retried', async () => {
    const a = client([() => problem(503, 'x'), () => json(201, session)]);
    await a.c.sessions.create({ agent: 'echo' }, { idempotencyKey: 'mine' });
    assert.deepEqual(a.fetch.calls.map((r) => r.headers.get('idempotency-key')), ['mine', 'mine']);
    const b = client(() => problem(503, 'x'));
    await assert.rejects(b.c.sessions.create({ agent: 'echo' }, { idempotencyKey: null }), ServerError);
    assert.equal(b.fetch.calls.length, 1);
    assert.equal(b.fetch.calls[0]?.headers.get('idempotency-key'), null);
  });

  it('GET and DELETE carry no key and are retried', async () => {
    const { c, fetch } = client([() => problem(502, 'x'), () => json(200, { session, already_closed: false })]);
    await c.sessions.close('s1');
    assert.equal(fetch.calls.length, 2);
    assert.equal(fetch.calls[0]?.method, 'DELETE');
    assert.equal(fetch.calls[0]?.headers.get('idempotency-key'), null);
  });

  it('stops after maxRetries and reports the attempts; the last answer survives', async () => {
    const { c, fetch } = client(() => problem(503, 'unavailable'), { maxRetries: 2 });
    const e = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof ServerError);
    assert.equal(e.attempts, 3);
    assert.equal(fetch.calls.length, 3);
    assert.match(e.message, /3 attempts/);
  });

  it('connection failures are retried; TLS and certificate errors are not', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const a = client([
      () => {
        throw refused;
      },
      () => json(200, session),
    ]);
    await a.c.sessions.get('s1');
    assert.equal(a.fetch.calls.length, 2);

    const cert = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }) });
    const b = client(() => {
      throw cert;
    });
    const e = await b.c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof TransportError);
    assert.equal(e.cause, cert);
    assert.equal(b.fetch.calls.length, 1);
    assert.match(e.message, /certificate has expired/);
  });
});

describe('waits', () => {
  it('backoff is full jitter under a doubling ceiling, 250 ms to 8 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffCeiling(250, 8000, n)), [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(backoff(250, 8000, 3, () => 0), 0);
    assert.equal(backoff(250, 8000, 3, () => 0.5), 1000);
  });

  it('reads Retry-After as seconds or a date and Retry-After-Ms', () => {
    const h = (o: Record<string, string>) => new Headers(o);
    assert.equal(serverDelay(h({ 'retry-after': '3' })), 3000);
    assert.equal(serverDelay(h({ 'retry-after-ms': '250.5', 'retry-after': '9' })), 250.5);
    assert.equal(serverDelay(h({ 'retry-after-ms': 'soon', 'retry-after': '2' })), 2000);
    assert.equal(serverDelay(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:10 GMT', date: 'Wed, 21 Oct 2015 07:28:00 GMT' })), 10_000);
    assert.equal(serverDelay(h({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), () => Date.parse('2015-10-21T07:29:00Z')), 0);
    assert.equal(serverDelay(h({ 'retry-after': '-1' })), undefined);
    assert.equal(serverDelay(h({ 'retry-after': 'whenever' })), undefined);
    assert.equal(serverDelay(h({})), undefined);
    assert.ok((serverDelay(h({ 'retry-after': '9'.repeat(400) })) ?? 0) > 1e300, 'huge stays huge, to be capped');
  });

  it('honours Retry-After, capped at maxRetryAfter (a huge value is capped, not ignored)', async () => {
    const cases: Record<string, string>[] = [{ 'retry-after': '9'.repeat(30) }, { 'retry-after': '3600' }, { 'retry-after-ms': '99999999999' }, { 'retry-after-ms': '60' }];
    for (const headers of cases) {
      const { c } = client([() => problem(429, 'rate_limited', {}, headers), () => json(200, session)], {
        retry: { initialDelay: 1, maxDelay: 1, maxRetryAfter: 60 },
      });
      const t0 = performance.now();
      await c.sessions.get('s1');
      const waited = performance.now() - t0;
      assert.ok(waited >= 55 && waited < 1000, `${JSON.stringify(headers)}: waited ${waited} ms`);
    }
  });

  it('gives up at once when the wait would pass the totalTimeout; the last answer is the cause', async () => {
    const { c, fetch } = client(() => problem(503, 'unavailable', {}, { 'retry-after-ms': '500' }), {
      retry: { initialDelay: 1, maxDelay: 1, maxRetryAfter: 10_000 },
      totalTimeout: 200,
    });
    const t0 = performance.now();
    const e = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.ok(e.cause instanceof ServerError);
    assert.equal(fetch.calls.length, 1);
    assert.ok(performance.now() - t0 < 150);
  });

  it('the totalTimeout covers a hanging attempt', async () => {
    const { c } = client(hang, { totalTimeout: 50, timeout: null });
    const t0 = performance.now();
    const e = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.match(e.message, /totalTimeout of 50 ms/);
    assert.ok(performance.now() - t0 < 1000);
  });

  it('a timed-out attempt is retried, then the call fails with a TimeoutError', async () => {
    const { c, fetch } = client(hang, { timeout: 20, maxRetries: 2 });
    const e = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError && e instanceof TransportError, String(e));
    assert.equal(e.attempts, 3);
    assert.equal(fetch.calls.length, 3);
  });
});

describe('the retry budget', () => {
  it('is shared by the calls of a client and refuses retries once spent', async () => {
    const budget = new RetryBudget(12); // two retries' worth
    const { c, fetch } = client(() => problem(503, 'x'), { retry: { ...fastRetry, budget } });
    const e1 = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e1 instanceof ServerError);
    assert.equal(e1.attempts, 3, 'the third retry was refused');
    assert.equal(budget.available, 2);
    const e2 = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e2 instanceof ServerError);
    assert.equal(e2.attempts, 1, 'no retry left at all');
    assert.equal(fetch.calls.length, 4);
  });

  it('refunds the last retry on success, and 1 token for a call without retries', () => {
    const b = new RetryBudget(20);
    assert.equal(b.take(false), 5);
    assert.equal(b.take(true), 10);
    assert.equal(b.available, 5);
    assert.equal(b.take(true), 0, 'cannot pay: nothing taken');
    b.succeeded(10);
    assert.equal(b.available, 15);
    b.succeeded(0);
    b.succeeded(0);
    assert.equal(b.available, 17);
    b.succeeded(10);
    assert.equal(b.available, 20, 'never above the capacity');
  });

  it('a timeout costs twice a retry', async () => {
    const budget = new RetryBudget(100);
    const { c } = client([hang, () => json(200, session)], { timeout: 10, retry: { ...fastRetry, budget } });
    await c.sessions.get('s1');
    assert.equal(budget.available, 100, 'taken 10, refunded 10');
    const budget2 = new RetryBudget(100);
    const d = client([hang, hang], { timeout: 10, maxRetries: 1, retry: { ...fastRetry, budget: budget2 } });
    await assert.rejects(d.c.sessions.get('s1'), TimeoutError);
    assert.equal(budget2.available, 90);
  });
});

describe('a 2xx whose body is cut', () => {
  it('is retried with the same key when the connection resets mid-body', async () => {
    const { c, fetch } = client([() => cutBody(201, '{"session_id":"s1","ag'), () => json(201, session, { 'idempotent-replayed': 'true' })]);
    const s = await c.sessions.create({ agent: 'echo' });
    assert.equal(s.id, 's1');
    assert.equal(fetch.calls.length, 2);
    assert.equal(fetch.calls[0]?.headers.get('idempotency-key'), fetch.calls[1]?.headers.get('idempotency-key'));
  });

  it('is retried when shorter than Content-Length, empty, or a cut JSON prefix', async () => {
    const bodies: Handler[] = [
      () => new Response('{"session_id":"s1"}', { status: 200, headers: { 'content-length': '500', 'content-type': 'application/json' } }),
      () => new Response('', { status: 200 }),
      () => new Response('{"session_id":"s1","meta":{"a":[1,2', { status: 200 }),
      () => json(200, session),
    ];
    const { c, fetch } = client(bodies);
    const s = await c.sessions.get('s1');
    assert.equal(s.info?.agent, 'echo');
    assert.equal(fetch.calls.length, 4);
  });

  it('counts the bytes of a non-ASCII body against Content-Length, not its characters', async () => {
    // 'é' is 2 bytes, '€' 3, '😀' 4 (a surrogate pair): the text is shorter than its bytes.
    const whole = JSON.stringify({ ...session, meta: { s: 'é€😀' } });
    const bytes = Buffer.byteLength(whole);
    assert.ok(whole.length < bytes);
    const withLength = (text: string, length: number) => () =>
      new Response(text, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(length) } });
    // Whole: accepted at once.
    const ok = client([withLength(whole, bytes)]);
    assert.equal((await ok.c.sessions.get('s1')).info?.meta?.['s'], 'é€😀');
    assert.equal(ok.fetch.calls.length, 1);
    // One byte short of its Content-Length though it parses: cut, asked again.
    const short = client([withLength(whole, bytes + 1), withLength(whole, bytes)]);
    await short.c.sessions.get('s1');
    assert.equal(short.fetch.calls.length, 2);
    const always = client(withLength(whole, bytes + 1));
    const e = await always.c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof TransportError, String(e));
    assert.match(e.message, new RegExp(`body cut after ${bytes} of ${bytes + 1} bytes`));
  });

  it('a body with a byte order mark and an exact Content-Length is whole', async () => {
    const text = JSON.stringify(session);
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    const { c, fetch } = client(() => new Response(body, { status: 200, headers: { 'content-length': String(body.byteLength) } }));
    assert.equal((await c.sessions.get('s1')).id, 's1');
    assert.equal(fetch.calls.length, 1);
  });

  it('is a TransportError when the attempts run out', async () => {
    const { c, fetch } = client(() => cutBody(200, '{"seq":'));
    const e = await c.sessions.handle('s1').turn('hi').catch((x: unknown) => x);
    assert.ok(e instanceof TransportError, String(e));
    assert.equal(e.attempts, 4);
    assert.equal(fetch.calls.length, 4);
    assert.match(e.message, /cut/);
    assert.ok(e.idempotencyKey);
  });

  it('a body that is complete but not JSON is not retried', async () => {
    const { c, fetch } = client(() => new Response('{"a":1} trailing', { status: 200 }));
    await assert.rejects(c.sessions.get('s1'), UnexpectedResponseError);
    assert.equal(fetch.calls.length, 1);
  });

  describe('over a real socket', () => {
    let server: Server;
    let base = '';
    let hits = 0;
    before(async () => {
      server = createServer((req, res) => {
        hits++;
        const full = JSON.stringify({ ...session, meta: { pad: 'x'.repeat(2000) } });
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(full)) });
        if (hits === 1) {
          res.write(full.slice(0, 600));
          setTimeout(() => res.socket?.destroy(), 5);
        } else {
          res.end(full);
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('a reset after 600 bytes is retried and the call succeeds', async () => {
      const c = new AgentSession({ baseURL: base, token: TOKEN, retry: fastRetry });
      const s = await c.sessions.create({ agent: 'echo' });
      assert.equal(s.id, 's1');
      assert.equal(hits, 2);
    });
  });
});

describe('an error answer whose body is cut', () => {
  const busy = JSON.stringify({ type: 'about:blank', title: 'Busy', status: 409, code: 'turn_in_progress', request_id: 'req_1' });
  const cut409: Handler[] = [
    () => cutBody(409, busy.slice(0, 30), { 'content-type': 'application/problem+json' }),
    () => new Response(busy.slice(0, 25), { status: 409, headers: { 'content-type': 'application/problem+json', 'content-length': String(busy.length) } }),
    () => new Response(busy.slice(0, 40), { status: 409, headers: { 'content-type': 'application/problem+json' } }),
    () => problem(409, 'turn_in_progress'),
  ];

  it('is asked again with the same key (reset, short of Content-Length, cut JSON), so its code and class survive', async () => {
    const { c, fetch } = client(cut409);
    const e = await c.sessions.handle('s1').turn('hi', { busyPolicy: 'reject' }).catch((x: unknown) => x);
    assert.ok(e instanceof BusyError, String(e));
    assert.equal(e.code, 'turn_in_progress');
    assert.equal(e.attempts, 4);
    assert.equal(new Set(fetch.calls.map((r) => r.headers.get('idempotency-key'))).size, 1);
  });

  it('without a key (not retryable) or once the attempts run out, it is the APIError of its status', async () => {
    const once = client(cut409);
    const e = await once.c.sessions.handle('s1').turn('hi', { busyPolicy: 'reject', idempotencyKey: null }).catch((x: unknown) => x);
    assert.ok(e instanceof ConflictError && !(e instanceof BusyError), String(e));
    assert.equal(e.code, undefined);
    assert.equal(once.fetch.calls.length, 1);
    const always = client(() => cutBody(404, '{"code":"not_fo', { 'content-type': 'application/problem+json' }));
    const nf = await always.c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(nf instanceof NotFoundError, String(nf));
    assert.equal(nf.attempts, 4);
  });

  it('a complete error body, an empty one or one that is not JSON is not asked again', async () => {
    for (const res of [
      () => problem(409, 'session_paused'),
      () => new Response('', { status: 409 }),
      () => new Response('<html>conflict</html>', { status: 409, headers: { 'content-type': 'text/html' } }),
    ]) {
      const { c, fetch } = client([res]);
      await assert.rejects(c.sessions.handle('s1').pause(), ConflictError);
      assert.equal(fetch.calls.length, 1);
    }
  });
});

describe('AbortSignal', () => {
  it('an aborted signal fails before sending', async () => {
    const { c, fetch } = client(() => json(200, session));
    const ac = new AbortController();
    ac.abort(new Error('user left'));
    const e = await c.sessions.get('s1', { signal: ac.signal }).catch((x: unknown) => x);
    assert.ok(e instanceof AbortError);
    assert.equal(e.name, 'AbortError');
    assert.equal((e.cause as Error).message, 'user left');
    assert.equal(fetch.calls.length, 0);
  });

  it('aborting during the request and during a retry wait', async () => {
    const { c } = client(hang);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(c.sessions.get('s1', { signal: ac.signal }), (e: Error) => e instanceof AbortError && e.name === 'AbortError');

    const d = client(() => problem(503, 'x', {}, { 'retry-after': '10' }), { retry: { maxRetryAfter: 10_000 } });
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 30);
    const t0 = performance.now();
    await assert.rejects(d.c.sessions.get('s1', { signal: ac2.signal }), AbortError);
    assert.ok(performance.now() - t0 < 1000, 'the 10 s wait was cut short');
  });

  it('aborting a turn that waits for the session order leaves the queue', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const result = { session_id: 's1', turn_index: 1, stop_reason: 'end_turn', events: [] };
    const { c, fetch } = client(async () => {
      await gate;
      return json(200, result);
    });
    const s = c.sessions.handle('s1');
    const first = s.turn('one');
    const ac = new AbortController();
    const second = s.turn('two', { signal: ac.signal });
    const third = s.turn('three');
    ac.abort();
    await assert.rejects(second, AbortError);
    release();
    await first;
    await third;
    assert.deepEqual(fetch.calls.map((r) => JSON.parse(r.body ?? '{}').prompt), ['one', 'three']);
    assert.equal(c.turnOrder.size, 0);
  });
});

describe('configuration', () => {
  it('refuses a base URL ending in /v1 and says to drop it', () => {
    for (const u of ['http://h/v1', 'http://h/v1/', 'https://h/api/v1']) {
      assert.throws(() => new AgentSession({ baseURL: u, token: 't' }), /drop the trailing \/v1/);
    }
    assert.throws(() => new AgentSession({ baseURL: 'ftp://h', token: 't' }), /scheme/);
    assert.throws(() => new AgentSession({ baseURL: 'not a url', token: 't' }), /absolute/);
    assert.throws(() => new AgentSession({ baseURL: 'http://h', token: 't', timeout: -1 }), /timeout/);
  });

  it('keeps a path prefix and sends the SDK headers', async () => {
    const f = fakeFetch(() => json(200, session));
    const c = new AgentSession({ baseURL: 'http://h/api', token: TOKEN, fetch: f, defaultHeaders: { 'x-team': 'a' } });
    await c.sessions.get('s/1', { requestId: 'req-mine', headers: { 'x-extra': '1' } });
    const r = f.calls[0];
    assert.equal(r?.url, 'http://h/api/v1/sessions/s%2F1');
    assert.equal(r?.headers.get('authorization'), `Bearer ${TOKEN}`);
    assert.equal(r?.headers.get('accept'), 'application/json');
    assert.match(r?.headers.get('user-agent') ?? '', /^agentsession-ts\//);
    assert.equal(r?.headers.get('x-request-id'), 'req-mine');
    assert.equal(r?.headers.get('x-team'), 'a');
    assert.equal(r?.headers.get('x-extra'), '1');
  });

  it('reads AGENTSESSION_BASE_URL and AGENTSESSION_TOKEN where an environment exists', async () => {
    const f = fakeFetch(() => json(200, session));
    process.env['AGENTSESSION_BASE_URL'] = 'http://from-env.test';
    process.env['AGENTSESSION_TOKEN'] = 'env-token';
    try {
      const c = new AgentSession({ fetch: f });
      await c.sessions.get('s1');
      assert.equal(f.calls[0]?.url, 'http://from-env.test/v1/sessions/s1');
      assert.equal(f.calls[0]?.headers.get('authorization'), 'Bearer env-token');
      const explicit = new AgentSession({ fetch: f, baseURL: 'http://given.test', token: 'given' });
      assert.equal(explicit.baseURL, 'http://given.test/');
    } finally {
      delete process.env['AGENTSESSION_BASE_URL'];
      delete process.env['AGENTSESSION_TOKEN'];
    }
    assert.throws(() => new AgentSession({ fetch: f }), /no base URL/);
  });

  it('validation errors are not retried and have field errors', async () => {
    const { c, fetch } = client(() => problem(422, 'unknown_agent'));
    await assert.rejects(c.sessions.create({ agent: 'nope' }), ValidationError);
    assert.equal(fetch.calls.length, 1);
  });
});
