# Code generated from openapi.yaml by clients/python/scripts/generate.py with
# datamodel-code-generator 0.89.0. DO NOT EDIT.
# Regenerate with `make py-generate`; `make py-check-generated` checks it is current.
# ruff: noqa
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, TypeAlias

from agentsession._models import BaseModel
from pydantic import ConfigDict, Field, RootModel


class ProblemCode(str, Enum):
    """
    The machine-readable `code` of a problem. The list is extensible: a server may answer
    a code that a client does not know yet, which the client then treats by the HTTP
    status. See the guide's "Errors" table for when each is answered.

    | code | status | meaning |
    | --- | --- | --- |
    | `invalid_request` | 400 | malformed JSON, a wrong type, a missing required field, an unknown enum value, a bad parameter |
    | `invalid_cursor` | 400 | the cursor was not issued by this server for this list |
    | `unauthorized` | 401 | missing or unknown bearer token |
    | `not_found` | 404 | no such resource for this tenant, or no such route |
    | `method_not_allowed` | 405 | the route exists, not with this method |
    | `invalid_transition` | 409 | the lifecycle state machine forbids the change |
    | `turn_in_progress` | 409 | busy policy `reject` and a turn is running |
    | `turn_queue_full` | 409 | busy policy `enqueue` and the queue is full |
    | `session_paused` | 409 | the session is paused |
    | `session_ended` | 409 | the session is completed or failed |
    | `spawn_limit_exceeded` | 409 | a child-session cap would be exceeded |
    | `idempotency_in_progress` | 409 | a request with the same key is still being processed |
    | `payload_too_large` | 413 | the body is over the server's limit |
    | `unsupported_media_type` | 415 | the body's media type is not accepted |
    | `unknown_agent` | 422 | no agent of that name |
    | `unknown_file` | 422 | a file token this tenant never uploaded |
    | `idempotency_key_reused` | 422 | the key was used before with a different request |
    | `rate_limited` | 429 | too many requests |
    | `internal` | 500 | the server failed |

    """

    invalid_request = "invalid_request"
    invalid_cursor = "invalid_cursor"
    unauthorized = "unauthorized"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    invalid_transition = "invalid_transition"
    turn_in_progress = "turn_in_progress"
    turn_queue_full = "turn_queue_full"
    session_paused = "session_paused"
    session_ended = "session_ended"
    spawn_limit_exceeded = "spawn_limit_exceeded"
    idempotency_in_progress = "idempotency_in_progress"
    payload_too_large = "payload_too_large"
    unsupported_media_type = "unsupported_media_type"
    unknown_agent = "unknown_agent"
    unknown_file = "unknown_file"
    idempotency_key_reused = "idempotency_key_reused"
    rate_limited = "rate_limited"
    internal = "internal"


class FieldError(BaseModel):
    """
    One field that failed validation.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    location: Annotated[str, Field(examples=["body.prompt"])]
    """
    Where the field is: `body.` and the member's path (`body.prompt`, `body.files.0`;
    `body` for the body as a whole), `query.<name>`, `header.<Name>` or `path.<name>`.

    """
    message: Annotated[str, Field(examples=["a non-empty string is required"])]
    """
    What is wrong with it.
    """


class HealthStatus(str, Enum):
    """
    The server's health; `ok` when it can serve requests.
    """

    ok = "ok"


class ServerInfo(BaseModel):
    """
    The server implementation.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    name: Annotated[str, Field(examples=["agentsession-refserver"])]
    """
    The implementation's name.
    """
    version: Annotated[str, Field(examples=["1.0.0"])]
    """
    The implementation's version.
    """


class AgentKind(str, Enum):
    """
    What kind of agent this is. `echo` answers each turn with one `text` event whose
    content is the prompt and `stop_reason: end_turn`. `scripted` plays an
    `AgentScript` given as the turn's prompt (JSON), which lets tests produce any event
    sequence, delay and stop reason. `model` is any other agent.

    """

    echo = "echo"
    scripted = "scripted"
    model = "model"


