"""Check a decoded message against a type of the protocol, the way a view relies on it."""

from __future__ import annotations

import enum
import inspect
import types
import typing
from typing import Any

import typing_extensions


def check_type(value: Any, hint: Any, path: str = "message") -> None:
    """Raise ``AssertionError`` naming the path where ``value`` (decoded JSON) is not a ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return
    if hint is type(None) or hint is None:
        assert value is None, f"{path}: expected null, got {value!r}"
    elif typing_extensions.is_typeddict(hint):
        assert isinstance(value, dict), f"{path}: expected an object ({hint.__name__}), got {value!r}"[:300]
        hints = typing_extensions.get_type_hints(hint, include_extras=True)
        missing = set(hint.__required_keys__) - set(value)
        extra = set(value) - set(hints)
        assert not missing and not extra, f"{path} ({hint.__name__}): missing {missing}, unknown {extra}"
        for key, item in value.items():
            check_type(item, hints[key], f"{path}.{key}")
    elif origin is typing_extensions.Annotated:
        base, *extras = args
        check_type(value, base, path)
        for extra in extras:
            if inspect.isclass(extra) and issubclass(extra, enum.Enum):
                assert value in {m.value for m in extra}, f"{path}: {value!r} is no {extra.__name__}"
    elif origin in (typing_extensions.NotRequired, typing_extensions.Required):
        check_type(value, args[0], path)
    elif origin is typing.Literal:
        assert value in args and type(value) in {type(a) for a in args}, (
            f"{path}: {value!r} is not one of {args}"
        )
    elif origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                check_type(value, option, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: {value!r} matches no option: {errors}"[:600])
    elif origin is list:
        assert isinstance(value, list), f"{path}: expected a list, got {value!r}"[:300]
        for i, item in enumerate(value):
            check_type(item, args[0], f"{path}[{i}]")
    elif origin is tuple:
        assert isinstance(value, list) and len(value) == len(args), (
            f"{path}: expected {len(args)} items, got {value!r}"
        )
        for i, (item, arg) in enumerate(zip(value, args, strict=True)):
            check_type(item, arg, f"{path}[{i}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"[:300]
        for key, item in value.items():
            check_type(item, args[1], f"{path}[{key!r}]")
    elif hint is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (
            f"{path}: expected a number, got {value!r}"
        )
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool), (
            f"{path}: expected an integer, got {value!r}"
        )
    elif hint in (str, bool):
        assert isinstance(value, hint), f"{path}: expected {hint.__name__}, got {value!r}"[:300]
    else:
        raise TypeError(f"{path}: cannot check against {hint!r}")
