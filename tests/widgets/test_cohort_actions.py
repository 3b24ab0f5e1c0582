"""Cohort operations from a view: batch actions, priority and the start order, finished runs,
log and CSV downloads, templates, the history's analytics and pages (issue 12)."""

from __future__ import annotations

import asyncio

from widget_helpers import settle

from pbrain_widgets import Engine, JobContext, JobFailed, JobStatus, Pipeline, Runner, SimulatedRunner, Stage
from pbrain_widgets.widgets import JobHistory, JobMonitor, ProjectDashboard
from pbrain_widgets.widgets.feeds.history import REFRESH_SECONDS

PIPE = Pipeline([Stage("import", "Import"), Stage("fit", "Fit", ("import",))], name="p")


class Hold(Runner):
    """Jobs of subjects named ``hold*`` run until cancelled; ``bad*`` fail; the others complete."""

    async def run(self, ctx: JobContext) -> None:
        ctx.info(f"working on {ctx.subject.name}")
        if ctx.subject.name.startswith("hold"):
            await asyncio.Event().wait()
        if ctx.subject.name.startswith("bad"):
            raise JobFailed(f"bad input for {ctx.subject.name}")


def queued_study(make_engine, names=("hold", "a", "b", "c")):
    engine: Engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("q", pipeline=PIPE)
    subjects = {s.name: s for s in engine.add_subjects(project.id, list(names))}
    jobs = {n: engine.run_stage(project.id, subjects[n].id, "import") for n in names}
    return engine, project, jobs


async def test_start_order_in_snapshot_and_moves_reorder_it(make_engine, wire):
    engine, project, jobs = queued_study(make_engine)
    w = wire(JobMonitor(engine, project.id))
    a, b, c = (jobs[n].id for n in "abc")
    seq = {job_id: engine.get_job(job_id).seq for job_id in (a, b, c)}
    assert w.ok("snapshot")["parts"]["jobs"]["queue"] == [seq[a], seq[b], seq[c]]

    assert w.ok("prioritize", {"job_ids": [c], "move": "next"}) == {"changed": 1, "skipped": 0}
    w.ok("prioritize", {"job_ids": [a], "move": "lower"})
    await settle()

    assert engine.queue_order(project.id) == [c, b, a]
    queues = [p["parts"]["jobs"]["queue"] for p in w.patches if "queue" in p["parts"].get("jobs", {})]
    assert queues[-1] == [seq[c], seq[b], seq[a]]
    assert engine.get_job(c).priority == 1 and engine.get_job(a).priority == -1
    # a running job is not queued: counted as skipped, its priority unchanged
    hold = jobs["hold"].id
    assert w.ok("prioritize", {"job_ids": [hold, b], "move": "raise"}) == {"changed": 1, "skipped": 1}
    assert engine.get_job(hold).priority == 0 and engine.get_job(b).priority == 1


async def test_prioritize_is_one_engine_batch(make_engine, wire, monkeypatch):
    engine, project, jobs = queued_study(make_engine)
    w = wire(JobMonitor(engine, project.id))
    a, b, c = (jobs[n].id for n in "abc")
    batches = []
    many = engine.set_priority_many
    monkeypatch.setattr(engine, "set_priority_many", lambda moves: batches.append(moves) or many(moves))
    monkeypatch.setattr(engine, "set_priority", None)  # one call per job no more
    assert w.ok("prioritize", {"job_ids": [c, b, jobs["hold"].id], "move": "next"}) == {
        "changed": 2,
        "skipped": 1,
    }
    assert batches == [[(c, 1), (b, 1)]]  # the running job is left out before the batch
    assert engine.queue_order(project.id) == [b, c, a]  # "next": above every queued job, in queue order


