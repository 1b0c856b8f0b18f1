"""Permission requests against the reference server: answered from the stream,
by a turn's handler, or after PermissionRequiredError; sync and async."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

import agentsession
from agentsession import Client, EventType, PermissionStatus, StopReason

from .conftest import Server

OPTIONS = [
    {"option_id": "allow", "name": "Allow", "kind": "allow_once"},
    {"option_id": "deny", "name": "Deny", "kind": "reject_once"},
]


def ask(request_id: str, allow: str = "allowed", deny: str = "denied") -> dict[str, Any]:
    """A script step that asks, and on deny ends the turn with refusal."""
    return {
        "ask": {
            "request_id": request_id,
            "tool_call_id": f"call_{request_id}",
            "title": f"May I {request_id}?",
            "options": OPTIONS,
            "branches": {
                "allow": {"steps": [{"event": {"type": "text", "content": allow}}]},
                "deny": {"steps": [{"event": {"type": "text", "content": deny}}], "stop_reason": "refusal"},
            },
        }
    }


def script(*steps: dict[str, Any]) -> str:
    return json.dumps({"steps": list(steps)})


def text(content: str) -> dict[str, Any]:
    return {"event": {"type": "text", "content": content}}


def test_a_handler_answers_every_request_and_the_turn_ends_normally(client: Client) -> None:
    asked: list[agentsession.PermissionRequest] = []

    def decide(request: agentsession.PermissionRequest) -> str:
        asked.append(request)
        return "allow"

    with client.sessions.create(agent="scripted") as s:
        result = s.turn(script(text("start "), ask("read"), ask("write", allow=" ok")), on_permission=decide)
        assert result.text() == "start allowed ok"
        assert result.stop_reason == StopReason.end_turn
        assert [e.seq for e in result.events] == list(range(1, 8)), "the whole turn, each event once"
        types = [e.type for e in result.events]
        assert types.count(EventType.permission_request) == types.count(EventType.permission_response) == 2
        assert [r.request_id for r in asked] == ["read", "write"]
        assert asked[0].title == "May I read?"
        assert [o.option_id for o in asked[0].options] == ["allow", "deny"]
        assert asked[1].status == PermissionStatus.pending
        assert asked[1].turn_index == 1
        answered = list(s.permissions(status="answered"))
        assert [(p.request_id, p.option_id) for p in answered] == [("read", "allow"), ("write", "allow")]
        assert list(s.permissions(status=PermissionStatus.pending)) == []


def test_the_handlers_answer_decides_the_branch(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        result = s.turn(script(ask("drop")), on_permission=lambda _: "deny")
        assert (result.text(), result.stop_reason) == ("denied", StopReason.refusal)


def test_without_a_handler_the_turn_raises_and_can_be_answered_and_waited_for(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with pytest.raises(agentsession.PermissionRequiredError) as info:
            s.turn(script(text("a"), ask("cache", allow="b")))
        err = info.value
        assert (err.session_id, err.turn_index, err.last_seq) == (s.id, 1, 2)
        assert [r.request_id for r in err.permission_requests] == ["cache"]
        assert "on_permission" in str(err)
        assert s.refresh().activity == agentsession.Activity.waiting_for_input

        # The turn order was released: the next turn reaches the server at once
        # (which rejects it: turn 1 still waits) instead of waiting in the SDK.
        outcome: list[BaseException] = []
        t = threading.Thread(target=lambda: _catch(outcome, lambda: s.turn("next")))
        t.start()
        t.join(10)
        assert not t.is_alive(), "the turn order was not released"
        assert isinstance(outcome[0], agentsession.BusyError)

        answered = s.answer_permission("cache", "allow")
        assert (answered.status, answered.outcome, answered.option_id) == ("answered", "selected", "allow")
        assert s.answer_permission("cache", "allow").answered_at == answered.answered_at, "the same answer: no change"
        with pytest.raises(agentsession.PermissionResolvedError) as resolved:
            s.answer_permission("cache", "deny")
        assert resolved.value.code == agentsession.ProblemCode.permission_resolved
        with pytest.raises(agentsession.UnknownOptionError):
            s.answer_permission("cache", "maybe")
        with pytest.raises(agentsession.NotFoundError):
            s.answer_permission("nobody_asked", "allow")

        result = s.wait_turn(1)
        assert result.text() == "ab"
        assert [e.seq for e in result.events] == [1, 2, 3, 4]
        assert s.wait_turn(1).text() == "ab", "an ended turn: its result at once"


def _catch(into: list[BaseException], fn: Any) -> None:
    try:
        fn()
    except BaseException as e:  # the test looks at it
        into.append(e)


def test_wait_turn_raises_for_a_pending_request_without_a_handler_and_answers_with_one(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with pytest.raises(agentsession.PermissionRequiredError):
            s.turn(script(ask("one"), ask("two", allow=" second")))
        with pytest.raises(agentsession.PermissionRequiredError) as info:
            s.wait_turn(1)
        assert [r.request_id for r in info.value.permission_requests] == ["one"]
        seen: list[str] = []

        def decide(request: agentsession.PermissionRequest) -> str:
            seen.append(request.request_id)
            return "allow"

        result = s.wait_turn(1, on_permission=decide)
        assert seen == ["one", "two"], "the pending one, then the one asked later"
        assert result.text() == "allowed second"


def test_wait_turn_raises_for_a_request_asked_after_the_answer(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with pytest.raises(agentsession.PermissionRequiredError):
            s.turn(script(ask("one"), ask("two")))
        s.answer_permission("one", "allow")
        with pytest.raises(agentsession.PermissionRequiredError) as info:
            s.wait_turn(1)
        assert [r.request_id for r in info.value.permission_requests] == ["two"]
        s.cancel()
        result = s.wait_turn(1)
        assert result.stop_reason == StopReason.cancelled
        outcomes = [e.outcome for e in result.events if e.type == EventType.permission_response]
        assert outcomes == ["selected", "cancelled"], "cancel answers the pending request cancelled"


def test_a_handler_that_fails_leaves_the_turn_waiting_and_releases_the_order(client: Client) -> None:
    def refuse(_: agentsession.PermissionRequest) -> str:
        raise RuntimeError("no decision")

    with client.sessions.create(agent="scripted") as s:
        with pytest.raises(RuntimeError, match="no decision"):
            s.turn(script(ask("x")), on_permission=refuse)
        with pytest.raises(TypeError, match="option_id"):
            s.wait_turn(1, on_permission=lambda _: None)  # type: ignore[arg-type,return-value]
        assert s.wait_turn(1, on_permission=lambda _: "allow").text() == "allowed"


def test_the_stream_yields_an_answerable_request_and_reads_on(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with s.turn_stream(script(text("a"), ask("go", allow="b"), text("c"))) as stream:
            seen = []
            for event in stream:
                seen.append(event.type)
                if isinstance(event, agentsession.PermissionRequestEvent):
                    assert event.option_ids == ["allow", "deny"]
                    assert event.as_request().session_id == s.id
                    assert event.answer("allow").status == PermissionStatus.answered
        result = stream.get_final_result()
        assert result.text() == "abc"
        assert seen == ["text", "permission_request", "permission_response", "text", "text"]
        assert isinstance(result.events[1], agentsession.PermissionRequestEvent)
        assert result.events[1].raw()["request_id"] == "go"


def test_the_stream_of_an_existing_turn_follows_it(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with pytest.raises(agentsession.PermissionRequiredError):
            s.turn(script(text("a"), ask("q", allow="b")))
        with s.stream_turn(1) as stream:
            for event in stream:
                if isinstance(event, agentsession.PermissionRequestEvent):
                    event.answer("allow")
        assert stream.get_final_result().text() == "ab"
        assert [e.seq for e in stream.events] == [1, 2, 3, 4]


async def test_async_handler_stream_answer_and_wait(server: Server) -> None:
    async with server.async_client() as c:
        s = await c.sessions.create(agent="scripted")
        async with s:

            async def decide(request: agentsession.PermissionRequest) -> str:
                await asyncio.sleep(0)
                return "allow" if request.request_id == "one" else "deny"

            result = await s.turn(script(ask("one"), ask("two")), on_permission=decide)
            assert (result.text(), result.stop_reason) == ("alloweddenied", StopReason.refusal)
            plain = await s.turn(script(ask("three")), on_permission=lambda _: "allow")
            assert plain.text() == "allowed", "a plain function works as the async handler too"

            async with s.turn_stream(script(ask("four"))) as stream:
                async for event in stream:
                    if isinstance(event, agentsession.AsyncPermissionRequestEvent):
                        assert (await event.answer("allow")).option_id == "allow"
            assert (await stream.get_final_result()).text() == "allowed"

            with pytest.raises(agentsession.PermissionRequiredError) as info:
                await s.turn(script(ask("five")))
            assert info.value.turn_index == 4
            pending = [p.request_id async for p in s.permissions(status="pending")]
            assert pending == ["five"]
            await s.answer_permission("five", "allow")
            assert (await s.wait_turn(4)).text() == "allowed"
