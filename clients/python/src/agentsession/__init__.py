"""The Python SDK of the Agent Session API.

from agentsession import Client

with Client() as client:  # AGENTSESSION_BASE_URL, AGENTSESSION_TOKEN
    with client.sessions.create(agent="echo") as session:
        print(session.turn("Hello").text())
"""

from . import types
from ._base_client import DEFAULT_TIMEOUT, NOT_GIVEN, NotGiven, RequestOptions
from ._client import AsyncClient, Client
from ._exceptions import (
    AgentSessionError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthError,
    BadRequestError,
    BusyError,
    ConflictError,
    CursorLoopError,
    InternalServerError,
    InvalidTransitionError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    SessionEndedError,
    SessionPausedError,
    SpawnLimitError,
    StreamLostError,
    TransportError,
    UnprocessableEntityError,
    ValidationError,
)
from ._pagination import AsyncPager, Page, SyncPager
from ._retry import RetryBudget, RetryPolicy
from ._sessions import AsyncSession, FileInput, Session
from ._streaming import AsyncTurnStream, StreamIncompleteError, TurnStream
from ._turn import TurnResult
from ._version import __version__
from .types import (
    ArtifactAction,
    BusyPolicy,
    EndStatus,
    Event,
    EventType,
    LogEntryType,
    ProblemCode,
    SessionStatus,
    StopReason,
)

SessionInfo = types.Session
"""The session as the server describes it (``Session.info``)."""

__all__ = [
    "__version__",
    "types",
    "Client",
    "AsyncClient",
    "Session",
    "AsyncSession",
    "SessionInfo",
    "TurnResult",
    "TurnStream",
    "AsyncTurnStream",
    "Event",
    "EventType",
    "StopReason",
    "BusyPolicy",
    "SessionStatus",
    "EndStatus",
    "LogEntryType",
    "ArtifactAction",
    "ProblemCode",
    "SyncPager",
    "AsyncPager",
    "Page",
    "FileInput",
    "RetryPolicy",
    "RetryBudget",
    "RequestOptions",
    "NOT_GIVEN",
    "NotGiven",
    "DEFAULT_TIMEOUT",
    "AgentSessionError",
    "APIError",
    "APIConnectionError",
    "TransportError",
    "APITimeoutError",
    "StreamLostError",
    "StreamIncompleteError",
    "APIResponseValidationError",
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
    "ValidationError",
    "BadRequestError",
    "UnprocessableEntityError",
    "PayloadTooLargeError",
    "RateLimitError",
    "InternalServerError",
    "CursorLoopError",
]
