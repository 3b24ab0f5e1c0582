"""State updates from a view (comm ``update`` messages): only the traits a view may set, each
validated with a TraitError (rolled back, view re-synced), never raising into the kernel."""

from __future__ import annotations

import logging

import pytest
from widget_helpers import over_the_wire

from pbrain_widgets import widgets
from pbrain_widgets.widgets import (
    ConnectionStatus,
    JobHistory,
    JobMonitor,
    LogStream,
    PipelineGraph,
    ProjectDashboard,
    QcReview,
    SubjectDetail,
    Timeline,
)
from pbrain_widgets.widgets.guarded import GuardedWidget

LOGGER = "pbrain_widgets.widgets"


@pytest.fixture
async def world(study):
    engine, project, subjects = study
    other = engine.create_project("other")
    (foreign,) = engine.add_subjects(other.id, ["b-01"])
    job = engine.run_stage(project.id, subjects[0].id, "import")
    await engine.wait(timeout=10)
    return engine, project, subjects, foreign, job


MAKERS = {
    "connection_status": lambda engine, project, subjects, job: ConnectionStatus(engine),
    "job_monitor": lambda engine, project, subjects, job: JobMonitor(engine, project.id),
    "log_stream": lambda engine, project, subjects, job: LogStream(engine, job.id),
    "project_dashboard": lambda engine, project, subjects, job: ProjectDashboard(engine, project.id),
    "subject_detail": lambda engine, project, subjects, job: SubjectDetail(engine, subjects[0].id),
    "pipeline_graph": lambda engine, project, subjects, job: PipelineGraph(engine, project.id),
    "timeline": lambda engine, project, subjects, job: Timeline(engine, project.id),
    "qc_review": lambda engine, project, subjects, job: QcReview(engine, project.id, job.stage_id),
    "job_history": lambda engine, project, subjects, job: JobHistory(engine, project.id),
}

SETTABLE = {
    "connection_status": ["interval_ms", "timeout_ms"],
    "job_monitor": ["sounds"],
    "log_stream": [],
    "project_dashboard": ["selected_subject"],
    "subject_detail": [],
    "pipeline_graph": [],
    "timeline": [],
    "qc_review": [],
    "job_history": [],
}


def resynced(w) -> dict:
    """The trait values the kernel sent back to the views (``update`` messages), merged."""
    state: dict = {}
    for message in w.states:
        if message["method"] == "update":
            state.update(message["state"])
    return state


def test_every_widget_is_guarded():
    exported = [getattr(widgets, name) for name in widgets.__all__ if name != "SyncWidget"]
    assert len(exported) == len(MAKERS) and all(issubclass(cls, GuardedWidget) for cls in exported)


@pytest.mark.parametrize("kind", MAKERS)
async def test_a_view_may_set_only_its_widgets_options(world, wire, kind):
    engine, project, subjects, foreign, job = world
    widget = MAKERS[kind](engine, project, subjects, job)
    assert widget.view_settable == SETTABLE[kind]
    read_only = [name for name, trait in widget.traits(sync=True).items() if trait.read_only]
    assert set(read_only) <= set(widget.keys) - set(SETTABLE[kind])
    assert "_view_kind" not in widget.view_settable and "_esm" not in widget.view_settable


@pytest.mark.parametrize("kind", MAKERS)
async def test_any_other_trait_is_refused_and_restored(world, wire, kind, caplog):
    engine, project, subjects, foreign, job = world
    widget = MAKERS[kind](engine, project, subjects, job)
    w = wire(widget)
    for name in sorted(set(widget.keys) - set(SETTABLE[kind])):
        before = over_the_wire(widget.get_state(name))
        w.states.clear()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            w.update({name: "IPY_MODEL_evil" if name == "layout" else "evil"})
        assert over_the_wire(widget.get_state(name)) == before, name
        assert resynced(w) == before, name  # the view is told the kernel's value again
        assert f"{name!r}] cannot be set from the browser" in caplog.text
        assert [m["method"] for m in w.states] == ["update"]  # no echo of the refused value


