// The session-wide stream (streamSession): every turn event and lifecycle
// event of a session, across turns, until the session ends; resumed after a
// dropped connection with Last-Event-ID `<seq>.<lifecycle_seq>`, so every
// frame is yielded exactly once.
import type { OpenStream, RequestOptions } from './core.js';
import { AgentSessionError, StreamLostError, UnexpectedResponseError } from './errors.js';
import type { components } from './generated/openapi.js';
import { readSSE } from './sse.js';
import { abortedError, answerableEvent, asEvent, DEFAULT_MAX_RESUMES, messageOf, reopen, type TurnHost } from './turn.js';
import type { LifecycleEvent, SessionInfo, TurnEvent } from './types.js';

/** What the session-wide stream yields: a turn event, a lifecycle event, and last, once, the ended session. */
export type SessionStreamItem =
  /** A turn event (a `permission_request` one can be answered: `isPermissionRequest(item.event)`). */
  | { type: 'event'; event: TurnEvent; position: string }
  /** A lifecycle event: a turn queued, started or ended, a status change, a handoff, a child spawned. */
  | { type: 'lifecycle'; lifecycle: LifecycleEvent; position: string }
  /** The last item: the session has ended; the stream is over. */
  | { type: 'ended'; session: SessionInfo };

/** Options of `session.stream()`. */
export interface SessionStreamOptions extends Omit<RequestOptions, 'idempotencyKey' | 'totalTimeout'> {
  /**
   * Start after this position, `<seq>.<lifecycle_seq>` (an item's `position`,
   * or `stream.position` of an earlier stream). Default `0.0`, the beginning.
   */
  after?: string | undefined;
  /** Resumes in a row that bring no new frame before the stream fails with StreamLostError (default 5; 0: never resume). */
  maxResumes?: number | undefined;
}

type Frames = components['schemas'];
const EVENT_FRAME: Frames['SessionEventFrame']['event'] = 'message';
const LIFECYCLE_FRAME: Frames['SessionLifecycleFrame']['event'] = 'session.lifecycle';
const ENDED_FRAME: Frames['SessionEndedFrame']['event'] = 'session.ended';
const POSITION = /^([0-9]{1,15})\.([0-9]{1,15})$/;

/**
 * A session's events and lifecycle events as they happen, across turns, until
 * the session ends: `for await (const item of session.stream())`. Nothing is
 * sent before the loop starts; it can be iterated once. Leaving the loop
 * early closes the connection.
 */
export class SessionStream implements AsyncIterable<SessionStreamItem> {
  readonly #host: TurnHost;
  readonly #sessionId: string;
  readonly #opts: SessionStreamOptions;
  #started = false;
  #seq: number;
  #lifecycleSeq: number;
  #resumes = 0;
  #session: SessionInfo | undefined;
  #requestId: string | undefined;

  constructor(host: TurnHost, sessionId: string, opts: SessionStreamOptions = {}) {
    this.#host = host;
    this.#sessionId = sessionId;
    this.#opts = opts;
    const m = POSITION.exec(opts.after ?? '0.0');
    if (!m) throw new AgentSessionError(`after must be a position <seq>.<lifecycle_seq> (e.g. "41.7"), got ${JSON.stringify(opts.after)}`);
    this.#seq = Number(m[1]);
    this.#lifecycleSeq = Number(m[2]);
  }

  /** The position after the last frame yielded: pass it as `after` to go on from there later. */
  get position(): string {
    return `${this.#seq}.${this.#lifecycleSeq}`;
  }
  /** How many times the stream was resumed after a drop. */
  get resumes(): number {
    return this.#resumes;
  }
  /** The ended session, once the stream is over. */
  get session(): SessionInfo | undefined {
    return this.#session;
  }

