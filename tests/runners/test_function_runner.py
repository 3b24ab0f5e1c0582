"""FunctionRunner through the real engine: functions run in warm worker processes."""

from __future__ import annotations

import signal

import pytest
import runner_jobs
from runner_helpers import LoopLag, alive, pids_in, project, wait_for_log, wait_gone

from pbrain_widgets import InvalidArgumentError, JobStatus, LogLevel, StageStatus
from pbrain_widgets.runners.function import FunctionRunner


def local_function(ctx):
    return None


local_function.__module__ = "__main__"


async def run_one(engine, subjects=("s1",)):
    p, subs = project(engine, subjects)
    job = engine.run_stage(p.id, subs[0].id, "work")
    [job] = await engine.wait([job], timeout=60)
    return job, engine.get_logs(job.id), subs[0]


def body(logs):
    return [(e.level, e.message) for e in logs if not e.message.startswith(("Starting", "Work "))]


async def test_a_plain_function_reports_progress_logs_logging_records_and_prints(make_engine):
    engine = make_engine(runner=FunctionRunner(runner_jobs.report))
    progress = []
    engine.on_job_update(lambda j: progress.append((j.progress, j.current_step)))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    # printed text and reports come through two pipes: in order within each, not between them
    printed = (LogLevel.INFO, "printed line")
    assert printed in body(logs)
    assert [entry for entry in body(logs) if entry != printed] == [
        (LogLevel.INFO, "did step 1 of work for s1"),
        (LogLevel.INFO, "did step 2 of work for s1"),
        (LogLevel.INFO, "did step 3 of work for s1"),
        (LogLevel.WARNING, "a logging record from the worker"),
        (LogLevel.SUCCESS, "all steps done"),
    ]
    assert (pytest.approx(100 / 3), "step 1") in progress
    assert (100.0, "step 3") in progress


async def test_debug_records_pass_at_a_lower_log_level(make_engine):
    engine = make_engine(runner=FunctionRunner(runner_jobs.report, log_level="DEBUG"))
    job, logs, _ = await run_one(engine)
    assert (LogLevel.DEBUG, "a debug record, below the runner's log level") in body(logs)


async def test_an_async_function(make_engine):
    engine = make_engine(runner=FunctionRunner(runner_jobs.report_async))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    assert job.progress == 100
    assert (LogLevel.INFO, "async function finished") in body(logs)


async def test_an_exception_fails_the_job_with_its_traceback_in_the_log(make_engine):
    engine = make_engine(runner=FunctionRunner(runner_jobs.explode))
    job, logs, subject = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error == "ValueError: bad value for s1"
    text = "\n".join(m for level, m in body(logs) if level is LogLevel.ERROR)
    assert "Traceback (most recent call last):" in text
    assert 'runner_jobs.py", line' in text and "in explode" in text
    assert engine.get_subject(subject.id).stage_statuses["work"] is StageStatus.FAILED


async def test_job_failed_and_needs_user_action_from_the_function(make_engine):
    engine = make_engine(runner=FunctionRunner(runner_jobs.refuse))
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error == "input volume is empty"
    assert not any("Traceback" in m for _, m in body(logs))

    engine = make_engine(runner=FunctionRunner(runner_jobs.ask_user))
    job, logs, subject = await run_one(engine)
    assert job.error == "needs user action: draw the arterial ROI"
    assert engine.get_subject(subject.id).stage_statuses["work"] is StageStatus.WAITING


async def test_a_worker_that_dies_fails_its_job_and_is_replaced(make_engine):
    runner = FunctionRunner(runner_jobs.die)
    engine = make_engine(runner=runner)
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert job.error == "the worker process exited with code 3; last lines of output:\ngoing down"
    job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.FAILED
    assert runner.workers_started == 2


async def test_a_worker_killed_by_sigkill_is_reported_so(make_engine):
    runner = FunctionRunner(runner_jobs.kill_self, kwargs={"signum": signal.SIGKILL})
    job, logs, _ = await run_one(make_engine(runner=runner))
    assert job.error == (
        "the worker process was killed by SIGKILL (signal 9) — possibly out of memory; "
        "last lines of output:\nsending myself signal 9"
    )
    assert not any("Traceback" in e.message for e in logs)

    runner = FunctionRunner(runner_jobs.kill_self, kwargs={"signum": signal.SIGTERM})
    job, logs, _ = await run_one(make_engine(runner=runner))
    assert job.error.startswith("the worker process was killed by SIGTERM (signal 15); ")


def test_functions_a_worker_cannot_import_are_refused_at_construction():
    with pytest.raises(InvalidArgumentError, match="lambda"):
        FunctionRunner(lambda ctx: None)

    def nested(ctx):
        return None

    with pytest.raises(InvalidArgumentError, match="nested"):
        FunctionRunner(nested)
    with pytest.raises(InvalidArgumentError, match="__main__"):
        FunctionRunner(local_function)
    with pytest.raises(InvalidArgumentError, match="callable"):
        FunctionRunner("runner_jobs.report")
    with pytest.raises(InvalidArgumentError, match="picklable"):
        FunctionRunner(runner_jobs.report, kwargs={"steps": (x for x in range(3))})
    with pytest.raises(InvalidArgumentError, match="log_level"):
        FunctionRunner(runner_jobs.report, log_level="LOUD")


async def test_warm_workers_are_reused(make_engine):
    runner = FunctionRunner(runner_jobs.pid)
    engine = make_engine(runner=runner, max_concurrent=1)
    p, subs = project(engine, ["a", "b", "c"])
    jobs = await engine.wait(engine.run_pipeline(p.id), timeout=60)
    assert all(j.status is JobStatus.COMPLETED for j in jobs)
    pids = {next(e.message for e in engine.get_logs(j.id) if "worker pid" in e.message) for j in jobs}
    assert len(pids) == 1
    assert runner.workers_started == 1
    # a warm runner still pickles (to run on a Dask worker); its live workers stay here
    import pickle

    clone = pickle.loads(pickle.dumps(runner))
    assert clone.workers_started == 0 and clone.fn is runner.fn


async def test_cancel_kills_the_worker_and_its_children_within_2_s(make_engine):
    runner = FunctionRunner(runner_jobs.sleep_with_child)
    engine = make_engine(runner=runner)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    child = pids_in((await wait_for_log(engine, job.id, "child pids:")).message)
    assert alive(child) == child
    workers = [w.group.pid for w in runner._busy] + [p.pid for w in runner._busy for p in w.group.members()]
    engine.cancel(job.id)
    took = await wait_gone(child + workers, timeout=2.0)
    assert took < 2.0
    job2 = engine.run_stage(p.id, subs[0].id, "work")
    await wait_for_log(engine, job2.id, "child pids:")
    assert runner.workers_started == 2
    engine.cancel(job2.id)


async def test_close_stops_idle_and_busy_workers(make_engine):
    runner = FunctionRunner(runner_jobs.sleep_with_child)
    engine = make_engine(runner=runner)
    await runner.warm_up(engine, 2)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    child = pids_in((await wait_for_log(engine, job.id, "child pids:")).message)
    pids = child + [m.pid for w in [*runner._idle, *runner._busy] for m in w.group.members()]
    assert len(pids) >= 5
    engine.close()
    assert alive(pids) == []


async def test_the_engine_loop_stays_responsive_while_heavy_numpy_work_runs(make_engine):
    runner = FunctionRunner(runner_jobs.crunch, kwargs={"seconds": 2.0}, preload=("numpy",))
    engine = make_engine(runner=runner)
    async with LoopLag(engine) as lag:
        job, logs, _ = await run_one(engine)
    assert job.status is JobStatus.COMPLETED
    assert any("QR decompositions" in m for _, m in body(logs))
    assert job.peak_cpu_percent > 10  # sampled while it ran (a sampler that misses it says 0)
    assert len(lag.lags) > 20
    # the work takes 2 s: a loop waiting on it would stall that long
    assert lag.median < 0.1 and lag.worst < 1.0, f"loop lag median {lag.median:.3f}, worst {lag.worst:.3f} s"


async def test_the_function_runs_in_the_subject_folder(make_engine, tmp_path):
    folder = tmp_path / "sub-07"
    folder.mkdir()
    engine = make_engine(runner=FunctionRunner(runner_jobs.where))
    job, logs, _ = await run_one(engine, [{"name": "sub-07", "source_path": folder}])
    assert job.status is JobStatus.COMPLETED
    assert (LogLevel.INFO, f"cwd {folder}") in body(logs)


async def test_a_nonexistent_subject_folder_fails_the_job(make_engine, tmp_path):
    folder = tmp_path / "sub-08"
    folder.mkdir()
    engine = make_engine(runner=FunctionRunner(runner_jobs.where))
    p, subs = project(engine, [{"name": "sub-08", "source_path": folder}])
    folder.rmdir()
    [job] = await engine.wait([engine.run_stage(p.id, subs[0].id, "work")], timeout=30)
    assert job.error == f"subject folder does not exist: '{folder}' (subject 'sub-08')"


async def test_a_function_reports_outputs_by_ctx_and_by_printed_lines(make_engine, tmp_path):
    engine = make_engine(runner=FunctionRunner(runner_jobs.outputs))
    p, (subject,) = project(engine, [{"name": "s1", "source_path": str(tmp_path)}])
    job = engine.run_stage(p.id, subject.id, "work")
    [job] = await engine.wait([job], timeout=30)
    assert job.status is JobStatus.COMPLETED
    got = {(o.kind.value, o.label, o.path, o.value) for o in engine.get_outputs(job.id)}
    assert got == {
        ("map", "Ki", str(tmp_path / "maps/ki.nii.gz"), None),
        ("value", "voxels fitted", None, 15729),
        ("image", "montage.png", str(tmp_path / "qc/montage.png"), None),
    }


async def test_a_bad_output_from_a_function_fails_its_job_when_it_ends(make_engine, tmp_path):
    engine = make_engine(runner=FunctionRunner(runner_jobs.outputs, kwargs={"bad": True}))
    p, (subject,) = project(engine, [{"name": "s1", "source_path": str(tmp_path)}])
    job = engine.run_stage(p.id, subject.id, "work")
    [job] = await engine.wait([job], timeout=30)
    assert job.status is JobStatus.FAILED and "'picture'" in job.error
    messages = [e.message for e in engine.get_logs(job.id)]
    assert "outputs reported" in messages  # the worker went on to the end
    assert any(m.startswith("output refused: unknown output kind 'picture'") for m in messages)
