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

# What each snippet must print (a line of its output, in order of the README).
EXPECTED = {
    0: "turn 2 (end_turn): Summarise the open pull requests.",
    1: "404 not_found True",
    2: "hi",
    3: "end_turn 0",
    4: "['one', 'two']",
    5: "paused ['schema migrated']",
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
    assert EXPECTED[index] in done.stdout.splitlines(), done.stdout
