"""Timeline: job rows with wait and run times, step marks, resources per second, logs in scope."""

from __future__ import annotations

from widget_helpers import settle

from pbrain_widgets import Job, JobStatus, SimulatedRunner
from pbrain_widgets.widgets import Timeline
from pbrain_widgets.widgets.feeds.timeline import RESOURCE_SECONDS, ResourceBuckets

ROW = ["id", "subject_id", "stage_id", "status", "queued_at", "start_time", "end_time", "attempt", "worker"]


def rows_of(snapshot, patches):
    """Job id -> row as a view holds it after the snapshot and these patches."""
    rows = {r[0]: dict(zip(ROW, r, strict=True)) for r in snapshot["jobs"]}
    for patch in patches:
        for r in patch["parts"].get("timeline", {}).get("jobs", []):
            rows[r[0]] = dict(zip(ROW, r, strict=True))
    return rows


async def test_snapshot_has_every_job_oldest_first_with_names(study, wire):
    engine, project, subjects = study
    jobs = engine.run_pipeline(project.id, [subjects[0].id], ["import", "t1_fit"])
    await engine.wait(timeout=5)
    w = wire(Timeline(engine, project.id))
    snap = w.ok("snapshot")["parts"]["timeline"]
    assert [r[0] for r in snap["jobs"]] == [j.id for j in jobs]
    first = dict(zip(ROW, snap["jobs"][0], strict=True))
    assert first["status"] == "completed" and first["queued_at"] <= first["start_time"] <= first["end_time"]
    assert snap["subjects"][subjects[0].id] == "sub-01"
    assert snap["stages"]["t1_fit"] == "T1/M0 Fitting" and snap["order"][:2] == ["import", "t1_fit"]
    assert snap["resources"] == [] and w.widget.project_id == project.id


async def test_live_rows_give_each_started_job_its_wait_and_run(study, wire):
    engine, project, subjects = study
    engine.max_concurrent = 2
    w = wire(Timeline(engine))
    snap = w.ok("snapshot")["parts"]["timeline"]
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])
    await engine.wait(timeout=10)
    await settle()
    rows = rows_of(snap, w.patches)
    assert set(rows) == {j.id for j in engine.get_jobs()}
    for row in rows.values():
        job = engine.get_job(row["id"])
        assert row["status"] == "completed"
        assert row["start_time"] == round(job.start_time, 3) and row["end_time"] == round(job.end_time, 3)
        assert row["queued_at"] <= row["start_time"]
    # the second stage waited for the first: a visible queue wait
    assert any(r["start_time"] - r["queued_at"] > 0.005 for r in rows.values() if r["stage_id"] == "t1_fit")
    assert len(w.patches) <= 15
    # a row goes when its bar changes (queued, started, ended), never for progress alone
    sent = [r[0] for p in w.patches for r in p["parts"].get("timeline", {}).get("jobs", [])]
    assert max(sent.count(job_id) for job_id in rows) <= 3


async def test_step_changes_become_marks(study, wire):
    engine, project, subjects = study
    w = wire(Timeline(engine, project.id))
    (job,) = engine.run_pipeline(project.id, [subjects[0].id], ["import"])
    await engine.wait(timeout=5)

    def sent_marks():
        return [m for p in w.patches for m in p["parts"].get("timeline", {}).get("marks", {}).get(job.id, [])]

    for _ in range(50):  # the state ticks' patches, later on a loaded machine
        await settle(0.1)
        if len(sent_marks()) >= 2:
            break
    await settle()
    marks = sent_marks()
    assert len(marks) >= 2 and [m[0] for m in marks] == sorted(m[0] for m in marks)
    done = engine.get_job(job.id)
    assert all(done.start_time - 0.01 <= t <= done.end_time + 0.01 for t, _ in marks)
    assert w.ok("snapshot")["parts"]["timeline"]["marks"][job.id] == marks


async def test_a_widget_opened_later_has_the_marks_of_jobs_that_ran_before_it(study, wire):
    engine, project, subjects = study
    (job,) = engine.run_pipeline(project.id, [subjects[0].id], ["import"])
    await engine.wait(timeout=5)
    steps = engine.get_job(job.id).steps
    assert len(steps) >= 2 and all(isinstance(step, str) for _, step in steps)
    w = wire(Timeline(engine, project.id))
    assert w.ok("snapshot")["parts"]["timeline"]["marks"] == {job.id: [list(s) for s in steps]}


def sampled(job_id: str, samples: list[tuple[float, float, int]], worker: str | None = None) -> Job:
    return Job(job_id, "p", "s", "import", status=JobStatus.RUNNING, resource_history=samples, worker=worker)