async def test_batch_cancel_and_retry_report_done_and_skipped(make_engine, wire):
    engine, project, jobs = queued_study(make_engine)
    w = wire(JobMonitor(engine, project.id))
    ids = [j.id for j in jobs.values()]
    done = engine.get_jobs(project_id=project.id)
    assert len(done) == 4

    result = w.ok("cancel_many", {"job_ids": ids})

    assert result == {"done": 4, "skipped": 0, "reasons": []}
    again = w.ok("cancel_many", {"job_ids": ids[:1]})
    assert again["done"] == 0 and again["skipped"] == 1
    assert "only queued or running jobs can be cancelled" in again["reasons"][0]
    retried = w.ok("retry_many", {"job_ids": ids[1:]})
    assert retried["done"] == 3
    await engine.wait(timeout=5)


async def test_batch_ids_outside_the_scope_are_refused(make_engine, wire):
    engine, project, jobs = queued_study(make_engine)
    other = engine.create_project("other", pipeline=PIPE)
    (x,) = engine.add_subjects(other.id, ["x"])
    foreign = engine.run_stage(other.id, x.id, "import")
    w = wire(JobMonitor(engine, project.id))
    actions = (("cancel_many", {}), ("retry_many", {}), ("prioritize", {"move": "next"}), ("export_logs", {}))
    for action, extra in actions:
        reply = w.request(action, {"job_ids": [jobs["a"].id, foreign.id], **extra})
        assert not reply["ok"] and foreign.id in reply["error"], action
    assert engine.get_job(foreign.id).status.value == "queued"
    assert w.request("prioritize", {"job_ids": [jobs["a"].id], "move": "up"})["error"] == (
        "field 'move' must be one of raise, lower, next; got 'up'"
    )


def cell_study(make_engine):
    """Subjects hold (its import runs until cancelled), a, b; nothing queued yet."""
    engine: Engine = make_engine(runner=Hold(), max_concurrent=1)
    project = engine.create_project("cells", pipeline=PIPE)
    subjects = {s.name: s.id for s in engine.add_subjects(project.id, ["hold", "a", "b"])}
    return engine, project, subjects


async def test_dashboard_cells_run_rerun_and_cancel_with_counts(make_engine, wire):
    engine, project, ids = cell_study(make_engine)
    w = wire(ProjectDashboard(engine, project.id))
    hold, a, b = ids["hold"], ids["a"], ids["b"]
    # a cell and a column: hold's import (runs), a's fit (its import queued with it), b's fit
    ran = w.ok("cells", {"action": "run", "cells": [[hold, "import"], [a, "fit"], [b, "fit"], [b, "fit"]]})
    assert ran == {"action": "run", "cells": 3, "acted": 3, "jobs": 5}
    cell_jobs = {(j.subject_id, j.stage_id): j for j in engine.get_jobs(project_id=project.id)}
    assert set(cell_jobs) == {(hold, "import"), (a, "import"), (a, "fit"), (b, "import"), (b, "fit")}
    # queued cells are not queued twice
    assert w.ok("cells", {"action": "run", "cells": [[a, "fit"]]}) == {
        "action": "run",
        "cells": 1,
        "acted": 0,
        "jobs": 0,
    }
    # cancel a row: a's import takes its queued fit with it; hold's fit has no job
    cancelled = w.ok("cells", {"action": "cancel", "cells": [[a, "import"], [a, "fit"], [hold, "fit"]]})
    assert cancelled == {"action": "cancel", "cells": 3, "acted": 2, "jobs": 2}
    assert {engine.get_job(cell_jobs[a, s].id).status for s in ("import", "fit")} == {JobStatus.CANCELLED}
    assert engine.get_job(cell_jobs[hold, "import"].id).status is JobStatus.RUNNING
    w.ok("cells", {"action": "cancel", "cells": [[hold, "import"]]})
    await engine.wait(timeout=10)
    assert engine.get_subject(b).stage_statuses["fit"].value == "done"
    # run leaves done cells alone; rerun redoes them
    assert w.ok("cells", {"action": "run", "cells": [[b, "import"], [b, "fit"]]})["jobs"] == 0
    rerun = w.ok("cells", {"action": "rerun", "cells": [[b, "import"]]})
    assert rerun == {"action": "rerun", "cells": 1, "acted": 1, "jobs": 1}
    await engine.wait(timeout=10)
    assert engine.get_subject(b).stage_statuses["fit"].value == "stale"