  [Symbol.asyncIterator](): AsyncGenerator<SessionStreamItem, void, undefined> {
    if (this.#started) throw new AgentSessionError('a SessionStream can be iterated only once');
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<SessionStreamItem, void, undefined> {
    const signal = this.#opts.signal;
    const aborted = abortedError(signal, 'the session stream was aborted');
    const maxResumes = this.#opts.maxResumes ?? DEFAULT_MAX_RESUMES;
    let conn: OpenStream | undefined;
    try {
      conn = await this.#open();
      let failures = 0;
      for (;;) {
        let progressed = false;
        let dropped: unknown;
        const it = this.#read(conn);
        try {
          for (;;) {
            const r = await it.next();
            if (r.done) break;
            progressed = true;
            yield r.value;
          }
        } catch (err) {
          if (signal?.aborted) throw aborted();
          if (!(err instanceof Error) || err instanceof AgentSessionError) throw err;
          dropped = err; // a read error: the connection dropped
        } finally {
          await it.return(undefined);
          conn.close();
        }
        if (this.#session) return;
        dropped ??= new Error('the stream ended before session.ended');
        if (progressed) failures = 0;
        ({ conn, failures } = await reopen({
          failures,
          maxResumes,
          dropped,
          signal,
          aborted,
          open: () => this.#open(),
          attempt: () => this.#resumes++,
          lost: (last) =>
            new StreamLostError(
              `session stream lost (${this.#sessionId}, after ${this.position}, ${this.#resumes} resumes): ` +
                `${maxResumes} resume${maxResumes === 1 ? '' : 's'} in a row brought no new frame; last: ${messageOf(last)}`,
              { turnIndex: undefined, lastSeq: this.#seq, resumes: this.#resumes, cause: last },
            ),
        }));
      }
    } finally {
      conn?.close();
    }
  }

  #open(): Promise<OpenStream> {
    return this.#host.client
      .open({
        method: 'GET',
        path: `v1/sessions/${encodeURIComponent(this.#sessionId)}/stream`,
        headers: { 'Last-Event-ID': this.position },
        options: { ...this.#opts, idempotencyKey: undefined },
      })
      .then((s) => {
        this.#requestId ??= s.info.requestId;
        return s;
      });
  }

  /** Reads one connection; yields the frames not seen before; sets #session at `session.ended`. */
  async *#read(conn: OpenStream): AsyncGenerator<SessionStreamItem, void, undefined> {
    const body = conn.response.body;
    if (!body) throw new Error('the session stream has no body');
    // The contract's "Stream framing": unnamed frames are turn events, `session.lifecycle`
    // frames lifecycle events, `session.ended` the last; other frame types are skipped.
    for await (const f of readSSE(body, conn.signal)) {
      const frame: string = f.event === '' ? EVENT_FRAME : f.event;
      switch (frame) {
        case EVENT_FRAME: {
          const ev = asEvent(this.#parse(f.data, 'event'), f.data);
          if (typeof ev.seq !== 'number') throw this.#protocolError('an event frame without seq', f.data);
          if (ev.seq <= this.#seq) break; // replayed after a resume: already yielded
          this.#seq = ev.seq;
          answerableEvent(this.#host, this.#sessionId, ev);
          yield { type: 'event', event: ev, position: this.position };
          break;
        }
        case LIFECYCLE_FRAME: {
          const lc = this.#parse(f.data, LIFECYCLE_FRAME) as unknown as LifecycleEvent;
          if (typeof lc.lifecycle_seq !== 'number') throw this.#protocolError('a lifecycle frame without lifecycle_seq', f.data);
          if (lc.lifecycle_seq <= this.#lifecycleSeq) break;
          this.#lifecycleSeq = lc.lifecycle_seq;
          yield { type: 'lifecycle', lifecycle: lc, position: this.position };
          break;
        }
        case ENDED_FRAME: {
          const session = this.#parse(f.data, ENDED_FRAME) as unknown as SessionInfo;
          this.#session = session;
          yield { type: 'ended', session };
          return;
        }
        default:
        // a frame type this SDK does not know: skipped
      }
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
      requestId: this.#requestId,
      body: r(data.slice(0, 4096)),
      cause: this.#host.client.safeCause(cause),
    });
  }
}
