"""cancel_many, retry_many, run_cells, cancel_cells and the run-finished hook."""

from __future__ import annotations

import asyncio
import threading

import pytest
from cohort_helpers import ABC, ScriptRunner, setup

from pbrain_widgets import JobStatus, Pipeline, Stage, StageStatus
from pbrain_widgets.engine import loop_thread
from pbrain_widgets.errors import InvalidArgumentError, UnknownStageError, UnknownSubjectError


async def test_cancel_many_and_retry_many(make_engine):
    runner = ScriptRunner(seconds=30)
    engine = make_engine(runner=runner, max_concurrent=1)
    project, subjects = setup(engine, ["s1", "s2"])
    jobs = engine.run_pipeline(project.id)  # s1: a running; the rest queued
    a1, b1, c1, a2 = jobs[0], jobs[1], jobs[2], jobs[3]
    result = engine.cancel_many([a1.id, c1.id, "nope"])
    # a1 cancelled takes b1 and c1 with it; c1 was already cancelled by then
    assert result.done_ids == [a1.id, b1.id, c1.id]
    assert "nope" in result.skipped and "unknown job id" in result.skipped["nope"]
    again = engine.cancel_many([a1.id])
    assert again.done == [] and "cancelled" in again.skipped[a1.id]
    assert engine.get_job(a2.id).status is JobStatus.RUNNING
    runner.seconds = 0
    engine.cancel(a2.id)
    retried = engine.retry_many([c1.id, a1.id, a2.id, a2.id])
    # roots first: a1's retry re-queues b1 and c1 with it; c1 itself is then already retried
    assert [j.stage_id for j in retried.done] == ["a", "a"]
    assert [j.attempt for j in retried.done] == [2, 2]
    assert "already retried" in retried.skipped[c1.id]
    await engine.wait(timeout=30)
    assert {j.status for j in engine.get_jobs() if j.attempt == 2} == {JobStatus.COMPLETED}
    assert len([j for j in engine.get_jobs() if j.attempt == 2]) == 6


async def test_run_cells_queues_any_set_of_cells_as_one_run(make_engine):
    engine = make_engine(runner=ScriptRunner())
    project, subjects = setup(engine)
    s1, s2, s3 = subjects["s1"].id, subjects["s2"].id, subjects["s3"].id
    summaries = []
    engine.on_run_finished(summaries.append)
    await engine.wait(engine.run_pipeline(project.id, [s1], ["a", "b"]))
    # s1: a and b done; its c and s2's b are asked for (s2's a comes as a dependency), s3 not at all
    jobs = engine.run_cells(project.id, [(s1, "a"), (s1, "c"), (s2, "b"), (s2, "b")])
    assert sorted((j.subject_id, j.stage_id) for j in jobs) == sorted([(s1, "c"), (s2, "a"), (s2, "b")])
    await engine.wait(timeout=30)
    assert summaries[-1].action == "run_cells" and len(summaries[-1].job_ids) == 3
    assert set(engine.get_subject(s3).stage_statuses.values()) == {StageStatus.NOT_RUN}
    assert engine.get_subject(s2).stage_statuses["c"] is StageStatus.NOT_RUN
    # rerun_done redoes a done cell; its done dependents become stale once it completes
    again = engine.run_cells(project.id, [(s1, "a")], rerun_done=True)
    assert [(j.subject_id, j.stage_id, j.attempt) for j in again] == [(s1, "a", 1)]
    await engine.wait(timeout=30)
    statuses = engine.get_subject(s1).stage_statuses
    assert (statuses["a"], statuses["b"], statuses["c"]) == (
        StageStatus.DONE,
        StageStatus.STALE,
        StageStatus.STALE,
    )


async def test_run_cells_checks_every_cell_before_queueing_any(make_engine):
    engine = make_engine(runner=ScriptRunner())
    project, subjects = setup(engine)
    other = engine.create_project("other", pipeline=ABC)
    (stranger,) = engine.add_subjects(other.id, ["x1"])
    s1 = subjects["s1"].id
    with pytest.raises(UnknownSubjectError, match=stranger.id):
        engine.run_cells(project.id, [(s1, "a"), (stranger.id, "a")])
    with pytest.raises(UnknownStageError, match="'zz'"):
        engine.run_cells(project.id, [(s1, "a"), (s1, "zz")])
    with pytest.raises(InvalidArgumentError, match="pair"):
        engine.run_cells(project.id, [(s1, "a"), "ab"])  # type: ignore[list-item]
    assert engine.get_jobs() == []


