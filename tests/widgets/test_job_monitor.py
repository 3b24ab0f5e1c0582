"""JobMonitor: snapshot, patches after engine events, cancel / retry / kill all from a view."""

from __future__ import annotations

import asyncio
import threading

from test_cohort_actions import PIPE, Hold
from widget_helpers import JobsView, settle, table_rows

from pbrain_widgets import JobStatus, Pipeline, SimulatedRunner, Stage
from pbrain_widgets.engine import loop_thread
from pbrain_widgets.engine.loop_thread import drive
from pbrain_widgets.widgets import JobMonitor
from pbrain_widgets.widgets.feeds import job_listing
from pbrain_widgets.widgets.feeds.job_listing import STATUS_RANK, JobLister, ListingSpec
from pbrain_widgets.widgets.records import JOB_FIELDS


async def test_snapshot_has_counts_names_and_the_start_order_but_no_rows(study, wire):
    engine, project, subjects = study
    jobs = engine.run_pipeline(project.id, [subjects[0].id, subjects[1].id], ["import", "t1_fit"])
    w = wire(JobMonitor(engine, project.id))
    snap = w.ok("snapshot")["parts"]["jobs"]
    assert "jobs" not in snap and snap["total"] == len(jobs)
    assert sum(snap["counts"].values()) == len(jobs)
    assert sum(snap["stage_counts"]["t1_fit"].values()) == 2
    assert snap["subjects"] == {s.id: s.name for s in subjects}
    assert snap["stages"]["t1_fit"] == "T1/M0 Fitting"
    ready = engine.queue_order(project.id)
    assert snap["queue"] == [engine.get_job(j).seq for j in ready]


async def test_a_window_lists_what_needs_eyes_first(make_engine, wire):
    engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("p", pipeline=PIPE)
    names = ["bad-1", "done-1", "hold-1", "bad-2", "q-1", "q-2"]
    subjects = {s.name: s for s in engine.add_subjects(project.id, names)}
    jobs = {n: engine.run_stage(project.id, subjects[n].id, "import") for n in names[:3]}
    await asyncio.sleep(0.3)  # bad-1 failed, done-1 completed, hold-1 runs
    jobs |= {n: engine.run_stage(project.id, subjects[n].id, "import") for n in names[3:]}
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w)
    order = [(row["status"], engine.get_subject(row["subject_id"]).name) for row in view.listed]
    assert order == [
        ("running", "hold-1"),
        ("failed", "bad-1"),
        ("queued", "bad-2"),  # ready ones in the order they will start
        ("queued", "q-1"),
        ("queued", "q-2"),
        ("completed", "done-1"),
    ]
    assert view.window["listed"] == 6 and view.window["offset"] == 0
    assert view.window["actionable"] == {"cancel": 4, "retry": 1, "queued": 3}
    queued = JobsView(w, "view-2", tab="queued", offset=1, count=1)
    assert [row["id"] for row in queued.listed] == [jobs["q-1"].id]
    assert queued.window["listed"] == 3 and queued.window["offset"] == 1
    engine.cancel_all()


async def test_every_page_is_its_slice_of_the_whole_listing(make_engine, wire):
    engine = make_engine(runner=Hold(), max_concurrent=2)
    project = engine.create_project("p", pipeline=PIPE)
    names = [f"{kind}-{i}" for i in range(4) for kind in ("bad", "ok", "hold")]
    engine.add_subjects(project.id, names)
    engine.run_pipeline(project.id)
    await asyncio.sleep(0.5)
    w = wire(JobMonitor(engine, project.id))
    for tab in ("all", "running", "queued", "completed", "failed", "cancelled"):
        for stage in (None, "fit"):
            whole = JobsView(w, f"{tab}-{stage}", tab=tab, stage_id=stage, count=400)
            ids = [row["id"] for row in whole.listed]
            assert len(ids) == whole.window["listed"] == len(set(ids))
            for offset, count in ((0, 1), (1, 2), (3, 5), (len(ids), 3)):
                page = JobsView(w, "page", tab=tab, stage_id=stage, offset=offset, count=count)
                assert [row["id"] for row in page.listed] == ids[offset : offset + count]
                assert page.window["listed"] == len(ids)
            # the same listing made by a scan (a column sort on a key all share keeps the order)
            scan = JobsView(w, "scan", tab=tab, stage_id=stage, count=400, sort="stage" if stage else None)
            if stage:
                assert [row["id"] for row in scan.listed] == ids
    engine.cancel_all()


