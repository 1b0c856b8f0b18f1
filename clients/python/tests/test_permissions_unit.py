"""Contract 1.2 over a mock transport: a turn's 202, the handler's requests,
the session stream's resume (exactly once), and 408."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import agentsession

from .conftest import SESSION, Recorder, event, mock_client, problem, summary
from .test_streaming import frame, sse

PERMISSION = {
    "request_id": "perm_1",
    "session_id": "sess_1",
    "turn_index": 1,
    "title": "Drop it?",
    "options": [{"option_id": "allow", "name": "Allow", "kind": "allow_once"}],
    "status": "pending",
    "created_at": "2026-11-21T10:00:01Z",
}
WAITING = {
    "session_id": "sess_1",
    "turn_index": 1,
    "status": "waiting_for_input",
    "permission_requests": [PERMISSION],
    "last_seq": 2,
}
ASK = event(2, type="permission_request", request_id="perm_1", title="Drop it?", options=PERMISSION["options"])


def page(*items: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"items": list(items)})


def test_a_202_without_a_handler_is_permission_required() -> None:
    rec = Recorder([httpx.Response(202, json=WAITING)])
    c, sleeps = mock_client(rec)
    with pytest.raises(agentsession.PermissionRequiredError) as info:
        c.sessions.handle("sess_1").turn("hi")
    err = info.value
    assert (err.session_id, err.turn_index, err.last_seq) == ("sess_1", 1, 2)
    assert [r.title for r in err.permission_requests] == ["Drop it?"]
    assert err.method == "POST"
    assert err.idempotency_key is not None
    assert (len(rec.requests), sleeps) == (1, []), "a 202 is an answer: not retried"
    assert not isinstance(err, agentsession.APIStatusError)


def test_a_handler_answers_then_follows_the_turn_from_last_seq() -> None:
    answered = {**PERMISSION, "status": "answered", "outcome": "selected", "option_id": "allow"}
    response = event(3, type="permission_response", request_id="perm_1", outcome="selected", option_id="allow")
    rec = Recorder(
        [
            httpx.Response(202, json=WAITING),
            httpx.Response(200, json=answered),
            page(event(1, "before"), ASK, response),  # the turn's log: what came up to last_seq
            sse(frame(response, id=3), frame(event(4, "after"), id=4), frame(summary(1, 4), name="turn.completed")),
        ]
    )
    c, _ = mock_client(rec)
    asked: list[agentsession.PermissionRequest] = []

    def decide(request: agentsession.PermissionRequest) -> str:
        asked.append(request)
        return "allow"

    result = c.sessions.handle("sess_1").turn("hi", on_permission=decide)
    assert [r.request_id for r in asked] == ["perm_1"]
    assert [e.seq for e in result.events] == [1, 2, 3, 4]
    assert result.text() == "beforeafter"
    answer, log, stream = rec.requests[1], rec.requests[2], rec.requests[3]
    assert answer.method == "POST"
    assert answer.url.path == "/v1/sessions/sess_1/permissions/perm_1"
    assert json.loads(answer.content) == {"option_id": "allow"}
    assert answer.headers["Idempotency-Key"] != rec.requests[0].headers["Idempotency-Key"]
    assert log.url.params["turn_index"] == "1"
    assert stream.url.path == "/v1/sessions/sess_1/turns/1/stream"
    assert stream.headers["Last-Event-ID"] == "2"


def test_the_session_stream_resumes_from_its_position_and_yields_each_frame_once() -> None:
    def lifecycle(n: int, after: int, type: str = "turn_started") -> dict[str, Any]:
        return {
            "lifecycle_seq": n,
            "after_seq": after,
            "type": type,
            "turn_index": 1,
            "created_at": "2026-11-21T10:00Z",
        }

    def lc(n: int, after: int, type: str = "turn_started") -> bytes:
        return frame(lifecycle(n, after, type), name="session.lifecycle")

    first = sse(lc(1, 0), frame(event(1, "one"), id=1), drop=True)
    ended = {**SESSION, "status": "completed", "end_reason": "closed", "queued_turns": 0}
    second = sse(
        frame(event(1, "one"), id=1),  # replayed: the server resumed from an older position
        frame(ASK, id=2),
        b"event: session.future\ndata: {}\n\n",
        lc(2, 2, "turn_ended"),
        frame(ended, name="session.ended"),
    )
    rec = Recorder([first, second])
    c, sleeps = mock_client(rec)
    session = c.sessions.handle("sess_1")
    with session.stream() as stream:
        items = list(stream)
    kinds = [(type(i).__name__, getattr(i, "seq", None) or getattr(i, "lifecycle_seq", None)) for i in items]
    assert kinds == [
        ("LifecycleEvent", 1),
        ("Event", 1),
        ("PermissionRequestEvent", 2),
        ("LifecycleEvent", 2),
    ]
    assert [r.headers["Last-Event-ID"] for r in rec.requests] == ["0.0", "1.1"]
    assert stream.resumes == 1
    assert len(sleeps) == 1
    assert stream.position == "2.2"
    assert stream.session is not None
    assert stream.session.end_reason == "closed"
    assert session.info is stream.session


def test_the_session_stream_gives_up_after_max_resumes_without_progress() -> None:
    rec = Recorder([sse(drop=True)])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.StreamLostError) as info:
        list(c.sessions.handle("sess_1").stream(after="5.2", max_resumes=2))
    assert info.value.resumes == 2
    assert info.value.last_seq == 5
    assert len(rec.requests) == 3


def test_408_is_retried_then_a_request_timeout_error() -> None:
    rec = Recorder([problem(408, "request_timeout"), httpx.Response(200, json={**SESSION, "queued_turns": 0})])
    c, sleeps = mock_client(rec)
    assert c.sessions.get("sess_1").id == "sess_1"
    assert len(sleeps) == 1
    c2, _ = mock_client(Recorder([problem(408, "request_timeout")]), max_retries=1)
    with pytest.raises(agentsession.RequestTimeoutError) as info:
        c2.sessions.get("sess_1")
    assert info.value.attempts == 2
    assert info.value.temporary


async def test_async_202_and_handler() -> None:
    answered = {**PERMISSION, "status": "answered", "outcome": "selected", "option_id": "allow"}
    rec = Recorder(
        [
            httpx.Response(202, json=WAITING),
            httpx.Response(200, json=answered),
            page(event(1, "before"), ASK),
            sse(frame(event(3, "after"), id=3), frame(summary(1, 3), name="turn.completed")),
        ]
    )
    async with agentsession.AsyncClient(
        base_url="http://agentsession.test", token="tok", transport=httpx.MockTransport(rec)
    ) as c:
        s = c.sessions.handle("sess_1")

        async def decide(request: agentsession.PermissionRequest) -> str:
            return request.options[0].option_id

        result = await s.turn("hi", on_permission=decide)
        assert result.text() == "beforeafter"
        assert rec.requests[3].headers["Last-Event-ID"] == "2"
        rec.answers[:] = [httpx.Response(202, json=WAITING)]
        with pytest.raises(agentsession.PermissionRequiredError):
            await s.turn("again")
