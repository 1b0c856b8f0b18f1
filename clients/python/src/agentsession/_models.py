"""The base class of every generated model, and decoding from the wire."""

from __future__ import annotations

import json
import typing
from typing import Any, TypeVar

import pydantic
from pydantic import ConfigDict

__all__ = ["BaseModel"]

# Where a model's raw JSON is: the object itself, or (for a model decoded from an
# answer's bytes) the answer and the path to the object inside it, parsed on first use.
_Path = tuple[str | int, ...]
_RawRef = dict[str, Any] | tuple["_Body", _Path] | None


class _Body:
    """An answer's JSON text, shared by every model decoded from it and parsed
    only when one of them is asked for its ``raw()`` JSON."""

    __slots__ = ("_data", "_obj")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._obj: Any = None

    def value(self) -> Any:
        if self._obj is None:
            self._obj = json.loads(self._data)
        return self._obj


class BaseModel(pydantic.BaseModel):
    """A model of the contract.

    Members the SDK does not know are kept (``model_extra``); enum-valued
    response fields hold the enum member for known values and the plain string
    for values a newer server sends.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    # The JSON object this model was decoded from, exactly as the server sent
    # it. A slot, not a pydantic private attribute: those cost every instance
    # a dict of its own.
    __slots__ = ("_raw",)

    def raw(self) -> dict[str, Any]:
        """The JSON object exactly as the server sent it (unknown members and
        values included); for a model built locally, :meth:`to_dict`."""
        ref: _RawRef = getattr(self, "_raw", None)
        if type(ref) is dict:
            return ref
        if isinstance(ref, tuple):
            body, path = ref
            obj = body.value()
            try:
                for key in path:
                    obj = obj[key]
            except (KeyError, IndexError, TypeError):
                obj = None
            if isinstance(obj, dict):
                set_raw(self, obj)
                return obj
        return self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-compatible data (only the members that were set)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The model as a JSON string (only the members that were set)."""
        return self.model_dump_json(by_alias=True, exclude_unset=True, indent=indent)


M = TypeVar("M", bound=BaseModel)

# Per model class, the members that may hold models, as (attribute, JSON name).
_Plan = tuple[tuple[str, str], ...]
_PLANS: dict[type[BaseModel], _Plan] = {}


def _holds_models(annotation: Any) -> bool:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return issubclass(annotation, pydantic.BaseModel)
    return any(_holds_models(arg) for arg in typing.get_args(annotation))


def _plan(cls: type[BaseModel]) -> _Plan:
    """Which members of cls to walk when attaching raw JSON (computed once per class)."""
    plan = _PLANS.get(cls)
    if plan is None:
        fields = cls.model_fields.items()
        plan = _PLANS[cls] = tuple((name, f.alias or name) for name, f in fields if _holds_models(f.annotation))
    return plan


def set_raw(model: BaseModel, obj: dict[str, Any]) -> None:
    object.__setattr__(model, "_raw", obj)


def attach_raw(model: BaseModel, obj: dict[str, Any]) -> None:
    """Remember, for model and every model nested in it, the JSON it came from.

    A walk of the members that can hold models (per class, computed once)
    costs far less than a pydantic wrap validator.
    """
    set_raw(model, obj)
    values = model.__dict__
    for name, alias in _plan(type(model)):
        value, sub = values.get(name), obj.get(alias)
        if isinstance(value, BaseModel):
            if isinstance(sub, dict):
                attach_raw(value, sub)
        elif isinstance(value, list) and isinstance(sub, list) and len(sub) == len(value):
            for item, item_obj in zip(value, sub, strict=True):
                if isinstance(item, BaseModel) and isinstance(item_obj, dict):
                    attach_raw(item, item_obj)


def _attach_body(model: BaseModel, body: _Body, path: _Path) -> None:
    object.__setattr__(model, "_raw", (body, path))
    values = model.__dict__
    for name, alias in _plan(type(model)):
        value = values.get(name)
        if isinstance(value, BaseModel):
            _attach_body(value, body, (*path, alias))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _attach_body(item, body, (*path, alias, i))


def decode(cls: type[M], obj: Any) -> M:
    """Validate decoded JSON into cls, keeping the raw JSON.

    Raises pydantic.ValidationError when obj does not fit the schema.
    """
    model = cls.model_validate(obj)
    if isinstance(obj, dict):
        attach_raw(model, obj)
    return model


def decode_json(cls: type[M], data: bytes) -> M:
    """Validate JSON text into cls in one pass (pydantic's own parser), keeping
    the text for ``raw()``, which parses it only if asked.

    Raises pydantic.ValidationError when data is not JSON (error type
    ``json_invalid``) or does not fit the schema.
    """
    model = cls.model_validate_json(data)
    _attach_body(model, _Body(data), ())
    return model


def is_json_syntax_error(error: pydantic.ValidationError) -> bool:
    """Whether decode_json failed on the JSON text itself rather than on its content."""
    return any(e["type"] == "json_invalid" for e in error.errors(include_url=False, include_input=False))
