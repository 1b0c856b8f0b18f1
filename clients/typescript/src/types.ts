// The SDK's public data types, all taken from the generated contract types
// (src/generated/openapi.ts) so that a contract change reaches them by
// regeneration. Every enum-valued member of a response is open in the contract
// (`anyOf: [<Enum>, string]`), generated as `<Enum> | (string & {})`: a newer
// server's values type-check and pass through untouched, and editors still
// offer the known ones.
import type { components, operations } from './generated/openapi.js';

type Schemas = components['schemas'];

// Enums as responses carry them: the known values, or any other string.
export type SessionStatus = Schemas['Session']['status'];
export type Activity = Schemas['Session']['activity'];
export type EventType = Schemas['Event']['type'];
export type ToolCallStatus = Exclude<Schemas['Event']['status'], undefined>;
export type StopReason = Schemas['TurnSummary']['stop_reason'];
export type CancelledBy = Exclude<Schemas['TurnSummary']['cancelled_by'], undefined>;
export type TurnStatus = Schemas['Turn']['status'];
export type EndReason = Exclude<Schemas['Session']['end_reason'], undefined>;
export type PermissionOptionKind = Schemas['PermissionOption']['kind'];
export type PermissionStatus = Schemas['PermissionRequest']['status'];
export type PermissionOutcome = Exclude<Schemas['PermissionRequest']['outcome'], undefined>;
export type LifecycleEventType = Schemas['LifecycleEvent']['type'];
// Enums as requests take them: the known values only.
export type LogEntryType = Schemas['LogEntryType'];
export type ArtifactAction = Schemas['ArtifactAction'];
export type BusyPolicy = Schemas['BusyPolicy'];
export type EndStatus = Schemas['EndStatus'];
export type LogOrder = Schemas['LogOrder'];

// Responses.
/** A session as the server last reported it. */
export type SessionInfo = Schemas['Session'];
/**
 * One event of a turn, with every member the server sent (known or not).
 * `raw` is its JSON text as received (not enumerable, so `JSON.stringify(event)` gives the members).
 */
export type TurnEvent = Schemas['Event'] & { readonly raw: string };
export type TurnSummary = Schemas['TurnSummary'];
export type TurnAccepted = Schemas['TurnAccepted'];
/** A turn of the history (`history()`, `getTurn()`). */
export type Turn = Schemas['Turn'];
export type Usage = Schemas['Usage'];
export type CancelTurnResult = Schemas['CancelTurnResult'];
/** One answer a permission request offers (`option_id`, `name`, `kind`). */
export type PermissionOption = Schemas['PermissionOption'];
/** A permission request and where it stands (`pending`, `answered`, `cancelled`). */
export type PermissionRequest = Schemas['PermissionRequest'];
/** A JSON turn's `202` answer while it waits for an answer to a permission request. */
export type TurnWaiting = Schemas['TurnWaiting'];
/** Something that happened to a session besides its agent's work (`turn_started`, `status_changed`, ...). */
export type LifecycleEvent = Schemas['LifecycleEvent'];
/** An option an agent declares (`capabilities().agents[i].options`), set per session in `agent_options`. */
export type AgentOption = Schemas['AgentOption'];
export type AgentInfo = Schemas['AgentInfo'];
export type CloseSessionResult = Schemas['CloseSessionResult'];
export type LogEntry = Schemas['LogEntry'];
export type Artifact = Schemas['Artifact'];
export type Handoff = Schemas['Handoff'];
export type HandoffContext = Schemas['HandoffContext'];
export type ReplayContext = Schemas['ReplayContext'];
/** An uploaded file's metadata (`file_token` goes into a turn's `files`). */
export type FileInfo = Schemas['File'];
export type Capabilities = Schemas['Capabilities'];
export type Health = Schemas['Health'];
export type Problem = Schemas['Problem'];
export type FieldError = Schemas['FieldError'];
/** A free-form JSON object (`meta`, `context_summary`, `data`, `args`, `metadata`, `context_for_next`). */
export type JSONObject = Schemas['JSONObject'];

// Requests.
export type CreateSessionParams = Schemas['CreateSessionRequest'];
export type ContinueSessionParams = Schemas['ContinueSessionRequest'];
export type ReplaySessionParams = Schemas['ReplaySessionRequest'];
export type EndSessionParams = Schemas['EndSessionRequest'];
export type HandoffParams = Schemas['HandoffRequest'];
export type LogEntryParams = Schemas['LogEntryRequest'];
export type ArtifactParams = Schemas['ArtifactRequest'];
/** A JSON merge patch (RFC 7396) of the context summary: `null` removes a member. */
export type ContextPatch = Schemas['ContextPatch'];
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
/** Filters of `sessions.list()`; `limit` is the page size. */
export type ListSessionsParams = Omit<Query<'listSessions'>, 'cursor'>;
export type ListChildrenParams = Omit<Query<'listChildren'>, 'cursor'>;
export type ListLogParams = Omit<Query<'listLogEntries'>, 'cursor'>;
export type ListArtifactsParams = Omit<Query<'listArtifacts'>, 'cursor'>;
export type ListTurnsParams = Omit<Query<'listTurns'>, 'cursor'>;
export type ListEventsParams = Omit<Query<'listEvents'>, 'cursor'>;
export type ListPermissionsParams = Omit<Query<'listPermissions'>, 'cursor'>;
export type ListLifecycleEventsParams = Omit<Query<'listLifecycleEvents'>, 'cursor'>;
