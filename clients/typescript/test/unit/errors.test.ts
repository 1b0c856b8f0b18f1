import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AgentSession,
  APIError,
  AuthError,
  BusyError,
  ConflictError,
  InvalidTransitionError,
  NotFoundError,
  InvalidAgentOptionsError,
  PayloadTooLargeError,
  PermissionResolvedError,
  RateLimitError,
  RequestTimeoutError,
  ServerError,
  AgentStartFailedError,
  SessionEndedError,
  SessionPausedError,
  SpawnLimitError,
  TurnEndedError,
  UnexpectedResponseError,
  UnknownOptionError,
  UnsupportedBusyPolicyError,
  ValidationError,
} from '../../src/index.js';
import { fakeFetch, json, problem, TOKEN } from '../helpers/fake.js';

function client(fetch: ReturnType<typeof fakeFetch>, extra = {}): AgentSession {
  return new AgentSession({ baseURL: 'http://api.test/prefix', token: TOKEN, fetch, maxRetries: 0, ...extra });
}

async function failure(res: Response): Promise<unknown> {
  const c = client(fakeFetch([() => res]));
  return c.sessions.get('s1').then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
}

describe('error classes', () => {
  const cases: [number, string, new (...a: never[]) => APIError][] = [
    [401, 'unauthorized', AuthError],
    [403, 'forbidden', AuthError],
    [404, 'not_found', NotFoundError],
    [409, 'turn_in_progress', BusyError],
    [409, 'turn_queue_full', BusyError],
    [409, 'invalid_transition', InvalidTransitionError],
    [409, 'session_paused', SessionPausedError],
    [409, 'session_ended', SessionEndedError],
    [409, 'spawn_limit_exceeded', SpawnLimitError],
    [409, 'turn_ended', TurnEndedError],
    [409, 'permission_resolved', PermissionResolvedError],
    [409, 'idempotency_in_progress', ConflictError],
    [409, 'a_code_from_the_future', ConflictError],
    [400, 'invalid_request', ValidationError],
    [422, 'unknown_agent', ValidationError],
    [422, 'unknown_option', UnknownOptionError],
    [422, 'unsupported_busy_policy', UnsupportedBusyPolicyError],
    [422, 'invalid_agent_options', InvalidAgentOptionsError],
    [408, 'request_timeout', RequestTimeoutError],
    [413, 'payload_too_large', PayloadTooLargeError],
    [429, 'rate_limited', RateLimitError],
    [500, 'internal', ServerError],
    [503, 'unavailable', ServerError],
    [502, 'agent_start_failed', AgentStartFailedError],
    [503, 'agent_start_failed', ServerError],
    [418, 'teapot', APIError],
  ];
  for (const [status, code, Cls] of cases) {
    it(`${status} ${code} is a ${Cls.name}`, async () => {
      const e = await failure(problem(status, code));
      assert.ok(e instanceof Cls, `got ${String(e)}`);
      assert.ok(e instanceof APIError);
      assert.equal(e.name, Cls.name);
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      if (status === 409) assert.ok(e instanceof ConflictError);
      if (Cls === BusyError) assert.ok(!(e instanceof InvalidTransitionError));
      if (status === 422) assert.ok(e instanceof ValidationError);
      if (status >= 500) assert.ok(e instanceof ServerError);
      if (Cls === TurnEndedError) assert.ok(!(e instanceof PermissionResolvedError));
    });
  }

  it('an unknown code is handled by its status', async () => {
    const e = await failure(problem(404, 'gone_fishing'));
    assert.ok(e instanceof NotFoundError);
    assert.equal(e.code, 'gone_fishing');
  });

  it('carries the problem, the request id, the key and the attempts', async () => {
    const c = client(
      fakeFetch([
        () =>
          problem(400, 'invalid_request', { detail: 'body.prompt: required', errors: [{ location: 'body.prompt', message: 'required' }] }, { 'x-request-id': 'req_h' }),
      ]),
    );
    const e = await c.sessions.handle('s1').turn('x', { idempotencyKey: 'k-1' }).catch((x: unknown) => x);
    assert.ok(e instanceof ValidationError);
    assert.equal(e.detail, 'body.prompt: required');
    assert.equal(e.title, 'invalid_request');
    assert.deepEqual(e.fieldErrors, [{ location: 'body.prompt', message: 'required' }]);
    assert.equal(e.requestId, 'req_h', 'the header wins over the body');
    assert.equal(e.idempotencyKey, 'k-1');
    assert.equal(e.attempts, 1);
    assert.equal(e.method, 'POST');
    assert.equal(e.url, 'http://api.test/prefix/v1/sessions/s1/turns');
    assert.match(e.message, /^400 invalid_request: body\.prompt: required \(POST http:\/\/api\.test\/prefix\/v1\/sessions\/s1\/turns, request req_h\)$/);
  });

  it('falls back to the body request_id, and keeps a non-problem body bounded', async () => {
    const e1 = await failure(problem(404, 'not_found'));
    assert.ok(e1 instanceof APIError);
    assert.equal(e1.requestId, 'req_1');
    const big = '<html>' + 'x'.repeat(200_000);
    const e2 = await failure(new Response(big, { status: 502, headers: { 'content-type': 'text/html' } }));
    assert.ok(e2 instanceof ServerError);
    assert.equal(e2.code, undefined);
    assert.equal(e2.body.length, 64 << 10);
    assert.match(e2.message, /^502 Bad Gateway: body "<html>x+"\.\.\./);
    const e3 = await failure(new Response(null, { status: 500 }));
    assert.ok(e3 instanceof ServerError);
    assert.match(e3.message, /empty body/);
  });

  it('a 429 carries retryAfter in milliseconds', async () => {
    const e = await failure(problem(429, 'rate_limited', {}, { 'retry-after': '7' }));
    assert.ok(e instanceof RateLimitError);
    assert.equal(e.retryAfter, 7000);
    const e2 = await failure(problem(429, 'rate_limited', {}, { 'retry-after-ms': '1500' }));
    assert.ok(e2 instanceof RateLimitError);
    assert.equal(e2.retryAfter, 1500);
  });

  it('a 2xx that is not JSON is an UnexpectedResponseError, not retried', async () => {
    const f = fakeFetch(() => new Response('<html>oops</html>', { status: 200 }));
    const c = client(f, { maxRetries: 3 });
    const e = await c.sessions.get('s1').catch((x: unknown) => x);
    assert.ok(e instanceof UnexpectedResponseError, String(e));
    assert.equal(f.calls.length, 1);
    assert.match(e.message, /not JSON/);
  });

  it('error names survive and instanceof works across the hierarchy', () => {
    const e = new BusyError(
      {
        status: 409, code: 'turn_in_progress', title: undefined, detail: undefined, type: undefined, instance: undefined,
        fieldErrors: [], requestId: undefined, idempotencyKey: undefined, attempts: 1, retryAfter: undefined,
        method: 'POST', url: 'u', headers: new Headers(), body: '',
      },
      'm',
    );
    assert.equal(e.name, 'BusyError');
    assert.ok(e instanceof ConflictError && e instanceof APIError && e instanceof Error);
    assert.ok(json(200, {}) instanceof Response);
  });
});
