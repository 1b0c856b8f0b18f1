"""Sessions: the resource on the client and the handle a user holds."""

from __future__ import annotations

import asyncio
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
from ._base_client import RequestOptions
from ._pagination import AsyncPager, Page, SyncPager
from ._streaming import DEFAULT_MAX_RESUMES, AsyncTurnStream, TurnStream
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
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Send prompt to the agent and return the finished turn.

        ``files`` are file tokens (:meth:`upload`); ``timeout_ms`` asks the
        server to end the turn after that long; ``busy_policy`` says what the
        server does while another turn runs (``reject``: BusyError;
        ``enqueue``; ``interrupt``). Retries reuse one Idempotency-Key, so a
        turn never runs twice.
        """
        call = ops.send_turn(self.id, ops.turn_body(prompt, files, timeout_ms, busy_policy))
        call.timeout = self._client._turn_timeout(timeout_ms)
        if busy_policy is not None:
            return self._client._request(call, options)
        with self._client._turn_order.hold(self.id):
            return self._client._request(call, options)

    def turn_stream(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> TurnStream:
        """Send prompt as a streamed turn; iterate the result for its events.

        After a dropped connection the stream resumes after the last event
        (``max_resumes`` times in a row without progress, then
        StreamLostError). ``timeout`` bounds each read: keep it above the
        server's keep-alive interval.
        """
        return TurnStream(
            self._client,
            self.id,
            prompt,
            self._turn_events,
            files=files,
            timeout_ms=timeout_ms,
            busy_policy=busy_policy,
            max_resumes=max_resumes,
            options=options,
        )

    def _turn_events(self, after: int, turn_index: int) -> Iterator[gen.Event]:
        return iter(self.events(after=after, turn_index=turn_index))

    def cancel(self, **options: Unpack[RequestOptions]) -> gen.CancelTurnResult:
        """End the running turn (stop reason ``cancelled``); idempotent, and it
        never waits for the session's turn order."""
        return self._client._request(ops.cancel_turn(self.id), options)

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

    def history(self, *, limit: int | None = None, **options: Unpack[RequestOptions]) -> SyncPager[gen.Turn]:
        """The session's turns, oldest first (without their events)."""

        def fetch(cursor: str | None) -> Page[gen.Turn]:
            page = self._client._request(ops.list_turns(self.id, limit, cursor), options)
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

    # --- children and files ----------------------------------------------------------

    def spawn(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Session:
        """Create an active child session (SpawnLimitError over the server's caps)."""
        info = self._client._request(ops.spawn_child(self.id, agent, meta, plan_slug, context), options)
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
        **options: Unpack[RequestOptions],
    ) -> Session:
        """A new session for ``agent`` that continues this one (context and
        handoff notes inherited)."""
        info = self._client._request(ops.continue_(self.id, agent, meta, plan_slug), options)
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
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[gen.LogEntry]:
        """The work log, oldest first (one type with ``type``)."""

        def fetch(cursor: str | None) -> Page[gen.LogEntry]:
            page = self._client._request(ops.list_log_entries(self.id, type, limit, cursor), options)
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
        self, *, agent: str | None = None, meta: Mapping[str, Any] | None = None, **options: Unpack[RequestOptions]
    ) -> Session:
        """A new session started from the replay context."""
        info = self._client._request(ops.replay(self.id, agent, meta), options)
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
        **options: Unpack[RequestOptions],
    ) -> TurnResult:
        """Send prompt to the agent and return the finished turn (see :meth:`Session.turn`)."""
        call = ops.send_turn(self.id, ops.turn_body(prompt, files, timeout_ms, busy_policy))
        call.timeout = self._client._turn_timeout(timeout_ms)
        if busy_policy is not None:
            return await self._client._request(call, options)
        async with self._client._turn_order.hold(self.id):
            return await self._client._request(call, options)

    def turn_stream(
        self,
        prompt: str,
        *,
        files: Sequence[str] | None = None,
        timeout_ms: int | None = None,
        busy_policy: gen.BusyPolicy | str | None = None,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        **options: Unpack[RequestOptions],
    ) -> AsyncTurnStream:
        """Send prompt as a streamed turn; ``async for`` over the result (see
        :meth:`Session.turn_stream`)."""
        return AsyncTurnStream(
            self._client,
            self.id,
            prompt,
            self._turn_events,
            files=files,
            timeout_ms=timeout_ms,
            busy_policy=busy_policy,
            max_resumes=max_resumes,
            options=options,
        )

    def _turn_events(self, after: int, turn_index: int) -> AsyncIterator[gen.Event]:
        return self.events(after=after, turn_index=turn_index).__aiter__()

    async def cancel(self, **options: Unpack[RequestOptions]) -> gen.CancelTurnResult:
        """End the running turn; idempotent, never waits for the turn order."""
        return await self._client._request(ops.cancel_turn(self.id), options)

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

    def history(self, *, limit: int | None = None, **options: Unpack[RequestOptions]) -> AsyncPager[gen.Turn]:
        """The session's turns, oldest first (without their events)."""

        async def fetch(cursor: str | None) -> Page[gen.Turn]:
            page = await self._client._request(ops.list_turns(self.id, limit, cursor), options)
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

    async def spawn(
        self,
        *,
        agent: str,
        meta: Mapping[str, Any] | None = None,
        plan_slug: str | None = None,
        context: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """Create an active child session (SpawnLimitError over the server's caps)."""
        info = await self._client._request(ops.spawn_child(self.id, agent, meta, plan_slug, context), options)
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
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """A new session for ``agent`` that continues this one."""
        info = await self._client._request(ops.continue_(self.id, agent, meta, plan_slug), options)
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
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[gen.LogEntry]:
        """The work log, oldest first."""

        async def fetch(cursor: str | None) -> Page[gen.LogEntry]:
            page = await self._client._request(ops.list_log_entries(self.id, type, limit, cursor), options)
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
        self, *, agent: str | None = None, meta: Mapping[str, Any] | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncSession:
        """A new session started from the replay context."""
        info = await self._client._request(ops.replay(self.id, agent, meta), options)
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
        **options: Unpack[RequestOptions],
    ) -> Session:
        """Start an active session with the agent (UnprocessableEntityError for an unknown one)."""
        info = self._client._request(ops.create_session(agent, meta, plan_slug, context), options)
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
        **options: Unpack[RequestOptions],
    ) -> AsyncSession:
        """Start an active session with the agent."""
        info = await self._client._request(ops.create_session(agent, meta, plan_slug, context), options)
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
