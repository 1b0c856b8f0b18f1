"""Generate src/agentsession/_generated.py from openapi.yaml.

    python scripts/generate.py [--spec ../../openapi.yaml] [--output PATH]

Deterministic, in four steps:

1. Check that the contract's response enums are open. Since contract 1.1 every
   enum-valued member a response can carry is ``anyOf: [{$ref: X}, {type:
   string}]``, so the models keep the known values as ``X`` members and pass
   values of a later minor version through as ``str``. Generation fails when a
   response member has a closed enum: the SDK would then raise on a newer
   server's value (the same walk as gen/contract_test.go).
2. Free-form objects are dicts. The contract names its free-form object
   ``JSONObject`` (``type: object, additionalProperties: true``); left as it is,
   datamodel-code-generator makes it a pydantic model class, where users expect
   a dict (``session.info.meta["app"]``, ``== {...}``, ``in``). Every reference
   to it is inlined as that object schema, which the generator types
   ``dict[str, Any]``; the module ends with ``JSONObject = dict[str, Any]`` so the
   contract's name still exists. (Go does the same with its overlay:
   gen.JSONObject is a ``map[string]interface{}``.)
3. Run datamodel-code-generator (pinned in requirements.txt) with the options
   below and prepend the "generated" header.
4. Open array items: the generator puts ``union_mode="left_to_right"`` on
   members but not on the items of an array, where pydantic's "smart" union
   would then pick ``str`` for every value. Each ``list[X | str]`` of an open
   enum becomes ``list[Annotated[X | str, Field(union_mode="left_to_right")]]``
   so known values decode to ``X`` (``Features.busy_policies``); generation
   fails when the count differs from the contract's open array members.
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parent.parent.parent / "openapi.yaml"
DEFAULT_OUTPUT = HERE.parent / "src" / "agentsession" / "_generated.py"

SCHEMA_REF = "#/components/schemas/"
FREE_FORM = "JSONObject"

GENERATOR_OPTIONS = [
    "--input-file-type",
    "openapi",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--base-class",
    "agentsession._models.BaseModel",
    "--target-python-version",
    "3.10",
    "--use-union-operator",
    "--use-standard-collections",
    "--use-annotated",
    "--field-constraints",
    "--use-double-quotes",
    # Enums subclass str, so `event.type == "text"` holds for known values.
    "--use-subclass-enum",
    # Known enum values decode to the enum, unknown ones to str.
    "--union-mode",
    "left_to_right",
    # Members a newer server adds are kept (model_extra), never rejected.
    "--extra-fields",
    "allow",
    "--output-datetime-class",
    "datetime",
    "--use-schema-description",
    "--use-field-description",
    "--disable-timestamp",
    "--formatters",
    "builtin",
    # The item of TurnRequest.files would take the name of the File component.
    "--model-name-map",
    '{"File": "FileToken", "File1": "File"}',
]


class ContractError(Exception):
    """The contract breaks an assumption the SDK's models rely on."""


# --- the contract's shape (the walk of gen/contract_test.go) ----------------------------


def _ref_name(node: Any) -> str:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref.removeprefix(SCHEMA_REF) if isinstance(ref, str) and ref.startswith(SCHEMA_REF) else ""


def _walk_refs(node: Any) -> Iterator[str]:
    """Every schema name referenced under node (examples aside)."""
    if isinstance(node, dict):
        if name := _ref_name(node):
            yield name
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_refs(item)


def response_schemas(doc: dict[str, Any]) -> set[str]:
    """The named schemas a response can contain, transitively."""
    schemas = doc["components"]["schemas"]
    pending = list(_walk_refs(doc["components"].get("responses", {})))
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                pending.extend(_walk_refs(operation.get("responses", {})))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(_walk_refs(schemas.get(name, {})))
    return seen


def _is_enum(schemas: dict[str, Any], name: str) -> bool:
    return isinstance(schemas.get(name, {}).get("enum"), list)


