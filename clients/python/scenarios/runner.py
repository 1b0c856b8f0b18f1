"""The Python SDK's scenario runner (scenarios/README.md, the format's specification).

    clients/python/.venv/bin/python clients/python/scenarios/runner.py \\
        --base-url URL --token TOKEN --token2 TOKEN2 --run RUN_ID \\
        --scenarios scenarios --out result.json [--only ID]

It runs the scenarios of a directory, in file-name order, through the SDK's
public API (the sync ``agentsession.Client``, default options, retries on) and
writes one result file in the common format. Expectations are the
orchestrator's to check, never the runner's. A failed step is an observation
with its error mapped through the SDK's exception classes to the README's
kinds; a step the runner cannot carry out as written (an unknown ``do`` or
``with`` member, an alias that names nothing) ends its scenario (``aborted``).
Exit status: 0 when the scenarios ran (whatever their outcome), 1 when the
scenario files cannot be read or the result cannot be written, 2 on a bad
command line. Neither token is ever written to the result or the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import yaml

import agentsession
from agentsession import Client, Session, types

SDK_NAME = "py"  # the orchestrator's name for this runner (SCENARIO_SDKS=go,ts,py)
# A step that takes longer is a failed step, not a stuck run (the Go runner's bound too);
# a background turn gets ten times as long.
STEP_TIMEOUT = 60.0
BACKGROUND_TIMEOUT = 10 * STEP_TIMEOUT
POLL_INTERVAL = 0.02
DEFAULT_WAIT_MS = 5000
BAD_TOKEN = "scenario-bad-token"  # noqa: S105 (a token no server knows, by design)
REDACTED = "[REDACTED]"
RUN_PLACEHOLDER = "${run}"

CLIENTS = ("default", "other_tenant", "bad_token")
SCENARIO_KEYS = {"id", "title", "faults", "steps"}
STEP_KEYS = {"do", "session", "with", "as", "client", "expect", "expect_error"}
KINDS = (
    "auth",
    "not_found",
    "busy",
    "invalid_transition",
    "session_paused",
    "session_ended",
    "spawn_limit",
    "permission_required",
    "permission_resolved",
    "turn_ended",
    "conflict",
    "too_large",
    "validation",
    "rate_limited",
    "server",
    "transport",
    "timeout",
    "untyped",
)

# The README's error table, in its order: the first class that matches is the kind.
ERROR_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (agentsession.AuthError, "auth"),
    (agentsession.NotFoundError, "not_found"),
    (agentsession.BusyError, "busy"),
    (agentsession.InvalidTransitionError, "invalid_transition"),
    (agentsession.SessionPausedError, "session_paused"),
    (agentsession.SessionEndedError, "session_ended"),
    (agentsession.SpawnLimitError, "spawn_limit"),
    # A non-streamed turn whose agent asked, without a handler (not an HTTP error: a 202).
    (agentsession.PermissionRequiredError, "permission_required"),
    (agentsession.PermissionResolvedError, "permission_resolved"),
    (agentsession.TurnEndedError, "turn_ended"),
    (agentsession.ConflictError, "conflict"),
    (agentsession.PayloadTooLargeError, "too_large"),
    (agentsession.ValidationError, "validation"),
    (agentsession.RateLimitError, "rate_limited"),
    (agentsession.InternalServerError, "server"),
    # No answer, including a stream the SDK gave up resuming (StreamLostError).
    (agentsession.APIConnectionError, "transport"),
)

TURN_ARGS = {"prompt", "script", "prompt_size", "files", "timeout_ms", "busy_policy", "idempotency_key", "meta"}

# The `with` members each operation takes (README "Operations").
ALLOWED_ARGS: dict[str, set[str]] = {
    "health": set(),
    "capabilities": set(),
    "create_session": {"agent", "meta", "plan_slug", "context", "agent_options"},
    "get_session": {"session_id"},
    "list_sessions": {"status", "agent", "plan_slug", "limit"},
    "close_session": set(),
    "turn": TURN_ARGS | {"background", "on_permission"},
    "turn_stream": TURN_ARGS | {"answer"},
    "await": {"turn", "stream"},
    "cancel": set(),
    "wait_activity": {"activity", "timeout_ms", "queued_turns"},
    "history": {"status"},
    "events": {"after"},
    "pause": set(),
    "resume": set(),
    "end": {"status", "summary"},
    "continue": {"agent", "meta", "plan_slug"},
    "handoff": {"summary", "next_steps", "blockers", "context_for_next"},
    "handoff_context": set(),
    "log": {"type", "message", "message_size", "data"},
    "log_entries": {"type", "order"},
    "add_artifact": {"path", "action", "metadata"},
    "artifacts": {"action"},
    "update_context": {"patch"},
    "replay_context": set(),
    "replay": {"agent", "meta"},
    "spawn": {"agent", "meta"},
    "children": set(),
    "upload": {"filename", "content_type", "content"},
    "answer_permission": {"request_id", "option_id"},
    "permissions": {"status"},
    "cancel_turn": {"turn_index"},
    "lifecycle_events": {"after"},
    "session_stream": {"after", "background"},
}
# Operations a step may start in the background (`background: true`, named by `as`).
BACKGROUND = {"turn", "session_stream"}
# Operations that need no session alias.
SESSIONLESS = {"health", "capabilities", "create_session", "get_session", "list_sessions", "await", "upload"}
# Operations whose result is a session the step may name with `as`.
MAKES_SESSION = {"create_session", "continue", "replay", "spawn"}


class BadStep(Exception):
    """A step the runner cannot carry out as written: the scenario's mistake (or an
    earlier step's), not the SDK's; it ends the scenario."""


class ScenarioFileError(Exception):
    """A scenario file that does not follow the format."""


class WaitTimeout(Exception):
    """wait_activity gave up (kind ``timeout``)."""


class StepTimeout(Exception):
    """The SDK call did not return within the runner's bound (kind ``untyped``)."""


