"""Turn streams over a mock transport: resume after drops, exactly once, in
order; gaps read from the event log; a stream without seq ends at the bound."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import agentsession

from .conftest import Recorder, event, mock_client, summary, turn_result


def frame(data: dict[str, Any], *, name: str | None = None, id: int | None = None) -> bytes:
    out = b""
    if name:
        out += f"event: {name}\n".encode()
    if id is not None:
        out += f"id: {id}\n".encode()
    return out + b"data: " + json.dumps(data).encode() + b"\n\n"


def accepted(turn_index: int = 1) -> bytes:
    return frame({"session_id": "sess_1", "turn_index": turn_index, "status": "running"}, name="turn.accepted")


def ev(seq: int, content: str = "", **extra: Any) -> bytes:
    return frame(event(seq, content or f"e{seq}", **extra), id=seq)


def completed(first: int, last: int) -> bytes:
    return frame(summary(first, last), name="turn.completed")


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An SSE body in chunks; ``drop`` ends it with a connection reset."""

    def __init__(self, chunks: list[bytes], drop: bool) -> None:
        self.chunks, self.drop = chunks, drop

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.drop:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.drop:
            raise httpx.ReadError("connection reset by peer")


def sse(*chunks: bytes, drop: bool = False) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, stream=Body(list(chunks), drop))

    return answer


def test_a_dropped_stream_resumes_with_last_event_id_and_yields_each_event_once() -> None:
    rec = Recorder(
        [
            sse(accepted(), ev(1), ev(2)[:9], drop=True),  # cut inside event 2
            sse(ev(2), ev(3), drop=True),
            sse(ev(3), ev(4), completed(1, 4)),  # the server replays 3: not yielded again
        ]
    )
    c, sleeps = mock_client(rec)
    with c.sessions.handle("sess_1").turn_stream("hi") as stream:
        seqs = [e.seq for e in stream]
    assert seqs == [1, 2, 3, 4]
    result = stream.get_final_result()
    assert result.text() == "e1e2e3e4"
    assert [e.seq for e in result.events] == [1, 2, 3, 4]
    assert stream.resumes == 2
    first, second, third = rec.requests
    assert first.method == "POST"
    assert first.headers["Accept"] == "text/event-stream"
    assert second.method == "GET"
    assert second.url.path == "/v1/sessions/sess_1/turns/1/stream"
    assert second.headers["Last-Event-ID"] == "1"
    assert third.headers["Last-Event-ID"] == "3"
    assert all(s > 0 for s in sleeps), "resumes wait"


def test_a_stream_dropped_before_the_turn_index_is_known_resends_the_turn_with_the_same_key() -> None:
    rec = Recorder([sse(b": keep-alive\n\n", drop=True), sse(accepted(), ev(1), completed(1, 1))])
    c, _ = mock_client(rec)
    stream = c.sessions.handle("sess_1").turn_stream("hi", idempotency_key="turn-key-1")
    assert [e.seq for e in stream] == [1]
    assert [r.method for r in rec.requests] == ["POST", "POST"]
    assert {r.headers["Idempotency-Key"] for r in rec.requests} == {"turn-key-1"}
    assert rec.requests[1].headers["Last-Event-ID"] == "0"
    assert json.loads(rec.requests[1].content) == {"prompt": "hi"}


def test_events_without_seq_end_with_a_clear_error_at_the_resume_bound() -> None:
    no_seq = b'data: {"turn_index":1,"type":"text","content":"again","created_at":"2026-11-21T10:00:00Z"}\n\n'
    rec = Recorder([sse(accepted(), no_seq, drop=True)])
    c, sleeps = mock_client(rec)
    stream = c.sessions.handle("sess_1").turn_stream("hi", max_resumes=3)
    seen = []
    with pytest.raises(agentsession.StreamLostError) as info:
        for e in stream:
            seen.append(e.content)
    assert seen == ["again"], "yielded once, never again after a resume"
    assert "carry no seq" in str(info.value)
    assert info.value.resumes == 3
    assert len(rec.requests) == 4
    assert sleeps == [0.1, 0.2, 0.4], "resumes back off"


