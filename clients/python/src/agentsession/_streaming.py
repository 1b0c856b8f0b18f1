"""Streamed turns that resume after a dropped connection.

The decisions (what to send to open or resume, which events are new, when to
give up) live in _StreamState; TurnStream and AsyncTurnStream only do the I/O.
"""

from __future__ import annotations

import json
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
import pydantic

from . import _generated as gen
from . import _ops as ops
from ._base_client import Call, RequestOptions, new_idempotency_key, path
from ._exceptions import AgentSessionError, APIConnectionError, APIResponseValidationError, StreamLostError
from ._models import decode, set_raw
from ._sse import Frame, SSEDecoder, SSEError
from ._turn import TurnResult

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["TurnStream", "AsyncTurnStream", "DEFAULT_MAX_RESUMES", "StreamIncompleteError", "Follow"]

DEFAULT_MAX_RESUMES = 5
# Waits before consecutive resumes without progress: 0.1 s doubling to 2 s.
RESUME_MIN_WAIT = 0.1
RESUME_MAX_WAIT = 2.0


class StreamIncompleteError(AgentSessionError):
    """The result of a stream that was closed before its turn ended."""


@dataclass(frozen=True, slots=True)
class _Gap:
    """Events after ``after`` and before ``before`` never arrived: read them
    from the event log."""

    after: int
    before: int | None  # None: up to the end of the turn


@dataclass(frozen=True, slots=True)
class _Completed:
    summary: gen.TurnSummary
    raw: dict[str, Any]


_Item = gen.Event | _Gap | _Completed


def _frame_event(frame: type[pydantic.BaseModel]) -> str:
    """The ``event:`` name of a frame schema of the contract (its one-value ``event``)."""
    (name,) = typing.get_args(frame.model_fields["event"].annotation)
    return str(name)


# The frames of the contract's "Stream framing": an event frame has no event: line
# (SSE's default type, message); frames of any other type are skipped.
TURN_ACCEPTED = _frame_event(gen.TurnAcceptedFrame)
TURN_COMPLETED = _frame_event(gen.TurnCompletedFrame)
EVENT_FRAMES = frozenset({"", _frame_event(gen.EventFrame)})


class _FrameDecoding:
    """Decoding a stream's frames into models; a frame that does not fit is an
    APIResponseValidationError naming the stream."""

    redact: Callable[[str], str]
    url: str
    key: str | None
    stream_name = "turn stream"

    def method(self) -> str:
        return "GET"

    # --- decoding ------------------------------------------------------------------

    def _json(self, frame: Frame) -> dict[str, Any]:
        # Errors are raised outside the except blocks, whose context would
        # keep the frame's text.
        try:
            obj = json.loads(frame.data)
        except ValueError as e:
            obj, why = None, f"not JSON: {e}"
        else:
            why = "not a JSON object"
        if not isinstance(obj, dict):
            raise self._bad(frame, why)
        return obj

    def _decode(self, cls: type[Any], frame: Frame) -> Any:
        return self._decode_obj(cls, self._json(frame), frame)

    def _decode_obj(self, cls: type[Any], obj: dict[str, Any], frame: Frame) -> Any:
        try:
            return decode(cls, obj)
        except pydantic.ValidationError as e:
            why = f"does not fit {cls.__name__}: {e}"
        raise self._bad(frame, why)

    def _bad(self, frame: Frame, why: str) -> APIResponseValidationError:
        name = frame.event or "event"
        return APIResponseValidationError(
            self.redact(f"a bad {name} frame in the {self.stream_name}: {why}"),
            status_code=200,
            body=self.redact(frame.data).encode()[:4096],
            method=self.method(),
            url=self.url,
            idempotency_key=self.key,
        )