# --- observations -----------------------------------------------------------------------


@dataclass
class Outcome:
    """What one SDK call returned: a JSON value (and a turn's text), or an error."""

    value: Any = None
    text: str | None = None
    error: BaseException | None = None


def error_kind(error: BaseException) -> str:
    """The README's kind of an error, by the SDK's exception classes (never by its message)."""
    if isinstance(error, WaitTimeout):
        return "timeout"
    return next((kind for cls, kind in ERROR_KINDS if isinstance(error, cls)), "untyped")


def error_record(error: BaseException) -> dict[str, Any]:
    """The observation's error: kind, HTTP status (0 without an answer), problem code
    ("" without one) and, for people reading a report, the message."""
    api = error if isinstance(error, agentsession.APIStatusError) else None
    kind = error_kind(error)
    return {
        "kind": kind,
        "status": api.status_code if api else 0,
        "code": (api.code or "") if api else "",
        "message": str(error) if kind != "untyped" else f"{type(error).__name__}: {error}",
    }


def plain(value: Any) -> str:
    """An enum member's value, or the value itself, as text."""
    return str(getattr(value, "value", value))


class Model(Protocol):
    """What every model of the SDK offers (agentsession.types)."""

    def to_dict(self) -> dict[str, Any]: ...


def model_json(model: Model) -> Any:
    """A model as the contract's JSON: what it holds, serialized back to wire JSON
    (unknown members and values kept)."""
    return model.to_dict()


def items(models: Iterable[Model]) -> dict[str, Any]:
    return {"items": [model_json(m) for m in models]}


def turn_outcome(result: agentsession.TurnResult) -> Outcome:
    return Outcome(model_json(result), result.text())


# --- substitutions -----------------------------------------------------------------------


def substitute(value: Any, run: str) -> Any:
    """value with ``${run}`` replaced in every string (keys excepted)."""
    if isinstance(value, str):
        return value.replace(RUN_PLACEHOLDER, run)
    if isinstance(value, dict):
        return {k: substitute(v, run) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, run) for v in value]
    return value


def whole(args: Mapping[str, Any], name: str) -> int:
    value = args.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadStep(f"{name} must be a whole number, got {value!r}")
    return value


def size_arg(args: dict[str, Any], name: str) -> int:
    size = args.pop(name)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise BadStep(f"{name} must be a whole number >= 0, got {size!r}")
    return size


