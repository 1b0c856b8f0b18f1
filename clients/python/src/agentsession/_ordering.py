"""Per-session turn ordering, owned by the client.

Turns sent without a busy policy wait here for the session's earlier turns,
first come first served, so the order the caller sends is the order the
server sees; turns of different sessions never wait for each other. Every
handle of one session id shares the slot, because the client owns them.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["TurnOrder", "AsyncTurnOrder"]


class _FifoLock:
    """A lock handed to its waiters in arrival order (threading.Lock is not fair)."""

    __slots__ = ("_held", "_mutex", "_waiters")

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            ready = threading.Event()
            self._waiters.append(ready)
        try:
            ready.wait()
        except BaseException:
            with self._mutex:
                if ready in self._waiters:
                    self._waiters.remove(ready)
                    raise
            self.release()  # it was handed to us just as we were interrupted
            raise

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # ownership passes on; _held stays True
            else:
                self._held = False


@dataclass(slots=True)
class _Slot:
    """A session's lock and how many callers hold it or wait for it."""

    lock: _FifoLock = field(default_factory=_FifoLock)
    users: int = 0


class TurnOrder:
    """Thread-safe per-session FIFO slots."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._slots: dict[str, _Slot] = {}

    def hold(self, session_id: str) -> _Hold:
        """``with order.hold(session_id):`` runs the block when the session's
        earlier turns are done."""
        return _Hold(self, session_id)

    def _join(self, session_id: str) -> _Slot:
        with self._mutex:
            slot = self._slots.get(session_id)
            if slot is None:
                slot = self._slots[session_id] = _Slot()
            slot.users += 1
            return slot

    def _leave(self, session_id: str, slot: _Slot) -> None:
        with self._mutex:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[session_id]


class _Hold:
    """One caller's turn in a session's slot (a class, not a generator-based
    context manager: this runs on every turn)."""

    __slots__ = ("_order", "_session_id", "_slot")

    def __init__(self, order: TurnOrder, session_id: str) -> None:
        self._order = order
        self._session_id = session_id

    def __enter__(self) -> None:
        slot = self._order._join(self._session_id)
        try:
            slot.lock.acquire()
        except BaseException:
            self._order._leave(self._session_id, slot)
            raise
        self._slot = slot

    def __exit__(self, *exc: object) -> None:
        slot = self._slot
        slot.lock.release()
        self._order._leave(self._session_id, slot)


class AsyncTurnOrder:
    """Per-session FIFO slots for one event loop (asyncio.Lock wakes its
    waiters in order and handles cancellation)."""

    def __init__(self) -> None:
        self._slots: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        lock, users = self._slots.get(session_id) or (asyncio.Lock(), 0)
        self._slots[session_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._slots[session_id]
            if users == 1:
                del self._slots[session_id]
            else:
                self._slots[session_id] = (lock, users - 1)
