import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentSession, APIError, TransportError, type Logger } from '../../src/index.js';
import { fakeFetch, fastRetry, TOKEN } from '../helpers/fake.js';

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (m: string, d?: unknown): void => void lines.push(`${m} ${JSON.stringify(d)}`);
  return { logger: { debug: push, info: push, warn: push, error: push }, lines };
}

/** Everything an error exposes, as text. */
function exposed(e: unknown): string {
  const parts = [String(e), JSON.stringify(e), (e as Error).stack ?? '', JSON.stringify(Object.entries(e as object))];
  if (e instanceof APIError) {
    parts.push(e.body, e.code ?? '', e.requestId ?? '', e.title ?? '', e.detail ?? '', JSON.stringify(e.fieldErrors));
    e.headers.forEach((v, k) => parts.push(`${k}: ${v}`));
  }
  const cause = (e as { cause?: unknown }).cause;
  if (cause) parts.push(String(cause), JSON.stringify(cause), (cause as Error).message ?? '');
  return parts.join('\n');
}

describe('the token never leaks', () => {
  it('from an echoing server: code, request_id, X-Request-Id, detail, title, body, field errors, headers, logs', async () => {
    const echo = `Bearer ${TOKEN}`;
    const body = {
      type: 'about:blank',
      title: `bad ${TOKEN}`,
      status: 503,
      code: `code-${TOKEN}`,
      request_id: `rid-${TOKEN}`,
      detail: `your header was ${echo}`,
      errors: [{ location: `header.${TOKEN}`, message: TOKEN }],
    };
    const { logger, lines } = capture();
    const f = fakeFetch(
      () =>
        new Response(JSON.stringify(body), {
          status: 503,
          headers: { 'x-request-id': `req-${TOKEN}`, 'x-echo-authorization': echo, 'content-type': 'application/problem+json' },
        }),
    );
    const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch: f, retry: fastRetry, logger, logLevel: 'debug' });
    const e = await c.sessions.create({ agent: 'echo' }).catch((x: unknown) => x);
    assert.ok(e instanceof APIError);
    assert.equal(f.calls.length, 4, 'retried, so the retry log lines are covered too');
    assert.equal(f.calls[0]?.headers.get('authorization'), `Bearer ${TOKEN}`, 'the token is sent');
    const text = exposed(e) + lines.join('\n');
    assert.ok(lines.length >= 3);
    assert.ok(!text.includes(TOKEN), text);
    assert.ok(e.code?.includes('[REDACTED]'));
    assert.ok(e.requestId?.includes('[REDACTED]'));
    assert.equal(e.headers.get('x-echo-authorization'), 'Bearer [REDACTED]');
  });

  it('from a network error whose text holds the token', async () => {
    const f = fakeFetch(() => {
      throw new TypeError(`fetch failed: proxy said Authorization: Bearer ${TOKEN}`);
    });
    const { logger, lines } = capture();
    const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch: f, retry: fastRetry, logger, logLevel: 'debug' });
    const e = await c.health().catch((x: unknown) => x);
    assert.ok(e instanceof TransportError);
    const text = exposed(e) + lines.join('\n');
    assert.ok(!text.includes(TOKEN), text);
    assert.match(e.message, /\[REDACTED\]/);
  });

  it('from a turn stream frame the SDK cannot read', async () => {
    const f = fakeFetch(() => new Response(`id: 1\ndata: {"seq":1,"oops ${TOKEN}\n\n`, { headers: { 'content-type': 'text/event-stream' } }));
    const c = new AgentSession({ baseURL: 'http://api.test', token: TOKEN, fetch: f, retry: fastRetry });
    const e = await c.sessions.handle('s').turnStream('hi').result().catch((x: unknown) => x);
    assert.ok(e instanceof Error);
    assert.ok(!exposed(e).includes(TOKEN), exposed(e));
  });

  it('from configuration errors', () => {
    for (const bad of [`http://user:${TOKEN}@api.test`, `http://api.test/?token=${TOKEN}`]) {
      assert.throws(() => new AgentSession({ baseURL: bad, token: 't' }), (e: Error) => !e.message.includes(TOKEN));
    }
    assert.throws(() => new AgentSession({ baseURL: 'http://api.test', token: `${TOKEN}\n` }), (e: Error) => !e.message.includes(TOKEN));
  });
});
