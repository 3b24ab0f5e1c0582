"""Beats: a widget tells its views that the kernel is busy running a cell, from the engine's thread."""

from __future__ import annotations

import asyncio

from widget_helpers import JobsView

from pbrain_widgets.widgets import ConnectionStatus, JobMonitor
from pbrain_widgets.widgets.kernel_activity import kernel_activity


def beats(wire) -> list[bool]:
    return [m["busy"] for m in wire.messages if m["kind"] == "beat"]


async def test_beats_flow_every_second_while_a_cell_runs_and_stop_when_it_ends(study, wire):
    engine, project, _ = study
    monitor = wire(JobMonitor(engine, project.id))
    status = wire(ConnectionStatus(engine))
    assert beats(monitor) == [] and status.ok("ping")["busy"] is False
    try:
        kernel_activity._set(True)  # what IPython's pre_run_cell event does
        await asyncio.sleep(2.3)
        assert beats(monitor)[:3] == [True, True, True]
        assert status.ok("ping")["busy"] is True
    finally:
        kernel_activity._set(False)
    await asyncio.sleep(0.1)
    assert beats(monitor)[-1] is False
    count = len(beats(monitor))
    await asyncio.sleep(1.3)
    assert len(beats(monitor)) == count  # idle: no more beats
    senders = {m["kind"] for m in monitor.messages}
    assert "beat" in senders


async def test_a_closed_widget_sends_no_beats(study, wire):
    engine, project, _ = study
    monitor = wire(JobMonitor(engine, project.id))
    monitor.widget.close()
    try:
        kernel_activity._set(True)
        await asyncio.sleep(0.2)
    finally:
        kernel_activity._set(False)
    assert beats(monitor) == []


async def test_a_failing_store_is_told_to_the_views_and_its_recovery_too(tmp_path, wire):
    from pbrain_widgets import Engine, SimulatedRunner

    engine = Engine(tmp_path / "e.sqlite", runner=SimulatedRunner(step_seconds=0.02, failure_rate=0))
    try:
        project = engine.create_project("disk")
        engine.add_subjects(project.id, ["a", "b"])
        monitor = wire(JobMonitor(engine, project.id))
        logs, aside = tmp_path / "e-logs", tmp_path / "aside"

        def block() -> None:  # on the engine's thread, between two writes
            logs.rename(aside)
            logs.write_text("not a folder")

        def unblock() -> None:
            logs.unlink()
            aside.rename(logs)

        engine.call(block)
        engine.run_pipeline(project.id)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if engine.store_error:
                break
        errors = [m["store_error"] for m in monitor.messages if m["kind"] == "beat"]
        assert errors and "Not a directory" in errors[0]
        assert "Not a directory" in monitor.ok("snapshot")["store_error"]
        engine.call(unblock)
        for _ in range(100):
            await asyncio.sleep(0.1)
            if engine.store_error is None:
                break
        await asyncio.sleep(0.05)
        assert [m["store_error"] for m in monitor.messages if m["kind"] == "beat"][-1] is None
    finally:
        await engine.aclose()


async def test_a_closed_engine_is_told_to_the_views(study, wire):
    """After engine.close(): the beat at the end of the cell, pings and snapshots say closed, and
    every action is refused in plain words."""
    engine, project, subjects = study
    monitor = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subjects[0].id, "import", run_dependencies=False)
    assert monitor.ok("ping")["closed"] is False and monitor.ok("snapshot")["closed"] is False
    try:
        kernel_activity._set(True)
        engine.close()
    finally:
        kernel_activity._set(False)  # the cell that closed the engine ends
    assert [m["closed"] for m in monitor.messages if m["kind"] == "beat"][-1] is True
    assert monitor.ok("ping")["closed"] is True
    snapshot = monitor.ok("snapshot")
    assert snapshot["closed"] is True and snapshot["parts"]["jobs"]["total"] == 1
    assert [row["id"] for row in JobsView(monitor).listed] == [job.id]  # what it left stays readable
    reply = monitor.request("retry", {"job_id": job.id})
    assert reply["ok"] is False
    assert reply["error"] == "the engine was closed; create a new one and re-run this cell"


async def test_close_sends_the_jobs_it_ended_and_says_closed(make_engine, wire):
    from pbrain_widgets import SimulatedRunner

    engine = make_engine(runner=SimulatedRunner(step_seconds=5, failure_rate=0))
    project = engine.create_project("closing")
    engine.add_subjects(project.id, ["a"])
    monitor = wire(JobMonitor(engine, project.id))
    view = JobsView(monitor)
    engine.run_pipeline(project.id)
    await asyncio.sleep(0.3)
    engine.close()  # its loop stops at once: the last patch must go out before
    view.follow()
    assert len(view.listed) == 10 and {row["status"] for row in view.listed} == {"cancelled"}
    assert [m["closed"] for m in monitor.messages if m["kind"] == "beat"][-1] is True
