"""DaskExecutor on a LocalCluster with two worker processes (one thread each), shared by the module."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import time
import uuid

import psutil
import pytest
import runner_jobs
from dask_jobs import BurstRunner, FailingRunner, LockedRunner, OutputRunner, TickRunner, WhereRunner
from distributed import Client, LocalCluster
from runner_helpers import project, wait_for_log

from pbrain_widgets import InvalidArgumentError, JobStatus, OutputKind, Pipeline, Stage, StageStatus
from pbrain_widgets.runners.command import CommandRunner
from pbrain_widgets.runners.dask import DaskExecutor
from pbrain_widgets.runners.function import FunctionRunner
from pbrain_widgets.runners.pbrain import PHANTOM_OPTIONS, make_phantom_subjects, pbrain_pipeline

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with Client(cluster) as c:
        yield c


@pytest.fixture
def executor(client):
    client.wait_for_workers(2, timeout=30)
    ex = DaskExecutor(client, poll_interval=0.2)
    yield ex
    ex.close()


def worker_pids(client) -> set[int]:
    return set(client.run(os.getpid).values())


def running_peak(engine) -> list[int]:
    """A one-item list holding the most jobs seen running at once (updated live)."""
    running: set[str] = set()
    peak = [0]

    def update(job):
        if job.status is JobStatus.RUNNING:
            running.add(job.id)
        else:
            running.discard(job.id)
        peak[0] = max(peak[0], len(running))

    engine.on_job_update(update)
    return peak


def marked(marker: str) -> list[psutil.Process]:
    """Processes on this machine whose command line contains ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["status"] != psutil.STATUS_ZOMBIE and any(marker in part for part in cmdline):
            found.append(proc)
    return found


