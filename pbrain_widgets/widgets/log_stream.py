"""LogStream: one job's log, live."""

from __future__ import annotations

import traitlets

from ..engine import Engine, Job
from .feeds import JobFeed, LogFeed
from .guarded import GuardedWidget
from .scope import Scope


class LogStream(GuardedWidget):
    """A job's log lines, coloured by level, following new lines as they come.

    A view opened late sees the last ``tail`` lines and can page back to older ones.

    Args:
        engine: the engine that runs the job.
        job_id: the job (or a :class:`~pbrain_widgets.Job`).
        tail: lines a view starts with.
    """

    _view_kind = traitlets.Unicode("log_stream").tag(sync=True)
    job_id = traitlets.Unicode(read_only=True).tag(sync=True)

    def __init__(self, engine: Engine, job_id: str | Job, tail: int = 1000) -> None:
        if isinstance(job_id, Job):
            job_id = job_id.id
        self.job_feed = JobFeed(engine, job_id)
        job_id = self.job_feed.job_id
        logs = LogFeed(engine, Scope.of_job(engine, job_id), pinned=job_id, tail=tail)
        super().__init__(engine, [self.job_feed, logs])
        self.set_trait("job_id", job_id)
