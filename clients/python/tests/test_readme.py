"""Every Python snippet of README.md runs as written against the reference server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Server

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)

# What each snippet must print (lines of its output, in this order).
EXPECTED: dict[int, list[str]] = {
    0: ["turn 1 (end_turn): Hello", "turn 2 (end_turn): Summarise the open pull requests."],
    1: [
        "404 not_found True",
        "UnprocessableEntityError True",
        "SessionPausedError session_paused",
        "AuthenticationError True",
    ],
    2: ["hi"],
    3: ["Hello, stream", "end_turn 0"],
    4: ["['one', 'two']", "['three']", "[1, 2, 3]"],
    5: [
        "paused ['schema migrated']",
        "True {'current_task': 'tests'}",
        "1 entry, 1 checkpoint, 0 decisions, 0 errors.",
        "True",
    ],
    6: ["asked: Drop the table orders_old? ['allow', 'deny']", "Kept it.", "Dropped.", "Dropped."],
    7: [
        "[(2, 1)]",
        "cancelled",
        "{'ticket': 'OPS-42'}",
        "['turn_started 1', 'turn_queued 2', 'turn_ended 2', 'turn_ended 1']",
        "closed 2.5",
    ],
}


def test_the_readme_has_the_snippets_this_test_expects() -> None:
    assert len(SNIPPETS) == len(EXPECTED)


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs(server: Server, index: int) -> None:
    env = {**os.environ, "AGENTSESSION_BASE_URL": server.url, "AGENTSESSION_TOKEN": server.tokens[0]}
    done = subprocess.run(
        [sys.executable, "-c", SNIPPETS[index]], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line in EXPECTED[index]] == EXPECTED[index], done.stdout
