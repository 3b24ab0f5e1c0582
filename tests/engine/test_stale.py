"""A stage that completes again makes its done downstream stages stale."""

from __future__ import annotations

from cohort_helpers import ScriptRunner, setup

from pbrain_widgets import JobStatus, StageStatus


async def test_rerun_marks_downstream_stale_and_default_run_queues_them(make_engine, tmp_path):
    db = tmp_path / "stale.sqlite"
    engine = make_engine(db, runner=ScriptRunner())
    project, subjects = setup(engine, ["s1", "s2"])
    s1 = subjects["s1"].id
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    # the default run is "what is not done": nothing now
    assert engine.run_pipeline(project.id) == []
    done_job = engine.run_stage(project.id, s1, "a")  # done: returned, not queued again
    assert done_job.status is JobStatus.COMPLETED and engine.active_jobs == 0
    # re-run a of s1: b and c of s1 become stale, with the reason
    engine.run_stage(project.id, s1, "a", rerun_done=True)
    await engine.wait(timeout=30)
    subject = engine.get_subject(s1)
    assert subject.stage_statuses == {"a": StageStatus.DONE, "b": StageStatus.STALE, "c": StageStatus.STALE}
    assert subject.stale_reasons["b"].startswith("input a re-ran at ")
    assert set(subject.stale_reasons) == {"b", "c"}
    assert engine.get_subject(subjects["s2"].id).stage_statuses["b"] is StageStatus.DONE
    assert engine.summary(project.id)["stages"]["stale"] == 2
    # survives reopening
    engine.close()
    engine = make_engine(db, runner=ScriptRunner())
    again = engine.get_subject(s1)
    assert again.stage_statuses["c"] is StageStatus.STALE and "input a re-ran" in again.stale_reasons["c"]
    # the default run queues the stale stages only
    jobs = engine.run_pipeline(project.id)
    assert sorted(j.stage_id for j in jobs) == ["b", "c"] and {j.subject_id for j in jobs} == {s1}
    await engine.wait(timeout=30)
    final = engine.get_subject(s1)
    assert set(final.stage_statuses.values()) == {StageStatus.DONE} and final.stale_reasons == {}


async def test_cancelled_rerun_of_a_stale_stage_stays_stale(make_engine):
    runner = ScriptRunner()
    engine = make_engine(runner=runner)
    project, subjects = setup(engine, ["s1"])
    s1 = subjects["s1"].id
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    # all stages again: when a completes, b and c are queued (not stale) and run again
    runner.slow = {"b"}  # b will hang: cancel it
    jobs = engine.run_pipeline(project.id, rerun_done=True)
    assert [j.stage_id for j in jobs] == ["a", "b", "c"]
    await engine.wait(jobs[0], timeout=30)
    engine.cancel(jobs[1].id)
    statuses = engine.get_subject(s1).stage_statuses
    assert statuses["b"] is StageStatus.STALE and statuses["c"] is StageStatus.STALE
