// Turns: the synchronous result (TurnResult) and the resumable event stream
// (TurnStream).
import type { APIClient, OpenStream, RequestOptions, ResponseInfo } from './core.js';
import {
  AbortError,
  AgentSessionError,
  PermissionRequiredError,
  PermissionResolvedError,
  StreamIdleTimeoutError,
  StreamLostError,
  TransportError,
  UnexpectedResponseError,
} from './errors.js';
import type { components } from './generated/openapi.js';
import type { KeyedLock } from './internal/keyed-lock.js';
import { sleep, uuid } from './internal/util.js';
import { readSSE } from './sse.js';
import type {
  BusyPolicy,
  JSONObject,
  PermissionOption,
  PermissionRequest,
  Turn,
  TurnAccepted,
  TurnEvent,
  TurnSummary,
  TurnWaiting,
} from './types.js';

/** Options of one turn. */
export interface TurnOptions extends RequestOptions {
  /** File tokens from `files.upload()` to give the agent. */
  files?: string[] | undefined;
  /** Milliseconds after which the server ends the turn (`stop_reason: cancelled`, `cancelled_by: timeout`). */
  turnTimeout?: number | undefined;
  /**
   * What the server does while another turn runs: `reject` (a BusyError at
   * once), `enqueue` or `interrupt`. Without a policy the SDK keeps this
   * client's turns on the session in call order, one at a time; with one, the
   * turn is sent at once and the server decides.
   */
  busyPolicy?: BusyPolicy | undefined;
  /** The caller's correlation data, returned unchanged with the turn (`result.meta`, `history()`). */
  meta?: JSONObject | undefined;
  /**
   * Decides permission requests of a non-streamed turn: called with each
   * request the turn waits on, it returns the `option_id` to answer with.
   * Without it, a turn whose agent asks rejects with a PermissionRequiredError
   * (the turn goes on waiting on the server). Ignored by `turnStream()`, whose
   * events are answered with `event.answer()`.
   */
  onPermission?: PermissionHandler | undefined;
}

/** Chooses the answer to a permission request: returns one of `request.options`' `option_id`. */
export type PermissionHandler = (
  request: PermissionRequest,
  context: { turnIndex: number; signal: AbortSignal | undefined },
) => string | Promise<string>;

/**
 * A `permission_request` event as the streams yield it: the event's members,
 * and `answer(optionId)`, which answers it (`answerPermission`) and resolves
 * with the request's state. `answer` is not enumerable, so the event still
 * serializes as the server sent it. Reading on continues the same turn.
 */
export type PermissionRequestEvent = TurnEvent & {
  readonly type: 'permission_request';
  readonly request_id: string;
  readonly title: string;
  readonly options: PermissionOption[];
  answer(optionId: string, options?: RequestOptions): Promise<PermissionRequest>;
};

/** Whether a streamed event is a permission request that can be answered with `event.answer(optionId)`. */
export function isPermissionRequest(event: TurnEvent): event is PermissionRequestEvent {
  return event.type === 'permission_request' && typeof (event as { answer?: unknown }).answer === 'function';
}

/** Options of a streamed turn. */
export interface TurnStreamOptions extends Omit<TurnOptions, 'onPermission'> {
  /** Resumes in a row that bring no new event before the stream fails with StreamLostError (default 5; 0: never resume). */
  maxResumes?: number | undefined;
  /** Milliseconds without an event (keep-alives do not count) after which the stream fails with StreamIdleTimeoutError. */
  idleTimeout?: number | undefined;
}

export const DEFAULT_MAX_RESUMES = 5;

// The frame types of a turn stream, typed by the contract's frame schemas so
// that a renamed frame fails to compile.
type Frames = components['schemas'];
const TURN_ACCEPTED_FRAME: Frames['TurnAcceptedFrame']['event'] = 'turn.accepted';
const EVENT_FRAME: Frames['EventFrame']['event'] = 'message';
const TURN_COMPLETED_FRAME: Frames['TurnCompletedFrame']['event'] = 'turn.completed';

