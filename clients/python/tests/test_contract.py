"""The models against contract 1.1: unknown enum values decode and are kept, free-form
objects are dicts, problem codes are the contract's, and the generator refuses a
contract whose response enums are closed."""

from __future__ import annotations

import ast
import copy
import enum
import importlib.util
import json
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import agentsession
from agentsession import _exceptions, types
from agentsession._models import BaseModel, decode

from .conftest import REPO

FIXTURES = REPO / "gen" / "testdata" / "unknown-enums"
SDK_SOURCE = Path(agentsession.__file__).resolve().parent


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agentsession_generate", REPO / "clients/python/scripts/generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()
CONTRACT: dict[str, Any] = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
SCHEMAS: dict[str, Any] = CONTRACT["components"]["schemas"]


def _parts(name: str) -> list[str]:
    """name and the schemas its allOf is made of (as gen/openenum_test.go)."""
    return [name, *(generate._ref_name(p) for p in SCHEMAS[name].get("allOf", []))]


def _enum_members(name: str) -> dict[str, Any]:
    disc = generate.discriminators(SCHEMAS)
    out: dict[str, Any] = {}
    for part in _parts(name):
        for member, node in generate.enum_members(SCHEMAS, part).items():
            if f"{part}.{member}" not in disc:
                out[member] = node
    return out


def schemas_with_enums() -> list[str]:
    """The response schemas with an enum-valued member of their own (allOf parts
    included), frame discriminators aside: the schemas gen/openenum_test.go covers."""
    return [name for name in sorted(generate.response_schemas(CONTRACT)) if _enum_members(name)]


def _known(node: Any) -> set[str]:
    enum_name = generate.open_enum(SCHEMAS, node)
    return set(SCHEMAS[enum_name]["enum"])


def _same_json(got: Any, want: Any) -> bool:
    """Equal as JSON, timestamps compared as instants (pydantic writes its own digits)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_same_json(got[k], want[k]) for k in want)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_same_json(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(got, str) and isinstance(want, str) and got != want:
        try:
            return _instant(got) == _instant(want)
        except ValueError:
            return False
    return bool(got == want and type(got) is type(want))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))  # Python 3.10 has no "Z"


def test_every_schema_the_go_test_covers_has_a_fixture_and_nothing_else_does() -> None:
    names = schemas_with_enums()
    assert len(names) >= 16, f"only {names}: the walk is broken"
    files = sorted(p.stem for p in FIXTURES.glob("*.json"))
    missing = sorted(set(names) - set(files))
    assert not missing, f"no fixture in gen/testdata/unknown-enums for {missing}"
    assert files == names, "a fixture for a schema without an enum-valued member"


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_unknown_enum_fixture_decodes_with_every_value_kept(name: str) -> None:
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    fixture = json.loads(text)
    model_cls = getattr(types, name, None)
    assert isinstance(model_cls, type), f"no model for {name}"
    assert issubclass(model_cls, BaseModel), f"no model for {name}"
    model = decode(model_cls, fixture)  # the client's decoding path
    assert _same_json(model.to_dict(), fixture), "the model lost or changed something"
    assert model.raw() is fixture
    assert _same_json(model_cls.model_validate_json(text).to_dict(), fixture)

    unknown = 0
    for member, node in _enum_members(name).items():
        attr, is_array = member.removesuffix("[]"), member.endswith("[]")
        if attr not in fixture:
            continue
        known = _known(node)
        got = getattr(model, attr)
        for value, sent in zip(got if is_array else [got], fixture[attr] if is_array else [fixture[attr]], strict=True):
            if sent in known:
                assert isinstance(value, enum.Enum), f"{name}.{member}: known {sent!r} should be the enum member"
                assert value.value == sent
            else:
                unknown += 1
                assert type(value) is str, f"{name}.{member}: unknown {sent!r} should be a plain str"
                assert value == sent
    assert unknown, "the fixture sets no enum-valued member to an unknown value"


def test_busy_policies_decode_to_the_enum_where_known() -> None:
    features = decode(types.Features, json.loads((FIXTURES / "Features.json").read_text(encoding="utf-8")))
    assert features.busy_policies == ["reject", "enqueue", "interrupt", "steer", "preempt"]
    assert [type(p) for p in features.busy_policies] == [types.BusyPolicy] * 4 + [str]


def test_free_form_objects_are_dicts() -> None:
    session = decode(types.Session, json.loads((FIXTURES / "Session.json").read_text(encoding="utf-8")))
    assert type(session.meta) is dict
    assert types.JSONObject == dict[str, Any]
    for cls in (types.Session, types.Event, types.LogEntry, types.Artifact, types.Handoff, types.HandoffContext):
        for field_name, field in cls.model_fields.items():
            assert "JSONObject" not in repr(field.annotation), f"{cls.__name__}.{field_name}"
    assert not any(
        isinstance(v, type) and issubclass(v, BaseModel) and v.__name__ == "JSONObject" for v in vars(types).values()
    )


# --- problem codes --------------------------------------------------------------------------


def _contract_codes() -> list[str]:
    return list(SCHEMAS["ProblemCode"]["enum"])


def _contract_statuses() -> dict[str, int]:
    """code -> status, from the table in ProblemCode's description."""
    out: dict[str, int] = {}
    for line in SCHEMAS["ProblemCode"]["description"].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[1].isdigit():
            out[cells[0].strip("`")] = int(cells[1])
    return out


