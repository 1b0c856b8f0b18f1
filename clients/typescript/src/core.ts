// The SDK's one request path: every call of every resource goes through
// APIClient.request (JSON) or APIClient.open (event streams). It sets the
// headers (auth, idempotency key once per call), applies the retry policy,
// the per-attempt timeout, the whole-call deadline and the caller's
// AbortSignal, turns answers into typed errors, and redacts the token from
// everything a server sent back. Only fetch and web streams are used, so the
// same code runs in Node and in browsers.
import {
  AbortError,
  AgentSessionError,
  APIError,
  apiErrorClass,
  TimeoutError,
  TransportError,
  UnexpectedResponseError,
} from './errors.js';
import { isCutJSON } from './internal/json.js';
import { readEnv, sleep, uuid } from './internal/util.js';
import {
  backoff,
  DEFAULT_INITIAL_DELAY,
  DEFAULT_MAX_DELAY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_AFTER,
  isIdempotentMethod,
  isFinalProblem,
  isRetryableStatus,
  RetryBudget,
  serverDelay,
  type RetryOptions,
} from './retry.js';
import type { FieldError } from './types.js';

export const VERSION = '0.1.0';

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

type LogFn = (message: string, details?: Record<string, unknown>) => void;
/** Anything console-like; `console` works. */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}
/** `debug`: every call; `info`: every retry; `warn`: retries the budget refused. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';
const levels: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface ClientOptions {
  /** The server, e.g. `https://agents.example.com` (a path prefix is kept). Default: `$AGENTSESSION_BASE_URL`. */
  baseURL?: string | undefined;
  /** The bearer token. Default: `$AGENTSESSION_TOKEN`. Never appears in errors or logs. */
  token?: string | undefined;
  /** The fetch to send each attempt with. Default: `globalThis.fetch`. */
  fetch?: Fetch | undefined;
  /** Milliseconds each HTTP attempt may take (a timed-out attempt is retried). Default 60000; `null`: none. */
  timeout?: number | null | undefined;
  /** Milliseconds a whole call may take, retries and waits included. Default: none. */
  totalTimeout?: number | undefined;
  /** Retries after the first attempt (default 3, so 4 attempts). */
  maxRetries?: number | undefined;
  retry?: RetryOptions | undefined;
  /** Where log lines go (default `console`), and from which level (default `$AGENTSESSION_LOG`, else `warn`). */
  logger?: Logger | undefined;
  logLevel?: LogLevel | undefined;
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string> | undefined;
}

/** Options of one call. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-attempt timeout; `null`: none. */
  timeout?: number | null | undefined;
  totalTimeout?: number | undefined;
  maxRetries?: number | undefined;
  /**
   * The `Idempotency-Key` of a state-changing call. Default: a fresh random key
   * per call, reused by all its attempts. Pass your own to make a call safe to
   * repeat across process restarts; `null` sends none (the call is then never retried).
   */
  idempotencyKey?: string | null | undefined;
  /** Sent as `X-Request-Id` (up to 128 of A-Z a-z 0-9 . _ -); the server echoes it. */
  requestId?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** What the server said about a successful call. */
