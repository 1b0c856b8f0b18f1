import { problemCodeValues, type components } from './generated/openapi.js';
import type { FieldError, PermissionRequest, TurnWaiting } from './types.js';

/** The base of every error this SDK throws. */
export class AgentSessionError extends Error {}

/** What identifies the request an error is about (no query, no credentials). */
export interface RequestInfo {
  method: string;
  url: string;
}

/** A problem `code` the contract lists (`ProblemCode` in openapi.yaml). */
export type KnownProblemCode = components['schemas']['ProblemCode'];
/** A problem `code`: one the contract lists, or one a newer server added (kept as it came). */
export type ProblemCode = components['schemas']['Problem']['code'];

type PascalCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Capitalize<Head>}${PascalCase<Tail>}`
  : Capitalize<S>;
const pascalCase = (s: string): string => s.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The problem codes of the contract as constants (`ProblemCode.NotFound` is
 * `'not_found'`), made from the generated list, so a regeneration brings new codes.
 * Codes this SDK does not know are kept as they come and classed by HTTP status.
 */
export const ProblemCode = Object.freeze(Object.fromEntries(problemCodeValues.map((c) => [pascalCase(c), c]))) as {
  readonly [C in KnownProblemCode as PascalCase<C>]: C;
};

export interface APIErrorInit extends RequestInfo {
  status: number;
  code: ProblemCode | undefined;
  title: string | undefined;
  detail: string | undefined;
  type: string | undefined;
  instance: string | undefined;
  fieldErrors: FieldError[];
  requestId: string | undefined;
  idempotencyKey: string | undefined;
  attempts: number;
  retryAfter: number | undefined;
  headers: Headers;
  body: string;
}

/**
 * The server answered with a non-2xx status. Every string here comes from the
 * server with the client's token redacted. `body` is the start of the raw body
 * (at most 64 KiB), also when it was empty or not a problem document.
 */
export class APIError extends AgentSessionError {
  /** The HTTP status of the last answer. */
  readonly status: number;
  /** The problem's machine-readable `code` (`ProblemCode`); undefined when the body had none. */
  readonly code: ProblemCode | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly type: string | undefined;
  readonly instance: string | undefined;
  /** The offending fields of a validation failure. */
  readonly fieldErrors: FieldError[];
  /** `X-Request-Id` (or the problem's `request_id`): quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The `Idempotency-Key` the request carried. */
  readonly idempotencyKey: string | undefined;
  /** How many HTTP attempts the call made (1 without retries). */
  readonly attempts: number;
  /** The delay the server asked for (`Retry-After` / `Retry-After-Ms`), in milliseconds. */
  readonly retryAfter: number | undefined;
  readonly method: string;
  readonly url: string;
  /** The last answer's headers (values redacted). */
  readonly headers: Headers;
  /** The start of the raw body (redacted, at most 64 KiB). */
  readonly body: string;

  constructor(init: APIErrorInit, message: string) {
    super(message);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type;
    this.instance = init.instance;
    this.fieldErrors = init.fieldErrors;
    this.requestId = init.requestId;
    this.idempotencyKey = init.idempotencyKey;
    this.attempts = init.attempts;
    this.retryAfter = init.retryAfter;
    this.method = init.method;
    this.url = init.url;
    this.headers = init.headers;
    this.body = init.body;
  }
}

/** 401 or 403: the token is missing, unknown or not allowed. */
export class AuthError extends APIError {}
/** 404: no such resource for this tenant (another tenant's resources answer 404 too). */
export class NotFoundError extends APIError {}
/** Any 409: the request conflicts with the resource's state. The subclasses name the known codes. */
export class ConflictError extends APIError {}
/** 409 `turn_in_progress` (busy policy reject) or `turn_queue_full` (enqueue). */
export class BusyError extends ConflictError {}
/** 409 `invalid_transition`: the lifecycle forbids the change. */
export class InvalidTransitionError extends ConflictError {}
/** 409 `session_paused`: resume the session first. */
export class SessionPausedError extends ConflictError {}
/** 409 `session_ended`: the session accepts no more work. */
export class SessionEndedError extends ConflictError {}
/** 409 `spawn_limit_exceeded`: a child-session cap (children per parent or depth). */
export class SpawnLimitError extends ConflictError {}
/** 409 `turn_ended`: `cancelTurn(index)` of a turn that has already ended. */
export class TurnEndedError extends ConflictError {}
/** 409 `permission_resolved`: another answer to an answered permission request, or any answer to a cancelled one. */
export class PermissionResolvedError extends ConflictError {}
/** 400 or 422: the server rejected the request's content; `fieldErrors` lists the fields. The subclasses name 422 codes a caller branches on. */
export class ValidationError extends APIError {}
/** 422 `unknown_option`: the permission request does not offer that option id. */
export class UnknownOptionError extends ValidationError {}
/** 422 `unsupported_busy_policy`: the session's agent cannot take this busy policy (`steer`). */
export class UnsupportedBusyPolicyError extends ValidationError {}
/** 422 `invalid_agent_options`: an option the agent does not declare, or a value it does not accept; `fieldErrors` names each. */
export class InvalidAgentOptionsError extends ValidationError {}
/** 408 `request_timeout`: the request body did not arrive in time. Retried like a 5xx (the server did nothing). */
export class RequestTimeoutError extends APIError {}
/** 413: the request body is over the server's limit. */
export class PayloadTooLargeError extends APIError {}
/** 429: `retryAfter` is the server's delay in milliseconds. */
export class RateLimitError extends APIError {}
/** Any 5xx. The subclass names a code a caller branches on. */
export class ServerError extends APIError {}
/**
 * 502 `agent_start_failed`: the session's agent could not be started (missing
 * command, exited at start, or no ACP initialize within its start timeout);
 * `detail` names the agent and the reason. Not retried: the server already waited.
 */
export class AgentStartFailedError extends ServerError {}

type APIErrorClass = new (init: APIErrorInit, message: string) => APIError;

const conflictByCode: Record<string, APIErrorClass> = {
  [ProblemCode.TurnInProgress]: BusyError,
  [ProblemCode.TurnQueueFull]: BusyError,
  [ProblemCode.InvalidTransition]: InvalidTransitionError,
  [ProblemCode.SessionPaused]: SessionPausedError,
  [ProblemCode.SessionEnded]: SessionEndedError,
  [ProblemCode.SpawnLimitExceeded]: SpawnLimitError,
  [ProblemCode.TurnEnded]: TurnEndedError,
  [ProblemCode.PermissionResolved]: PermissionResolvedError,
};

const validationByCode: Record<string, APIErrorClass> = {
  [ProblemCode.UnknownOption]: UnknownOptionError,
  [ProblemCode.UnsupportedBusyPolicy]: UnsupportedBusyPolicyError,
  [ProblemCode.InvalidAgentOptions]: InvalidAgentOptionsError,
};

const badGatewayByCode: Record<string, APIErrorClass> = {
  [ProblemCode.AgentStartFailed]: AgentStartFailedError,
};

/** The class of an answer: by status, refined by the code for a 400, 409, 422 or 502; unknown codes fall back to the status. */
export function apiErrorClass(status: number, code: string | undefined): APIErrorClass {
  if (status === 401 || status === 403) return AuthError;
  if (status === 404) return NotFoundError;
  if (status === 409) return (code !== undefined && conflictByCode[code]) || ConflictError;
  if (status === 400 || status === 422) return (code !== undefined && validationByCode[code]) || ValidationError;
  if (status === 408) return RequestTimeoutError;
  if (status === 413) return PayloadTooLargeError;
  if (status === 429) return RateLimitError;
  if (status === 502) return (code !== undefined && badGatewayByCode[code]) || ServerError;
  if (status >= 500 && status <= 599) return ServerError;
  return APIError;
}

/**
 * No usable answer arrived: the connection failed or was reset, an attempt
 * timed out, or a 2xx body was cut short. `cause` is the last network error.
 */
export class TransportError extends AgentSessionError {
  readonly method: string;
  readonly url: string;
  /** How many HTTP attempts the call made. */
  readonly attempts: number;
  readonly idempotencyKey: string | undefined;

  constructor(
    message: string,
    init: RequestInfo & { attempts: number; idempotencyKey: string | undefined; cause?: unknown },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.method = init.method;
    this.url = init.url;
    this.attempts = init.attempts;
    this.idempotencyKey = init.idempotencyKey;
  }
}

/**
 * An attempt's `timeout` passed with no answer on its last attempt, or the
 * call's `totalTimeout` passed (then `cause` is the last error, an
 * `APIError` when the server had answered).
 */
export class TimeoutError extends TransportError {}

/** The caller's `AbortSignal` fired; `cause` is the signal's reason. */
export class AbortError extends AgentSessionError {}

/** A 2xx answer the SDK could not understand (not JSON, not a valid event stream frame). */
export class UnexpectedResponseError extends AgentSessionError {
  readonly status: number;
  readonly requestId: string | undefined;
  /** The start of the body (redacted, at most 64 KiB). */
  readonly body: string;
  constructor(message: string, init: { status: number; requestId: string | undefined; body: string; cause?: unknown }) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.requestId = init.requestId;
    this.body = init.body;
  }
}

/**
 * A turn stream dropped and could not be resumed: `maxResumes` attempts in a
 * row brought no new event (also when the server's events carry no `seq`, so
 * that a resume cannot tell new events from replayed ones). `cause` is the
 * last failure.
 */
export class StreamLostError extends AgentSessionError {
  readonly turnIndex: number | undefined;
  readonly lastSeq: number;
  readonly resumes: number;
  constructor(
    message: string,
    init: { turnIndex: number | undefined; lastSeq: number; resumes: number; cause?: unknown },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.turnIndex = init.turnIndex;
    this.lastSeq = init.lastSeq;
    this.resumes = init.resumes;
  }
}

/** No event arrived on a turn stream within its `idleTimeout` (keep-alives do not count). */
export class StreamIdleTimeoutError extends AgentSessionError {}

/**
 * A non-streamed `turn()` without an `onPermission` handler reached a
 * permission request (the server answered `202` with a `TurnWaiting`). The
 * turn goes on waiting on the server: answer each of `requests` with
 * `session.answerPermission(requestId, optionId)`, then `session.waitTurn(turnIndex)`
 * for its result.
 */
export class PermissionRequiredError extends AgentSessionError {
  readonly sessionId: string;
  /** The waiting turn. */
  readonly turnIndex: number;
  /** Its pending requests, oldest first. */
  readonly requests: PermissionRequest[];
  /** The `seq` of the turn's newest event when the server answered. */
  readonly lastSeq: number;
  /** The server's `202` answer as it came (members a newer server added included). */
  readonly waiting: TurnWaiting;
  constructor(message: string, init: { sessionId: string; waiting: TurnWaiting }) {
    super(message);
    const w = init.waiting;
    this.sessionId = init.sessionId;
    this.turnIndex = w.turn_index;
    this.requests = Array.isArray(w.permission_requests) ? w.permission_requests : [];
    this.lastSeq = w.last_seq;
    this.waiting = w;
  }
}

// Names survive minification, and `AbortError` is also the web platform's name
// for an aborted operation, so `err.name === 'AbortError'` checks keep working.
for (const [name, cls] of Object.entries({
  AgentSessionError, APIError, AuthError, NotFoundError, ConflictError, BusyError, InvalidTransitionError,
  SessionPausedError, SessionEndedError, SpawnLimitError, TurnEndedError, PermissionResolvedError, ValidationError,
  UnknownOptionError, UnsupportedBusyPolicyError, InvalidAgentOptionsError, RequestTimeoutError, PayloadTooLargeError,
  RateLimitError, ServerError, AgentStartFailedError, TransportError, TimeoutError, AbortError, UnexpectedResponseError,
  StreamLostError, StreamIdleTimeoutError, PermissionRequiredError,
})) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}