/** What a turn needs from the client: the request path and the per-session turn order. */
export interface TurnHost {
  readonly client: APIClient;
  readonly turnOrder: KeyedLock;
}

/** The wire body of a turn. */
export function turnBody(prompt: string, o: TurnOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { prompt };
  if (o.files?.length) body['files'] = o.files;
  if (o.turnTimeout !== undefined) body['timeout_ms'] = Math.ceil(o.turnTimeout);
  if (o.busyPolicy !== undefined) body['busy_policy'] = o.busyPolicy;
  if (o.meta !== undefined) body['meta'] = o.meta;
  return body;
}

/** Answers one permission request of a session. */
export async function answerPermission(
  host: TurnHost,
  sessionId: string,
  requestId: string,
  optionId: string,
  options?: RequestOptions,
): Promise<PermissionRequest> {
  const { data } = await host.client.request<PermissionRequest>({
    method: 'POST',
    path: `v1/sessions/${encodeURIComponent(sessionId)}/permissions/${encodeURIComponent(requestId)}`,
    body: { option_id: optionId },
    options,
  });
  return data;
}

/** Gives a streamed `permission_request` event its (not enumerable) `answer` method. */
export function answerableEvent(host: TurnHost, sessionId: string, ev: TurnEvent): void {
  const id = ev.request_id;
  if (typeof id !== 'string') return;
  Object.defineProperty(ev, 'answer', {
    value: (optionId: string, options?: RequestOptions) => answerPermission(host, sessionId, id, optionId, options),
    enumerable: false,
  });
}

/** The request a `permission_request` event describes, as `listPermissions` would show it while pending. */
function requestOf(sessionId: string, ev: TurnEvent): PermissionRequest {
  const r: PermissionRequest = {
    request_id: ev.request_id ?? '',
    session_id: sessionId,
    turn_index: ev.turn_index,
    title: ev.title ?? '',
    options: ev.options ?? [],
    status: 'pending',
    created_at: ev.created_at,
  };
  if (ev.tool_call_id !== undefined) r.tool_call_id = ev.tool_call_id;
  return r;
}

// The `raw` of an event that came without its JSON text (a whole turn's
// answer, a page of the event log): one getter shared by all of them, which
// serializes the event when first asked and remembers the text.
const rawTexts = new WeakMap<object, string>();
const lazyRaw: PropertyDescriptor = {
  get(this: object): string {
    let text = rawTexts.get(this);
    if (text === undefined) {
      text = JSON.stringify(this);
      rawTexts.set(this, text);
    }
    return text;
  },
  enumerable: false,
};

/** Gives an event its `raw` JSON text (not enumerable; computed on demand when not given). */
export function asEvent(obj: Record<string, unknown>, raw?: string): TurnEvent {
  if (raw !== undefined) {
    Object.defineProperty(obj, 'raw', { value: raw, enumerable: false });
  } else if (!Object.hasOwn(obj, 'raw')) {
    Object.defineProperty(obj, 'raw', lazyRaw);
  }
  return obj as unknown as TurnEvent;
}

/** A finished turn: the summary's members (known or not), its events, and `text()`. */
export interface TurnResult extends TurnSummary {}
export class TurnResult {
  declare readonly events: TurnEvent[];
  readonly #response: ResponseInfo | undefined;

  constructor(data: Record<string, unknown>, response?: ResponseInfo) {
    this.#response = response;
    // Plain stores, no defineProperty: this runs once per turn. A member named
    // `response` would hit the getter below (Object.assign throws on it): the
    // HTTP answer keeps that name, as it always did.
    if (Object.hasOwn(data, 'response')) {
      const { response: _, ...rest } = data;
      data = rest;
    }
    Object.assign(this, data);
    const given = data['events'];
    const events: TurnEvent[] = [];
    if (Array.isArray(given)) {
      for (const e of given as Record<string, unknown>[]) events.push(asEvent(e));
    }
    (this as { events: TurnEvent[] }).events = events;
  }

  /** The HTTP answer (request id, idempotency key, attempts, replayed); not enumerable. */
  get response(): ResponseInfo | undefined {
    return this.#response;
  }