def test_resources_sum_the_running_jobs_per_second():
    buckets = ResourceBuckets()
    assert buckets.add(sampled("a", [(100.2, 50.0, 1000), (101.1, 80.0, 2000)]))
    assert buckets.add(sampled("b", [(101.5, 20.0, 500)]))
    assert not buckets.add(sampled("b", [(101.5, 20.0, 500)]))  # nothing new
    buckets.add(sampled("a", [(101.1, 80.0, 2000), (101.9, 90.0, 2500)]))  # latest of a second wins
    assert buckets.rows() == [[100, 50.0, 1000], [101, 110.0, 3000]]
    assert buckets.changed == {100, 101}
    assert buckets.rows({101, 7}) == [[101, 110.0, 3000]]


def test_resources_are_split_per_worker_when_jobs_ran_on_workers():
    buckets = ResourceBuckets()
    buckets.add(sampled("a", [(100.2, 50.0, 1000)], worker="tcp://10.0.0.1:4001"))
    buckets.add(sampled("b", [(100.4, 30.0, 500)], worker="tcp://10.0.0.2:4001"))
    buckets.add(sampled("c", [(100.6, 20.0, 250)], worker="tcp://10.0.0.2:4001"))
    buckets.add(sampled("d", [(101.0, 5.0, 10)]))
    assert buckets.rows() == [
        [100, 100.0, 1750, {"tcp://10.0.0.1:4001": [50.0, 1000], "tcp://10.0.0.2:4001": [50.0, 750]}],
        [101, 5.0, 10],
    ]


def test_resources_keep_the_last_hour_only():
    buckets = ResourceBuckets()
    buckets.add(sampled("a", [(float(t), 1.0, 1) for t in range(RESOURCE_SECONDS + 10)]))
    rows = buckets.rows()
    assert len(rows) == RESOURCE_SECONDS and rows[0][0] == 10


async def test_logs_are_served_only_in_scope(study, wire):
    engine, project, subjects = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    mine = engine.run_stage(project.id, subjects[0].id, "import")
    theirs = engine.run_stage(other.id, extra.id, "import")
    await engine.wait(timeout=5)
    w = wire(Timeline(engine, project.id))
    assert w.ok("logs", {"job_id": mine.id, "before": None, "limit": 10})["lines"]
    reply = w.request("logs", {"job_id": theirs.id, "before": None, "limit": 10})
    assert not reply["ok"] and "unknown here" in reply["error"]
    assert [r[0] for r in w.ok("snapshot")["parts"]["timeline"]["jobs"]] == [mine.id]


async def test_a_long_timeline_travels_in_parts_newest_first_with_their_marks(make_engine, wire, monkeypatch):
    import pbrain_widgets.widgets.feeds.timeline as timeline_feed

    monkeypatch.setattr(timeline_feed, "MAX_TABLE_ROWS", 4)
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.002, failure_rate=0), max_concurrent=2)
    project = engine.create_project("p")
    engine.add_subjects(project.id, ["a", "b", "c"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit", "input_functions"])  # 9 jobs
    await engine.wait(timeout=10)
    jobs = engine.get_jobs(project_id=project.id)  # newest first
    w = wire(Timeline(engine, project.id))
    snap = w.ok("snapshot")["parts"]["timeline"]
    assert snap["total"] == 9 and [r[0] for r in snap["jobs"]] == [j.id for j in reversed(jobs[:4])]
    assert set(snap["marks"]) == {j.id for j in jobs[:4]}
    await settle(0.5)
    parts = [p["parts"]["timeline"] for p in w.patches if "jobs" in p["parts"].get("timeline", {})]
    assert [len(p["jobs"]) for p in parts] == [4, 1]
    rows = rows_of(snap, w.patches)
    assert set(rows) == {j.id for j in jobs}
    # each job's marks came with its row, whole
    marks = {**snap["marks"], **{k: v for p in parts for k, v in p.get("marks", {}).items()}}
    assert marks == {j.id: [list(s) for s in engine.get_job(j.id).steps] for j in jobs}
    # a run larger than a message: new rows come 4 a patch, each once, and in the end as they are
    w.messages.clear()
    engine.add_subjects(project.id, ["d", "e", "f"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])
    await engine.wait(timeout=10)
    await settle(0.5)
    sizes = [
        len(p["parts"]["timeline"]["jobs"]) for p in w.patches if "jobs" in p["parts"].get("timeline", {})
    ]
    assert max(sizes) <= 4
    rows = rows_of(snap, [{"parts": {"timeline": part}} for part in parts] + w.patches)
    assert {k: r["status"] for k, r in rows.items()} == {
        j.id: "completed" for j in engine.get_jobs(project.id)
    }
