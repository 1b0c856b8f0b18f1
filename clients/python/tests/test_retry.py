"""The retry policy over a mock transport: what is retried, how long it
waits, the budget, idempotency keys and cut bodies."""

from __future__ import annotations

import email.utils
import ssl
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

import agentsession
from agentsession import RetryBudget, RetryPolicy
from agentsession._retry import server_delay

from .conftest import SESSION, TOKEN, Recorder, event, mock_client, problem, turn_result

OK = httpx.Response(200, json=SESSION)
HEALTHY = httpx.Response(200, json={"status": "ok", "version": "1.0.0", "time": "2026-11-21T10:00:00Z"})


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(status: int) -> None:
    rec = Recorder([problem(status, "x"), OK])
    c, sleeps = mock_client(rec)
    assert c.sessions.get("sess_1").id == "sess_1"
    assert len(rec.requests) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 501])
def test_final_statuses_are_not_retried(status: int) -> None:
    rec = Recorder([problem(status, "x"), OK])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.APIStatusError) as info:
        c.sessions.get("sess_1")
    assert info.value.status_code == status
    assert info.value.attempts == 1
    assert len(rec.requests) == 1


def test_attempts_run_out_with_the_last_answer() -> None:
    rec = Recorder([problem(503, "unavailable", "try later")])
    c, sleeps = mock_client(rec)
    with pytest.raises(agentsession.InternalServerError) as info:
        c.sessions.get("sess_1")
    assert info.value.attempts == 4 == len(rec.requests)
    assert len(sleeps) == 3
    assert "after 4 attempts" in str(info.value)


def test_max_retries_on_client_and_per_call() -> None:
    rec = Recorder([problem(503, "x")])
    c, _ = mock_client(rec, max_retries=1)
    with pytest.raises(agentsession.InternalServerError):
        c.sessions.get("sess_1")
    assert len(rec.requests) == 2
    rec.requests.clear()
    with pytest.raises(agentsession.InternalServerError):
        c.sessions.get("sess_1", max_retries=0)
    assert len(rec.requests) == 1


def test_post_reuses_one_generated_idempotency_key_on_every_attempt() -> None:
    rec = Recorder([httpx.ConnectError("refused"), problem(500, "internal"), httpx.Response(201, json=SESSION)])
    c, _ = mock_client(rec)
    c.sessions.create(agent="echo")
    keys = [r.headers["Idempotency-Key"] for r in rec.requests]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert len(keys[0]) == 36
    rec.requests.clear()
    c.sessions.create(agent="echo")
    assert rec.requests[0].headers["Idempotency-Key"] != keys[0], "a new call gets a new key"


def test_caller_idempotency_key_is_sent_and_kept_in_errors() -> None:
    rec = Recorder([problem(422, "idempotency_key_reused")])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.UnprocessableEntityError) as info:
        c.sessions.create(agent="echo", idempotency_key="my-key-1")
    assert rec.requests[0].headers["Idempotency-Key"] == "my-key-1"
    assert info.value.idempotency_key == "my-key-1"


def test_get_and_delete_carry_no_key_and_are_retried_on_connection_errors() -> None:
    rec = Recorder(
        [
            httpx.ConnectError("refused"),
            httpx.ReadError("reset"),
            httpx.Response(200, json={"session": SESSION, "already_closed": False}),
        ]
    )
    c, _ = mock_client(rec)
    c.sessions.close("sess_1")
    assert [r.method for r in rec.requests] == ["DELETE"] * 3
    assert "Idempotency-Key" not in rec.requests[0].headers


