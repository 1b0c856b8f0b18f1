"""The request path shared by Client and AsyncClient.

Everything a call needs that does not wait on I/O lives in BaseClient:
configuration, headers, the idempotency key, the retry decision, the budget,
decoding, typed errors, redaction and logging. SyncAPIClient and
AsyncAPIClient only drive it: send, read, sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypedDict, TypeVar
from urllib.parse import quote

import httpx
import pydantic
import pydantic_core

from . import _exceptions as exc
from . import _generated as gen
from ._models import BaseModel, decode, decode_json, is_json_syntax_error
from ._retry import RetryBudget, RetryPolicy, is_final_problem, server_delay
from ._version import __version__

__all__ = ["NOT_GIVEN", "NotGiven", "RequestOptions", "DEFAULT_TIMEOUT"]

ENV_BASE_URL = "AGENTSESSION_BASE_URL"
ENV_TOKEN = "AGENTSESSION_TOKEN"  # noqa: S105 (a variable name, not a secret)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# How much of an error body is kept (APIStatusError.body) and quoted in messages.
MAX_ERROR_BODY = 64 << 10
MAX_SNIPPET = 200

REDACTED = "[REDACTED]"

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_KEYED_METHODS = frozenset({"POST", "PATCH"})

log = logging.getLogger("agentsession")

# What an attempt that got no (whole) answer raises.
HTTP_ERRORS = (httpx.TransportError, httpx.DecodingError)


class NotGiven:
    """The default of an option that was not passed (``None`` means "none")."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

TimeoutTypes = float | httpx.Timeout | None


class RequestOptions(TypedDict, total=False):
    """Per-call options, accepted by every method as keyword arguments."""

    timeout: TimeoutTypes
    """HTTP timeout of each attempt (seconds or an ``httpx.Timeout``; ``None``: none)."""
    max_retries: int
    """Retries after the first attempt (the client's ``max_retries`` by default)."""
    idempotency_key: str
    """The ``Idempotency-Key`` of a POST or PATCH (a fresh random one by default)."""
    extra_headers: Mapping[str, str]
    """Headers added to the request (``X-Request-Id`` to choose the request id)."""


M = TypeVar("M", bound=BaseModel)
N = TypeVar("N", bound=BaseModel)
HttpxClientT = TypeVar("HttpxClientT", httpx.Client, httpx.AsyncClient)


@dataclass(slots=True)
class Call(Generic[M]):
    """One logical call: every attempt is built from it."""

    method: str
    path: str  # relative to the base URL, such as "v1/sessions"
    cast: type[M]
    json: Any = None
    params: Mapping[str, Any] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    max_retries: int | None = None
    idempotency_key: str | None = None
    stream: bool = False
    # A JSON sendTurn: a 202 is its turn waiting for input (PermissionRequiredError).
    turn: bool = False
    # set when the call starts
    content: bytes | None = None
    retryable: bool = False
    max_attempts: int = 1
    last_cost: int = 0


def path(template: str, *args: str | int) -> str:
    """A path with each argument escaped as one path segment."""
    return template.format(*(quote(str(a), safe="") for a in args))