async def wait_until(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def stubborn_command(tmp_path, marker: str) -> list[str]:
    """A command that starts two children; all three ignore SIGTERM and carry ``marker``."""
    path = tmp_path / "stubborn.py"
    path.write_text(
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "code = 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'\n"
        "kids = [subprocess.Popen([sys.executable, '-c', code, sys.argv[1]]) for _ in range(2)]\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    return [sys.executable, str(path), marker]


async def test_jobs_run_on_the_workers_within_the_clusters_capacity(make_engine, executor, client):
    engine = make_engine(runner=WhereRunner(seconds=0.3), executor=executor, max_concurrent=4)
    pipeline = Pipeline([Stage("a", "A"), Stage("b", "B", depends_on=("a",))], name="two")
    p, subs = project(engine, ["s1", "s2", "s3"], pipeline)
    peak = running_peak(engine)
    jobs = engine.run_pipeline(p.id)
    await engine.wait(timeout=60)
    pids = worker_pids(client)
    assert executor.capacity == 2
    assert peak[0] == 2
    for job in jobs:
        assert engine.get_job(job.id).status is JobStatus.COMPLETED
        logs = [e.message for e in engine.get_logs(job.id)]
        assert logs[1].startswith("Running on Dask worker tcp://")
        where = logs[2].split()
        assert where[1] in executor.workers
        assert int(where[3]) in pids and int(where[3]) != os.getpid()
        assert logs[-1].endswith("completed successfully in " + logs[-1].split(" in ")[-1])
    assert {s.stage_statuses["b"] for s in engine.get_subjects(p.id)} == {StageStatus.DONE}


async def test_logs_and_progress_stream_back_while_the_job_runs(make_engine, executor):
    engine = make_engine(runner=TickRunner(ticks=5, interval=0.25), executor=executor)
    p, subs = project(engine)
    received: list[tuple[float, str]] = []
    steps: list[str] = []
    engine.on_job_logs(None, lambda entry: received.append((time.time(), entry.message)))
    engine.on_job_update(
        lambda job: steps.append(job.current_step) if job.status is JobStatus.RUNNING else None
    )
    job = engine.run_stage(p.id, subs[0].id, "work")
    await engine.wait([job], timeout=30)
    done = engine.get_job(job.id)
    ticks = [(at, float(msg.split()[2])) for at, msg in received if msg.startswith("tick ")]
    assert len(ticks) == 5
    lags = [at - sent for at, sent in ticks]
    # lines held until the end would arrive 0.25-1.25 s late, 0.75 s for the median one
    assert statistics.median(lags) < 0.5, f"log lines took {sorted(lags)} s to arrive"
    assert done.end_time - ticks[0][0] > 0.8, "the first line arrived only at the end"
    assert [f"tick {i}" for i in range(5)] == [s for s in steps if s.startswith("tick")]
    assert done.status is JobStatus.COMPLETED


async def test_a_burst_of_lines_arrives_whole_and_in_order_before_the_end(make_engine, executor):
    engine = make_engine(runner=BurstRunner(3000), executor=executor)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    await engine.wait([job], timeout=30)
    logs = engine.get_logs(job.id)
    lines = [e.message for e in logs if e.message.startswith("line ")]
    assert lines == [f"line {i}" for i in range(3000)]
    assert [e.seq for e in logs] == list(range(1, len(logs) + 1))
    assert "completed successfully" in logs[-1].message


async def test_failures_on_a_worker_arrive_as_the_same_kinds(make_engine, executor):
    kinds = ("failed", "user_action", "exception", "local_class")
    pipeline = Pipeline([Stage(k, k, runner=FailingRunner(k)) for k in kinds], name="failing")
    engine = make_engine(executor=executor)
    p, subs = project(engine, ["s1"], pipeline)
    jobs = {j.stage_id: j for j in engine.run_pipeline(p.id)}
    await engine.wait(timeout=30)
    got = {k: engine.get_job(j.id) for k, j in jobs.items()}
    assert {j.status for j in got.values()} == {JobStatus.FAILED}
    assert got["failed"].error == "the input volume is empty"
    assert got["user_action"].error == "needs user action: draw the arterial ROI"
    statuses = engine.get_subject(subs[0].id).stage_statuses
    assert statuses["user_action"] is StageStatus.WAITING
    assert statuses["failed"] is StageStatus.FAILED
    assert got["exception"].error.startswith("ValueError: bad value on worker pid ")
    assert int(got["exception"].error.rsplit(" ", 1)[1]) != os.getpid()
    assert got["local_class"].error == "RemoteJobError: WorkerOnlyError: raised on the worker"
    for kind in ("exception", "local_class"):
        text = "\n".join(e.message for e in engine.get_logs(jobs[kind].id))
        assert "RemoteTraceback: on Dask worker tcp://" in text
        assert "in remote_failure_site" in text
    plain = [e.message for e in engine.get_logs(jobs["failed"].id)]
    assert "about to fail" in plain and not any("Traceback" in m for m in plain)


async def test_a_runner_that_does_not_pickle_fails_its_job_clearly(make_engine, executor):
    engine = make_engine(runner=LockedRunner(), executor=executor)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    await engine.wait([job], timeout=30)
    error = engine.get_job(job.id).error
    assert "LockedRunner" in error and "cannot be sent to a Dask worker" in error and "lock" in error


async def test_cancel_stops_the_jobs_processes_on_the_worker(make_engine, executor, tmp_path):
    marker = f"pbrain-dask-cancel-{uuid.uuid4().hex}"
    engine = make_engine(runner=CommandRunner(stubborn_command(tmp_path, marker)), executor=executor)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    await wait_for_log(engine, job.id, "ready")
    await wait_until(lambda: len(marked(marker)) == 4, 10, "guard, command and its two children started")
    assert all(proc.ppid() != os.getpid() for proc in marked(marker))
    engine.cancel(job.id)
    took = await wait_until(lambda: not marked(marker), 5, "processes of the cancelled job are gone")
    assert took < 5
    await engine.wait([job], timeout=10)
    assert engine.get_job(job.id).status is JobStatus.CANCELLED


async def test_engine_close_stops_work_running_on_the_cluster(make_engine, executor, tmp_path):
    marker = f"pbrain-dask-close-{uuid.uuid4().hex}"
    engine = make_engine(
        runner=CommandRunner(stubborn_command(tmp_path, marker), grace=0.2), executor=executor
    )
    p, subs = project(engine, ["s1", "s2"])
    jobs = engine.run_pipeline(p.id)
    for job in jobs:
        await wait_for_log(engine, job.id, "ready")
    await wait_until(lambda: len(marked(marker)) == 8, 10, "both commands (guards, children) started")
    engine.close()
    await wait_until(lambda: not marked(marker), 3, "processes of the closed engine's jobs are gone")
    assert {engine.get_job(j.id).status for j in jobs} == {JobStatus.CANCELLED}


async def test_max_concurrent_still_bounds_the_jobs_running_at_once(make_engine, executor):
    engine = make_engine(runner=WhereRunner(seconds=0.2), executor=executor, max_concurrent=1)
    p, subs = project(engine, ["s1", "s2", "s3"])
    peak = running_peak(engine)
    engine.run_pipeline(p.id)
    await engine.wait(timeout=30)
    assert peak[0] == 1


async def test_jobs_start_when_workers_join(make_engine, executor, cluster, client, tmp_path):
    release = tmp_path / "release"  # the jobs run until the third one started (a slow scale-up)
    runner = WhereRunner(seconds=60.0, until=str(release))
    engine = make_engine(runner=runner, executor=executor, max_concurrent=4)
    p, subs = project(engine, ["s1", "s2", "s3"])
    peak = running_peak(engine)
    jobs = engine.run_pipeline(p.id)
    await wait_until(lambda: peak[0] == 2, 10, "two jobs running")
    assert engine.get_job(jobs[2].id).status is JobStatus.QUEUED
    cluster.scale(3)
    try:
        await wait_until(lambda: executor.capacity == 3, 20, "capacity grew to 3")
        await wait_until(lambda: peak[0] == 3, 10, "the third job started on the new worker")
    finally:
        release.touch()
        await engine.wait(timeout=30)
        cluster.scale(2)
        await wait_until(lambda: len(client.scheduler_info()["workers"]) == 2, 20, "back to two workers")
    assert {engine.get_job(j.id).status for j in jobs} == {JobStatus.COMPLETED}
    # each job records the worker it ran on (the Timeline's lanes): one thread per worker here
    workers = [engine.get_job(j.id).worker for j in jobs]
    assert len(set(workers)) == 3 and all(str(w).startswith("tcp://127.0.0.1:") for w in workers)


async def test_an_asynchronous_client_on_the_kernels_loop(make_engine, cluster):
    async with Client(cluster.scheduler_address, asynchronous=True) as client:
        executor = DaskExecutor(client, poll_interval=0.2)
        engine = make_engine(runner=TickRunner(ticks=3, interval=0.05), executor=executor)
        p, subs = project(engine, ["s1", "s2"])
        jobs = engine.run_pipeline(p.id)
        await engine.wait(timeout=30)
        for job in jobs:
            assert engine.get_job(job.id).status is JobStatus.COMPLETED
            assert sum(e.message.startswith("tick ") for e in engine.get_logs(job.id)) == 3
        await engine.aclose()
        assert client.status == "running"


async def test_an_address_gives_the_executor_its_own_client(make_engine, cluster):
    executor = DaskExecutor(cluster.scheduler_address, poll_interval=0.2)
    engine = make_engine(runner=WhereRunner(), executor=executor)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    await engine.wait([job], timeout=30)
    assert engine.get_job(job.id).status is JobStatus.COMPLETED
    engine.close()
    assert executor.client.status == "closed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"client": 42}, "got 42"),
        ({"client": " "}, "non-empty string"),
        ({"client": None, "poll_interval": 0}, "poll_interval must be a number of seconds > 0, got 0"),
    ],
)
def test_bad_arguments_are_refused_by_name(client, kwargs, message):
    kwargs = dict(kwargs)
    if kwargs["client"] is None:
        kwargs["client"] = client
    with pytest.raises(InvalidArgumentError, match=message):
        DaskExecutor(**kwargs)


