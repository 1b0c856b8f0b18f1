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
    | `request_timeout` | 408 | the request body did not arrive in time |
    | `invalid_transition` | 409 | the lifecycle state machine forbids the change |
    | `turn_in_progress` | 409 | busy policy `reject` and a turn is running |
    | `turn_queue_full` | 409 | busy policy `enqueue` and the queue is full |
    | `turn_ended` | 409 | the turn to cancel has already ended |
    | `session_paused` | 409 | the session is paused |
    | `session_ended` | 409 | the session is completed or failed |
    | `spawn_limit_exceeded` | 409 | a child-session cap would be exceeded |
    | `permission_resolved` | 409 | the permission request was answered otherwise, or cancelled |
    | `idempotency_in_progress` | 409 | a request with the same key is still being processed |
    | `payload_too_large` | 413 | the body is over the server's limit |
    | `unsupported_media_type` | 415 | the body's media type is not accepted |
    | `unknown_agent` | 422 | no agent of that name |
    | `unknown_file` | 422 | a file token this tenant never uploaded |
    | `unknown_option` | 422 | an option the permission request does not offer |
    | `unsupported_busy_policy` | 422 | the agent cannot take this busy policy |
    | `invalid_agent_options` | 422 | options the agent does not declare, or values it does not accept |
    | `idempotency_key_reused` | 422 | the key was used before with a different request |
    | `rate_limited` | 429 | too many requests |
    | `internal` | 500 | the server failed |
    | `agent_start_failed` | 502 | the session's agent could not be started |

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
    request_timeout = "request_timeout"
    turn_ended = "turn_ended"
    permission_resolved = "permission_resolved"
    unknown_option = "unknown_option"
    unsupported_busy_policy = "unsupported_busy_policy"
    invalid_agent_options = "invalid_agent_options"
    agent_start_failed = "agent_start_failed"


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


class AgentOptionType(str, Enum):
    """
    The JSON type of an agent option's values: `string`, `integer` (a number without a
    fraction), `number` or `boolean`.

    """

    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"


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
    Whether a turn is running: `idle`, `running`, `stalled` when the running turn has
    shown no progress for longer than `limits.stall_after_ms`, or `waiting_for_input`
    while the running turn waits for an answer to a permission request (which is not
    a stall).

    """

    idle = "idle"
    running = "running"
    stalled = "stalled"
    waiting_for_input = "waiting_for_input"


class EndReason(str, Enum):
    """
    Why a session ended: `ended` (`endSession`), `closed` (`closeSession`), `failed` (the
    server failed it, for example because its agent could not start) or
    `parent_closed` (closed with its parent).

    """

    ended = "ended"
    closed = "closed"
    failed = "failed"
    parent_closed = "parent_closed"


class CreateSessionRequest(BaseModel):
    """
    A new session: its `agent`, and optionally `meta` (free-form metadata kept with the
    session and returned as its `meta`), `plan_slug`, `context` (the initial context
    summary, returned as `context_summary`) and `agent_options` (values for the options
    the agent declares in `AgentInfo.options`, returned with the defaults as
    `agent_options`).

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
    agent_options: dict[str, Any] | None = None


class BusyPolicy(str, Enum):
    """
    What `sendTurn` does while another turn runs: `reject` answers `409
    turn_in_progress`, `enqueue` waits its turn, `interrupt` cancels the running turn,
    `steer` gives the prompt to the running turn as guidance (no new turn).

    """

    reject = "reject"
    enqueue = "enqueue"
    interrupt = "interrupt"
    steer = "steer"


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
    meta: dict[str, Any] | None = None


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
    new ones may be added. `permission_request` and `permission_response` are an
    agent's question and its answer (see "Permission requests"); `guidance` is a
    `steer` prompt the agent took.

    """

    text = "text"
    thinking = "thinking"
    tool_call = "tool_call"
    tool_result = "tool_result"
    plan = "plan"
    usage = "usage"
    error = "error"
    permission_request = "permission_request"
    permission_response = "permission_response"
    guidance = "guidance"


class ToolCallStatus(str, Enum):
    """
    The state of a tool call.
    """

    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class PermissionOptionKind(str, Enum):
    """
    The kind of a permission option, as the Agent Client Protocol has them: allow or
    reject, this once or always.

    """

    allow_once = "allow_once"
    allow_always = "allow_always"
    reject_once = "reject_once"
    reject_always = "reject_always"


class PermissionOption(BaseModel):
    """
    One answer a permission request offers.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    option_id: Annotated[str, Field(examples=["allow"], max_length=128, min_length=1)]
    """
    The id to answer with (`answerPermission`).
    """
    name: Annotated[str, Field(examples=["Allow"])]
    """
    The option as a person reads it.
    """
    kind: Annotated[PermissionOptionKind | str, Field(union_mode="left_to_right")]
    """
    What the option means (`PermissionOptionKind`; other values may be added).
    """