def new_idempotency_key() -> str:
    """A random UUID (version 4), as text: uuid.uuid4() formatted by hand, for a
    fraction of its cost on every POST."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def encode_json(value: Any) -> bytes:
    """A request body as compact UTF-8 JSON (pydantic's serializer: a few
    times faster than json.dumps, and it writes bytes)."""
    try:
        return pydantic_core.to_json(value)
    except pydantic_core.PydanticSerializationError as e:
        raise TypeError(f"the request body cannot be sent as JSON: {e}") from None


# How many request URLs a client keeps parsed (paths repeat per session).
MAX_CACHED_URLS = 1024


@dataclass(frozen=True, slots=True)
class Done(Generic[M]):
    value: M


class _CutBody(Exception):
    """A 2xx body that ended before its JSON did."""


class BaseClient(Generic[HttpxClientT]):
    """Configuration and the decisions of the request path."""

    _http: HttpxClientT
    _owns_http: bool

    def __init__(
        self,
        *,
        base_url: str | httpx.URL | None,
        token: str | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int,
        retry: RetryPolicy | None,
        default_headers: Mapping[str, str] | None,
        logger: logging.Logger | None,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get(ENV_BASE_URL) or None
        if base_url is None:
            raise exc.AgentSessionError(
                f"no base URL: pass base_url= or set {ENV_BASE_URL} (such as http://127.0.0.1:8080)"
            )
        self.base_url = _normalize_base_url(base_url)
        self._base = str(self.base_url)  # joined by hand: httpx.URL.join costs more than the request
        # Parsing a URL costs httpx more than anything else it does before sending.
        self._urls: dict[str, httpx.URL] = {}
        if token is None:
            token = os.environ.get(ENV_TOKEN) or None
        if token is not None and (token != token.strip() or any(c in token for c in "\r\n\x00")):
            raise exc.AgentSessionError("the token contains whitespace or a control character")
        self._token = token or None
        if max_retries < 0:
            raise exc.AgentSessionError(f"max_retries must not be negative, got {max_retries}")
        self.max_retries = max_retries
        self.retry = retry if retry is not None else RetryPolicy()
        self._budget = self.retry.budget if self.retry.budget is not None else RetryBudget()
        self.timeout: TimeoutTypes = DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout
        self._log = logger if logger is not None else log
        self._default_headers = dict(default_headers or {})
        headers = {
            "User-Agent": f"agentsession-python/{__version__}",
            "Accept": "application/json",
            **self._default_headers,
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._base_headers = headers
        self._token_bytes = self._token.encode() if self._token else b""
        self._unbounded_read: tuple[TimeoutTypes, httpx.Timeout] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r})"

    # --- redaction -------------------------------------------------------------

    def _redact(self, text: str) -> str:
        """text without the token, for anything a server or proxy may echo."""
        if self._token and self._token in text:
            return text.replace(self._token, REDACTED)
        return text

    def _redact_opt(self, text: str | None) -> str | None:
        return None if text is None else self._redact(text)

    def _redact_bytes(self, data: bytes) -> bytes:
        if self._token_bytes and self._token_bytes in data:
            return data.replace(self._token_bytes, REDACTED.encode())
        return data

    # --- building ----------------------------------------------------------------

    def _start(self, call: Call[Any], options: RequestOptions) -> None:
        """Apply per-call options and settle the call's key and attempts."""
        if "timeout" in options:
            call.timeout = options["timeout"]
        if "max_retries" in options:
            call.max_retries = options["max_retries"]
        if "extra_headers" in options:
            call.headers.update(options["extra_headers"])
        key = options.get("idempotency_key") or call.idempotency_key
        if key is None and call.method in _KEYED_METHODS:
            # Once per call: every attempt (and a stream's resume) reuses it.
            key = new_idempotency_key()
        call.idempotency_key = key
        if key is not None:
            call.headers["Idempotency-Key"] = key
        call.retryable = call.method in _IDEMPOTENT_METHODS or key is not None
        retries = call.max_retries if call.max_retries is not None else self.max_retries
        call.max_attempts = max(0, retries) + 1
        if call.json is not None:
            call.content = encode_json(call.json)
            call.headers.setdefault("Content-Type", "application/json")

    def _timeout(self, call: Call[Any]) -> TimeoutTypes:
        return self.timeout if isinstance(call.timeout, NotGiven) else call.timeout

    def _turn_timeout(self, timeout_ms: int | None) -> httpx.Timeout:
        """The timeout of a synchronous turn: the server answers when the turn
        ends, so reading waits for the turn (its timeout_ms, when given, plus
        the client's read timeout; else without a bound)."""
        cached = self._unbounded_read
        if timeout_ms is None and cached is not None and cached[0] is self.timeout:
            return cached[1]
        base = httpx.Timeout(self.timeout)
        if timeout_ms is None:
            unbounded = httpx.Timeout(connect=base.connect, read=None, write=base.write, pool=base.pool)
            self._unbounded_read = (self.timeout, unbounded)
            return unbounded
        read = timeout_ms / 1000 + (base.read or 0)
        return httpx.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool)

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= MAX_CACHED_URLS:
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self._base + path)
        return url

    def _build_request(self, call: Call[Any]) -> httpx.Request:
        headers = {**self._base_headers, **call.headers} if call.headers else self._base_headers
        return self._http.build_request(
            call.method,
            self._url(call.path),
            params=call.params,
            content=call.content,
            files=call.files,
            headers=headers,
            timeout=self._timeout(call),
        )

    @staticmethod
    def _scrub(request: httpx.Request) -> None:
        """Drop the token from a sent request: httpx errors (``__cause__``)
        keep a reference to it."""
        if "authorization" in request.headers:
            request.headers["Authorization"] = f"Bearer {REDACTED}"

    # --- deciding ------------------------------------------------------------------

    def _url_for_errors(self, call: Call[Any]) -> str:
        return self._base + call.path

    def _retry_wait(
        self, call: Call[Any], attempt: int, *, headers: Mapping[str, str] | None, timeout: bool, what: str
    ) -> float | None:
        """The wait before the next attempt, or None when the call is over."""
        if not call.retryable or attempt >= call.max_attempts:
            return None
        cost = self._budget.take(timeout=timeout)
        if cost is None:
            self._log.warning(
                "agentsession: %s %s: %s; not retried: the retry budget is empty", call.method, call.path, what
            )
            return None
        call.last_cost = cost
        wait = self.retry.wait(attempt, headers)
        self._log.info(
            "agentsession: %s %s: %s (attempt %d of %d); retrying in %.3f s",
            call.method,
            call.path,
            what,
            attempt,
            call.max_attempts,
            wait,
        )
        return wait

    def _transport_failure(
        self, call: Call[Any], attempt: int, error: Exception, *, cut: bool = False
    ) -> float | exc.APIError:
        """After an attempt that got no (whole) answer: the wait before the
        next one, or the error to raise (``from error``). A cut 2xx body is
        retried like a connection failure (the call carries its key)."""
        timeout = isinstance(error, httpx.TimeoutException)
        # The httpx error becomes __cause__: its text may quote a proxy that echoed the token.
        error.args = tuple(self._redact(a) if isinstance(a, str) else a for a in error.args)
        what = self._redact(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        if cut:
            what = f"the answer's body was cut ({what})"
        if _retryable_error(error):
            wait = self._retry_wait(call, attempt, headers=None, timeout=timeout, what=what)
            if wait is not None:
                return wait
        message = f"{call.method} {self._url_for_errors(call)}: {what}"
        if attempt > 1:
            message += f" after {attempt} attempts"
        cls = exc.APITimeoutError if timeout else exc.APIConnectionError
        return cls(
            message,
            method=call.method,
            url=self._url_for_errors(call),
            attempts=attempt,
            idempotency_key=call.idempotency_key,
        )

    def _outcome(
        self,
        call: Call[M],
        attempt: int,
        failure: Exception | None,
        cut: bool,
        response: httpx.Response | None,
        body: bytes,
    ) -> Done[M] | float:
        """After one attempt of a call: its result, or the wait before the
        next attempt; raises the call's error when it is over.

        failure is what kept the attempt from a whole answer (response is
        None when no answer came; cut says the answer's body was cut short).
        """
        if failure is None:
            assert response is not None
            outcome = self._answered(call, attempt, response, body)
            if isinstance(outcome, exc.APIError):
                raise outcome from None
            if not isinstance(outcome, _CutBody):
                return outcome
            failure, cut = outcome, True
        wait = self._transport_failure(call, attempt, failure, cut=cut)
        if isinstance(wait, exc.APIError):
            if response is not None and not response.is_success:
                # An error answer whose body was cut, and no attempt left to
                # read it whole: the status (and what came of the problem).
                raise self._status_error(call, attempt, response, body) from None
            raise wait from failure
        return wait

    def _opened(self, call: Call[Any], attempt: int, response: httpx.Response) -> httpx.Response:
        self._log.debug(
            "agentsession: %s %s -> %d (attempt %d, stream)", call.method, call.path, response.status_code, attempt
        )
        self._budget.succeeded(call.last_cost)
        return response

    def _answered(
        self, call: Call[M], attempt: int, response: httpx.Response, body: bytes
    ) -> Done[M] | float | exc.APIError | _CutBody:
        """After an attempt that got an answer: the result, the wait before
        the next attempt, or the error to raise."""
        status = response.status_code
        if self._log.isEnabledFor(logging.DEBUG):
            rid = self._redact_opt(response.headers.get("x-request-id"))
            self._log.debug(
                "agentsession: %s %s -> %d (attempt %d, request %s)", call.method, call.path, status, attempt, rid
            )
        if 200 <= status < 300:
            if status == 202 and call.turn:
                return self._waiting(call, attempt, response, body)
            try:
                value = self._decode(call, response, body)
            except _CutBody as cut:
                return cut
            self._budget.succeeded(call.last_cost)
            return Done(value)
        if status in exc.RETRYABLE_STATUSES and not is_final_problem(response.headers, body):
            wait = self._retry_wait(call, attempt, headers=response.headers, timeout=False, what=f"status {status}")
            if wait is not None:
                return wait
        else:
            self._budget.succeeded(call.last_cost)
        return self._status_error(call, attempt, response, body)

    def _waiting(
        self, call: Call[Any], attempt: int, response: httpx.Response, body: bytes
    ) -> exc.PermissionRequiredError | exc.APIError | _CutBody:
        """A JSON turn's 202: the turn waits for an answer to a permission request."""
        try:
            waiting = self._decode_as(gen.TurnWaiting, call, response, body)
        except _CutBody as cut:
            return cut
        except exc.APIResponseValidationError as e:
            return e
        self._budget.succeeded(call.last_cost)
        titles = "; ".join(repr(r.title) for r in waiting.permission_requests)
        return exc.PermissionRequiredError(
            self._redact(
                f"turn {waiting.turn_index} waits for an answer to {len(waiting.permission_requests)} "
                f"permission request(s) ({titles}) and the call has no on_permission handler"
            ),
            session_id=waiting.session_id,
            turn_index=waiting.turn_index,
            permission_requests=list(waiting.permission_requests),
            last_seq=waiting.last_seq,
            method=call.method,
            url=self._url_for_errors(call),
            attempts=attempt,
            idempotency_key=call.idempotency_key,
        )

    def _decode(self, call: Call[M], response: httpx.Response, body: bytes) -> M:
        return self._decode_as(call.cast, call, response, body)

    def _decode_as(self, cls: type[N], call: Call[Any], response: httpx.Response, body: bytes) -> N:
        # One pass over the text (pydantic's parser); the slower path below
        # only runs when that pass says the text is not JSON, to tell a cut
        # body from a bad one (and to accept what json.loads accepts).
        # Errors are raised outside the except blocks: their context would
        # keep the unredacted body.
        why = ""
        try:
            return decode_json(cls, body)
        except pydantic.ValidationError as e:
            if not is_json_syntax_error(e):
                why = f"the body does not fit {cls.__name__}: {e}"
        if not why:
            try:
                obj = json.loads(body)
            except ValueError as e:
                if _truncated(body, e):
                    raise _CutBody(f"{len(body)} bytes of JSON that end early") from None
                why = f"the body is not JSON: {e}"
        if not why:
            try:
                return decode(cls, obj)
            except pydantic.ValidationError as e:
                why = f"the body does not fit {cls.__name__}: {e}"
        raise self._invalid(call, response.status_code, body, why)

    def _invalid(self, call: Call[Any], status: int, body: bytes, why: str) -> exc.APIResponseValidationError:
        return exc.APIResponseValidationError(
            self._redact(f"{call.method} {self._url_for_errors(call)}: {status}: {why}"),
            status_code=status,
            body=self._redact_bytes(body[:MAX_ERROR_BODY]),
            method=call.method,
            url=self._url_for_errors(call),
            idempotency_key=call.idempotency_key,
        )

    def _status_error(self, call: Call[Any], attempt: int, response: httpx.Response, body: bytes) -> exc.APIStatusError:
        status = response.status_code
        problem: dict[str, Any] = {}
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                problem = parsed

        def text(name: str) -> str | None:
            value = problem.get(name)
            return self._redact(value) if isinstance(value, str) else None

        code = text("code")
        detail, title = text("detail"), text("title")
        request_id = self._redact_opt(response.headers.get("x-request-id")) or text("request_id")
        field_errors = [
            {k: self._redact(v) if isinstance(v, str) else v for k, v in item.items()}
            for item in problem.get("errors") or []
            if isinstance(item, dict)
        ]
        delay = server_delay(response.headers)
        url = self._url_for_errors(call)
        parts = [f"{call.method} {url}: {status}"]
        parts.append(f" {code}" if code else f" {response.reason_phrase}" if response.reason_phrase else "")
        if detail or title:
            parts.append(f": {detail or title}")
        elif not code:
            parts.append(f": {_snippet(self._redact_bytes(body))}")
        if request_id:
            parts.append(f" (request {request_id})")
        if attempt > 1:
            parts.append(f" after {attempt} attempts")
        cls = exc.status_error_class(status, code)
        return cls(
            "".join(parts),
            status_code=status,
            method=call.method,
            url=url,
            code=code,
            title=title,
            detail=detail,
            type=text("type"),
            instance=text("instance"),
            field_errors=field_errors,
            request_id=request_id,
            retry_after=delay,
            headers={k: self._redact(v) for k, v in response.headers.items()},
            body=self._redact_bytes(body[:MAX_ERROR_BODY]),
            attempts=attempt,
            idempotency_key=call.idempotency_key,
        )


def _normalize_base_url(raw: str | httpx.URL) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError) as e:
        raise exc.AgentSessionError(f"invalid base URL: {e}") from None
    if url.scheme not in ("http", "https"):
        raise exc.AgentSessionError(
            f"invalid base URL {str(url.copy_with(username=None, password=None))!r}: the scheme must be http or https"
        )
    if not url.host:
        raise exc.AgentSessionError("invalid base URL: it has no host")
    if url.userinfo:
        raise exc.AgentSessionError("invalid base URL: it holds credentials; pass the token with token=")
    if url.query or url.fragment:
        raise exc.AgentSessionError(f"invalid base URL {str(url)!r}: no query or fragment allowed")
    path = url.path.rstrip("/")
    if path.endswith("/v1"):
        raise exc.AgentSessionError(
            f"invalid base URL {str(url)!r}: drop the trailing /v1 (the SDK adds it to every path), "
            f"such as {str(url.copy_with(path=path[:-3] + '/'))!r}"
        )
    return url.copy_with(path=path + "/")


