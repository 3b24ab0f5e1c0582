"""Runs: the jobs queued by one action, and the summary when the last of them ended."""

from __future__ import annotations

from pbrain_widgets.engine.models import Job, JobStatus
from pbrain_widgets.engine.runs import Runs


def _job(job_id: str) -> Job:
    return Job(id=job_id, project_id="p", subject_id="s", stage_id=job_id, log_path="")


def test_a_run_added_in_parts_finishes_once_when_sealed_and_ended():
    runs = Runs()
    finished = []
    runs.listeners.add(finished.append)
    a, b = _job("a"), _job("b")
    jobs = {"a": a, "b": b}
    run = runs.open("run_pipeline")
    runs.add(run, [a])
    a.status = JobStatus.COMPLETED
    runs.job_ended(a, jobs)  # ends while the plan still adds jobs: the run is not finished
    assert finished == []
    runs.add(run, [b, b])
    assert runs.seal(run, jobs) == run.id
    b.status = JobStatus.FAILED
    runs.job_ended(b, jobs)
    (summary,) = finished
    assert (summary.job_ids, summary.completed, summary.failed) == (["a", "b"], 1, 1)


def test_a_run_whose_jobs_all_ended_before_it_was_sealed_finishes_at_the_seal():
    runs = Runs()
    finished = []
    runs.listeners.add(finished.append)
    a = _job("a")
    run = runs.open("run_pipeline")
    runs.add(run, [a])
    a.status = JobStatus.CANCELLED
    runs.job_ended(a, {"a": a})
    runs.seal(run, {"a": a})
    assert [s.cancelled for s in finished] == [1]
    empty = runs.open("retry")
    assert runs.seal(empty, {}) is None and len(finished) == 1