class PermissionOutcome(str, Enum):
    """
    How a permission request was answered: `selected` (an option was chosen) or
    `cancelled` (the turn ended first, or the agent withdrew the request).

    """

    selected = "selected"
    cancelled = "cancelled"


class PermissionStatus(str, Enum):
    """
    `pending` (waiting for an answer), `answered` (an option was chosen) or `cancelled`.
    """

    pending = "pending"
    answered = "answered"
    cancelled = "cancelled"


class PermissionRequest(BaseModel):
    """
    A permission request and where it stands.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    request_id: Annotated[
        str,
        Field(
            examples=["perm_01hx7k2m9qv3c8d5e6f7g8h9k1"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ]
    """
    The request's id, unique in the session.
    """
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
    turn_index: Annotated[int, Field(examples=[2], ge=1)]
    """
    The turn that asked.
    """
    tool_call_id: Annotated[str | None, Field(examples=["call_2"])] = None
    """
    The tool call the request concerns, when it concerns one.
    """
    title: Annotated[str, Field(examples=["Drop the table orders_old?"])]
    """
    What the agent asks.
    """
    options: list[PermissionOption]
    """
    The answers on offer, in the agent's order.
    """
    status: Annotated[PermissionStatus | str, Field(union_mode="left_to_right")]
    """
    Where the request stands (`PermissionStatus`; other values may be added).
    """
    outcome: Annotated[
        PermissionOutcome | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    How it was answered, once it was (`PermissionOutcome`).
    """
    option_id: Annotated[str | None, Field(examples=["allow"])] = None
    """
    The option chosen, when the outcome is `selected`.
    """
    created_at: datetime
    """
    When the agent asked (its `permission_request` event's `created_at`).
    """
    answered_at: datetime | None = None
    """
    When it was answered or cancelled.
    """