def _retryable_error(error: Exception) -> bool:
    """Whether an attempt that got no answer is worth another: not our own
    protocol mistakes, an unsupported URL, or TLS failures (they fail again)."""
    if isinstance(error, _CutBody):
        return True
    if isinstance(error, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
        return False
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return False
        cause = cause.__cause__ or cause.__context__
    return isinstance(error, (httpx.TransportError, httpx.DecodingError))


def _truncated(body: bytes, error: ValueError) -> bool:
    """Whether JSON failed to decode because its text ended early (a cut
    body), as opposed to a whole body that is not JSON."""
    if not body.strip():
        return True
    if isinstance(error, UnicodeDecodeError):
        return error.end >= len(body) - 1  # cut inside a multi-byte character
    if isinstance(error, json.JSONDecodeError):
        # A string still open at the end, or a parser that wanted more text.
        return error.msg.startswith("Unterminated string") or error.pos >= len(error.doc.rstrip())
    return False


def _snippet(body: bytes) -> str:
    if not body:
        return "(empty body)"
    text = body[: MAX_SNIPPET * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= MAX_SNIPPET else text[:MAX_SNIPPET] + "…"


class _OwnedClient(httpx.Client):
    """The httpx client the SDK made: closed when garbage collected, so a
    client that was never closed does not leak its connections."""

    def __del__(self) -> None:
        if not self.is_closed:
            with contextlib.suppress(Exception):  # nothing to report to at collection time
                self.close()


class SyncAPIClient(BaseClient[httpx.Client]):
    """Drives the request path with a blocking httpx.Client."""

    _sleep = staticmethod(time.sleep)

    def __init__(
        self, *, http_client: httpx.Client | None, transport: httpx.BaseTransport | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if http_client is not None and transport is not None:
            raise exc.AgentSessionError("pass http_client or transport, not both")
        self._owns_http = http_client is None
        self._http = http_client or _OwnedClient(
            transport=transport, limits=DEFAULT_CONNECTION_LIMITS, timeout=self.timeout, follow_redirects=False
        )

    def close(self) -> None:
        """Close the connections (a client passed as ``http_client`` is the caller's to close)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    def _request(self, call: Call[M], options: RequestOptions) -> M:
        """Send a call with retries and return its decoded answer."""
        self._start(call, options)
        attempt = 0
        while True:
            attempt += 1
            request = self._build_request(call)
            failure: Exception | None = None
            cut = False
            response: httpx.Response | None = None
            body = b""
            try:
                try:
                    response = self._http.send(request, stream=True)
                except HTTP_ERRORS as error:
                    failure = error
                else:
                    try:
                        if response.is_success:
                            body = response.read()
                        else:
                            body, failure = _read_bounded(response)
                    except HTTP_ERRORS as error:
                        failure = error
                    finally:
                        response.close()
                    cut = failure is not None
            except BaseException:
                self._scrub(request)
                raise
            if failure is not None or (response is not None and not response.is_success):
                # Whatever fails may keep the request (an error's __cause__, a
                # log handler); a success drops it, so it is not worth scrubbing.
                self._scrub(request)
            wait = self._outcome(call, attempt, failure, cut, response, body)
            if isinstance(wait, Done):
                return wait.value
            self._sleep(wait)

    def _open(self, call: Call[Any], options: RequestOptions) -> httpx.Response:
        """Send a call with retries until a 2xx answer's headers arrive, and
        return the open response (the caller reads and closes it)."""
        call.stream = True
        self._start(call, options)
        attempt = 0
        while True:
            attempt += 1
            request = self._build_request(call)
            failure: Exception | None = None
            response: httpx.Response | None = None
            body = b""
            try:
                try:
                    response = self._http.send(request, stream=True)
                except HTTP_ERRORS as error:
                    failure = error
                else:
                    if response.is_success:
                        return self._opened(call, attempt, response)
                    try:
                        body, failure = _read_bounded(response)
                    finally:
                        response.close()
            finally:
                self._scrub(request)
            wait = self._outcome(call, attempt, failure, failure is not None and response is not None, response, body)
            assert not isinstance(wait, Done)
            self._sleep(wait)


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """Drives the request path with an httpx.AsyncClient."""

    def __init__(
        self, *, http_client: httpx.AsyncClient | None, transport: httpx.AsyncBaseTransport | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if http_client is not None and transport is not None:
            raise exc.AgentSessionError("pass http_client or transport, not both")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, limits=DEFAULT_CONNECTION_LIMITS, timeout=self.timeout, follow_redirects=False
        )

    _sleep = staticmethod(asyncio.sleep)

    async def close(self) -> None:
        """Close the connections (a client passed as ``http_client`` is the caller's to close)."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def _request(self, call: Call[M], options: RequestOptions) -> M:
        """Send a call with retries and return its decoded answer."""
        self._start(call, options)
        attempt = 0
        while True:
            attempt += 1
            request = self._build_request(call)
            failure: Exception | None = None
            cut = False
            response: httpx.Response | None = None
            body = b""
            try:
                try:
                    response = await self._http.send(request, stream=True)
                except HTTP_ERRORS as error:
                    failure = error
                else:
                    try:
                        if response.is_success:
                            body = await response.aread()
                        else:
                            body, failure = await _aread_bounded(response)
                    except HTTP_ERRORS as error:
                        failure = error
                    finally:
                        await response.aclose()
                    cut = failure is not None
            except BaseException:
                self._scrub(request)
                raise
            if failure is not None or (response is not None and not response.is_success):
                # Whatever fails may keep the request (an error's __cause__, a
                # log handler); a success drops it, so it is not worth scrubbing.
                self._scrub(request)
            wait = self._outcome(call, attempt, failure, cut, response, body)
            if isinstance(wait, Done):
                return wait.value
            await self._sleep(wait)

    async def _open(self, call: Call[Any], options: RequestOptions) -> httpx.Response:
        """Send a call with retries until a 2xx answer's headers arrive, and
        return the open response (the caller reads and closes it)."""
        call.stream = True
        self._start(call, options)
        attempt = 0
        while True:
            attempt += 1
            request = self._build_request(call)
            failure: Exception | None = None
            response: httpx.Response | None = None
            body = b""
            try:
                try:
                    response = await self._http.send(request, stream=True)
                except HTTP_ERRORS as error:
                    failure = error
                else:
                    if response.is_success:
                        return self._opened(call, attempt, response)
                    try:
                        body, failure = await _aread_bounded(response)
                    finally:
                        await response.aclose()
            finally:
                self._scrub(request)
            wait = self._outcome(call, attempt, failure, failure is not None and response is not None, response, body)
            assert not isinstance(wait, Done)
            await self._sleep(wait)


def _read_bounded(response: httpx.Response) -> tuple[bytes, Exception | None]:
    """Up to MAX_ERROR_BODY bytes of an error answer, and the error that cut
    it short (then the bytes are what came): its problem (code, detail) may be
    in the part that never arrived, so the call retries it like a lost answer."""
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= MAX_ERROR_BODY:
                break
    except HTTP_ERRORS as error:
        return bytes(data[:MAX_ERROR_BODY]), error
    return bytes(data[:MAX_ERROR_BODY]), None


async def _aread_bounded(response: httpx.Response) -> tuple[bytes, Exception | None]:
    data = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= MAX_ERROR_BODY:
                break
    except HTTP_ERRORS as error:
        return bytes(data[:MAX_ERROR_BODY]), error
    return bytes(data[:MAX_ERROR_BODY]), None
