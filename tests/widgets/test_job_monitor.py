"""JobMonitor: snapshot, patches after engine events, cancel / retry / kill all from a view."""

from __future__ import annotations

import asyncio

from widget_helpers import job_states, settle, table_rows

from pbrain_widgets import JobStatus, SimulatedRunner
from pbrain_widgets.widgets import JobMonitor


async def test_snapshot_has_every_job_running_first_then_newest_first_with_names(study, wire):
    engine, project, subjects = study
    jobs = engine.run_pipeline(project.id, [subjects[0].id, subjects[1].id], ["import", "t1_fit"])
    w = wire(JobMonitor(engine, project.id))
    snap = w.ok("snapshot")["parts"]["jobs"]
    rows = table_rows(snap["jobs"])
    key = [(row["status"] != "running", -row["seq"]) for row in rows]
    assert key == sorted(key) and {row["id"] for row in rows} == {j.id for j in jobs}
    assert snap["total"] == len(jobs) == len(rows)
    assert snap["subjects"] == {s.id: s.name for s in subjects}
    assert snap["stages"]["t1_fit"] == "T1/M0 Fitting"
    assert "resource_history" not in rows[0]
    assert snap["jobs"]["columns"]["project_id"] == {"fill": project.id}  # a repeated value costs nothing


async def test_a_monitor_without_project_follows_every_project(study, wire):
    engine, project, subjects = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    w = wire(JobMonitor(engine))
    engine.run_stage(project.id, subjects[0].id, "import")
    engine.run_stage(other.id, extra.id, "import")
    await engine.wait(timeout=5)
    await settle()
    seen = {row["project_id"] for row in job_states(w.patches).values()}
    assert seen == {project.id, other.id}
    assert w.ok("snapshot")["parts"]["jobs"]["subjects"][extra.id] == "x-01"


async def test_patches_carry_only_changed_jobs(study, wire):
    engine, project, subjects = study
    engine.run_pipeline(project.id, [subjects[0].id], ["import"])
    await engine.wait(timeout=5)
    w = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subjects[1].id, "import")
    await engine.wait(timeout=5)
    await settle()
    ids = set(job_states(w.patches))
    assert ids == {job.id}


async def test_other_projects_do_not_wake_a_project_monitor(study, wire):
    engine, project, _ = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    w = wire(JobMonitor(engine, project.id))
    engine.run_stage(other.id, extra.id, "import")
    await engine.wait(timeout=5)
    await settle()
    assert w.patches == []


async def test_cancel_and_retry_from_the_view_act_on_the_engine(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.2, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    w = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subject.id, "import")
    await asyncio.sleep(0.05)
    row = w.ok("cancel", {"job_id": job.id})
    assert row["status"] == "cancelled"
    assert engine.get_job(job.id).status is JobStatus.CANCELLED
    retried = w.ok("retry", {"job_id": job.id})
    assert retried["retry_of"] == job.id and retried["attempt"] == 2
    assert engine.get_job(retried["id"]).status in (JobStatus.QUEUED, JobStatus.RUNNING)
    await settle()
    assert job_states(w.patches)[job.id]["status"] == "cancelled"


async def test_a_superseded_attempt_cannot_be_retried(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.2, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["sub-01"])
    w = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subject.id, "import")
    engine.cancel(job.id)
    second = engine.retry(job.id)
    engine.cancel(second.id)
    reply = w.request("retry", {"job_id": job.id})
    assert not reply["ok"]
    why = f"attempt 1 of import for sub-01 was superseded: attempt 2 ({second.id}) is cancelled"
    assert reply["error"] == why
    assert [j.id for j in engine.get_jobs(project_id=project.id)] == [second.id, job.id]
    assert w.ok("retry", {"job_id": second.id})["attempt"] == 3


async def test_kill_all_cancels_only_this_project(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.5, failure_rate=0))
    project = engine.create_project("p")
    other = engine.create_project("q")
    engine.add_subjects(project.id, ["a", "b"])
    engine.add_subjects(other.id, ["c"])
    w = wire(JobMonitor(engine, project.id))
    engine.run_pipeline(project.id)
    kept = engine.run_pipeline(other.id)
    result = w.ok("cancel_all", {})
    assert result["cancelled"] == 20
    assert {j.status for j in engine.get_jobs(project_id=project.id)} == {JobStatus.CANCELLED}
    assert engine.get_job(kept[0].id).status in (JobStatus.QUEUED, JobStatus.RUNNING)
    engine.cancel_all()


async def test_a_job_of_another_project_is_refused(study, wire):
    engine, project, _ = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    foreign = engine.run_stage(other.id, extra.id, "import")
    w = wire(JobMonitor(engine, project.id))
    reply = w.request("cancel", {"job_id": foreign.id})
    assert not reply["ok"] and f"job {foreign.id!r} is unknown here" in reply["error"]
    assert engine.get_job(foreign.id).status is not JobStatus.CANCELLED


