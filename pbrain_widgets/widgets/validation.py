"""Checking what comes from the browser (request ids, payloads, trait values) and what goes back
(replies).

A payload is a JSON object; each action's payload type in :mod:`~pbrain_widgets.widgets.protocol`
gives its fields, turned into :class:`Field` checks by :func:`schema_of`. Anything else (a
missing field, an unknown one, a wrong type, a list too long) raises :class:`BadRequest` with a
message that names the bad value and what is valid.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import traitlets
import typing_extensions

from ..errors import InvalidArgumentError
from .protocol import MAX_ID_CHARS, Limits


class BadRequest(ValueError):
    """A request from the browser that the widget rejects."""


class BadTraitValue(InvalidArgumentError, traitlets.TraitError):
    """A value that a widget refuses for one of its traits.

    A :class:`~traitlets.TraitError`, so that traitlets rolls back a view's whole state update
    (it keeps the new values if a validator raises anything else), and an
    :class:`~pbrain_widgets.InvalidArgumentError` like every error on bad input.
    """


def check_request_id(value: Any) -> str:
    """``value`` if it is a valid request id, else :class:`BadRequest`.

    An id is echoed in the reply, so it must be encodable: ``isprintable()`` is false for control
    characters and for lone surrogates (which the kernel cannot encode as UTF-8).
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS or not value.isprintable():
        raise BadRequest(
            f"a request id must be a string of 1 to {MAX_ID_CHARS} printable characters, got {brief(value)}"
        )
    return value


@dataclass(frozen=True)
class Field:
    """One payload field: its JSON type, whether it is required, and size limits.

    ``kind`` is ``str``, ``int``, ``bool`` or ``list`` (a list of strings, or with ``tuple_len``
    a list of lists of that many strings); ``nullable`` lets the field be ``null``; ``choices``
    (for a string) are its only valid values.
    """

    kind: type
    required: bool = True
    nullable: bool = False
    max_len: int = 256
    max_items: int = 10_000
    minimum: int = 0
    maximum: int = 1_000_000_000
    choices: tuple[str, ...] = ()
    tuple_len: int = 0

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise BadRequest(f"field {name!r} must not be null")
        if self.kind is str:
            if not isinstance(value, str) or not value or len(value) > self.max_len:
                raise BadRequest(
                    f"field {name!r} must be a non-empty string of at most {self.max_len} "
                    f"characters, got {brief(value)}"
                )
            if self.choices and value not in self.choices:
                valid = ", ".join(self.choices)
                raise BadRequest(f"field {name!r} must be one of {valid}; got {brief(value)}")
        elif self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadRequest(f"field {name!r} must be an integer, got {brief(value)}")
            if not self.minimum <= value <= self.maximum:
                raise BadRequest(f"field {name!r} must be from {self.minimum} to {self.maximum}, got {value}")
        elif self.kind is bool:
            if not isinstance(value, bool):
                raise BadRequest(f"field {name!r} must be true or false, got {brief(value)}")
        elif self.kind is list:
            what = f"lists of {self.tuple_len} strings" if self.tuple_len else "strings"
            if not isinstance(value, list) or len(value) > self.max_items:
                raise BadRequest(
                    f"field {name!r} must be a list of at most {self.max_items} {what}, got {brief(value)}"
                )
            for item in value:
                shaped = not self.tuple_len or (isinstance(item, list) and len(item) == self.tuple_len)
                parts = item if self.tuple_len and shaped else [item]
                if not shaped or not all(isinstance(p, str) and p and len(p) <= self.max_len for p in parts):
                    raise BadRequest(
                        f"field {name!r} must hold {what} (non-empty, at most {self.max_len} characters), "
                        f"got item {brief(item)}"
                    )
            if self.tuple_len:
                value = [tuple(item) for item in value]
        else:  # a programming error in a widget, not bad input
            raise TypeError(f"unsupported field kind {self.kind!r}")
        return value


Schema = Mapping[str, Field]