# --- running ------------------------------------------------------------------------------


class Worker:
    """A call on its own daemon thread, so that a call that hangs is bounded: after
    the timeout the step fails and the run goes on (the call is left to finish)."""

    def __init__(self, fn: Callable[[], Outcome]) -> None:
        self._fn = fn
        self._done: Outcome | BadStep | None = None
        self.thread = threading.Thread(target=self._target, daemon=True)
        self.thread.start()

    def _target(self) -> None:
        try:
            self._done = self._fn()
        except BadStep as e:
            self._done = e
        except Exception as e:  # every failure of the SDK is an observation
            self._done = Outcome(error=e)

    def wait(self, timeout: float) -> Outcome:
        self.thread.join(timeout)
        if isinstance(self._done, BadStep):
            raise self._done
        if self._done is None:
            return Outcome(error=StepTimeout(f"the call did not return within {timeout:.0f} s"))
        return self._done


class Clients:
    """One SDK client per token, and per client one handle per session id, so that a
    session's turns go through one handle as a user's would."""

    def __init__(self, base_url: str, token: str, token2: str) -> None:
        tokens = {"default": token, "other_tenant": token2, "bad_token": BAD_TOKEN}
        self.clients = {name: Client(base_url=base_url, token=tok) for name, tok in tokens.items()}
        self._handles: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()

    def handle(self, client: str, session_id: str) -> Session:
        with self._lock:
            key = (client, session_id)
            if key not in self._handles:
                self._handles[key] = self.clients[client].sessions.handle(session_id)
            return self._handles[key]

    def keep(self, client: str, session: Session) -> None:
        with self._lock:
            self._handles[(client, session.id)] = session

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


