"""The TypeScript mirror of :mod:`pbrain_widgets.widgets.protocol`, generated from its types.

``python -m pbrain_widgets.widgets.protocol_ts > js/src/protocol.ts`` writes the front end's
copy; ``tests/widgets/test_protocol.py`` fails when the committed file differs from what this
prints, so that the two sides cannot drift.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from typing import Any

import typing_extensions

from . import protocol

ALIASES: dict[str, Any] = {
    "JobStatus": protocol.JobStatusName,
    "StageStatus": protocol.StageStatusName,
    "LogLevel": protocol.LogLevelName,
    "Column": protocol.Column,
    "FieldChanges": protocol.FieldChanges,
    "LogLine": protocol.LogLine,
    "TimelineRow": protocol.TimelineRow,
    "Mark": protocol.Mark,
    "ResourceRow": protocol.ResourceRow,
    "KernelMessage": protocol.KernelMessage,
}
"""Type aliases exported by name (the generator writes the name wherever the type appears)."""

_HEADER = """\
// The wire protocol between a widget's kernel side and its views.
// GENERATED from pbrain_widgets/widgets/protocol.py by
//   python -m pbrain_widgets.widgets.protocol_ts > js/src/protocol.ts
// Do not edit: change the Python types and regenerate (tests/widgets/test_protocol.py checks).
"""


def _typed_dicts() -> list[type]:
    """The protocol's TypedDicts, in the order the module defines them."""
    found = [
        value
        for value in vars(protocol).values()
        if inspect.isclass(value)
        and typing_extensions.is_typeddict(value)
        and value.__module__ == protocol.__name__
    ]
    return sorted(found, key=lambda cls: inspect.getsourcelines(cls)[1])


def ts_type(hint: Any, names: dict[Any, str]) -> str:
    """The TypeScript type of a Python type hint of the protocol."""
    if hint in names.values() and isinstance(hint, str):
        return hint
    for value, name in names.items():
        if _same(value, hint):
            return name
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return "unknown"
    if hint is type(None) or hint is None:
        return "null"
    if hint is str:
        return "string"
    if hint in (int, float):
        return "number"
    if hint is bool:
        return "boolean"
    if typing_extensions.is_typeddict(hint):
        return hint.__name__
    if origin is typing_extensions.Annotated:
        base, *extras = args
        for extra in extras:
            if inspect.isclass(extra) and issubclass(extra, enum.Enum):
                return " | ".join(json.dumps(member.value) for member in extra)
        return ts_type(base, names)
    if origin in (typing_extensions.NotRequired, typing_extensions.Required):
        return ts_type(args[0], names)
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(ts_type(a, names) for a in args)
    if origin is list:
        inner = ts_type(args[0], names)
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if origin is tuple:
        return "[" + ", ".join(ts_type(a, names) for a in args) + "]"
    if origin is dict:
        return f"Record<{ts_type(args[0], names)}, {ts_type(args[1], names)}>"
    raise TypeError(f"no TypeScript form for {hint!r}")


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and typing.get_origin(a) == typing.get_origin(b)
    except TypeError:
        return False


def _doc(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    text = re.sub(r":\w+:`~?(?:[\w.]*\.)?(\w+)`", r"`\1`", inspect.cleandoc(text))  # Sphinx roles
    lines = text.replace("``", "`").splitlines()
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**", *(f"{indent} * {line}".rstrip() for line in lines), f"{indent} */"]


def _field_docs(cls: type) -> dict[str, str]:
    """The string literal under each field of a TypedDict class (the attribute docstrings)."""
    docs: dict[str, str] = {}
    lines = inspect.getsource(cls).splitlines()
    for i, line in enumerate(lines[:-1]):
        name = line.strip().split(":", 1)[0]
        nxt = lines[i + 1].strip()
        if ":" in line and name.isidentifier() and nxt.startswith('"""'):
            block = [nxt]
            j = i + 1
            while not (block[-1].endswith('"""') and (len(block) > 1 or len(block[0]) > 3)):
                j += 1
                block.append(lines[j].strip())
            docs[name] = "\n".join(block)[3:-3]
    return docs


def _interface(cls: type, names: dict[Any, str]) -> list[str]:
    hints = typing_extensions.get_type_hints(cls, include_extras=True)
    required = cls.__required_keys__  # type: ignore[attr-defined]
    parents = [b for b in cls.__orig_bases__ if typing_extensions.is_typeddict(b)]  # type: ignore[attr-defined]
    inherited = {key for parent in parents for key in parent.__annotations__}
    bases = [parent.__name__ for parent in parents]
    docs = _field_docs(cls)
    out = _doc(cls.__doc__, "")
    if not hints:
        return [*out, f"export type {cls.__name__} = Record<string, never>;"]
    extends = f" extends {', '.join(bases)}" if bases else ""
    out.append(f"export interface {cls.__name__}{extends} {{")
    for name, hint in hints.items():
        if name in inherited:
            continue
        out += _doc(docs.get(name), "  ")
        out.append(f"  {name}{'' if name in required else '?'}: {ts_type(hint, names)};")
    out.append("}")
    return out


def _alias_doc(name: str) -> str | None:
    """The docstring under an alias's assignment in protocol.py."""
    source = inspect.getsource(protocol).splitlines()
    attr = {v: k for k, v in vars(protocol).items() if any(_same(v, a) for a in [ALIASES[name]])}
    py_name = next(iter(attr.values()), name)
    for i, line in enumerate(source[:-1]):
        if line.startswith(f"{py_name} = ") and source[i + 1].startswith('"""'):
            block = [source[i + 1]]
            j = i + 1
            while not (block[-1].endswith('"""') and (len(block) > 1 or len(block[0]) > 3)):
                j += 1
                block.append(source[j])
            return "\n".join(block)[3:-3]
    return None


def render() -> str:
    """The whole of ``js/src/protocol.ts``."""
    names: dict[Any, str] = {}
    out = [_HEADER]
    # aliases first (interfaces may use them); an alias never refers to a later one
    alias_lines: dict[str, list[str]] = {}
    for name, hint in ALIASES.items():
        alias_lines[name] = [*_doc(_alias_doc(name), ""), f"export type {name} = {ts_type(hint, names)};"]
        names[hint] = name
    for name in ALIASES:
        out += [*alias_lines[name], ""]
    for cls in _typed_dicts():
        out += [*_interface(cls, names), ""]
    out.append("/** Every action a view may request: its payload and its result. */")
    out.append("export interface Actions {")
    for action, spec in protocol.ACTIONS.items():
        payload, result = ts_type(spec.payload, names), ts_type(spec.result, names)
        out.append(f"  {action}: {{ payload: {payload}; result: {result} }};")
    out += ["}", "", "export type ActionName = keyof Actions;", ""]
    out.append("/** Every feed by name: the type of its snapshot and of its patch. */")
    out.append("export interface Feeds {")
    for feed, (snap, patch) in protocol.FEEDS.items():
        out.append(f"  {feed}: {{ snapshot: {ts_type(snap, names)}; patch: {ts_type(patch, names)} }};")
    out += ["}", ""]
    for name in ("MAX_WATCHED", "MAX_BATCH_CELLS", "WINDOW_MAX_ROWS", "MAX_KEPT"):
        out.append(f"export const {name} = {getattr(protocol, name)};")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
