"""A small stand-in for the orchestrator's checks (scenarios/README.md, "Observations"),
so the Python runner's result file can be checked against each step's expectation here.
The real checking (and the comparison of the three SDKs) is the orchestrator's."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

RUN = "${run}"


PERMISSION_EVENTS = ("permission_request", "permission_response")


def _names_a_permission(value: Mapping[str, Any]) -> bool:
    """A PermissionRequest, or a permission event: its request_id is the script's, kept."""
    return value.get("type") in PERMISSION_EVENTS or ("options" in value and "status" in value)


def normalize(value: Any, names: Mapping[str, str], run: str) -> Any:
    """The README's normalization: ids by alias, times, durations, log and artifact
    ids, request ids (a permission request's aside), the run id; nulls dropped;
    script prompts canonical."""
    if isinstance(value, dict):
        keep_request_id = _names_a_permission(value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, str) and (key == "time" or key.endswith("_at")):
                out[key] = "<time>"
            elif key == "duration_ms" and isinstance(item, int | float):
                out[key] = "<ms>"
            elif key == "id" and isinstance(item, str):
                out[key] = "<id>"
            elif key == "request_id" and isinstance(item, str) and not keep_request_id:
                out[key] = "<request-id>"
            elif key == "prompt" and isinstance(item, str) and item.startswith("{"):
                try:
                    out[key] = json.dumps(json.loads(item), sort_keys=True, separators=(",", ":"))
                except ValueError:
                    out[key] = normalize(item, names, run)
            else:
                out[key] = normalize(item, names, run)
        return out
    if isinstance(value, list):
        return [normalize(v, names, run) for v in value]
    if isinstance(value, str):
        for raw, name in names.items():
            value = value.replace(raw, name)
        value = re.sub(r"\bsess_[a-z0-9]+\b", "<session:?>", value)
        return value.replace(run, RUN)
    return value


def matches(expect: Any, got: Any, path: str = "") -> list[str]:
    """Where got differs from expect (expect a subset of got; lists in full unless
    $contains or $len)."""
    if isinstance(expect, dict):
        if "$len" in expect:
            n = expect["$len"]
            return [] if isinstance(got, list) and len(got) == n else [f"{path}: length {_len(got)}, want {n}"]
        if "$contains" in expect:
            if not isinstance(got, list):
                return [f"{path}: not a list"]
            return [
                f"{path}: no element matches {want!r}"
                for want in expect["$contains"]
                if not any(not matches(want, g) for g in got)
            ]
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        problems: list[str] = []
        for key, want in expect.items():
            if want is None:
                if key in got:
                    problems.append(f"{path}.{key}: present, want absent")
            elif key not in got:
                problems.append(f"{path}.{key}: absent, want {want!r}")
            else:
                problems += matches(want, got[key], f"{path}.{key}")
        return problems
    if isinstance(expect, list):
        if not isinstance(got, list) or len(got) != len(expect):
            return [f"{path}: {got!r}, want {expect!r}"]
        return [p for i, (w, g) in enumerate(zip(expect, got, strict=True)) for p in matches(w, g, f"{path}[{i}]")]
    return [] if expect == got else [f"{path}: {got!r}, want {expect!r}"]


def _len(v: Any) -> str:
    return str(len(v)) if isinstance(v, list) else "(not a list)"


def check_scenario(scenario: Mapping[str, Any], result: Mapping[str, Any], run: str) -> list[str]:
    """Every way the result of one scenario misses its steps' expectations."""
    sid = scenario["id"]
    if result.get("aborted"):
        return [f"{sid}: aborted: {result['aborted']}"]
    steps = scenario["steps"]
    observations = result["observations"]
    if [o["step"] for o in observations] != list(range(1, len(steps) + 1)):
        return [f"{sid}: observations for steps {[o['step'] for o in observations]}"]
    names: dict[str, str] = {}
    problems: list[str] = []
    for step, obs in zip(steps, observations, strict=True):
        where = f"{sid} step {obs['step']} ({step['do']})"
        if obs["do"] != step["do"]:
            problems.append(f"{where}: do {obs['do']!r}")
        value, error = obs.get("value"), obs.get("error")
        alias = step.get("as")
        if alias and isinstance(value, dict):
            if isinstance(value.get("session_id"), str) and step["do"] != "upload":
                names[value["session_id"]] = f"<session:{alias}>"
            if isinstance(value.get("file_token"), str):
                names[value["file_token"]] = f"<file:{alias}>"
        if error is not None and error.get("kind") == "untyped":
            problems.append(f"{where}: untyped error {error}")
        background = step["do"] in ("turn", "session_stream") and (step.get("with") or {}).get("background")
        if background:
            if value is not None or error is not None:
                problems.append(f"{where}: a background {step['do']} is observed by its await")
            continue
        want_error = step.get("expect_error")
        if want_error:
            if error is None or error.get("kind") != want_error:
                problems.append(f"{where}: error {error}, want kind {want_error}")
            continue
        if error is not None:
            problems.append(f"{where}: unexpected error {error}")
            continue
        observed = normalize({"value": value, "text": obs.get("text")}, names, run)
        expect = step.get("expect") or {}
        problems += [f"{where}: {p}" for p in matches(expect, observed)]
        if step["do"] == "turn_stream":
            problems += [f"{where}: {p}" for p in check_stream(value)]
        if step["do"] == "session_stream" or (step["do"] == "await" and "stream" in (step.get("with") or {})):
            problems += [f"{where}: {p}" for p in check_session_stream(value)]
    return problems


def check_session_stream(value: Any) -> list[str]:
    """The frames' own order (the orchestrator also compares them with the server's
    lists): seqs and lifecycle_seqs each without gaps or repeats, every lifecycle
    event after the turn event its after_seq names and before the next."""
    problems = []
    seqs: list[int] = []
    lifecycle: list[int] = []
    for frame in value["frames"]:
        if "event" in frame:
            seqs.append(frame["event"]["seq"])
        else:
            item = frame["lifecycle"]
            lifecycle.append(item["lifecycle_seq"])
            if seqs and seqs[-1] > item["after_seq"]:
                problems.append(
                    f"lifecycle event {item['lifecycle_seq']} (after_seq {item['after_seq']}) after seq {seqs[-1]}"
                )
            if seqs and seqs[-1] < item["after_seq"]:
                problems.append(f"lifecycle event {item['lifecycle_seq']} before seq {item['after_seq']}")
    for name, numbers in (("seqs", seqs), ("lifecycle_seqs", lifecycle)):
        if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            problems.append(f"{name} {numbers} have a gap or a repeat")
    if not value.get("session"):
        problems.append("no session.ended frame")
    return problems


def check_stream(value: Any) -> list[str]:
    events, result = value["events"], value["result"]
    seqs = [e["seq"] for e in events]
    problems = []
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        problems.append(f"streamed seqs {seqs} have a gap or a repeat")
    if events != result["events"]:
        problems.append("the streamed events differ from the result's")
    return problems
