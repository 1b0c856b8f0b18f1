import type { APIClient, RequestOptions, ResponseInfo } from '../core.js';
import type { KeyedLock } from '../internal/keyed-lock.js';
import { PageIterator, type Page } from '../pagination.js';
import { SessionStream, type SessionStreamOptions } from '../session-stream.js';
import {
  answerPermission,
  asEvent,
  followTurn,
  runTurn,
  TurnStream,
  type TurnOptions,
  type TurnResult,
  type TurnStreamOptions,
  type WaitTurnOptions,
} from '../turn.js';
import type {
  Artifact,
  ArtifactParams,
  CancelTurnResult,
  CloseSessionResult,
  ContextPatch,
  ContinueSessionParams,
  CreateSessionParams,
  EndSessionParams,
  FileInfo,
  HandoffContext,
  HandoffParams,
  LifecycleEvent,
  ListArtifactsParams,
  ListChildrenParams,
  ListEventsParams,
  ListLifecycleEventsParams,
  ListLogParams,
  ListPermissionsParams,
  ListSessionsParams,
  ListTurnsParams,
  LogEntry,
  LogEntryParams,
  PermissionRequest,
  ReplayContext,
  ReplaySessionParams,
  SessionInfo,
  Turn,
  TurnEvent,
} from '../types.js';
import type { Files, UploadInput, UploadOptions } from './files.js';

/** What the resources share: the request path, the turn order, the files resource. */
export interface Host {
  readonly client: APIClient;
  readonly turnOrder: KeyedLock;
  readonly files: Files;
}

type Query = Record<string, string | number | boolean | undefined>;

function list<T, W = T>(
  host: Host,
  path: string,
  query: Query,
  options: RequestOptions | undefined,
  wrap: (item: W) => T,
): PageIterator<T> {
  return new PageIterator<T>(async (cursor): Promise<Page<T>> => {
    const { data } = await host.client.request<{ items: W[]; next_cursor?: string }>({
      method: 'GET',
      path,
      query: { ...query, cursor },
      options,
    });
    return { items: data.items.map(wrap), nextCursor: data.next_cursor || undefined };
  });
}

/** `client.sessions`: create, find and list sessions. */
export class Sessions {
  readonly #host: Host;

  constructor(host: Host) {
    this.#host = host;
  }

