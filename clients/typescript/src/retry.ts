// The retry policy, the same as the Go SDK's (retry/ in the repository):
// which answers are retried, how long to wait, and the shared retry budget.
import { ProblemCode } from './errors.js';

/** Retry settings; every field has a default. Durations are in milliseconds. */
export interface RetryOptions {
  /** First backoff ceiling (default 250). */
  initialDelay?: number;
  /** Cap of the backoff ceiling (default 8000). */
  maxDelay?: number;
  /** Cap of a server-requested delay (`Retry-After`, `Retry-After-Ms`; default 30000): a larger one is capped, not ignored. */
  maxRetryAfter?: number;
  /**
   * The retry token bucket. Default: one per client. Pass the same `RetryBudget`
   * to several clients to share it, or `null` for no budget.
   */
  budget?: RetryBudget | null;
}

export const DEFAULT_MAX_RETRIES = 3; // 4 attempts in all
export const DEFAULT_INITIAL_DELAY = 250;
export const DEFAULT_MAX_DELAY = 8_000;
export const DEFAULT_MAX_RETRY_AFTER = 30_000;

/** 408, 429, 500, 502, 503 and 504 are worth retrying; never 501, never another 4xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * Problem codes that end the retries even on a retryable status: the server
 * answered for good. `agent_start_failed` (502): the server already tried to
 * start the agent, with its own timeout, and stored nothing, so a retry would
 * only repeat that wait or fail the same way.
 */
export const FINAL_PROBLEM_CODES: readonly string[] = Object.freeze([ProblemCode.AgentStartFailed]);

/** Whether an answer is a problem document (`application/problem+json`) whose `code` is in `FINAL_PROBLEM_CODES`. */
export function isFinalProblem(contentType: string | null, code: string | undefined): boolean {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/problem+json' && code !== undefined && FINAL_PROBLEM_CODES.includes(code);
}

/** A method whose request may be sent twice as it is; any other needs an Idempotency-Key. */
export function isIdempotentMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE';
}

/** The full-jitter ceiling after `retry` failed attempts (0 after the first): initial·2^retry capped at max. */
export function backoffCeiling(initial: number, max: number, retry: number): number {
  if (initial <= 0) return 0;
  return Math.min(Math.max(max, initial), initial * 2 ** Math.min(retry, 52));
}

/** Exponential backoff with full jitter: uniform in [0, ceiling]. */
export function backoff(initial: number, max: number, retry: number, random: () => number = Math.random): number {
  return random() * backoffCeiling(initial, max, retry);
}

/**
 * The delay an answer asks for, in milliseconds: `Retry-After-Ms` when valid,
 * else `Retry-After` as seconds or as an HTTP date (measured from the answer's
 * own `Date` when it has one, so a skewed local clock does not matter; a past
 * date means 0). Undefined when neither header holds a valid value. Not capped
 * (an absurdly large value stays large: the caller caps it).
 */
export function serverDelay(headers: Headers, now: () => number = Date.now): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000; // Infinity for a huge value: capped later
  if (/^-/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  const ref = Number.isNaN(date) ? now() : date;
  return Math.max(0, at - ref);
}

export const BUDGET_CAPACITY = 500;
export const BUDGET_RETRY_COST = 5;
export const BUDGET_TIMEOUT_COST = 10;
export const BUDGET_REFUND = 1;

/**
 * A retry token bucket shared by every call of a client (the AWS SDKs'
 * "standard" mode), so an outage does not multiply the load: a retry costs 5
 * tokens (10 after a timeout); a call that ends without needing another retry
 * returns the cost of its last retry, or 1 when it needed none. When the
 * bucket cannot pay, calls are not retried. A first attempt is never refused.
 */
export class RetryBudget {
  readonly capacity: number;
  #tokens: number;

  constructor(capacity: number = BUDGET_CAPACITY) {
    if (!(capacity > 0)) throw new RangeError(`RetryBudget: capacity must be positive, got ${capacity}`);
    this.capacity = capacity;
    this.#tokens = capacity;
  }

  /** Tokens left. */
  get available(): number {
    return this.#tokens;
  }

  /** Pays for one retry; returns its cost, or 0 (nothing taken) when the bucket cannot pay. */
  take(timeout: boolean): number {
    const cost = timeout ? BUDGET_TIMEOUT_COST : BUDGET_RETRY_COST;
    if (this.#tokens < cost) return 0;
    this.#tokens -= cost;
    return cost;
  }

  /** Returns tokens after a call that ended: `lastCost`, or the refund when it was not retried. */
  succeeded(lastCost: number): void {
    this.#tokens = Math.min(this.capacity, this.#tokens + (lastCost || BUDGET_REFUND));
  }
}