export interface ResponseInfo {
  status: number;
  headers: Headers;
  requestId: string | undefined;
  idempotencyKey: string | undefined;
  /** True when the server answered from its idempotency record (`Idempotent-Replayed: true`). */
  replayed: boolean;
  attempts: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One call, as the resources describe it. */
export interface CallSpec {
  method: Method;
  /** Path under the base URL, starting with `v1/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  /** A JSON body, or a FormData for uploads. */
  body?: unknown;
  headers?: Record<string, string> | undefined;
  options?: RequestOptions | undefined;
  /** The attempt timeout when the call's options do not set one (a synchronous turn has none). */
  attemptTimeout?: number | null | undefined;
}

/** An open event stream: read `response.body`, then `close()`. */
export interface OpenStream {
  response: Response;
  info: ResponseInfo;
  /** Aborts when the stream is closed or the caller's signal fires. */
  signal: AbortSignal;
  /** Drops the connection (if still open) and detaches the caller's signal. Idempotent. */
  close(): void;
}

const MAX_ERROR_BODY = 64 << 10;
// Reason phrases for answers that have none (HTTP/2, constructed Responses).
const statusTexts: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
const MAX_SNIPPET = 200;

// Stateless (never `stream: true`), so one decoder serves every call.
const utf8 = new TextDecoder();

/** The UTF-8 length of `s` in bytes (a lone surrogate counts as the 3 of U+FFFD). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    n += c < 0x800 ? 1 : 2;
    // A surrogate pair is two units and four bytes: its second unit adds nothing more.
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/**
 * The bytes a JSON body (read with `text()`, which decodes without copying
 * it) came in when they are fewer than its Content-Length: a cut body. Else
 * undefined. Each UTF-16 unit of the text came from at least one byte, so a
 * text at least as long as the declared length is whole without counting.
 * fetch decodes compressed bodies, so the length only compares when there
 * was no encoding; and the decoder drops a byte order mark (3 bytes), which
 * does not make a body that parses a cut one.
 */
function shortOf(res: Response, text: string): number | undefined {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (!(text.length < declared) || !Number.isFinite(declared) || res.headers.has('content-encoding')) return undefined;
  const received = utf8Length(text);
  if (received >= declared) return undefined;
  if (received + 3 === declared && parses(text)) return undefined;
  return received;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const browser = typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** The checks and normalization of a base URL; returns it with a trailing slash. */
export function normalizeBaseURL(raw: string | undefined): string {
  if (!raw) {
    throw new AgentSessionError('no base URL: pass baseURL or set AGENTSESSION_BASE_URL');
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AgentSessionError('invalid base URL: not an absolute URL');
  }
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AgentSessionError(`invalid base URL ${shown}: the scheme must be http or https`);
  }
  if (u.username || u.password) {
    throw new AgentSessionError('invalid base URL: it holds credentials; pass the token as `token`');
  }
  if (u.search || u.hash || raw.includes('?') || raw.includes('#')) {
    throw new AgentSessionError(`invalid base URL ${shown}: no query or fragment allowed`);
  }
  if (/\/v1\/?$/.test(u.pathname)) {
    throw new AgentSessionError(
      `invalid base URL ${shown}: drop the trailing /v1 (every path already starts with /v1), e.g. ${u.protocol}//${u.host}${u.pathname.replace(/\/v1\/?$/, '')}`,
    );
  }
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

export class APIClient {
  readonly baseURL: string;
  readonly timeout: number | null;
  readonly totalTimeout: number | undefined;
  readonly maxRetries: number;
  readonly retry: Required<Omit<RetryOptions, 'budget'>> & { budget: RetryBudget | null };
  readonly logLevel: LogLevel;
  #token: string;
  #fetch: Fetch;
  #logger: Logger;
  #authorization: string | undefined;
  #defaultHeaders: Record<string, string>;
  /** A test seam for the jitter. */
  protected random: () => number = Math.random;

  constructor(opts: ClientOptions = {}) {
    this.baseURL = normalizeBaseURL(opts.baseURL ?? readEnv('AGENTSESSION_BASE_URL'));
    const token = opts.token ?? readEnv('AGENTSESSION_TOKEN') ?? '';
    if (/[\s\0]/.test(token)) {
      throw new AgentSessionError('the token contains whitespace or a control character');
    }
    this.#token = token;
    this.#authorization = token ? `Bearer ${token}` : undefined;
    const f = opts.fetch ?? (globalThis as { fetch?: Fetch }).fetch;
    if (!f) throw new AgentSessionError('no fetch: pass `fetch` (this runtime has no global fetch)');
    this.#fetch = f;
    this.timeout = opts.timeout === undefined ? 60_000 : opts.timeout;
    this.totalTimeout = opts.totalTimeout;
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    for (const [name, v] of [
      ['timeout', this.timeout],
      ['totalTimeout', this.totalTimeout],
      ['maxRetries', this.maxRetries],
      ['retry.initialDelay', opts.retry?.initialDelay],
      ['retry.maxDelay', opts.retry?.maxDelay],
      ['retry.maxRetryAfter', opts.retry?.maxRetryAfter],
    ] as const) {
      if (v !== null && v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new AgentSessionError(`${name} must be a non-negative number, got ${String(v)}`);
      }
    }
    this.retry = {
      initialDelay: opts.retry?.initialDelay ?? DEFAULT_INITIAL_DELAY,
      maxDelay: opts.retry?.maxDelay ?? DEFAULT_MAX_DELAY,
      maxRetryAfter: opts.retry?.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER,
      budget: opts.retry?.budget === undefined ? new RetryBudget() : opts.retry.budget,
    };
    this.#logger = opts.logger ?? console;
    const envLevel = readEnv('AGENTSESSION_LOG');
    this.logLevel = opts.logLevel ?? (envLevel && envLevel in levels ? (envLevel as LogLevel) : 'warn');
    this.#defaultHeaders = { ...opts.defaultHeaders };
  }

  /** Replaces every occurrence of the token in text the server sent back. */
  redact(s: string): string {
    return this.#token && s.includes(this.#token) ? s.replaceAll(this.#token, '[REDACTED]') : s;
  }

  /** Whether lines of `level` are logged: checked before a line is built, so a quiet client builds none. */
  protected logs(level: Exclude<LogLevel, 'off'>): boolean {
    return levels[level] <= levels[this.logLevel];
  }

  protected log(level: Exclude<LogLevel, 'off'>, message: string, details: Record<string, unknown>): void {
    if (!this.logs(level)) return;
    // Details hold method, path, status, attempts and server strings already redacted: never a header.
    this.#logger[level](this.redact(message), details);
  }

  /** Sends a JSON call and returns the decoded 2xx answer. */
  request<T>(spec: CallSpec): Promise<{ data: T; info: ResponseInfo }> {
    return this.#send(spec, false) as Promise<{ data: T; info: ResponseInfo }>;
  }

  /** Opens an event stream (`Accept: text/event-stream`); the attempt timeout covers the headers only. */
  async open(spec: CallSpec): Promise<OpenStream> {
    const r = await this.#send(spec, true);
    return r.stream as OpenStream;
  }

  #url(path: string, query: CallSpec['query']): string {
    let url = this.baseURL + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
      const s = q.toString();
      if (s) url += `?${s}`;
    }
    return url;
  }

