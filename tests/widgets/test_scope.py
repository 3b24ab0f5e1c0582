"""Scoped widgets serve only their own jobs: every request that names a job, logs included."""

from __future__ import annotations

import pytest

from pbrain_widgets import JobStatus, SimulatedRunner
from pbrain_widgets.widgets import JobMonitor, LogStream, ProjectDashboard, SubjectDetail
from pbrain_widgets.widgets.scope import Scope


@pytest.fixture
async def world(make_engine):
    """Project a (subjects a1, a2) and project b (subject b1), each with finished jobs."""
    engine = make_engine(runner=SimulatedRunner(step_seconds=0.005, failure_rate=0))
    a, b = engine.create_project("a"), engine.create_project("b")
    a1, a2 = engine.add_subjects(a.id, ["a1", "a2"])
    (b1,) = engine.add_subjects(b.id, ["b1"])
    jobs = {
        "a1": engine.run_stage(a.id, a1.id, "import"),
        "a2": engine.run_stage(a.id, a2.id, "import"),
        "b1": engine.run_stage(b.id, b1.id, "import"),
    }
    await engine.wait(timeout=10)
    jobs["a1 again"] = engine.run_stage(a.id, a1.id, "import", rerun_done=True)
    await engine.wait(timeout=10)
    return engine, a, a1, jobs


# widget, then the jobs of the world it must refuse
SCOPED = {
    "job_monitor": (lambda engine, a, a1, jobs: JobMonitor(engine, a.id), ["b1"]),
    "project_dashboard": (lambda engine, a, a1, jobs: ProjectDashboard(engine, a.id), ["b1"]),
    "subject_detail": (lambda engine, a, a1, jobs: SubjectDetail(engine, a1.id), ["a2", "b1"]),
    "log_stream": (lambda engine, a, a1, jobs: LogStream(engine, jobs["a1"].id), ["a1 again", "a2", "b1"]),
}


def payload_naming(action, job_id: str) -> dict:
    """A valid payload for ``action`` that names ``job_id``."""
    payload = {}
    for name, field in action.schema.items():
        if name == "job_id":
            payload[name] = job_id
        elif name == "job_ids":
            payload[name] = [job_id]
        elif field.required:
            payload[name] = (field.choices or ("view-1",))[0] if field.kind is str else field.minimum or 1
    return payload


@pytest.mark.parametrize("kind", SCOPED)
async def test_every_request_naming_a_job_outside_the_scope_is_refused(world, wire, kind):
    engine, a, a1, jobs = world
    make, outside = SCOPED[kind]
    widget = make(engine, a, a1, jobs)
    if isinstance(widget, ProjectDashboard):
        widget.selected_subject = a1.id  # its subject actions act on the open subject
    w = wire(widget)
    naming = {n: a for n, a in widget._actions.items() if {"job_id", "job_ids"} & set(a.schema)}
    assert {"logs", "watch"} <= set(naming)
    for name, action in naming.items():
        for key in outside:
            reply = w.request(name, payload_naming(action, jobs[key].id))
            assert not reply["ok"], (name, key, reply)
            assert f"job {jobs[key].id!r} is unknown here; this widget serves only" in reply["error"]
    assert all(job.status is JobStatus.COMPLETED for job in engine.get_jobs())
    served = [m for m in w.messages if m.get("ok") is not False]
    assert jobs["b1"].id not in str(served)  # nothing of project b went out but the refusals


@pytest.mark.parametrize("kind", SCOPED)
async def test_the_logs_of_a_job_in_scope_are_served(world, wire, kind):
    engine, a, a1, jobs = world
    w = wire(SCOPED[kind][0](engine, a, a1, jobs))
    lines = w.ok("logs", {"job_id": jobs["a1"].id, "limit": 10})["lines"]
    assert lines and lines[-1][2] == "SUCCESS"
    assert set(w.ok("watch", {"view": "v", "job_ids": [jobs["a1"].id]})["tails"]) == {jobs["a1"].id}


async def test_an_unknown_job_gets_the_same_answer_and_names_no_other_job(world, wire):
    engine, a, a1, jobs = world
    w = wire(JobMonitor(engine, a.id))
    unknown = w.request("logs", {"job_id": "nope", "limit": 10})["error"]
    foreign = w.request("logs", {"job_id": jobs["b1"].id, "limit": 10})["error"]
    assert unknown.replace("'nope'", "X") == foreign.replace(repr(jobs["b1"].id), "X")
    assert not any(job.id in unknown for job in jobs.values())


async def test_a_monitor_of_the_whole_engine_serves_every_job(world, wire):
    engine, a, a1, jobs = world
    w = wire(JobMonitor(engine))
    assert w.ok("logs", {"job_id": jobs["b1"].id, "limit": 10})["lines"]


def test_what_a_scope_covers():
    project, subject, job = Scope(project_id="p"), Scope("p", "s"), Scope("p", "s", "j")
    assert Scope().covers("q", "t", "k")
    assert project.covers("p", "t", "k") and not project.covers("q", "s", "j")
    assert subject.covers("p", "s", "k") and not subject.covers("p", "t", "j")
    assert subject.covers("p", "s") and not subject.covers("p")  # a subject event, a project event
    assert job.covers("p", "s", "j") and not job.covers("p", "s", "k") and not job.covers("p", "s")
    assert str(project) == "only the jobs of project 'p'" and str(Scope()) == "every job of the engine"
