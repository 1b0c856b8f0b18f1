"""Sessions: the resource on the client and the handle a user holds."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from typing_extensions import Unpack

from . import _generated as gen
from . import _ops as ops
from ._base_client import Call, RequestOptions, path
from ._exceptions import PermissionRequiredError, PermissionResolvedError
from ._pagination import AsyncPager, Page, SyncPager
from ._permissions import (
    AsyncPermissionHandler,
    AsyncPermissionRequestEvent,
    PermissionHandler,
    PermissionRequestEvent,
    decide,
    decide_sync,
    request_of,
)
from ._session_stream import AsyncSessionEventStream, SessionEventStream
from ._streaming import DEFAULT_MAX_RESUMES, AsyncTurnStream, Follow, TurnStream
from ._turn import TurnResult

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["Session", "AsyncSession", "Sessions", "AsyncSessions", "Files", "AsyncFiles", "FileInput"]

FileInput = bytes | os.PathLike[str] | IO[bytes]
"""A file to upload: its bytes, a path, or a binary file object."""

_EVENT_PAGE = 100


def _file_part(file: FileInput, filename: str | None, content_type: str | None) -> tuple[str, bytes, str]:
    """The multipart part; read once so that every attempt sends the same bytes."""
    if isinstance(file, bytes):
        content, name = file, filename or "file"
    elif isinstance(file, os.PathLike):
        p = Path(file)
        content, name = p.read_bytes(), filename or p.name
    else:
        content = file.read()
        name = filename or os.path.basename(str(getattr(file, "name", "") or "")) or "file"
    ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, content, ctype


def _follow_options(options: RequestOptions) -> RequestOptions:
    """A turn's options for the calls that follow it (each makes its own key)."""
    out: RequestOptions = {**options}
    out.pop("idempotency_key", None)
    return out


def _new_request(event: gen.Event, boundary: int, handled: set[str]) -> bool:
    """Whether event is a permission request nobody decided yet: asked after
    ``boundary`` (those before it were pending then, or resolved) and not
    decided by this call."""
    return (
        event.type == gen.EventType.permission_request
        and event.seq > boundary
        and event.request_id is not None
        and event.request_id not in handled
    )


def _permission_required(
    client: Client | AsyncClient,
    session_id: str,
    turn_index: int,
    pending: list[gen.PermissionRequest],
    last_seq: int,
) -> PermissionRequiredError:
    """A turn followed without a handler came to a request nobody decided."""
    titles = "; ".join(repr(r.title) for r in pending)
    url = client._base + path("v1/sessions/{}/turns/{}/stream", session_id, turn_index)
    return PermissionRequiredError(
        client._redact(
            f"turn {turn_index} waits for an answer to {len(pending)} permission request(s) ({titles}) "
            "and the call has no on_permission handler"
        ),
        session_id=session_id,
        turn_index=turn_index,
        permission_requests=pending,
        last_seq=last_seq,
        method="GET",
        url=url,
    )


class _HandleBase:
    """What the sync and async handles share: the id and the last known state."""

    id: str
    info: gen.Session | None
    """The session as the server last reported it (by the call that made the
    handle, :meth:`refresh`, a lifecycle verb or close), or None."""

    def __init__(self, session_id: str, info: gen.Session | None) -> None:
        self.id = session_id
        self.info = info

    def __repr__(self) -> str:
        status = self.info.status if self.info is not None else "?"
        return f"{type(self).__name__}(id={self.id!r}, status={str(getattr(status, 'value', status))!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _HandleBase) and type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def _update(self, info: gen.Session) -> gen.Session:
        self.info = info
        return info

    def _update_status(self, status: gen.SessionStatus | str) -> None:
        """A context read says the status; keep the rest as it was."""
        if self.info is not None and self.info.status != status:
            self.info = self.info.model_copy(update={"status": status})