@functools.cache
def schema_of(payload_type: type) -> Schema:
    """The checks of a payload ``TypedDict`` of the protocol: each field's JSON type (``str``,
    ``int``, ``bool``, ``list[str]`` or ``list[tuple[str, ...]]``; a ``Literal`` of strings is a
    string of those choices),
    whether it may be null (``X | None``) or missing (``NotRequired``), and its
    :class:`~pbrain_widgets.widgets.protocol.Limits`."""
    hints = typing_extensions.get_type_hints(payload_type, include_extras=True)
    required_keys = payload_type.__required_keys__  # type: ignore[attr-defined]
    schema: dict[str, Field] = {}
    for name, hint in hints.items():
        hint = _strip(hint, (typing_extensions.NotRequired, typing_extensions.Required))
        args = typing.get_args(hint)
        nullable = _is_union(hint) and type(None) in args
        if nullable:
            (hint,) = [a for a in args if a is not type(None)]
        limits = Limits()
        if typing.get_origin(hint) is typing_extensions.Annotated:
            hint, *extras = typing.get_args(hint)
            limits = next((e for e in extras if isinstance(e, Limits)), limits)
        choices: tuple[str, ...] = ()
        if typing.get_origin(hint) is typing.Literal:  # a string of a few valid values
            choices = typing.get_args(hint)
            if not all(isinstance(c, str) for c in choices):
                raise TypeError(f"{payload_type.__name__}.{name}: only string literals are supported")
            hint = str
        kind: Any = typing.get_origin(hint) or hint
        tuple_len = 0
        if kind is list and typing.get_origin(typing.get_args(hint)[0]) is tuple:
            parts = typing.get_args(typing.get_args(hint)[0])
            tuple_len = len(parts) if parts and all(p is str for p in parts) else -1
        if kind not in (str, int, bool, list) or (
            kind is list and typing.get_args(hint) != (str,) and tuple_len <= 0
        ):
            raise TypeError(f"{payload_type.__name__}.{name}: unsupported payload field type {hint!r}")
        schema[name] = Field(
            kind,
            required=name in required_keys,
            nullable=nullable,
            max_len=limits.max_len,
            max_items=limits.max_items,
            minimum=limits.minimum,
            maximum=limits.maximum,
            choices=choices,
            tuple_len=tuple_len,
        )
    return schema


def _strip(hint: Any, wrappers: tuple[Any, ...]) -> Any:
    while typing.get_origin(hint) in wrappers:
        (hint,) = typing.get_args(hint)
    return hint


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def check_payload(action: str, payload: Any, schema: Schema) -> dict[str, Any]:
    """The payload as a dict with every declared field (missing optional ones are ``None``)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise BadRequest(f"the payload of {action!r} must be an object, got {brief(payload)}")
    unknown = sorted(set(payload) - set(schema))
    if unknown:
        valid = ", ".join(schema) or "none"
        raise BadRequest(f"unknown field(s) {unknown} for {action!r}; valid fields: {valid}")
    out: dict[str, Any] = {}
    for name, field in schema.items():
        if name not in payload:
            if field.required:
                raise BadRequest(f"{action!r} needs the field {name!r}")
            out[name] = None
        else:
            out[name] = field.check(name, payload[name])
    return out


def check_encodable(message: Any) -> None:
    """Raise :class:`TypeError` or :class:`ValueError` if the kernel could not send ``message``.

    The kernel encodes comm messages with jupyter_client's ``json_packer``: ``json.dumps`` with
    ``ensure_ascii=False, allow_nan=False``, then UTF-8 with ``surrogateescape``, so that a lone
    surrogate such as ``"\\ud800"`` raises (a file name's escaped byte, ``"\\udc80"``, goes through
    and shows as U+FFFD). Stricter than the packer in one way: no ``default`` conversion (dates,
    bytes, sets, numpy numbers), which a message made of engine records never needs.
    """
    json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8", errors="surrogateescape")


def brief(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters (browser input may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
