"""PipelineGraph: a project's stage DAG, live, with the cohort's counts per stage."""

from __future__ import annotations

from typing import Any

import traitlets

from ..engine import Engine, Project
from .feeds import FocusFeed, GraphFeed
from .focus import Focus
from .guarded import GuardedWidget
from .scope import Scope
from .validation import BadRequest


class PipelineGraph(GuardedWidget):
    """The stages of a project laid out left to right along their dependencies; each node shows
    how many subjects are done / stale / running / queued / waiting / failed / not run (a stacked
    bar and the numbers) and the stage's median run time; edges from a failed stage to the
    stages it blocks are drawn dashed and red.

    Clicking a node (or Enter on it) puts that stage in focus for the engine: the
    :class:`JobMonitor` and :class:`ProjectDashboard` widgets of the same engine and project
    then show only that stage, until the focus is cleared (click the node again, or the focus
    chip in those widgets). :meth:`focus_stage` does the same from Python.

    Args:
        engine: the engine to follow.
        project_id: the project (or a :class:`~pbrain_widgets.Project`).
    """

    _view_kind = traitlets.Unicode("pipeline_graph").tag(sync=True)
    project_id = traitlets.Unicode(read_only=True).tag(sync=True)

    def __init__(self, engine: Engine, project_id: str | Project) -> None:
        if isinstance(project_id, Project):
            project_id = project_id.id
        self.graph_feed = GraphFeed(engine, project_id)
        self.focus_feed = FocusFeed(engine, Scope.of_project(engine, project_id))
        super().__init__(engine, [self.graph_feed, self.focus_feed], actions={"focus": self._focus})
        self.set_trait("project_id", self.graph_feed.project_id)

    def focus_stage(self, stage_id: str | None) -> None:
        """Put a stage of this project in focus (``None``: clear the focus)."""
        if stage_id is not None:
            self.graph_feed.pipeline[stage_id]  # an unknown stage raises UnknownStageError
        self.engine.call(self._set_focus, stage_id)

    def _set_focus(self, stage_id: str | None) -> None:
        focus = None if stage_id is None else Focus(self.graph_feed.project_id, stage_id)
        self.focus_feed.focus.set(focus)

    def _focus(self, payload: dict[str, Any]) -> dict[str, Any]:
        stage_id = payload["stage_id"]
        if stage_id is not None and stage_id not in self.graph_feed.pipeline:
            valid = ", ".join(s.id for s in self.graph_feed.pipeline)
            raise BadRequest(f"unknown stage {stage_id!r} in this project; valid stages: {valid}")
        self._set_focus(stage_id)
        return {"stage_id": stage_id}