  /** Creates an `active` session and returns its handle. */
  async create(params: CreateSessionParams, options?: RequestOptions): Promise<Session> {
    const { data } = await this.#host.client.request<SessionInfo>({ method: 'POST', path: 'v1/sessions', body: params, options });
    return new Session(this.#host, data);
  }

  /** Fetches a session and returns its handle. */
  async get(sessionId: string, options?: RequestOptions): Promise<Session> {
    const s = new Session(this.#host, sessionId);
    await s.refresh(options);
    return s;
  }

  /** A handle for a session id, without a request (`info` is undefined until `refresh()`). */
  handle(sessionId: string): Session {
    return new Session(this.#host, sessionId);
  }

  /** The tenant's sessions, oldest first, as handles; pages are fetched as the loop goes. */
  list(params: ListSessionsParams = {}, options?: RequestOptions): PageIterator<Session> {
    return list<Session, SessionInfo>(this.#host, 'v1/sessions', { ...params }, options, (i) => new Session(this.#host, i));
  }

  /** Closes a session by id (see `Session.close`). */
  close(sessionId: string, options?: RequestOptions): Promise<CloseSessionResult> {
    return new Session(this.#host, sessionId).close(options);
  }
}

/**
 * A handle on one session: turns, streaming, cancel, close, children, files
 * and every lifecycle verb. Verbs whose answer is the session update `info`.
 * Turns sent without a busy policy run one at a time per session, in call
 * order, across every handle of this client; turns on different sessions
 * never wait for each other.
 */
export class Session {
  readonly id: string;
  readonly #host: Host;
  readonly #path: string;
  readonly #turnsPath: string;
  #info: SessionInfo | undefined;
  #closed: CloseSessionResult | undefined;
  #closing: Promise<CloseSessionResult> | undefined;

  constructor(host: Host, info: SessionInfo | string) {
    this.#host = host;
    if (typeof info === 'string') {
      this.id = info;
    } else {
      this.id = info.session_id;
      this.#info = info;
    }
    // Built once: every call of this handle starts with it.
    this.#path = `v1/sessions/${encodeURIComponent(this.id)}`;
    this.#turnsPath = `${this.#path}/turns`;
  }

  /** The session as the server last reported it to this handle. */
  get info(): SessionInfo | undefined {
    return this.#info;
  }

  async #session(method: 'GET' | 'POST' | 'PATCH', sub: string, body: unknown, options: RequestOptions | undefined): Promise<SessionInfo> {
    const { data } = await this.#host.client.request<SessionInfo>({ method, path: this.#path + sub, body, options });
    this.#info = data;
    return data;
  }

  /** Re-reads the session. */
  refresh(options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('GET', '', undefined, options);
  }

  /**
   * Sends a prompt and returns the finished turn (`result.text()` is the
   * answer's text). When the agent asks for permission, `onPermission`
   * decides; without it the call rejects with a PermissionRequiredError.
   */
  turn(prompt: string, options: TurnOptions = {}): Promise<TurnResult> {
    return runTurn(this.#host, this.id, prompt, options, this.#turnsPath);
  }

  /**
   * Follows a turn already sent (one a PermissionRequiredError named, or one
   * queued) to its end and returns its result, as `turn()` would have.
   * `onPermission` answers its permission requests; without it the wait lasts
   * until someone answers them. Does not wait for the turn order.
   */
  waitTurn(turnIndex: number, options: WaitTurnOptions = {}): Promise<TurnResult> {
    return followTurn(this.#host, this.id, turnIndex, { onPermission: options.onPermission, signal: options.signal });
  }

  /** Answers a permission request with one of its options; the same answer again changes nothing. */
  answerPermission(requestId: string, optionId: string, options?: RequestOptions): Promise<PermissionRequest> {
    return answerPermission(this.#host, this.id, requestId, optionId, options);
  }

  /** The session's permission requests, oldest first (`{ status: 'pending' }`: what waits for an answer). */
  permissions(params: ListPermissionsParams = {}, options?: RequestOptions): PageIterator<PermissionRequest> {
    return list<PermissionRequest>(this.#host, `${this.#path}/permissions`, { ...params }, options, (r) => r);
  }

  /**
   * Cancels one turn by its index: a queued turn ends `cancelled` without
   * running, the running one as `cancel()` ends it; an ended turn is a TurnEndedError.
   */
  async cancelTurn(turnIndex: number, options?: RequestOptions): Promise<Turn> {
    const { data } = await this.#host.client.request<Turn>({ method: 'POST', path: `${this.#turnsPath}/${turnIndex}/cancel`, options });
    return data;
  }

  /**
   * The session's turn events and lifecycle events as they happen, across
   * turns, until the session ends (the last item is `{ type: 'ended', session }`):
   * `for await (const item of session.stream())`. Resumes after a drop, every frame once.
   */
  stream(options: SessionStreamOptions = {}): SessionStream {
    return new SessionStream(this.#host, this.id, options);
  }

  /** The lifecycle history, in `lifecycle_seq` order (`after` a lifecycle_seq). */
  lifecycleEvents(params: ListLifecycleEventsParams = {}, options?: RequestOptions): PageIterator<LifecycleEvent> {
    return list<LifecycleEvent>(this.#host, `${this.#path}/lifecycle`, { ...params }, options, (e) => e);
  }

  /** Sends a prompt as a streamed turn: `for await (const event of session.turnStream(prompt))`. */
  turnStream(prompt: string, options: TurnStreamOptions = {}): TurnStream {
    return new TurnStream(this.#host, this.id, prompt, options);
  }

  /** Ends the running turn (`stop_reason: cancelled`). Idempotent; never waits for the turn order; queued turns stay (`cancelTurn(index)` cancels one). */
  async cancel(options?: RequestOptions): Promise<CancelTurnResult> {
    const { data } = await this.#host.client.request<CancelTurnResult>({ method: 'POST', path: `${this.#path}/cancel`, options });
    return data;
  }

  /**
   * Soft-closes the session: the server cancels a running turn, ends the
   * session as `completed` unless it already ended, and closes its active
   * children; history stays readable. Idempotent: once a close of this handle
   * succeeded, later calls return the same answer without a request; when it
   * failed, the next call tries again.
   */
  close(options?: RequestOptions): Promise<CloseSessionResult> {
    if (this.#closed) return Promise.resolve(this.#closed);
    this.#closing ??= this.#host.client
      .request<CloseSessionResult>({ method: 'DELETE', path: this.#path, options })
      .then(
        ({ data }) => {
          this.#closed = data;
          this.#info = data.session;
          return data;
        },
        (err: unknown) => {
          this.#closing = undefined;
          throw err;
        },
      );
    return this.#closing;
  }

  /** One turn with its events. */
  async getTurn(turnIndex: number, options?: RequestOptions): Promise<Turn> {
    const { data } = await this.#host.client.request<Turn>({ method: 'GET', path: `${this.#path}/turns/${turnIndex}`, options });
    return data;
  }

  /** The turn history, oldest first, without events (read them with `events()` or `getTurn()`); `status` filters (`queued`). */
  history(params: ListTurnsParams = {}, options?: RequestOptions): PageIterator<Turn> {
    return list<Turn>(this.#host, `${this.#path}/turns`, { ...params }, options, (t) => t);
  }

  /** The session's event log in `seq` order (`after` a seq, optionally one `turn_index`). */
  events(params: ListEventsParams = {}, options?: RequestOptions): PageIterator<TurnEvent> {
    return list<TurnEvent, Record<string, unknown>>(this.#host, `${this.#path}/events`, { ...params }, options, (e) => asEvent(e));
  }

  /** Creates an active child session under this one; over the server's caps a SpawnLimitError. */
  async spawn(params: CreateSessionParams, options?: RequestOptions): Promise<Session> {
    const { data } = await this.#host.client.request<SessionInfo>({ method: 'POST', path: `${this.#path}/children`, body: params, options });
    return new Session(this.#host, data);
  }

  /** The child sessions, oldest first, as handles. */
  children(params: ListChildrenParams = {}, options?: RequestOptions): PageIterator<Session> {
    return list<Session, SessionInfo>(this.#host, `${this.#path}/children`, { ...params }, options, (i) => new Session(this.#host, i));
  }

  /** Uploads a file (tenant-wide, like `client.files.upload`); pass its `file_token` in a turn's `files`. */
  upload(file: UploadInput, options?: UploadOptions): Promise<FileInfo> {
    return this.#host.files.upload(file, options);
  }

  // --- lifecycle

  /** `active` → `paused`; otherwise an InvalidTransitionError. */
  pause(options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('POST', '/pause', undefined, options);
  }

  /** `paused` → `active`. */
  resume(options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('POST', '/resume', undefined, options);
  }

  /** Ends the session as `completed` or `failed`, with an optional summary. */
  end(params: EndSessionParams, options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('POST', '/end', params, options);
  }

  /** Records handoff notes and pauses the session. */
  handoff(params: HandoffParams, options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('POST', '/handoff', params, options);
  }

  /** Merges `patch` into the context summary (JSON Merge Patch: `null` removes a member). */
  updateContext(patch: ContextPatch, options?: RequestOptions): Promise<SessionInfo> {
    return this.#session('PATCH', '/context', patch, options);
  }

  /** Everything a new agent needs to take over: context, handoff notes, recent actions, artifacts. */
  async handoffContext(options?: RequestOptions): Promise<HandoffContext> {
    const { data } = await this.#host.client.request<HandoffContext>({ method: 'GET', path: `${this.#path}/handoff`, options });
    return data;
  }

  /** A new session for another agent that continues this one (context and handoff notes inherited). */
  async continue(params: ContinueSessionParams, options?: RequestOptions): Promise<Session> {
    const { data } = await this.#host.client.request<SessionInfo>({ method: 'POST', path: `${this.#path}/continue`, body: params, options });
    return new Session(this.#host, data);
  }

  /** Appends a work-log entry. */
  async log(entry: LogEntryParams, options?: RequestOptions): Promise<LogEntry> {
    const { data, info } = await this.#host.client.request<LogEntry>({ method: 'POST', path: `${this.#path}/log`, body: entry, options });
    this.#count('action_count', info);
    return data;
  }

  /** The work log, oldest first (`order: 'newest_first'` for the other way), optionally of one `type`. */
  listLog(params: ListLogParams = {}, options?: RequestOptions): PageIterator<LogEntry> {
    return list<LogEntry>(this.#host, `${this.#path}/log`, { ...params }, options, (e) => e);
  }

  /** Records a file the session created, modified or deleted. */
  async addArtifact(params: ArtifactParams, options?: RequestOptions): Promise<Artifact> {
    const { data, info } = await this.#host.client.request<Artifact>({ method: 'POST', path: `${this.#path}/artifacts`, body: params, options });
    this.#count('artifact_count', info);
    return data;
  }

  /** The artifacts, oldest first, optionally of one `action`. */
  artifacts(params: ListArtifactsParams = {}, options?: RequestOptions): PageIterator<Artifact> {
    return list<Artifact>(this.#host, `${this.#path}/artifacts`, { ...params }, options, (a) => a);
  }

  /** Checkpoints, decisions, errors and progress, reconstructed from the work log. */
  async replayContext(options?: RequestOptions): Promise<ReplayContext> {
    const { data } = await this.#host.client.request<ReplayContext>({ method: 'GET', path: `${this.#path}/replay`, options });
    return data;
  }

  /** A new session started from the replay context (by default for the same agent). */
  async replay(params: ReplaySessionParams = {}, options?: RequestOptions): Promise<Session> {
    const { data } = await this.#host.client.request<SessionInfo>({ method: 'POST', path: `${this.#path}/replay`, body: params, options });
    return new Session(this.#host, data);
  }

  /**
   * The server counted a new entry: keep the handle's counter in step. A replay
   * on the first attempt answers for an earlier call (the same key sent
   * before), which counted it already; a replay after a retry answers for this call.
   */
  #count(field: 'action_count' | 'artifact_count', info: ResponseInfo): void {
    if (this.#info && (!info.replayed || info.attempts > 1)) this.#info = { ...this.#info, [field]: this.#info[field] + 1 };
  }
}
