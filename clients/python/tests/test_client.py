"""Client plumbing: headers, per-call options, context managers, shared state."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

import agentsession
from agentsession._base_client import new_idempotency_key

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


def test_answers_decode_in_one_pass_and_raw_is_the_json_as_sent() -> None:
    odd_event = {
        "seq": 1,
        "turn_index": 1,
        "type": "citation",
        "content": "see",
        "created_at": "2026-11-21T10:00:01.123456789Z",
        "source": {"url": "https://example.test"},
    }
    body = {
        "session_id": "sess_1",
        "turn_index": 1,
        "stop_reason": "end_turn",
        "duration_ms": 1,
        "event_count": 2,
        "started_at": "2026-11-21T10:00:00Z",
        "ended_at": "2026-11-21T10:00:00Z",
        "usage": {"input_tokens": 3, "output_tokens": 4, "cache_tokens": 5},
        "events": [
            odd_event,
            {"seq": 2, "turn_index": 1, "type": "text", "content": "hi", "created_at": "2026-11-21T10:00:00Z"},
        ],
    }
    rec = Recorder([httpx.Response(200, json=body)])
    c, _ = mock_client(rec)
    result = c.sessions.handle("sess_1").turn("a")
    assert result.text() == "hi"
    assert result.events[0].type == "citation"
    assert result.events[0].raw() == odd_event, "nested models keep their own JSON"
    assert result.usage is not None
    assert result.usage.raw() == body["usage"]
    assert result.raw() == body
    assert result.raw() is result.raw(), "parsed once"


def test_json_that_pydantic_refuses_but_python_reads_still_decodes() -> None:
    # UTF-16 is valid JSON (RFC 8259 allows other encodings in closed systems);
    # pydantic's parser takes UTF-8 only, the fallback json.loads reads it.
    rec = Recorder([httpx.Response(200, content=json.dumps(SESSION).encode("utf-16"))])
    c, _ = mock_client(rec)
    assert c.sessions.get("sess_1").id == "sess_1"


def test_a_body_that_is_not_json_serializable_is_a_clear_type_error() -> None:
    rec = Recorder([httpx.Response(200, json=SESSION)])
    c, _ = mock_client(rec)
    with pytest.raises(TypeError, match="cannot be sent as JSON"):
        c.sessions.create(agent="echo", meta={"handle": object()})
    assert rec.requests == [], "nothing was sent"


def test_idempotency_keys_are_random_uuid4s() -> None:
    keys = {new_idempotency_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in list(keys)[:50]:
        parsed = uuid.UUID(key)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == key
