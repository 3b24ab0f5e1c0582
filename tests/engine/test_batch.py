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


def flat_queue(make_engine, n, runner=None):
    """``n`` jobs of a one-stage pipeline: the first runs (30 s), the others wait in the queue."""
    engine = make_engine(runner=runner or ScriptRunner(seconds=30), max_concurrent=1)
    project = engine.create_project("p", pipeline=Pipeline([Stage("x")], name="flat"))
    engine.add_subjects(project.id, [f"s{i}" for i in range(n)])
    return engine, project, [j.id for j in engine.run_pipeline(project.id)]


async def test_set_priority_many_reorders_the_queue_and_skips_what_is_not_queued(make_engine):
    engine, project, ids = flat_queue(make_engine, 6)
    running, q1, q2, q3, q4, q5 = ids
    events = []
    engine.on_job_update(lambda job: events.append((job.id, job.priority)))
    result = engine.set_priority_many({q5: 3, running: 9, q3: 2, "nope": 1, q1: 1})
    assert result.changed == [q5, q3, q1]
    assert set(result.skipped) == {running, "nope"}
    assert "is running; only a queued job's priority can change" in result.skipped[running]
    assert "unknown job id" in result.skipped["nope"]
    assert engine.queue_order() == [q5, q3, q1, q2, q4]
    assert engine.get_job(running).priority == 0
    assert sorted(events) == sorted([(q5, 3), (q3, 2), (q1, 1)])  # one event per changed job
    # pairs: the later one of a job wins; lowered below the default, it starts last
    again = engine.set_priority_many([(q2, 5), (q4, 1), (q2, -1)])
    assert again.changed == [q2, q4] and not again.skipped
    assert engine.queue_order() == [q5, q3, q1, q4, q2]
    assert [engine.get_job(j).priority for j in (q1, q2, q3, q4, q5)] == [1, -1, 2, 1, 3]
    engine.cancel(q3)
    # the words of set_priority's refusal, as cancel_many's skipped say them (keyed by the id)
    assert engine.set_priority_many({q3: 7}).skipped == {
        q3: "job is cancelled; only a queued job's priority can change"
    }
    assert engine.set_priority_many({}).changed == []
    engine.cancel_all()


@pytest.mark.parametrize(
    "bad",
    [{"b": "high"}, {"b": True}, {"b": 1.5}, {"b": None}, [("a", 1), ("b",)], [("a", 1), "bb"], "ab", 5],
)
async def test_set_priority_many_checks_every_priority_before_changing_any(make_engine, bad):
    engine, project, ids = flat_queue(make_engine, 3)
    first, a, b = ids
    if isinstance(bad, dict):  # a good change first, then the bad one
        value = bad["b"]
        bad = {a: 4, b: value}
    elif isinstance(bad, list):
        bad = [(a if p[0] == "a" else p[0], *p[1:]) if isinstance(p, tuple) else p for p in bad]
    events = []
    engine.on_job_update(events.append)
    with pytest.raises(InvalidArgumentError) as raised:
        engine.set_priority_many(bad)
    if isinstance(bad, dict):
        assert f"priority must be an integer, got {value!r} (job {b!r})" in str(raised.value)
    assert events == [] and [engine.get_job(j).priority for j in ids] == [0, 0, 0]
    assert engine.queue_order() == [a, b]
    # one rule for both: set_priority refuses what set_priority_many refuses
    with pytest.raises(InvalidArgumentError, match="priority must be an integer, got True"):
        engine.set_priority(a, True)
    engine.cancel_all()


async def test_a_large_priority_batch_runs_in_slices_and_starts_nothing_on_the_way(make_engine, monkeypatch):
    monkeypatch.setattr(loop_thread, "SLICE_SECONDS", 0.0)  # every pause gives the loop back
    n = 20_000
    engine, project, ids = flat_queue(make_engine, n)
    running, queued, last = ids[0], ids[1:-1], ids[-1]
    moved = [0]

    def count(job):
        if job.priority:
            moved[0] += 1

    engine.on_job_update(count)
    seen: list[int] = []
    stop = threading.Event()

    async def probe():
        freed = False
        while not stop.is_set():
            seen.append(moved[0])
            if moved[0] and not freed:  # mid-batch, the running job's slot comes free
                engine.cancel(running)
                freed = True
            await asyncio.sleep(0)

    probing = engine.submit(probe())
    try:
        # the running job first (skipped), everything queued to 1, the last job to 2 in the last step
        result = engine.set_priority_many([(running, 5), *((j, 1) for j in queued), (last, 2)])
    finally:
        stop.set()
        probing.result(5)
    assert len(result.changed) == n - 1 and list(result.skipped) == [running]
    assert any(0 < m < n - 1 for m in seen), "the loop did not run during the batch"
    assert engine.get_job(running).status is JobStatus.CANCELLED
    # no start between two slices (it would have taken a job at its old place): the last job,
    # first in the new order, took the slot once every priority was set
    started = [j.id for j in engine.get_jobs(project_id=project.id) if j.start_time is not None]
    assert sorted(started) == sorted([running, last])
    assert engine.get_job(last).status is JobStatus.RUNNING
    assert engine.queue_order(limit=3) == queued[:3]
    assert len(engine._scheduler._heap) <= n + 64  # the steps' stale entries dropped at its end
    engine.cancel_all()
