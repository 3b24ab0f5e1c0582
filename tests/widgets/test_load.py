"""The message budget: 500 jobs, 50 running at 20 log lines/s each, all five widgets."""

from __future__ import annotations

import asyncio
import time

from widget_helpers import JobsView

from pbrain_widgets import JobContext, Runner
from pbrain_widgets.widgets import ConnectionStatus, JobMonitor, LogStream, ProjectDashboard, SubjectDetail
from pbrain_widgets.widgets.channel import FLUSH_INTERVAL, STATE_INTERVAL

LINES_PER_SECOND = 20


class Chatty(Runner):
    """Writes 20 lines a second and reports progress with each, for ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def run(self, ctx: JobContext) -> None:
        ticks = int(self.seconds * LINES_PER_SECOND)
        for i in range(ticks):
            ctx.progress(100 * i / ticks, f"step {i}")
            ctx.info(f"working on block {i} of {ticks}")
            await asyncio.sleep(1 / LINES_PER_SECOND)


async def test_all_five_widgets_stay_under_sixty_messages_a_second(make_engine, wire):
    engine = make_engine(runner=Chatty(seconds=30), max_concurrent=50)
    project = engine.create_project("load")
    subjects = engine.add_subjects(project.id, [f"sub-{i:02d}" for i in range(50)])
    jobs = engine.run_pipeline(project.id)
    assert len(jobs) == 500
    running = engine.get_jobs(status="running")
    assert len(running) == 50
    wires = [
        wire(JobMonitor(engine, project.id)),
        wire(LogStream(engine, running[0].id)),
        wire(ConnectionStatus(engine)),
        wire(ProjectDashboard(engine, project.id)),
        wire(SubjectDetail(engine, subjects[1].id)),
    ]
    wires[0].ok("watch", {"view": "v", "job_ids": [running[1].id, running[2].id]})
    JobsView(wires[0], "v", count=60)  # the running jobs first
    wires[3].ok("open_subject", {"subject_id": subjects[3].id})
    (detail_job,) = [j for j in running if j.subject_id == subjects[1].id]  # the detail's own job
    wires[4].ok("watch", {"view": "v", "job_ids": [detail_job.id]})
    channel = wires[0].widget._channel
    assert all(w.widget._channel is channel for w in wires)
    ticks: list[float] = []
    forward = channel._send
    channel._send = lambda msg, buffers=None: (ticks.append(time.monotonic()), forward(msg, buffers))
    for w in wires:
        w.messages.clear()
    start = time.monotonic()
    await asyncio.sleep(2.0)
    elapsed = time.monotonic() - start
    own = [m for w in wires for m in w.messages if m["kind"] != "patch"]  # replies and beats
    per_second = (len(ticks) + len(own)) / elapsed
    # one channel message per tick carries every widget's patch (a per-widget throttle of 0.1 s
    # sent 4 x 10 a second); ConnectionStatus sends none
    assert per_second <= 1 / FLUSH_INTERVAL + 2, per_second
    lines = [m["parts"]["logs"]["lines"] for m in wires[1].messages if "logs" in m["parts"]]
    assert sum(len(batch[running[0].id]) for batch in lines) >= LINES_PER_SECOND * 1.5
    monitor = [m["parts"] for m in wires[0].messages]
    progress = [parts["jobs"].get("changes", {}).get("progress", []) for parts in monitor if "jobs" in parts]
    updated = {seq for pairs in progress for seq, _ in pairs}
    assert updated >= {j.seq for j in running}  # every running job's progress got through
    # the jobs' progress at most every STATE_INTERVAL (it doubled the bytes at every tick)
    assert len(progress) <= elapsed / STATE_INTERVAL + 2, len(progress)
    engine.cancel_all()
