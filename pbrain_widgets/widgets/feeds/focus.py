"""The stage in focus (see :mod:`pbrain_widgets.widgets.focus`), as a widget's views see it."""

from __future__ import annotations

from typing import Any

from ...engine import Engine
from ..feed import Feed, Handler
from ..focus import Focus, focus_of
from ..scope import Scope


class FocusFeed(Feed):
    """Snapshot and patch: ``{"stage_id": id | None, "label": text | None}``, the focused stage
    if it is of a project in the widget's scope (else ``None``); a patch after every change.
    ``clear_focus`` clears the engine's focus (so every widget that follows it).
    """

    name = "focus"

    def __init__(self, engine: Engine, scope: Scope) -> None:
        super().__init__(engine)
        self.scope = scope
        self.focus = focus_of(engine)
        self._changed = False
        self._in_scope = self._covers(self.focus.current)
        self.subscribe(self.focus.subscribe(self._on_focus))

    def _covers(self, focus: Focus | None) -> bool:
        return focus is not None and self.scope.covers(focus.project_id)

    def _on_focus(self, focus: Focus | None) -> None:
        # a focus on another project's stage is no change here, unless it ends one of ours
        was, self._in_scope = self._in_scope, self._covers(focus)
        if was or self._in_scope:
            self._changed = True
            self._wake()

    def snapshot(self) -> dict[str, Any]:
        focus = self.focus.current
        if focus is None or not self._covers(focus):
            return {"stage_id": None, "label": None}
        labels = {s.id: s.label for s in self.engine.pipeline(focus.project_id)}
        return {"stage_id": focus.stage_id, "label": labels.get(focus.stage_id, focus.stage_id)}

    def take_patch(self) -> dict[str, Any] | None:
        if not self._changed:
            return None
        self._changed = False
        return self.snapshot()

    def actions(self) -> dict[str, Handler]:
        return {"clear_focus": self._clear}

    def _clear(self, _payload: dict[str, Any]) -> dict[str, Any]:
        self.focus.set(None)
        return {"stage_id": None}
