"""The SDK's exceptions.

    AgentSessionError
    ├── APIError                      a call to the server failed
    │   ├── APIConnectionError        no answer (alias TransportError); __cause__ is httpx's error
    │   │   ├── APITimeoutError
    │   │   └── StreamLostError       a turn stream dropped and could not be resumed
    │   ├── APIResponseValidationError  a 2xx answer that does not fit the contract
    │   ├── PermissionRequiredError   a turn waits for an answer and no handler was set
    │   └── APIStatusError            the server answered 4xx or 5xx
    │       ├── AuthError             401, 403
    │       │   ├── AuthenticationError       401
    │       │   └── PermissionDeniedError     403
    │       ├── NotFoundError                 404
    │       ├── ConflictError                 409, and more precisely:
    │       │   ├── BusyError                 turn_in_progress, turn_queue_full
    │       │   ├── InvalidTransitionError    invalid_transition
    │       │   ├── SessionPausedError        session_paused
    │       │   ├── SessionEndedError         session_ended
    │       │   ├── SpawnLimitError           spawn_limit_exceeded
    │       │   ├── TurnEndedError            turn_ended
    │       │   └── PermissionResolvedError   permission_resolved
    │       ├── ValidationError               400, 422 (field_errors)
    │       │   ├── BadRequestError           400
    │       │   └── UnprocessableEntityError  422, and more precisely:
    │       │       ├── UnknownOptionError            unknown_option
    │       │       ├── UnsupportedBusyPolicyError    unsupported_busy_policy
    │       │       └── InvalidAgentOptionsError      invalid_agent_options
    │       ├── RequestTimeoutError           408 (retried)
    │       ├── PayloadTooLargeError          413
    │       ├── RateLimitError                429 (retry_after)
    │       └── InternalServerError           5xx
    └── CursorLoopError               a list's server sent the same cursor twice

No message, attribute or exception of the SDK holds the client's token: text
the server sent back (detail, title, code, request id, body, headers) is
redacted before it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._generated import PermissionRequest, ProblemCode
from ._retry import FINAL_PROBLEM_CODES

__all__ = [
    "AgentSessionError",
    "APIError",
    "APIConnectionError",
    "TransportError",
    "APITimeoutError",
    "StreamLostError",
    "APIResponseValidationError",
    "PermissionRequiredError",
    "APIStatusError",
    "AuthError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "BusyError",
    "InvalidTransitionError",
    "SessionPausedError",
    "SessionEndedError",
    "SpawnLimitError",
    "TurnEndedError",
    "PermissionResolvedError",
    "ValidationError",
    "BadRequestError",
    "UnprocessableEntityError",
    "UnknownOptionError",
    "UnsupportedBusyPolicyError",
    "InvalidAgentOptionsError",
    "RequestTimeoutError",
    "PayloadTooLargeError",
    "RateLimitError",
    "InternalServerError",
    "CursorLoopError",
]


class AgentSessionError(Exception):
    """The base of every exception the SDK raises."""


class APIError(AgentSessionError):
    """A call to the server failed.

    ``method`` and ``url`` name the request (the URL without query string);
    ``attempts`` is how many HTTP attempts the call made; ``idempotency_key``
    is the key it carried (``None`` for reads).
    """

    message: str
    method: str
    url: str
    attempts: int
    idempotency_key: str | None

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        attempts: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.attempts = attempts
        self.idempotency_key = idempotency_key


class APIConnectionError(APIError):
    """No answer arrived: the connection failed, was reset, or the body of a
    2xx answer was cut. ``__cause__`` is the underlying httpx error."""


TransportError = APIConnectionError


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class StreamLostError(APIConnectionError):
    """A turn stream dropped and ``max_resumes`` resumes in a row brought
    nothing new (or its events carry no ``seq``, so it cannot be resumed
    without duplicates). The turn may still run on the server."""

    turn_index: int | None
    last_seq: int
    resumes: int

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        turn_index: int | None,
        last_seq: int,
        resumes: int,
        attempts: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts, idempotency_key=idempotency_key)
        self.turn_index = turn_index
        self.last_seq = last_seq
        self.resumes = resumes


class APIResponseValidationError(APIError):
    """A 2xx answer whose body does not fit the contract."""

    status_code: int
    body: bytes

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: bytes,
        method: str,
        url: str,
        attempts: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts, idempotency_key=idempotency_key)
        self.status_code = status_code
        self.body = body


class PermissionRequiredError(APIError):
    """A non-streamed turn's agent asked for permission and the call has no
    ``on_permission`` handler. The turn goes on waiting on the server: answer
    each request (``session.answer_permission(request_id, option_id)``), then
    ``session.wait_turn(turn_index)`` for its result, or cancel it.

    ``permission_requests`` are the turn's pending requests (their options
    included); ``last_seq`` is the ``seq`` of the turn's newest event then.
    """

    session_id: str
    turn_index: int
    permission_requests: list[PermissionRequest]
    last_seq: int

    def __init__(
        self,
        message: str,
        *,
        session_id: str,
        turn_index: int,
        permission_requests: list[PermissionRequest],
        last_seq: int,
        method: str,
        url: str,
        attempts: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts, idempotency_key=idempotency_key)
        self.session_id = session_id
        self.turn_index = turn_index
        self.permission_requests = permission_requests
        self.last_seq = last_seq


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status.

    The fields of the RFC 9457 problem document are attributes. ``code`` is the
    problem's code as a ``str``, equal to a ``ProblemCode`` member when the
    contract lists it (``err.code == ProblemCode.not_found``); a code this SDK
    does not know is kept as it came, ``None`` when the body had none.
    ``body`` is the start of the raw body (at most 64 KiB), also when it was
    empty or not JSON; ``retry_after`` is the delay the server asked for in
    seconds (``Retry-After`` or ``Retry-After-Ms``), else ``None``.
    """

    status_code: int
    code: str | None
    title: str | None
    detail: str | None
    type: str | None
    instance: str | None
    field_errors: list[dict[str, Any]]
    request_id: str | None
    retry_after: float | None
    headers: Mapping[str, str]
    body: bytes

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        type: str | None = None,
        instance: str | None = None,
        field_errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        attempts: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts, idempotency_key=idempotency_key)
        self.status_code = status_code
        self.code = code
        self.title = title
        self.detail = detail
        self.type = type
        self.instance = instance
        self.field_errors = field_errors or []
        self.request_id = request_id
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.body = body

    @property
    def temporary(self) -> bool:
        """Whether the same request may succeed later (a status the retry
        policy retries, unless the code is in ``FINAL_PROBLEM_CODES``)."""
        return self.status_code in RETRYABLE_STATUSES and self.code not in FINAL_PROBLEM_CODES


