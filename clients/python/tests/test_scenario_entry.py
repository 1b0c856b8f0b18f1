"""The scenario runner's entry maps operations onto the SDK and reports typed errors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from agentsession._scenario import run_steps

from .conftest import Server, script, text_step


def test_steps_run_in_order_with_typed_errors(server: Server) -> None:
    slow = script(text_step("a"), text_step("b", delay_ms=800))
    steps: list[dict[str, Any]] = [
        {"op": "create_session", "as": "s", "args": {"agent": "scripted"}},
        {"op": "turn", "session": "s", "args": {"prompt": script(text_step("hi"))}},
        {"op": "turn_stream", "session": "s", "args": {"prompt": slow}},
        {"op": "pause", "session": "s"},
        {"op": "turn", "session": "s", "args": {"prompt": "x"}},
        {"op": "get_session", "args": {"session_id": "sess_nope"}},
        {"op": "no_such_op"},
        {"op": "close", "session": "s"},
        {"op": "close", "session": "s"},
    ]
    with server.client() as c:
        records = run_steps(c, steps)
    assert [r["ok"] for r in records] == [True, True, True, True, False, False, False, True, True]
    assert records[1]["result"]["text"] == "hi"
    assert records[2]["result"]["seqs"] == [2, 3]
    assert records[2]["result"]["resumes"] == 0
    assert records[3]["result"] == {"status": "paused"}
    assert records[4]["error"]["class"] == "SessionPausedError"
    assert records[4]["error"]["code"] == "session_paused"
    assert records[5]["error"]["status"] == 404
    assert records[6]["error"]["class"] == "ValueError"
    assert records[8]["result"] == {"already_closed": False}, "the handle's close is idempotent"


def test_command_line(server: Server) -> None:
    doc = {
        "base_url": server.url,
        "token": server.tokens[0],
        "steps": [
            {"op": "create_session", "as": "s", "args": {"agent": "echo"}},
            {"op": "turn", "session": "s", "args": {"prompt": "hello"}},
        ],
    }
    done = subprocess.run(
        [sys.executable, "-m", "agentsession._scenario"],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    records = json.loads(done.stdout)
    assert records[1]["result"]["text"] == "hello"