def test_connection_failure_after_retries_is_a_transport_error_caused_by_httpx() -> None:
    rec = Recorder([httpx.ConnectError("connection refused")])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.TransportError) as info:
        c.health()
    assert isinstance(info.value, agentsession.APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert info.value.attempts == 4


def test_timeout_is_retried_then_api_timeout_error() -> None:
    rec = Recorder([httpx.ReadTimeout("slow")])
    c, _ = mock_client(rec, max_retries=2)
    with pytest.raises(agentsession.APITimeoutError) as info:
        c.health()
    assert info.value.attempts == 3
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_tls_and_protocol_errors_are_not_retried() -> None:
    tls = httpx.ConnectError("certificate verify failed")
    tls.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    for error in (tls, httpx.UnsupportedProtocol("ftp"), httpx.LocalProtocolError("bad header")):
        rec = Recorder([error])
        c, _ = mock_client(rec)
        with pytest.raises(agentsession.APIConnectionError):
            c.health()
        assert len(rec.requests) == 1, error


def test_retry_after_seconds_and_ms_are_honoured() -> None:
    rec = Recorder(
        [
            problem(429, "rate_limited", headers={"Retry-After": "2"}),
            problem(503, "x", headers={"Retry-After-Ms": "1500", "Retry-After": "9"}),
            HEALTHY,
        ]
    )
    c, sleeps = mock_client(rec)
    c.health()
    assert sleeps == [2.0, 1.5]


def test_huge_retry_after_is_capped_not_ignored() -> None:
    rec = Recorder([problem(503, "x", headers={"Retry-After": "9" * 40}), HEALTHY])
    c, sleeps = mock_client(rec)
    c.health()
    assert sleeps == [30.0]
    rec = Recorder([problem(503, "x", headers={"Retry-After": "120"}), HEALTHY])
    c, sleeps = mock_client(rec, retry=RetryPolicy(max_server_delay=5))
    c.health()
    assert sleeps == [5.0]


def test_retry_after_http_date_is_measured_from_the_response_date() -> None:
    now = 1_800_000_000.0
    headers = {
        "date": email.utils.formatdate(now, usegmt=True),
        "retry-after": email.utils.formatdate(now + 7, usegmt=True),
    }
    assert server_delay(headers) == 7.0
    assert server_delay({"retry-after": email.utils.formatdate(now - 60, usegmt=True)}, now=now) == 0.0
    assert server_delay({"retry-after": "soon"}) is None
    assert server_delay({"retry-after-ms": "-5", "retry-after": "3"}) == 3.0
    assert server_delay({}) is None


def test_rate_limit_error_carries_retry_after() -> None:
    rec = Recorder([problem(429, "rate_limited", "slow down", headers={"Retry-After": "3"})])
    c, _ = mock_client(rec, max_retries=0)
    with pytest.raises(agentsession.RateLimitError) as info:
        c.health()
    assert info.value.retry_after == 3.0


def test_backoff_is_full_jitter_doubling_to_the_cap() -> None:
    policy = RetryPolicy()
    for failures, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (5, 4.0), (6, 8.0), (40, 8.0)]:
        waits = [policy.backoff(failures) for _ in range(400)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8, "waits spread over the whole range"
        assert min(waits) < ceiling * 0.2


def test_waits_without_server_delay_follow_the_backoff() -> None:
    rec = Recorder([problem(503, "x")])
    c, sleeps = mock_client(rec, retry=RetryPolicy(min_wait=1, max_wait=2))
    with pytest.raises(agentsession.InternalServerError):
        c.health()
    assert len(sleeps) == 3
    assert sleeps[0] <= 1
    assert all(s <= 2 for s in sleeps)


def test_budget_is_shared_and_stops_retries_when_empty() -> None:
    budget = RetryBudget(capacity=12)
    rec = Recorder([problem(503, "x")])
    c, sleeps = mock_client(rec, retry=RetryPolicy(budget=budget))
    with pytest.raises(agentsession.InternalServerError) as info:
        c.health()
    # 12 tokens pay for two retries of 5; the third is refused.
    assert info.value.attempts == 3
    assert len(sleeps) == 2
    assert budget.available == 2
    other, _ = mock_client(Recorder([problem(503, "x")]), retry=RetryPolicy(budget=budget))
    with pytest.raises(agentsession.InternalServerError) as info:
        other.health()
    assert info.value.attempts == 1, "a second client with the same budget gets no retry"


def test_budget_refunds_and_timeouts_cost_more() -> None:
    budget = RetryBudget(capacity=100)
    rec = Recorder([httpx.ReadTimeout("slow"), HEALTHY])
    c, _ = mock_client(rec, retry=RetryPolicy(budget=budget))
    c.health()
    assert budget.available == 100, "the success returned what its retry cost"
    assert budget.take(timeout=True) == 10
    assert budget.take(timeout=False) == 5
    c.health()
    assert budget.available == 86


class CutStream(httpx.SyncByteStream):
    """A body that stops with a connection error after some bytes."""

    def __init__(self, data: bytes, error: Exception) -> None:
        self.data, self.error = data, error

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise self.error


def cut(status: int, body: bytes, error: Exception | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        stream = CutStream(body, error or httpx.RemoteProtocolError("peer closed connection"))
        return httpx.Response(status, headers={"Content-Type": "application/json"}, stream=stream)

    return answer


def test_cut_2xx_body_of_a_keyed_call_is_retried_with_the_same_key() -> None:
    full = turn_result(event(1, "hi"))
    rec = Recorder(
        [
            cut(200, b'{"session_id":"sess_1","tu'),
            cut(200, b"{", httpx.ReadError("reset")),
            httpx.Response(200, json=full),
        ]
    )
    c, _ = mock_client(rec)
    result = c.sessions.handle("sess_1").turn("hi")
    assert result.text() == "hi"
    assert len(rec.requests) == 3
    assert len({r.headers["Idempotency-Key"] for r in rec.requests}) == 1


def test_truncated_json_without_a_connection_error_is_a_cut_body() -> None:
    body = httpx.Response(200, json=turn_result(event(1, "hi"))).content
    rec = Recorder(
        [
            httpx.Response(200, content=body[:-7], headers={"Content-Type": "application/json"}),
            httpx.Response(200, content=body, headers={"Content-Type": "application/json"}),
        ]
    )
    c, _ = mock_client(rec)
    assert c.sessions.handle("sess_1").turn("hi").text() == "hi"
    assert len(rec.requests) == 2


def test_cut_bodies_until_attempts_run_out_is_a_transport_error() -> None:
    rec = Recorder([cut(200, b'{"session_id":')])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.TransportError) as info:
        c.sessions.handle("sess_1").turn("hi")
    assert info.value.attempts == 4
    assert "cut" in str(info.value)
    assert info.value.idempotency_key == rec.requests[0].headers["Idempotency-Key"]


def test_a_whole_2xx_body_that_is_not_the_contract_is_not_retried() -> None:
    rec = Recorder([httpx.Response(200, text="<html>proxy</html>"), OK])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.APIResponseValidationError):
        c.health()
    rec = Recorder([httpx.Response(200, json={"status": "ok"}), OK])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.APIResponseValidationError) as info:
        c.health()
    assert "Health" in str(info.value)
    assert len(rec.requests) == 1


