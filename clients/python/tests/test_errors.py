"""Typed errors, redaction of the token, and client configuration."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import httpx
import pytest

import agentsession
from agentsession import _exceptions as exc

from .conftest import TOKEN, Recorder, mock_client, problem


@pytest.mark.parametrize(
    ("status", "code", "cls", "bases"),
    [
        (400, "invalid_request", agentsession.BadRequestError, [agentsession.ValidationError]),
        (400, "invalid_cursor", agentsession.BadRequestError, [agentsession.ValidationError]),
        (401, "unauthorized", agentsession.AuthenticationError, [agentsession.AuthError]),
        (403, "forbidden", agentsession.PermissionDeniedError, [agentsession.AuthError]),
        (404, "not_found", agentsession.NotFoundError, []),
        (409, "turn_in_progress", agentsession.BusyError, [agentsession.ConflictError]),
        (409, "turn_queue_full", agentsession.BusyError, [agentsession.ConflictError]),
        (409, "invalid_transition", agentsession.InvalidTransitionError, [agentsession.ConflictError]),
        (409, "session_paused", agentsession.SessionPausedError, [agentsession.ConflictError]),
        (409, "session_ended", agentsession.SessionEndedError, [agentsession.ConflictError]),
        (409, "spawn_limit_exceeded", agentsession.SpawnLimitError, [agentsession.ConflictError]),
        (409, "turn_ended", agentsession.TurnEndedError, [agentsession.ConflictError]),
        (409, "permission_resolved", agentsession.PermissionResolvedError, [agentsession.ConflictError]),
        (409, "idempotency_in_progress", agentsession.ConflictError, []),
        (409, "a_code_from_the_future", agentsession.ConflictError, []),
        (413, "payload_too_large", agentsession.PayloadTooLargeError, []),
        (415, "unsupported_media_type", agentsession.APIStatusError, []),
        (422, "unknown_agent", agentsession.UnprocessableEntityError, [agentsession.ValidationError]),
        (422, "unknown_option", agentsession.UnknownOptionError, [agentsession.UnprocessableEntityError]),
        (
            422,
            "unsupported_busy_policy",
            agentsession.UnsupportedBusyPolicyError,
            [agentsession.UnprocessableEntityError],
        ),
        (422, "invalid_agent_options", agentsession.InvalidAgentOptionsError, [agentsession.ValidationError]),
        (422, "turn_ended", agentsession.UnprocessableEntityError, [agentsession.ValidationError]),
        (408, "request_timeout", agentsession.RequestTimeoutError, []),
        (429, "rate_limited", agentsession.RateLimitError, []),
        (500, "internal", agentsession.InternalServerError, []),
        (501, "not_implemented", agentsession.InternalServerError, []),
        (502, "agent_start_failed", agentsession.AgentStartFailedError, [agentsession.InternalServerError]),
        (503, "agent_start_failed", agentsession.InternalServerError, []),
        (418, "teapot", agentsession.APIStatusError, []),
    ],
)
def test_status_and_code_choose_the_class(
    status: int, code: str, cls: type[Exception], bases: list[type[Exception]]
) -> None:
    rec = Recorder([problem(status, code, "what happened")])
    c, _ = mock_client(rec, max_retries=0)
    with pytest.raises(agentsession.APIStatusError) as info:
        c.sessions.get("sess_1")
    err = info.value
    assert type(err) is cls
    for base in [*bases, agentsession.APIStatusError, agentsession.APIError, agentsession.AgentSessionError]:
        assert isinstance(err, base)
    assert (err.status_code, err.code, err.detail, err.request_id) == (status, code, "what happened", "req_1")
    assert f"{status} {code}: what happened (request req_1)" in str(err)


def test_problem_fields_and_bounded_body() -> None:
    errors = [{"location": "body.prompt", "message": "a non-empty string is required"}]
    rec = Recorder([problem(400, "invalid_request", "body.prompt: required", errors=errors, instance="/v1/x")])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.ValidationError) as info:
        c.sessions.handle("sess_1").turn("x", idempotency_key="k-1")
    err = info.value
    assert err.field_errors == errors
    assert err.title == "invalid request"
    assert err.instance == "/v1/x"
    assert err.idempotency_key == "k-1"
    assert err.attempts == 1
    assert err.method == "POST"
    assert err.url == "http://agentsession.test/v1/sessions/sess_1/turns"
    assert b'"invalid_request"' in err.body

    big = httpx.Response(502, content=b"x" * (1 << 20), headers={"Content-Type": "text/html"})
    c, _ = mock_client(Recorder([big]), max_retries=0)
    with pytest.raises(agentsession.InternalServerError) as info2:
        c.health()
    assert len(info2.value.body) == 64 << 10
    assert info2.value.code is None
    assert len(str(info2.value)) < 400, "a non-problem body is quoted briefly"


def test_empty_and_non_json_error_bodies() -> None:
    c, _ = mock_client(Recorder([httpx.Response(404)]))
    with pytest.raises(agentsession.NotFoundError) as info:
        c.sessions.get("x")
    assert info.value.body == b""
    assert "(empty body)" in str(info.value)


def _strings(value: Any, seen: set[int] | None = None) -> list[str]:
    """Every string reachable from value's attributes, items and causes."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _strings(k, seen) + _strings(v, seen)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            found += _strings(v, seen)
    elif isinstance(value, httpx.Headers):
        found += [f"{k}: {v}" for k, v in value.multi_items()]
    elif isinstance(value, (httpx.Request, httpx.Response)):
        found += [*_strings(value.headers, seen), str(value.url) if isinstance(value, httpx.Request) else ""]
    if isinstance(value, BaseException):
        found += [str(value), repr(value), *_strings(value.args, seen)]
        found += _strings(value.__cause__, seen) + _strings(value.__context__, seen)
        with contextlib.suppress(AttributeError, RuntimeError):  # httpx errors keep their request
            found += _strings(value.request, seen)  # type: ignore[attr-defined]
    if hasattr(value, "__dict__"):
        found += _strings(vars(value), seen)
    return found