class _StreamState(_FrameDecoding):
    """Everything a turn stream knows, and every decision it makes."""

    key: str

    def __init__(
        self,
        session_id: str,
        body: dict[str, Any],
        key: str,
        max_resumes: int,
        url: str,
        redact: Callable[[str], str],
        bind: Callable[[gen.Event], gen.Event],
    ) -> None:
        self.session_id = session_id
        self.bind = bind  # makes a permission_request answerable
        self.body = body
        self.key = key
        self.max_resumes = max_resumes
        self.url = url
        self.redact = redact
        self.turn_index: int | None = None
        self.accepted: gen.TurnAccepted | None = None
        self.follow = False  # an existing turn, read with streamTurn from the start
        self.last_seq = 0
        self.events: list[gen.Event] = []
        self.connections = 0
        self.resumes = 0
        self.failures = 0  # resumes in a row that brought nothing new
        self.progressed = False
        self.seqless = False  # the server sent events without seq
        self.result: TurnResult | None = None

    def method(self) -> str:
        return "GET" if self.follow else "POST"

    # --- what to send ------------------------------------------------------------

    def open_call(self) -> Call[TurnResult]:
        """The first request, or the one that resumes after the last event:
        streamTurn once the turn index is known, else sendTurn again with the
        same key (the server replays the turn instead of starting another)."""
        first = self.connections == 0
        self.connections += 1
        self.progressed = False
        if first and not self.follow:
            call = ops.send_turn(self.session_id, self.body, stream=True)
        elif self.turn_index is not None:
            return ops.stream_turn(self.session_id, self.turn_index, self.last_seq)
        else:
            call = ops.send_turn(self.session_id, self.body, stream=True, last_event_id=self.last_seq)
        call.idempotency_key = self.key
        return call

    def options(self, options: RequestOptions) -> RequestOptions:
        resumed: RequestOptions = {**options}
        resumed.pop("idempotency_key", None)  # the stream's own key, set on the call
        return resumed

    # --- what came -----------------------------------------------------------------

    def on_frame(self, frame: Frame) -> list[_Item]:
        if frame.event == TURN_ACCEPTED:
            accepted = self._decode(gen.TurnAccepted, frame)
            self.turn_index = accepted.turn_index
            if self.accepted is None:
                self.accepted = accepted
            return []
        if frame.event == TURN_COMPLETED:
            summary = self._decode(gen.TurnSummary, frame)
            return [_Completed(summary, summary.raw())]
        if frame.event not in EVENT_FRAMES:
            return []  # a frame type this SDK does not know
        obj = self._json(frame)
        seq = obj.get("seq")
        if not isinstance(seq, int) and frame.id is not None and frame.id.isdigit():
            obj = {**obj, "seq": int(frame.id)}
            seq = obj["seq"]
        if not isinstance(seq, int):
            # A server that breaks the contract: such an event cannot be told
            # apart from its replay after a resume. seq 0 marks it.
            event = self._decode_obj(gen.Event, {**obj, "seq": 1}, frame)
            event.seq = 0
            set_raw(event, obj)
            return [event]
        event = self._decode_obj(gen.Event, obj, frame)
        if self.last_seq and event.seq > self.last_seq + 1 and self.turn_index is not None:
            return [_Gap(self.last_seq, event.seq), event]
        return [event]

    def on_json_result(self, body: bytes) -> list[_Item]:
        """A server that answered the stream request with the whole turn."""
        obj = self._json(Frame(data=body.decode("utf-8", errors="replace"), event="turn"))
        result = self._decode_obj(TurnResult, obj, Frame(data="", event="turn"))
        items: list[_Item] = list(result.events)
        summary = gen.TurnSummary.model_validate({k: v for k, v in obj.items() if k != "events"})
        items.append(_Completed(summary, {k: v for k, v in obj.items() if k != "events"}))
        return items

    def accept(self, event: gen.Event) -> gen.Event | None:
        """The event to yield when it is new (then it is recorded), else None."""
        if event.seq == 0:
            if self.connections > 1:
                return None  # maybe a replay: never yield an event twice
            self.seqless = True
        elif event.seq <= self.last_seq:
            return None  # replayed after a resume: already yielded
        else:
            self.last_seq = event.seq
            self.progressed = True
        if self.turn_index is None:
            self.turn_index = event.turn_index
        if event.type == gen.EventType.permission_request:
            event = self.bind(event)
        self.events.append(event)
        return event

    def completed(self, item: _Completed) -> _Gap | None:
        """The events the summary says are still missing, if any."""
        summary = item.summary
        self.turn_index = summary.turn_index
        if summary.last_seq is not None and summary.last_seq > self.last_seq:
            return _Gap(self.last_seq, None)
        return None

    def finish(self, item: _Completed) -> TurnResult:
        raw = {**item.raw, "events": [e.raw() for e in self.events]}
        result = TurnResult.model_validate({**item.summary.__dict__, "events": self.events})
        set_raw(result, raw)
        self.result = result
        return result

    def dropped(self, error: BaseException | None) -> float:
        """After the connection dropped: the wait before resuming, or raise
        StreamLostError at the resume bound."""
        if self.progressed:
            self.failures = 0
        self.failures += 1
        if self.failures > self.max_resumes:
            why = f"{type(error).__name__}: {error}" if error is not None else "the stream ended early"
            message = (
                f"the stream of turn {self.turn_index} dropped after event {self.last_seq} and "
                f"{self.resumes} resumes brought nothing new ({why})"
            )
            if self.seqless:
                message += "; its events carry no seq, so it cannot be resumed without duplicates"
            raise StreamLostError(
                self.redact(message),
                method=self.method(),
                url=self.url,
                turn_index=self.turn_index,
                last_seq=self.last_seq,
                resumes=self.resumes,
                idempotency_key=self.key,
            )
        self.resumes += 1
        return min(RESUME_MIN_WAIT * 2.0 ** (self.failures - 1), RESUME_MAX_WAIT)