class ScenarioRun:
    """One scenario's steps, its aliases and its background turns."""

    def __init__(self, clients: Clients, scenario: Mapping[str, Any], run: str) -> None:
        self.clients = clients
        self.scenario = scenario
        self.run = run
        self.sessions: dict[str, str] = {}  # alias -> session id
        self.files: dict[str, str] = {}  # alias -> file token
        self.background: dict[str, Worker] = {}  # alias -> the turn started with background: true
        self.streams: dict[str, Worker] = {}  # alias -> the session stream started with background: true

    def execute(self) -> dict[str, Any]:
        observations: list[dict[str, Any]] = []
        aborted: str | None = None
        try:
            for number, step in enumerate(self.scenario["steps"], start=1):
                try:
                    observations.append(self.step(number, step))
                except BadStep as e:
                    aborted = f"step {number} ({step.get('do')}): {e}"
                    break
        finally:
            self.drain()
        return {"id": self.scenario["id"], "observations": observations, "aborted": aborted}

    def drain(self) -> None:
        """Wait for the background turns nobody awaited, so that they never run
        into the next scenario. A session stream nobody awaited is left to end
        with its session (or with the scenario's clients, which are closed):
        it changes nothing on the server."""
        for turn in self.background.values():
            turn.thread.join(BACKGROUND_TIMEOUT)

    def step(self, number: int, step: Mapping[str, Any]) -> dict[str, Any]:
        do = str(step["do"])
        observation: dict[str, Any] = {"step": number, "do": do}
        if do not in ALLOWED_ARGS:
            raise BadStep(f"unknown operation {do!r}")
        args = substitute(dict(step.get("with") or {}), self.run)
        unknown = sorted(set(args) - ALLOWED_ARGS[do])
        if unknown:
            raise BadStep(f"{do} takes no {', '.join(unknown)}")
        client = str(step.get("client") or "default")
        alias = step.get("as")
        session = self.session_of(step, client, do)
        if do in MAKES_SESSION:
            args["meta"] = {
                **(args.get("meta") or {}),
                "scenario": self.scenario["id"],
                "run": self.run,
                **({"alias": alias} if alias else {}),
            }
        if do in ("turn", "turn_stream"):
            self.resolve_turn(args)

        if do in BACKGROUND and args.pop("background", False):
            if not alias:
                raise BadStep(f"a background {do} needs `as`")
            started = self.background if do == "turn" else self.streams
            started[str(alias)] = Worker(self.operation(do, client, session, args))
            observation["error"] = None  # neither value nor error: the await observes it
            return observation
        args.pop("background", None)
        if do == "await":
            outcome = self.awaited(args)
        else:
            outcome = Worker(self.operation(do, client, session, args)).wait(STEP_TIMEOUT)

        if outcome.error is not None:
            observation["error"] = error_record(outcome.error)
            return observation
        observation["value"] = outcome.value
        if outcome.text is not None:
            observation["text"] = outcome.text
        observation["error"] = None
        if alias:
            self.remember(do, str(alias), outcome.value)
        return observation

    def awaited(self, args: Mapping[str, Any]) -> Outcome:
        """The outcome of the background turn (`turn`) or session stream (`stream`) named."""
        if len(args) != 1:
            raise BadStep("await takes exactly one of turn, stream")
        kind, name = next(iter(args.items()))
        started = self.background if kind == "turn" else self.streams
        worker = started.pop(name, None) if isinstance(name, str) else None
        if worker is None:
            raise BadStep(f"no background {'turn' if kind == 'turn' else 'session stream'} {name!r}")
        return worker.wait(BACKGROUND_TIMEOUT)

    def session_of(self, step: Mapping[str, Any], client: str, do: str) -> Session | None:
        alias = step.get("session")
        if alias is None:
            if do not in SESSIONLESS:
                raise BadStep(f"{do} needs a session")
            return None
        session_id = self.sessions.get(str(alias))
        if session_id is None:
            raise BadStep(f"session alias {alias!r} names no session (the step that made it failed or is missing)")
        return self.clients.handle(client, session_id)

    def remember(self, do: str, alias: str, value: Any) -> None:
        if not isinstance(value, dict):
            return
        if do in MAKES_SESSION and isinstance(value.get("session_id"), str):
            self.sessions[alias] = value["session_id"]
        elif do == "upload" and isinstance(value.get("file_token"), str):
            self.files[alias] = value["file_token"]

    def resolve_turn(self, args: dict[str, Any]) -> None:
        """script and prompt_size become the prompt, file aliases their tokens."""
        given = [k for k in ("prompt", "script", "prompt_size") if k in args]
        if len(given) != 1:
            raise BadStep("a turn needs exactly one of prompt, script, prompt_size")
        if "script" in args:
            args["prompt"] = json.dumps(args.pop("script"), separators=(",", ":"), ensure_ascii=False)
        if "prompt_size" in args:
            args["prompt"] = "x" * size_arg(args, "prompt_size")
        if "files" in args:
            aliases = args["files"]
            if not isinstance(aliases, list):
                raise BadStep("files must be a list of upload aliases")
            missing = [a for a in aliases if a not in self.files]
            if missing:
                raise BadStep(f"file alias {missing[0]!r} names no upload")
            args["files"] = [self.files[a] for a in aliases]

    # --- the operations, through the SDK's public API ---------------------------------------

    def operation(self, do: str, client_name: str, s: Session | None, a: dict[str, Any]) -> Callable[[], Outcome]:
        c = self.clients.clients[client_name]

        def need() -> Session:
            assert s is not None  # session_of refused a step without one
            return s

        def created(session: Session) -> Outcome:
            self.clients.keep(client_name, session)
            assert session.info is not None
            return Outcome(model_json(session.info))

        def info(model: types.Session) -> Outcome:
            return Outcome(model_json(model))

        def get_session() -> Outcome:
            if "session_id" in a:
                got = c.sessions.get(str(a["session_id"]))
                assert got.info is not None
                return Outcome(model_json(got.info))
            if s is None:
                raise BadStep("get_session needs a session or a session_id")
            return info(s.refresh())

        def turn() -> Outcome:
            if "on_permission" in a:
                option_id = str(a.pop("on_permission"))
                return turn_outcome(need().turn(**a, on_permission=lambda _request: option_id))
            return turn_outcome(need().turn(**a))

        def turn_stream() -> Outcome:
            answer = a.pop("answer", None)
            events = []
            with need().turn_stream(**a) as stream:
                for event in stream:
                    events.append(model_json(event))
                    if answer is not None and isinstance(event, agentsession.PermissionRequestEvent):
                        event.answer(str(answer))  # through the SDK's method on the event
            result = stream.get_final_result()
            return Outcome({"events": events, "result": model_json(result)}, result.text())

        def session_stream() -> Outcome:
            frames = []
            with need().stream(**a) as stream:
                for item in stream:
                    kind = "lifecycle" if isinstance(item, agentsession.LifecycleEvent) else "event"
                    frames.append({kind: model_json(item)})
            final = stream.session
            return Outcome({"frames": frames, "session": model_json(final) if final is not None else None})

        def log() -> Outcome:
            if "message_size" in a:
                a["message"] = "x" * size_arg(a, "message_size")
            return Outcome(model_json(need().log(a.pop("type", None), a.pop("message", None), **a)))

        def upload() -> Outcome:
            content = a.get("content", "")
            if not isinstance(content, str):
                raise BadStep("upload's content is text")
            file = c.files.upload(content.encode(), filename=a.get("filename"), content_type=a.get("content_type"))
            return Outcome(model_json(file))

        ops: dict[str, Callable[[], Outcome]] = {
            "health": lambda: Outcome(model_json(c.health())),
            "capabilities": lambda: Outcome(model_json(c.capabilities())),
            "create_session": lambda: created(c.sessions.create(**a)),
            "get_session": get_session,
            "list_sessions": lambda: Outcome({"items": [model_json(x.info) for x in c.sessions.list(**a) if x.info]}),
            # By id: a Session handle's close() answers a repeat from memory, and the
            # scenario observes the server's answer (already_closed) every time.
            "close_session": lambda: Outcome(model_json(c.sessions.close(need().id))),
            "turn": turn,
            "turn_stream": turn_stream,
            "cancel": lambda: Outcome(model_json(need().cancel())),
            "wait_activity": lambda: self.wait_activity(need(), a),
            "history": lambda: Outcome(items(need().history(**a))),
            "events": lambda: Outcome(items(need().events(**a))),
            "pause": lambda: info(need().pause()),
            "resume": lambda: info(need().resume()),
            "end": lambda: info(need().end(a.pop("status", "completed"), **a)),
            "continue": lambda: created(need().continue_(**a)),
            "handoff": lambda: info(need().handoff(a.pop("summary", None), **a)),
            "handoff_context": lambda: Outcome(model_json(need().handoff_context())),
            "log": log,
            "log_entries": lambda: Outcome(items(need().log_entries(**a))),
            "add_artifact": lambda: Outcome(
                model_json(need().add_artifact(a.pop("path", None), a.pop("action", None), **a))
            ),
            "artifacts": lambda: Outcome(items(need().artifacts(**a))),
            "update_context": lambda: info(need().update_context(a.get("patch") or {})),
            "replay_context": lambda: Outcome(model_json(need().replay_context())),
            "replay": lambda: created(need().replay(**a)),
            "spawn": lambda: created(need().spawn(**a)),
            "children": lambda: Outcome({"items": [model_json(x.info) for x in need().children() if x.info]}),
            "upload": upload,
            "answer_permission": lambda: Outcome(
                model_json(need().answer_permission(str(a.get("request_id")), str(a.get("option_id"))))
            ),
            "permissions": lambda: Outcome(items(need().permissions(**a))),
            "cancel_turn": lambda: Outcome(model_json(need().cancel_turn(whole(a, "turn_index")))),
            "lifecycle_events": lambda: Outcome(items(need().lifecycle_events(**a))),
            "session_stream": session_stream,
        }
        return ops[do]

    def wait_activity(self, session: Session, a: Mapping[str, Any]) -> Outcome:
        """Get the session every 20 ms until its activity (and/or its
        queued_turns) is the one asked for."""
        wanted = a.get("activity")
        queued = a.get("queued_turns")
        if wanted is None and queued is None:
            raise BadStep("wait_activity needs activity or queued_turns")
        timeout_ms = a.get("timeout_ms", DEFAULT_WAIT_MS)
        if not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or timeout_ms <= 0:
            raise BadStep(f"timeout_ms must be a whole number > 0, got {timeout_ms!r}")
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            got = session.refresh()
            if (wanted is None or got.activity == wanted) and (queued is None or got.queued_turns == queued):
                return Outcome(model_json(got))
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"the session's activity was {plain(got.activity)} and queued_turns {got.queued_turns} "
                    f"for {timeout_ms} ms, not {wanted} / {queued}"
                )
            time.sleep(POLL_INTERVAL)