def test_a_token_echoed_by_the_server_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    echo = f"Bearer {TOKEN}"
    answer = problem(
        409,
        f"code-{TOKEN}",
        f"you sent {echo}",
        headers={"X-Request-Id": f"rid-{TOKEN}", "X-Echo": echo},
        request_id=TOKEN,
        errors=[{"location": "header", "message": echo}],
    )
    rec = Recorder([answer])
    caplog.set_level(logging.DEBUG)
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.ConflictError) as info:
        c.sessions.get("sess_1")
    assert rec.requests[0].headers["Authorization"] == "Bearer [REDACTED]", "sent requests are scrubbed"
    strings = _strings(info.value)
    assert any("[REDACTED]" in s for s in strings)
    assert not [s for s in strings if TOKEN in s]
    assert info.value.code == "code-[REDACTED]"
    assert info.value.request_id == "rid-[REDACTED]"
    logs = [r.getMessage() for r in caplog.records]
    assert logs
    assert not [line for line in logs if TOKEN in line]


def test_connection_errors_keep_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c, _ = mock_client(Recorder([httpx.ConnectError(f"proxy said {TOKEN}")]))
    with pytest.raises(agentsession.APIConnectionError) as info:
        c.health()
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert TOKEN not in str(info.value)
    assert not [s for s in _strings(info.value) if TOKEN in s], "not even in the httpx error it came from"
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text


def test_validation_error_of_a_2xx_keeps_no_token() -> None:
    c, _ = mock_client(Recorder([httpx.Response(200, json={"status": TOKEN})]))
    with pytest.raises(agentsession.APIResponseValidationError) as info:
        c.health()
    assert not [s for s in _strings(info.value) if TOKEN in s]


def test_base_url_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(agentsession.AgentSessionError, match="drop the trailing /v1"):
        agentsession.Client(base_url="http://127.0.0.1:8080/v1")
    with pytest.raises(agentsession.AgentSessionError, match="drop the trailing /v1"):
        agentsession.Client(base_url="https://api.example.test/prefix/v1/")
    with pytest.raises(agentsession.AgentSessionError, match="credentials"):
        agentsession.Client(base_url="http://user:pw@127.0.0.1:8080")
    with pytest.raises(agentsession.AgentSessionError, match="scheme"):
        agentsession.Client(base_url="ftp://127.0.0.1")
    with pytest.raises(agentsession.AgentSessionError, match="AGENTSESSION_BASE_URL"):
        agentsession.Client()
    with pytest.raises(agentsession.AgentSessionError, match="whitespace"):
        agentsession.Client(base_url="http://x.test", token="tok\n")
    c = agentsession.Client(base_url="https://api.example.test/prefix")
    assert str(c.base_url) == "https://api.example.test/prefix/"
    monkeypatch.setenv("AGENTSESSION_BASE_URL", "http://env.test:9")
    monkeypatch.setenv("AGENTSESSION_TOKEN", "tok-from-env")
    rec = Recorder([httpx.Response(200, json={"status": "ok", "version": "1", "time": "2026-11-21T10:00:00Z"})])
    with agentsession.Client(transport=httpx.MockTransport(rec)) as env_client:
        env_client.health()
        assert "tok-from-env" not in repr(env_client)
    assert str(rec.requests[0].url) == "http://env.test:9/v1/health"


def test_exception_tree_matches_the_docs() -> None:
    assert agentsession.TransportError is agentsession.APIConnectionError
    assert issubclass(agentsession.APITimeoutError, agentsession.APIConnectionError)
    assert issubclass(agentsession.StreamLostError, agentsession.APIConnectionError)
    assert issubclass(agentsession.UnprocessableEntityError, agentsession.ValidationError)
    assert {408, 429, 500, 502, 503, 504} == exc.RETRYABLE_STATUSES