async def test_patches_keep_a_window_current_and_carry_only_its_rows(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.02, failure_rate=0), max_concurrent=3)
    project = engine.create_project("p")
    engine.add_subjects(project.id, [f"s{i:03d}" for i in range(40)])
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w, count=8)
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])  # 80 jobs
    sent = 0
    for _ in range(40):
        await asyncio.sleep(0.1)
        for part in view.follow():
            sent = max(sent, part.get("jobs", {}).get("n", 0))
            assert sum(len(v) for v in part.get("changes", {}).values()) <= 8 * len(JOB_FIELDS)
        if not engine.get_jobs(status=[JobStatus.QUEUED, JobStatus.RUNNING]):
            break
    await settle()
    view.follow()
    assert sent <= 8  # never more rows than a window holds
    assert view.window["listed"] == 80 and len(view.listed) == 8
    assert [row["status"] for row in view.listed] == ["completed"] * 8
    truth = {j.id: j for j in engine.get_jobs()}
    assert all(row["status"] == truth[row["id"]].status.value for row in view.rows.values())
    assert [row["id"] for row in view.listed] == engine.listed_job_ids("completed", project.id, stop=8)


async def test_other_projects_do_not_wake_a_project_monitor(study, wire):
    engine, project, _ = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    w = wire(JobMonitor(engine, project.id))
    JobsView(w)
    engine.run_stage(other.id, extra.id, "import")
    await engine.wait(timeout=5)
    await settle()
    assert w.patches == []


async def test_a_monitor_without_project_follows_every_project(study, wire):
    engine, project, subjects = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    w = wire(JobMonitor(engine))
    view = JobsView(w)
    engine.run_stage(project.id, subjects[0].id, "import")
    engine.run_stage(other.id, extra.id, "import")
    await engine.wait(timeout=5)
    await settle()
    view.follow()
    assert {row["project_id"] for row in view.listed} == {project.id, other.id}
    assert w.ok("snapshot")["parts"]["jobs"]["subjects"][extra.id] == "x-01"


async def test_cancel_and_retry_from_the_view_act_on_the_engine(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.2, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w)
    job = engine.run_stage(project.id, subject.id, "import")
    await asyncio.sleep(0.05)
    row = w.ok("cancel", {"job_id": job.id})
    assert row["status"] == "cancelled"
    assert engine.get_job(job.id).status is JobStatus.CANCELLED
    retried = w.ok("retry", {"job_id": job.id})
    assert retried["retry_of"] == job.id and retried["attempt"] == 2
    assert engine.get_job(retried["id"]).status in (JobStatus.QUEUED, JobStatus.RUNNING)
    await settle()
    view.follow()
    assert view.rows[job.id]["status"] == "cancelled"  # folded under its retry
    assert [r["id"] for r in view.listed] == [retried["id"]]


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
    view = JobsView(w)
    job = engine.run_stage(project.id, subject.id, "import")
    await engine.wait(timeout=5)
    await settle()
    parts = view.follow()
    full = [row for part in parts if "jobs" in part for row in table_rows(part["jobs"])]
    changes = [part["changes"] for part in parts if "changes" in part]
    assert [row["id"] for row in full] == [job.id]
    assert changes and all(set(c) < set(full[0]) - {"id", "seq"} for c in changes)
    assert all(seq == job.seq for c in changes for pairs in c.values() for seq, _ in pairs)
    assert view.listed == table_rows(JobsView(w, "again").wire.ok("jobs_window", view.payload())["jobs"])


async def test_a_second_view_gets_whole_rows_that_the_first_already_holds(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.05, failure_rate=0), max_concurrent=1)
    project = engine.create_project("p")
    engine.add_subjects(project.id, ["a", "b", "c"])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])
    w = wire(JobMonitor(engine, project.id))
    first = JobsView(w, "first", count=6)
    second = JobsView(w, "second", tab="completed", count=6)
    await engine.wait(timeout=10)
    await settle()
    first.follow()
    second.follow()
    truth = {j.id: j.status.value for j in engine.get_jobs()}
    assert {r["id"]: r["status"] for r in first.listed} == truth
    assert {r["id"]: r["status"] for r in second.listed} == truth
    assert [r["id"] for r in second.listed] == [r["id"] for r in first.listed]