# --- files ---------------------------------------------------------------------------------


def load_scenarios(directory: Path) -> list[dict[str, Any]]:
    """Every scenario of directory, in file-name order, checked against the format."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ScenarioFileError(f"no scenarios (*.yaml) in {directory}")
    seen: set[str] = set()
    out = []
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ScenarioFileError(f"{path}: {e}") from None
        out.append(check_scenario(path, doc))
        if doc["id"] in seen:
            raise ScenarioFileError(f"{path}: scenario id {doc['id']!r} used twice")
        seen.add(doc["id"])
    return out


def check_scenario(path: Path, doc: Any) -> dict[str, Any]:
    def bad(why: str) -> NoReturn:
        raise ScenarioFileError(f"{path}: {why}")

    if not isinstance(doc, dict):
        bad("not a mapping")
    if extra := sorted(set(doc) - SCENARIO_KEYS):
        bad(f"unknown keys {extra}")
    if doc.get("id") != path.stem:
        bad(f"id {doc.get('id')!r} is not the file's name")
    steps = doc.get("steps")
    if not isinstance(steps, list) or not steps:
        bad("no steps")
    for n, step in enumerate(steps, start=1):
        if not isinstance(step, dict) or not step.get("do"):
            bad(f"step {n} has no `do`")
        if extra := sorted(set(step) - STEP_KEYS):
            bad(f"step {n}: unknown keys {extra}")
        if step.get("client", "default") not in CLIENTS:
            bad(f"step {n}: unknown client {step.get('client')!r}")
        if step.get("expect_error") is not None and step.get("expect_error") not in KINDS:
            bad(f"step {n}: unknown error kind {step.get('expect_error')!r}")
        if not isinstance(step.get("with") or {}, dict):
            bad(f"step {n}: `with` is not a mapping")
    return doc


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="runner.py", description="Run the cross-language scenarios through the Python SDK."
    )
    parser.add_argument("--base-url", required=True, help="the server's base URL")
    parser.add_argument("--token", required=True, help="the first tenant's token")
    parser.add_argument("--token2", required=True, help="the second tenant's token")
    parser.add_argument("--run", required=True, help="the run id, substituted for ${run}")
    parser.add_argument("--scenarios", required=True, type=Path, help="the directory of scenario files")
    parser.add_argument("--out", required=True, type=Path, help="the result file to write")
    parser.add_argument("--only", help="run only the scenario with this id")
    return parser.parse_args(argv)  # exits 2 on a bad command line


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    secrets = (args.token, args.token2)
    try:
        scenarios = load_scenarios(args.scenarios)
    except ScenarioFileError as e:
        print(f"runner.py: {e}", file=sys.stderr)
        return 1
    if args.only is not None:
        scenarios = [s for s in scenarios if s["id"] == args.only]
        if not scenarios:
            print(f"runner.py: no scenario {args.only!r} in {args.scenarios}", file=sys.stderr)
            return 2
    results = []
    for s in scenarios:
        # Fresh clients per scenario (scenarios/README.md): no retry budget or turn
        # order carries over from one scenario into the next.
        try:
            clients = Clients(args.base_url, args.token, args.token2)
        except agentsession.AgentSessionError as e:
            print(redact(f"runner.py: {e}", secrets), file=sys.stderr)
            return 2
        try:
            results.append(ScenarioRun(clients, s, args.run).execute())
        finally:
            clients.close()
    result = {"sdk": SDK_NAME, "sdk_version": agentsession.__version__, "run": args.run, "scenarios": results}
    text = redact(json.dumps(result, indent=2, ensure_ascii=False, default=str), secrets)
    try:
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as e:
        print(f"runner.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