KERNEL = """
import asyncio, sys
from distributed import Client
from pbrain_widgets import Engine, Pipeline, Stage
from pbrain_widgets.runners.command import CommandRunner
from pbrain_widgets.runners.dask import DaskExecutor

async def main():
    executor = DaskExecutor(Client(sys.argv[1]), poll_interval=0.2)
    engine = Engine(":memory:", runner=CommandRunner(sys.argv[2:]), executor=executor)
    project = engine.create_project("p", Pipeline([Stage("work")]))
    [subject] = engine.add_subjects(project.id, ["s1"])
    engine.run_stage(project.id, subject.id, "work")
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_work_on_the_cluster_stops_when_the_kernel_dies(cluster, client, tmp_path):
    client.wait_for_workers(2, timeout=30)
    marker = f"pbrain-dask-orphan-{uuid.uuid4().hex}"
    script = tmp_path / "kernel.py"
    script.write_text(KERNEL)
    kernel = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cluster.scheduler_address, *stubborn_command(tmp_path, marker)
    )
    try:
        await wait_until(
            lambda: len([p for p in marked(marker) if p.pid != kernel.pid]) == 4, 30, "the job started"
        )
    finally:
        kernel.kill()
        await kernel.wait()
    took = await wait_until(lambda: not marked(marker), 10, "the dead kernel's job processes are gone")
    assert took < 5


async def test_a_worker_killed_mid_job_fails_the_job_which_is_not_rerun(
    make_engine, executor, client, tmp_path
):
    calls = tmp_path / "calls"
    calls.mkdir()
    engine = make_engine(runner=WhereRunner(str(calls), seconds=60), executor=executor)
    p, subs = project(engine)
    job = engine.run_stage(p.id, subs[0].id, "work")
    line = (await wait_for_log(engine, job.id, " pid ")).message
    address, pid = line.split()[1], int(line.split()[3])
    os.kill(pid, signal.SIGKILL)
    took = await wait_until(
        lambda: engine.get_job(job.id).status is not JobStatus.RUNNING,
        10,
        "the job ended after its worker died",
    )
    failed = engine.get_job(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == f"worker {address} died while running this job; retry it to run it again"
    assert took < 3
    client.wait_for_workers(2, timeout=30)
    await asyncio.sleep(1.0)
    assert [f.name for f in calls.iterdir()] == [f"{job.id}-1-{pid}"]
    again = engine.retry(job.id)
    await engine.wait([again], timeout=30)
    assert engine.get_job(again.id).status is JobStatus.COMPLETED


async def test_a_function_runner_keeps_its_warm_process_on_the_worker(make_engine, executor, client):
    engine = make_engine(runner=FunctionRunner(runner_jobs.pid), executor=executor)
    p, subs = project(engine, ["s1", "s2"])
    pids = []
    for subject in subs:
        job = engine.run_stage(p.id, subject.id, "work")
        await engine.wait([job], timeout=30)
        assert engine.get_job(job.id).status is JobStatus.COMPLETED
        pids.append(int((await wait_for_log(engine, job.id, "worker pid")).message.split()[-1]))
    assert pids[0] == pids[1]
    parent = psutil.Process(pids[0]).parent()
    while parent is not None and parent.pid not in worker_pids(client):
        parent = parent.parent()
    assert parent is not None, "the function's process does not descend from a Dask worker"


async def test_p_brain_stages_run_on_the_workers(make_engine, executor, tmp_path):
    [folder] = make_phantom_subjects(tmp_path, 1)
    engine = make_engine(executor=executor)
    pipeline = pbrain_pipeline(**{**PHANTOM_OPTIONS, "kinetic_models": ("patlak",)})
    p, [subject] = project(engine, [{"name": folder.name, "source_path": folder}], pipeline)
    job = engine.run_stage(p.id, subject.id, "t1_m0")
    jobs = await engine.wait([*job.depends_on, job.id], timeout=120)
    assert {j.stage_id: j.status for j in jobs} == {"load": JobStatus.COMPLETED, "t1_m0": JobStatus.COMPLETED}
    load = next(j for j in jobs if j.stage_id == "load")
    messages = [e.message for e in engine.get_logs(load.id)]
    assert messages[1].startswith("Running on Dask worker tcp://")
    assert any(m.startswith("load: reading DCE dce.nii.gz") for m in messages)
    # the worker shares this host, so the job's processes are sampled
    assert max(j.peak_memory_rss or 0 for j in jobs) > 50_000_000
    assert (folder / "derivatives").is_dir()
    # what the stage's manifest lists came back from the worker as the job's outputs
    t1 = {o.label: o for o in engine.get_outputs(job.id)}
    assert t1["p-brain QC"].kind is OutputKind.QC and t1["p-brain QC"].value in ("pass", "warn")
    assert t1["p-brain run time"].unit == "s"
    for name in ("t1_map_ms", "m0_map"):
        assert t1[name].kind is OutputKind.MAP, name
        assert t1[name].path.startswith(str(folder / "derivatives")) and os.path.isfile(t1[name].path)


async def test_outputs_reported_on_a_worker_are_kept_with_the_job(make_engine, executor, client, tmp_path):
    folder = tmp_path / "s1"
    folder.mkdir()
    db = tmp_path / "store.db"
    engine = make_engine(db_path=str(db), runner=OutputRunner(), executor=executor)
    p, [subject] = project(engine, [{"name": "s1", "source_path": str(folder)}])
    live = []
    engine.on_output(live.append)
    [job] = await engine.wait([engine.run_stage(p.id, subject.id, "work")], timeout=30)
    assert job.status is JobStatus.COMPLETED, job.error
    outputs = engine.get_outputs(job.id)
    assert [(o.kind, o.label) for o in outputs] == [
        (OutputKind.IMAGE, "montage"),
        (OutputKind.VALUE, "voxels fitted"),
        (OutputKind.VALUE, "worker pid"),
        (OutputKind.QC, "verdict"),
    ]
    montage, voxels, pid, verdict = outputs
    assert montage.path == str(folder / "qc" / "montage.png") and montage.group == "qc"
    assert (voxels.value, voxels.unit) == (15729, "voxels")
    assert pid.value in worker_pids(client) and pid.value != os.getpid()  # made on a worker
    assert verdict.value == "warn"
    assert [o.label for o in live] == [o.label for o in outputs]  # as they came, while it ran
    engine.close()
    # they are in the store: a new engine on it (a restarted kernel) reads the same
    again = make_engine(db_path=str(db))
    assert again.get_outputs(job.id) == outputs


async def test_a_function_on_a_worker_reports_outputs_by_ctx_and_by_printed_lines(
    make_engine, executor, tmp_path
):
    engine = make_engine(runner=FunctionRunner(runner_jobs.outputs), executor=executor)
    p, [subject] = project(engine, [{"name": "s1", "source_path": str(tmp_path)}])
    [job] = await engine.wait([engine.run_stage(p.id, subject.id, "work")], timeout=30)
    assert job.status is JobStatus.COMPLETED, job.error
    assert (await wait_for_log(engine, job.id, "Running on Dask worker")).message
    got = {(o.kind.value, o.label, o.path, o.value) for o in engine.get_outputs(job.id)}
    assert got == {
        ("map", "Ki", str(tmp_path / "maps/ki.nii.gz"), None),
        ("value", "voxels fitted", None, 15729),
        ("image", "montage.png", str(tmp_path / "qc/montage.png"), None),
    }
