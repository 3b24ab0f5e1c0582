"""Recovery at start-up: jobs that were active when their engine stopped without closing.

A kernel that crashed or restarted leaves queued and running jobs in the store. The next engine
on that store marks them failed ("interrupted"), retryable, and puts their stages back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .catalog import Catalog
from .logs import JobLogs
from .models import Job, JobStatus, LogLevel, StageStatus
from .store import Store

INTERRUPTED = "interrupted"


def is_interrupted(job: Job) -> bool:
    return bool(job.error) and job.error.startswith(INTERRUPTED)  # type: ignore[union-attr]


def recover_interrupted(jobs: Mapping[str, Job], catalog: Catalog, logs: JobLogs, store: Store) -> int:
    """Mark every job left active as failed-interrupted; return how many there were."""
    now = time.time()
    count = 0
    for job in jobs.values():
        if not job.status.is_active:
            continue
        count += 1
        was = job.status.value
        logs.count_stored(job.id)
        job.status = JobStatus.FAILED
        job.end_time = now
        job.eta_seconds = None
        job.error = (
            f"{INTERRUPTED}: the engine stopped while this job was {was} "
            "(kernel restart or crash); retry it to run it again"
        )
        job.current_step = "Interrupted"
        # a queued job is re-queued when the interrupted job it waited for is retried
        for dep in job.depends_on:
            dep_job = jobs.get(dep)
            if dep_job is not None and is_interrupted(dep_job):
                job.blocked_by = dep_job.blocked_by or dep_job.id
                break
        logs.append(job.id, LogLevel.ERROR, job.error)
        store.save_job(job)
        subject = catalog.subjects.get(job.subject_id)
        if subject is not None:
            status = StageStatus.FAILED if was == "running" else job.previous_stage_status
            subject.stage_statuses[job.stage_id] = status
            store.save_stage_status(subject.id, job.stage_id, status)
    return count