  /** The `content` of the `text` events, in order. */
  text(): string {
    let s = '';
    for (const e of this.events) if (e.type === 'text' && typeof e.content === 'string') s += e.content;
    return s;
  }
}

/** Runs a synchronous turn. */
export async function runTurn(
  host: TurnHost,
  sessionId: string,
  prompt: string,
  o: TurnOptions,
  path = `v1/sessions/${encodeURIComponent(sessionId)}/turns`,
): Promise<TurnResult> {
  const { client } = host;
  // Join the session's queue before anything is awaited, so call order is send
  // order; with no other turn in flight the lock is taken without waiting.
  let release: (() => void) | undefined;
  if (!o.busyPolicy) {
    if (o.signal?.aborted) throw abortedError(o.signal, 'the turn was aborted')();
    release = host.turnOrder.tryAcquire(sessionId);
    release ??= await host.turnOrder.acquire(sessionId, o.signal, abortedError(o.signal, 'the turn was aborted'));
  }
  try {
    // The server answers when the turn ends: only a turn with its own timeout bounds the attempt.
    const attemptTimeout = client.timeout && o.turnTimeout ? o.turnTimeout + client.timeout : null;
    const { data, info } = await client.request<Record<string, unknown>>({
      method: 'POST',
      path,
      body: turnBody(prompt, o),
      options: o,
      attemptTimeout,
    });
    if (info.status !== 202) return new TurnResult(data, info);
    // 202: the turn waits for an answer to a permission request.
    const waiting = data as unknown as TurnWaiting;
    if (!o.onPermission) throw permissionRequired(sessionId, waiting);
    return await followTurn(host, sessionId, waiting.turn_index, { onPermission: o.onPermission, signal: o.signal, pending: waiting.permission_requests, info });
  } finally {
    release?.();
  }
}

function permissionRequired(sessionId: string, w: TurnWaiting): PermissionRequiredError {
  const requests = Array.isArray(w.permission_requests) ? w.permission_requests : [];
  const list = requests.map((r) => `${r.request_id}: ${JSON.stringify(r.title)}`).join(', ');
  return new PermissionRequiredError(
    `turn ${w.turn_index} waits for an answer to ${requests.length} permission request${requests.length === 1 ? '' : 's'} (${list}): ` +
      `pass onPermission, or answer with session.answerPermission() and read the result with session.waitTurn(${w.turn_index})`,
    { sessionId, waiting: w },
  );
}

/** Options of `session.waitTurn()`. */
export interface WaitTurnOptions extends RequestOptions {
  /** Answers the turn's permission requests (pending now or asked later); without it the wait lasts until someone answers them. */
  onPermission?: PermissionHandler | undefined;
}

/**
 * Follows a turn to its end and returns its result, answering its permission
 * requests with `onPermission` when given: those of `pending` first (a 202's),
 * then any the turn's events show unanswered, then each new one the stream
 * brings. The turn's events so far come from `getTurn`; the rest from
 * `streamTurn` after the newest of them (resumed like any turn stream).
 */
export async function followTurn(
  host: TurnHost,
  sessionId: string,
  turnIndex: number,
  o: { onPermission?: PermissionHandler | undefined; signal?: AbortSignal | undefined; pending?: PermissionRequest[]; info?: ResponseInfo },
): Promise<TurnResult> {
  const handler = o.onPermission;
  const signal = o.signal;
  const done = new Set<string>(); // answered by this call, or seen answered
  const decide = async (r: PermissionRequest): Promise<void> => {
    if (!handler || done.has(r.request_id)) return;
    done.add(r.request_id);
    const optionId = await handler(r, { turnIndex, signal });
    if (typeof optionId !== 'string') {
      throw new AgentSessionError(`onPermission returned ${typeof optionId} for ${r.request_id}, not an option_id`);
    }
    try {
      await answerPermission(host, sessionId, r.request_id, optionId, { signal });
    } catch (err) {
      // Cancelled meanwhile (the turn ended) or answered by someone else: the turn's own events say what followed.
      if (!(err instanceof PermissionResolvedError)) throw err;
    }
  };
  for (const r of o.pending ?? []) await decide(r);
  const { data: turn } = await host.client.request<Turn>({
    method: 'GET',
    path: `v1/sessions/${encodeURIComponent(sessionId)}/turns/${turnIndex}`,
    options: { signal },
  });
  const prefix = (turn.events ?? []).map((e) => asEvent(e as unknown as Record<string, unknown>));
  for (const e of prefix) if (e.type === 'permission_response' && e.request_id) done.add(e.request_id);
  for (const e of prefix) if (e.type === 'permission_request' && e.request_id) await decide(requestOf(sessionId, e));
  const lastSeq = prefix.reduce((m, e) => Math.max(m, e.seq), 0);
  const stream = new TurnStream(host, sessionId, '', { signal }, { turnIndex, events: prefix, lastSeq, info: o.info });
  for await (const e of stream) {
    if (e.type === 'permission_response' && e.request_id) done.add(e.request_id);
    else if (e.type === 'permission_request' && e.request_id) await decide(requestOf(sessionId, e));
  }
  return stream.result();
}

