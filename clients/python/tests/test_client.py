"""Client plumbing: headers, per-call options, context managers, shared state."""

from __future__ import annotations

import httpx

import agentsession

from .conftest import SESSION, TOKEN, Recorder, mock_client


def test_headers_and_per_call_options() -> None:
    rec = Recorder([httpx.Response(200, json=SESSION), httpx.Response(200, json={"items": [SESSION]})])
    c, _ = mock_client(rec, default_headers={"X-App": "tests"})
    c.sessions.get("sess 1/x", extra_headers={"X-Request-Id": "req-mine"}, timeout=7.5)
    req = rec.requests[0]
    assert req.url.raw_path == b"/v1/sessions/sess%201%2Fx", "ids are escaped as one path segment"
    assert req.headers["User-Agent"] == f"agentsession-python/{agentsession.__version__}"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["X-App"] == "tests"
    assert req.headers["X-Request-Id"] == "req-mine"
    assert req.extensions["timeout"] == httpx.Timeout(7.5).as_dict()
    c.sessions.list(status=agentsession.SessionStatus.active, limit=5).to_list()
    assert rec.requests[1].url.params["status"] == "active", "enum members are sent as their values"


def test_a_sync_turn_waits_for_the_agent_unless_it_has_a_timeout() -> None:
    result = {
        "session_id": "sess_1",
        "turn_index": 1,
        "stop_reason": "end_turn",
        "duration_ms": 1,
        "event_count": 0,
        "started_at": "2026-11-21T10:00:00Z",
        "ended_at": "2026-11-21T10:00:00Z",
        "events": [],
    }
    rec = Recorder([httpx.Response(200, json=result)])
    c, _ = mock_client(rec)
    s = c.sessions.handle("sess_1")
    s.turn("a")
    s.turn("b", timeout_ms=2000)
    assert rec.requests[0].extensions["timeout"]["read"] is None
    assert rec.requests[1].extensions["timeout"]["read"] == 62.0


def test_context_managers_close_connections_they_own() -> None:
    transport = httpx.MockTransport(Recorder([httpx.Response(200, json=SESSION)]))
    with agentsession.Client(base_url="http://x.test", token=TOKEN, transport=transport) as c:
        c.sessions.get("sess_1")
    assert c.is_closed
    mine = httpx.Client(transport=transport)
    with agentsession.Client(base_url="http://x.test", token=TOKEN, http_client=mine) as c2:
        c2.sessions.get("sess_1")
    assert not mine.is_closed, "a client passed in stays the caller's"
    mine.close()


async def test_async_context_manager_closes() -> None:
    transport = httpx.MockTransport(Recorder([httpx.Response(200, json=SESSION)]))
    async with agentsession.AsyncClient(base_url="http://x.test", token=TOKEN, transport=transport) as c:
        await c.sessions.get("sess_1")
    assert c.is_closed


def test_with_options_shares_budget_connections_and_turn_order() -> None:
    rec = Recorder([httpx.Response(200, json=SESSION)])
    c, _ = mock_client(rec)
    fast = c.with_options(timeout=1.0, max_retries=0)
    assert fast.retry_budget is c.retry_budget
    assert fast._turn_order is c._turn_order
    assert fast._http is c._http
    fast.sessions.get("sess_1")
    assert rec.requests[0].extensions["timeout"] == httpx.Timeout(1.0).as_dict()
    fast.close()
    assert not c.is_closed, "the copy does not close what it shares"
