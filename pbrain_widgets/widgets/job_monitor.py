"""JobMonitor: every job of a project (or of the engine), live, with cancel / retry / kill all."""

from __future__ import annotations

import traitlets

from ..engine import Engine
from .feeds import FocusFeed, JobsFeed, LogFeed
from .guarded import GuardedWidget


class JobMonitor(GuardedWidget):
    """Stats, filter tabs with live counts, a virtualised list of job cards, expandable to the
    job's details and live log; Cancel, Retry and Kill all act on the engine. Shows only the
    stage in focus when a :class:`PipelineGraph` of the same engine focuses one.

    Args:
        engine: the engine to follow.
        project_id: only this project's jobs (default: every job of the engine).
        sounds: play a short tone in the browser when a job completes (high) or fails (low).
    """

    _view_kind = traitlets.Unicode("job_monitor").tag(sync=True)
    project_id = traitlets.Unicode(None, allow_none=True, read_only=True).tag(sync=True)
    sounds = traitlets.Bool(False).tag(sync=True, from_view=True)

    def __init__(self, engine: Engine, project_id: str | None = None, sounds: bool = False) -> None:
        self.jobs_feed = JobsFeed(engine, project_id)
        logs = LogFeed(engine, self.jobs_feed.scope)
        focus = FocusFeed(engine, self.jobs_feed.scope)
        super().__init__(engine, [self.jobs_feed, logs, focus], sounds=sounds)
        self.set_trait("project_id", project_id)
