"""The engine channel: one comm per engine carries the patches of all of its widgets."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest
import traitlets
from widget_helpers import JobsView, patched_lines, settle

from pbrain_widgets import JobContext, Runner
from pbrain_widgets.widgets import JobMonitor, LogStream, ProjectDashboard, SyncWidget
from pbrain_widgets.widgets.channel import FLUSH_INTERVAL


async def test_the_widgets_of_one_engine_share_one_channel_and_one_message_per_tick(study, wire):
    engine, project, subjects = study
    monitor, dashboard = wire(JobMonitor(engine, project.id)), wire(ProjectDashboard(engine, project.id))
    channel = monitor.widget._channel
    assert dashboard.widget._channel is channel
    assert monitor.widget._channel_id == dashboard.widget._channel_id == channel.model_id
    assert monitor.widget._channel_key != dashboard.widget._channel_key
    sent = []
    forward = channel._send
    channel._send = lambda msg, buffers=None: (sent.append(msg["content"]), forward(msg, buffers))
    view = JobsView(monitor)
    job = engine.run_stage(project.id, subjects[0].id, "import")
    await engine.wait(timeout=10)
    await settle()
    # both widgets showed the job, in the same messages: never two messages for one change
    keys = [set(m["patches"]) for m in sent]
    assert {monitor.widget._channel_key, dashboard.widget._channel_key} in keys
    assert len(sent) == len(monitor.patches) >= len(dashboard.patches)
    view.follow()
    assert view.rows[job.id]["status"] == "completed"
    assert [p["rev"] for p in dashboard.patches] == list(range(1, len(dashboard.patches) + 1))


async def test_another_engine_has_its_own_channel(study, make_engine):
    engine, project, _ = study
    other = make_engine()
    mine, theirs = JobMonitor(engine, project.id), JobMonitor(other, other.create_project("o").id)
    try:
        assert mine._channel is not theirs._channel
        assert mine._channel.engine is engine and theirs._channel.engine is other
    finally:
        mine.close()
        theirs.close()


async def test_the_last_widget_to_leave_closes_the_channel(study):
    engine, project, _ = study
    first, second = JobMonitor(engine, project.id), JobMonitor(engine, project.id)
    channel = first._channel
    first.close()
    assert channel.comm is not None  # the second still uses it
    second.close()
    assert channel.comm is None
    third = JobMonitor(engine, project.id)
    try:
        assert third._channel is not channel and third._channel.comm is not None
    finally:
        third.close()


async def test_a_stream_of_lines_goes_out_at_most_once_per_interval(make_engine, wire):
    """50 lines a second: the channel's messages are at least one flush interval apart and
    every line goes out once, in order (the latency figure is bench/widgets_sync.py's)."""

    class Lines(Runner):
        async def run(self, ctx: JobContext) -> None:
            for i in range(60):
                ctx.info(f"line {i}")
                await asyncio.sleep(0.02)

    engine = make_engine(runner=Lines())
    project = engine.create_project("stream")
    (subject,) = engine.add_subjects(project.id, ["s"])
    job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
    stream = wire(LogStream(engine, job.id))
    sent: list[float] = []
    channel = stream.widget._channel
    forward = channel._send
    # when each flush started (the throttle's clock): a send itself may come later on a busy machine
    channel._send = lambda msg, buffers=None: (sent.append(channel._last_flush), forward(msg, buffers))
    await engine.wait(timeout=30)
    await settle()
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(sent) > 5 and min(gaps) >= FLUSH_INTERVAL - 0.005, gaps
    lines = [line[3] for line in patched_lines(stream.patches, job.id)]
    ours = [text for text in lines if text.startswith("line ")]
    # the first lines may precede the widget (its snapshot has them); the rest, each once, in order
    assert len(ours) > 50 and ours == [f"line {i}" for i in range(60 - len(ours), 60)]


async def test_the_channel_takes_nothing_from_the_browser(study, caplog):
    engine, project, _ = study
    monitor = JobMonitor(engine, project.id)
    channel = monitor._channel
    try:
        with caplog.at_level(logging.WARNING, logger="pbrain_widgets.widgets"):
            channel.set_state({"_model_name": "Evil"})
            channel._handle_custom_msg({"kind": "request", "id": "x:1", "action": "cancel_all"}, [])
        assert channel._model_name == "WidgetModel"
        assert "refused a state update" in caplog.text and "ignored a message" in caplog.text
    finally:
        monitor.close()


async def test_a_widget_that_fails_to_build_leaves_no_member_behind(study):
    engine, project, _ = study
    monitor = JobMonitor(engine, project.id)
    try:
        members = dict(monitor._channel._members)
        with pytest.raises(traitlets.TraitError):
            SyncWidget(engine, _view_kind=5)  # not a string: traitlets refuses it
        assert monitor._channel._members == members
    finally:
        monitor.close()
