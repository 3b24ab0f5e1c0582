"""ProjectDashboard and SubjectDetail: grid, active counts, running stages, opening a subject."""

from __future__ import annotations

import asyncio
import threading

import pytest
from traitlets import TraitError
from widget_helpers import grid_states, latest_jobs, settle

from pbrain_widgets import JobStatus, PbrainWidgetsError, SimulatedRunner, StageStatus
from pbrain_widgets.engine import loop_thread
from pbrain_widgets.widgets import ProjectDashboard, SubjectDetail
from pbrain_widgets.widgets.validation import BadTraitValue


async def test_snapshot_is_the_subjects_by_stages_grid(study, wire):
    engine, project, subjects = study
    w = wire(ProjectDashboard(engine, project.id))
    snap = w.ok("snapshot")["parts"]
    grid = snap["project"]
    assert grid["project"] == {"id": project.id, "name": "study"}
    assert [s["id"] for s in grid["stages"]][:2] == ["import", "t1_fit"]
    assert grid["stages"][1]["depends_on"] == ["import"]
    assert [s["name"] for s in grid["subjects"]] == ["sub-01", "sub-02", "sub-03"]
    assert set(grid["subjects"][0]["statuses"].values()) == {"not_run"}
    assert grid["active"] == {}
    assert grid["progress"] == {}
    assert snap["subject"] == {"subject": None, "stages": [], "latest": {}}


async def test_run_selected_from_the_view_and_live_statuses(study, wire):
    engine, project, subjects = study
    w = wire(ProjectDashboard(engine, project.id))
    result = w.ok("run_pipeline", {"subject_ids": [subjects[1].id], "stage_ids": ["t1_fit"]})
    assert result == {"jobs": 2}
    assert {j.subject_id for j in engine.get_jobs()} == {subjects[1].id}
    await asyncio.sleep(0.02)
    assert w.patches[0]["parts"]["project"]["active"] == {subjects[1].id: 2}
    await engine.wait(timeout=5)
    await settle()
    known = {row["id"]: row["statuses"] for row in w.ok("snapshot")["parts"]["project"]["subjects"]}
    w.messages.clear()
    engine.run_pipeline(project.id, [subjects[2].id], ["import"])
    await engine.wait(timeout=5)
    await settle()
    last = grid_states(w.patches, known)
    assert last[subjects[2].id]["import"] == "done"
    assert last == {
        s.id: {k: v.value for k, v in engine.get_subject(s.id).stage_statuses.items()} for s in subjects
    }
    # only the cells that changed travel, never a whole subject row again
    assert all("subjects" not in p["parts"].get("project", {}) for p in w.patches)
    cells = [p["parts"]["project"]["cells"] for p in w.patches if "cells" in p["parts"].get("project", {})]
    assert cells and all(set(c) == {subjects[2].id} and set(c[subjects[2].id]) == {"import"} for c in cells)
    actives = [
        p["parts"]["project"]["active"] for p in w.patches if "active" in p["parts"].get("project", {})
    ]
    assert actives[-1] == {subjects[2].id: 0}


async def test_running_cells_carry_their_whole_percent(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.05, failure_rate=0))
    project = engine.create_project("study")
    subject, idle = engine.add_subjects(project.id, ["sub-01", "sub-02"])
    job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
    await asyncio.sleep(0.12)  # running, past its first steps
    w = wire(ProjectDashboard(engine, project.id))
    first = w.ok("snapshot")["parts"]["project"]["progress"]
    assert list(first) == [subject.id] and 0 < first[subject.id]["import"] < 100
    await engine.wait(timeout=5)
    await settle()
    parts = [p["parts"].get("project", {}) for p in w.patches]
    seen = [part["progress"] for part in parts if "progress" in part]
    assert seen[-1] == {subject.id: {}}  # the job ended: nothing runs for this subject
    percents = [s[subject.id]["import"] for s in seen[:-1]]
    assert percents, seen
    assert percents == sorted(percents) and all(isinstance(p, int) for p in percents)
    assert len(percents) == len(set(percents))  # only a change of the whole percent is sent
    assert all(idle.id not in s for s in seen)
    assert engine.get_job(job.id).status is JobStatus.COMPLETED


async def test_run_all_with_a_choice_of_stages(study, wire):
    engine, project, subjects = study
    w = wire(ProjectDashboard(engine, project.id))
    assert w.ok("run_pipeline", {"subject_ids": None, "stage_ids": ["diffusion"]}) == {"jobs": 6}
    reply = w.request("run_pipeline", {"stage_ids": ["nope"]})
    assert not reply["ok"] and "unknown stage id 'nope'" in reply["error"]
    reply = w.request("run_pipeline", {"subject_ids": ["ghost"]})
    assert not reply["ok"] and "ghost" in reply["error"]
    engine.cancel_all()