async def test_an_expanded_job_streams_its_new_lines_only(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.03, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    w = wire(JobMonitor(engine, project.id))
    first = engine.run_stage(project.id, subject.id, "import")
    second = engine.run_stage(project.id, subject.id, "t1_fit")
    await asyncio.sleep(0.05)
    tails = w.ok("watch", {"view": "v1", "job_ids": [first.id]})["tails"]
    seen = [line[0] for line in tails[first.id]]
    assert seen[0] == 1
    assert w.ok("watch", {"view": "v1", "job_ids": [first.id]})["tails"] == {}  # a renewal sends no tail
    await engine.wait(timeout=5)
    await settle()
    for patch in w.patches:
        lines = patch["parts"].get("logs", {}).get("lines", {})
        assert second.id not in lines  # nobody watches it
        seen += [line[0] for line in lines.get(first.id, []) if line[0] > seen[-1]]
    assert seen == list(range(1, len(seen) + 1))
    assert seen == [e.seq for e in engine.get_logs(first.id)]


async def test_a_running_job_sends_its_row_once_then_only_changed_fields(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.03, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    w = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subject.id, "import")
    await engine.wait(timeout=5)
    await settle()
    full = [
        row
        for p in w.patches
        if "jobs" in p["parts"]["jobs"]
        for row in table_rows(p["parts"]["jobs"]["jobs"])
    ]
    changes = [p["parts"]["jobs"]["changes"] for p in w.patches if "changes" in p["parts"]["jobs"]]
    assert [row["id"] for row in full] == [job.id]
    assert changes and all(set(c) < set(full[0]) - {"id", "seq"} for c in changes)
    assert all(seq == job.seq for c in changes for pairs in c.values() for seq, _ in pairs)
    assert job_states(w.patches)[job.id] == table_rows(w.ok("snapshot")["parts"]["jobs"]["jobs"])[0]


async def test_a_job_in_the_snapshot_is_never_sent_whole_again(make_engine, wire):
    # the snapshot seeds what views hold: a queued job that starts and runs sends only changes
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.03, failure_rate=0), max_concurrent=1)
    project = engine.create_project("p")
    subjects = engine.add_subjects(project.id, ["a", "b"])
    first = engine.run_stage(project.id, subjects[0].id, "import")
    second = engine.run_stage(project.id, subjects[1].id, "import")
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    snap = w.ok("snapshot")["parts"]["jobs"]
    await engine.wait(timeout=5)
    await settle()
    whole = [
        row["id"]
        for p in w.patches
        if "jobs" in p["parts"]["jobs"]
        for row in table_rows(p["parts"]["jobs"]["jobs"])
    ]
    assert whole == []
    view = job_states(w.patches, {row["id"]: row for row in table_rows(snap["jobs"])})
    assert view[first.id]["status"] == view[second.id]["status"] == "completed"
    assert view == {row["id"]: row for row in table_rows(w.ok("snapshot")["parts"]["jobs"]["jobs"])}


async def test_a_snapshot_between_patches_is_followed_by_full_rows(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=1, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    job = engine.run_stage(project.id, subject.id, "import")
    await settle()

    def cancel_then_snapshot():  # in one turn of the engine's loop, before the flush can run
        engine.cancel(job.id)  # a change that waits for the next flush...
        snap = monitor.snapshot()  # ...when a view takes its snapshot
        w.messages.clear()  # (here too: the flush may come as soon as this turn ends)
        return snap

    snap = engine.call(cancel_then_snapshot)
    await settle()
    (patch,) = w.patches
    assert [row["id"] for row in table_rows(patch["parts"]["jobs"]["jobs"])] == [job.id]
    assert "changes" not in patch["parts"]["jobs"]
    view = job_states(w.patches, {row["id"]: row for row in table_rows(snap["parts"]["jobs"]["jobs"])})
    assert view[job.id]["status"] == "cancelled"


async def test_a_long_job_list_travels_in_parts_of_at_most_max_table_rows(make_engine, wire, monkeypatch):
    import pbrain_widgets.widgets.feeds.jobs as jobs_feed

    monkeypatch.setattr(jobs_feed, "MAX_TABLE_ROWS", 4)
    engine = make_engine(runner=SimulatedRunner(step_seconds=5, failure_rate=0), max_concurrent=2)
    project = engine.create_project("p")
    engine.add_subjects(project.id, ["a", "b"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit", "input_functions"])  # 6 jobs, 2 running
    w = wire(JobMonitor(engine, project.id))
    snap = w.ok("snapshot")["parts"]["jobs"]
    first = table_rows(snap["jobs"])
    assert snap["total"] == 6 and len(first) == 4
    assert [row["status"] for row in first[:2]] == ["running", "running"]  # what a view shows first
    await settle(0.3)
    parts = [p["parts"]["jobs"]["jobs"]["n"] for p in w.patches if "jobs" in p["parts"].get("jobs", {})]
    assert parts == [2]
    view = job_states(w.patches, {row["id"]: row for row in first})
    assert set(view) == {j.id for j in engine.get_jobs()}
    # a run larger than a message: its new jobs come 4 a patch, each once
    w.messages.clear()
    engine.add_subjects(project.id, ["c", "d", "e"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"], subject_ids=None)
    await settle(0.5)
    sizes = [p["parts"]["jobs"]["jobs"]["n"] for p in w.patches if "jobs" in p["parts"].get("jobs", {})]
    assert max(sizes) <= 4 and sum(sizes) == 6
    view = job_states(w.patches, view)
    assert set(view) == {j.id for j in engine.get_jobs()}


async def test_jobs_a_second_snapshot_left_out_come_whole_even_if_other_views_hold_them(
    make_engine, wire, monkeypatch
):
    import pbrain_widgets.widgets.feeds.jobs as jobs_feed

    engine = make_engine(runner=SimulatedRunner(step_seconds=5, failure_rate=0), max_concurrent=1)
    project = engine.create_project("p")
    engine.add_subjects(project.id, ["a", "b", "c"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])
    w = wire(JobMonitor(engine, project.id))
    w.ok("snapshot")  # a first view holds every job
    monkeypatch.setattr(jobs_feed, "MAX_TABLE_ROWS", 2)
    snap = w.ok("snapshot")["parts"]["jobs"]  # a second view gets 2 of 6, the rest follows
    await settle(0.4)
    view = job_states(w.patches, {row["id"]: row for row in table_rows(snap["jobs"])})
    assert set(view) == {j.id for j in engine.get_jobs()}
