"""The SDK against the real reference server (built and started by conftest)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import agentsession
from agentsession import BusyPolicy, Client, EventType, StopReason

from .conftest import Server, script, start_server, stop_server, text_step

SLOW = script(text_step("working", delay_ms=0), text_step("done", delay_ms=1500))


def test_multi_turn_conversation(client: Client) -> None:
    with client.sessions.create(agent="echo", meta={"app": "tests"}) as s:
        assert s.info is not None
        assert s.info.status == agentsession.SessionStatus.active
        first = s.turn("Hello")
        second = s.turn("Summarise the open pull requests.")
        assert (first.turn_index, first.text(), first.stop_reason) == (1, "Hello", StopReason.end_turn)
        assert second.turn_index == 2
        assert second.text() == "Summarise the open pull requests."
        assert [t.turn_index for t in s.history()] == [1, 2]
        assert [e.content for e in s.events()] == ["Hello", "Summarise the open pull requests."]
        assert s.get_turn(2).events is not None
    assert s.info.status == agentsession.SessionStatus.completed
    assert s.close() is s.close(), "close is idempotent"


def test_stream_read_to_the_end_matches_the_event_log(client: Client) -> None:
    prompt = script(
        {"event": {"type": "thinking", "content": "Reading."}},
        {"delay_ms": 20, "event": {"type": "tool_call", "tool_call_id": "c1", "name": "read", "status": "pending"}},
        {"event": {"type": "tool_result", "tool_call_id": "c1", "result": {"bytes": 3}, "status": "completed"}},
        text_step("Looks good."),
    )
    with client.sessions.create(agent="scripted") as s:
        with s.turn_stream(prompt) as stream:
            types = [e.type for e in stream]
        result = stream.get_final_result()
        assert types == [EventType.thinking, EventType.tool_call, EventType.tool_result, EventType.text]
        assert result.text() == "Looks good."
        assert [e.seq for e in result.events] == [e.seq for e in s.events(turn_index=result.turn_index)]
        assert stream.turn_index == 1


def test_same_idempotency_key_never_runs_a_turn_twice(client: Client) -> None:
    with client.sessions.create(agent="echo") as s:
        a = s.turn("once", idempotency_key="py-idem-1")
        b = s.turn("once", idempotency_key="py-idem-1")
        assert a.turn_index == b.turn_index == 1
        assert len(s.history().to_list()) == 1
        with pytest.raises(agentsession.UnprocessableEntityError) as info:
            s.turn("another prompt", idempotency_key="py-idem-1")
        assert info.value.code == "idempotency_key_reused"


def test_cancel_ends_the_running_turn(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s:
        with s.turn_stream(SLOW) as stream:
            for e in stream:
                assert e.content == "working"
                cancelled = s.cancel()
                assert cancelled.cancelled is True
        result = stream.get_final_result()
        assert result.stop_reason == StopReason.cancelled
        assert result.cancelled_by == agentsession.types.CancelledBy.cancel_request
        assert s.cancel().cancelled is False, "cancel is idempotent"


def _start_slow_turn(s: agentsession.Session) -> agentsession.TurnStream:
    stream = s.turn_stream(SLOW)
    assert next(stream).content == "working"  # the turn runs now
    return stream


def test_busy_reject_fails_at_once_from_the_same_handle(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s, _start_slow_turn(s) as stream:
        began = time.monotonic()
        with pytest.raises(agentsession.BusyError) as info:
            s.turn("x", busy_policy=BusyPolicy.reject)
        assert time.monotonic() - began < 1.0, "rejected without waiting for the running turn"
        assert info.value.code == "turn_in_progress"
        assert stream.get_final_result().stop_reason == StopReason.end_turn


def test_busy_interrupt_cancels_the_running_turn(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s, _start_slow_turn(s) as stream:
        began = time.monotonic()
        result = s.turn(script(text_step("next")), busy_policy="interrupt")
        assert time.monotonic() - began < 1.0
        assert result.text() == "next"
        first = stream.get_final_result()
        assert first.stop_reason == StopReason.cancelled
        assert first.cancelled_by == "interrupt"


def test_busy_enqueue_runs_after_the_running_turn(client: Client) -> None:
    with client.sessions.create(agent="scripted") as s, _start_slow_turn(s) as stream:
        queued = s.turn(script(text_step("after")), busy_policy=BusyPolicy.enqueue)
        first = stream.get_final_result()
        assert first.stop_reason == StopReason.end_turn
        assert queued.turn_index == first.turn_index + 1
        assert queued.events[0].seq > first.events[-1].seq


def test_turns_without_a_policy_keep_their_order_across_handles_and_threads(client: Client) -> None:
    s = client.sessions.create(agent="scripted")
    other_handle = client.sessions.handle(s.id)
    results: dict[str, agentsession.TurnResult] = {}
    errors: list[BaseException] = []

    def send(handle: agentsession.Session, name: str, delay: int) -> None:
        try:
            results[name] = handle.turn(script(text_step(name, delay_ms=delay)))
        except BaseException as e:
            errors.append(e)

    threads = []
    for i, handle in enumerate([s, other_handle, s, other_handle]):
        t = threading.Thread(target=send, args=(handle, f"t{i}", 150))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # the order the caller sends in
    for t in threads:
        t.join()
    assert errors == [], "no turn was rejected as busy"
    assert [results[f"t{i}"].turn_index for i in range(4)] == [1, 2, 3, 4]
    s.close()


def test_different_sessions_never_wait_for_each_other(client: Client) -> None:
    slow = client.sessions.create(agent="scripted")
    fast = client.sessions.create(agent="echo")
    done: dict[str, float] = {}
    began = time.monotonic()
    t = threading.Thread(target=lambda: done.setdefault("slow", (slow.turn(SLOW), time.monotonic())[1]))
    t.start()
    time.sleep(0.1)
    fast.turn("quick")
    done["fast"] = time.monotonic()
    t.join()
    assert done["fast"] - began < 1.0 < done["slow"] - began
    slow.close()
    fast.close()


def test_lifecycle_from_work_log_to_replay(client: Client) -> None:
    s = client.sessions.create(agent="echo", plan_slug="migrate-db")
    entry = s.log("checkpoint", "schema migrated", data={"tables": 12})
    assert entry.type == agentsession.LogEntryType.checkpoint
    s.log(agentsession.LogEntryType.decision, "keep the old table")
    s.add_artifact("db/0042.sql", agentsession.ArtifactAction.created, metadata={"lines": 87})
    s.add_artifact("db/0041.sql", "modified")
    assert [a.path for a in s.artifacts(action="created")] == ["db/0042.sql"]
    assert [e.type for e in s.log_entries(type="checkpoint")] == ["checkpoint"]
    info = s.update_context({"current_task": "tests", "stale": None})
    assert info.context_summary == {"current_task": "tests"}
    assert s.info is info
    assert s.pause().status == "paused"
    with pytest.raises(agentsession.SessionPausedError):
        s.turn("while paused")
    with pytest.raises(agentsession.InvalidTransitionError):
        s.pause()
    assert s.resume().status == "active"
    paused = s.handoff("tests fail", next_steps=["fix them"], blockers=[], context_for_next={"branch": "b"})
    assert paused.status == "paused"
    assert paused.handoff is not None
    ctx = s.handoff_context()
    assert [a.type for a in ctx.recent_actions] == ["decision", "checkpoint"]
    nxt = s.continue_(agent="echo")
    assert nxt.info is not None
    assert nxt.info.continued_from == s.id
    assert nxt.info.context_summary == {"current_task": "tests"}
    assert s.end("failed", summary="stopped").status == "failed"
    with pytest.raises(agentsession.SessionEndedError):
        s.log("info", "too late")
    replay_ctx = s.replay_context()
    assert replay_ctx.progress.checkpoint_count == 1
    assert replay_ctx.final_summary == "stopped"
    again = s.replay()
    assert again.info is not None
    assert again.info.continued_from == s.id
    assert "replay" in again.info.context_summary
    assert s.close().already_closed is True


def test_children_and_their_caps(client: Client) -> None:
    with client.sessions.create(agent="echo") as parent:
        kids = [parent.spawn(agent="echo", meta={"n": i}) for i in range(5)]
        assert all(k.info is not None and k.info.depth == 1 for k in kids)
        with pytest.raises(agentsession.SpawnLimitError):
            parent.spawn(agent="echo")
        with pytest.raises(agentsession.SpawnLimitError):
            kids[0].spawn(agent="echo")  # depth 2 is over the cap
        assert [c.id for c in parent.children()] == [k.id for k in kids]
    assert [c.info.status for c in parent.children() if c.info] == ["completed"] * 5


def test_file_uploaded_and_used_in_a_turn(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello file")
    with client.sessions.create(agent="echo") as s:
        f = s.upload(path)
        assert (f.filename, f.content_type, f.size_bytes) == ("notes.txt", "text/plain", 10)
        assert client.files.get(f.file_token).sha256 == f.sha256
        assert s.turn("read it", files=[f.file_token]).text() == "read it"
        with pytest.raises(agentsession.UnprocessableEntityError) as info:
            s.turn("x", files=["file_unknown"])
        assert info.value.code == "unknown_file"


def test_typed_errors(server: Server, client: Client) -> None:
    with server.client(token="tok-nobody-000") as stranger, pytest.raises(agentsession.AuthenticationError):
        stranger.sessions.create(agent="echo")
    with server.client(token="") as anonymous:
        assert anonymous.health().status == "ok", "health needs no token"
    with pytest.raises(agentsession.NotFoundError):
        client.sessions.get("sess_doesnotexist")
    s = client.sessions.create(agent="echo")
    with server.client(token=server.tokens[1]) as other, pytest.raises(agentsession.NotFoundError):
        other.sessions.get(s.id)  # another tenant's session does not exist for you
    with pytest.raises(agentsession.UnprocessableEntityError) as info:
        client.sessions.create(agent="gpt-9")
    assert info.value.code == "unknown_agent"
    with pytest.raises(agentsession.ValidationError) as bad:
        s.turn("x", timeout_ms=10**9)
    assert isinstance(bad.value, agentsession.BadRequestError)
    assert bad.value.field_errors
    with pytest.raises(agentsession.PayloadTooLargeError):
        s.turn("x" * (1 << 20))
    s.close()
    with pytest.raises(agentsession.SessionEndedError):
        s.turn("after close")
    assert client.sessions.close(s.id).already_closed is True


def test_rate_limited_is_retried_then_a_typed_error(server_binary: Path) -> None:
    srv = start_server(server_binary, "-rate-limit", "1", "-rate-burst", "1")
    try:
        with srv.client(max_retries=0) as c:
            c.capabilities()
            with pytest.raises(agentsession.RateLimitError) as info:
                c.capabilities()
            assert info.value.retry_after is not None
            assert info.value.retry_after >= 1
        with srv.client() as patient:
            assert patient.capabilities().limits.max_children == 5, "retried after Retry-After"
    finally:
        stop_server(srv)


def test_unknown_enum_values_decode() -> None:
    info = agentsession.SessionInfo.model_validate(
        {
            "session_id": "s",
            "agent": "a",
            "status": "archived",
            "activity": "waiting_for_approval",
            "meta": {},
            "context_summary": {},
            "depth": 0,
            "turn_count": 0,
            "queued_turns": 0,
            "action_count": 0,
            "artifact_count": 0,
            "last_event_seq": 0,
            "created_at": "2026-11-21T10:00:00Z",
            "updated_at": "2026-11-21T10:00:00Z",
            "new_member": {"x": 1},
        }
    )
    assert (info.status, info.activity) == ("archived", "waiting_for_approval")
    assert info.model_extra == {"new_member": {"x": 1}}
    known = agentsession.SessionInfo.model_validate({**info.to_dict(), "status": "paused"})
    assert known.status is agentsession.SessionStatus.paused


async def test_async_client_end_to_end(server: Server) -> None:
    async with server.async_client() as c:
        s = await c.sessions.create(agent="echo")
        async with s:
            assert (await s.turn("hello")).text() == "hello"
            async with s.turn_stream("streamed") as stream:
                assert [e.content async for e in stream] == ["streamed"]
            assert (await stream.get_final_result()).turn_index == 2
            assert [t.turn_index async for t in s.history()] == [1, 2]
            assert s.id in [x.id async for x in c.sessions.list(agent="echo")]
            await s.log("info", "async")
            assert len(await s.log_entries().to_list()) == 1
        assert s.info is not None
        assert s.info.status == "completed"
        with pytest.raises(agentsession.NotFoundError):
            await c.sessions.get("sess_nope")


async def test_async_turns_without_policy_keep_order(server: Server) -> None:
    import asyncio

    async with server.async_client() as c:
        s = await c.sessions.create(agent="scripted")
        results = await asyncio.gather(*[s.turn(script(text_step(f"t{i}", delay_ms=100))) for i in range(3)])
        assert [r.turn_index for r in results] == [1, 2, 3]
        assert [r.text() for r in results] == ["t0", "t1", "t2"]
        with pytest.raises(agentsession.BusyError):
            async with s.turn_stream(SLOW) as stream:
                async for _ in stream:
                    await s.turn("x", busy_policy="reject")
        await s.close()