  async #send(spec: CallSpec, stream: boolean): Promise<{ data?: unknown; info: ResponseInfo; stream?: OpenStream }> {
    const opts = spec.options ?? {};
    const { method } = spec;
    const url = this.#url(spec.path, spec.query);
    const where = { method, url: this.baseURL + spec.path };
    const stateChanging = method === 'POST' || method === 'PATCH';
    const key = opts.idempotencyKey === null ? undefined : (opts.idempotencyKey ?? (stateChanging ? uuid() : undefined));
    const retryable = isIdempotentMethod(method) || key !== undefined;
    const maxRetries = opts.maxRetries ?? this.maxRetries;
    const attemptTimeout =
      opts.timeout !== undefined ? opts.timeout : spec.attemptTimeout !== undefined ? spec.attemptTimeout : this.timeout;
    const total = opts.totalTimeout ?? this.totalTimeout;
    const deadline = total !== undefined ? Date.now() + total : undefined;
    const signal = opts.signal;
    const started = this.logs('debug') ? Date.now() : 0; // only a debug line shows the duration

    const headers: Record<string, string> = {
      Accept: stream ? 'text/event-stream' : 'application/json',
      ...this.#defaultHeaders,
    };
    if (!browser) headers['User-Agent'] = `agentsession-ts/${VERSION}`;
    if (this.#authorization) headers['Authorization'] = this.#authorization;
    let body: string | FormData | undefined;
    if (spec.body instanceof FormData) body = spec.body;
    else if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['Content-Type'] = 'application/json';
    }
    if (key !== undefined) headers['Idempotency-Key'] = key;
    if (opts.requestId) headers['X-Request-Id'] = opts.requestId;
    Object.assign(headers, spec.headers, opts.headers);

