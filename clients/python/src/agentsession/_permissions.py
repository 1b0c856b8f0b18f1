"""Permission requests as a stream yields them: events that can be answered.

A stream (a turn's or the session's) yields a ``permission_request`` event as
a :class:`PermissionRequestEvent` (:class:`AsyncPermissionRequestEvent` from
the async client): still a ``types.Event`` with every member, plus
``answer(option_id)``. Non-streamed turns take a handler instead
(``on_permission``), which gets the request as a ``types.PermissionRequest``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import Unpack

from . import _generated as gen
from ._base_client import RequestOptions

__all__ = [
    "PermissionRequestEvent",
    "AsyncPermissionRequestEvent",
    "PermissionHandler",
    "AsyncPermissionHandler",
]

PermissionHandler = Callable[[gen.PermissionRequest], str]
"""Decides a permission request: gets it (title, options, tool call) and
returns the ``option_id`` to answer with."""

AsyncPermissionHandler = Callable[[gen.PermissionRequest], "str | Awaitable[str]"]
"""The async client's handler: a coroutine function (or a plain function)
returning the ``option_id``."""

Answer = Callable[[str, str, RequestOptions], gen.PermissionRequest]
AsyncAnswer = Callable[[str, str, RequestOptions], Awaitable[gen.PermissionRequest]]

E = TypeVar("E", bound=gen.Event)


def is_permission_request(event: gen.Event) -> bool:
    return event.type == gen.EventType.permission_request and event.request_id is not None


def request_of(session_id: str, event: gen.Event) -> gen.PermissionRequest:
    """The request a permission_request event asks, as the state the server
    lists (pending: the event is its question)."""
    return gen.PermissionRequest(
        request_id=event.request_id or "",
        session_id=session_id,
        turn_index=event.turn_index,
        tool_call_id=event.tool_call_id,
        title=event.title or "",
        options=list(event.options or []),
        status=gen.PermissionStatus.pending,
        created_at=event.created_at,
    )


def _rebuild(cls: type[E], event: gen.Event) -> E:
    """event as an instance of cls, without validating it again (it was)."""
    values: dict[str, Any] = {**event.__dict__, **(event.model_extra or {})}
    new = typing.cast(E, cls.model_construct(_fields_set=set(event.model_fields_set), **values))
    object.__setattr__(new, "_raw", getattr(event, "_raw", None))
    return new


class _Bound(gen.Event):
    # Slots, not pydantic private attributes (annotated only for the type
    # checker): the event's members and JSON stay exactly an Event's.
    __slots__ = ("_answer", "_session_id")

    if TYPE_CHECKING:
        _session_id: str

    def as_request(self) -> gen.PermissionRequest:
        """The request as a ``types.PermissionRequest`` (``status: pending``)."""
        return request_of(self._session_id, self)

    @property
    def option_ids(self) -> list[str]:
        """The ``option_id`` of each option on offer, in the agent's order."""
        return [o.option_id for o in self.options or []]


class PermissionRequestEvent(_Bound):
    """A ``permission_request`` event; the turn waits until it is answered.

    ``answer(option_id)`` answers it (``answerPermission``) and returns the
    request's new state; keep iterating the stream for the rest of the turn.
    The same answer again succeeds and changes nothing; another one raises
    ``PermissionResolvedError``, an option not on offer ``UnknownOptionError``.
    """

    if TYPE_CHECKING:
        _answer: Answer

    @classmethod
    def bind(cls, event: gen.Event, session_id: str, answer: Answer) -> PermissionRequestEvent:
        new = _rebuild(cls, event)
        object.__setattr__(new, "_session_id", session_id)
        object.__setattr__(new, "_answer", answer)
        return new

    def answer(self, option_id: str, **options: Unpack[RequestOptions]) -> gen.PermissionRequest:
        """Answer the request with one of its options' ``option_id``."""
        return self._answer(self.request_id or "", option_id, options)


class AsyncPermissionRequestEvent(_Bound):
    """A ``permission_request`` event from the async client;
    ``await event.answer(option_id)`` answers it (see :class:`PermissionRequestEvent`)."""

    if TYPE_CHECKING:
        _answer: AsyncAnswer

    @classmethod
    def bind(cls, event: gen.Event, session_id: str, answer: AsyncAnswer) -> AsyncPermissionRequestEvent:
        new = _rebuild(cls, event)
        object.__setattr__(new, "_session_id", session_id)
        object.__setattr__(new, "_answer", answer)
        return new

    async def answer(self, option_id: str, **options: Unpack[RequestOptions]) -> gen.PermissionRequest:
        """Answer the request with one of its options' ``option_id``."""
        return await self._answer(self.request_id or "", option_id, options)


async def decide(handler: AsyncPermissionHandler, request: gen.PermissionRequest) -> str:
    """The async handler's option id (it may be a plain function)."""
    choice = handler(request)
    if inspect.isawaitable(choice):
        choice = await choice
    return _option_id(choice)


def decide_sync(handler: PermissionHandler, request: gen.PermissionRequest) -> str:
    return _option_id(handler(request))


def _option_id(choice: object) -> str:
    if not isinstance(choice, str) or not choice:
        raise TypeError(f"on_permission must return an option_id (a non-empty str), got {choice!r}")
    return choice
