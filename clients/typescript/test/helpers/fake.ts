// An injected fetch for unit tests: each call is answered by the next
// handler of a script (or by one handler for every call), and every request
// is recorded.
import type { Fetch } from '../../src/index.js';

export interface Recorded {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

export type Handler = (req: Recorded, n: number) => Response | Promise<Response>;

export function fakeFetch(handlers: Handler[] | Handler): Fetch & { calls: Recorded[] } {
  const calls: Recorded[] = [];
  const f = (async (url: string, init: RequestInit) => {
    const req: Recorded = {
      url,
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? init.body : undefined,
      signal: init.signal ?? undefined,
    };
    calls.push(req);
    const h = typeof handlers === 'function' ? handlers : handlers[calls.length - 1];
    if (!h) throw new Error(`unexpected request ${calls.length}: ${req.method} ${url}`);
    return h(req, calls.length);
  }) as Fetch & { calls: Recorded[] };
  f.calls = calls;
  return f;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': status < 300 ? 'application/json' : 'application/problem+json', ...headers },
  });
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { type: `https://agentsession.dev/problems/${code}`, title: code, status, code, request_id: 'req_1', ...extra }, headers);
}

/** A response whose body sends `text` and then fails as a reset connection does. */
export function cutBody(status: number, text: string, headers: Record<string, string> = {}): Response {
  const bytes = new TextEncoder().encode(text);
  let sent = false;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) {
          sent = true;
          c.enqueue(bytes);
        } else {
          c.error(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }));
        }
      },
    }),
    { status, headers: { 'content-type': 'application/json', ...headers } },
  );
}

/** A streamed response whose chunks are given; `fail` makes it end as a reset connection. */
export function sse(chunks: string[], opts: { fail?: boolean; status?: number } = {}): Response {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      // One chunk per pull: an error raised in start() would discard the queued chunks.
      pull(c) {
        const ch = chunks[i++];
        if (ch !== undefined) c.enqueue(enc.encode(ch));
        else if (opts.fail) c.error(new TypeError('terminated'));
        else c.close();
      },
    }),
    { status: opts.status ?? 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

/** A fetch answer that never comes until the request is aborted. */
export function hang(req: Recorded): Promise<Response> {
  return new Promise((_, reject) => {
    const s = req.signal;
    if (!s) return; // never settles: the test must abort it
    s.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')), { once: true });
  });
}

export const fastRetry = { initialDelay: 1, maxDelay: 4, maxRetryAfter: 5 };
export const TOKEN = 'sk-test-secret-9f8e7d6c';
