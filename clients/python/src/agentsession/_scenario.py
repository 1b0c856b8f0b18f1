"""A programmatic entry for the cross-language scenario runner.

    python -m agentsession._scenario < steps.json > results.json

Reads ``{"steps": [...]}``; each step is ``{"op": NAME, "session": ALIAS?,
"as": ALIAS?, "args": {...}}``, run in order through the SDK (base URL and
token from ``base_url``/``token`` in the document or the environment). Writes
one record per step: ``{"op", "ok": true, "result": {...}}`` with the answer
reduced to what every SDK can report alike, or ``{"op", "ok": false,
"error": {"class", "status", "code"}}``. A bad step is an error record, never
a crash. The scenario format itself belongs to the runner; this module only
maps operations onto the SDK.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _exceptions as exc
from ._client import Client
from ._models import BaseModel
from ._sessions import Session
from ._turn import TurnResult

__all__ = ["error_record", "run_steps"]

Op = Callable[[Client, Session | None, dict[str, Any]], Any]


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def _turn(result: TurnResult, resumes: int | None = None) -> dict[str, Any]:
    out = {
        "turn_index": result.turn_index,
        "stop_reason": _value(result.stop_reason),
        "cancelled_by": _value(result.cancelled_by),
        "text": result.text(),
        "event_types": [_value(e.type) for e in result.events],
        "seqs": [e.seq for e in result.events],
    }
    if resumes is not None:
        out["resumes"] = resumes
    return out


def _session(s: Session) -> dict[str, Any]:
    info = s.info
    return {"id": s.id, "status": _value(info.status) if info else None, "depth": info.depth if info else None}


def _stream(client: Client, s: Session | None, args: dict[str, Any]) -> dict[str, Any]:
    assert s is not None
    with s.turn_stream(**args) as stream:
        for _ in stream:
            pass
    return _turn(stream.get_final_result(), stream.resumes)


def _need(s: Session | None) -> Session:
    if s is None:
        raise ValueError("this op needs a session alias")
    return s


OPS: dict[str, Op] = {
    "create_session": lambda c, s, a: c.sessions.create(**a),
    "get_session": lambda c, s, a: c.sessions.get(**a),
    "turn": lambda c, s, a: _turn(_need(s).turn(**a)),
    "turn_stream": _stream,
    "cancel": lambda c, s, a: {"cancelled": _need(s).cancel(**a).cancelled},
    "close": lambda c, s, a: {"already_closed": _need(s).close(**a).already_closed},
    "pause": lambda c, s, a: _need(s).pause(**a),
    "resume": lambda c, s, a: _need(s).resume(**a),
    "end": lambda c, s, a: _need(s).end(**a),
    "continue": lambda c, s, a: _need(s).continue_(**a),
    "handoff": lambda c, s, a: _need(s).handoff(**a),
    "handoff_context": lambda c, s, a: {"status": _value(_need(s).handoff_context(**a).status)},
    "log": lambda c, s, a: {"type": _value(_need(s).log(**a).type)},
    "log_entries": lambda c, s, a: [_value(e.type) for e in _need(s).log_entries(**a)],
    "add_artifact": lambda c, s, a: {"path": _need(s).add_artifact(**a).path},
    "artifacts": lambda c, s, a: [x.path for x in _need(s).artifacts(**a)],
    "update_context": lambda c, s, a: {"context_summary": _need(s).update_context(a).context_summary},
    "replay_context": lambda c, s, a: {"summary": _need(s).replay_context(**a).progress.summary},
    "replay": lambda c, s, a: _need(s).replay(**a),
    "spawn": lambda c, s, a: _need(s).spawn(**a),
    "children": lambda c, s, a: [x.id for x in _need(s).children(**a)],
    "history": lambda c, s, a: [t.turn_index for t in _need(s).history(**a)],
    "events": lambda c, s, a: [e.seq for e in _need(s).events(**a)],
    "upload": lambda c, s, a: {"file_token": c.files.upload(a.pop("content").encode(), **a).file_token},
}


def error_record(error: BaseException) -> dict[str, Any]:
    """The typed error as every SDK can report it."""
    record: dict[str, Any] = {"class": type(error).__name__, "message": str(error)}
    if isinstance(error, exc.APIStatusError):
        record.update(status=error.status_code, code=error.code, retry_after=error.retry_after)
    if isinstance(error, exc.APIError):
        record["attempts"] = error.attempts
    return record


def run_steps(client: Client, steps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run each step; sessions created with ``"as"`` are named for later steps."""
    sessions: dict[str, Session] = {}
    records: list[dict[str, Any]] = []
    for step in steps:
        op = str(step.get("op"))
        record: dict[str, Any] = {"op": op}
        try:
            fn = OPS.get(op)
            if fn is None:
                raise ValueError(f"unknown op {op!r}")
            alias = step.get("session")
            session = sessions[alias] if alias is not None else None
            result = fn(client, session, dict(step.get("args") or {}))
            if isinstance(result, Session):
                if step.get("as"):
                    sessions[str(step["as"])] = result
                result = _session(result)
            elif isinstance(result, BaseModel):
                result = {"status": _value(getattr(result, "status", None))}
            record.update(ok=True, result=result)
        except (exc.AgentSessionError, ValueError, TypeError, KeyError) as e:
            record.update(ok=False, error=error_record(e))
        records.append(record)
    return records


def main() -> None:
    doc = json.load(sys.stdin)
    with Client(base_url=doc.get("base_url"), token=doc.get("token")) as client:
        json.dump(run_steps(client, doc.get("steps", [])), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
