"""Fixtures: the reference server (built and started by the tests) and mock transports."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import agentsession

REPO = Path(__file__).resolve().parents[3]
TOKEN = "tok-alpha-7f3c9d"
TOKEN2 = "tok-bravo-1b8e4a"


@dataclass
class Server:
    url: str
    tokens: tuple[str, str]
    process: subprocess.Popen[str]

    def client(self, **kwargs: Any) -> agentsession.Client:
        kwargs.setdefault("token", self.tokens[0])
        return agentsession.Client(base_url=self.url, **kwargs)

    def async_client(self, **kwargs: Any) -> agentsession.AsyncClient:
        kwargs.setdefault("token", self.tokens[0])
        return agentsession.AsyncClient(base_url=self.url, **kwargs)


@pytest.fixture(scope="session")
def server_binary() -> Iterator[Path]:
    go = shutil.which("go")
    if go is None:
        pytest.fail("the integration tests need Go to build the reference server (cmd/agentsession-server)")
    out = Path(tempfile.mkdtemp(prefix="agentsession-py-")) / "agentsession-server"
    subprocess.run([go, "build", "-o", str(out), "./cmd/agentsession-server"], cwd=REPO, check=True)
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)


def start_server(binary: Path, *args: str) -> Server:
    proc = subprocess.Popen(
        [
            str(binary),
            "-addr",
            "127.0.0.1:0",
            "-db",
            ":memory:",
            "-tokens",
            f"{TOKEN},{TOKEN2}",
            "-log-level",
            "error",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        line = lines.get(timeout=30)
    except queue.Empty:
        proc.kill()
        raise RuntimeError("the reference server did not say it was listening") from None
    prefix = "listening on "
    assert line.startswith(prefix), line
    return Server(url=line[len(prefix) :].strip(), tokens=(TOKEN, TOKEN2), process=proc)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    if server.process.stdout is not None:
        server.process.stdout.close()


@pytest.fixture(scope="session")
def server(server_binary: Path) -> Iterator[Server]:
    srv = start_server(server_binary)
    yield srv
    stop_server(srv)


@pytest.fixture
def client(server: Server) -> Iterator[agentsession.Client]:
    with server.client() as c:
        yield c


def script(*steps: dict[str, Any], stop_reason: str | None = None) -> str:
    """An AgentScript prompt for the scripted agent."""
    doc: dict[str, Any] = {"steps": list(steps)}
    if stop_reason:
        doc["stop_reason"] = stop_reason
    return json.dumps(doc)


def text_step(content: str, delay_ms: int = 0) -> dict[str, Any]:
    return {"delay_ms": delay_ms, "event": {"type": "text", "content": content}}


# --- mock transports ---------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport handler that answers from a list and keeps every request."""

    answers: list[Handler | httpx.Response | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            # A fresh copy: a response's body can be read once.
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return answer(request)


class Sleeps(list[float]):
    """Stands in for time.sleep: records the waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def mock_client(recorder: Recorder, **kwargs: Any) -> tuple[agentsession.Client, Sleeps]:
    kwargs.setdefault("token", TOKEN)
    c = agentsession.Client(base_url="http://agentsession.test", transport=httpx.MockTransport(recorder), **kwargs)
    sleeps = Sleeps()
    c._sleep = sleeps  # type: ignore[assignment]
    return c, sleeps


def problem(
    status: int, code: str, detail: str = "", *, headers: dict[str, str] | None = None, **extra: Any
) -> httpx.Response:
    body = {
        "type": f"https://agentsession.dev/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": "req_1",
        **extra,
    }
    return httpx.Response(
        status,
        json=body,
        headers={"Content-Type": "application/problem+json", "X-Request-Id": "req_1", **(headers or {})},
    )


SESSION = {
    "session_id": "sess_1",
    "agent": "echo",
    "status": "active",
    "activity": "idle",
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
}


def event(seq: int, content: str = "", *, turn_index: int = 1, type: str = "text", **extra: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "turn_index": turn_index,
        "type": type,
        "content": content,
        "created_at": "2026-11-21T10:00:01.123456789Z",
        **extra,
    }


def summary(first: int, last: int, *, turn_index: int = 1, stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "session_id": "sess_1",
        "turn_index": turn_index,
        "stop_reason": stop_reason,
        "duration_ms": 5,
        "event_count": last - first + 1,
        "first_seq": first,
        "last_seq": last,
        "started_at": "2026-11-21T10:00:00Z",
        "ended_at": "2026-11-21T10:00:02Z",
    }


def turn_result(*events: dict[str, Any]) -> dict[str, Any]:
    seqs = [e["seq"] for e in events] or [1]
    return {**summary(min(seqs), max(seqs)), "events": list(events)}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose base URL and token themselves."""
    monkeypatch.delenv("AGENTSESSION_BASE_URL", raising=False)
    monkeypatch.delenv("AGENTSESSION_TOKEN", raising=False)
