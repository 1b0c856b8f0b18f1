"""The session-wide stream (streamSession): every turn event and lifecycle
event of a session, across turns, until the session ends; resumed after a
dropped connection from the last position seen, each frame exactly once.

The decisions live in _SessionStreamState; SessionEventStream and
AsyncSessionEventStream only do the I/O.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from . import _generated as gen
from . import _ops as ops
from ._base_client import Call, RequestOptions, path
from ._exceptions import APIConnectionError, StreamLostError
from ._sse import Frame, SSEDecoder, SSEError
from ._streaming import (
    RESUME_MAX_WAIT,
    RESUME_MIN_WAIT,
    _frame_event,
    _FrameDecoding,
)

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["SessionEventStream", "AsyncSessionEventStream", "SessionStreamItem", "parse_position"]

SessionStreamItem = gen.Event | gen.LifecycleEvent
"""What a session stream yields: a turn event (``types.Event``) or a
lifecycle event (``types.LifecycleEvent``)."""

SESSION_LIFECYCLE = _frame_event(gen.SessionLifecycleFrame)
SESSION_ENDED = _frame_event(gen.SessionEndedFrame)
SESSION_EVENT_FRAMES = frozenset({"", _frame_event(gen.SessionEventFrame)})

_POSITION = re.compile(r"[0-9]{1,15}\.[0-9]{1,15}")
_READ_ERRORS = (httpx.TransportError, httpx.DecodingError)


def parse_position(after: str) -> tuple[int, int]:
    """``"<seq>.<lifecycle_seq>"`` as two numbers (ValueError when it is not one)."""
    if not isinstance(after, str) or not _POSITION.fullmatch(after):
        raise ValueError(f"a session stream position is '<seq>.<lifecycle_seq>' such as '41.7', got {after!r}")
    seq, lifecycle_seq = after.split(".")
    return int(seq), int(lifecycle_seq)


class _SessionStreamState(_FrameDecoding):
    """Where the stream is, what is new, and when to give up."""

    stream_name = "session stream"

    def __init__(
        self,
        session_id: str,
        after: str,
        max_resumes: int,
        url: str,
        redact: Callable[[str], str],
        bind: Callable[[gen.Event], gen.Event],
    ) -> None:
        if max_resumes < 0:
            raise ValueError(f"max_resumes must not be negative, got {max_resumes}")
        self.seq, self.lifecycle_seq = parse_position(after)
        self.session_id = session_id
        self.max_resumes = max_resumes
        self.url = url
        self.redact = redact
        self.bind = bind
        self.key = None
        self.session: gen.Session | None = None
        self.connections = 0
        self.resumes = 0
        self.failures = 0
        self.progressed = False

    @property
    def position(self) -> str:
        return f"{self.seq}.{self.lifecycle_seq}"

    def open_call(self) -> Call[gen.Session]:
        self.connections += 1
        self.progressed = False
        return ops.stream_session(self.session_id, self.position)

    def on_frame(self, frame: Frame) -> SessionStreamItem | None:
        """The new item a frame carries, or None (a replay, a frame type this
        SDK does not know, the end: then ``session`` is set)."""
        if frame.event in SESSION_EVENT_FRAMES:
            event: gen.Event = self._decode(gen.Event, frame)
            if event.seq <= self.seq:
                return None  # replayed after a resume: already yielded
            self.seq = event.seq
            self.progressed = True
            return self.bind(event) if event.type == gen.EventType.permission_request else event
        if frame.event == SESSION_LIFECYCLE:
            lifecycle: gen.LifecycleEvent = self._decode(gen.LifecycleEvent, frame)
            if lifecycle.lifecycle_seq <= self.lifecycle_seq:
                return None
            self.lifecycle_seq = lifecycle.lifecycle_seq
            self.progressed = True
            return lifecycle
        if frame.event == SESSION_ENDED:
            self.session = self._decode(gen.Session, frame)
        return None

    def dropped(self, error: BaseException | None) -> float:
        """After the connection dropped: the wait before resuming, or raise
        StreamLostError at the resume bound."""
        if self.progressed:
            self.failures = 0
        self.failures += 1
        if self.failures > self.max_resumes:
            why = f"{type(error).__name__}: {error}" if error is not None else "the stream ended early"
            raise StreamLostError(
                self.redact(
                    f"the stream of session {self.session_id} dropped at {self.position} and "
                    f"{self.resumes} resumes brought nothing new ({why})"
                ),
                method="GET",
                url=self.url,
                turn_index=None,
                last_seq=self.seq,
                resumes=self.resumes,
            )
        self.resumes += 1
        return float(min(RESUME_MIN_WAIT * 2.0 ** (self.failures - 1), RESUME_MAX_WAIT))


class _SessionStreamBase:
    _state: _SessionStreamState
    _closed: bool

    @property
    def position(self) -> str:
        """``"<seq>.<lifecycle_seq>"`` after the last item yielded: pass it as
        ``after`` to read on from there later."""
        return self._state.position

    @property
    def session(self) -> gen.Session | None:
        """The session as it ended (the final ``session.ended`` frame), once
        the stream got there."""
        return self._state.session

    @property
    def resumes(self) -> int:
        """How many times the stream resumed after a drop."""
        return self._state.resumes


def _state(
    client: Client | AsyncClient,
    session_id: str,
    after: str,
    max_resumes: int,
    bind: Callable[[gen.Event], gen.Event],
) -> _SessionStreamState:
    url = str(client.base_url.join(path("v1/sessions/{}/stream", session_id)))
    return _SessionStreamState(session_id, after, max_resumes, url, client._redact, bind)


def _shut_down(response: httpx.Response) -> None:
    """Shut the response's socket down, so that a read blocked on it in another
    thread returns (closing the response from there would wait for that read)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class SessionEventStream(_SessionStreamBase, AbstractContextManager["SessionEventStream"]):
    """Everything that happens in a session, as it happens, until it ends.

    Iterate over it for each turn event (``types.Event``; a permission request
    as a ``PermissionRequestEvent`` you can answer) and each lifecycle event
    (``types.LifecycleEvent``: turns queued, started and ended, status
    changes, handoffs, children), in the session's order. After a dropped
    connection it resumes from the last position seen, so each comes exactly
    once. The loop ends when the session has ended (``session`` is then its
    final state). Use it in a ``with`` block (or call :meth:`close`) to
    release the connection when leaving the loop early. ::

        with session.stream() as stream:
            for item in stream:
                if isinstance(item, LifecycleEvent):
                    print(item.type, item.turn_index)
                else:
                    print(item.type, item.content)
    """

    def __init__(
        self,
        client: Client,
        session_id: str,
        *,
        after: str,
        max_resumes: int,
        options: RequestOptions,
        bind: Callable[[gen.Event], gen.Event],
        on_end: Callable[[gen.Session], object],
    ) -> None:
        self._client = client
        self._state = _state(client, session_id, after, max_resumes, bind)
        self._options: RequestOptions = {k: v for k, v in options.items() if k != "idempotency_key"}  # type: ignore[assignment]
        self._on_end = on_end
        self._iterator: Generator[SessionStreamItem, None, None] | None = None
        self._response: httpx.Response | None = None
        self._closed = False

    def __iter__(self) -> Iterator[SessionStreamItem]:
        return self

    def __next__(self) -> SessionStreamItem:
        if self._iterator is None:
            if self._closed:
                raise StopIteration
            self._iterator = self._run()
        return next(self._iterator)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (the session goes on). Safe from another thread while
        a loop reads: that loop then ends."""
        self._closed = True
        response = self._response
        if response is not None:
            _shut_down(response)  # a read blocked in another thread returns
        if self._iterator is not None:
            with contextlib.suppress(ValueError):  # running in another thread: it ends by itself
                self._iterator.close()

    def _run(self) -> Generator[SessionStreamItem, None, None]:
        st, client = self._state, self._client
        while not self._closed:
            try:
                response = self._response = client._open(st.open_call(), self._options)
            except APIConnectionError as error:
                if st.connections == 1:
                    raise
                client._sleep(st.dropped(error))
                continue
            drop: BaseException | None = None
            try:
                decoder = SSEDecoder()
                for chunk in response.iter_bytes():
                    try:
                        frames = decoder.feed(chunk)
                    except SSEError as e:
                        raise st._bad(Frame(data=""), str(e)) from None
                    for frame in frames:
                        item = st.on_frame(frame)
                        if item is not None:
                            yield item
                        elif st.session is not None:
                            self._on_end(st.session)
                            return
                    if self._closed:
                        return
            except _READ_ERRORS as e:
                drop = e
            finally:
                response.close()
                self._response = None
            if self._closed:
                return
            client._sleep(st.dropped(drop))


class AsyncSessionEventStream(_SessionStreamBase, AbstractAsyncContextManager["AsyncSessionEventStream"]):
    """The session-wide stream for ``async for`` (see :class:`SessionEventStream`);
    use it in an ``async with`` block."""

    def __init__(
        self,
        client: AsyncClient,
        session_id: str,
        *,
        after: str,
        max_resumes: int,
        options: RequestOptions,
        bind: Callable[[gen.Event], gen.Event],
        on_end: Callable[[gen.Session], object],
    ) -> None:
        self._client = client
        self._state = _state(client, session_id, after, max_resumes, bind)
        self._options: RequestOptions = {k: v for k, v in options.items() if k != "idempotency_key"}  # type: ignore[assignment]
        self._on_end = on_end
        self._iterator: AsyncGenerator[SessionStreamItem, None] | None = None
        self._response: httpx.Response | None = None
        self._closed = False

    def __aiter__(self) -> AsyncIterator[SessionStreamItem]:
        return self

    async def __anext__(self) -> SessionStreamItem:
        if self._iterator is None:
            if self._closed:
                raise StopAsyncIteration
            self._iterator = self._run()
        return await self._iterator.__anext__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening (the session goes on). Safe from another task while
        a loop reads: that loop then ends."""
        self._closed = True
        response = self._response
        if response is not None:
            await response.aclose()
        if self._iterator is not None:
            with contextlib.suppress(RuntimeError):  # running in another task: it ends by itself
                await self._iterator.aclose()

    async def _run(self) -> AsyncGenerator[SessionStreamItem, None]:
        st, client = self._state, self._client
        while not self._closed:
            try:
                response = self._response = await client._open(st.open_call(), self._options)
            except APIConnectionError as error:
                if st.connections == 1:
                    raise
                await client._sleep(st.dropped(error))
                continue
            drop: BaseException | None = None
            ended = False
            try:
                decoder = SSEDecoder()
                async for chunk in response.aiter_bytes():
                    try:
                        frames = decoder.feed(chunk)
                    except SSEError as e:
                        raise st._bad(Frame(data=""), str(e)) from None
                    for frame in frames:
                        item = st.on_frame(frame)
                        if item is not None:
                            yield item
                        elif st.session is not None:
                            ended = True
                            break
                    if ended:
                        break
            except _READ_ERRORS as e:
                drop = e
            finally:
                await response.aclose()
                self._response = None
            if self._closed and not ended:
                return
            if ended:
                assert st.session is not None
                self._on_end(st.session)
                return
            await client._sleep(st.dropped(drop))