class AuthError(APIStatusError):
    """401 or 403: the token is missing, unknown or not allowed."""


class AuthenticationError(AuthError):
    """401: the token is missing or unknown."""


class PermissionDeniedError(AuthError):
    """403: the token may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource for this tenant (another tenant's looks the same)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class BusyError(ConflictError):
    """409 ``turn_in_progress`` (busy policy reject) or ``turn_queue_full``."""


class InvalidTransitionError(ConflictError):
    """409 ``invalid_transition``: the lifecycle forbids the change."""


class SessionPausedError(ConflictError):
    """409 ``session_paused``: resume the session first."""


class SessionEndedError(ConflictError):
    """409 ``session_ended``: the session accepts no more work."""


class SpawnLimitError(ConflictError):
    """409 ``spawn_limit_exceeded``: a child-session cap would be exceeded."""


class TurnEndedError(ConflictError):
    """409 ``turn_ended``: the turn to cancel has already ended."""


class PermissionResolvedError(ConflictError):
    """409 ``permission_resolved``: the permission request was answered with
    another option, or cancelled (the same answer again succeeds)."""


class ValidationError(APIStatusError):
    """400 or 422: the server rejected the request's content; ``field_errors``
    lists the offending fields (``location``, ``message``)."""


class BadRequestError(ValidationError):
    """400: malformed request, bad parameter or cursor."""


class UnprocessableEntityError(ValidationError):
    """422: unknown agent or file, or an idempotency key reused with another request."""


class UnknownOptionError(UnprocessableEntityError):
    """422 ``unknown_option``: the permission request offers no such option."""


class UnsupportedBusyPolicyError(UnprocessableEntityError):
    """422 ``unsupported_busy_policy``: the session's agent cannot take this
    busy policy (``steer``; see ``AgentInfo.steer``)."""


class InvalidAgentOptionsError(UnprocessableEntityError):
    """422 ``invalid_agent_options``: options the agent does not declare, or
    values it does not accept; ``field_errors`` names each."""


class RequestTimeoutError(APIStatusError):
    """408 ``request_timeout``: the request's body did not reach the server in
    time. Retried like a 5xx; raised when the attempts run out."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is over the server's limit (see ``capabilities().limits``)."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's delay in seconds."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class AgentStartFailedError(InternalServerError):
    """502 ``agent_start_failed``: the session's agent could not be started
    (missing command, exited at start, or no ACP initialize within its start
    timeout); ``detail`` names the agent and the reason. Not retried: the
    server already waited."""


class CursorLoopError(AgentSessionError):
    """A list's server answered the same ``next_cursor`` twice in a row."""


RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# The 409 codes with an exception of their own; the codes are the contract's
# (ProblemCode), and tests/test_problem_codes.py fails when they drift apart.
CONFLICT_CLASSES: dict[ProblemCode, type[ConflictError]] = {
    ProblemCode.turn_in_progress: BusyError,
    ProblemCode.turn_queue_full: BusyError,
    ProblemCode.invalid_transition: InvalidTransitionError,
    ProblemCode.session_paused: SessionPausedError,
    ProblemCode.session_ended: SessionEndedError,
    ProblemCode.spawn_limit_exceeded: SpawnLimitError,
    ProblemCode.turn_ended: TurnEndedError,
    ProblemCode.permission_resolved: PermissionResolvedError,
}
# The 422 codes with an exception of their own (the others are UnprocessableEntityError).
UNPROCESSABLE_CLASSES: dict[ProblemCode, type[UnprocessableEntityError]] = {
    ProblemCode.unknown_option: UnknownOptionError,
    ProblemCode.unsupported_busy_policy: UnsupportedBusyPolicyError,
    ProblemCode.invalid_agent_options: InvalidAgentOptionsError,
}
# The 502 codes with an exception of their own (the others are InternalServerError).
BAD_GATEWAY_CLASSES: dict[ProblemCode, type[InternalServerError]] = {
    ProblemCode.agent_start_failed: AgentStartFailedError,
}
_BY_CODE: dict[tuple[int, str], type[APIStatusError]] = {
    **{(409, code.value): cls for code, cls in CONFLICT_CLASSES.items()},
    **{(422, code.value): cls for code, cls in UNPROCESSABLE_CLASSES.items()},
    **{(502, code.value): cls for code, cls in BAD_GATEWAY_CLASSES.items()},
}

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int, code: str | None) -> type[APIStatusError]:
    """The exception class for an answer; unknown codes go by the status."""
    if code is not None:
        cls = _BY_CODE.get((status, code))
        if cls is not None:
            return cls
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError
