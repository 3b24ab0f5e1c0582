"""The engine through its public API, on real event loops."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import textwrap
import time

import pytest

from pbrain_widgets import (
    STUDIO_PIPELINE,
    DuplicateNameError,
    Engine,
    InvalidArgumentError,
    InvalidTransitionError,
    JobContext,
    JobStatus,
    LogLevel,
    NeedsUserAction,
    PbrainWidgetsError,
    Pipeline,
    Runner,
    SimulatedRunner,
    Stage,
    StageStatus,
    StoreLockedError,
    UnknownJobError,
    UnknownProjectError,
    UnknownStageError,
    UnknownSubjectError,
)


class SleepRunner(Runner):
    """Sleeps for a long time; records whether its work was interrupted."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self.interrupted: list[str] = []
        self.finished: list[str] = []

    async def run(self, ctx: JobContext) -> None:
        ctx.progress(10, "Sleeping")
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.interrupted.append(ctx.job_id)
            raise
        self.finished.append(ctx.job_id)


class BoomRunner(Runner):
    async def run(self, ctx: JobContext) -> None:
        ctx.info("about to fail")
        raise ValueError("voxel count mismatch: 12 != 13")


LINEAR = Pipeline([Stage("a"), Stage("b", depends_on=("a",)), Stage("c", depends_on=("b",))], name="abc")


def _project(engine: Engine, subjects=("s1", "s2"), pipeline=STUDIO_PIPELINE, name="study"):
    project = engine.create_project(name, pipeline=pipeline)
    return project, engine.add_subjects(project.id, list(subjects))


# -- projects and subjects ----------------------------------------------------------------------


def test_projects_and_subjects(engine):
    project, subjects = _project(engine, ["sub-01", {"name": "sub-02", "has_dce": True}])
    assert engine.get_projects() == [project]
    assert [s.name for s in engine.get_subjects(project.id)] == ["sub-01", "sub-02"]
    s2 = engine.get_subject(subjects[1].id)
    assert s2.has_dce and not s2.has_t1
    assert set(s2.stage_statuses.values()) == {StageStatus.NOT_RUN}
    assert s2.to_dict()["stage_statuses"]["import"] == "not_run"


def test_source_path_is_checked_and_modalities_detected(engine, tmp_path):
    project = engine.create_project("p")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dce.nii.gz").write_bytes(b"")
    (tmp_path / "sub" / "dwi.nii.gz").write_bytes(b"")
    [s] = engine.add_subjects(project.id, [{"name": "x", "source_path": tmp_path / "sub"}])
    assert (s.has_dce, s.has_diffusion, s.has_t1) == (True, True, False)
    with pytest.raises(InvalidArgumentError, match="not an existing folder"):
        engine.add_subjects(project.id, [{"name": "y", "source_path": tmp_path / "missing"}])


def test_bad_input_raises_specific_errors_and_creates_nothing(engine):
    project, subjects = _project(engine)
    with pytest.raises(DuplicateNameError, match="'s1' already exists"):
        engine.add_subjects(project.id, ["s3", "s1"])
    with pytest.raises(DuplicateNameError, match="'s4'"):
        engine.add_subjects(project.id, ["s4", "s4"])
    assert [s.name for s in engine.get_subjects(project.id)] == ["s1", "s2"]
    with pytest.raises(InvalidArgumentError, match="unknown subject field"):
        engine.add_subjects(project.id, [{"name": "z", "colour": "red"}])
    with pytest.raises(UnknownProjectError, match=f"'nope'.*{project.id}"):
        engine.run_pipeline("nope")
    with pytest.raises(UnknownSubjectError, match="'ghost'"):
        engine.run_pipeline(project.id, subject_ids=["ghost"])
    with pytest.raises(UnknownStageError, match="'t2_fit'.*'t1_fit'"):
        engine.run_pipeline(project.id, stage_ids=["t2_fit"])
    with pytest.raises(UnknownJobError, match="'missing'"):
        engine.cancel("missing")
    with pytest.raises(DuplicateNameError, match="'study'"):
        engine.create_project("study")
    assert engine.get_jobs() == []  # nothing was queued by the failed calls
    with pytest.raises(InvalidArgumentError, match="max_concurrent.*0"):
        Engine(db_path=":memory:", max_concurrent=0)
    # all are PbrainWidgetsError
    assert issubclass(UnknownJobError, PbrainWidgetsError)


def test_subject_of_another_project_is_rejected(engine):
    p1, [a, _] = _project(engine, name="one")
    p2, _ = _project(engine, name="two")
    with pytest.raises(UnknownSubjectError, match=a.id):
        engine.run_stage(p2.id, a.id, "import")


# -- running ------------------------------------------------------------------------------------


async def test_run_pipeline_returns_at_once_and_respects_dependencies(engine):
    project, subjects = _project(engine, ["a", "b", "c"])
    jobs = engine.run_pipeline(project.id)
    assert len(jobs) == 30
    # the first stage of the first subjects starts at once, everything else waits
    assert [j.status for j in jobs].count(JobStatus.RUNNING) == 3
    assert engine.get_subject(subjects[0].id).stage_statuses["t1_fit"] == StageStatus.QUEUED
    await engine.wait(timeout=30)
    done = {(j.subject_id, j.stage_id): j for j in engine.get_jobs()}
    assert {j.status for j in done.values()} == {JobStatus.COMPLETED}
    for (subject_id, stage_id), job in done.items():
        assert job.progress == 100
        for dep in STUDIO_PIPELINE[stage_id].depends_on:
            assert done[(subject_id, dep)].end_time <= job.start_time
    assert set(engine.get_subject(subjects[0].id).stage_statuses.values()) == {StageStatus.DONE}


async def test_chosen_stages_plus_dependencies_not_done(engine):
    project, [s1, s2] = _project(engine)
    await engine.wait(engine.run_pipeline(project.id, [s1.id], ["t1_fit"]), timeout=10)
    jobs = engine.run_pipeline(project.id, [s1.id, s2.id], ["segmentation"])
    plan = sorted((engine.get_subject(j.subject_id).name, j.stage_id) for j in jobs)
    # s1 has import and t1_fit done already; s2 needs them
    assert plan == [("s1", "segmentation"), ("s2", "import"), ("s2", "segmentation"), ("s2", "t1_fit")]
    await engine.wait(jobs, timeout=10)


async def test_active_stage_is_not_queued_twice(make_engine):
    engine = make_engine(runner=SleepRunner())
    project, [s1, _] = _project(engine)
    first = engine.run_stage(project.id, s1.id, "t1_fit")
    again = engine.run_stage(project.id, s1.id, "t1_fit")
    assert again.id == first.id
    assert len(engine.get_jobs(subject_id=s1.id)) == 2  # import + t1_fit


async def test_max_concurrent_is_never_exceeded(make_engine):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.002, failure_rate=0), max_concurrent=3)
    project, _ = _project(engine, [f"s{i}" for i in range(8)])
    running: set[str] = set()
    peak = 0

    def track(job):
        nonlocal peak
        if job.status is JobStatus.RUNNING:
            running.add(job.id)
        else:
            running.discard(job.id)
        peak = max(peak, len(running))

    engine.on_job_update(track)
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    assert peak == 3


async def test_priority_then_queue_order(make_engine):
    engine = make_engine(max_concurrent=1)
    flat = Pipeline([Stage("x")], name="flat")
    project, subjects = _project(engine, ["a", "b", "c", "d"], pipeline=flat)
    jobs = engine.run_pipeline(project.id)
    engine.set_priority(jobs[3].id, 5)
    engine.set_priority(jobs[2].id, 1)
    # a runs; the others will start by priority, then queue order
    assert engine.queue_order() == [jobs[3].id, jobs[2].id, jobs[1].id]
    assert engine.queue_order(project.id) == engine.queue_order()
    await engine.wait(timeout=10)
    assert engine.queue_order() == []
    order = sorted(engine.get_jobs(), key=lambda j: j.start_time)
    assert [engine.get_subject(j.subject_id).name for j in order] == ["a", "d", "c", "b"]
    with pytest.raises(InvalidTransitionError, match="only a queued job's priority"):
        engine.set_priority(jobs[0].id, 3)
    with pytest.raises(InvalidArgumentError, match="priority must be an integer"):
        engine.set_priority(jobs[0].id, "high")


async def test_queue_order_limited_to_a_project_and_subject_names(make_engine):
    engine = make_engine(max_concurrent=1)
    flat = Pipeline([Stage("x")], name="flat")
    first, _ = _project(engine, ["a", "b", "c"], pipeline=flat)
    second = engine.create_project("second", pipeline=flat)
    engine.add_subjects(second.id, ["d", "e"])
    engine.run_pipeline(first.id)
    theirs = engine.run_pipeline(second.id)
    engine.set_priority(theirs[1].id, 2)
    everything = engine.queue_order()
    assert engine.queue_order(limit=2) == everything[:2]
    assert everything[0] == theirs[1].id
    assert engine.queue_order(second.id, limit=1) == [theirs[1].id]
    assert engine.queue_order(second.id) == [theirs[1].id, theirs[0].id]
    assert engine.queue_order(first.id, limit=0) == []
    with pytest.raises(InvalidArgumentError, match="limit must be an integer >= 0 or None, got -1"):
        engine.queue_order(limit=-1)
    assert engine.subject_names(second.id) == {s.id: s.name for s in engine.get_subjects(second.id)}
    assert list(engine.subject_names(second.id).values()) == ["d", "e"]


async def test_failure_records_traceback_and_fails_dependents(make_engine):
    pipeline = Pipeline(
        [
            Stage("a"),
            Stage("b", depends_on=("a",), runner=BoomRunner()),
            Stage("c", depends_on=("b",)),
            Stage("d", depends_on=("a",)),
        ],
        name="boom",
    )
    engine = make_engine()
    project, [s1] = _project(engine, ["s1"], pipeline=pipeline)
    jobs = {j.stage_id: j for j in engine.run_pipeline(project.id)}
    await engine.wait(timeout=10)
    b = engine.get_job(jobs["b"].id)
    assert b.status is JobStatus.FAILED
    assert b.error == "ValueError: voxel count mismatch: 12 != 13"
    logs = engine.get_logs(b.id)
    assert any("Traceback (most recent call last)" in e.message for e in logs)
    assert logs[-1].level is LogLevel.ERROR
    c = engine.get_job(jobs["c"].id)
    assert c.status is JobStatus.FAILED and c.blocked_by == b.id
    assert "dependency failed" in c.error and "B" in c.error and b.short_id in c.error
    assert engine.get_job(jobs["d"].id).status is JobStatus.COMPLETED
    statuses = engine.get_subject(s1.id).stage_statuses
    assert statuses == {"a": "done", "b": "failed", "c": "not_run", "d": "done"}


async def test_simulated_failure_is_repeatable_and_named(make_engine):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0, failure_rate=1))
    project, [s1] = _project(engine, ["s1"])
    jobs = engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    imp = engine.get_job(jobs[0].id)
    assert imp.error == "Simulated error in step: Indexing sequences"
    assert {engine.get_job(j.id).status for j in jobs} == {JobStatus.FAILED}
    assert engine.active_jobs == 0


async def test_cancel_running_stops_at_once_and_never_completes(make_engine):
    runner = SleepRunner(seconds=0.5)
    engine = make_engine(runner=runner)
    project, [s1] = _project(engine, ["s1"], pipeline=LINEAR)
    jobs = engine.run_pipeline(project.id)
    while engine.get_job(jobs[0].id).progress != 10:  # the runner is in its sleep
        await asyncio.sleep(0.005)
    t0 = time.perf_counter()
    cancelled = engine.cancel(jobs[0].id)
    assert cancelled.status is JobStatus.CANCELLED
    await engine.wait(timeout=5)
    await asyncio.sleep(0.6)  # longer than the runner's sleep: it must not come back
    assert time.perf_counter() - t0 < 2
    assert runner.interrupted == [jobs[0].id] and runner.finished == []
    assert engine.get_job(jobs[0].id).status is JobStatus.CANCELLED
    assert [engine.get_job(j.id).status for j in jobs[1:]] == [JobStatus.CANCELLED] * 2
    assert engine.get_subject(s1.id).stage_statuses == {"a": "not_run", "b": "not_run", "c": "not_run"}
    with pytest.raises(InvalidTransitionError, match="is cancelled; only queued or running"):
        engine.cancel(jobs[0].id)


async def test_cancel_all_and_queued_cancel(make_engine):
    engine = make_engine(runner=SleepRunner(), max_concurrent=2)
    project, _ = _project(engine, ["a", "b", "c"], pipeline=LINEAR)
    jobs = engine.run_pipeline(project.id)
    await asyncio.sleep(0.05)
    queued_c = next(j for j in jobs if j.stage_id == "c")
    assert engine.cancel(queued_c.id).status is JobStatus.CANCELLED
    cancelled = engine.cancel_all(project.id)
    assert len(cancelled) == 8
    await engine.wait(timeout=5)
    assert {j.status for j in engine.get_jobs()} == {JobStatus.CANCELLED}