def _content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


_READ_ERRORS = (httpx.TransportError, httpx.DecodingError)


def _stream_url(client: Client | AsyncClient, session_id: str, kwargs: dict[str, Any]) -> str:
    """The URL errors name: sendTurn's, or streamTurn's for an existing turn."""
    follow: Follow | None = kwargs.get("follow")
    if follow is None:
        return str(client.base_url.join(path("v1/sessions/{}/turns", session_id)))
    return str(client.base_url.join(path("v1/sessions/{}/turns/{}/stream", session_id, follow.turn_index)))


@dataclass(frozen=True, slots=True)
class Follow:
    """An existing turn to read with streamTurn: from after ``after``, with
    the events up to it already known (``prior``)."""

    turn_index: int
    after: int = 0
    prior: tuple[gen.Event, ...] = ()


class _StreamBase:
    def __init__(
        self,
        session_id: str,
        *,
        body: dict[str, Any],
        ordered: bool,
        follow: Follow | None,
        max_resumes: int,
        options: RequestOptions,
        url: str,
        redact: Callable[[str], str],
        bind: Callable[[gen.Event], gen.Event],
    ) -> None:
        if max_resumes < 0:
            raise ValueError(f"max_resumes must not be negative, got {max_resumes}")
        key = options.get("idempotency_key") or new_idempotency_key()
        self._state = st = _StreamState(session_id, body, key, max_resumes, url, redact, bind)
        if follow is not None:
            st.follow = True
            st.turn_index = follow.turn_index
            st.last_seq = follow.after
            st.events = [bind(e) if e.type == gen.EventType.permission_request else e for e in follow.prior]
        self._options = st.options(options)
        self._ordered = ordered
        self._closed = False

    @property
    def accepted(self) -> gen.TurnAccepted | None:
        """The server's ``turn.accepted`` frame (``status``, ``queue_position``
        of a queued turn, ``steered``, ``meta``), once it arrived."""
        return self._state.accepted

    @property
    def queue_position(self) -> int | None:
        """The turn's place in the queue when it was accepted (1 runs next),
        for a turn queued behind another (``busy_policy="enqueue"``)."""
        return self._state.accepted.queue_position if self._state.accepted is not None else None

    @property
    def steered(self) -> bool:
        """Whether the prompt went to the running turn as guidance
        (``busy_policy="steer"``): the stream is that turn's, from then on."""
        return bool(self._state.accepted is not None and self._state.accepted.steered)

    @property
    def turn_index(self) -> int | None:
        """The turn's number once the server accepted it."""
        return self._state.turn_index

    @property
    def resumes(self) -> int:
        """How many times the stream resumed after a drop."""
        return self._state.resumes

    @property
    def idempotency_key(self) -> str:
        """The key every request of this turn carries."""
        return self._state.key

    @property
    def events(self) -> list[gen.Event]:
        """The events yielded so far."""
        return list(self._state.events)

    def _incomplete(self) -> StreamIncompleteError:
        return StreamIncompleteError(
            f"the stream of turn {self._state.turn_index} was closed before the turn ended "
            f"(after event {self._state.last_seq})"
        )


