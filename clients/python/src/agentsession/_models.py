"""The base class of every generated model, and decoding from the wire."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pydantic
from pydantic import ConfigDict

__all__ = ["BaseModel"]


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
        raw: dict[str, Any] | None = getattr(self, "_raw", None)
        return raw if raw is not None else self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-compatible data (only the members that were set)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The model as a JSON string (only the members that were set)."""
        return self.model_dump_json(by_alias=True, exclude_unset=True, indent=indent)


M = TypeVar("M", bound=BaseModel)


def set_raw(model: BaseModel, obj: dict[str, Any]) -> None:
    object.__setattr__(model, "_raw", obj)


def attach_raw(model: BaseModel, obj: dict[str, Any]) -> None:
    """Remember, for model and every model nested in it, the JSON it came from.

    A walk after validation costs far less than a pydantic wrap validator.
    """
    set_raw(model, obj)
    fields = type(model).model_fields
    for name, value in model.__dict__.items():
        if isinstance(value, BaseModel):
            sub = obj.get(fields[name].alias or name)
            if isinstance(sub, dict):
                attach_raw(value, sub)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            subs = obj.get(fields[name].alias or name)
            if isinstance(subs, list) and len(subs) == len(value):
                for item, sub in zip(value, subs, strict=False):
                    if isinstance(item, BaseModel) and isinstance(sub, dict):
                        attach_raw(item, sub)


def decode(cls: type[M], obj: Any) -> M:
    """Validate decoded JSON into cls, keeping the raw JSON.

    Raises pydantic.ValidationError when obj does not fit the schema.
    """
    model = cls.model_validate(obj)
    if isinstance(obj, dict):
        attach_raw(model, obj)
    return model


def loads(data: bytes | str) -> Any:
    return json.loads(data)