def test_cut_error_body_keeps_what_came_once_attempts_run_out() -> None:
    rec = Recorder([cut(404, b'{"code":"not_found","detail":"No session sess_1."}')])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.NotFoundError) as info:
        c.sessions.get("sess_1")
    assert info.value.detail == "No session sess_1."
    assert info.value.attempts == 4, "a cut error answer is retried like a lost one"


def test_a_cut_error_body_is_read_again_so_its_code_is_not_lost() -> None:
    busy = problem(409, "turn_in_progress", "A turn is running.")
    rec = Recorder([cut(409, b'{"type":"https://agentsession.dev/pro'), busy])
    c, sleeps = mock_client(rec)
    with pytest.raises(agentsession.BusyError) as info:
        c.sessions.handle("sess_1").turn("hi", busy_policy="reject")
    assert info.value.code == agentsession.ProblemCode.turn_in_progress
    assert info.value.attempts == 2
    assert len(sleeps) == 1
    assert len({r.headers["Idempotency-Key"] for r in rec.requests}) == 1


def test_a_cut_error_body_of_a_call_without_retries_is_its_status_error() -> None:
    rec = Recorder([cut(409, b'{"code":"session_pau')])
    c, _ = mock_client(rec, max_retries=0)
    with pytest.raises(agentsession.ConflictError) as info:
        c.sessions.handle("sess_1").pause()
    assert type(info.value) is agentsession.ConflictError, "the code never arrived: typed by the status"
    assert info.value.code is None
    assert info.value.body == b'{"code":"session_pau'
    assert len(rec.requests) == 1