async def test_open_cards_stay_under_the_status_they_were_opened_with(make_engine, wire):
    engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("p", pipeline=PIPE)
    subjects = {s.name: s for s in engine.add_subjects(project.id, ["hold", "hold-2"])}
    hold = engine.run_stage(project.id, subjects["hold"].id, "import")
    queued = engine.run_stage(project.id, subjects["hold-2"].id, "import")
    await asyncio.sleep(0.1)
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w, tab="running", pinned=[[hold.id, "running"]])
    engine.cancel(hold.id)  # hold-2 runs now, hold is cancelled: its open card stays in the tab
    await asyncio.sleep(0.3)
    await settle()
    view.follow()
    assert [(r["id"], r["status"]) for r in view.listed] == [(hold.id, "cancelled"), (queued.id, "running")]
    assert view.window["actionable"]["cancel"] == 1
    elsewhere = JobsView(w, "other", tab="cancelled", pinned=[[hold.id, "running"]])
    assert elsewhere.listed == [] and elsewhere.window["listed"] == 0
    assert {r["id"] for r in elsewhere.rows.values()} == {hold.id}  # held, not listed
    engine.cancel_all()


async def test_text_every_attempt_and_a_column_sort_are_listings_too(make_engine, wire):
    engine = make_engine(runner=Hold(), max_concurrent=4)
    project = engine.create_project("p", pipeline=PIPE)
    subjects = {s.name: s for s in engine.add_subjects(project.id, ["bad-x", "ok-y", "ok-z"])}
    engine.run_pipeline(project.id, stage_ids=["import"])
    await engine.wait(timeout=5)
    failed = engine.get_jobs(status="failed")[0]
    retried = engine.retry(failed.id)
    await engine.wait(timeout=5)
    w = wire(JobMonitor(engine, project.id))
    found = JobsView(w, query="  OK-")
    assert sorted(engine.get_subject(r["subject_id"]).name for r in found.listed) == ["ok-y", "ok-z"]
    assert JobsView(w, "id", query=retried.id[:12]).window["ids"] == [engine.get_job(retried.id).seq]
    newest = JobsView(w, "newest")
    every = JobsView(w, "every", history=True)
    assert newest.window["listed"] == 3 and every.window["listed"] == 4
    assert every.window["superseded"] == [failed.seq]
    assert [(seq, earlier) for seq, earlier in newest.window["earlier"]] == [(retried.seq, [failed.seq])]
    assert failed.id in newest.rows  # an earlier attempt travels with the newest (its card shows it)
    by_subject = JobsView(w, "sorted", sort="subject", descending=True)
    names = [engine.get_subject(r["subject_id"]).name for r in by_subject.listed]
    assert names == ["ok-z", "ok-y", "bad-x"]
    assert subjects["bad-x"].id == by_subject.listed[-1]["subject_id"]


async def test_batch_actions_on_a_whole_listing(make_engine, wire):
    engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("p", pipeline=PIPE)
    subjects = {s.name: s for s in engine.add_subjects(project.id, ["hold", "a", "b", "c"])}
    for name in subjects:
        engine.run_stage(project.id, subjects[name].id, "import")
    w = wire(JobMonitor(engine, project.id))
    JobsView(w, "queued-view", tab="queued", count=1)  # shows one row, lists three
    assert w.ok("prioritize", {"job_ids": [], "listed_by": "queued-view", "move": "raise"})["changed"] == 3
    assert w.ok("cancel_many", {"job_ids": [], "listed_by": "queued-view"})["done"] == 3
    assert engine.get_jobs(status="queued") == []
    assert [j.status for j in engine.get_jobs(status="running")] == [JobStatus.RUNNING]
    reply = w.request("cancel_many", {"job_ids": [], "listed_by": "nobody"})
    assert not reply["ok"] and "view 'nobody' has no listing here" in reply["error"]
    engine.cancel_all()


