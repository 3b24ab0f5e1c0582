"""cancel_many, retry_many and the run-finished hook."""

from __future__ import annotations

from cohort_helpers import ScriptRunner, setup

from pbrain_widgets import JobStatus


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