async def test_a_run_from_the_view_keeps_done_stages_unless_asked_to_redo_them(study, wire):
    engine, project, subjects = study
    engine.run_pipeline(project.id, [subjects[0].id], ["import", "t1_fit"])
    await engine.wait(timeout=5)
    w = wire(ProjectDashboard(engine, project.id))
    stages = ["import", "t1_fit", "input_functions"]
    assert w.ok("run_pipeline", {"subject_ids": [subjects[0].id], "stage_ids": stages}) == {"jobs": 1}
    assert [j.stage_id for j in engine.get_jobs(status="queued") + engine.get_jobs(status="running")] == [
        "input_functions"
    ]
    await engine.wait(timeout=5)
    payload = {"subject_ids": [subjects[0].id], "stage_ids": stages, "rerun_done": True}
    assert w.ok("run_pipeline", payload) == {"jobs": 3}
    await engine.wait(timeout=5)


async def test_opening_a_subject_sends_its_detail(study, wire):
    engine, project, subjects = study
    engine.run_pipeline(project.id, [subjects[0].id], ["import"])
    await engine.wait(timeout=5)
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)
    w.ok("open_subject", {"subject_id": subjects[0].id})
    assert dash.selected_subject == subjects[0].id
    await settle()
    reset = w.patches[-1]["parts"]["subject"]["reset"]
    assert reset["subject"]["name"] == "sub-01"
    assert reset["latest"]["import"]["status"] == "completed"
    assert w.ok("snapshot")["parts"]["subject"]["subject"]["id"] == subjects[0].id
    reply = w.request("open_subject", {"subject_id": "ghost"})
    assert not reply["ok"] and "ghost" in reply["error"]
    w.ok("open_subject", {"subject_id": None})
    await settle()
    assert w.patches[-1]["parts"]["subject"]["reset"]["subject"] is None


async def test_a_subject_of_another_project_cannot_be_opened(study, wire):
    engine, project, _ = study
    other = engine.create_project("other")
    (extra,) = engine.add_subjects(other.id, ["x"])
    dash = ProjectDashboard(engine, project.id)
    wire(dash)
    with pytest.raises(BadTraitValue, match=f"unknown subject id {extra.id!r}") as refused:
        dash.selected_subject = extra.id
    assert isinstance(refused.value, PbrainWidgetsError) and isinstance(refused.value, TraitError)
    assert dash.selected_subject is None


async def test_new_subjects_appear_in_the_grid(study, wire):
    engine, project, _ = study
    w = wire(ProjectDashboard(engine, project.id))
    engine.add_subjects(project.id, [{"name": "sub-04", "has_t1": True}])
    await settle()
    (row,) = w.patches[-1]["parts"]["project"]["subjects"]
    assert row["name"] == "sub-04" and row["has_t1"] is True


async def test_subject_detail_runs_a_stage_only_when_its_dependencies_are_done(study, wire):
    engine, project, subjects = study
    w = wire(SubjectDetail(engine, subjects[0].id))
    reply = w.request("run_stage", {"stage_id": "t1_fit"})
    assert not reply["ok"] and "['import'] are not done" in reply["error"]
    assert engine.get_jobs() == []
    row = w.ok("run_stage", {"stage_id": "import"})
    await engine.wait(timeout=5)
    await settle()
    latest = latest_jobs(w.patches)
    assert latest["import"]["id"] == row["id"] and latest["import"]["status"] == "completed"
    whole = [p["parts"]["subject"]["latest"] for p in w.patches if "latest" in p["parts"]["subject"]]
    assert [list(rows) for rows in whole] == [["import"]]  # the new job whole once, then changes
    statuses = [
        p["parts"]["subject"]["subject"]["statuses"]["import"]
        for p in w.patches
        if "subject" in p["parts"]["subject"]
    ]
    assert statuses[-1] == "done"
    assert w.ok("run_stage", {"stage_id": "t1_fit"})["stage_id"] == "t1_fit"
    await engine.wait(timeout=5)
    assert engine.get_subject(subjects[0].id).stage_statuses["t1_fit"] is StageStatus.DONE


async def test_subject_detail_cancels_only_its_own_jobs(make_engine, wire):
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.5, failure_rate=0))
    project = engine.create_project("p")
    a, b = engine.add_subjects(project.id, ["a", "b"])
    w = wire(SubjectDetail(engine, a.id))
    mine = engine.run_stage(project.id, a.id, "import")
    theirs = engine.run_stage(project.id, b.id, "import")
    reply = w.request("cancel", {"job_id": theirs.id})
    assert not reply["ok"] and f"job {theirs.id!r} is unknown here" in reply["error"]
    assert w.ok("cancel", {"job_id": mine.id})["status"] == "cancelled"
    assert engine.get_job(theirs.id).status is JobStatus.RUNNING
    assert w.ok("retry", {"job_id": mine.id})["attempt"] == 2
    engine.cancel_all()