export function abortedError(signal: AbortSignal | undefined, what: string): () => AbortError {
  return () => new AbortError(what, signal?.reason === undefined ? undefined : { cause: signal.reason });
}

/** The first resume goes at once; the next ones back off (100 ms doubling, at most 2 s). */
export function resumeDelay(failures: number): number {
  return failures <= 1 ? 0 : Math.min(100 * 2 ** (failures - 2), 2_000);
}

/** What `reopen` needs of the stream it reopens. */
export interface Reopening<C> {
  /** Failed attempts since the stream last made progress. */
  failures: number;
  maxResumes: number;
  /** Why the connection ended. */
  dropped: unknown;
  signal: AbortSignal | undefined;
  aborted: () => AbortError;
  open: () => Promise<C>;
  /** Called before each attempt (the stream counts its resumes). */
  attempt: () => void;
  /** The error once maxResumes attempts in a row brought nothing. */
  lost: (dropped: unknown) => Error;
}

/**
 * Reopens a dropped stream, the one resume loop of the turn and session
 * streams: attempt n waits resumeDelay(n); a TransportError is one more
 * failed attempt, any other error is thrown. Returns the new connection and
 * the failure count it took.
 */
export async function reopen<C>(o: Reopening<C>): Promise<{ conn: C; failures: number }> {
  let { failures, dropped } = o;
  for (;;) {
    failures++;
    if (failures > o.maxResumes) throw o.lost(dropped);
    await sleep(resumeDelay(failures), o.signal, o.aborted);
    o.attempt();
    try {
      return { conn: await o.open(), failures };
    } catch (err) {
      if (!(err instanceof TransportError) || o.signal?.aborted) throw err;
      dropped = err;
    }
  }
}

/**
 * A streamed turn: iterate it to get each event as the agent produces it,
 * then `result()` for the finished turn. Nothing is sent before the
 * iteration (or `result()`) starts, and it can be iterated once.
 *
 * A dropped connection is resumed after the last event seen (`streamTurn`
 * with `Last-Event-ID`, or the same `sendTurn` with its idempotency key while
 * the turn index is not known yet), so every event is yielded exactly once,
 * in `seq` order. Leaving the loop early stops listening; the turn goes on
 * on the server unless it is cancelled.
 */
export class TurnStream implements AsyncIterable<TurnEvent> {
  readonly #host: TurnHost;
  readonly #sessionId: string;
  readonly #prompt: string;
  readonly #opts: TurnStreamOptions;
  readonly #key: string;
  #started = false;
  #turnIndex: number | undefined;
  #accepted: TurnAccepted | undefined;
  #lastSeq = 0;
  #resumes = 0;
  #sawSeqless = false;
  #events: TurnEvent[] = [];
  #info: ResponseInfo | undefined;
  #result: TurnResult | undefined;
  #settle!: { resolve: (r: TurnResult) => void; reject: (e: unknown) => void };
  readonly #finished: Promise<TurnResult>;
  /** Following a turn already sent (`waitTurn`): no sendTurn, no turn order; the events so far are given. */
  readonly #follow: boolean;
  /** Permission requests yielded and not answered yet: the agent is quiet on purpose, so the idle timer waits. */
  readonly #asking = new Set<string>();