def test_the_sdks_problem_codes_are_the_contracts() -> None:
    assert [c.value for c in agentsession.ProblemCode] == _contract_codes()
    assert agentsession.ProblemCode is types.ProblemCode


def test_every_code_the_sdk_maps_is_in_the_contract_with_its_status() -> None:
    statuses = _contract_statuses()
    assert sorted(statuses) == sorted(_contract_codes()), "the description's table and the enum differ"
    for code in _exceptions.CONFLICT_CLASSES:
        assert statuses[code.value] == 409, code
    for code in _exceptions.UNPROCESSABLE_CLASSES:
        assert statuses[code.value] == 422, code


@pytest.mark.parametrize("code", _contract_codes())
def test_every_contract_code_gets_the_exception_of_its_status(code: str) -> None:
    status = _contract_statuses()[code]
    cls = _exceptions.status_error_class(status, code)
    by_status = {
        401: agentsession.AuthenticationError,
        404: agentsession.NotFoundError,
        408: agentsession.RequestTimeoutError,
        409: agentsession.ConflictError,
        413: agentsession.PayloadTooLargeError,
        429: agentsession.RateLimitError,
        400: agentsession.BadRequestError,
        422: agentsession.UnprocessableEntityError,
    }
    if status >= 500:
        assert issubclass(cls, agentsession.InternalServerError), (code, cls)
    elif status in by_status:
        assert issubclass(cls, by_status[status]), (code, cls)
    else:
        assert cls is agentsession.APIStatusError, (code, cls)
    if status == 409 and code != "idempotency_in_progress":
        assert cls is not agentsession.ConflictError, f"409 {code} has no exception of its own"
    if code in agentsession.FINAL_PROBLEM_CODES:
        assert cls is not agentsession.InternalServerError, f"{status} {code} has no exception of its own"


def test_hand_written_code_names_problem_codes_only_through_problem_code() -> None:
    codes = set(_contract_codes())
    found: list[str] = []
    files = [p for p in SDK_SOURCE.glob("*.py") if p.name != "_generated.py"]
    assert len(files) > 10
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in codes and id(node) not in docstrings:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found, "use agentsession.ProblemCode instead of string literals: " + ", ".join(found)


# --- the generator ------------------------------------------------------------------------


def test_the_generator_refuses_a_closed_response_enum() -> None:
    doc = copy.deepcopy(CONTRACT)
    doc["components"]["schemas"]["Session"]["properties"]["status"] = {"$ref": "#/components/schemas/SessionStatus"}
    with pytest.raises(generate.ContractError, match=r"Session\.status"):
        generate.check_open_enums(doc)


def test_the_generator_accepts_the_contract_and_finds_the_open_arrays() -> None:
    assert generate.check_open_enums(CONTRACT) == {"Features.busy_policies[]": "BusyPolicy"}


def test_the_generator_inlines_every_free_form_object() -> None:
    doc = generate.free_form_as_dicts(CONTRACT)
    assert "JSONObject" not in doc["components"]["schemas"]
    assert "JSONObject" not in json.dumps(doc["components"]["schemas"]["Session"])
    meta = doc["components"]["schemas"]["Session"]["properties"]["meta"]
    assert meta["additionalProperties"] is True
    assert meta["example"] == {"app": "billing-bot"}


def test_the_generator_fails_when_its_output_changes_shape() -> None:
    with pytest.raises(generate.ContractError, match="found 0"):
        generate.open_array_items("busy_policies: list[str]\n", {"Features.busy_policies[]": "BusyPolicy"})
