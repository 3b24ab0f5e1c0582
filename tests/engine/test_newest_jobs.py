"""The monitor's listing of jobs (Engine.listed_job_ids, count_newest): what a brute-force scan
of every job says, through retries, priorities, two projects and a reopened store."""

from __future__ import annotations

import pytest
from cohort_helpers import ABC, ScriptRunner

from pbrain_widgets import JobStatus, Pipeline, Stage
from pbrain_widgets.engine.loop_thread import SCAN_STEP, drive
from pbrain_widgets.errors import InvalidArgumentError, PbrainWidgetsError, UnknownStageError


def brute_listing(engine, status, project_id=None, stage_id=None, every_attempt=False):
    """The jobs a listing holds, by its definition (its order is checked apart)."""
    jobs = [
        j
        for j in engine.get_jobs(project_id=project_id, stage_id=stage_id, status=status)
        if every_attempt or engine.is_newest(j.id)
    ]
    return jobs


def check_listings(engine, projects):
    for project_id in [None, *projects]:
        for stage_id in [None, "a", "b", "c"]:
            counts = engine.count_newest(project_id, stage_id)
            scanned = {
                every: engine.call(drive, engine.scan_listed_job_ids(JobStatus, project_id, stage_id, every))
                for every in (False, True)
            }
            for status in JobStatus:
                for every in (False, True):
                    listed = engine.listed_job_ids(status, project_id, stage_id, every_attempt=every)
                    assert scanned[every][status] == listed
                    expected = brute_listing(engine, status, project_id, stage_id, every)
                    assert sorted(listed) == sorted(j.id for j in expected)
                    assert len(set(listed)) == len(listed)
                    if not every:
                        assert counts[status] == len(listed)
                    for start, stop in ((0, 1), (1, 3), (2, None), (0, 0), (5, 2)):
                        part = engine.listed_job_ids(status, project_id, stage_id, every, start, stop)
                        assert part == listed[start:stop]
                    if status is JobStatus.QUEUED:
                        ready = engine.queue_order(project_id)
                        if stage_id is not None:
                            ready = [j for j in ready if engine.get_job(j).stage_id == stage_id]
                        assert listed[: len(ready)] == ready


async def test_listings_match_a_scan_of_every_job(make_engine, tmp_path):
    db = tmp_path / "jobs.db"
    runner = ScriptRunner(fail={("s1", "b"): "bad", ("s3", "a"): "worse"})
    engine = make_engine(db_path=db, runner=runner, max_concurrent=2)
    first = engine.create_project("p", pipeline=ABC)
    engine.add_subjects(first.id, ["s1", "s2", "s3"])
    second = engine.create_project("q", pipeline=ABC)
    engine.add_subjects(second.id, ["t1", "t2"])
    engine.run_pipeline(first.id)
    await engine.wait(timeout=10)
    failed = engine.get_jobs(project_id=first.id, status=JobStatus.FAILED)
    assert failed
    runner.fail.clear()
    runner.slow.add("c")
    engine.retry_many([j.id for j in failed])
    queued = engine.run_pipeline(second.id)
    engine.set_priority(queued[-1].id, 5)
    check_listings(engine, [first.id, second.id])
    superseded = [j for j in engine.get_jobs(project_id=first.id) if not engine.is_newest(j.id)]
    assert superseded and all(j.id not in engine.listed_job_ids(j.status, first.id) for j in superseded)
    assert all(j.id in engine.listed_job_ids(j.status, first.id, every_attempt=True) for j in superseded)
    assert engine.job_count() == len(engine.get_jobs())
    assert engine.job_count(second.id) == len(queued)
    engine.close()
    reopened = make_engine(db_path=db, runner=runner)
    check_listings(reopened, [first.id, second.id])


async def test_the_latest_to_reach_a_status_comes_first(make_engine):
    engine = make_engine(runner=ScriptRunner(), max_concurrent=1)
    project = engine.create_project("p", pipeline=Pipeline([Stage("x")], name="flat"))
    engine.add_subjects(project.id, ["a", "b", "c"])
    jobs = engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    done = engine.listed_job_ids(JobStatus.COMPLETED, project.id)
    assert done == [j.id for j in reversed(jobs)]  # they completed in queue order
    assert engine.job_fields(done, "status", "attempt") == [(JobStatus.COMPLETED, 1)] * 3
    assert engine.job_fields(done[:1], "attempt") == [(1,)]


def test_bad_listing_arguments_are_refused(engine):
    with pytest.raises(InvalidArgumentError, match="unknown job status"):
        engine.listed_job_ids("lost")
    with pytest.raises(UnknownStageError):
        engine.listed_job_ids("queued", stage_id="nope")
    with pytest.raises(InvalidArgumentError, match="start must be an integer >= 0"):
        engine.listed_job_ids("queued", start=-1)
    with pytest.raises(InvalidArgumentError, match="unknown job field"):
        engine.job_fields([], "nope")


async def test_a_scan_lists_the_engine_as_it_was_when_it_began(make_engine):
    runner = ScriptRunner()
    runner.slow.add("x")  # the first job runs on, the others wait in the queue
    engine = make_engine(runner=runner, max_concurrent=1)
    project = engine.create_project("p", pipeline=Pipeline([Stage("x")], name="flat"))
    engine.add_subjects(project.id, [f"s{i}" for i in range(3 * SCAN_STEP)])
    jobs = engine.run_pipeline(project.id)

    def scan_while_the_queue_changes():
        before = engine.listed_job_ids(JobStatus.QUEUED, project.id)
        work = engine.scan_listed_job_ids([JobStatus.QUEUED, JobStatus.CANCELLED], project.id)
        next(work)  # its lists are taken now
        engine.set_priority(jobs[-1].id, 9)
        engine.cancel(jobs[1].id)
        pauses = 1
        while True:
            try:
                next(work)
                pauses += 1
            except StopIteration as stop:
                return before, stop.value, pauses

    before, scanned, pauses = engine.call(scan_while_the_queue_changes)
    assert scanned == {JobStatus.QUEUED: before, JobStatus.CANCELLED: []}
    assert pauses >= 2  # it gave the loop back on the way (every SCAN_STEP jobs)
    now = engine.listed_job_ids(JobStatus.QUEUED, project.id)
    assert now[0] == jobs[-1].id and jobs[1].id not in now and jobs[1].id in before
    with pytest.raises(PbrainWidgetsError, match="engine's thread"):
        next(engine.scan_listed_job_ids([JobStatus.QUEUED]))
    engine.cancel_all()
