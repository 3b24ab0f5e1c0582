"""JobHistory: every job ever run, with per-stage analytics, failures grouped by root cause,
and a searchable table paged from the kernel."""

from __future__ import annotations

import traitlets

from ..engine import Engine, Project
from .feeds import HistoryFeed
from .guarded import GuardedWidget


class JobHistory(GuardedWidget):
    """Plots of each stage's run times (min, quartiles, median, p90, max) and of failures over
    time (root failures apart from the jobs they took down); the largest failure groups; per-stage
    success rate, median and p90 run time and queue wait; and a table of every attempt, searched
    in the errors and logs (the engine's full-text index) and filtered by stage and status, one
    page at a time from the kernel. Downloads: the matching jobs' logs as one file, and the
    history as CSV.

    Args:
        engine: the engine to follow.
        project_id: only this project's jobs (default: every job of the engine).
    """

    _view_kind = traitlets.Unicode("job_history").tag(sync=True)
    project_id = traitlets.Unicode(None, allow_none=True, read_only=True).tag(sync=True)

    def __init__(self, engine: Engine, project_id: str | Project | None = None) -> None:
        if isinstance(project_id, Project):
            project_id = project_id.id
        self.history_feed = HistoryFeed(engine, project_id)
        super().__init__(engine, [self.history_feed])
        self.set_trait("project_id", self.history_feed.project_id)