class AsyncCutStream(httpx.AsyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        raise httpx.ReadError("reset")


async def test_async_client_reads_a_cut_error_body_again() -> None:
    answers = [
        httpx.Response(409, headers={"Content-Type": "application/json"}, stream=AsyncCutStream(b'{"co')),
        problem(409, "session_paused"),
    ]

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return answers.pop(0)

    no_waits = RetryPolicy(min_wait=0, max_wait=0)
    transport = httpx.MockTransport(handler)
    async with agentsession.AsyncClient(
        base_url="http://x.test", token=TOKEN, transport=transport, retry=no_waits
    ) as c:
        with pytest.raises(agentsession.SessionPausedError) as info:
            await c.sessions.handle("sess_1").turn("hi")
    assert info.value.attempts == 2


async def test_async_client_retries_with_the_same_key() -> None:
    rec = Recorder([httpx.ConnectError("refused"), problem(502, "bad_gateway"), httpx.Response(201, json=SESSION)])
    c = agentsession.AsyncClient(
        base_url="http://agentsession.test",
        token="tok-test-123",
        transport=httpx.MockTransport(rec),
        retry=RetryPolicy(min_wait=0, max_wait=0),
    )
    async with c:
        s = await c.sessions.create(agent="echo")
    assert s.id == "sess_1"
    assert len({r.headers["Idempotency-Key"] for r in rec.requests}) == 1
    assert len(rec.requests) == 3


START_FAILED_DETAIL = 'agent "hangs" did not answer initialize within 30s'


def _start_failed() -> httpx.Response:
    return problem(502, "agent_start_failed", START_FAILED_DETAIL)


@pytest.mark.parametrize("operation", ["create", "spawn", "continue_", "replay"])
def test_agent_start_failed_is_final(operation: str) -> None:
    assert "agent_start_failed" in agentsession.FINAL_PROBLEM_CODES
    rec = Recorder([_start_failed(), httpx.Response(201, json=SESSION)])
    c, sleeps = mock_client(rec)
    calls: dict[str, Callable[[], object]] = {
        "create": lambda: c.sessions.create(agent="hangs"),
        "spawn": lambda: c.sessions.handle("sess_1").spawn(agent="hangs"),
        "continue_": lambda: c.sessions.handle("sess_1").continue_(agent="hangs"),
        "replay": lambda: c.sessions.handle("sess_1").replay(agent="hangs"),
    }
    with pytest.raises(agentsession.AgentStartFailedError) as info:
        calls[operation]()
    err = info.value
    assert isinstance(err, agentsession.InternalServerError)
    assert (err.status_code, err.code, err.detail, err.attempts) == (502, "agent_start_failed", START_FAILED_DETAIL, 1)
    assert not err.temporary
    assert len(rec.requests) == 1
    assert rec.requests[0].headers["Idempotency-Key"], "the call was retryable"
    assert sleeps == []


@pytest.mark.parametrize(
    "first",
    [
        problem(502, "internal"),
        httpx.Response(502, text="<html>bad gateway</html>", headers={"Content-Type": "text/html"}),
        httpx.Response(502, json={"code": "agent_start_failed"}),  # not a problem document
        problem(502, "agent_start_failed", "x" * (64 << 10)),  # larger than the part read
    ],
    ids=["another code", "no problem", "application/json", "over 64 KiB"],
)
def test_other_502s_are_still_retried(first: httpx.Response) -> None:
    rec = Recorder([first, httpx.Response(201, json=SESSION)])
    c, _ = mock_client(rec)
    assert c.sessions.create(agent="echo").id == "sess_1"
    assert len(rec.requests) == 2


async def test_async_agent_start_failed_is_final() -> None:
    rec = Recorder([_start_failed(), httpx.Response(201, json=SESSION)])
    c = agentsession.AsyncClient(
        base_url="http://agentsession.test",
        token=TOKEN,
        transport=httpx.MockTransport(rec),
        retry=RetryPolicy(min_wait=0, max_wait=0),
    )
    async with c:
        with pytest.raises(agentsession.AgentStartFailedError) as info:
            await c.sessions.create(agent="hangs")
    assert info.value.attempts == 1 == len(rec.requests)
    assert info.value.detail == START_FAILED_DETAIL
