"""Timeline: every job of a project (or of the engine) on a time axis, with resources under it."""

from __future__ import annotations

import traitlets

from ..engine import Engine, Project
from .feeds import LogFeed, TimelineFeed
from .guarded import GuardedWidget


class Timeline(GuardedWidget):
    """One row per execution slot, each job a bar coloured by stage from its start to its end,
    its queue wait a thin line before it; failed and cancelled jobs marked (a cross, a slash and
    a label in the tooltip), step changes as ticks inside the bar; live while jobs run. Under it,
    the total CPU and memory of the running jobs per second.

    Wheel zooms around the pointer, drag pans, hover shows the job, click opens it (details and
    live log); keys: + / - zoom, arrows pan, 0 fits everything.

    Args:
        engine: the engine to follow.
        project_id: only this project's jobs (default: every job of the engine).
    """

    _view_kind = traitlets.Unicode("timeline").tag(sync=True)
    project_id = traitlets.Unicode(None, allow_none=True, read_only=True).tag(sync=True)

    def __init__(self, engine: Engine, project_id: str | Project | None = None) -> None:
        if isinstance(project_id, Project):
            project_id = project_id.id
        self.timeline_feed = TimelineFeed(engine, project_id)
        logs = LogFeed(engine, self.timeline_feed.scope)
        super().__init__(engine, [self.timeline_feed, logs])
        self.set_trait("project_id", self.timeline_feed.project_id)
