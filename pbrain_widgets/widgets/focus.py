"""The stage in focus: one per engine, set by a click on a PipelineGraph node, followed by the
JobMonitor and ProjectDashboard widgets of the same engine.

JupyterLab gives a widget's front end no handle on the other widgets of the page, so the link
lives in the kernel: a :class:`StageFocus` per engine holds ``(project_id, stage_id)`` (or
nothing) and tells its listeners when it changes; each of those widgets has a
:class:`~pbrain_widgets.widgets.feeds.FocusFeed` that sends the focus to its views (in their
snapshot, then as patches), and the views filter to that stage. A view clears the focus with
the ``clear_focus`` request. Like every feed, the focus lives on the engine's thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

from ..engine import Engine
from ..engine.events import Listeners, Unsubscribe


@dataclass(frozen=True)
class Focus:
    """A stage of a project in focus."""

    project_id: str
    stage_id: str


class StageFocus:
    """The focus of one engine: :attr:`current` (``None``: nothing in focus) and its listeners."""

    def __init__(self) -> None:
        self.current: Focus | None = None
        self._listeners: Listeners[Focus | None] = Listeners("stage focus")

    def set(self, focus: Focus | None) -> None:
        """Focus on a stage (``None``: clear); listeners hear of a change only."""
        if focus != self.current:
            self.current = focus
            self._listeners.emit(focus)

    def subscribe(self, callback: Callable[[Focus | None], object]) -> Unsubscribe:
        """Call ``callback(focus)`` on every change."""
        return self._listeners.add(callback)


_FOCUS: weakref.WeakKeyDictionary[Engine, StageFocus] = weakref.WeakKeyDictionary()


def focus_of(engine: Engine) -> StageFocus:
    """The engine's focus (created on first use)."""
    focus = _FOCUS.get(engine)
    if focus is None:
        focus = _FOCUS[engine] = StageFocus()
    return focus