def _enum_valued(schemas: dict[str, Any], node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    if isinstance(node.get("enum"), list) or _is_enum(schemas, _ref_name(node)):
        return True
    return any(_is_enum(schemas, _ref_name(alt)) for alt in node.get("anyOf", []))


def enum_members(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """A schema's own enum-valued members, as "member" or "member[]" (an array of
    enum values), each with its schema."""
    out: dict[str, Any] = {}
    for prop, node in schemas[name].get("properties", {}).items():
        if isinstance(node, dict) and node.get("type") == "array" and isinstance(node.get("items"), dict):
            if _enum_valued(schemas, node["items"]):
                out[prop + "[]"] = node["items"]
        elif _enum_valued(schemas, node):
            out[prop] = node
    return out


def discriminators(schemas: dict[str, Any]) -> set[str]:
    """ "Schema.member" of each member that tells a oneOf's alternatives apart: its
    single-value enum names the alternative and is closed by design."""
    out: set[str] = set()
    for schema in schemas.values():
        prop = schema.get("discriminator", {}).get("propertyName")
        if prop:
            out.update(f"{_ref_name(alt)}.{prop}" for alt in schema.get("oneOf", []))
    return out


def open_enum(schemas: dict[str, Any], node: Any) -> str:
    """The enum's name when node is ``anyOf: [{$ref: <enum>}, {type: string}]``, else ""."""
    alts = node.get("anyOf") if isinstance(node, dict) else None
    if not isinstance(alts, list) or len(alts) != 2 or alts[1] != {"type": "string"}:
        return ""
    name = _ref_name(alts[0])
    return name if _is_enum(schemas, name) else ""


def response_enum_members(doc: dict[str, Any]) -> dict[str, Any]:
    """Every enum-valued member a response can carry, as "Schema.member[]", frame
    discriminators aside."""
    schemas = doc["components"]["schemas"]
    disc = discriminators(schemas)
    out: dict[str, Any] = {}
    for name in sorted(response_schemas(doc)):
        for member, node in enum_members(schemas, name).items():
            if f"{name}.{member}" not in disc:
                out[f"{name}.{member}"] = node
    return out


def check_open_enums(doc: dict[str, Any]) -> dict[str, str]:
    """The open array members ("Schema.member[]" -> enum name); raises
    ContractError when a response enum is closed."""
    schemas = doc["components"]["schemas"]
    members = response_enum_members(doc)
    closed = sorted(m for m, node in members.items() if not open_enum(schemas, node))
    if closed:
        raise ContractError(
            "response members with a closed enum (a newer server's value would fail to decode): "
            + ", ".join(closed)
            + "; the contract must write them as anyOf: [{$ref: <Enum>}, {type: string}]"
        )
    if len(members) < 20:
        raise ContractError(f"only {len(members)} enum-valued response members found; the walk is broken")
    return {m: open_enum(schemas, node) for m, node in members.items() if m.endswith("[]")}


# --- the transformation -----------------------------------------------------------------


def _inline_free_form(node: Any, free_form: dict[str, Any]) -> Any:
    """node with every reference to the free-form object replaced by an inline
    ``type: object, additionalProperties: true`` (its own description and example kept)."""
    if isinstance(node, list):
        return [_inline_free_form(item, free_form) for item in node]
    if not isinstance(node, dict):
        return node
    if _ref_name(node) == FREE_FORM:
        return {**free_form, **{k: v for k, v in node.items() if k != "$ref"}}
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and _ref_name(all_of[0]) == FREE_FORM:
        node = {**free_form, **{k: v for k, v in node.items() if k != "allOf"}}
    return {k: v if k in ("example", "examples") else _inline_free_form(v, free_form) for k, v in node.items()}


def free_form_as_dicts(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    schemas = doc["components"]["schemas"]
    free = schemas.pop(FREE_FORM, None)
    if (
        not isinstance(free, dict)
        or free.get("type") != "object"
        or free.get("additionalProperties") is not True
        or "properties" in free
    ):
        raise ContractError(f"{FREE_FORM} is missing or not a free-form object: {free!r}")
    free_form = {"type": "object", "additionalProperties": True}
    doc = _inline_free_form(doc, free_form)
    left = [name for name in _walk_refs(doc) if name == FREE_FORM]
    if left:
        raise ContractError(f"{len(left)} references to {FREE_FORM} could not be inlined")
    return doc


def open_array_items(body: str, open_arrays: dict[str, str]) -> str:
    """Make each open enum's array items decode known values to the enum."""
    count = 0

    def item(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f'list[Annotated[{m[1]} | str, Field(union_mode="left_to_right")]]'

    enums = "|".join(sorted({re.escape(e) for e in open_arrays.values()}))
    rewritten = re.sub(rf"\blist\[({enums}) \| str\]", item, body) if enums else body
    if count != len(open_arrays):
        raise ContractError(
            f"expected {len(open_arrays)} open enum arrays ({', '.join(sorted(open_arrays))}) in the "
            f"generated models, found {count}: the generator's output changed"
        )
    return rewritten


FREE_FORM_ALIAS = f'''

{FREE_FORM}: TypeAlias = dict[str, Any]
"""
Any JSON object (the contract's ``{FREE_FORM}``): a plain ``dict`` in these models.
"""
'''


def header(spec: Path) -> str:
    return (
        f"# Code generated from {spec.name} by clients/python/scripts/generate.py with\n"
        f"# datamodel-code-generator {version('datamodel-code-generator')}. DO NOT EDIT.\n"
        "# Regenerate with `make py-generate`; `make py-check-generated` checks it is current.\n"
        "# ruff: noqa\n"
    )


def _run_generator(doc: dict[str, Any], name: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / name
        src.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out = Path(tmp) / "models.py"
        cmd = [sys.executable, "-m", "datamodel_code_generator", "--input", str(src), "--output", str(out)]
        subprocess.run([*cmd, *GENERATOR_OPTIONS], check=True)
        return out.read_text(encoding="utf-8")


def _import_type_alias(body: str) -> str:
    m = re.search(r"^from typing import (.+)$", body, flags=re.M)
    if m is None:
        raise ContractError("the generator's output changed: no `from typing import` line")
    names = sorted({*m[1].split(", "), "TypeAlias"})
    return body[: m.start()] + f"from typing import {', '.join(names)}" + body[m.end() :]


def generate(spec: Path, output: Path, run: Callable[[dict[str, Any], str], str] = _run_generator) -> None:
    doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
    open_arrays = check_open_enums(doc)
    body = run(free_form_as_dicts(doc), spec.name)
    # The generator names the temporary copy; name the real contract instead.
    body = body.replace(f"#   filename:  {spec.name}\n", "")
    body = body.replace("# generated by datamodel-codegen:\n", "")
    body = open_array_items(body, open_arrays)
    body = _import_type_alias(body)
    output.write_text(header(spec) + body.lstrip("\n").rstrip("\n") + "\n" + FREE_FORM_ALIAS, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    try:
        generate(args.spec, args.output)
    except ContractError as e:
        sys.exit(f"generate.py: {e}")


if __name__ == "__main__":
    main()