  /** @internal `follow` is the SDK's own use (`waitTurn`): a turn already sent, with its events so far. */
  constructor(
    host: TurnHost,
    sessionId: string,
    prompt: string,
    opts: TurnStreamOptions,
    follow?: { turnIndex: number; events: TurnEvent[]; lastSeq: number; info?: ResponseInfo | undefined },
  ) {
    this.#host = host;
    this.#sessionId = sessionId;
    this.#prompt = prompt;
    this.#opts = opts;
    this.#follow = follow !== undefined;
    if (follow) {
      this.#turnIndex = follow.turnIndex;
      this.#events = [...follow.events];
      this.#lastSeq = follow.lastSeq;
      this.#info = follow.info;
    }
    this.#key = opts.idempotencyKey || uuid(); // a stream always has one: its resumes depend on it
    this.#finished = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#finished.catch(() => {}); // rejections reach whoever calls result(); nobody else must see them
  }

  /** The turn's index once the server named it. */
  get turnIndex(): number | undefined {
    return this.#turnIndex;
  }
  /** The `turn.accepted` frame (`status` says running or queued). */
  get accepted(): TurnAccepted | undefined {
    return this.#accepted;
  }
  /** How many times the stream was resumed after a drop. */
  get resumes(): number {
    return this.#resumes;
  }
  /** The idempotency key every request of this turn carries. */
  get idempotencyKey(): string {
    return this.#key;
  }

