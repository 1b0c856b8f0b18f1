"""The contract's operations as calls: one place for paths, bodies and
answer types, shared by the sync and async surfaces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from . import _generated as gen
from ._base_client import Call, path
from ._turn import TurnResult

SSE = "text/event-stream"


def _drop_none(**members: Any) -> dict[str, Any]:
    return {k: v for k, v in members.items() if v is not None}


def _page(limit: int | None, cursor: str | None, **filters: Any) -> dict[str, Any]:
    """Query parameters; enum members become their values (str() of a str
    enum is its name)."""
    params = _drop_none(limit=limit, cursor=cursor, **filters)
    return {k: v.value if isinstance(v, Enum) else v for k, v in params.items()}


def health() -> Call[gen.Health]:
    return Call("GET", "v1/health", gen.Health)


def capabilities() -> Call[gen.Capabilities]:
    return Call("GET", "v1/capabilities", gen.Capabilities)


def create_session(
    agent: str,
    meta: Mapping[str, Any] | None,
    plan_slug: str | None,
    context: Mapping[str, Any] | None,
    agent_options: Mapping[str, Any] | None = None,
) -> Call[gen.Session]:
    body = _drop_none(agent=agent, meta=meta, plan_slug=plan_slug, context=context, agent_options=agent_options)
    return Call("POST", "v1/sessions", gen.Session, json=body)


def get_session(session_id: str) -> Call[gen.Session]:
    return Call("GET", path("v1/sessions/{}", session_id), gen.Session)


def list_sessions(
    status: str | None, agent: str | None, plan_slug: str | None, limit: int | None, cursor: str | None
) -> Call[gen.SessionList]:
    params = _page(limit, cursor, status=status, agent=agent, plan_slug=plan_slug)
    return Call("GET", "v1/sessions", gen.SessionList, params=params)


def close_session(session_id: str) -> Call[gen.CloseSessionResult]:
    return Call("DELETE", path("v1/sessions/{}", session_id), gen.CloseSessionResult)


def turn_body(
    prompt: str,
    files: Sequence[str] | None,
    timeout_ms: int | None,
    busy_policy: str | None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return _drop_none(
        prompt=prompt,
        files=list(files) if files else None,
        timeout_ms=timeout_ms,
        busy_policy=busy_policy,
        meta=meta,
    )


def send_turn(
    session_id: str, body: dict[str, Any], *, stream: bool = False, last_event_id: int | None = None
) -> Call[TurnResult]:
    """sendTurn; as JSON, a 202 (the turn waits for input) raises PermissionRequiredError."""
    call = Call("POST", path("v1/sessions/{}/turns", session_id), TurnResult, json=body)
    if stream:
        call.headers["Accept"] = SSE
    else:
        call.turn = True
    if last_event_id is not None:
        call.headers["Last-Event-ID"] = str(last_event_id)
    return call


def stream_turn(session_id: str, turn_index: int, last_event_id: int) -> Call[TurnResult]:
    call = Call("GET", path("v1/sessions/{}/turns/{}/stream", session_id, turn_index), TurnResult)
    call.headers.update({"Accept": SSE, "Last-Event-ID": str(last_event_id)})
    return call


def get_turn(session_id: str, turn_index: int) -> Call[gen.Turn]:
    return Call("GET", path("v1/sessions/{}/turns/{}", session_id, turn_index), gen.Turn)


def list_turns(session_id: str, status: str | None, limit: int | None, cursor: str | None) -> Call[gen.TurnList]:
    params = _page(limit, cursor, status=status)
    return Call("GET", path("v1/sessions/{}/turns", session_id), gen.TurnList, params=params)


def cancel_turn(session_id: str) -> Call[gen.CancelTurnResult]:
    return Call("POST", path("v1/sessions/{}/cancel", session_id), gen.CancelTurnResult)


def cancel_turn_at(session_id: str, turn_index: int) -> Call[gen.Turn]:
    return Call("POST", path("v1/sessions/{}/turns/{}/cancel", session_id, turn_index), gen.Turn)


def answer_permission(session_id: str, request_id: str, option_id: str) -> Call[gen.PermissionRequest]:
    url = path("v1/sessions/{}/permissions/{}", session_id, request_id)
    return Call("POST", url, gen.PermissionRequest, json={"option_id": option_id})


def list_permissions(
    session_id: str, status: str | None, limit: int | None, cursor: str | None
) -> Call[gen.PermissionRequestList]:
    params = _page(limit, cursor, status=status)
    return Call("GET", path("v1/sessions/{}/permissions", session_id), gen.PermissionRequestList, params=params)


def list_lifecycle_events(
    session_id: str, after: int, limit: int | None, cursor: str | None
) -> Call[gen.LifecycleEventList]:
    params = _page(limit, cursor, after=after or None)
    return Call("GET", path("v1/sessions/{}/lifecycle", session_id), gen.LifecycleEventList, params=params)


def stream_session(session_id: str, last_event_id: str) -> Call[gen.Session]:
    """streamSession (the cast is unused: the caller reads the event stream)."""
    call = Call("GET", path("v1/sessions/{}/stream", session_id), gen.Session)
    call.headers.update({"Accept": SSE, "Last-Event-ID": last_event_id})
    return call


def list_events(
    session_id: str, after: int, turn_index: int | None, limit: int | None, cursor: str | None
) -> Call[gen.EventList]:
    params = _page(limit, cursor, after=after or None, turn_index=turn_index)
    return Call("GET", path("v1/sessions/{}/events", session_id), gen.EventList, params=params)


def pause(session_id: str) -> Call[gen.Session]:
    return Call("POST", path("v1/sessions/{}/pause", session_id), gen.Session)


def resume(session_id: str) -> Call[gen.Session]:
    return Call("POST", path("v1/sessions/{}/resume", session_id), gen.Session)


def end(session_id: str, status: str, summary: str | None) -> Call[gen.Session]:
    body = _drop_none(status=status, summary=summary)
    return Call("POST", path("v1/sessions/{}/end", session_id), gen.Session, json=body)


def continue_(
    session_id: str,
    agent: str,
    meta: Mapping[str, Any] | None,
    plan_slug: str | None,
    agent_options: Mapping[str, Any] | None = None,
) -> Call[gen.Session]:
    body = _drop_none(agent=agent, meta=meta, plan_slug=plan_slug, agent_options=agent_options)
    return Call("POST", path("v1/sessions/{}/continue", session_id), gen.Session, json=body)


def handoff(
    session_id: str,
    summary: str,
    next_steps: Sequence[str] | None,
    blockers: Sequence[str] | None,
    context_for_next: Mapping[str, Any] | None,
) -> Call[gen.Session]:
    body = _drop_none(
        summary=summary,
        next_steps=list(next_steps) if next_steps is not None else None,
        blockers=list(blockers) if blockers is not None else None,
        context_for_next=context_for_next,
    )
    return Call("POST", path("v1/sessions/{}/handoff", session_id), gen.Session, json=body)


def handoff_context(session_id: str) -> Call[gen.HandoffContext]:
    return Call("GET", path("v1/sessions/{}/handoff", session_id), gen.HandoffContext)


def add_log_entry(
    session_id: str,
    type: str,
    message: str,
    data: Mapping[str, Any] | None,
) -> Call[gen.LogEntry]:
    body = _drop_none(type=type, message=message, data=data)
    return Call("POST", path("v1/sessions/{}/log", session_id), gen.LogEntry, json=body)


def list_log_entries(
    session_id: str,
    type: str | None,
    limit: int | None,
    cursor: str | None,
    order: str | None = None,
) -> Call[gen.LogEntryList]:
    params = _page(limit, cursor, type=type, order=order)
    return Call("GET", path("v1/sessions/{}/log", session_id), gen.LogEntryList, params=params)


def add_artifact(session_id: str, path_: str, action: str, metadata: Mapping[str, Any] | None) -> Call[gen.Artifact]:
    body = _drop_none(path=path_, action=action, metadata=metadata)
    return Call("POST", path("v1/sessions/{}/artifacts", session_id), gen.Artifact, json=body)


def list_artifacts(
    session_id: str, action: str | None, limit: int | None, cursor: str | None
) -> Call[gen.ArtifactList]:
    params = _page(limit, cursor, action=action)
    return Call("GET", path("v1/sessions/{}/artifacts", session_id), gen.ArtifactList, params=params)


def update_context(session_id: str, patch: Mapping[str, Any]) -> Call[gen.Session]:
    return Call("PATCH", path("v1/sessions/{}/context", session_id), gen.Session, json=dict(patch))


def replay_context(session_id: str) -> Call[gen.ReplayContext]:
    return Call("GET", path("v1/sessions/{}/replay", session_id), gen.ReplayContext)


def replay(
    session_id: str, agent: str | None, meta: Mapping[str, Any] | None, agent_options: Mapping[str, Any] | None = None
) -> Call[gen.Session]:
    body = _drop_none(agent=agent, meta=meta, agent_options=agent_options)
    return Call("POST", path("v1/sessions/{}/replay", session_id), gen.Session, json=body)


def spawn_child(
    session_id: str,
    agent: str,
    meta: Mapping[str, Any] | None,
    plan_slug: str | None,
    context: Mapping[str, Any] | None,
    agent_options: Mapping[str, Any] | None = None,
) -> Call[gen.Session]:
    body = _drop_none(agent=agent, meta=meta, plan_slug=plan_slug, context=context, agent_options=agent_options)
    return Call("POST", path("v1/sessions/{}/children", session_id), gen.Session, json=body)


def list_children(session_id: str, status: str | None, limit: int | None, cursor: str | None) -> Call[gen.SessionList]:
    params = _page(limit, cursor, status=status)
    return Call("GET", path("v1/sessions/{}/children", session_id), gen.SessionList, params=params)


def upload_file(filename: str, content: bytes, content_type: str) -> Call[gen.File]:
    return Call("POST", "v1/files", gen.File, files={"file": (filename, content, content_type)})


def get_file(file_token: str) -> Call[gen.File]:
    return Call("GET", path("v1/files/{}", file_token), gen.File)