    const aborted = (): AbortError =>
      new AbortError(`${method} ${where.url}: aborted`, signal?.reason === undefined ? undefined : { cause: signal.reason });
    const budget = this.retry.budget;
    let lastCost = 0;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw aborted();
      if (deadline !== undefined && Date.now() >= deadline) throw this.#deadlineError(where, attempt - 1, key, total, lastError);

      // Each attempt has its own controller when something may abort it.
      let controller: AbortController | undefined;
      let why: 'caller' | 'timeout' | 'deadline' | undefined;
      let attemptTimer: ReturnType<typeof setTimeout> | undefined;
      let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
      const onCallerAbort = (): void => {
        why ??= 'caller';
        controller?.abort();
      };
      const detach = (): void => {
        clearTimeout(attemptTimer);
        clearTimeout(deadlineTimer);
        signal?.removeEventListener('abort', onCallerAbort);
      };
      if (signal || attemptTimeout || deadline !== undefined || stream) {
        controller = new AbortController();
        signal?.addEventListener('abort', onCallerAbort, { once: true });
        if (attemptTimeout) {
          attemptTimer = setTimeout(() => {
            why ??= 'timeout';
            controller?.abort();
          }, attemptTimeout);
        }
        if (deadline !== undefined) {
          deadlineTimer = setTimeout(() => {
            why ??= 'deadline';
            controller?.abort();
          }, deadline - Date.now());
        }
      }
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      if (controller) init.signal = controller.signal;

      // failure: an attempt that may be retried; its error is thrown when it is not.
      let failure: { error: AgentSessionError; retry: boolean; timeout: boolean; delay?: number | undefined };
      let res: Response;
      try {
        res = await this.#fetch(url, init);
      } catch (err) {
        detach();
        if (why === 'caller' || signal?.aborted) throw aborted();
        if (why === 'deadline') throw this.#deadlineError(where, attempt, key, total, lastError ?? err);
        failure = this.#networkFailure(where, attempt, key, err, why === 'timeout', attemptTimeout, retryable);
        lastError = failure.error;
        const next = await this.#retryWait(failure, attempt, maxRetries, deadline, signal, aborted, where, key, total);
        if (next === undefined) throw failure.error;
        lastCost = next;
        continue;
      }

      const info: ResponseInfo = {
        status: res.status,
        headers: res.headers,
        requestId: this.#requestId(res.headers),
        idempotencyKey: key,
        replayed: res.headers.get('idempotent-replayed') === 'true',
        attempts: attempt,
      };
      if (res.ok && stream) {
        clearTimeout(attemptTimer); // the attempt timeout covers the headers only
        clearTimeout(deadlineTimer);
        budget?.succeeded(lastCost);
        this.#logCall(where, res.status, attempt, started, info.requestId);
        let closed = false;
        const c = controller as AbortController;
        return {
          info,
          stream: {
            response: res,
            info,
            signal: c.signal,
            close: () => {
              if (closed) return;
              closed = true;
              detach();
              c.abort();
            },
          },
        };
      }