async def test_subject_detail_snapshot_has_the_latest_job_per_stage(study, wire):
    engine, project, subjects = study
    job = engine.run_stage(project.id, subjects[2].id, "import")
    await engine.wait(timeout=5)
    again = engine.run_stage(project.id, subjects[2].id, "import", rerun_done=True)
    await engine.wait(timeout=5)
    snap = wire(SubjectDetail(engine, subjects[2])).ok("snapshot")["parts"]["subject"]
    assert snap["latest"]["import"]["id"] == again.id != job.id
    assert "t1_fit" not in snap["latest"]


async def test_a_long_subject_list_travels_in_parts_of_at_most_max_subject_rows(
    make_engine, wire, monkeypatch
):
    import pbrain_widgets.widgets.feeds.project as project_feed

    monkeypatch.setattr(project_feed, "MAX_SUBJECT_ROWS", 3)
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.002, failure_rate=0), max_concurrent=2)
    project = engine.create_project("p")
    engine.add_subjects(project.id, [f"s{i}" for i in range(7)])
    w = wire(ProjectDashboard(engine, project.id))
    w.ok("snapshot")  # a first view holds every subject
    snap = w.ok("snapshot")["parts"]["project"]  # a second one gets 3 of 7, the rest follows
    assert snap["total"] == 7 and [s["name"] for s in snap["subjects"]] == ["s0", "s1", "s2"]
    engine.run_pipeline(project.id, stage_ids=["import"])  # cells change meanwhile
    await engine.wait(timeout=10)
    await settle(0.5)
    sizes = [len(p["parts"]["project"].get("subjects", [])) for p in w.patches if "project" in p["parts"]]
    assert max(sizes) <= 3
    view = grid_states(w.patches, {s["id"]: s["statuses"] for s in snap["subjects"]})
    assert view == {
        s.id: {k: v.value for k, v in s.stage_statuses.items()} for s in engine.get_subjects(project.id)
    }
    # a batch of new subjects larger than a message comes 3 a patch too
    w.messages.clear()
    engine.add_subjects(project.id, [f"t{i}" for i in range(5)])
    await settle(0.5)
    sizes = [len(p["parts"]["project"].get("subjects", [])) for p in w.patches if "project" in p["parts"]]
    assert max(sizes) <= 3 and sum(sizes) == 5


async def test_active_counts_travel_with_their_subjects_rows(make_engine, wire, monkeypatch):
    """A snapshot holds the counts of the subjects it sends, the total of all; the others' counts
    come with their rows, so that no message grows with the number of subjects."""
    import pbrain_widgets.widgets.feeds.project as project_feed

    monkeypatch.setattr(project_feed, "MAX_SUBJECT_ROWS", 3)
    engine = make_engine(runner=SimulatedRunner(step_seconds=5, failure_rate=0), max_concurrent=1)
    project = engine.create_project("p")
    engine.add_subjects(project.id, [f"s{i}" for i in range(7)])
    engine.run_pipeline(project.id, stage_ids=["import", "t1_fit"])  # 2 queued or running each
    await settle()
    w = wire(ProjectDashboard(engine, project.id))
    snap = w.ok("snapshot")["parts"]["project"]
    assert snap["active_total"] == 14
    assert snap["active"] == {s["id"]: 2 for s in snap["subjects"]}  # 3 subjects, not 7
    await settle(0.3)
    view = dict(snap["active"])
    for patch in w.patches:
        view.update(patch["parts"].get("project", {}).get("active", {}))
    assert view == {s.id: 2 for s in engine.get_subjects(project.id)}


async def test_run_all_from_the_view_gives_the_loop_back_while_it_queues(make_engine, wire, monkeypatch):
    monkeypatch.setattr(loop_thread, "SLICE_SECONDS", 0.0)
    engine = make_engine(runner=SimulatedRunner(step_seconds=30, failure_rate=0), max_concurrent=1)
    project = engine.create_project("big")
    engine.add_subjects(project.id, [f"sub-{i:03d}" for i in range(150)])
    w = wire(ProjectDashboard(engine, project.id))
    seen: list[int] = []
    stop = threading.Event()

    async def probe():
        while not stop.is_set():
            seen.append(engine.job_count(project.id))
            await asyncio.sleep(0)

    probing = engine.submit(probe())
    queued = w.ok("run_pipeline", {"subject_ids": None, "stage_ids": None})["jobs"]
    stop.set()
    probing.result(5)
    assert queued == engine.job_count(project.id) == 150 * len(engine.pipeline(project.id))
    assert any(0 < n < queued for n in seen), "the engine's loop did not run while the run was planned"
    done = w.ok(
        "cells",
        {"action": "cancel", "cells": [[s.id, "import"] for s in engine.get_subjects(project.id)]},
    )
    assert done["jobs"] == queued and done["acted"] == 150
    engine.cancel_all()