async def test_dashboard_cells_are_checked_and_scoped_before_anything_is_done(make_engine, wire):
    engine, project, ids = cell_study(make_engine)
    other = engine.create_project("other", pipeline=PIPE)
    (x,) = engine.add_subjects(other.id, ["hold-x"])
    foreign = engine.run_stage(other.id, x.id, "import")  # runs until cancelled
    w = wire(ProjectDashboard(engine, project.id))
    a = ids["a"]
    for action in ("run", "rerun", "cancel"):
        # a subject of another project, named, with this project's subjects as the valid ones
        reply = w.request("cells", {"action": action, "cells": [[a, "import"], [x.id, "import"]]})
        assert not reply["ok"] and f"unknown subject id {x.id!r}" in reply["error"], reply
        assert a in reply["error"] and x.id not in reply["error"].split("valid")[1]
        reply = w.request("cells", {"action": action, "cells": [[a, "import"], [a, "nope"]]})
        assert not reply["ok"] and "unknown stage id 'nope'" in reply["error"], reply
    assert engine.get_jobs(project_id=project.id) == []  # nothing half-done
    assert engine.get_job(foreign.id).status is JobStatus.RUNNING
    refused = {
        "field 'action' must be one of run, rerun, cancel; got 'delete'": {"action": "delete", "cells": []},
        "field 'cells' must hold lists of 2 strings": {"action": "run", "cells": [[a]]},
        "field 'cells' must hold lists of 2 strings (non-empty": {"action": "run", "cells": [[a, ""]]},
        "field 'cells' must be a list of at most 20000 lists of 2 strings": {
            "action": "run",
            "cells": [[a, "import"]] * 20_001,
        },
        "'cells' needs the field 'action'": {"cells": [[a, "import"]]},
    }
    for message, payload in refused.items():
        reply = w.request("cells", payload)
        assert not reply["ok"] and message in reply["error"], (message, reply)
    assert engine.get_jobs(project_id=project.id) == []
    engine.cancel(foreign.id)


async def test_finished_runs_travel_once_in_a_patch(make_engine, wire):
    engine: Engine = make_engine(runner=Hold())
    project = engine.create_project("r", pipeline=PIPE)
    engine.add_subjects(project.id, ["bad-1", "ok-1"])
    w = wire(JobMonitor(engine, project.id))
    engine.run_pipeline(project.id)
    await engine.wait(timeout=5)
    await settle()
    finished = [r for p in w.patches for r in p["parts"].get("jobs", {}).get("finished", [])]
    assert len(finished) == 1
    run = finished[0]
    assert (run["jobs"], run["completed"], run["failed"], run["ok"]) == (4, 2, 2, False)
    assert len(run["root_failed_ids"]) == 1
    assert "finished" not in w.ok("snapshot")["parts"]["jobs"]


async def test_log_download_holds_every_selected_log(make_engine, wire):
    engine: Engine = make_engine(runner=Hold())
    project = engine.create_project("l", pipeline=PIPE)
    engine.add_subjects(project.id, ["bad-1", "ok-1"])
    jobs = engine.run_pipeline(project.id, stage_ids=["import"])
    await engine.wait(timeout=5)
    w = wire(JobMonitor(engine, project.id))
    bundle = w.ok("export_logs", {"job_ids": [j.id for j in jobs]})
    assert bundle["file_name"] == "jobs-logs.txt" and bundle["jobs"] == 2
    assert bundle["text"].count("==== l_") == 2
    assert "bad input for bad-1" in bundle["text"] and "working on ok-1" in bundle["text"]
    assert "no jobs" in w.request("export_logs", {"job_ids": []})["error"]


