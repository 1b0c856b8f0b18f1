// The SDK's public data types, all derived from the generated contract types
// (src/generated/openapi.ts) so that a contract change reaches them by
// regeneration. Response types open their enums: a newer server may send
// values this SDK does not know, and they must pass through untouched.
import type { components, operations } from './generated/openapi.js';

type Schemas = components['schemas'];

/** A string enum that also admits values this SDK does not know; the known ones stay literal for autocompletion. */
export type Open<T extends string> = T | (string & {});

/** T with every string-literal union (an enum) opened, recursively. */
export type OpenEnums<T> = T extends string
  ? string extends T
    ? T
    : Open<T>
  : T extends readonly (infer U)[]
    ? OpenEnums<U>[]
    : T extends object
      ? { [K in keyof T]: OpenEnums<T[K]> }
      : T;

// Enums. Response fields carry the opened forms; requests take the closed ones.
export type SessionStatus = Open<Schemas['SessionStatus']>;
export type Activity = Open<Schemas['Activity']>;
export type EventType = Open<Schemas['EventType']>;
export type ToolCallStatus = Open<Schemas['ToolCallStatus']>;
export type StopReason = Open<Schemas['StopReason']>;
export type CancelledBy = Open<Schemas['CancelledBy']>;
export type TurnStatus = Open<Schemas['TurnStatus']>;
export type LogEntryType = Schemas['LogEntryType'];
export type ArtifactAction = Schemas['ArtifactAction'];
export type BusyPolicy = Schemas['BusyPolicy'];
export type EndStatus = Schemas['EndStatus'];

// Responses.
/** A session as the server last reported it. */
export type SessionInfo = OpenEnums<Schemas['Session']>;
/**
 * One event of a turn, with every member the server sent (known or not).
 * `raw` is its JSON text as received (not enumerable, so `JSON.stringify(event)` gives the members).
 */
export type TurnEvent = OpenEnums<Schemas['Event']> & { readonly raw: string };
export type TurnSummary = OpenEnums<Schemas['TurnSummary']>;
export type TurnAccepted = OpenEnums<Schemas['TurnAccepted']>;
/** A turn of the history (`history()`, `getTurn()`). */
export type Turn = OpenEnums<Schemas['Turn']>;
export type Usage = Schemas['Usage'];
export type CancelTurnResult = Schemas['CancelTurnResult'];
export type CloseSessionResult = OpenEnums<Schemas['CloseSessionResult']>;
export type LogEntry = OpenEnums<Schemas['LogEntry']>;
export type Artifact = OpenEnums<Schemas['Artifact']>;
export type Handoff = Schemas['Handoff'];
export type HandoffContext = OpenEnums<Schemas['HandoffContext']>;
export type ReplayContext = OpenEnums<Schemas['ReplayContext']>;
/** An uploaded file's metadata (`file_token` goes into a turn's `files`). */
export type FileInfo = Schemas['File'];
export type Capabilities = OpenEnums<Schemas['Capabilities']>;
export type Health = Schemas['Health'];
export type Problem = Schemas['Problem'];
export type FieldError = Schemas['FieldError'];

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