class TurnStream(_StreamBase, AbstractContextManager["TurnStream"]):
    """A turn whose events arrive while the agent works.

    Iterate over it for each event (unknown event types included); after a
    dropped connection it resumes by itself after the last event seen, so each
    event comes exactly once, in ``seq`` order. Nothing is sent until the loop
    starts. Use it in a ``with`` block (or call :meth:`close`) so that leaving
    the loop early releases the connection and the session's turn order. ::

        with session.turn_stream("Hello") as stream:
            for event in stream:
                print(event.type, event.content)
        result = stream.get_final_result()
    """

    def __init__(
        self,
        client: Client,
        session_id: str,
        fetch_events: Callable[[int, int], Iterator[gen.Event]],
        bind: Callable[[gen.Event], gen.Event],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            session_id, url=_stream_url(client, session_id, kwargs), redact=client._redact, bind=bind, **kwargs
        )
        self._client = client
        self._fetch_events = fetch_events
        self._iterator: Generator[gen.Event, None, None] | None = None

    def __iter__(self) -> Iterator[gen.Event]:
        return self

    def __next__(self) -> gen.Event:
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
        """Stop listening (the turn goes on unless you cancel it)."""
        self._closed = True
        if self._iterator is not None:
            self._iterator.close()

    def get_final_result(self) -> TurnResult:
        """The whole turn; reads the events not read yet first."""
        for _ in self:
            pass
        if self._state.result is None:
            raise self._incomplete()
        return self._state.result

    def _run(self) -> Generator[gen.Event, None, None]:
        st, client = self._state, self._client
        order: AbstractContextManager[None] = client._turn_order.hold(st.session_id) if self._ordered else nullcontext()
        with order:
            while True:
                try:
                    response = client._open(st.open_call(), self._options)
                except APIConnectionError as error:
                    if st.connections == 1:
                        raise
                    client._sleep(st.dropped(error))
                    continue
                drop: BaseException | None = None
                try:
                    done = yield from self._read(response)
                except _READ_ERRORS as e:
                    done, drop = False, e
                finally:
                    response.close()
                if done:
                    return
                client._sleep(st.dropped(drop))

    def _read(self, response: httpx.Response) -> Generator[gen.Event, None, bool]:
        """Yield the new events of one connection; True when the turn ended."""
        st = self._state
        if _content_type(response) == "application/json":
            items: Iterable[_Item] = st.on_json_result(response.read())
            return (yield from self._handle(items))
        decoder = SSEDecoder()
        for chunk in response.iter_bytes():
            try:
                frames = decoder.feed(chunk)
            except SSEError as e:
                raise st._bad(Frame(data=""), str(e)) from None
            for frame in frames:
                if (yield from self._handle(st.on_frame(frame))):
                    return True
        return False

    def _handle(self, items: Iterable[_Item]) -> Generator[gen.Event, None, bool]:
        st = self._state
        for item in items:
            if isinstance(item, gen.Event):
                event = st.accept(item)
                if event is not None:
                    yield event
            elif isinstance(item, _Gap):
                yield from self._fill(item)
            else:
                gap = st.completed(item)
                if gap is not None:
                    yield from self._fill(gap)
                st.finish(item)
                return True
        return False

    def _fill(self, gap: _Gap) -> Iterator[gen.Event]:
        assert self._state.turn_index is not None
        for event in self._fetch_events(gap.after, self._state.turn_index):
            if gap.before is not None and event.seq >= gap.before:
                return
            new = self._state.accept(event)
            if new is not None:
                yield new


