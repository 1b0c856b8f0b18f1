"""Generate src/agentsession/_generated.py from openapi.yaml.

    python scripts/generate.py [--spec ../../openapi.yaml] [--output PATH]

Two steps, both deterministic:

1. Open the response enums. The contract's enums are closed, but a server of a
   later minor version may send new values (openapi.yaml, "Versioning and
   compatibility"). Every enum-valued property of a schema a response can carry
   becomes ``anyOf: [{$ref: X}, {type: string}]``, as contract 1.1 writes it, so
   the models keep the known values as ``X`` members and pass unknown ones
   through as ``str``. Request schemas keep their closed enums. Properties that
   are already open (contract 1.1) are left alone, so this step becomes a no-op.
2. Run datamodel-code-generator (pinned in requirements.txt) with the options
   below, then prepend the "generated" header.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE.parent.parent.parent / "openapi.yaml"
DEFAULT_OUTPUT = HERE.parent / "src" / "agentsession" / "_generated.py"

# SSE frame payloads that no operation names but that responses carry.
EXTRA_RESPONSE_SCHEMAS = ("TurnAccepted", "TurnSummary", "Event")

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


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _refs(node: Any) -> list[str]:
    """Every $ref under node."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


def response_schemas(doc: dict[str, Any]) -> set[str]:
    """Names of the component schemas any response can carry, transitively."""
    components = doc.get("components", {})
    schemas = components.get("schemas", {})
    responses = components.get("responses", {})
    pending: list[str] = list(EXTRA_RESPONSE_SCHEMAS)
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                pending.extend(_refs(response))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        name = _ref_name(ref)
        if ref.startswith("#/components/responses/"):
            pending.extend(_refs(responses.get(name, {})))
            continue
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_refs(schemas[name]))
    return seen


def _is_closed_enum(schemas: dict[str, Any], node: Any) -> bool:
    """A $ref to an enum schema, or an inline string enum."""
    if not isinstance(node, dict):
        return False
    if set(node) == {"$ref"}:
        return "enum" in schemas.get(_ref_name(node["$ref"]), {})
    return "enum" in node and node.get("type") == "string"


def _open(schemas: dict[str, Any], node: dict[str, Any]) -> None:
    """Open the enum-valued properties (and array items) of one object schema."""
    for part in node.get("allOf", []):
        if isinstance(part, dict):
            _open(schemas, part)
    for name, prop in list(node.get("properties", {}).items()):
        if _is_closed_enum(schemas, prop):
            node["properties"][name] = {"anyOf": [prop, {"type": "string"}]}
        elif isinstance(prop, dict) and _is_closed_enum(schemas, prop.get("items")):
            prop["items"] = {"anyOf": [prop["items"], {"type": "string"}]}


def open_response_enums(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    schemas = doc["components"]["schemas"]
    for name in sorted(response_schemas(doc)):
        _open(schemas, schemas[name])
    return doc


def header(spec: Path) -> str:
    return (
        f"# Code generated from {spec.name} by clients/python/scripts/generate.py with\n"
        f"# datamodel-code-generator {version('datamodel-code-generator')}. DO NOT EDIT.\n"
        "# Regenerate with `make py-generate`; `make py-check-generated` checks it is current.\n"
        "# ruff: noqa\n"
    )


def generate(spec: Path, output: Path) -> None:
    doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
    opened = open_response_enums(doc)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / spec.name
        src.write_text(yaml.safe_dump(opened, sort_keys=False), encoding="utf-8")
        out = Path(tmp) / "models.py"
        cmd = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(src),
            "--output",
            str(out),
            *GENERATOR_OPTIONS,
        ]
        subprocess.run(cmd, check=True)
        body = out.read_text(encoding="utf-8")
    # The generator names the temporary copy; name the real contract instead.
    body = body.replace(f"#   filename:  {spec.name}\n", "")
    body = body.replace("# generated by datamodel-codegen:\n", "")
    output.write_text(header(spec) + body.lstrip("\n"), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    generate(args.spec, args.output)


if __name__ == "__main__":
    main()