      if (res.ok) {
        let text: string;
        try {
          text = await res.text();
        } catch (err) {
          detach();
          if (why === 'caller' || signal?.aborted) throw aborted();
          if (why === 'deadline') throw this.#deadlineError(where, attempt, key, total, lastError ?? err);
          failure = this.#cutBody(where, attempt, key, err, why === 'timeout', retryable, attemptTimeout);
          lastError = failure.error;
          const next = await this.#retryWait(failure, attempt, maxRetries, deadline, signal, aborted, where, key, total);
          if (next === undefined) throw failure.error;
          lastCost = next;
          continue;
        }
        detach();
        const received = shortOf(res, text);
        const short = received !== undefined;
        let data: unknown;
        let parseError: unknown;
        if (!short) {
          try {
            data = JSON.parse(text);
          } catch (err) {
            parseError = err;
          }
        }
        if (short || (parseError !== undefined && isCutJSON(text))) {
          const why = short
            ? `body cut after ${received} of ${res.headers.get('content-length')} bytes`
            : text === ''
              ? 'empty body'
              : `body cut after ${utf8Length(text)} bytes`;
          failure = this.#cutBody(where, attempt, key, new Error(why), false, retryable, attemptTimeout);
          lastError = failure.error;
          const next = await this.#retryWait(failure, attempt, maxRetries, deadline, signal, aborted, where, key, total);
          if (next === undefined) throw failure.error;
          lastCost = next;
          continue;
        }
        if (parseError !== undefined) {
          budget?.succeeded(lastCost);
          throw new UnexpectedResponseError(
            this.redact(`${method} ${where.url}: ${res.status} answer is not JSON: ${snippet(text)}`),
            { status: res.status, requestId: info.requestId, body: this.redact(text.slice(0, MAX_ERROR_BODY)), cause: this.safeCause(parseError) },
          );
        }
        budget?.succeeded(lastCost);
        this.#logCall(where, res.status, attempt, started, info.requestId);
        return { data, info };
      }

