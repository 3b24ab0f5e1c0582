"""get_jobs (and get_job_ids) through the job index answer what a scan of every job answers,
whatever the filters, after starts, failures, cancels, retries and a reopen that recovers interrupted jobs."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap

from pbrain_widgets import Engine, JobStatus, SimulatedRunner


def scan(jobs, project_id=None, subject_id=None, stage_id=None, statuses=None):
    return [
        j.id
        for j in jobs
        if (project_id is None or j.project_id == project_id)
        and (subject_id is None or j.subject_id == subject_id)
        and (stage_id is None or j.stage_id == stage_id)
        and (statuses is None or j.status in statuses)
    ]


def check_every_filter(engine: Engine) -> None:
    everything = engine.get_jobs()  # newest first: no filter, no index
    assert [j.seq for j in everything] == sorted((j.seq for j in everything), reverse=True)
    projects = [None, *(p.id for p in engine.get_projects())]
    subjects = [None, *sorted({j.subject_id for j in everything})[:3]]
    stages = [None, "import", "t1_fit"]
    statuses = [None, {JobStatus.RUNNING}, {JobStatus.FAILED, JobStatus.CANCELLED}, {JobStatus.COMPLETED}]
    for project_id, subject_id, stage_id, wanted in itertools.product(projects, subjects, stages, statuses):
        got = engine.get_jobs(project_id=project_id, subject_id=subject_id, stage_id=stage_id, status=wanted)
        assert [j.id for j in got] == scan(everything, project_id, subject_id, stage_id, wanted), (
            project_id,
            subject_id,
            stage_id,
            wanted,
        )
        ids = engine.get_job_ids(
            project_id=project_id, subject_id=subject_id, stage_id=stage_id, status=wanted
        )
        assert ids == [j.id for j in got]


async def test_filtered_queries_match_a_full_scan_through_a_run(make_engine):
    engine = make_engine(
        runner=SimulatedRunner(step_seconds=0.01, failure_rate=0.3, seed=7), max_concurrent=3
    )
    a, b = engine.create_project("a"), engine.create_project("b")
    engine.add_subjects(a.id, [f"a-{i}" for i in range(4)])
    engine.add_subjects(b.id, [f"b-{i}" for i in range(3)])
    engine.run_pipeline(a.id)
    engine.run_pipeline(b.id, stage_ids=["import", "t1_fit"])
    engine.call(check_every_filter, engine)  # while jobs run: on the engine's thread, so that nothing moves
    await engine.wait(timeout=30)
    failed = engine.get_jobs(status="failed")
    assert failed
    engine.retry(failed[-1].id)
    engine.call(check_every_filter, engine)
    engine.cancel_all()
    check_every_filter(engine)
    assert engine.get_jobs(status=["running", "queued"]) == []


def test_a_reopened_engine_indexes_the_jobs_it_recovered(tmp_path):
    db = tmp_path / "crash.sqlite"
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from pbrain_widgets import Engine, SimulatedRunner
        async def main():
            engine = Engine(db_path={str(db)!r}, max_concurrent=2,
                            runner=SimulatedRunner(step_seconds=0.1, failure_rate=0))
            p = engine.create_project("p")
            engine.add_subjects(p.id, ["s1", "s2"])
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
        assert engine.get_jobs(status=["running", "queued"]) == []
        assert len(engine.get_jobs(status="failed")) == len(engine.get_jobs()) == 20
        check_every_filter(engine)
    finally:
        engine.close()