async def test_cancelled_job_releases_its_slot_only_when_its_work_stopped(make_engine):
    class SlowStop(Runner):
        async def run(self, ctx):
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                await asyncio.sleep(0.2)  # e.g. waiting for a process to exit
                raise

    engine = make_engine(runner=SlowStop(), max_concurrent=1)
    project, [a, b] = _project(engine, ["a", "b"], pipeline=Pipeline([Stage("x")]))
    ja, jb = engine.run_pipeline(project.id)
    await asyncio.sleep(0.02)
    engine.cancel(ja.id)
    await asyncio.sleep(0.1)
    assert engine.get_job(jb.id).status is JobStatus.QUEUED
    await asyncio.sleep(0.2)
    assert engine.get_job(jb.id).status is JobStatus.RUNNING


async def test_retry_makes_a_new_attempt_and_requeues_skipped_dependents(make_engine):
    flaky = SimulatedRunner(step_seconds=0, failure_rate=1)
    pipeline = Pipeline(
        [Stage("a"), Stage("b", depends_on=("a",), runner=flaky), Stage("c", depends_on=("b",))]
    )
    engine = make_engine()
    project, [s1] = _project(engine, ["s1"], pipeline=pipeline)
    first = {j.stage_id: j for j in engine.run_pipeline(project.id)}
    await engine.wait(timeout=10)
    with pytest.raises(InvalidTransitionError, match="is completed; only failed or cancelled"):
        engine.retry(first["a"].id)
    flaky.failure_rate, flaky.step_seconds = 0, 0.5  # the engine's thread goes on meanwhile
    again = engine.retry(first["b"].id)
    assert (again.attempt, again.retry_of, again.status) == (2, first["b"].id, JobStatus.RUNNING)
    assert again.progress == 0 and again.error is None and again.id != first["b"].id
    c2 = engine.get_jobs(stage_id="c")[0]
    assert c2.id != first["c"].id and c2.retry_of == first["c"].id and c2.status is JobStatus.QUEUED
    with pytest.raises(InvalidTransitionError, match="already has a running job"):
        engine.retry(first["b"].id)
    await engine.wait(timeout=10)
    assert engine.get_job(again.id).status is JobStatus.COMPLETED
    assert engine.get_job(c2.id).status is JobStatus.COMPLETED
    assert engine.get_subject(s1.id).stage_statuses == {"a": "done", "b": "done", "c": "done"}
    assert len(engine.get_jobs()) == 5


async def test_needs_user_action_leaves_stage_waiting(make_engine):
    class RoiRunner(Runner):
        async def run(self, ctx):
            raise NeedsUserAction("draw the arterial ROI")

    engine = make_engine()
    pipeline = Pipeline([Stage("aif", runner=RoiRunner()), Stage("fit", depends_on=("aif",))])
    project, [s1] = _project(engine, ["s1"], pipeline=pipeline)
    jobs = engine.run_pipeline(project.id)
    await engine.wait(timeout=5)
    job = engine.get_job(jobs[0].id)
    assert job.status is JobStatus.FAILED and "draw the arterial ROI" in job.error
    assert engine.get_subject(s1.id).stage_statuses["aif"] == StageStatus.WAITING


# -- logs ---------------------------------------------------------------------------------------


async def test_no_log_line_is_lost_however_fast(make_engine):
    class Chatty(Runner):
        async def run(self, ctx):
            for i in range(30_000):
                ctx.info(f"line {i}")
            ctx.log("warning", "multi\nline")

    engine = make_engine(runner=Chatty())
    project, [s1] = _project(engine, ["s1"], pipeline=Pipeline([Stage("x")]))
    [job] = engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    logs = engine.get_logs(job.id)
    assert [e.seq for e in logs] == list(range(1, len(logs) + 1))
    assert len(logs) == 30_000 + 4  # start line, lines, two-line warning, success
    assert logs[1].message == "line 0" and logs[-2].message == "line" and logs[-2].level is LogLevel.WARNING
    assert [e.seq for e in engine.get_logs(job.id, tail=3)] == [30_002, 30_003, 30_004]
    assert [e.seq for e in engine.get_logs(job.id, tail=2, before=100)] == [98, 99]
    engine.flush()
    with open(job.log_path, encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 30_004
    with pytest.raises(InvalidArgumentError, match="tail must be"):
        engine.get_logs(job.id, tail=-1)


async def test_huge_line_is_truncated_not_lost(make_engine):
    class Huge(Runner):
        async def run(self, ctx):
            ctx.info("x" * 10_000_000)
            ctx.info("after")

    engine = make_engine(runner=Huge())
    project, _ = _project(engine, ["s1"], pipeline=Pipeline([Stage("x")]))
    [job] = engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    logs = engine.get_logs(job.id)
    assert "line truncated: 9934464 more characters" in logs[1].message
    assert logs[2].message == "after"


async def test_log_listener_for_one_job(make_engine):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.01, failure_rate=0))
    project, [s1] = _project(engine, ["s1"], pipeline=Pipeline([Stage("import")]))
    [job] = engine.run_pipeline(project.id)
    seen = []
    engine.on_job_logs(job.id, seen.append)
    await engine.wait(timeout=10)
    # the "Starting" line was written when the job started, before this listener existed
    assert [e.seq for e in seen] == [e.seq for e in engine.get_logs(job.id)][1:]
    assert seen[0].message == "[PROGRESS] 25% - Scanning directory structure"
    with pytest.raises(UnknownJobError):
        engine.on_job_logs("nope", print)