async def test_bad_window_requests_are_refused_by_name(study, wire):
    engine, project, subjects = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x-01"])
    foreign = engine.run_stage(other.id, extra.id, "import")
    mine = engine.run_stage(project.id, subjects[0].id, "import")
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w)
    cases = [
        ("stage 'nope' is unknown here", {"stage_id": "nope"}),
        (f"job {foreign.id!r} is unknown here", {"stage_id": None, "pinned": [[foreign.id, "queued"]]}),
        (f"job {foreign.id!r} is unknown here", {"pinned": [], "keep": [foreign.id]}),
        ("pinned status 'lost' is unknown; valid: queued", {"keep": [], "pinned": [[mine.id, "lost"]]}),
        ("field 'count' must be from 0 to 400", {"pinned": [], "count": 401}),
        ("field 'tab' must be one of", {"count": 1, "tab": "everything"}),
        ("field 'sort' must be one of", {"tab": "all", "sort": "colour"}),
    ]
    for why, change in cases:
        reply = w.request("jobs_window", view.payload(**change))
        assert not reply["ok"] and why in reply["error"], (why, reply)
    engine.cancel_all()


async def test_ended_jobs_are_news_once(make_engine, wire):
    engine = make_engine(runner=Hold())
    project = engine.create_project("p", pipeline=PIPE)
    engine.add_subjects(project.id, ["bad", "ok"])
    w = wire(JobMonitor(engine, project.id))
    engine.run_pipeline(project.id)
    await engine.wait(timeout=5)
    await settle()
    ended = [p["parts"]["jobs"]["ended"] for p in w.patches if "ended" in p["parts"].get("jobs", {})]
    assert sum(e["completed"] for e in ended) == 2
    failed = [f for e in ended for f in e["failed"]]  # the failure itself, not the job it skipped
    assert [(f["stage_id"], engine.get_subject(f["subject_id"]).name) for f in failed] == [("import", "bad")]
    assert sum(e["more_failed"] for e in ended) == 0


async def test_a_lapsed_window_sends_nothing_more(make_engine, wire, monkeypatch):
    import pbrain_widgets.widgets.feeds.jobs as jobs_feed

    monkeypatch.setattr(jobs_feed, "WINDOW_LEASE_SECONDS", 0.2)
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.02, failure_rate=0))
    project = engine.create_project("p")
    (subject,) = engine.add_subjects(project.id, ["s"])
    w = wire(JobMonitor(engine, project.id))
    JobsView(w)
    await asyncio.sleep(0.4)
    engine.run_stage(project.id, subject.id, "import")
    await engine.wait(timeout=5)
    await settle()
    assert not any({"jobs", "changes", "windows"} & set(p["parts"]["jobs"]) for p in w.patches)


async def test_a_filtered_listing_catches_up_with_the_last_change(make_engine, wire, monkeypatch):
    import pbrain_widgets.widgets.feeds.jobs as jobs_feed

    monkeypatch.setattr(jobs_feed, "SCAN_COST_FACTOR", 2000.0)  # a scan waits long for its turn
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.01, failure_rate=0), max_concurrent=4)
    project = engine.create_project("p")
    engine.add_subjects(project.id, [f"s{i}" for i in range(8)])
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w, query="s")
    engine.run_pipeline(project.id, stage_ids=["import"])
    await engine.wait(timeout=10)
    await asyncio.sleep(1.5)
    view.follow()
    assert view.window["listed"] == 8
    assert [row["status"] for row in view.listed] == ["completed"] * 8


FLAT = Pipeline([Stage("import", "Import")], name="flat")


def hold_scans(monkeypatch, feed):
    """Scans of ``feed`` give the loop back at every step and, at their end, wait for the
    returned event; returns (that event, what a probe on the loop saw: True once it ran while a
    scan was under way)."""
    monkeypatch.setattr(loop_thread, "SLICE_SECONDS", 0.0)
    gate = threading.Event()
    under_way = {"now": 0, "seen": False}
    scan = feed._lister.scan

    def held(spec):
        under_way["now"] += 1
        result = yield from scan(spec)
        while not gate.is_set():
            yield
        under_way["now"] -= 1
        return result

    monkeypatch.setattr(feed._lister, "scan", held)
    return gate, under_way


async def test_a_first_scan_gives_the_loop_back_while_it_lists(make_engine, wire, monkeypatch):
    engine = make_engine(runner=Hold(), max_concurrent=2)
    project = engine.create_project("p", pipeline=FLAT)
    engine.add_subjects(project.id, [f"hold-{i}" for i in range(1200)])
    engine.run_pipeline(project.id)
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    gate, under_way = hold_scans(monkeypatch, monitor.jobs_feed)
    probe_stop = threading.Event()

    async def probe():
        while not probe_stop.is_set():
            under_way["seen"] |= under_way["now"] > 0
            await asyncio.sleep(0)

    probing = engine.submit(probe())
    threading.Timer(0.3, gate.set).start()
    view = JobsView(w, query="HOLD-11", count=200)  # the request's reply waits for the scan
    probe_stop.set()
    probing.result(5)
    assert under_way["seen"], "the engine's loop did not run while the listing was made"
    assert view.window["listed"] == 111  # hold-11, hold-110 ... hold-1199
    assert {engine.get_subject(r["subject_id"]).name for r in view.listed} >= {"hold-11", "hold-1199"}
    engine.cancel_all()


