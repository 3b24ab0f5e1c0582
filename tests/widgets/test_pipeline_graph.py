"""PipelineGraph: stage counts, medians and blocked edges, live; focus shared with the other widgets."""

from __future__ import annotations

import pytest
from widget_helpers import settle

from pbrain_widgets import JobFailed, Pipeline, Runner, Stage, UnknownStageError
from pbrain_widgets.widgets import JobMonitor, PipelineGraph, ProjectDashboard
from pbrain_widgets.widgets.feeds.graph import COUNT_KEYS, stage_counts

DIAMOND = Pipeline(
    [Stage("a", "A"), Stage("b", "B", ("a",)), Stage("c", "C", ("a",)), Stage("d", "D", ("b", "c"))],
    name="diamond",
)


class FailOn(Runner):
    """Completes every job, except the named stage for the named subject, which fails."""

    def __init__(self, subject: str, stage: str) -> None:
        self.subject, self.stage = subject, stage

    async def run(self, ctx) -> None:
        if (ctx.subject.name, ctx.stage.id) == (self.subject, self.stage):
            raise JobFailed("boom")


def engine_counts(engine, project_id):
    """The counts a graph must show, straight from the engine's subjects."""
    return stage_counts(engine.pipeline(project_id), engine.get_subjects(project_id))


def folded(snapshot, patches):
    """The graph part as a view holds it after the snapshot and these patches."""
    state = {k: (dict(v) if isinstance(v, dict) else v) for k, v in snapshot.items()}
    for patch in patches:
        part = patch["parts"].get("graph", {})
        for key in ("counts", "median"):
            state[key].update(part.get(key, {}))
        for key in ("blocked", "subjects"):
            if key in part:
                state[key] = part[key]
    return state


async def test_snapshot_is_the_dag_with_counts(study, wire):
    engine, project, subjects = study
    w = wire(PipelineGraph(engine, project))
    snap = w.ok("snapshot")["parts"]
    graph = snap["graph"]
    assert graph["project"] == {"id": project.id, "name": "study"}
    assert [s["id"] for s in graph["stages"]][:2] == ["import", "t1_fit"]
    assert graph["counts"]["import"] == {**dict.fromkeys(COUNT_KEYS, 0), "not_run": 3}
    assert graph["median"]["import"] is None and graph["blocked"] == [] and graph["subjects"] == 3
    assert snap["focus"] == {"stage_id": None, "label": None}


async def test_live_counts_and_medians_match_the_engine(study, wire):
    engine, project, subjects = study
    w = wire(PipelineGraph(engine, project.id))
    snap = w.ok("snapshot")["parts"]["graph"]
    engine.run_pipeline(project.id, stage_ids=["t1_fit"])
    await engine.wait(timeout=10)
    await settle()
    state = folded(snap, w.patches)
    assert state["counts"] == engine_counts(engine, project.id)
    assert state["counts"]["t1_fit"]["done"] == 3
    assert state["median"]["t1_fit"] > 0 and state["median"]["modelling"] is None
    assert len(w.patches) <= 12  # rate-bounded: at most one patch per 0.1 s
    # a view that reloads gets the same state in its snapshot
    assert w.ok("snapshot")["parts"]["graph"]["counts"] == state["counts"]


async def test_a_failure_blocks_its_dependents_and_stales_nothing_done(make_engine, wire):
    engine = make_engine(runner=FailOn("s1", "b"))
    project = engine.create_project("diamond", pipeline=DIAMOND)
    engine.add_subjects(project.id, ["s1", "s2"])
    w = wire(PipelineGraph(engine, project.id))
    snap = w.ok("snapshot")["parts"]["graph"]
    engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    await settle()
    state = folded(snap, w.patches)
    assert state["counts"]["b"]["failed"] == 1 and state["counts"]["d"]["not_run"] == 1
    assert state["blocked"] == [["b", "d"]]
    assert state["counts"] == engine_counts(engine, project.id)


async def test_stale_stages_are_counted_as_the_engine_marks_them(study, wire):
    engine, project, subjects = study
    engine.run_pipeline(project.id, [subjects[0].id], ["t1_fit"])
    await engine.wait(timeout=5)
    w = wire(PipelineGraph(engine, project.id))
    snap = w.ok("snapshot")["parts"]["graph"]
    engine.run_stage(project.id, subjects[0].id, "import", rerun_done=True)  # t1_fit goes stale
    await engine.wait(timeout=5)
    await settle()
    state = folded(snap, w.patches)
    assert state["counts"]["t1_fit"]["stale"] == 1 and state["counts"]["t1_fit"]["done"] == 0
    assert state["counts"] == engine_counts(engine, project.id)


async def test_clicking_a_node_focuses_the_monitor_and_dashboard(study, wire):
    engine, project, subjects = study
    other = engine.create_project("other")
    graph = wire(PipelineGraph(engine, project.id))
    monitor = wire(JobMonitor(engine))
    scoped = wire(JobMonitor(engine, project.id))
    dashboard = wire(ProjectDashboard(engine, project.id))
    elsewhere = wire(ProjectDashboard(engine, other.id))
    assert graph.ok("focus", {"stage_id": "t1_fit"}) == {"stage_id": "t1_fit"}
    await settle()
    focused = {"stage_id": "t1_fit", "label": "T1/M0 Fitting"}
    for w in (graph, monitor, scoped, dashboard):
        assert w.patches[-1]["parts"]["focus"] == focused
        assert w.ok("snapshot")["parts"]["focus"] == focused
    assert elsewhere.patches == [] and elsewhere.ok("snapshot")["parts"]["focus"]["stage_id"] is None
    # any of them clears it for all
    assert dashboard.ok("clear_focus") == {"stage_id": None}
    await settle()
    for w in (graph, monitor, scoped, dashboard):
        assert w.patches[-1]["parts"]["focus"] == {"stage_id": None, "label": None}


async def test_focus_requests_are_validated(study, wire):
    engine, project, _ = study
    w = wire(PipelineGraph(engine, project.id))
    reply = w.request("focus", {"stage_id": "nope"})
    assert not reply["ok"] and "unknown stage 'nope'" in reply["error"] and "t1_fit" in reply["error"]
    reply = w.request("focus", {"stage_id": 3})
    assert not reply["ok"] and "stage_id" in reply["error"]
    reply = w.request("focus", {"stage_id": "import", "project_id": "x"})
    assert not reply["ok"] and "unknown field" in reply["error"]
    w.update({"project_id": "elsewhere"})
    assert w.widget.project_id == project.id


async def test_focus_stage_from_python(study, wire):
    engine, project, _ = study
    graph = PipelineGraph(engine, project.id)
    monitor = wire(JobMonitor(engine, project.id))
    graph.focus_stage("modelling")
    await settle()
    assert monitor.patches[-1]["parts"]["focus"]["stage_id"] == "modelling"
    with pytest.raises(UnknownStageError):
        graph.focus_stage("nope")
    graph.focus_stage(None)
    await settle()
    assert monitor.patches[-1]["parts"]["focus"]["stage_id"] is None
    graph.close()