class AsyncTurnStream(_StreamBase, AbstractAsyncContextManager["AsyncTurnStream"]):
    """A turn whose events arrive while the agent works, for ``async for``.

    Resumes after a dropped connection like :class:`TurnStream`; use it in an
    ``async with`` block. ::

        async with session.turn_stream("Hello") as stream:
            async for event in stream:
                print(event.type, event.content)
        result = await stream.get_final_result()
    """

    def __init__(
        self,
        client: AsyncClient,
        session_id: str,
        fetch_events: Callable[[int, int], AsyncIterator[gen.Event]],
        bind: Callable[[gen.Event], gen.Event],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            session_id, url=_stream_url(client, session_id, kwargs), redact=client._redact, bind=bind, **kwargs
        )
        self._client = client
        self._fetch_events = fetch_events
        self._iterator: AsyncGenerator[gen.Event, None] | None = None

    def __aiter__(self) -> AsyncIterator[gen.Event]:
        return self

    async def __anext__(self) -> gen.Event:
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
        """Stop listening (the turn goes on unless you cancel it)."""
        self._closed = True
        if self._iterator is not None:
            await self._iterator.aclose()

    async def get_final_result(self) -> TurnResult:
        """The whole turn; reads the events not read yet first."""
        async for _ in self:
            pass
        if self._state.result is None:
            raise self._incomplete()
        return self._state.result

    async def _run(self) -> AsyncGenerator[gen.Event, None]:
        st, client = self._state, self._client
        order: AbstractAsyncContextManager[None] = client._turn_order.hold(st.session_id) if self._ordered else _anull()
        async with order:
            while True:
                try:
                    response = await client._open(st.open_call(), self._options)
                except APIConnectionError as error:
                    if st.connections == 1:
                        raise
                    await client._sleep(st.dropped(error))
                    continue
                done, drop = False, None
                try:
                    if _content_type(response) == "application/json":
                        for item in await self._expand(st.on_json_result(await response.aread())):
                            if isinstance(item, gen.Event):
                                yield item
                            else:
                                done = True
                    else:
                        decoder = SSEDecoder()
                        async for chunk in response.aiter_bytes():
                            try:
                                frames = decoder.feed(chunk)
                            except SSEError as e:
                                raise st._bad(Frame(data=""), str(e)) from None
                            for frame in frames:
                                for item in await self._expand(st.on_frame(frame)):
                                    if isinstance(item, gen.Event):
                                        yield item
                                    else:
                                        done = True
                            if done:
                                break
                except _READ_ERRORS as e:
                    drop = e
                finally:
                    await response.aclose()
                if done:
                    return
                await client._sleep(st.dropped(drop))

    async def _expand(self, items: Iterable[_Item]) -> list[gen.Event | _Completed]:
        """The new events among items (gaps read from the event log), and the
        completion when the turn ended (always last)."""
        st = self._state
        out: list[gen.Event | _Completed] = []
        for item in items:
            if isinstance(item, gen.Event):
                event = st.accept(item)
                if event is not None:
                    out.append(event)
            elif isinstance(item, _Gap):
                out.extend(await self._fill(item))
            else:
                gap = st.completed(item)
                if gap is not None:
                    out.extend(await self._fill(gap))
                st.finish(item)
                out.append(item)
                break
        return out

    async def _fill(self, gap: _Gap) -> list[gen.Event]:
        assert self._state.turn_index is not None
        found: list[gen.Event] = []
        async for event in self._fetch_events(gap.after, self._state.turn_index):
            if gap.before is not None and event.seq >= gap.before:
                break
            new = self._state.accept(event)
            if new is not None:
                found.append(new)
        return found


class _anull(AbstractAsyncContextManager[None]):
    async def __aexit__(self, *args: object) -> None:
        return None
