export { AgentSession } from './client.js';
export { AgentSession as default } from './client.js';
export {
  VERSION,
  normalizeBaseURL,
  type ClientOptions,
  type RequestOptions,
  type ResponseInfo,
  type Logger,
  type LogLevel,
  type Fetch,
} from './core.js';
export * from './errors.js';
export * from './enums.js';
export { RetryBudget, serverDelay, isRetryableStatus, FINAL_PROBLEM_CODES, type RetryOptions } from './retry.js';
export { PageIterator, type Page } from './pagination.js';
export {
  TurnResult,
  TurnStream,
  DEFAULT_MAX_RESUMES,
  isPermissionRequest,
  type PermissionHandler,
  type PermissionRequestEvent,
  type TurnOptions,
  type TurnStreamOptions,
  type WaitTurnOptions,
} from './turn.js';
export { SessionStream, type SessionStreamItem, type SessionStreamOptions } from './session-stream.js';
export { Sessions, Session } from './resources/sessions.js';
export { Files, type UploadInput, type UploadOptions } from './resources/files.js';
export { readSSE, SSEParser, type SSEFrame } from './sse.js';
export type * from './types.js';