def test_a_gap_is_read_from_the_event_log_in_order() -> None:
    log = {"items": [event(2, "from the log")]}
    rec = Recorder([sse(accepted(), ev(1), ev(3), completed(1, 3)), httpx.Response(200, json=log)])
    c, _ = mock_client(rec)
    events = list(c.sessions.handle("sess_1").turn_stream("hi"))
    assert [(e.seq, e.content) for e in events] == [(1, "e1"), (2, "from the log"), (3, "e3")]
    assert rec.requests[1].url.path == "/v1/sessions/sess_1/events"
    assert rec.requests[1].url.params["after"] == "1"
    assert rec.requests[1].url.params["turn_index"] == "1"


def test_unknown_frames_and_event_types_pass_through_untouched() -> None:
    odd = event(2, type="approval_request", choices=[{"kind": "allow_once"}], status="waiting")
    rec = Recorder([sse(accepted(), b"event: session.note\ndata: {}\n\n", ev(1), frame(odd, id=2), completed(1, 2))])
    c, _ = mock_client(rec)
    events = list(c.sessions.handle("sess_1").turn_stream("hi"))
    assert [e.type for e in events] == [agentsession.EventType.text, "approval_request"]
    assert events[1].raw() == odd, "the JSON exactly as sent (nanosecond timestamps included)"
    assert events[1].model_extra == {"choices": [{"kind": "allow_once"}]}
    assert events[1].status == "waiting"


def test_frames_follow_the_contracts_stream_framing() -> None:
    # An explicit `event: message` is the default type; keep-alive comments and
    # frames of unknown types are skipped; CRLF line ends are accepted.
    named = frame(event(2, "two"), name="message", id=2)
    body = [accepted(), b": keep-alive\n\n", ev(1, "one"), named, b"event: turn.progress\ndata: 42\n\n"]
    body.append(completed(1, 2).replace(b"\n", b"\r\n"))
    c, _ = mock_client(Recorder([sse(*body)]))
    with c.sessions.handle("sess_1").turn_stream("hi") as stream:
        assert [e.content for e in stream] == ["one", "two"]
    assert stream.get_final_result().last_seq == 2


def test_a_server_that_answers_json_instead_of_a_stream() -> None:
    rec = Recorder([httpx.Response(200, json=turn_result(event(1, "a"), event(2, "b")))])
    c, _ = mock_client(rec)
    with c.sessions.handle("sess_1").turn_stream("hi") as stream:
        assert [e.content for e in stream] == ["a", "b"]
    assert stream.get_final_result().stop_reason == agentsession.StopReason.end_turn


def test_leaving_early_closes_and_the_result_says_so() -> None:
    rec = Recorder([sse(accepted(), ev(1), ev(2), completed(1, 2))])
    c, _ = mock_client(rec)
    with c.sessions.handle("sess_1").turn_stream("hi") as stream:
        for _ in stream:
            break
    with pytest.raises(agentsession.StreamIncompleteError):
        stream.get_final_result()


def test_a_bad_frame_is_a_typed_error() -> None:
    rec = Recorder([sse(accepted(), b"id: 1\ndata: {not json\n\n")])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.APIResponseValidationError):
        list(c.sessions.handle("sess_1").turn_stream("hi"))


def test_an_error_answer_to_the_stream_is_a_typed_error() -> None:
    body = {"code": "session_paused", "detail": "resume it", "status": 409}
    rec = Recorder([httpx.Response(409, json=body)])
    c, _ = mock_client(rec)
    with pytest.raises(agentsession.SessionPausedError):
        list(c.sessions.handle("sess_1").turn_stream("hi"))


async def test_async_stream_resumes_exactly_once() -> None:
    rec = Recorder([sse(accepted(), ev(1), drop=True), sse(ev(1), ev(2), completed(1, 2))])
    async with agentsession.AsyncClient(
        base_url="http://agentsession.test", token="tok-test-123", transport=httpx.MockTransport(rec)
    ) as c:
        waits: list[float] = []

        async def no_sleep(seconds: float) -> None:
            waits.append(seconds)

        c._sleep = no_sleep  # type: ignore[assignment]
        async with c.sessions.handle("sess_1").turn_stream("hi") as stream:
            seqs = [e.seq async for e in stream]
        result = await stream.get_final_result()
    assert seqs == [1, 2]
    assert result.text() == "e1e2"
    assert rec.requests[1].headers["Last-Event-ID"] == "1"
    assert waits == [0.1]