class PermissionRequestList(BaseModel):
    """
    One page of permission requests.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[PermissionRequest]
    """
    The requests on this page, oldest first.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class PermissionAnswer(BaseModel):
    """
    The answer to a permission request.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    option_id: Annotated[str, Field(examples=["allow"], max_length=128, min_length=1)]
    """
    The chosen option's `option_id`.
    """


class TurnWaiting(BaseModel):
    """
    A JSON `sendTurn`'s answer (`202`) when its turn waits for an answer to a permission
    request: the turn goes on waiting. Answer with `answerPermission`, then follow the
    turn with `streamTurn` (`Last-Event-ID: <last_seq>`) or `getTurn`.

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
    turn_index: Annotated[int, Field(examples=[2], ge=1)]
    """
    The waiting turn.
    """
    status: Annotated[Activity | str, Field(union_mode="left_to_right")]
    """
    `waiting_for_input` (`Activity`; other values may be added).
    """
    permission_requests: list[PermissionRequest]
    """
    The turn's pending requests, oldest first.
    """
    last_seq: Annotated[int, Field(examples=[4], ge=1)]
    """
    The `seq` of the turn's newest event so far; resume `streamTurn` after it.
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


class Event3(str, Enum):
    """
    `event: turn.completed`.
    """

    turn_completed = "turn.completed"


class LifecycleEventType(str, Enum):
    """
    What happened to the session: `turn_queued` (a turn waits behind another),
    `turn_started`, `turn_ended`, `status_changed`, `handoff` (notes written) or
    `child_spawned`.

    """

    turn_queued = "turn_queued"
    turn_started = "turn_started"
    turn_ended = "turn_ended"
    status_changed = "status_changed"
    handoff = "handoff"
    child_spawned = "child_spawned"


class LifecycleEvent(BaseModel):
    """
    Something that happened to a session besides its agent's work, numbered in the
    session's own lifecycle sequence. The members that do not concern its `type` are
    absent.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    lifecycle_seq: Annotated[int, Field(examples=[7], ge=1)]
    """
    The per-session lifecycle sequence number, from 1 and without gaps.
    """
    after_seq: Annotated[int, Field(examples=[40], ge=0)]
    """
    The `seq` of the session's newest turn event when it happened (0 before the first).
    """
    type: Annotated[LifecycleEventType | str, Field(union_mode="left_to_right")]
    """
    What happened (`LifecycleEventType`; other values may be added).
    """
    turn_index: Annotated[int | None, Field(examples=[3], ge=1)] = None
    """
    For `turn_queued`, `turn_started` and `turn_ended`, the turn.
    """
    status: Annotated[SessionStatus | str | None, Field(union_mode="left_to_right")] = (
        None
    )
    """
    For `status_changed`, the session's new status (`SessionStatus`).
    """
    stop_reason: Annotated[
        StopReason | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For `turn_ended`, why the turn ended (`StopReason`).
    """
    queue_position: Annotated[int | None, Field(examples=[1], ge=1)] = None
    """
    For `turn_queued`, the turn's place in the queue when it was queued.
    """
    child_session_id: Annotated[
        str | None,
        Field(
            examples=["sess_01hx7k2m9qv3c8d5e6f7g8h9bb"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ] = None
    """
    For `child_spawned`, the new child session.
    """
    created_at: datetime
    """
    When it happened.
    """


class LifecycleEventList(BaseModel):
    """
    One page of lifecycle events.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    items: list[LifecycleEvent]
    """
    The lifecycle events on this page, in `lifecycle_seq` order.
    """
    next_cursor: str | None = None
    """
    Pass as `cursor` for the next page; absent on the last page.
    """


class Event4(str, Enum):
    """
    `message`: no `event:` line is sent.
    """

    message = "message"


class Event5(str, Enum):
    """
    `event: session.lifecycle`.
    """

    session_lifecycle = "session.lifecycle"


class SessionLifecycleFrame(BaseModel):
    """
    One lifecycle event of the session; its `id:` is the session's position after it.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["session.lifecycle"]
    """
    `event: session.lifecycle`.
    """
    id: Annotated[
        str,
        Field(examples=["40.7"], max_length=31, pattern="^[0-9]{1,15}\\.[0-9]{1,15}$"),
    ]
    """
    The `id:` line, `<seq>.<lifecycle_seq>`.
    """
    data: LifecycleEvent


class Event6(str, Enum):
    """
    `event: session.ended`.
    """

    session_ended = "session.ended"


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
    queue_position: Annotated[int | None, Field(examples=[1], ge=1)] = None
    """
    For a queued turn, its place in the queue (1 runs next); absent otherwise.
    """
    steered: bool | None = None
    """
    True when the prompt was given to the running turn as guidance (`busy_policy:
    steer`): `turn_index` is that turn's, and the stream carries its events from
    then on; absent otherwise.

    """
    meta: dict[str, Any] | None = None


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
    meta: dict[str, Any] | None = None


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
    agent_options: dict[str, Any] | None = None


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
    agent_options: dict[str, Any] | None = None


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


class LogOrder(str, Enum):
    """
    The order of a work-log list.
    """

    oldest_first = "oldest_first"
    newest_first = "newest_first"


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
    The request path this problem occurred on: its first 1024 bytes, followed by
    `...` when the path is longer.

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


class AgentOption(BaseModel):
    """
    One option an agent takes in `agent_options`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    name: Annotated[str, Field(examples=["prefix"])]
    """
    The member name in `agent_options`.
    """
    description: Annotated[
        str | None, Field(examples=["Put before the echoed text."])
    ] = None
    """
    What the option does.
    """
    type: Annotated[AgentOptionType | str, Field(union_mode="left_to_right")]
    """
    The JSON type of its values (`AgentOptionType`; other values may be added).
    """
    enum: Annotated[list[Any] | None, Field(examples=[["low", "medium", "high"]])] = (
        None
    )
    """
    The values allowed, when only some are; absent means any value of the type.
    """
    default: Annotated[Any | None, Field(examples=["medium"])] = None
    """
    The value in force when the session does not set one; absent when there is none.
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
    permissions: bool | None = None
    """
    Agents' permission requests reach the client (`permission_request` events,
    `answerPermission`, `listPermissions`); absent means false.

    """
    session_stream: bool | None = None
    """
    `streamSession` and `listLifecycleEvents` work; absent means false.
    """
    busy_policies: list[Annotated[BusyPolicy | str, Field(union_mode="left_to_right")]]
    """
    The busy policies `sendTurn` accepts (`steer` when some agent can be steered).
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
    queued_turns: Annotated[int, Field(examples=[0], ge=0)]
    """
    How many of its turns wait behind the running one (`status` `queued`); 0 when none.
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
    end_reason: Annotated[EndReason | str | None, Field(union_mode="left_to_right")] = (
        None
    )
    """
    Why the session ended (`EndReason`; other values may be added); present once it has ended.
    """
    duration_ms: Annotated[int | None, Field(examples=[1200000], ge=0)] = None
    """
    How long the session lived, `ended_at - created_at` in milliseconds; present once it has ended.
    """
    agent_options: Annotated[
        dict[str, Any] | None, Field(examples=[{"prefix": "> "}])
    ] = None
    """
    The agent options in force: those given at creation with the agent's defaults
    filled in. Present when some option is in force.

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
    The text of a `text`, `thinking`, `plan`, `error` or `guidance` event.
    """
    tool_call_id: Annotated[str | None, Field(examples=["call_7"])] = None
    """
    For `tool_call` and `tool_result`, the call's id; for `permission_request`, the tool call it concerns, when it concerns one.
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
    request_id: Annotated[
        str | None,
        Field(
            examples=["perm_01hx7k2m9qv3c8d5e6f7g8h9k1"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ] = None
    """
    For `permission_request` and `permission_response`, the request's id, unique in the session.
    """
    title: Annotated[str | None, Field(examples=["Drop the table orders_old?"])] = None
    """
    For `permission_request`, what the agent asks.
    """
    options: list[PermissionOption] | None = None
    """
    For `permission_request`, the answers on offer, in the agent's order.
    """
    outcome: Annotated[
        PermissionOutcome | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    For `permission_response`, how the request was answered (`PermissionOutcome`).
    """
    option_id: Annotated[str | None, Field(examples=["allow"])] = None
    """
    For a `permission_response` whose outcome is `selected`, the option chosen.
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


class SessionEventFrame(BaseModel):
    """
    One turn event of the session. The frame has no `event:` line (SSE's default type
    `message`); its `id:` is the session's position after it, `<seq>.<lifecycle_seq>`.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["message"]
    """
    `message`: no `event:` line is sent.
    """
    id: Annotated[
        str,
        Field(examples=["41.7"], max_length=31, pattern="^[0-9]{1,15}\\.[0-9]{1,15}$"),
    ]
    """
    The `id:` line, `<seq>.<lifecycle_seq>`.
    """
    data: Event


class SessionEndedFrame(BaseModel):
    """
    The last frame of a session's stream, sent once the session has ended. It has no `id`.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    event: Literal["session.ended"]
    """
    `event: session.ended`.
    """
    data: Session


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
    queue_position: Annotated[int | None, Field(examples=[1], ge=1)] = None
    """
    While the turn is queued, its place in the queue (1 runs next); absent otherwise.
    """
    meta: Annotated[dict[str, Any] | None, Field(examples=[{"ticket": "OPS-42"}])] = (
        None
    )
    """
    The `meta` the turn was sent with; absent when it had none.
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


class SessionStreamFrame(
    RootModel[SessionEventFrame | SessionLifecycleFrame | SessionEndedFrame]
):
    root: Annotated[
        SessionEventFrame | SessionLifecycleFrame | SessionEndedFrame,
        Field(discriminator="event"),
    ]
    """
    One frame of a session's stream, told apart by `event`: `message` (a turn event),
    `session.lifecycle` (a lifecycle event), `session.ended` (the last frame). Frames of
    a type a client does not know are skipped.

    """


class TurnResult(TurnSummary, TurnEvents):
    """
    A finished turn with all its events.
    """

    model_config = ConfigDict(
        extra="allow",
    )


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


class SessionStream(RootModel[list[SessionStreamFrame]]):
    """
    The `text/event-stream` body of `streamSession`, described frame by frame: each
    item is one frame (`SessionStreamFrame`), in the order the server sends them. The
    guide's "Stream framing" section is the one description of the framing.

    """

    root: list[SessionStreamFrame]
    """
    The `text/event-stream` body of `streamSession`, described frame by frame: each
    item is one frame (`SessionStreamFrame`), in the order the server sends them. The
    guide's "Stream framing" section is the one description of the framing.

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
    permissions: bool | None = None
    """
    True when the agent may ask permission (`permission_request` events); absent
    means false.

    """
    steer: bool | None = None
    """
    True when the agent takes guidance (`busy_policy: steer`); absent means false:
    a `steer` prompt to its sessions answers `422 unsupported_busy_policy`.

    """
    options: list[AgentOption] | None = None
    """
    The options sessions of this agent take in `agent_options` (for example a model
    or a reasoning effort); absent or empty when it takes none.

    """


class AgentScript(BaseModel):
    """
    The prompt of a turn to a `scripted` agent, as JSON. The agent waits `delay_ms`
    before each step, emits the step's event or asks the step's `ask` (when it has
    one), and finally ends the turn with `stop_reason` (default `end_turn`) and `usage`.
    The turn stays cancellable during every delay and every wait for an answer.

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


class ScriptStep(BaseModel):
    """
    One step of an `AgentScript`; it has an `event`, an `ask` or neither (a pause), never both.
    """

    model_config = ConfigDict(
        extra="allow",
    )
    delay_ms: Annotated[int | None, Field(ge=0, le=600000)] = None
    """
    How long to wait before emitting the event (or asking).
    """
    event: ScriptEvent | None = None
    ask: ScriptAsk | None = None
    """
    The permission request the step makes instead of an event.
    """


class ScriptAsk(BaseModel):
    """
    A permission request the scripted agent makes: it emits a `permission_request`
    event, waits for the answer, then plays the branch of the chosen `option_id` (or
    `cancelled` when the request was withdrawn after `timeout_ms`). When the turn itself
    is cancelled, interrupted, closed or times out while the agent waits, the turn ends
    as that says and no branch plays.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    request_id: Annotated[
        str | None,
        Field(
            examples=["perm_drop_orders"],
            max_length=128,
            min_length=1,
            pattern="^[A-Za-z0-9_-]+$",
        ),
    ] = None
    """
    The request's id; the server makes one when absent. Unique in the session.
    """
    tool_call_id: Annotated[str | None, Field(examples=["call_2"])] = None
    """
    The tool call the request concerns.
    """
    title: Annotated[str, Field(examples=["Drop the table orders_old?"], min_length=1)]
    """
    What the agent asks.
    """
    options: Annotated[list[PermissionOption], Field(max_length=16, min_length=1)]
    """
    The answers on offer, in order; option ids are unique.
    """
    timeout_ms: Annotated[int | None, Field(ge=1, le=600000)] = None
    """
    Withdraw the request when it has no answer after this long: it is answered
    `cancelled` and the `cancelled` branch plays. Without it the agent waits until
    the turn ends.

    """
    branches: ScriptBranches | None = None
    """
    What to do after each answer, by option id (or `cancelled`).
    """


class ScriptBranch(BaseModel):
    """
    The steps played after an answer. With `stop_reason` the turn ends after them with
    that stop reason; without, the script goes on with the step after the ask.

    """

    model_config = ConfigDict(
        extra="allow",
    )
    steps: Annotated[list[ScriptStep], Field(max_length=1000)]
    """
    The branch's steps, in order (they may ask again).
    """
    stop_reason: Annotated[
        StopReason | str | None, Field(union_mode="left_to_right")
    ] = None
    """
    How the turn ends after the branch (`StopReason`); absent to go on with the script.
    """


class ScriptBranches(RootModel[dict[str, ScriptBranch]]):
    """
    What the scripted agent does after the answer, by the chosen `option_id`, or
    `cancelled` for a withdrawn request. An answer without a branch goes on with the
    script's next step.

    """

    root: dict[str, ScriptBranch]


Capabilities.model_rebuild()
AgentInfo.model_rebuild()
AgentScript.model_rebuild()
ScriptStep.model_rebuild()
ScriptAsk.model_rebuild()


JSONObject: TypeAlias = dict[str, Any]
"""
Any JSON object (the contract's ``JSONObject``): a plain ``dict`` in these models.
"""