async def test_a_refused_trait_does_not_let_the_rest_of_the_update_through(world, wire):
    engine, project, subjects, foreign, job = world
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)
    w.update({"selected_subject": subjects[1].id, "project_id": "elsewhere"})
    assert dash.project_id == project.id
    assert dash.selected_subject == subjects[1].id  # the allowed part applies
    assert resynced(w) == {"project_id": project.id}


async def test_the_dashboard_cannot_be_pointed_at_another_projects_subject(world, wire, caplog):
    engine, project, subjects, foreign, job = world
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        w.update({"selected_subject": foreign.id})
    assert dash.selected_subject is None and dash.subject_feed.subject_id is None
    assert resynced(w) == {"selected_subject": None}
    assert f"unknown subject id {foreign.id!r}" in caplog.text
    reply = w.request("run_stage", {"stage_id": "import"})
    assert not reply["ok"] and "no subject is open" in reply["error"]
    assert engine.get_jobs(project_id=foreign.project_id) == []


async def test_a_valid_subject_from_the_view_opens_it(world, wire):
    engine, project, subjects, foreign, job = world
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)
    w.update({"selected_subject": subjects[0].id})
    assert dash.selected_subject == subjects[0].id == dash.subject_feed.subject_id
    assert resynced(w) == {}  # nothing to correct
    assert w.ok("run_stage", {"stage_id": "t1_fit"})["subject_id"] == subjects[0].id
    engine.cancel_all()


@pytest.mark.parametrize(
    "state",
    [
        {"interval_ms": 0},
        {"timeout_ms": -1},
        {"interval_ms": 2000, "timeout_ms": 1000},
        {"timeout_ms": 10**12},
        {"interval_ms": "fast"},
        {"interval_ms": 500, "timeout_ms": 0},  # the valid half is rolled back with the rest
    ],
)
async def test_connection_timings_out_of_bounds_are_rolled_back(engine, wire, caplog, state):
    status = ConnectionStatus(engine, interval_ms=1000, timeout_ms=3000)
    w = wire(status)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        w.update(state)
    assert (status.interval_ms, status.timeout_ms) == (1000, 3000)
    assert resynced(w) == {name: getattr(status, name) for name in state}
    assert "refused a state update" in caplog.text


async def test_valid_connection_timings_from_the_view_apply(engine, wire):
    status = ConnectionStatus(engine)
    w = wire(status)
    w.update({"interval_ms": 500, "timeout_ms": 1500})
    assert (status.interval_ms, status.timeout_ms) == (500, 1500)
    assert resynced(w) == {}


async def test_job_monitor_sounds_take_only_a_boolean(world, wire):
    engine, project, subjects, foreign, job = world
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    w.update({"sounds": "loud"})
    assert monitor.sounds is False and resynced(w) == {"sounds": False}
    w.update({"sounds": True})
    assert monitor.sounds is True


@pytest.mark.parametrize("state", [5, "x", None, ["selected_subject"], {"no_such_trait": 1}])
async def test_malformed_updates_are_logged_not_raised(world, wire, caplog, state):
    engine, project, subjects, foreign, job = world
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        dash.set_state(state)
    assert dash.selected_subject is None and w.states == []
    assert "ProjectDashboard" in caplog.text


async def test_an_observer_that_fails_is_logged_and_the_view_resynced(world, wire, caplog, monkeypatch):
    engine, project, subjects, foreign, job = world
    dash = ProjectDashboard(engine, project.id)
    w = wire(dash)

    def broken(subject_id):
        raise RuntimeError("boom")

    monkeypatch.setattr(dash.subject_feed, "switch", broken)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        w.update({"selected_subject": subjects[0].id})
    assert "boom" in caplog.text and "failed on a state update" in caplog.text
    assert resynced(w) == {"selected_subject": dash.selected_subject}