class Limits(BaseModel):
    """
    The server's limits.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    max_body_bytes: Annotated[int, Field(examples=[1048576])]
    """
    The largest JSON request body, in bytes; larger answers `413`.
    """
    max_file_bytes: Annotated[int, Field(examples=[10485760])]
    """
    The largest upload, in bytes; larger answers `413`.
    """
    default_page_size: Annotated[int, Field(examples=[20])]
    """
    The page size when `limit` is not given.
    """
    max_page_size: Annotated[int, Field(examples=[100])]
    """
    The largest accepted `limit`.
    """
    max_children: Annotated[int, Field(examples=[5])]
    """
    The most children that have not ended (active or paused) one session may have.
    """
    max_depth: Annotated[int, Field(examples=[1])]
    """
    The deepest a child session may be (a root session has depth 0).
    """
    max_queued_turns: Annotated[int, Field(examples=[16])]
    """
    The most turns that may wait behind the running one.
    """
    max_turn_timeout_ms: Annotated[int, Field(examples=[600000])]
    """
    The largest accepted `timeout_ms`; also the default turn timeout.
    """
    stall_after_ms: Annotated[int, Field(examples=[120000])]
    """
    How long a running turn may show no progress before `activity` is `stalled`.
    """


class SessionStatus(str, Enum):
    """
    Where the session is in its lifecycle; `completed` and `failed` are final.
    """

    active = "active"
    paused = "paused"
    completed = "completed"
    failed = "failed"


class EndStatus(str, Enum):
    """
    The final status `endSession` sets.
    """

    completed = "completed"
    failed = "failed"


class Activity(str, Enum):
    """
    Whether a turn is running: `idle`, `running`, or `stalled` when the running turn
    has shown no progress for longer than `limits.stall_after_ms`.

    """

    idle = "idle"
    running = "running"
    stalled = "stalled"


class CreateSessionRequest(BaseModel):
    """
    A new session: its `agent`, and optionally `meta` (free-form metadata kept with the
    session and returned as its `meta`), `plan_slug` and `context` (the initial context
    summary, returned as `context_summary`).

    """

    model_config = ConfigDict(
        extra="allow",
    )
    agent: Annotated[str, Field(examples=["echo"], max_length=128, min_length=1)]
    """
    The agent's name (see `getCapabilities`).
    """
    meta: dict[str, Any] | None = None
    plan_slug: Annotated[str | None, Field(max_length=128, min_length=1)] = None
    """
    The plan the session works on.
    """
    context: dict[str, Any] | None = None


class BusyPolicy(str, Enum):
    """
    What `sendTurn` does while another turn runs: `reject` answers `409
    turn_in_progress`, `enqueue` waits its turn, `interrupt` cancels the running turn.

    """

    reject = "reject"
    enqueue = "enqueue"
    interrupt = "interrupt"


class FileToken(RootModel[str]):
    root: Annotated[str, Field(max_length=128, min_length=1)]


class TurnRequest(BaseModel):
    """
    A prompt for the session's agent.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    prompt: Annotated[
        str, Field(examples=["Summarise the open pull requests."], min_length=1)
    ]
    """
    The prompt.
    """
    files: Annotated[list[FileToken] | None, Field(max_length=32)] = None
    """
    File tokens from `uploadFile` to give the agent.
    """
    timeout_ms: Annotated[int | None, Field(examples=[120000], ge=1)] = None
    """
    End the turn after this long (`stop_reason: cancelled`,
    `cancelled_by: timeout`); default and maximum `limits.max_turn_timeout_ms`.
    A larger value answers `400 invalid_request`; it is never silently capped.

    """
    busy_policy: BusyPolicy | None = None


class StopReason(str, Enum):
    """
    Why the turn ended: the Agent Client Protocol's `end_turn`, `max_tokens`,
    `max_turn_requests`, `refusal` and `cancelled`, plus `error` when the agent or the
    server failed.

    """

    end_turn = "end_turn"
    max_tokens = "max_tokens"
    max_turn_requests = "max_turn_requests"
    refusal = "refusal"
    cancelled = "cancelled"
    error = "error"


class CancelledBy(str, Enum):
    """
    For a cancelled turn, what cancelled it: `cancel_request` (`cancelTurn`),
    `interrupt` (a turn with busy policy `interrupt`), `timeout` (`timeout_ms` elapsed)
    or `session_closed` (the session was closed or ended).

    """

    cancel_request = "cancel_request"
    interrupt = "interrupt"
    timeout = "timeout"
    session_closed = "session_closed"


class TurnStatus(str, Enum):
    """
    `queued` (waiting behind another turn), `running` or `completed` (ended, whatever the stop reason).
    """

    queued = "queued"
    running = "running"
    completed = "completed"


