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
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

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


class TurnOrder:
    """Thread-safe per-session FIFO slots."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._slots: dict[str, tuple[_FifoLock, int]] = {}

    @contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        with self._mutex:
            lock, users = self._slots.get(session_id) or (_FifoLock(), 0)
            self._slots[session_id] = (lock, users + 1)
        try:
            lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._mutex:
                lock, users = self._slots[session_id]
                if users == 1:
                    del self._slots[session_id]
                else:
                    self._slots[session_id] = (lock, users - 1)


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
