"""Feeds: the pieces of engine state that a widget keeps in sync with its views.

A widget is made of one or more feeds (the jobs of a project, one subject's stages, the log lines
of the jobs a view watches...). Each feed subscribes to the engine events it needs, keeps what
changed since the last flush, and offers the requests (actions) that act on it, by the names
and payload types of :mod:`~pbrain_widgets.widgets.protocol`. The widget
(:class:`~pbrain_widgets.widgets.sync.SyncWidget`) sends its feeds' patches together, on its
engine's channel (:mod:`~pbrain_widgets.widgets.channel`).
"""

from __future__ import annotations

import abc
import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..engine import Engine
from ..engine.events import Unsubscribe
from ..errors import InvalidArgumentError

T = TypeVar("T")

Handler = Callable[[dict[str, Any]], Any]
"""What answers an action: the validated payload in; out the (JSON-ready) result, a
:class:`Binary`, or an awaitable of either (for work done off the engine's loop, e.g. in a
thread: the reply goes out when it is done)."""


def in_slices(call: Callable[..., T], *args: Any) -> Awaitable[T]:
    """``call(*args)`` made from a worker thread, for a handler on the engine's loop: an engine
    method called from another thread runs on the loop in slices (a run of 100,000 jobs, a batch
    cancel or retry), so the loop's jobs, pipes and flushes go on meanwhile; the handler's reply
    goes out when it returns."""
    return asyncio.get_running_loop().run_in_executor(None, functools.partial(call, *args))


def check_engine(engine: object) -> Engine:
    """``engine`` if it is an :class:`~pbrain_widgets.Engine`, else :class:`InvalidArgumentError`."""
    if not isinstance(engine, Engine):
        raise InvalidArgumentError(f"engine must be a pbrain_widgets Engine, got {engine!r}")
    return engine


@dataclass(frozen=True)
class Binary:
    """A reply result with binary buffers (e.g. a PNG), sent as the comm message's buffers:
    ``{"kind": "reply", ..., "result": result}`` plus ``buffers``, never as JSON text."""

    result: Any
    buffers: list[bytes]


class Feed(abc.ABC):
    """One named part of a widget's state: a full snapshot on demand, patches of what changed."""

    name: str
    live: bool = False
    """Its patches go out on every tick of the engine channel (log lines); the other feeds' at
    most every :data:`~pbrain_widgets.widgets.channel.STATE_INTERVAL` (see there)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = check_engine(engine)
        self._wake: Callable[[], None] = _ignore
        self._unsubscribers: list[Unsubscribe] = []

    def bind(self, wake: Callable[[], None]) -> None:
        """Called by the widget: ``wake()`` asks for a flush soon (its engine channel throttles it)."""
        self._wake = wake

    def subscribe(self, unsubscribe: Unsubscribe) -> None:
        """Remember an engine subscription so that :meth:`close` ends it."""
        self._unsubscribers.append(unsubscribe)

    @abc.abstractmethod
    def snapshot(self) -> Any:
        """The feed's full current state, JSON-ready."""

    @abc.abstractmethod
    def take_patch(self) -> Any | None:
        """What changed since the previous call (JSON-ready), or ``None`` if nothing did."""

    def actions(self) -> dict[str, Handler]:
        """The requests this feed answers, by action name (each declared in
        :data:`~pbrain_widgets.widgets.protocol.ACTIONS`, which gives its payload's schema)."""
        return {}

    def close(self) -> None:
        """End every engine subscription; the feed sends nothing more."""
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
        self._wake = _ignore


def _ignore() -> None:
    return None
