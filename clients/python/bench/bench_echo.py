"""The SDK's echo turn against raw httpx on one reference server, interleaved.

    make py-bench                      # or: .venv/bin/python bench/bench_echo.py [--rounds 40] [--turns 100]

Builds and starts the reference server (in-memory store), then runs rounds;
each round times ``--turns`` echo turns through ``Session.turn`` and as many
through a plain ``httpx.Client`` (same headers, a fresh Idempotency-Key per
turn, the JSON decoded, the text joined), in ABBA order (which goes first
alternates every two rounds). It prints the median time per turn of each, the
ratio of the medians, and the median and quartiles of the per-round ratios
(the target: SDK within 1.10x). The machine's load moves both; the paired
ratio of short rounds is the steadier number.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

import agentsession

REPO = Path(__file__).resolve().parents[3]
TOKEN = "tok-bench-5c1e"


def start_server(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    binary = tmp / "agentsession-server"
    subprocess.run(["go", "build", "-o", str(binary), "./cmd/agentsession-server"], cwd=REPO, check=True)
    proc = subprocess.Popen(
        [str(binary), "-addr", "127.0.0.1:0", "-db", ":memory:", "-tokens", TOKEN, "-log-level", "error"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line
    return proc, line.removeprefix("listening on ").strip()


def per_turn(fn: Callable[[], object], turns: int) -> float:
    began = time.perf_counter()
    for _ in range(turns):
        fn()
    return (time.perf_counter() - began) / turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="agentsession-bench-"))
    proc, url = start_server(tmp)
    try:
        with agentsession.Client(base_url=url, token=TOKEN) as client, httpx.Client() as raw:
            sdk_session = client.sessions.create(agent="echo")
            raw_session = client.sessions.create(agent="echo")
            raw_url = f"{url}/v1/sessions/{raw_session.id}/turns"
            headers = {
                "Authorization": f"Bearer {TOKEN}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": "bench",
            }
            body = json.dumps({"prompt": "hello"}).encode()

            def sdk_turn() -> object:
                return sdk_session.turn("hello").text()

            def raw_turn() -> object:
                r = raw.post(raw_url, content=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
                r.raise_for_status()
                return "".join(e.get("content", "") for e in r.json()["events"] if e["type"] == "text")

            assert sdk_turn() == raw_turn() == "hello"
            per_turn(sdk_turn, 200)  # warm up both
            per_turn(raw_turn, 200)
            sdk: list[float] = []
            plain: list[float] = []
            for i in range(args.rounds):
                pair = [(sdk, sdk_turn), (plain, raw_turn)]
                for results, fn in pair if i % 4 in (0, 3) else reversed(pair):
                    results.append(per_turn(fn, args.turns))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)

    sdk_median, raw_median = statistics.median(sdk), statistics.median(plain)
    print(f"rounds {args.rounds} x {args.turns} echo turns, interleaved")
    print(f"raw httpx   median {raw_median * 1e6:8.1f} us/turn  (min {min(plain) * 1e6:.1f})")
    print(f"SDK         median {sdk_median * 1e6:8.1f} us/turn  (min {min(sdk) * 1e6:.1f})")
    ratios = [a / b for a, b in zip(sdk, plain, strict=True)]
    q1, paired, q3 = statistics.quantiles(ratios, n=4)
    print(
        f"SDK / raw   {sdk_median / raw_median:.3f}x of the medians, {paired:.3f}x median of the rounds' ratios"
        f" (quartiles {q1:.3f}-{q3:.3f}; target <= 1.10x)"
    )


if __name__ == "__main__":
    main()