# -- events -------------------------------------------------------------------------------------


async def test_failing_listener_breaks_nothing_and_unsubscribe_works(engine, caplog):
    project, _ = _project(engine, ["s1"])
    good, statuses = [], []

    def bad(job):
        raise RuntimeError("listener bug")

    engine.on_job_update(bad)
    engine.on_job_update(good.append)
    stop = engine.on_status_update(statuses.append)
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    assert good and "listener bug" in caplog.text
    assert {j.status for j in engine.get_jobs()} == {JobStatus.COMPLETED}
    assert statuses[0].status is StageStatus.QUEUED
    stop()
    n = len(statuses)
    engine.run_pipeline(project.id, stage_ids=["import"], rerun_done=True)
    await engine.wait(timeout=10)
    assert len(statuses) == n


# -- loops --------------------------------------------------------------------------------------


def test_works_under_asyncio_run_and_queues_before_a_loop_exists(tmp_path):
    engine = Engine(db_path=tmp_path / "e.sqlite", runner=SimulatedRunner(step_seconds=0, failure_rate=0))
    project, _ = _project(engine, ["s1"])
    jobs = engine.run_pipeline(project.id)  # no loop yet: queued, starts when one runs

    async def main():
        return await engine.wait(jobs, timeout=10)

    finished = asyncio.run(main())
    assert {j.status for j in finished} == {JobStatus.COMPLETED}

    async def again():
        engine.run_pipeline(project.id, stage_ids=["import"], rerun_done=True)
        await engine.wait(timeout=10)

    asyncio.run(again())  # a second loop is fine once the first is gone
    assert len(engine.get_jobs()) == 11
    engine.close()


async def test_wait_timeout(make_engine):
    engine = make_engine(runner=SleepRunner())
    project, _ = _project(engine, ["s1"], pipeline=Pipeline([Stage("x")]))
    jobs = engine.run_pipeline(project.id)
    with pytest.raises(TimeoutError):
        await engine.wait(jobs, timeout=0.05)


# -- persistence --------------------------------------------------------------------------------


async def test_history_survives_a_new_engine(tmp_path):
    db = tmp_path / "study.sqlite"
    engine = Engine(db_path=db, runner=SimulatedRunner(step_seconds=0, failure_rate=0))
    project, [s1] = _project(engine, ["s1"])
    jobs = engine.run_pipeline(project.id, stage_ids=["t1_fit"])
    await engine.wait(timeout=10)
    with pytest.raises(StoreLockedError, match="already open"):
        Engine(db_path=db)
    engine.close()
    again = Engine(db_path=db)
    try:
        assert [p.name for p in again.get_projects()] == ["study"]
        assert again.get_subject(s1.id).stage_statuses["t1_fit"] == StageStatus.DONE
        assert {j.id for j in again.get_jobs()} == {j.id for j in jobs}
        logs = again.get_logs(jobs[1].id)
        assert logs[0].message.startswith("Starting T1/M0 Fitting") and logs[-1].level is LogLevel.SUCCESS
    finally:
        again.close()


