"""The retry policy: the Go SDK's (retry/ in the repository), in Python.

Connection failures and 408, 429, 500, 502, 503, 504 are retried (never 501
or another 4xx, nor a problem document whose code is in
``FINAL_PROBLEM_CODES``, whatever its status); waits are exponential with full jitter, or the server's
``Retry-After`` / ``Retry-After-Ms`` capped at ``max_server_delay``; every
retry draws from a token bucket shared by the client (the AWS SDKs'
"standard" mode), so an outage does not multiply the load.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from ._generated import ProblemCode

__all__ = ["FINAL_PROBLEM_CODES", "RetryPolicy", "RetryBudget", "is_final_problem", "server_delay"]

DEFAULT_MAX_RETRIES = 3  # 4 attempts in all, as the Go SDK
DEFAULT_MIN_WAIT = 0.25
DEFAULT_MAX_WAIT = 8.0
DEFAULT_MAX_SERVER_DELAY = 30.0

# Problem codes that end the retries even on a retryable status: the server
# answered for good. agent_start_failed (502): the server already tried to
# start the agent, with its own timeout, and stored nothing under the key, so
# a retry would only repeat that wait or fail the same way.
FINAL_PROBLEM_CODES: frozenset[str] = frozenset({ProblemCode.agent_start_failed.value})


def is_final_problem(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether an answer is a problem document (``application/problem+json``)
    whose ``code`` is in ``FINAL_PROBLEM_CODES``. ``body`` is the bounded
    start of the answer the caller already read (64 KiB): a problem cut at
    that bound does not parse, and is retried as before."""
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/problem+json" or not body:
        return False
    try:
        problem = json.loads(body)
    except ValueError:
        return False
    return isinstance(problem, dict) and problem.get("code") in FINAL_PROBLEM_CODES


# Budget defaults, those of the AWS SDKs' "standard" retry mode.
DEFAULT_BUDGET_CAPACITY = 500
RETRY_COST = 5
TIMEOUT_COST = 10
NO_RETRY_REFUND = 1


class RetryBudget:
    """A retry token bucket shared by every call of a client.

    A retry costs 5 tokens (10 after a timeout); a call that ends without a
    retryable failure returns the cost of its last retry, or 1 when it needed
    none. When the bucket cannot pay for a retry, the call is not retried.
    The first attempt of a call is never refused. Thread-safe; the async
    client uses it from one event loop.
    """

    def __init__(self, capacity: int = DEFAULT_BUDGET_CAPACITY) -> None:
        if capacity <= 0:
            raise ValueError(f"retry budget capacity must be positive, got {capacity}")
        self._capacity = capacity
        self._tokens = capacity
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def available(self) -> int:
        with self._lock:
            return self._tokens

    def take(self, *, timeout: bool) -> int | None:
        """Pay for one retry; ``None`` (nothing taken) when the bucket cannot."""
        cost = TIMEOUT_COST if timeout else RETRY_COST
        with self._lock:
            if self._tokens < cost:
                return None
            self._tokens -= cost
            return cost

    def succeeded(self, last_cost: int) -> None:
        refund = last_cost or NO_RETRY_REFUND
        with self._lock:
            self._tokens = min(self._capacity, self._tokens + refund)


@dataclass(frozen=True)
class RetryPolicy:
    """How long calls wait between attempts. ``RetryPolicy()`` is the default;
    how many attempts is the client's ``max_retries``.

    Waits are drawn from ``[0, min(max_wait, min_wait * 2**n)]`` after the n-th failure
    (n from 0); a server-requested delay is honoured up to
    ``max_server_delay`` seconds (a larger one is capped, not ignored).
    ``budget`` is shared by every client built with this policy; by default
    each client gets its own.
    """

    min_wait: float = DEFAULT_MIN_WAIT
    max_wait: float = DEFAULT_MAX_WAIT
    max_server_delay: float = DEFAULT_MAX_SERVER_DELAY
    budget: RetryBudget | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("min_wait", "max_wait", "max_server_delay"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a non-negative number of seconds, got {value}")
        if self.min_wait > self.max_wait:
            raise ValueError(f"min_wait {self.min_wait} is above max_wait {self.max_wait}")

    def backoff(self, failures: int) -> float:
        """Full-jitter wait after the ``failures``-th failed attempt (from 1)."""
        ceiling = self.min_wait
        for _ in range(failures - 1):
            if ceiling >= self.max_wait / 2:
                ceiling = self.max_wait
                break
            ceiling *= 2
        return random.uniform(0, min(ceiling, self.max_wait))

    def wait(self, failures: int, headers: Mapping[str, str] | None) -> float:
        """The wait before the next attempt: the server's delay, capped, else
        the backoff."""
        delay = server_delay(headers) if headers is not None else None
        if delay is not None:
            return float(min(delay, self.max_server_delay))
        return self.backoff(failures)


def server_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The delay in seconds a response asks for: ``Retry-After-Ms`` when valid,
    else ``Retry-After`` as seconds or as an HTTP date (measured from the
    response's ``Date`` when it has one, so a skewed local clock does not
    matter; a date in the past means 0). ``None`` when neither is valid. The
    result is not capped (``inf`` for an absurdly large value)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms.strip())
        except ValueError:
            value = -1.0
        if value >= 0 and not math.isnan(value):
            return value / 1000
    raw = headers.get("retry-after")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(int(raw)) if len(raw) < 300 else math.inf
    try:
        at = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    ref = time.time() if now is None else now
    date = headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            ref = parsedate_to_datetime(date).timestamp()
    return max(0.0, at - ref)