      // An error answer: read a bounded part of its body. One whose body was
      // cut lost its problem code (a BusyError would be a bare ConflictError):
      // it is asked again like a cut 2xx, which is safe for the same reason.
      const { text: errBody, cut } = await readBounded(res, MAX_ERROR_BODY);
      detach();
      if (signal?.aborted) throw aborted();
      const apiErr = this.#apiError(res, errBody, where, attempt, key);
      lastError = apiErr;
      const retryStatus = isRetryableStatus(res.status) && !isFinalProblem(res.headers.get('content-type'), apiErr.code);
      if (!(retryable && (retryStatus || cut))) {
        budget?.succeeded(lastCost);
        this.#logCall(where, res.status, attempt, started, apiErr.requestId);
        throw apiErr;
      }
      failure = { error: apiErr, retry: true, timeout: why === 'timeout', delay: retryStatus ? serverDelay(res.headers) : undefined };
      const next = await this.#retryWait(failure, attempt, maxRetries, deadline, signal, aborted, where, key, total);
      if (next === undefined) throw failure.error;
      lastCost = next;
    }
  }

  /** Waits before the next attempt; returns the retry's budget cost, or undefined when there is none to make. */
  async #retryWait(
    failure: { error: AgentSessionError; retry: boolean; timeout: boolean; delay?: number | undefined },
    attempt: number,
    maxRetries: number,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
    aborted: () => AbortError,
    where: { method: string; url: string },
    key: string | undefined,
    total: number | undefined,
  ): Promise<number | undefined> {
    if (!failure.retry || attempt > maxRetries) return undefined;
    const cost = this.retry.budget ? this.retry.budget.take(failure.timeout) : 0;
    if (this.retry.budget && cost === 0) {
      if (this.logs('warn')) this.log('warn', `${where.method} ${where.url}: not retried, the retry budget is spent`, {
        method: where.method,
        url: where.url,
        attempts: attempt,
        budget: this.retry.budget.available,
      });
      return undefined;
    }
    const wait =
      failure.delay !== undefined
        ? Math.min(failure.delay, this.retry.maxRetryAfter)
        : backoff(this.retry.initialDelay, this.retry.maxDelay, attempt - 1, this.random);
    if (deadline !== undefined && Date.now() + wait >= deadline) {
      // The deadline would pass before the next attempt: give up now, not after the wait.
      throw this.#deadlineError(where, attempt, key, total, failure.error);
    }
    const status = failure.error instanceof APIError ? failure.error.status : undefined;
    if (this.logs('info')) this.log('info', `${where.method} ${where.url}: retrying in ${Math.round(wait)} ms (attempt ${attempt + 1} of ${maxRetries + 1}) after ${status ?? failure.error.message}`, {
      method: where.method,
      url: where.url,
      status,
      attempt,
      waitMs: Math.round(wait),
      idempotencyKey: key,
    });
    await sleep(wait, signal, aborted);
    return cost;
  }

  #requestId(h: Headers): string | undefined {
    const id = h.get('x-request-id');
    return id ? this.redact(id) : undefined;
  }

  #logCall(where: { method: string; url: string }, status: number, attempts: number, started: number, requestId: string | undefined): void {
    if (!this.logs('debug')) return;
    this.log('debug', `${where.method} ${where.url}: ${status}`, {
      method: where.method,
      url: where.url,
      status,
      attempts,
      durationMs: Date.now() - started,
      requestId,
    });
  }

  #networkFailure(
    where: { method: string; url: string },
    attempts: number,
    key: string | undefined,
    err: unknown,
    timedOut: boolean,
    attemptTimeout: number | null,
    retryable: boolean,
  ): { error: TransportError; retry: boolean; timeout: boolean } {
    const cause = this.safeCause(err);
    if (timedOut) {
      const msg = `${where.method} ${where.url}: no answer within ${attemptTimeout} ms (${attempts} attempt${attempts > 1 ? 's' : ''})`;
      return { error: new TimeoutError(msg, { ...where, attempts, idempotencyKey: key, cause }), retry: retryable, timeout: true };
    }
    const msg = this.redact(`${where.method} ${where.url}: ${describe(err)} (${attempts} attempt${attempts > 1 ? 's' : ''})`);
    return {
      error: new TransportError(msg, { ...where, attempts, idempotencyKey: key, cause }),
      retry: retryable && isRetryableNetworkError(err),
      timeout: false,
    };
  }

  #cutBody(
    where: { method: string; url: string },
    attempts: number,
    key: string | undefined,
    err: unknown,
    timedOut: boolean,
    retryable: boolean,
    attemptTimeout: number | null,
  ): { error: TransportError; retry: boolean; timeout: boolean } {
    const cause = this.safeCause(err);
    const n = `${attempts} attempt${attempts > 1 ? 's' : ''}`;
    const msg = timedOut
      ? `${where.method} ${where.url}: the answer did not arrive within ${attemptTimeout} ms (${n})`
      : this.redact(`${where.method} ${where.url}: the answer was cut: ${describe(err)} (${n})`);
    const Cls = timedOut ? TimeoutError : TransportError;
    return { error: new Cls(msg, { ...where, attempts, idempotencyKey: key, cause }), retry: retryable, timeout: timedOut };
  }

  #deadlineError(
    where: { method: string; url: string },
    attempts: number,
    key: string | undefined,
    total: number | undefined,
    last: unknown,
  ): TimeoutError {
    const lastText = last instanceof Error ? `; last: ${last.message}` : '';
    return new TimeoutError(
      this.redact(`${where.method} ${where.url}: the call's totalTimeout of ${total} ms passed (${attempts} attempts)${lastText}`),
      { ...where, attempts, idempotencyKey: key, cause: last instanceof AgentSessionError ? last : this.safeCause(last) },
    );
  }

  /** The error itself unless its message holds the token; then a copy that does not. */
  safeCause(err: unknown): unknown {
    if (!this.#token || !(err instanceof Error)) return err;
    const text = `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`;
    if (!text.includes(this.#token)) return err;
    const copy = new Error(this.redact(err.message));
    copy.name = err.name;
    return copy;
  }

  #apiError(res: Response, text: string, where: { method: string; url: string }, attempts: number, key: string | undefined): APIError {
    const r = (s: unknown): string | undefined => (typeof s === 'string' ? this.redact(s) : undefined);
    let problem: Record<string, unknown> | undefined;
    if (text.trimStart().startsWith('{')) {
      try {
        const p: unknown = JSON.parse(text);
        if (p && typeof p === 'object' && !Array.isArray(p)) problem = p as Record<string, unknown>;
      } catch {
        // not a problem document: the raw body is kept below
      }
    }
    const fieldErrors: FieldError[] = Array.isArray(problem?.['errors'])
      ? (problem['errors'] as unknown[])
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
          .map((e) => ({ location: r(e['location']) ?? '', message: r(e['message']) ?? '' }))
      : [];
    const headers = new Headers();
    res.headers.forEach((v, k) => headers.set(k, this.redact(v)));
    const code = r(problem?.['code']);
    const title = r(problem?.['title']);
    const detail = r(problem?.['detail']);
    const requestId = this.#requestId(res.headers) ?? r(problem?.['request_id']);
    let retryAfter = serverDelay(res.headers);
    if (retryAfter !== undefined && !Number.isFinite(retryAfter)) retryAfter = Number.MAX_SAFE_INTEGER;
    const body = this.redact(text);
    const what = detail || title || (code ? '' : snippet(body));
    const message = [
      `${res.status} ${code ?? (res.statusText || statusTexts[res.status] || '')}`.trim(),
      what ? `: ${what}` : '',
      ` (${where.method} ${where.url}`,
      requestId ? `, request ${requestId}` : '',
      attempts > 1 ? `, ${attempts} attempts` : '',
      ')',
    ].join('');
    const Cls = apiErrorClass(res.status, code);
    return new Cls(
      {
        ...where,
        status: res.status,
        code,
        title,
        detail,
        type: r(problem?.['type']),
        instance: r(problem?.['instance']),
        fieldErrors,
        requestId,
        idempotencyKey: key,
        attempts,
        retryAfter,
        headers,
        body,
      },
      this.redact(message),
    );
  }
}

/**
 * The start of a body (at most `limit` bytes) and whether it was cut: the
 * read failed, fewer bytes came than its Content-Length, or its JSON breaks off.
 */
async function readBounded(res: Response, limit: number): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: '', cut: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let failed = false;
  try {
    while (size < limit) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      size += r.value.byteLength;
    }
  } catch {
    failed = true;
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, limit));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - off);
    all.set(part, off);
    off += part.length;
    if (off >= all.length) break;
  }
  const text = utf8.decode(all);
  if (failed) return { text, cut: true };
  if (size >= limit) return { text, cut: false }; // read no further on purpose
  // fetch decodes compressed bodies, so the length only compares when there was no encoding.
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (!res.headers.has('content-encoding') && Number.isFinite(declared) && size < declared) return { text, cut: true };
  const json = /[/+]json\b/.test(res.headers.get('content-type') ?? '');
  return { text, cut: json && text.trim() !== '' && isCutJSON(text) };
}

