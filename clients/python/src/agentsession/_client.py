"""Client and AsyncClient."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType

import httpx
from typing_extensions import Self, Unpack

from . import _generated as gen
from . import _ops as ops
from ._base_client import NOT_GIVEN, AsyncAPIClient, NotGiven, RequestOptions, SyncAPIClient, TimeoutTypes
from ._ordering import AsyncTurnOrder, TurnOrder
from ._retry import DEFAULT_MAX_RETRIES, RetryBudget, RetryPolicy
from ._sessions import AsyncFiles, AsyncSessions, Files, Sessions

__all__ = ["Client", "AsyncClient"]


class Client(SyncAPIClient):
    """A client of an Agent Session API server. Thread-safe; share one.

    ``base_url`` and ``token`` fall back to ``AGENTSESSION_BASE_URL`` and
    ``AGENTSESSION_TOKEN``. The base URL is the server's root
    (``http://127.0.0.1:8080``), without ``/v1``. ``timeout`` bounds each HTTP
    attempt (default 60 s, connect 5 s); ``max_retries`` counts the retries
    after the first attempt (default 3); ``retry`` tunes the waits and the
    retry budget. Pass ``http_client`` (an ``httpx.Client``) or ``transport``
    to choose what sends the requests, ``default_headers`` for headers every
    request carries, ``logger`` for the SDK's log lines (the default is the
    ``agentsession`` logger; the token is never logged).

    ``with Client() as client:`` closes the connections at the end.
    """

    sessions: Sessions
    files: Files

    def __init__(
        self,
        *,
        base_url: str | httpx.URL | None = None,
        token: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            default_headers=default_headers,
            logger=logger,
            http_client=http_client,
            transport=transport,
        )
        self._turn_order = TurnOrder()
        self.sessions = Sessions(self)
        self.files = Files(self)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> Client:
        """A copy with other defaults that shares this client's connections,
        retry budget and per-session turn order."""
        copy = Client.__new__(Client)
        copy.__dict__.update(self.__dict__)
        copy._owns_http = False  # the original closes the connections
        if not isinstance(timeout, NotGiven):
            copy.timeout = timeout
        if max_retries is not None:
            copy.max_retries = max_retries
        if retry is not None:
            copy.retry = retry
            if retry.budget is not None:
                copy._budget = retry.budget
        copy.sessions = Sessions(copy)
        copy.files = Files(copy)
        return copy

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def retry_budget(self) -> RetryBudget:
        """The retry token bucket this client's calls draw from."""
        return self._budget

    def health(self, **options: Unpack[RequestOptions]) -> gen.Health:
        """Whether the server is up (needs no token)."""
        return self._request(ops.health(), options)

    def capabilities(self, **options: Unpack[RequestOptions]) -> gen.Capabilities:
        """The server's agents, optional features and limits."""
        return self._request(ops.capabilities(), options)


class AsyncClient(AsyncAPIClient):
    """The asyncio client; the same options as :class:`Client` (``http_client``
    is an ``httpx.AsyncClient``). Use it from one event loop;
    ``async with AsyncClient() as client:`` closes the connections."""

    sessions: AsyncSessions
    files: AsyncFiles

    def __init__(
        self,
        *,
        base_url: str | httpx.URL | None = None,
        token: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        logger: logging.Logger | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            default_headers=default_headers,
            logger=logger,
            http_client=http_client,
            transport=transport,
        )
        self._turn_order = AsyncTurnOrder()
        self.sessions = AsyncSessions(self)
        self.files = AsyncFiles(self)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncClient:
        """A copy with other defaults that shares this client's connections,
        retry budget and per-session turn order."""
        copy = AsyncClient.__new__(AsyncClient)
        copy.__dict__.update(self.__dict__)
        copy._owns_http = False
        if not isinstance(timeout, NotGiven):
            copy.timeout = timeout
        if max_retries is not None:
            copy.max_retries = max_retries
        if retry is not None:
            copy.retry = retry
            if retry.budget is not None:
                copy._budget = retry.budget
        copy.sessions = AsyncSessions(copy)
        copy.files = AsyncFiles(copy)
        return copy

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def retry_budget(self) -> RetryBudget:
        """The retry token bucket this client's calls draw from."""
        return self._budget

    async def health(self, **options: Unpack[RequestOptions]) -> gen.Health:
        """Whether the server is up (needs no token)."""
        return await self._request(ops.health(), options)

    async def capabilities(self, **options: Unpack[RequestOptions]) -> gen.Capabilities:
        """The server's agents, optional features and limits."""
        return await self._request(ops.capabilities(), options)