async def test_cancel_cells_cancels_the_active_jobs_of_the_cells_only(make_engine):
    runner = ScriptRunner(seconds=30)
    engine = make_engine(runner=runner, max_concurrent=1)
    project, subjects = setup(engine, ["s1", "s2"])
    s1, s2 = subjects["s1"].id, subjects["s2"].id
    jobs = {(j.subject_id, j.stage_id): j for j in engine.run_pipeline(project.id)}  # s1 a runs
    with pytest.raises(UnknownSubjectError, match="'nope'"):
        engine.cancel_cells(project.id, [(s1, "a"), ("nope", "a")])
    assert engine.get_jobs(status="cancelled") == []  # nothing half-done
    # s1's a (running) takes its queued b and c with it; s2's c alone; s2's a and b stay
    result = engine.cancel_cells(project.id, [(s1, "a"), (s2, "c"), (s2, "c")])
    assert sorted(result.done_ids) == sorted(jobs[k].id for k in [(s1, "a"), (s1, "b"), (s1, "c"), (s2, "c")])
    assert {j.status for j in engine.get_jobs(subject_id=s2) if j.stage_id != "c"} <= {
        JobStatus.QUEUED,
        JobStatus.RUNNING,
    }
    assert engine.cancel_cells(project.id, [(s1, "b")]).done == []  # no active job: left alone
    runner.seconds = 0
    engine.cancel_all(project.id)


async def test_run_finished_once_per_run_with_root_failures(make_engine):
    engine = make_engine(runner=ScriptRunner(fail={("s1", "a"): "broken input"}))
    project, subjects = setup(engine)
    summaries = []
    engine.on_run_finished(summaries.append)
    jobs = engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    assert len(summaries) == 1
    (s,) = summaries
    assert (s.action, len(s.job_ids), s.completed, s.failed, s.cancelled) == ("run_pipeline", 9, 6, 3, 0)
    assert s.root_failed_ids == [jobs[0].id] and not s.ok and s.duration >= 0
    assert "1 root failure" in s.message
    engine.retry(jobs[0].id)  # fails again: a second run, a second summary
    await engine.wait(timeout=30)
    assert [x.action for x in summaries] == ["run_pipeline", "retry"]
    assert summaries[1].failed == 3 and len(summaries[1].root_failed_ids) == 1


async def test_export_logs(make_engine, tmp_path):
    engine = make_engine(runner=ScriptRunner())
    project = engine.create_project("study one")
    (subject,) = engine.add_subjects(project.id, ["sub 01:ä"])
    job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
    await engine.wait(timeout=30)
    (path,) = engine.export_logs([job.id], tmp_path / "logs")
    assert path.name == f"study_one_sub_01_import_attempt1_{job.id}.log"
    text = path.read_text()
    assert "working on sub 01:ä stage import with magicword" in text
    assert len(text.splitlines()) == len(engine.get_logs(job.id))


def watched(engine, project_id, status, call):
    """``call()`` from this thread while a probe on the engine's loop counts the project's jobs
    with ``status``: the result, and the counts the probe saw."""
    seen: list[int] = []
    stop = threading.Event()

    async def probe():
        while not stop.is_set():
            seen.append(engine.count_newest(project_id)[status])
            await asyncio.sleep(0)

    probing = engine.submit(probe())
    try:
        return call(), seen
    finally:
        stop.set()
        probing.result(5)


async def test_large_batches_run_in_slices_and_start_nothing_on_the_way(make_engine, monkeypatch):
    monkeypatch.setattr(loop_thread, "SLICE_SECONDS", 0.0)  # every pause gives the loop back
    engine = make_engine(runner=ScriptRunner(seconds=30), max_concurrent=1)
    project = engine.create_project("p", pipeline=Pipeline([Stage("x")], name="flat"))
    engine.add_subjects(project.id, [f"s{i}" for i in range(600)])
    jobs = engine.run_pipeline(project.id)  # the first runs, the others wait
    ids = [j.id for j in jobs]
    result, seen = watched(engine, project.id, JobStatus.CANCELLED, lambda: engine.cancel_many(ids))
    assert len(result.done) == 600 and not result.skipped
    assert any(0 < n < 600 for n in seen), "the loop did not run during the batch"
    started = [j.id for j in engine.get_jobs(project_id=project.id) if j.start_time is not None]
    assert started == [jobs[0].id]  # the slot the running job left was not taken mid-batch
    result, seen = watched(engine, project.id, JobStatus.QUEUED, lambda: engine.retry_many(ids))
    assert len(result.done) == 600 and any(0 < n < 599 for n in seen)
    cancelled, seen = watched(engine, project.id, JobStatus.CANCELLED, lambda: engine.cancel_all(project.id))
    assert len(cancelled) == 600 and any(0 < n < 600 for n in seen)
    assert len([j for j in engine.get_jobs(project_id=project.id) if j.start_time is not None]) == 2