async def test_templates_from_the_dashboard(make_engine, wire):
    engine: Engine = make_engine(runner=SimulatedRunner(step_seconds=0.001, failure_rate=0))
    project = engine.create_project("t", pipeline=PIPE)
    subjects = engine.add_subjects(project.id, ["s1", "s2", "s3"])
    w = wire(ProjectDashboard(engine, project.id))
    assert w.ok("templates") == {"templates": []}

    payload = {"name": "imports", "stage_ids": ["import"], "subject_ids": [subjects[1].id]}
    saved = w.ok("save_template", payload)

    assert saved["template"] == {
        "name": "imports",
        "stages": ["import"],
        "subjects": ["s2"],
        "max_concurrent": None,
        "has_options": False,
    }
    assert w.ok("run_template", {"name": "imports"}) == {"jobs": 1}
    await engine.wait(timeout=5)
    ran = [(j.subject_id, j.stage_id) for j in engine.get_jobs(project_id=project.id)]
    assert ran == [(subjects[1].id, "import")]
    assert "unknown" in w.request("run_template", {"name": "nope"})["error"].lower()
    assert w.ok("delete_template", {"name": "imports"}) == {"templates": []}
    bad = w.request("save_template", {"name": "x", "stage_ids": ["import"], "subject_ids": ["not-a-subject"]})
    assert not bad["ok"] and "not-a-subject" in bad["error"]


async def test_history_analytics_pages_search_and_csv(make_engine, wire):
    engine: Engine = make_engine(runner=Hold(), max_concurrent=4)
    project = engine.create_project("h", pipeline=PIPE)
    engine.add_subjects(project.id, [f"ok-{i}" for i in range(10)] + ["bad-1", "bad-2"])
    engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    w = wire(JobHistory(engine, project.id))
    analytics = w.ok("snapshot")["parts"]["history"]["analytics"]
    assert analytics["runs"] == 22  # 12 imports (2 failed) + 10 fits; 2 fits skipped do not count
    assert analytics["durations"]["import"]["n"] == 10 and len(analytics["durations"]["import"]["q"]) == 6
    assert sum(analytics["failures"]["roots"]) == 2 and sum(analytics["failures"]["skipped"]) == 2
    (group,) = analytics["groups"]
    assert (group["stage_id"], group["count"], group["roots"], group["skipped"]) == ("import", 4, 2, 2)

    first = w.ok("history_page", {"offset": 0, "limit": 10})
    second = w.ok("history_page", {"offset": 20, "limit": 10})
    assert first["total"] == 24 and len(first["rows"]) == 10 and len(second["rows"]) == 4
    found = w.ok("history_page", {"text": "bad input"})
    assert found["total"] == 2 and {r["subject"] for r in found["rows"]} == {"bad-1", "bad-2"}
    skipped = w.ok("history_page", {"status": ["failed"], "stage_id": "fit"})
    assert skipped["total"] == 2
    too_many = w.request("history_page", {"limit": 500})["error"]
    assert too_many == "field 'limit' must be from 1 to 200, got 500"
    csv = w.ok("export_csv", {"status": ["failed"]})
    assert csv["jobs"] == 4 and len(csv["text"].splitlines()) == 5
    logs = w.ok("export_history_logs", {"status": ["failed"], "stage_id": "import"})
    assert logs["jobs"] == 2 and logs["file_name"] == "history-logs.txt" and logs["text"].count("==== ") == 2
    assert "export_logs" not in w.widget.actions  # the logs of jobs by id: JobMonitor's export_logs

    # jobs that end later reach the plots in a patch (at most every REFRESH_SECONDS)
    engine.add_subjects(project.id, ["bad-3"])
    engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    await settle(REFRESH_SECONDS + 0.3)
    latest = [p["parts"]["history"]["analytics"] for p in w.patches if "history" in p["parts"]][-1]
    # the run retried bad-1 and bad-2 too: five root failures in the history, three unresolved
    assert sum(latest["failures"]["roots"]) == 5 and latest["groups"][0]["count"] == 6