class Session(_HandleBase):
    """A handle on one session: turns, streaming, cancel, close, children,
    files and every lifecycle verb. Safe to share between threads.

    Turns sent without ``busy_policy`` run one at a time per session, in the
    order they were called (across every handle of the session id of one
    client); a turn with a ``busy_policy`` is sent at once and the server
    decides. ``with`` closes the session at the end of the block.
    """

    def __init__(self, client: Client, session_id: str, info: gen.Session | None = None) -> None:
        super().__init__(session_id, info)
        self._client = client
        self._close_lock = threading.Lock()
        self._close_result: gen.CloseSessionResult | None = None

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def refresh(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """Fetch the session's state."""
        return self._update(self._client._request(ops.get_session(self.id), options))

    # --- turns ---------------------------------------------------------------------

    def turn(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        meta: Mapping[str, Any] | None = None,
        on_permission: PermissionHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Send prompt to the agent and return the finished turn.

        ``files`` are file tokens (:meth:`upload`); ``timeout_ms`` asks the
        server to end the turn after that long; ``busy_policy`` says what the
        server does while another turn runs (``reject``: BusyError;
        ``enqueue``; ``interrupt``; ``steer``: the prompt goes to the running
        turn, whose result this returns); ``meta`` is your own JSON object,
        returned with the turn. Retries reuse one Idempotency-Key, so a turn
        never runs twice.

        When the agent asks for permission, ``on_permission`` decides: it gets
        each request (a ``types.PermissionRequest``) and returns the
        ``option_id`` to answer with; the turn is then followed to its end.
        Without it the call raises PermissionRequiredError (the turn waits on
        the server: :meth:`answer_permission`, then :meth:`wait_turn`).
        """
        call = ops.send_turn(self.id, ops.turn_body(prompt, files, timeout_ms, busy_policy, meta))
        call.timeout = self._client._turn_timeout(timeout_ms)
        if busy_policy is not None:
            return self._turn(call, on_permission, options)
        with self._client._turn_order.hold(self.id):
            return self._turn(call, on_permission, options)

    def _turn(self, call: Call[TurnResult], handler: PermissionHandler | None, options: RequestOptions) -> TurnResult:
        if handler is None:
            return self._client._request(call, options)
        try:
            return self._client._request(call, options)
        except PermissionRequiredError as e:
            waiting = e
        options = _follow_options(options)
        for request in waiting.permission_requests:
            self._decide(request, handler, options)
        prior = tuple(self._turn_events_through(waiting.turn_index, waiting.last_seq))
        stream = self._follow_stream(Follow(waiting.turn_index, waiting.last_seq, prior), options)
        handled = {r.request_id for r in waiting.permission_requests}
        return self._follow(stream, handler, waiting.last_seq, handled, options)

    def wait_turn(
        self,
        turn_index: int,
        *,
        on_permission: PermissionHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Wait for a turn to end and return it, as :meth:`turn` would have.

        For a turn whose agent asked for permission (PermissionRequiredError):
        answer with :meth:`answer_permission`, then wait here. A request
        still pending (or asked later) goes to ``on_permission``; without it
        this raises PermissionRequiredError. It never waits for the session's
        turn order.
        """
        options = _follow_options(options)
        turn = self.get_turn(turn_index, **options)
        boundary = turn.last_seq or 0
        handled: set[str] = set()
        if turn.status != gen.TurnStatus.completed:
            waiting = self.permissions(status=gen.PermissionStatus.pending, **options)
            pending = [p for p in waiting if p.turn_index == turn_index]
            if pending and on_permission is None:
                raise _permission_required(self._client, self.id, turn_index, pending, boundary)
            for request in pending:
                assert on_permission is not None
                self._decide(request, on_permission, options)
                handled.add(request.request_id)
        stream = self._follow_stream(Follow(turn_index, boundary, tuple(turn.events or ())), options)
        return self._follow(stream, on_permission, boundary, handled, options)

    def stream_turn(
        self,
        turn_index: int,
        *,
        after: int = 0,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> TurnStream:
        """Read an existing turn's events (``streamTurn``) after seq ``after``
        (0: from its first), live until it ends, resuming after drops like
        :meth:`turn_stream`; ``get_final_result()`` holds the events read."""
        return self._follow_stream(Follow(turn_index, after), _follow_options(options), max_resumes)

    def _follow_stream(
        self, follow: Follow, options: RequestOptions, max_resumes: int = DEFAULT_MAX_RESUMES
    ) -> TurnStream:
        return TurnStream(
            self._client,
            self.id,
            self._turn_events,
            self._bind,
            body={},
            ordered=False,
            follow=follow,
            max_resumes=max_resumes,
            options=options,
        )

    def _follow(
        self,
        stream: TurnStream,
        handler: PermissionHandler | None,
        boundary: int,
        handled: set[str],
        options: RequestOptions,
    ) -> TurnResult:
        """Read a turn to its end, deciding each new permission request."""
        with stream:
            for event in stream:
                if not _new_request(event, boundary, handled):
                    continue
                request = request_of(self.id, event)
                if handler is None:
                    raise _permission_required(self._client, self.id, event.turn_index, [request], event.seq)
                handled.add(request.request_id)
                self._decide(request, handler, options)
        return stream.get_final_result()

    def _decide(self, request: gen.PermissionRequest, handler: PermissionHandler, options: RequestOptions) -> None:
        option_id = decide_sync(handler, request)
        # Answered otherwise or cancelled meanwhile: the turn goes on as that says.
        with contextlib.suppress(PermissionResolvedError):
            self._answer(request.request_id, option_id, options)

    def _turn_events_through(self, turn_index: int, last_seq: int) -> Iterator[gen.Event]:
        for event in self.events(turn_index=turn_index):
            if event.seq > last_seq:
                return
            yield event

    def turn_stream(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        meta: Mapping[str, Any] | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> TurnStream:
        """Send prompt as a streamed turn; iterate the result for its events.

        A permission request arrives as a :class:`PermissionRequestEvent`:
        ``event.answer(option_id)``, then iterate on for the rest of the turn.
        After a dropped connection the stream resumes after the last event
        (``max_resumes`` times in a row without progress, then
        StreamLostError). ``timeout`` bounds each read: keep it above the
        server's keep-alive interval.
        """
        return TurnStream(
            self._client,
            self.id,
            self._turn_events,
            self._bind,
            body=ops.turn_body(prompt, files, timeout_ms, busy_policy, meta),
            ordered=busy_policy is None,
            follow=None,
            max_resumes=max_resumes,
            options=options,
        )

    def _turn_events(self, after: int, turn_index: int) -> Iterator[gen.Event]:
        return iter(self.events(after=after, turn_index=turn_index))

    def _bind(self, event: gen.Event) -> gen.Event:
        return PermissionRequestEvent.bind(event, self.id, self._answer)

    def _answer(self, request_id: str, option_id: str, options: RequestOptions) -> gen.PermissionRequest:
        return self._client._request(ops.answer_permission(self.id, request_id, option_id), options)

    def answer_permission(
        self, request_id: str, option_id: str, **options: Unpack[RequestOptions]
    ) -> gen.PermissionRequest:
        """Answer a permission request of this session with one of its options.

        The same answer again succeeds and changes nothing; another answer
        raises PermissionResolvedError (also for a cancelled request), an
        option it does not offer UnknownOptionError, an unknown request
        NotFoundError.
        """
        return self._answer(request_id, option_id, options)

    def permissions(
        self,
        *,
        status: gen.PermissionStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[gen.PermissionRequest]:
        """The session's permission requests, oldest first (``status="pending"``: what waits)."""

        def fetch(cursor: str | None) -> Page[gen.PermissionRequest]:
            page = self._client._request(ops.list_permissions(self.id, status, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def cancel(self, **options: Unpack[RequestOptions]) -> gen.CancelTurnResult:
        """End the running turn (stop reason ``cancelled``); idempotent, and it
        never waits for the session's turn order."""
        return self._client._request(ops.cancel_turn(self.id), options)

    def cancel_turn(self, turn_index: int, **options: Unpack[RequestOptions]) -> gen.Turn:
        """Cancel one turn by its index: a queued one ends ``cancelled`` without
        running (the turns behind it move up), the running one as :meth:`cancel`
        does; returns the ended turn. TurnEndedError when it had already ended."""
        return self._client._request(ops.cancel_turn_at(self.id, turn_index), options)

    def close(self, **options: Unpack[RequestOptions]) -> gen.CloseSessionResult:
        """Soft-close the session (a running turn is cancelled, history kept).

        Idempotent: once a close of this handle succeeded, later ones return
        the same result without a request; after a failure, call it again.
        """
        with self._close_lock:
            if self._close_result is None:
                result = self._client._request(ops.close_session(self.id), options)
                self._update(result.session)
                self._close_result = result
            return self._close_result

    def get_turn(self, turn_index: int, **options: Unpack[RequestOptions]) -> gen.Turn:
        """One turn with its events."""
        return self._client._request(ops.get_turn(self.id, turn_index), options)

    def history(
        self,
        *,
        status: gen.TurnStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[gen.Turn]:
        """The session's turns, oldest first (without their events); only
        those in ``status`` (``"queued"``: the queue, with positions) when given."""

        def fetch(cursor: str | None) -> Page[gen.Turn]:
            page = self._client._request(ops.list_turns(self.id, status, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def events(
        self, *, after: int = 0, turn_index: int | None = None, **options: Unpack[RequestOptions]
    ) -> SyncPager[gen.Event]:
        """The session's event log after seq ``after``, in seq order (one
        turn's with ``turn_index``)."""

        def fetch(cursor: str | None) -> Page[gen.Event]:
            call = ops.list_events(self.id, after, turn_index, _EVENT_PAGE, cursor)
            page = self._client._request(call, options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def lifecycle_events(
        self, *, after: int = 0, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> SyncPager[gen.LifecycleEvent]:
        """The session's lifecycle events after ``lifecycle_seq`` ``after``, in order."""

        def fetch(cursor: str | None) -> Page[gen.LifecycleEvent]:
            page = self._client._request(ops.list_lifecycle_events(self.id, after, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def stream(
        self, *, after: str = "0.0", max_resumes: int = DEFAULT_MAX_RESUMES, **options: Unpack[RequestOptions]
    ) -> SessionEventStream:
        """Everything that happens in the session (``streamSession``): every
        turn's events and the lifecycle events, after position ``after``
        (``"<seq>.<lifecycle_seq>"``; the beginning by default), live until
        the session ends, each exactly once across dropped connections. The
        final state lands in ``info``."""
        return SessionEventStream(
            self._client,
            self.id,
            after=after,
            max_resumes=max_resumes,
            options=options,
            bind=self._bind,
            on_end=self._update,
        )

    # --- children and files ----------------------------------------------------------

    def spawn(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Session:
        """Create an active child session (SpawnLimitError over the server's caps)."""
        call = ops.spawn_child(self.id, agent, meta, plan_slug, context, agent_options)
        info = self._client._request(call, options)
        return Session(self._client, info.session_id, info)

    def children(
        self,
        *,
        status: gen.SessionStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Session]:
        """The child sessions, oldest first."""

        def fetch(cursor: str | None) -> Page[Session]:
            page = self._client._request(ops.list_children(self.id, status, limit, cursor), options)
            return Page([Session(self._client, s.session_id, s) for s in page.items], page.next_cursor)

        return SyncPager(fetch)

    def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.File:
        """Upload a file; pass its ``file_token`` in a turn's ``files``."""
        return self._client.files.upload(file, filename=filename, content_type=content_type, **options)

    # --- lifecycle -----------------------------------------------------------------

    def pause(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """``active`` → ``paused`` (InvalidTransitionError otherwise)."""
        return self._update(self._client._request(ops.pause(self.id), options))

    def resume(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """``paused`` → ``active``."""
        return self._update(self._client._request(ops.resume(self.id), options))

    def end(
        self,
        status: gen.EndStatus | str = gen.EndStatus.completed,
        *,
        summary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Session:
        """End the session as ``completed`` or ``failed``, with a final summary."""
        return self._update(self._client._request(ops.end(self.id, status, summary), options))

    def continue_(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Session:
        """A new session for ``agent`` that continues this one (context and
        handoff notes inherited)."""
        info = self._client._request(ops.continue_(self.id, agent, meta, plan_slug, agent_options), options)
        return Session(self._client, info.session_id, info)

    def handoff(
        self,
        summary: str,
        *,
        next_steps: Sequence[str] | None = None,
        blockers: Sequence[str] | None = None,
        context_for_next: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Session:
        """Record handoff notes; the session becomes ``paused``."""
        call = ops.handoff(self.id, summary, next_steps, blockers, context_for_next)
        return self._update(self._client._request(call, options))

    def handoff_context(self, **options: Unpack[RequestOptions]) -> gen.HandoffContext:
        """Everything a new agent needs to take over."""
        ctx = self._client._request(ops.handoff_context(self.id), options)
        self._update_status(ctx.status)
        return ctx

    def log(
        self,
        type: gen.LogEntryType | str,
        message: str,
        *,
        data: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.LogEntry:
        """Add a work-log entry (info, warning, error, success, checkpoint, decision)."""
        return self._client._request(ops.add_log_entry(self.id, type, message, data), options)

    def log_entries(
        self,
        *,
        type: gen.LogEntryType | str | None = None,
        order: gen.LogOrder | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[gen.LogEntry]:
        """The work log, oldest first (``order="newest_first"``: newest first;
        one type with ``type``)."""

        def fetch(cursor: str | None) -> Page[gen.LogEntry]:
            page = self._client._request(ops.list_log_entries(self.id, type, limit, cursor, order), options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def add_artifact(
        self,
        path: str,
        action: gen.ArtifactAction | str,
        *,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Artifact:
        """Record a file the session created, modified or deleted."""
        return self._client._request(ops.add_artifact(self.id, path, action, metadata), options)

    def artifacts(
        self,
        *,
        action: gen.ArtifactAction | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[gen.Artifact]:
        """The artifacts, oldest first (one action with ``action``)."""

        def fetch(cursor: str | None) -> Page[gen.Artifact]:
            page = self._client._request(ops.list_artifacts(self.id, action, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return SyncPager(fetch)

    def update_context(self, patch: Mapping[str, Any], **options: Unpack[RequestOptions]) -> gen.Session:
        """Merge patch into the context summary (RFC 7396: ``None`` removes a member)."""
        return self._update(self._client._request(ops.update_context(self.id, patch), options))

    def replay_context(self, **options: Unpack[RequestOptions]) -> gen.ReplayContext:
        """Where the session stands, from its work log."""
        ctx = self._client._request(ops.replay_context(self.id), options)
        self._update_status(ctx.status)
        return ctx

    def replay(
        self,
        *,
        agent: str | None = None,
        meta: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Session:
        """A new session started from the replay context."""
        info = self._client._request(ops.replay(self.id, agent, meta, agent_options), options)
        return Session(self._client, info.session_id, info)


class AsyncSession(_HandleBase):
    """The asyncio handle on one session; see :class:`Session`. Safe to
    share between tasks of one event loop; ``async with`` closes it."""

    def __init__(self, client: AsyncClient, session_id: str, info: gen.Session | None = None) -> None:
        super().__init__(session_id, info)
        self._client = client
        self._close_lock = asyncio.Lock()
        self._close_result: gen.CloseSessionResult | None = None

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def refresh(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """Fetch the session's state."""
        return self._update(await self._client._request(ops.get_session(self.id), options))

    async def turn(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        meta: Mapping[str, Any] | None = None,
        on_permission: AsyncPermissionHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Send prompt to the agent and return the finished turn (see
        :meth:`Session.turn`); ``on_permission`` may be a coroutine function."""
        call = ops.send_turn(self.id, ops.turn_body(prompt, files, timeout_ms, busy_policy, meta))
        call.timeout = self._client._turn_timeout(timeout_ms)
        if busy_policy is not None:
            return await self._turn(call, on_permission, options)
        async with self._client._turn_order.hold(self.id):
            return await self._turn(call, on_permission, options)

    async def _turn(
        self, call: Call[TurnResult], handler: AsyncPermissionHandler | None, options: RequestOptions
    ) -> TurnResult:
        if handler is None:
            return await self._client._request(call, options)
        try:
            return await self._client._request(call, options)
        except PermissionRequiredError as e:
            waiting = e
        options = _follow_options(options)
        for request in waiting.permission_requests:
            await self._decide(request, handler, options)
        prior = tuple(await self._turn_events_through(waiting.turn_index, waiting.last_seq))
        stream = self._follow_stream(Follow(waiting.turn_index, waiting.last_seq, prior), options)
        handled = {r.request_id for r in waiting.permission_requests}
        return await self._follow(stream, handler, waiting.last_seq, handled, options)

    async def wait_turn(
        self,
        turn_index: int,
        *,
        on_permission: AsyncPermissionHandler | None = None,
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Wait for a turn to end and return it (see :meth:`Session.wait_turn`)."""
        options = _follow_options(options)
        turn = await self.get_turn(turn_index, **options)
        boundary = turn.last_seq or 0
        handled: set[str] = set()
        if turn.status != gen.TurnStatus.completed:
            waiting = self.permissions(status=gen.PermissionStatus.pending, **options)
            pending = [p async for p in waiting if p.turn_index == turn_index]
            if pending and on_permission is None:
                raise _permission_required(self._client, self.id, turn_index, pending, boundary)
            for request in pending:
                assert on_permission is not None
                await self._decide(request, on_permission, options)
                handled.add(request.request_id)
        stream = self._follow_stream(Follow(turn_index, boundary, tuple(turn.events or ())), options)
        return await self._follow(stream, on_permission, boundary, handled, options)

    def stream_turn(
        self,
        turn_index: int,
        *,
        after: int = 0,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> AsyncTurnStream:
        """Read an existing turn's events after seq ``after`` (see :meth:`Session.stream_turn`)."""
        return self._follow_stream(Follow(turn_index, after), _follow_options(options), max_resumes)

    def _follow_stream(
        self, follow: Follow, options: RequestOptions, max_resumes: int = DEFAULT_MAX_RESUMES
    ) -> AsyncTurnStream:
        return AsyncTurnStream(
            self._client,
            self.id,
            self._turn_events,
            self._bind,
            body={},
            ordered=False,
            follow=follow,
            max_resumes=max_resumes,
            options=options,
        )

    async def _follow(
        self,
        stream: AsyncTurnStream,
        handler: AsyncPermissionHandler | None,
        boundary: int,
        handled: set[str],
        options: RequestOptions,
    ) -> TurnResult:
        async with stream:
            async for event in stream:
                if not _new_request(event, boundary, handled):
                    continue
                request = request_of(self.id, event)
                if handler is None:
                    raise _permission_required(self._client, self.id, event.turn_index, [request], event.seq)
                handled.add(request.request_id)
                await self._decide(request, handler, options)
        return await stream.get_final_result()

    async def _decide(
        self, request: gen.PermissionRequest, handler: AsyncPermissionHandler, options: RequestOptions
    ) -> None:
        option_id = await decide(handler, request)
        # Answered otherwise or cancelled meanwhile: the turn goes on as that says.
        with contextlib.suppress(PermissionResolvedError):
            await self._answer(request.request_id, option_id, options)

    async def _turn_events_through(self, turn_index: int, last_seq: int) -> list[gen.Event]:
        out: list[gen.Event] = []
        async for event in self.events(turn_index=turn_index):
            if event.seq > last_seq:
                break
            out.append(event)
        return out

    def turn_stream(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        meta: Mapping[str, Any] | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> AsyncTurnStream:
        """Send prompt as a streamed turn; ``async for`` over the result (see
        :meth:`Session.turn_stream`; a permission request is an
        :class:`AsyncPermissionRequestEvent`: ``await event.answer(option_id)``)."""
        return AsyncTurnStream(
            self._client,
            self.id,
            self._turn_events,
            self._bind,
            body=ops.turn_body(prompt, files, timeout_ms, busy_policy, meta),
            ordered=busy_policy is None,
            follow=None,
            max_resumes=max_resumes,
            options=options,
        )

    def _turn_events(self, after: int, turn_index: int) -> AsyncIterator[gen.Event]:
        return self.events(after=after, turn_index=turn_index).__aiter__()

    def _bind(self, event: gen.Event) -> gen.Event:
        return AsyncPermissionRequestEvent.bind(event, self.id, self._answer)

    async def _answer(self, request_id: str, option_id: str, options: RequestOptions) -> gen.PermissionRequest:
        return await self._client._request(ops.answer_permission(self.id, request_id, option_id), options)

    async def answer_permission(
        self, request_id: str, option_id: str, **options: Unpack[RequestOptions]
    ) -> gen.PermissionRequest:
        """Answer a permission request of this session (see :meth:`Session.answer_permission`)."""
        return await self._answer(request_id, option_id, options)

    def permissions(
        self,
        *,
        status: gen.PermissionStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[gen.PermissionRequest]:
        """The session's permission requests, oldest first, for ``async for``."""

        async def fetch(cursor: str | None) -> Page[gen.PermissionRequest]:
            page = await self._client._request(ops.list_permissions(self.id, status, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    async def cancel(self, **options: Unpack[RequestOptions]) -> gen.CancelTurnResult:
        """End the running turn; idempotent, never waits for the turn order."""
        return await self._client._request(ops.cancel_turn(self.id), options)

    async def cancel_turn(self, turn_index: int, **options: Unpack[RequestOptions]) -> gen.Turn:
        """Cancel one turn by its index, queued or running (see :meth:`Session.cancel_turn`)."""
        return await self._client._request(ops.cancel_turn_at(self.id, turn_index), options)

    async def close(self, **options: Unpack[RequestOptions]) -> gen.CloseSessionResult:
        """Soft-close the session; idempotent, and retryable after a failure."""
        async with self._close_lock:
            if self._close_result is None:
                result = await self._client._request(ops.close_session(self.id), options)
                self._update(result.session)
                self._close_result = result
            return self._close_result

    async def get_turn(self, turn_index: int, **options: Unpack[RequestOptions]) -> gen.Turn:
        """One turn with its events."""
        return await self._client._request(ops.get_turn(self.id, turn_index), options)

    def history(
        self,
        *,
        status: gen.TurnStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[gen.Turn]:
        """The session's turns, oldest first (without their events); only those in ``status`` when given."""

        async def fetch(cursor: str | None) -> Page[gen.Turn]:
            page = await self._client._request(ops.list_turns(self.id, status, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    def events(
        self, *, after: int = 0, turn_index: int | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncPager[gen.Event]:
        """The session's event log after seq ``after``, in seq order."""

        async def fetch(cursor: str | None) -> Page[gen.Event]:
            call = ops.list_events(self.id, after, turn_index, _EVENT_PAGE, cursor)
            page = await self._client._request(call, options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    def lifecycle_events(
        self, *, after: int = 0, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncPager[gen.LifecycleEvent]:
        """The session's lifecycle events after ``lifecycle_seq`` ``after``, in order."""

        async def fetch(cursor: str | None) -> Page[gen.LifecycleEvent]:
            page = await self._client._request(ops.list_lifecycle_events(self.id, after, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    def stream(
        self, *, after: str = "0.0", max_resumes: int = DEFAULT_MAX_RESUMES, **options: Unpack[RequestOptions]
    ) -> AsyncSessionEventStream:
        """Everything that happens in the session, for ``async for`` (see :meth:`Session.stream`)."""
        return AsyncSessionEventStream(
            self._client,
            self.id,
            after=after,
            max_resumes=max_resumes,
            options=options,
            bind=self._bind,
            on_end=self._update,
        )

    async def spawn(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """Create an active child session (SpawnLimitError over the server's caps)."""
        call = ops.spawn_child(self.id, agent, meta, plan_slug, context, agent_options)
        info = await self._client._request(call, options)
        return AsyncSession(self._client, info.session_id, info)

    def children(
        self,
        *,
        status: gen.SessionStatus | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[AsyncSession]:
        """The child sessions, oldest first."""

        async def fetch(cursor: str | None) -> Page[AsyncSession]:
            page = await self._client._request(ops.list_children(self.id, status, limit, cursor), options)
            return Page([AsyncSession(self._client, s.session_id, s) for s in page.items], page.next_cursor)

        return AsyncPager(fetch)

    async def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.File:
        """Upload a file; pass its ``file_token`` in a turn's ``files``."""
        return await self._client.files.upload(file, filename=filename, content_type=content_type, **options)

    async def pause(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """``active`` → ``paused``."""
        return self._update(await self._client._request(ops.pause(self.id), options))

    async def resume(self, **options: Unpack[RequestOptions]) -> gen.Session:
        """``paused`` → ``active``."""
        return self._update(await self._client._request(ops.resume(self.id), options))

    async def end(
        self,
        status: gen.EndStatus | str = gen.EndStatus.completed,
        *,
        summary: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Session:
        """End the session as ``completed`` or ``failed``."""
        return self._update(await self._client._request(ops.end(self.id, status, summary), options))

    async def continue_(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """A new session for ``agent`` that continues this one."""
        info = await self._client._request(ops.continue_(self.id, agent, meta, plan_slug, agent_options), options)
        return AsyncSession(self._client, info.session_id, info)

    async def handoff(
        self,
        summary: str,
        *,
        next_steps: Sequence[str] | None = None,
        blockers: Sequence[str] | None = None,
        context_for_next: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Session:
        """Record handoff notes; the session becomes ``paused``."""
        call = ops.handoff(self.id, summary, next_steps, blockers, context_for_next)
        return self._update(await self._client._request(call, options))

    async def handoff_context(self, **options: Unpack[RequestOptions]) -> gen.HandoffContext:
        """Everything a new agent needs to take over."""
        ctx = await self._client._request(ops.handoff_context(self.id), options)
        self._update_status(ctx.status)
        return ctx

    async def log(
        self,
        type: gen.LogEntryType | str,
        message: str,
        *,
        data: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.LogEntry:
        """Add a work-log entry."""
        return await self._client._request(ops.add_log_entry(self.id, type, message, data), options)

    def log_entries(
        self,
        *,
        type: gen.LogEntryType | str | None = None,
        order: gen.LogOrder | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[gen.LogEntry]:
        """The work log, oldest first (``order="newest_first"``: newest first)."""

        async def fetch(cursor: str | None) -> Page[gen.LogEntry]:
            page = await self._client._request(ops.list_log_entries(self.id, type, limit, cursor, order), options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    async def add_artifact(
        self,
        path: str,
        action: gen.ArtifactAction | str,
        *,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.Artifact:
        """Record a file the session created, modified or deleted."""
        return await self._client._request(ops.add_artifact(self.id, path, action, metadata), options)

    def artifacts(
        self,
        *,
        action: gen.ArtifactAction | str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[gen.Artifact]:
        """The artifacts, oldest first."""

        async def fetch(cursor: str | None) -> Page[gen.Artifact]:
            page = await self._client._request(ops.list_artifacts(self.id, action, limit, cursor), options)
            return Page(page.items, page.next_cursor)

        return AsyncPager(fetch)

    async def update_context(self, patch: Mapping[str, Any], **options: Unpack[RequestOptions]) -> gen.Session:
        """Merge patch into the context summary (RFC 7396)."""
        return self._update(await self._client._request(ops.update_context(self.id, patch), options))

    async def replay_context(self, **options: Unpack[RequestOptions]) -> gen.ReplayContext:
        """Where the session stands, from its work log."""
        ctx = await self._client._request(ops.replay_context(self.id), options)
        self._update_status(ctx.status)
        return ctx

    async def replay(
        self,
        *,
        agent: str | None = None,
        meta: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """A new session started from the replay context."""
        info = await self._client._request(ops.replay(self.id, agent, meta, agent_options), options)
        return AsyncSession(self._client, info.session_id, info)


class Sessions:
    """``client.sessions``: create, get, list and close sessions."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Session:
        """Start an active session with the agent (UnprocessableEntityError for
        an unknown one). ``agent_options`` are values for the options the agent
        declares (``capabilities()``; InvalidAgentOptionsError otherwise)."""
        info = self._client._request(ops.create_session(agent, meta, plan_slug, context, agent_options), options)
        return Session(self._client, info.session_id, info)

    def get(self, session_id: str, **options: Unpack[RequestOptions]) -> Session:
        """Fetch a session (NotFoundError when this tenant has none by that id)."""
        info = self._client._request(ops.get_session(session_id), options)
        return Session(self._client, info.session_id, info)

    def handle(self, session_id: str) -> Session:
        """A handle on a session by id, without a request (``info`` is None)."""
        return Session(self._client, session_id)

    def list(
        self,
        *,
        status: gen.SessionStatus | str | None = None,
        agent: str | None = None,
        plan_slug: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Session]:
        """The tenant's sessions, oldest first; pages are fetched as the loop goes."""

        def fetch(cursor: str | None) -> Page[Session]:
            call = ops.list_sessions(status, agent, plan_slug, limit, cursor)
            page = self._client._request(call, options)
            return Page([Session(self._client, s.session_id, s) for s in page.items], page.next_cursor)

        return SyncPager(fetch)

    def close(self, session_id: str, **options: Unpack[RequestOptions]) -> gen.CloseSessionResult:
        """Soft-close a session by id (idempotent on the server: ``already_closed``)."""
        return self._client._request(ops.close_session(session_id), options)


class AsyncSessions:
    """``client.sessions`` of the AsyncClient."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        agent_options: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """Start an active session with the agent."""
        info = await self._client._request(ops.create_session(agent, meta, plan_slug, context, agent_options), options)
        return AsyncSession(self._client, info.session_id, info)

    async def get(self, session_id: str, **options: Unpack[RequestOptions]) -> AsyncSession:
        """Fetch a session (NotFoundError when this tenant has none by that id)."""
        info = await self._client._request(ops.get_session(session_id), options)
        return AsyncSession(self._client, info.session_id, info)

    def handle(self, session_id: str) -> AsyncSession:
        """A handle on a session by id, without a request."""
        return AsyncSession(self._client, session_id)

    def list(
        self,
        *,
        status: gen.SessionStatus | str | None = None,
        agent: str | None = None,
        plan_slug: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[AsyncSession]:
        """The tenant's sessions, oldest first, for ``async for``."""

        async def fetch(cursor: str | None) -> Page[AsyncSession]:
            call = ops.list_sessions(status, agent, plan_slug, limit, cursor)
            page = await self._client._request(call, options)
            return Page([AsyncSession(self._client, s.session_id, s) for s in page.items], page.next_cursor)

        return AsyncPager(fetch)

    async def close(self, session_id: str, **options: Unpack[RequestOptions]) -> gen.CloseSessionResult:
        """Soft-close a session by id."""
        return await self._client._request(ops.close_session(session_id), options)


class Files:
    """``client.files``: upload files whose tokens turns accept."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.File:
        """Upload bytes, a path or a binary file object (PayloadTooLargeError over the limit)."""
        name, content, ctype = _file_part(file, filename, content_type)
        return self._client._request(ops.upload_file(name, content, ctype), options)

    def get(self, file_token: str, **options: Unpack[RequestOptions]) -> gen.File:
        """An uploaded file's metadata."""
        return self._client._request(ops.get_file(file_token), options)


class AsyncFiles:
    """``client.files`` of the AsyncClient."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def upload(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> gen.File:
        """Upload bytes, a path or a binary file object."""
        name, content, ctype = _file_part(file, filename, content_type)
        return await self._client._request(ops.upload_file(name, content, ctype), options)

    async def get(self, file_token: str, **options: Unpack[RequestOptions]) -> gen.File:
        """An uploaded file's metadata."""
        return await self._client._request(ops.get_file(file_token), options)