async def test_a_scan_answered_after_a_later_request_does_not_replace_its_window(
    make_engine, wire, monkeypatch
):
    engine = make_engine(runner=Hold(), max_concurrent=2)
    project = engine.create_project("p", pipeline=FLAT)
    engine.add_subjects(project.id, [f"hold-{i}" for i in range(30)])
    engine.run_pipeline(project.id)
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    view = JobsView(w)
    gate, _ = hold_scans(monkeypatch, monitor.jobs_feed)
    w.raw({"kind": "request", "id": "slow", "action": "jobs_window", "payload": view.payload(sort="subject")})
    view.ask(sort=None, tab="queued")  # answered while the sorted listing is being made
    gate.set()
    for _ in range(500):
        if any(m["kind"] == "reply" and m["id"] == "slow" for m in w.messages):
            break
        await asyncio.sleep(0.01)
    (slow,) = [m for m in w.messages if m["kind"] == "reply" and m["id"] == "slow"]
    assert slow["ok"] and slow["result"]["window"]["asked"] < view.window["asked"]  # a view drops it
    engine.cancel(view.listed[0]["id"])
    await asyncio.sleep(0.3)
    view.follow()
    assert view.window["listed"] == 27  # the queued tab it asked for last: 28 queued, one cancelled
    assert all(row["status"] == "queued" for row in view.listed)
    engine.cancel_all()


async def test_a_scan_with_a_text_and_a_sort_asks_for_the_names_once(make_engine):
    engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("p", pipeline=PIPE)
    engine.add_subjects(project.id, ["hold-1", "ok-3", "ok-4", "bad-2"])
    engine.run_pipeline(project.id)  # hold-1's import runs on; the others are queued
    await asyncio.sleep(0.1)
    lister = JobLister(engine, project.id)
    asked = []
    names = lister.names

    def counted():
        asked.append(1)
        return names()

    lister.names = counted
    spec = ListingSpec(query="ok", sort="subject", descending=True)  # searched: running and queued
    ids, _ = engine.call(lambda: drive(lister.scan(spec)))
    names_listed = [engine.get_subject(j.subject_id).name for j in map(engine.get_job, ids)]
    assert names_listed == ["ok-4", "ok-4", "ok-3", "ok-3"]
    assert len(asked) == 1  # not once per status searched and once more for the sort
    engine.cancel_all()


async def test_a_sort_in_parts_is_the_stable_sort_of_the_listing(make_engine, monkeypatch):
    monkeypatch.setattr(job_listing, "SCAN_STEP", 500)  # parts of 500: three of them
    engine = make_engine(runner=Hold(), max_concurrent=3)
    project = engine.create_project("p", pipeline=PIPE)
    names = [f"{'hold' if i % 7 == 0 else 'bad' if i % 5 == 0 else 'ok'}-{i:03d}" for i in range(700)]
    engine.add_subjects(project.id, names)
    engine.run_pipeline(project.id)
    await asyncio.sleep(1.0)
    lister = JobLister(engine, project.id)
    listing = engine.call(lambda: lister.page(ListingSpec(), 0, 10_000)).ids
    assert len(listing) == 1400 > 2 * job_listing.SCAN_STEP
    fields = {j.id: j for j in engine.get_jobs(project_id=project.id)}
    for key, of in (
        ("status", lambda j: STATUS_RANK[j.status]),
        ("subject", lambda j: engine.get_subject(j.subject_id).name),
        ("stage", lambda j: j.stage_id),
    ):
        for descending in (False, True):
            sorted_ids, _ = engine.call(
                lambda k=key, d=descending: drive(lister.scan(ListingSpec(sort=k, descending=d)))
            )
            assert sorted_ids == sorted(listing, key=lambda j: of(fields[j]), reverse=descending), (
                key,
                descending,
            )
    engine.cancel_all()
