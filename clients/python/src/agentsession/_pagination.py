"""Auto-paging iterators over the cursor-paged lists."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ._exceptions import CursorLoopError

__all__ = ["Page", "SyncPager", "AsyncPager"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None


class SyncPager(Generic[T]):
    """Iterates over every item of a list, fetching pages as the loop goes.

    Nothing is fetched until the loop starts; each loop starts from the first
    page again. ``iter_pages()`` yields the pages themselves.
    """

    def __init__(self, fetch: Callable[[str | None], Page[T]]) -> None:
        self._fetch = fetch

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items

    def iter_pages(self) -> Iterator[Page[T]]:
        cursor: str | None = None
        while True:
            page = self._fetch(cursor)
            yield page
            if not page.next_cursor:
                return
            if page.next_cursor == cursor:
                raise CursorLoopError(f"the server answered the cursor {cursor!r} again")
            cursor = page.next_cursor

    def to_list(self) -> list[T]:
        """Every item of every page."""
        return list(self)


class AsyncPager(Generic[T]):
    """Iterates (``async for``) over every item of a list, fetching pages as
    the loop goes. ``iter_pages()`` yields the pages themselves."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[Page[T]]]) -> None:
        self._fetch = fetch

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item

    async def iter_pages(self) -> AsyncIterator[Page[T]]:
        cursor: str | None = None
        while True:
            page = await self._fetch(cursor)
            yield page
            if not page.next_cursor:
                return
            if page.next_cursor == cursor:
                raise CursorLoopError(f"the server answered the cursor {cursor!r} again")
            cursor = page.next_cursor

    async def to_list(self) -> list[T]:
        """Every item of every page."""
        return [item async for item in self]