function snippet(body: string): string {
  if (body === '') return 'empty body';
  return `body ${JSON.stringify(body.length > MAX_SNIPPET ? body.slice(0, MAX_SNIPPET) : body)}${body.length > MAX_SNIPPET ? '...' : ''}`;
}

/** The error's message with its causes ("fetch failed: connect ECONNREFUSED ..."). */
function describe(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const m = e instanceof Error ? e.message : String(e);
    if (m && !parts.includes(m)) parts.push(m);
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ') || 'connection failed';
}

const permanentCodes = /CERT|TLS|SSL|ERR_INVALID_URL|ERR_INVALID_ARG|INVALID_HTTP_TOKEN|UND_ERR_INVALID_ARG|UND_ERR_NOT_SUPPORTED/;
const permanentTexts = /certificate|invalid url|failed to parse url|unsupported protocol|unknown scheme|invalid header/i;

/**
 * Whether a failure with no answer is worth retrying: connection refused or
 * reset, DNS, timeouts are; TLS and certificate errors and malformed requests
 * (which would fail again the same way) are not.
 */
export function isRetryableNetworkError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && permanentCodes.test(code)) return false;
    if (e instanceof Error && permanentTexts.test(e.message)) return false;
    e = (e as { cause?: unknown }).cause;
  }
  return true;
}