class Usage(BaseModel):
    """
    Token usage of a turn.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    input_tokens: Annotated[int | None, Field(ge=0)] = None
    """
    Tokens read by the model.
    """
    output_tokens: Annotated[int | None, Field(ge=0)] = None
    """
    Tokens produced by the model.
    """


class EventType(str, Enum):
    """
    The kind of event. Clients must pass types they do not know through untouched:
    new ones may be added.

    """

    text = "text"
    thinking = "thinking"
    tool_call = "tool_call"
    tool_result = "tool_result"
    plan = "plan"
    usage = "usage"
    error = "error"


class ToolCallStatus(str, Enum):
    """
    The state of a tool call.
    """

    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class Event(BaseModel):
    """
    One thing the agent did during a turn.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    seq: Annotated[int, Field(examples=[41], ge=1)]
    """
    The per-session sequence number, from 1 and without gaps; the SSE `id`.
    """
    turn_index: Annotated[int, Field(examples=[3], ge=1)]
    """
    The turn the event belongs to.
    """
    type: Annotated[EventType | str, Field(union_mode="left_to_right")]
    """
    The kind of event (`EventType`). Pass types you do not know through untouched.
    """
    content: Annotated[str | None, Field(examples=["Hello"])] = None
    """
    The text of a `text`, `thinking`, `plan` or `error` event.
    """
    tool_call_id: Annotated[str | None, Field(examples=["call_7"])] = None
    """
    For `tool_call` and `tool_result`, the call's id.
    """
    name: Annotated[str | None, Field(examples=["read_file"])] = None
    """
    For tool events, the tool's name.
    """
    args: dict[str, Any] | None = None
    """
    For `tool_call`, the arguments.
    """
    result: Any | None = None
    """
    For `tool_result`, the tool's result (any JSON value).
    """
    status: Annotated[
        ToolCallStatus | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For tool events, the state of the call (`ToolCallStatus`).
    """
    data: dict[str, Any] | None = None
    """
    Extra structured data (plan entries, usage numbers, error codes).
    """
    created_at: datetime
    """
    When the event happened.
    """


class EventList(BaseModel):
    """
    One page of events.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[Event]
    """
    The events on this page, in `seq` order.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class Event1(str, Enum):
    """
    `event: turn.accepted`.
    """

    turn_accepted = "turn.accepted"


class Event2(str, Enum):
    """
    `message`: no `event:` line is sent.
    """

    message = "message"


class EventFrame(BaseModel):
    """
    One event of the turn. The frame has no `event:` line (SSE's default type
    `message`) and its `id:` is the event's `seq`, which is what `Last-Event-ID` resumes
    after.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["message"]
    """
    `message`: no `event:` line is sent.
    """
    id: Annotated[
        str, Field(examples=["41"], max_length=15, pattern="^[1-9][0-9]{0,14}$")
    ]
    """
    The `id:` line, the event's `seq` in decimal.
    """
    data: Event


class Event3(str, Enum):
    """
    `event: turn.completed`.
    """

    turn_completed = "turn.completed"


class TurnAccepted(BaseModel):
    """
    The data of the `turn.accepted` SSE frame. `status` is `running` when the turn
    started at once and `queued` when it waits behind another turn (busy policy
    `enqueue`). It is `completed` only when a `sendTurn` repeated with the same
    `Idempotency-Key` finds the original turn already ended (the events and
    `turn.completed` follow at once).

    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    turn_index: Annotated[int, Field(ge=1)]
    """
    The new turn's number; use it to resume with `streamTurn`.
    """
    status: Annotated[TurnStatus | str, Field(union_mode="left_to_right")]
    """
    `running` or `queued` (`TurnStatus`); `completed` only on an idempotent replay.
    """


class TurnSummary(BaseModel):
    """
    How a turn ended; the data of the `turn.completed` SSE frame.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str,
        Field(
            examples=["sess_01hx7k2m9qv3c8d5e6f7g8h9j0"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ]
    """
    The session.
    """
    turn_index: Annotated[int, Field(examples=[3], ge=1)]
    """
    The turn's number within the session, from 1.
    """
    stop_reason: Annotated[StopReason | str, Field(union_mode="left_to_right")]
    """
    Why the turn ended (`StopReason`; other values may be added).
    """
    cancelled_by: Annotated[
        CancelledBy | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For a cancelled turn, what cancelled it (`CancelledBy`).
    """
    duration_ms: Annotated[int, Field(examples=[512], ge=0)]
    """
    How long the turn ran, in milliseconds.
    """
    usage: Usage | None = None
    event_count: Annotated[int, Field(examples=[2], ge=0)]
    """
    How many events the turn produced.
    """
    first_seq: Annotated[int | None, Field(ge=1)] = None
    """
    The `seq` of the turn's first event; absent when it has none.
    """
    last_seq: Annotated[int | None, Field(ge=1)] = None
    """
    The `seq` of the turn's last event; absent when it has none.
    """
    started_at: datetime
    """
    When the turn started running.
    """
    ended_at: datetime
    """
    When the turn ended.
    """


class TurnEvents(BaseModel):
    """
    The events member of a `TurnResult`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    events: list[Event]
    """
    The turn's events in `seq` order.
    """


class Turn(BaseModel):
    """
    A turn in the session's history.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    turn_index: Annotated[int, Field(ge=1)]
    """
    The turn's number within the session, from 1.
    """
    prompt: str
    """
    The prompt.
    """
    files: list[str] | None = None
    """
    The file tokens given with the prompt.
    """
    status: Annotated[TurnStatus | str, Field(union_mode="left_to_right")]
    """
    Where the turn is (`TurnStatus`; other values may be added).
    """
    busy_policy: Annotated[BusyPolicy | str, Field(union_mode="left_to_right")]
    """
    The busy policy the turn was sent with (`BusyPolicy`).
    """
    stop_reason: Annotated[
        StopReason | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    Why the turn ended, once it has (`StopReason`).
    """
    cancelled_by: Annotated[
        CancelledBy | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For a cancelled turn, what cancelled it (`CancelledBy`).
    """
    duration_ms: Annotated[int | None, Field(ge=0)] = None
    """
    How long the turn ran; present once it ended.
    """
    usage: Usage | None = None
    event_count: Annotated[int, Field(ge=0)]
    """
    How many events the turn has produced so far (`last_seq` - `first_seq` + 1).
    """
    first_seq: Annotated[int | None, Field(ge=1)] = None
    """
    The `seq` of the turn's first event.
    """
    last_seq: Annotated[int | None, Field(ge=1)] = None
    """
    The `seq` of the turn's newest event.
    """
    created_at: datetime
    """
    When the turn was accepted.
    """
    started_at: datetime | None = None
    """
    When the turn started running.
    """
    ended_at: datetime | None = None
    """
    When the turn ended.
    """
    events: list[Event] | None = None
    """
    The turn's events (`getTurn` only).
    """


class TurnList(BaseModel):
    """
    One page of turns.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[Turn]
    """
    The turns on this page, oldest first.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class CancelTurnResult(BaseModel):
    """
    The result of `cancelTurn`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    cancelled: bool
    """
    True when a running turn was cancelled by this request.
    """
    turn_index: Annotated[int | None, Field(ge=1)] = None
    """
    The cancelled turn, when there was one.
    """


class EndSessionRequest(BaseModel):
    """
    How the session ends.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: EndStatus
    summary: Annotated[str | None, Field(max_length=65536)] = None
    """
    The final summary.
    """


class ContinueSessionRequest(BaseModel):
    """
    The session that continues this one; `meta` is the new session's metadata.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    agent: Annotated[str, Field(max_length=128, min_length=1)]
    """
    The agent of the new session.
    """
    meta: dict[str, Any] | None = None
    plan_slug: Annotated[str | None, Field(max_length=128, min_length=1)] = None
    """
    The new session's plan; defaults to this session's.
    """


class ReplaySessionRequest(BaseModel):
    """
    The session that replays this one; `meta` is the new session's metadata.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    agent: Annotated[str | None, Field(max_length=128, min_length=1)] = None
    """
    The agent of the new session; defaults to this session's agent.
    """
    meta: dict[str, Any] | None = None


class Handoff(BaseModel):
    """
    Notes for the agent that takes over.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    summary: Annotated[str, Field(examples=["Schema migrated; two tests still fail."])]
    """
    Where the work stands.
    """
    next_steps: list[str]
    """
    What to do next, in order.
    """
    blockers: list[str]
    """
    What stands in the way.
    """
    context_for_next: dict[str, Any]
    """
    Anything else the next agent needs.
    """
    created_at: datetime
    """
    When the notes were written.
    """


class HandoffRequest(BaseModel):
    """
    Handoff notes; `context_for_next` holds anything else the next agent needs.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    summary: Annotated[str, Field(max_length=65536, min_length=1)]
    """
    Where the work stands.
    """
    next_steps: Annotated[list[str] | None, Field(max_length=100)] = None
    """
    What to do next, in order.
    """
    blockers: Annotated[list[str] | None, Field(max_length=100)] = None
    """
    What stands in the way.
    """
    context_for_next: dict[str, Any] | None = None


class LogEntryType(str, Enum):
    """
    The kind of work-log entry.
    """

    info = "info"
    warning = "warning"
    error = "error"
    success = "success"
    checkpoint = "checkpoint"
    decision = "decision"


class LogEntryRequest(BaseModel):
    """
    A new work-log entry; `data` holds its structured details.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: LogEntryType
    message: Annotated[str, Field(max_length=65536, min_length=1)]
    """
    What happened.
    """
    data: dict[str, Any] | None = None


class LogEntry(BaseModel):
    """
    A work-log entry.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(examples=["log_01hx7k2mc1"])]
    """
    The entry's id.
    """
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    type: Annotated[LogEntryType | str, Field(union_mode="left_to_right")]
    """
    The kind of entry (`LogEntryType`; other values may be added).
    """
    message: Annotated[str, Field(examples=["Schema migrated"])]
    """
    What happened.
    """
    data: dict[str, Any]
    """
    Structured details.
    """
    created_at: datetime
    """
    When the entry was added.
    """


class LogEntryList(BaseModel):
    """
    One page of work-log entries.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[LogEntry]
    """
    The entries on this page, oldest first.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class ArtifactAction(str, Enum):
    """
    What the session did to the artifact.
    """

    created = "created"
    modified = "modified"
    deleted = "deleted"


class ArtifactRequest(BaseModel):
    """
    A new artifact record; `metadata` holds its structured details.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    path: Annotated[str, Field(max_length=4096, min_length=1)]
    """
    The artifact's path or URI.
    """
    action: ArtifactAction
    metadata: dict[str, Any] | None = None


class Artifact(BaseModel):
    """
    A file the session created, modified or deleted.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    id: Annotated[str, Field(examples=["art_01hx7k2md2"])]
    """
    The record's id.
    """
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    path: Annotated[str, Field(examples=["db/migrations/0042_orders.sql"])]
    """
    The artifact's path or URI.
    """
    action: Annotated[ArtifactAction | str, Field(union_mode="left_to_right")]
    """
    What the session did to the artifact (`ArtifactAction`).
    """
    metadata: dict[str, Any]
    """
    Structured details.
    """
    created_at: datetime
    """
    When the artifact was recorded.
    """


class ArtifactList(BaseModel):
    """
    One page of artifacts.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[Artifact]
    """
    The artifacts on this page, oldest first.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class ContextPatch(BaseModel):
    """
    A JSON Merge Patch (RFC 7396) for the context summary.
    """

    model_config = ConfigDict(
        extra="allow",
    )


class ArtifactsByAction(BaseModel):
    """
    A session's artifacts grouped by action.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    created: list[Artifact]
    """
    Created artifacts.
    """
    modified: list[Artifact]
    """
    Modified artifacts.
    """
    deleted: list[Artifact]
    """
    Deleted artifacts.
    """


class ReplayProgress(BaseModel):
    """
    A summary of the work log.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    total_entries: Annotated[int, Field(ge=0)]
    """
    How many work-log entries the session has.
    """
    checkpoint_count: Annotated[int, Field(ge=0)]
    """
    How many of them are checkpoints.
    """
    decision_count: Annotated[int, Field(ge=0)]
    """
    How many of them are decisions.
    """
    error_count: Annotated[int, Field(ge=0)]
    """
    How many of them are errors.
    """
    last_entry: LogEntry | None = None
    summary: Annotated[
        str, Field(examples=["7 entries, 2 checkpoints, 1 decision, 0 errors."])
    ]
    """
    The counts in one sentence.
    """


class ReplayContext(BaseModel):
    """
    Where the session stands, reconstructed from its work log.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    agent: str
    """
    The session's agent.
    """
    status: Annotated[SessionStatus | str, Field(union_mode="left_to_right")]
    """
    The session's status (`SessionStatus`).
    """
    plan_slug: str | None = None
    """
    The session's plan.
    """
    context_summary: dict[str, Any]
    """
    The session's context summary.
    """
    progress: ReplayProgress
    last_checkpoint: LogEntry | None = None
    checkpoints: list[LogEntry]
    """
    Checkpoint entries, oldest first.
    """
    decisions: list[LogEntry]
    """
    Decision entries, oldest first.
    """
    errors: list[LogEntry]
    """
    Error entries, oldest first.
    """
    artifacts: list[Artifact]
    """
    All artifacts, oldest first.
    """
    artifacts_by_action: ArtifactsByAction
    recent_actions: list[LogEntry]
    """
    The newest work-log entries, newest first (at most 20).
    """
    handoff: Handoff | None = None
    final_summary: str | None = None
    """
    The summary given when the session ended.
    """
    created_at: datetime
    """
    When the session was created.
    """
    ended_at: datetime | None = None
    """
    When the session ended.
    """


class FileUpload(BaseModel):
    """
    The multipart body of `uploadFile`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    file: bytes
    """
    The file's bytes; the part's filename and content type are kept.
    """


class File(BaseModel):
    """
    An uploaded file.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    file_token: Annotated[
        str,
        Field(
            examples=["file_01hx7k2m9q"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ]
    """
    Pass in a turn's `files` to give the file to the agent.
    """
    filename: Annotated[str, Field(examples=["report.pdf"])]
    """
    The uploaded part's filename.
    """
    content_type: Annotated[str, Field(examples=["application/pdf"])]
    """
    The uploaded part's media type.
    """
    size_bytes: Annotated[int, Field(examples=[48213], ge=0)]
    """
    The file's size.
    """
    sha256: Annotated[
        str,
        Field(
            examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
        ),
    ]
    """
    The hex SHA-256 of the file's bytes.
    """
    created_at: datetime
    """
    When the file was uploaded.
    """


class Problem(BaseModel):
    """
    An RFC 9457 problem document with this API's `code` and `request_id`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[
        str, Field(examples=["https://agentsession.dev/problems/not_found"])
    ]
    """
    A URI that identifies the problem type.
    """
    title: Annotated[str, Field(examples=["Not found"])]
    """
    A short, human-readable summary of the problem type.
    """
    status: Annotated[int, Field(examples=[404], ge=400, le=599)]
    """
    The HTTP status code.
    """
    detail: Annotated[
        str | None, Field(examples=["No session sess_01hx7k2m9qv3c8d5e6f7g8h9j0."])
    ] = None
    """
    A human-readable explanation of this occurrence.
    """
    instance: Annotated[
        str | None, Field(examples=["/v1/sessions/sess_01hx7k2m9qv3c8d5e6f7g8h9j0"])
    ] = None
    """
    The request path this problem occurred on.
    """
    code: Annotated[
        ProblemCode | str, Field(examples=["not_found"], union_mode="left_to_right")
    ]
    """
    A stable, machine-readable error code (`ProblemCode`). New codes may be added:
    treat one you do not know by the HTTP status.

    """
    request_id: Annotated[
        str,
        Field(
            examples=["req_01hx7k2mb4x9"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9._-]+$",
        ),
    ]
    """
    The request's `X-Request-Id`.
    """
    errors: list[FieldError] | None = None
    """
    For validation failures, each offending field.
    """


class Health(BaseModel):
    """
    The server's health.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    status: Annotated[HealthStatus | str, Field(union_mode="left_to_right")]
    """
    `ok` when the server can serve requests (`HealthStatus`; other values may be added).
    """
    version: Annotated[str, Field(examples=["1.0.0"])]
    """
    The server's version.
    """
    time: datetime
    """
    The server's clock.
    """


class ScriptEvent(BaseModel):
    """
    The event a script step emits; the server assigns `seq`, `turn_index` and `created_at`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    type: Annotated[EventType | str, Field(union_mode="left_to_right")]
    """
    The event type (`EventType`; the agent ends the turn with an error on a type it cannot play).
    """
    content: str | None = None
    """
    The event's text.
    """
    tool_call_id: str | None = None
    """
    For tool events, the call's id.
    """
    name: str | None = None
    """
    For tool events, the tool's name.
    """
    args: dict[str, Any] | None = None
    """
    For `tool_call`, the arguments.
    """
    result: Any | None = None
    """
    For `tool_result`, the tool's result (any JSON value).
    """
    status: Annotated[
        ToolCallStatus | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For tool events, the call's state (`ToolCallStatus`).
    """
    data: dict[str, Any] | None = None
    """
    Extra structured data.
    """


class Features(BaseModel):
    """
    The optional features this server supports.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    streaming: bool
    """
    `sendTurn` streams with `Accept: text/event-stream`.
    """
    resume: bool
    """
    `streamTurn` resumes a turn's stream.
    """
    files: bool
    """
    `uploadFile` and `getFile` work and turns accept `files`.
    """
    lifecycle: bool
    """
    Pause, resume, end, continue, handoff, work log, artifacts and context work.
    """
    children: bool
    """
    `spawnChild` and `listChildren` work.
    """
    replay: bool
    """
    `getReplayContext` and `replaySession` work.
    """
    idempotency: bool
    """
    `Idempotency-Key` is honoured.
    """
    busy_policies: list[Annotated[BusyPolicy | str, Field(union_mode="left_to_right")]]
    """
    The busy policies `sendTurn` accepts.
    """


class Session(BaseModel):
    """
    An agent session. Optional members are omitted when they have no value.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str,
        Field(
            examples=["sess_01hx7k2m9qv3c8d5e6f7g8h9j0"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ]
    """
    The session's id.
    """
    agent: Annotated[str, Field(examples=["echo"])]
    """
    The agent that answers the session's turns.
    """
    status: Annotated[SessionStatus | str, Field(union_mode="left_to_right")]
    """
    Where the session is in its lifecycle (`SessionStatus`; other values may be added).
    """
    activity: Annotated[Activity | str, Field(union_mode="left_to_right")]
    """
    Whether a turn is running (`Activity`; other values may be added).
    """
    meta: Annotated[dict[str, Any], Field(examples=[{"app": "billing-bot"}])]
    """
    Free-form metadata the client attached at creation.
    """
    plan_slug: Annotated[str | None, Field(examples=["migrate-db"])] = None
    """
    The plan the session works on.
    """
    continued_from: Annotated[
        str | None,
        Field(
            examples=["sess_01hx7k2m9qv3c8d5e6f7g8h9aa"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ] = None
    """
    The session this one continues or replays.
    """
    parent_session_id: Annotated[
        str | None,
        Field(
            examples=["sess_01hx7k2m9qv3c8d5e6f7g8h9bb"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ] = None
    """
    For a child session, its parent.
    """
    depth: Annotated[int, Field(examples=[0], ge=0)]
    """
    0 for a root session, the parent's depth + 1 for a child.
    """
    context_summary: Annotated[
        dict[str, Any], Field(examples=[{"repository": "github.com/acme/api"}])
    ]
    """
    The session's working context, merge-updated with `updateContext`.
    """
    handoff: Handoff | None = None
    final_summary: Annotated[
        str | None, Field(examples=["Migrated the schema and updated the tests."])
    ] = None
    """
    The summary given when the session ended.
    """
    turn_count: Annotated[int, Field(examples=[3], ge=0)]
    """
    How many turns the session has accepted, queued ones included.
    """
    action_count: Annotated[int, Field(examples=[5], ge=0)]
    """
    How many work-log entries the session has.
    """
    artifact_count: Annotated[int, Field(examples=[2], ge=0)]
    """
    How many artifacts the session has recorded.
    """
    last_event_seq: Annotated[int, Field(examples=[41], ge=0)]
    """
    The `seq` of the session's newest event; 0 before the first.
    """
    created_at: datetime
    """
    When the session was created.
    """
    updated_at: datetime
    """
    When the session last changed: `created_at` at first, then the time of its newest
    change (a turn accepted, an event, a turn ended, a status change, handoff notes, a
    work-log entry, an artifact, a context update). Reads change nothing.

    """
    last_turn_at: datetime | None = None
    """
    When the session's newest turn was accepted (that turn's `created_at`).
    """
    ended_at: datetime | None = None
    """
    When the session became `completed` or `failed`.
    """


class SessionList(BaseModel):
    """
    One page of sessions.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[Session]
    """
    The sessions on this page.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class CloseSessionResult(BaseModel):
    """
    The result of closing a session.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session: Session
    already_closed: bool
    """
    True when the session had already ended before this request.
    """


class TurnAcceptedFrame(BaseModel):
    """
    The first frame of a `sendTurn` stream; it names the new turn. It has no `id`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["turn.accepted"]
    """
    `event: turn.accepted`.
    """
    data: TurnAccepted


class TurnCompletedFrame(BaseModel):
    """
    The last frame of a turn's stream, sent once the turn has ended. It has no `id`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["turn.completed"]
    """
    `event: turn.completed`.
    """
    data: TurnSummary


class TurnResult(TurnSummary, TurnEvents):
    """
    A finished turn with all its events.
    """

    model_config = ConfigDict(
        extra="allow",
    )


class HandoffContext(BaseModel):
    """
    Everything a new agent needs to take the session over.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    session_id: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[A-Za-z0-9_-]+$")
    ]
    """
    The session.
    """
    agent: str
    """
    The session's agent.
    """
    status: Annotated[SessionStatus | str, Field(union_mode="left_to_right")]
    """
    The session's status (`SessionStatus`).
    """
    plan_slug: str | None = None
    """
    The session's plan.
    """
    context_summary: dict[str, Any]
    """
    The session's context summary.
    """
    handoff: Handoff | None = None
    recent_actions: list[LogEntry]
    """
    The newest work-log entries, newest first (at most 20).
    """
    artifacts: list[Artifact]
    """
    The session's artifacts, oldest first (at most 100).
    """
    turn_count: Annotated[int, Field(ge=0)]
    """
    How many turns the session has accepted.
    """
    final_summary: str | None = None
    """
    The summary given when the session ended.
    """
    created_at: datetime
    """
    When the session was created.
    """
    updated_at: datetime
    """
    When the session last changed.
    """
    last_turn_at: datetime | None = None
    """
    When the newest turn was accepted.
    """


class ScriptStep(BaseModel):
    """
    One step of an `AgentScript`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    delay_ms: Annotated[int | None, Field(ge=0, le=600000)] = None
    """
    How long to wait before emitting the event.
    """
    event: ScriptEvent | None = None


class TurnStreamFrame(RootModel[TurnAcceptedFrame | EventFrame | TurnCompletedFrame]):
    root: Annotated[
        TurnAcceptedFrame | EventFrame | TurnCompletedFrame,
        Field(discriminator="event"),
    ]
    """
    One frame of a turn's event stream, told apart by `event`: `turn.accepted` (the
    first frame of a `sendTurn` stream), `message` (one per event; `id` is the event's
    `seq`), `turn.completed` (the last frame; the stream then ends). Frames of a type a
    client does not know are skipped.

    """


class AgentScript(BaseModel):
    """
    The prompt of a turn to a `scripted` agent, as JSON. The agent waits `delay_ms`
    before each step, emits the step's event (when it has one), and finally ends the
    turn with `stop_reason` (default `end_turn`) and `usage`. The turn stays cancellable
    during every delay.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    steps: Annotated[list[ScriptStep], Field(max_length=1000)]
    """
    The steps, in order.
    """
    stop_reason: Annotated[
        StopReason | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    How the turn ends (`StopReason`); default `end_turn`.
    """
    usage: Usage | None = None


class EventStream(RootModel[list[TurnStreamFrame]]):
    """
    A `text/event-stream` body, described frame by frame: each item is one server-sent
    event frame (`TurnStreamFrame`), in the order the server sends them. On the wire a
    frame is its `event:` line (absent for `message`), its `id:` line (event frames only),
    one `data:` line holding the JSON of `data`, and a blank line. Comment lines
    (`: keep-alive`) may come between frames. The guide's "Stream framing" section is the
    one description of the framing every SDK follows.

    """

    root: list[TurnStreamFrame]
    """
    A `text/event-stream` body, described frame by frame: each item is one server-sent
    event frame (`TurnStreamFrame`), in the order the server sends them. On the wire a
    frame is its `event:` line (absent for `message`), its `id:` line (event frames only),
    one `data:` line holding the JSON of `data`, and a blank line. Comment lines
    (`: keep-alive`) may come between frames. The guide's "Stream framing" section is the
    one description of the framing every SDK follows.

    """


class AgentInfo(BaseModel):
    """
    An agent sessions can use.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    name: Annotated[str, Field(examples=["echo"])]
    """
    The name to pass as `agent`.
    """
    kind: Annotated[AgentKind | str, Field(union_mode="left_to_right")]
    """
    What kind of agent this is (`AgentKind`; other values may be added).
    """
    description: Annotated[
        str | None,
        Field(
            examples=["Answers every prompt with one text event holding the prompt."]
        ),
    ] = None
    """
    What the agent does.
    """
    script: AgentScript | None = None
    """
    For a `scripted` agent that plays a fixed script whatever the prompt, that script.
    Absent for agents that read their script from the prompt.

    """


class Capabilities(BaseModel):
    """
    What this server offers.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    api_version: Annotated[str, Field(examples=["v1"])]
    """
    The API version the server implements.
    """
    server: ServerInfo
    agents: list[AgentInfo]
    """
    The agents sessions can use.
    """
    features: Features
    limits: Limits


JSONObject: TypeAlias = dict[str, Any]
"""
Any JSON object (the contract's ``JSONObject``): a plain ``dict`` in these models.
"""
