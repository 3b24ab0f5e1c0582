"""Listener registries for the engine's events.

A listener that raises is logged and skipped; the engine and the other listeners go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger("pbrain_widgets.events")

T = TypeVar("T")
Unsubscribe = Callable[[], None]


class Listeners(Generic[T]):
    """Callbacks for one kind of event, called in subscription order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[[T], Any]] = []

    def __bool__(self) -> bool:
        return bool(self._callbacks)

    def add(self, callback: Callable[[T], Any]) -> Unsubscribe:
        if not callable(callback):
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(f"a {self.name} listener must be callable, got {callback!r}")
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, event: T) -> None:
        for callback in tuple(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("%s listener %r raised; ignored", self.name, callback)


class KeyedListeners(Generic[T]):
    """Callbacks subscribed per key (e.g. per job id), plus ones for every key (``None``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._by_key: dict[Any, Listeners[T]] = {}

    def add(self, key: Any, callback: Callable[[T], Any]) -> Unsubscribe:
        listeners = self._by_key.get(key)
        if listeners is None:
            listeners = self._by_key[key] = Listeners(self.name)
        unsubscribe = listeners.add(callback)

        def remove() -> None:
            unsubscribe()
            if key in self._by_key and not self._by_key[key]:
                del self._by_key[key]

        return remove

    def wants(self, key: Any) -> bool:
        return key in self._by_key or None in self._by_key

    def emit(self, key: Any, event: T) -> None:
        specific = self._by_key.get(key)
        if specific is not None:
            specific.emit(event)
        catch_all = self._by_key.get(None)
        if catch_all is not None:
            catch_all.emit(event)