  [Symbol.asyncIterator](): AsyncGenerator<TurnEvent, void, undefined> {
    if (this.#started) throw new AgentSessionError('a TurnStream can be iterated only once');
    this.#started = true;
    return this.#run();
  }

  /**
   * The finished turn, as `turn()` returns it. Called before iterating, it
   * reads the whole stream. Rejects with the stream's error, or when the loop
   * over the events stopped before the turn ended.
   */
  async result(): Promise<TurnResult> {
    if (!this.#started) {
      for await (const _ of this) {
        // read to the end
      }
    }
    return this.#finished;
  }

  async *#run(): AsyncGenerator<TurnEvent, void, undefined> {
    const o = this.#opts;
    const signal = o.signal;
    const aborted = abortedError(signal, 'the turn stream was aborted');
    const maxResumes = o.maxResumes ?? DEFAULT_MAX_RESUMES;
    let release: (() => void) | undefined;
    let conn: OpenStream | undefined;
    let outcome: 'done' | 'failed' | undefined;
    try {
      if (!o.busyPolicy && !this.#follow) release = await this.#host.turnOrder.acquire(this.#sessionId, signal, aborted);
      conn = await this.#open(true);
      let failures = 0;
      for (;;) {
        const it = this.#read(conn);
        let progressed = false;
        let dropped: unknown;
        try {
          for (;;) {
            const r = await it.next();
            if (r.done) break;
            if (r.value.progress) progressed = true;
            yield r.value.event;
          }
        } catch (err) {
          if (signal?.aborted) throw aborted();
          if (!(err instanceof Error) || err instanceof AgentSessionError) throw err;
          dropped = err; // a read error: the connection dropped
        } finally {
          await it.return(undefined);
          conn.close();
        }
        if (this.#result) {
          outcome = 'done';
          this.#settle.resolve(this.#result);
          return;
        }
        dropped ??= new Error('the stream ended before turn.completed');
        if (progressed) failures = 0;
        ({ conn, failures } = await reopen({
          failures,
          maxResumes,
          dropped,
          signal,
          aborted,
          open: () => this.#open(false),
          attempt: () => this.#resumes++,
          lost: (last) => {
            const why = this.#sawSeqless
              ? "the server's events carry no seq (SSE id), so a resume cannot tell new events from replayed ones"
              : `${maxResumes} resume${maxResumes === 1 ? '' : 's'} in a row brought no new event`;
            return new StreamLostError(
              `turn stream lost (turn ${this.#turnIndex ?? '?'}, after event ${this.#lastSeq}, ${this.#resumes} resumes): ${why}; last: ${messageOf(last)}`,
              { turnIndex: this.#turnIndex, lastSeq: this.#lastSeq, resumes: this.#resumes, cause: last },
            );
          },
        }));
      }
    } catch (err) {
      outcome = 'failed';
      this.#settle.reject(err);
      throw err;
    } finally {
      conn?.close();
      release?.();
      if (outcome === undefined) {
        this.#settle.reject(new AgentSessionError('the turn stream was not read to its end'));
      }
    }
  }

  /** Starts the turn (first), or resumes it after the last event seen. */
  #open(first: boolean): Promise<OpenStream> {
    const { client } = this.#host;
    const base = `v1/sessions/${encodeURIComponent(this.#sessionId)}`;
    const options: RequestOptions = { ...this.#opts, idempotencyKey: this.#key };
    if ((!first || this.#follow) && this.#turnIndex !== undefined) {
      return client.open({
        method: 'GET',
        path: `${base}/turns/${this.#turnIndex}/stream`,
        headers: { 'Last-Event-ID': String(this.#lastSeq) },
        options: { ...options, idempotencyKey: undefined },
      });
    }
    return client
      .open({
        method: 'POST',
        path: `${base}/turns`,
        body: turnBody(this.#prompt, this.#opts),
        headers: first ? undefined : { 'Last-Event-ID': String(this.#lastSeq) },
        options,
      })
      .then((s) => {
        if (first) this.#info = s.info;
        return s;
      });
  }

  /** Reads one connection; yields the events not seen before; sets #result when the turn completes. */
  async *#read(conn: OpenStream): AsyncGenerator<{ event: TurnEvent; progress: boolean }, void, undefined> {
    const res = conn.response;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
      // A server that does not stream answers with the whole turn.
      const data = (await res.json()) as Record<string, unknown>;
      const whole = new TurnResult(data);
      for (const ev of whole.events) {
        const a = this.#accept(ev, undefined);
        if (a) yield a;
      }
      yield* this.#complete(data);
      return;
    }
    if (!res.body) throw new Error('the event stream has no body');
    const idleMs = this.#opts.idleTimeout;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idleFired = false;
    const arm = (): void => {
      if (!idleMs) return;
      clearTimeout(idleTimer);
      if (this.#asking.size > 0) return; // waiting for a person's answer is not a stall
      idleTimer = setTimeout(() => {
        idleFired = true;
        conn.close();
      }, idleMs);
    };
    arm();
    try {
      // The contract's "Stream framing": `turn.accepted` first, one unnamed
      // (`message`) frame per event whose `id` is its seq, `turn.completed` last;
      // comments are keep-alives, and frames of any other type are skipped.
      for await (const f of readSSE(res.body, conn.signal)) {
        const frame: string = f.event === '' ? EVENT_FRAME : f.event; // no `event:` line is SSE's `message`
        switch (frame) {
          case TURN_ACCEPTED_FRAME: {
            const a = this.#parse(f.data, TURN_ACCEPTED_FRAME) as TurnAccepted;
            this.#accepted = a;
            if (typeof a.turn_index === 'number') this.#turnIndex = a.turn_index;
            break;
          }
          case EVENT_FRAME: {
            if (f.data === '') break;
            const obj = this.#parse(f.data, 'event');
            const idSeq = f.id !== undefined && /^\d+$/.test(f.id) ? Number(f.id) : undefined;
            const a = this.#accept(asEvent(obj, f.data), idSeq);
            arm(); // after #accept: a permission request just taken holds the timer
            if (a) yield a;
            break;
          }
          case TURN_COMPLETED_FRAME: {
            yield* this.#complete(this.#parse(f.data, TURN_COMPLETED_FRAME));
            return;
          }
          default:
          // a frame type this SDK does not know: skipped
        }
      }
    } catch (err) {
      if (idleFired) {
        throw new StreamIdleTimeoutError(
          `no event within ${idleMs} ms (turn ${this.#turnIndex ?? '?'}, after event ${this.#lastSeq})`,
          { cause: err },
        );
      }
      throw err;
    } finally {
      clearTimeout(idleTimer);
    }
  }

  #parse(data: string, frame: string): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(data);
    } catch (err) {
      throw this.#protocolError(`bad ${frame} frame: ${messageOf(err)}`, data, err);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw this.#protocolError(`bad ${frame} frame: not an object`, data);
    return v as Record<string, unknown>;
  }

  #protocolError(message: string, data: string, cause?: unknown): UnexpectedResponseError {
    const r = (s: string): string => this.#host.client.redact(s);
    return new UnexpectedResponseError(r(message), {
      status: 200,
      requestId: this.#info?.requestId,
      body: r(data.slice(0, 4096)),
      cause: this.#host.client.safeCause(cause),
    });
  }

  /** Takes an event unless it was seen already; returns what to yield. */
  #accept(ev: TurnEvent, idSeq: number | undefined): { event: TurnEvent; progress: boolean } | undefined {
    const seq = typeof ev.seq === 'number' ? ev.seq : idSeq;
    if (this.#turnIndex === undefined && typeof ev.turn_index === 'number') this.#turnIndex = ev.turn_index;
    if (seq === undefined) {
      // Without a seq a replayed event cannot be told from a new one: such
      // events are taken on the first connection only, and never count as progress.
      this.#sawSeqless = true;
      if (this.#resumes > 0) return undefined;
      this.#events.push(ev);
      this.#permission(ev);
      return { event: ev, progress: false };
    }
    if (seq <= this.#lastSeq) return undefined; // replayed after a resume: already yielded
    this.#lastSeq = seq;
    this.#events.push(ev);
    this.#permission(ev);
    return { event: ev, progress: true };
  }

  /** A request becomes answerable, and holds the idle timer until its response arrives. */
  #permission(ev: TurnEvent): void {
    if (ev.type === 'permission_request' && typeof ev.request_id === 'string') {
      answerableEvent(this.#host, this.#sessionId, ev);
      this.#asking.add(ev.request_id);
    } else if (ev.type === 'permission_response' && typeof ev.request_id === 'string') {
      this.#asking.delete(ev.request_id);
    }
  }

  /** Ends the turn. Events the summary counts but the stream skipped are read from the event log first. */
  async *#complete(summary: Record<string, unknown>): AsyncGenerator<{ event: TurnEvent; progress: boolean }, void, undefined> {
    const s = summary as Partial<TurnSummary>;
    if (typeof s.turn_index === 'number') this.#turnIndex = s.turn_index;
    if (typeof s.last_seq === 'number' && s.last_seq > this.#lastSeq && this.#turnIndex !== undefined) {
      const after = Math.max(this.#lastSeq, typeof s.first_seq === 'number' ? s.first_seq - 1 : 0);
      try {
        for await (const ev of this.#eventLog(after)) {
          const a = this.#accept(ev, undefined);
          if (a) yield a;
        }
      } catch (err) {
        if (err instanceof AbortError) throw err;
        // The summary still ends the turn; the gap stays visible in the seqs.
      }
    }
    const rest = { ...summary };
    delete rest['events'];
    this.#result = new TurnResult({ ...rest, events: this.#events }, this.#info);
  }

  async *#eventLog(after: number): AsyncGenerator<TurnEvent> {
    const { client } = this.#host;
    let cursor: string | undefined;
    for (;;) {
      const { data } = await client.request<{ items: Record<string, unknown>[]; next_cursor?: string }>({
        method: 'GET',
        path: `v1/sessions/${encodeURIComponent(this.#sessionId)}/events`,
        query: { after, turn_index: this.#turnIndex, limit: 100, cursor },
        options: { signal: this.#opts.signal },
      });
      for (const e of data.items) yield asEvent(e);
      if (!data.next_cursor) return;
      cursor = data.next_cursor;
    }
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const c = (err as { cause?: unknown }).cause;
    return c instanceof Error && c.message !== err.message ? `${err.message}: ${c.message}` : err.message;
  }
  return String(err);
}
