"""The scenario runner (clients/python/scenarios/runner.py): every scenario of
scenarios/ run through the fault proxy (with the scenarios' own fault rules) holds
its expectations; bad steps abort their scenario; errors map to the README's kinds."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

import agentsession

from .conftest import REPO, Server
from .scenario_check import check_scenario

RUNNER = REPO / "clients" / "python" / "scenarios" / "runner.py"
SCENARIOS = REPO / "scenarios"


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scenario_runner", RUNNER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


def run_runner(server_url: str, server: Server, out: Path, *args: str, scenarios: Path = SCENARIOS) -> Any:
    cmd = [sys.executable, str(RUNNER), "--base-url", server_url, "--token", server.tokens[0]]
    cmd += ["--token2", server.tokens[1], "--run", f"py{uuid.uuid4().hex[:6]}", "--scenarios", str(scenarios)]
    cmd += ["--out", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="session")
def proxy_binary() -> Iterator[Path]:
    out = Path(tempfile.mkdtemp(prefix="agentsession-py-fp-")) / "agentsession-faultproxy"
    subprocess.run(["go", "build", "-o", str(out), "./cmd/agentsession-faultproxy"], cwd=REPO, check=True)
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)


@pytest.fixture
def proxy(proxy_binary: Path, server: Server, tmp_path: Path) -> Iterator[str]:
    """The fault proxy in front of the server with the union of the scenarios' own rules."""
    rules: list[Any] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        rules += yaml.safe_load(path.read_text(encoding="utf-8")).get("faults") or []
    config = tmp_path / "faults.yaml"
    config.write_text(yaml.safe_dump({"seed": 1, "rules": rules}), encoding="utf-8")
    proc = subprocess.Popen(
        [str(proxy_binary), "-target", server.url, "-listen", "127.0.0.1:0", "-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    yield line.removeprefix("listening on ").strip()
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


def test_every_scenario_holds_its_expectations_through_the_fault_proxy(
    server: Server, proxy: str, tmp_path: Path
) -> None:
    out = tmp_path / "result-direct.json"
    done = run_runner(proxy, server, out)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for token in server.tokens:
        assert token not in text, "a token in the result file"
        assert token not in done.stdout + done.stderr, "a token in the runner's output"
    result = json.loads(text)
    assert result["sdk"] == "py"
    assert result["sdk_version"] == agentsession.__version__
    scenarios = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(SCENARIOS.glob("*.yaml"))}
    assert [s["id"] for s in result["scenarios"]] == list(scenarios), "every scenario, in file-name order"
    problems = [p for s in result["scenarios"] for p in check_scenario(scenarios[s["id"]], s, result["run"])]
    assert problems == []
    stats = httpx.get(f"{proxy}/__faultproxy/stats").json()
    faults = {rule["name"]: rule["faults"] for rule in stats["rules"]}
    assert faults["scenario-03-cut"] == 1, "the stream of scenario 03 was cut (and resumed)"
    assert faults["scenario-11-rate-limited"] == 4, "every attempt of the marked request got its 429"


def test_only_runs_one_scenario(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "result-only.json"
    done = run_runner(server.url, server, out, "--only", "01-multi-turn-text")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [s["id"] for s in result["scenarios"]] == ["01-multi-turn-text"]


def test_a_step_the_runner_cannot_carry_out_aborts_its_scenario(server: Server, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    steps: dict[str, list[dict[str, Any]]] = {
        "a-misspelt": [
            {"do": "create_session", "as": "s", "with": {"agent": "echo"}},
            {"do": "turn", "session": "s", "with": {"promt": "hi"}},
            {"do": "close_session", "session": "s"},
        ],
        "b-alias-of-a-failed-step": [
            {"do": "create_session", "as": "s", "with": {"agent": "no-such-agent"}, "expect_error": "validation"},
            {"do": "turn", "session": "s", "with": {"prompt": "hi"}},
        ],
        "c-background": [
            {"do": "create_session", "as": "s", "with": {"agent": "echo"}},
            {"do": "turn", "session": "s", "as": "t", "with": {"prompt": "later", "background": True}},
            {"do": "await", "with": {"turn": "t"}},
            {"do": "wait_activity", "session": "s", "with": {"activity": "running", "timeout_ms": 100}},
        ],
    }
    for sid, body in steps.items():
        (scenarios / f"{sid}.yaml").write_text(yaml.safe_dump({"id": sid, "steps": body}), encoding="utf-8")
    out = tmp_path / "result-bad.json"
    done = run_runner(server.url, server, out, scenarios=scenarios)
    assert done.returncode == 0, done.stderr
    a, b, c = json.loads(out.read_text(encoding="utf-8"))["scenarios"]
    assert [o["step"] for o in a["observations"]] == [1]
    assert a["aborted"] == "step 2 (turn): turn takes no promt"
    assert b["observations"][0]["error"]["kind"] == "validation"
    assert b["observations"][0]["error"]["code"] == "unknown_agent"
    assert "names no session" in b["aborted"]
    background, awaited, waited = c["observations"][1:]
    assert background == {"step": 2, "do": "turn", "error": None}, "observed by its await"
    assert awaited["text"] == "later"
    assert awaited["value"]["turn_index"] == 1
    assert waited["error"]["kind"] == "timeout"
    assert c["aborted"] is None


def test_a_bad_command_line_exits_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--base-url", "http://127.0.0.1:1", "--out", str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--token" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_scenario_file_that_breaks_the_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("id: x\nsteps: [{do: health, wiht: {}}]\n", encoding="utf-8")
    with pytest.raises(runner.ScenarioFileError, match="unknown keys"):
        runner.load_scenarios(tmp_path)
    (tmp_path / "x.yaml").write_text("id: y\nsteps: [{do: health}]\n", encoding="utf-8")
    with pytest.raises(runner.ScenarioFileError, match="not the file's name"):
        runner.load_scenarios(tmp_path)


def _status_error(cls: type[agentsession.APIStatusError], status: int, code: str | None) -> BaseException:
    return cls("x", status_code=status, method="GET", url="http://x.test/v1", code=code)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_status_error(agentsession.AuthenticationError, 401, "unauthorized"), "auth"),
        (_status_error(agentsession.PermissionDeniedError, 403, None), "auth"),
        (_status_error(agentsession.NotFoundError, 404, "not_found"), "not_found"),
        (_status_error(agentsession.BusyError, 409, "turn_queue_full"), "busy"),
        (_status_error(agentsession.InvalidTransitionError, 409, "invalid_transition"), "invalid_transition"),
        (_status_error(agentsession.SessionPausedError, 409, "session_paused"), "session_paused"),
        (_status_error(agentsession.SessionEndedError, 409, "session_ended"), "session_ended"),
        (_status_error(agentsession.SpawnLimitError, 409, "spawn_limit_exceeded"), "spawn_limit"),
        (_status_error(agentsession.ConflictError, 409, "idempotency_in_progress"), "conflict"),
        (_status_error(agentsession.PayloadTooLargeError, 413, "payload_too_large"), "too_large"),
        (_status_error(agentsession.BadRequestError, 400, "invalid_request"), "validation"),
        (_status_error(agentsession.UnprocessableEntityError, 422, "unknown_agent"), "validation"),
        (_status_error(agentsession.RateLimitError, 429, "rate_limited"), "rate_limited"),
        (_status_error(agentsession.InternalServerError, 503, None), "server"),
        (_status_error(agentsession.APIStatusError, 405, "method_not_allowed"), "untyped"),
        (agentsession.APIConnectionError("x", method="GET", url="u"), "transport"),
        (agentsession.APITimeoutError("x", method="GET", url="u"), "transport"),
        (
            agentsession.StreamLostError("x", method="POST", url="u", turn_index=1, last_seq=2, resumes=5),
            "transport",
        ),
        (agentsession.APIResponseValidationError("x", status_code=200, body=b"", method="GET", url="u"), "untyped"),
        (runner.WaitTimeout("slow"), "timeout"),
        (ValueError("a bug"), "untyped"),
    ],
)
def test_errors_map_to_the_readme_kinds_by_class(error: BaseException, kind: str) -> None:
    record = runner.error_record(error)
    assert record["kind"] == kind
    if isinstance(error, agentsession.APIStatusError):
        assert record["status"] == error.status_code
        assert record["code"] == (error.code or "")
    else:
        assert (record["status"], record["code"]) == (0, "")
