"""Contract 1.2 against the reference server: queue control, steer, the
session-wide stream, turn meta, agent options, end reasons, log order."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest

import agentsession
from agentsession import Client, LifecycleEvent, LifecycleEventType, StopReason, TurnStatus

from .conftest import Server


def script(*steps: dict[str, Any]) -> str:
    return json.dumps({"steps": list(steps)})


def text(content: str, delay_ms: int = 0) -> dict[str, Any]:
    return {"delay_ms": delay_ms, "event": {"type": "text", "content": content}}


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_queued_turns_have_positions_and_can_be_cancelled(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        running = s.turn_stream(script(text("first"), text(" done", delay_ms=1500)))
        assert next(running).content == "first"
        second = s.turn_stream(script(text("second")), busy_policy="enqueue")
        third = s.turn_stream(script(text("third")), busy_policy="enqueue")
        # Reading the first frame sends the turn; a queued turn's stream has no
        # event before it runs, so read them in threads.
        results: dict[str, Any] = {}
        threads = [
            threading.Thread(target=lambda: results.__setitem__("second", second.get_final_result())),
        ]
        threads[0].start()
        wait_for(lambda: s.refresh().queued_turns == 1)
        threads.append(threading.Thread(target=lambda: results.__setitem__("third", third.get_final_result())))
        threads[1].start()
        wait_for(lambda: s.refresh().queued_turns == 2)
        assert (second.queue_position, third.queue_position) == (1, 2)
        assert second.accepted is not None
        assert second.accepted.status == TurnStatus.queued
        queued = list(s.history(status="queued"))
        assert [(t.turn_index, t.queue_position) for t in queued] == [(2, 1), (3, 2)]

        cancelled = s.cancel_turn(2)
        assert (cancelled.status, cancelled.stop_reason, cancelled.cancelled_by) == (
            TurnStatus.completed,
            StopReason.cancelled,
            "cancel_request",
        )
        assert [(t.turn_index, t.queue_position) for t in s.history(status=TurnStatus.queued)] == [(3, 1)]
        assert s.refresh().queued_turns == 1
        for t in threads:
            t.join(10)
        assert results["second"].stop_reason == StopReason.cancelled
        assert results["second"].events == []
        assert results["third"].text() == "third"
        assert running.get_final_result().text() == "first done"
        with pytest.raises(agentsession.TurnEndedError) as info:
            s.cancel_turn(1)
        assert info.value.code == agentsession.ProblemCode.turn_ended
        assert isinstance(info.value, agentsession.ConflictError)


def test_steer_gives_the_prompt_to_the_running_turn(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with s.turn_stream(script(text("working"), text(" still", delay_ms=800), text(" done"))) as long:
            assert next(long).content == "working"
            steered = s.turn("go left", busy_policy=agentsession.BusyPolicy.steer)
            assert (steered.turn_index, steered.text()) == (1, "working still done")
            rest = [e.type for e in long]
        assert "guidance" in rest
        guidance = [e for e in s.events() if e.type == agentsession.EventType.guidance]
        assert [g.content for g in guidance] == ["go left"]
        assert len(s.history().to_list()) == 1

        with s.turn_stream(script(text("a"), text("b", delay_ms=500))) as second:
            assert next(second).content == "a"
            with s.turn_stream("steer me", busy_policy="steer") as follower:
                events = list(follower)
            assert follower.steered
            assert follower.turn_index == 2
            assert [e.content for e in events if e.type == "text"] == ["b"], "the running turn's events from then on"
    with client.sessions.create(agent="echo") as echo, pytest.raises(agentsession.UnsupportedBusyPolicyError):
        echo.turn("x", busy_policy="steer")


def test_the_session_stream_carries_every_turn_and_the_lifecycle_until_the_end(client: Client) -> None:
    s = client.sessions.create(agent="echo")
    items: list[agentsession.SessionStreamItem] = []
    with s.stream() as stream:
        reader = threading.Thread(target=lambda: items.extend(stream))
        reader.start()
        s.turn("one")
        s.turn("two", meta={"trace": "t-2"})
        s.close()
        reader.join(10)
    assert not reader.is_alive()
    events = [i for i in items if not isinstance(i, LifecycleEvent)]
    lifecycle = [i for i in items if isinstance(i, LifecycleEvent)]
    assert [e.seq for e in events] == [e.seq for e in s.events()] == [1, 2]
    assert [lc.lifecycle_seq for lc in lifecycle] == [lc.lifecycle_seq for lc in s.lifecycle_events()]
    assert [lc.lifecycle_seq for lc in lifecycle] == list(range(1, len(lifecycle) + 1))
    kinds = [lc.type for lc in lifecycle]
    assert kinds.count(LifecycleEventType.turn_ended) == 2
    assert kinds[-1] == LifecycleEventType.status_changed
    assert stream.session is not None
    assert stream.session.end_reason == agentsession.EndReason.closed
    assert s.info is not None
    assert s.info.status == agentsession.SessionStatus.completed, "info updated at the end"
    assert stream.position == f"2.{len(lifecycle)}"

    later = s.stream(after="1.1")
    rest = list(later)
    assert [i.seq for i in rest if not isinstance(i, LifecycleEvent)] == [2]
    assert [i.lifecycle_seq for i in rest if isinstance(i, LifecycleEvent)] == list(range(2, len(lifecycle) + 1))
    assert [lc.lifecycle_seq for lc in s.lifecycle_events(after=2)] == list(range(3, len(lifecycle) + 1))
    with pytest.raises(ValueError, match="seq"):
        s.stream(after="1")


async def test_async_session_stream_and_queue(server: Server) -> None:
    async with server.async_client() as c:
        s = await c.sessions.create(agent="echo", agent_options={"prefix": "> "})
        assert (await s.turn("hi")).text() == "> hi"
        await s.end("completed", summary="done")
        assert s.info is not None
        assert s.info.end_reason == agentsession.EndReason.ended
        assert s.info.duration_ms is not None
        items = [item async for item in s.stream()]
        assert [i.type for i in items if not isinstance(i, LifecycleEvent)] == ["text"]
        with pytest.raises(agentsession.TurnEndedError):
            await s.cancel_turn(1)
        history = [t async for t in s.history(status="completed")]
        assert [t.turn_index for t in history] == [1]
        lifecycle = [lc async for lc in s.lifecycle_events()]
        assert lifecycle
        assert lifecycle[-1].type == LifecycleEventType.status_changed


def test_meta_agent_options_log_order_and_end_reason(client: Client) -> None:
    with pytest.raises(agentsession.InvalidAgentOptionsError) as info:
        client.sessions.create(agent="echo", agent_options={"colour": "red"})
    assert info.value.field_errors[0]["location"] == "body.agent_options.colour"
    assert isinstance(info.value, agentsession.ValidationError)
    s = client.sessions.create(agent="echo", agent_options={"prefix": "> "})
    assert s.info is not None
    assert s.info.agent_options == {"prefix": "> "}
    result = s.turn("hi", meta={"trace": "t-1"})
    assert (result.text(), result.meta) == ("> hi", {"trace": "t-1"})
    assert [t.meta for t in s.history()] == [{"trace": "t-1"}]
    with s.turn_stream("streamed", meta={"trace": "t-2"}) as stream:
        list(stream)
    assert stream.accepted is not None
    assert stream.accepted.meta == {"trace": "t-2"}
    assert stream.get_final_result().meta == {"trace": "t-2"}
    s.log("info", "a")
    s.log("info", "b")
    assert [e.message for e in s.log_entries(order="newest_first")] == ["b", "a"]
    assert [e.message for e in s.log_entries(order=agentsession.LogOrder.oldest_first)] == ["a", "b"]
    child = s.spawn(agent="echo", agent_options={"prefix": "child: "})
    assert child.turn("x").text() == "child: x"
    s.close()
    child.refresh()
    assert child.info is not None
    assert child.info.end_reason == agentsession.EndReason.parent_closed


def test_closing_a_session_stream_from_another_thread_ends_its_loop(client: Client) -> None:
    with client.sessions.create(agent="echo") as s:
        stream = s.stream()
        outcome: list[Any] = []

        def read() -> None:
            try:
                outcome.append(list(stream))
            except BaseException as e:  # the test looks at it
                outcome.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        s.turn("one")
        wait_for(lambda: stream.position != "0.0")
        stream.close()
        reader.join(10)
        assert not reader.is_alive(), "close() did not end the loop"
        assert isinstance(outcome[0], list), outcome
        assert stream.session is None, "the session has not ended"


async def test_closing_an_async_session_stream_from_another_task_ends_its_loop(server: Server) -> None:
    async with server.async_client() as c:
        s = await c.sessions.create(agent="echo")
        async with s:
            stream = s.stream()

            got_one = asyncio.Event()

            async def read() -> list[agentsession.SessionStreamItem]:
                items = []
                async for item in stream:
                    items.append(item)
                    if not isinstance(item, LifecycleEvent):
                        got_one.set()
                return items

            task = asyncio.ensure_future(read())
            await s.turn("one")
            await asyncio.wait_for(got_one.wait(), 10)
            await stream.close()
            items = await asyncio.wait_for(task, 10)
            assert [i.seq for i in items if not isinstance(i, LifecycleEvent)] == [1]