def test_jobs_of_a_killed_process_are_marked_interrupted_and_can_be_retried(tmp_path):
    db = tmp_path / "crash.sqlite"
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from pbrain_widgets import Engine, SimulatedRunner, Pipeline, Stage
        async def main():
            engine = Engine(db_path={str(db)!r}, max_concurrent=1,
                            runner=SimulatedRunner(step_seconds=0.1, failure_rate=0))
            p = engine.create_project("p", pipeline=Pipeline([Stage("a"), Stage("b", depends_on=("a",))]))
            engine.add_subjects(p.id, ["s1"])
            engine.run_pipeline(p.id)
            await asyncio.sleep(0.35)
            engine.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        asyncio.run(main())
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    engine = Engine(db_path=db, runner=SimulatedRunner(step_seconds=0, failure_rate=0))
    try:
        jobs = {j.stage_id: j for j in engine.get_jobs()}
        assert {j.status for j in jobs.values()} == {JobStatus.FAILED}
        assert all(j.error.startswith("interrupted") for j in jobs.values())
        assert "was running" in jobs["a"].error and "was queued" in jobs["b"].error
        assert engine.get_logs(jobs["a"].id)[-1].message.startswith("interrupted")
        [subject] = engine.get_subjects(engine.get_projects()[0].id)
        assert subject.stage_statuses == {"a": "failed", "b": "not_run"}
        retried = engine.retry(jobs["a"].id)

        async def finish():
            await engine.wait(timeout=10)

        asyncio.run(finish())
        assert engine.get_job(retried.id).status is JobStatus.COMPLETED
        assert engine.get_subject(subject.id).stage_statuses == {"a": "done", "b": "done"}
    finally:
        engine.close()


async def test_close_cancels_running_work(make_engine):
    runner = SleepRunner()
    engine = make_engine(runner=runner)
    project, _ = _project(engine, ["s1"], pipeline=LINEAR)
    jobs = engine.run_pipeline(project.id)
    await asyncio.sleep(0.05)
    await engine.aclose()
    assert runner.interrupted == [jobs[0].id]
    with pytest.raises(PbrainWidgetsError, match="closed"):
        engine.run_pipeline(project.id)


def test_records_are_json_ready(engine):
    import json

    project, [s1, _] = _project(engine)
    [job] = engine.run_pipeline(project.id, [s1.id], ["import"])
    for record in (project, s1, job):
        json.dumps(record.to_dict())
    # the engine's thread starts a job at once: no event loop needed in the caller
    assert job.to_dict()["status"] == "running"


async def test_executor_runs_the_work_and_its_capacity_bounds_concurrency(make_engine):
    from pbrain_widgets import LocalExecutor

    class CountingExecutor(LocalExecutor):
        def __init__(self):
            self.ran: list[str] = []
            self.slots = 1
            self.wake = None

        def attach(self, wake):
            self.wake = wake

        @property
        def capacity(self):
            return self.slots

        async def run(self, runner, ctx):
            self.ran.append(ctx.stage.id)
            await super().run(runner, ctx)

    executor = CountingExecutor()
    engine = make_engine(runner=SleepRunner(seconds=0.05), executor=executor, max_concurrent=4)
    project, _ = _project(engine, ["a", "b", "c"], pipeline=Pipeline([Stage("x")]))
    engine.run_pipeline(project.id)
    assert len(engine.get_jobs(status="running")) == 1  # capacity 1 < max_concurrent 4
    executor.slots = 3
    executor.wake()  # capacity grew: the engine starts more at once
    assert len(engine.get_jobs(status="running")) == 3
    await engine.wait(timeout=5)
    assert executor.ran == ["x", "x", "x"]
    with pytest.raises(InvalidArgumentError, match="executor must be an Executor"):
        make_engine(executor="dask")


async def test_jobs_and_subjects_handed_out_are_copies(make_engine):
    """A job or subject from the engine holds every field, and neither side sees the other's changes."""
    engine = make_engine()
    project = engine.create_project("copies")
    (subject,) = engine.add_subjects(project.id, ["s"])
    job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
    first = engine.get_job(job.id)
    assert dataclasses.asdict(first) == dataclasses.asdict(engine.get_job(job.id))
    first.status = JobStatus.FAILED
    first.progress = 99.0
    assert engine.get_job(job.id).status is not JobStatus.FAILED
    await engine.wait(timeout=10)
    assert engine.get_job(job.id).status is JobStatus.COMPLETED and first.status is JobStatus.FAILED
    held = engine.get_subject(subject.id)
    held.stage_statuses["import"] = StageStatus.FAILED
    held.name = "renamed"
    again = engine.get_subject(subject.id)
    assert again.stage_statuses["import"] is StageStatus.DONE and again.name == "s"
