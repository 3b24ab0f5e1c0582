"""LogStream and the log feed: late viewers, O(lines) patches, paging, leases."""

from __future__ import annotations

import asyncio

import pytest
from widget_helpers import patched_lines, settle

from pbrain_widgets import JobContext, LogLevel, Runner
from pbrain_widgets.widgets import LogStream
from pbrain_widgets.widgets.feeds import LogFeed
from pbrain_widgets.widgets.scope import Scope

EVIL = "<img src=x onerror=alert(1)>"


class Talker(Runner):
    """Writes ``lines`` log lines, ``per_tick`` at a time, then ends."""

    def __init__(self, lines: int, per_tick: int = 10, tick: float = 0.01) -> None:
        self.lines, self.per_tick, self.tick = lines, per_tick, tick

    async def run(self, ctx: JobContext) -> None:
        for i in range(self.lines):
            ctx.info(f"line {i} {EVIL}")
            if i % self.per_tick == self.per_tick - 1:
                await asyncio.sleep(self.tick)


@pytest.fixture
def talk(make_engine):
    def make(lines: int, **kwargs):
        engine = make_engine(runner=Talker(lines, **kwargs))
        project = engine.create_project("talk")
        (subject,) = engine.add_subjects(project.id, ["s"])
        return engine, engine.run_stage(project.id, subject.id, "import")

    return make


async def test_a_late_viewer_sees_the_earlier_lines(talk, wire):
    engine, job = talk(30)
    await engine.wait(timeout=5)
    w = wire(LogStream(engine, job.id))
    snap = w.ok("snapshot")["parts"]
    lines = snap["logs"]["tails"][job.id]
    assert [line[0] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[1][2:] == ["INFO", f"line 0 {EVIL}"]  # text exactly as written: the view renders text
    assert lines[-1][2] == "SUCCESS"
    assert snap["job"]["job"]["status"] == "completed" and snap["job"]["subject"] == "s"


async def test_each_line_travels_once_in_patches(talk, wire):
    engine, job = talk(400)
    w = wire(LogStream(engine, job.id))
    snapshot = w.ok("snapshot")
    tail = [line[0] for line in snapshot["parts"]["logs"]["tails"][job.id]]
    await engine.wait(timeout=10)
    await settle()
    # as a view does: patches up to the snapshot's revision are in it already, and a later
    # patch may repeat lines the snapshot holds (the engine's thread ran on meanwhile)
    later = [p for p in w.patches if p["rev"] > snapshot["rev"]]
    seqs = [line[0] for line in patched_lines(later, job.id) if line[0] > tail[-1]]
    assert tail + seqs == list(range(1, len(tail) + len(seqs) + 1))
    assert len(tail) + len(seqs) == 402  # "Starting...", 400 lines, "... completed"
    wire_bytes = sum(len(str(p)) for p in w.patches)
    text_bytes = sum(len(f"line {i} {EVIL}") for i in range(400))
    assert wire_bytes < 3 * text_bytes  # about the size of the text, not quadratic


async def test_older_lines_page_back_by_seq(talk, wire):
    engine, job = talk(3000, per_tick=500)
    await engine.wait(timeout=10)
    w = wire(LogStream(engine, job.id, tail=100))
    tail = w.ok("snapshot")["parts"]["logs"]["tails"][job.id]
    assert len(tail) == 100
    older = w.ok("logs", {"job_id": job.id, "before": tail[0][0], "limit": 500})["lines"]
    assert [line[0] for line in older] == list(range(tail[0][0] - 500, tail[0][0]))
    first = w.ok("logs", {"job_id": job.id, "before": 3, "limit": 500})["lines"]
    assert [line[0] for line in first] == [1, 2]


async def test_watches_lapse_when_not_renewed(talk):
    engine, job = talk(5)
    now = [0.0]
    feed = LogFeed(engine, Scope(), lease_seconds=30, clock=lambda: now[0])
    feed.bind(lambda: None)
    feed.actions()["watch"]({"view": "a", "job_ids": [job.id]})
    assert feed.followed == {job.id}
    now[0] = 20
    feed.actions()["watch"]({"view": "a", "job_ids": [job.id]})  # renewed
    now[0] = 45
    feed.take_patch()
    assert feed.followed == {job.id}
    now[0] = 51
    feed.take_patch()
    assert feed.followed == set()
    feed.close()


async def test_unwatching_stops_the_lines(talk, wire):
    engine, job = talk(200, per_tick=5, tick=0.02)
    feed = LogFeed(engine, Scope())
    woken = []
    feed.bind(lambda: woken.append(1))
    feed.actions()["watch"]({"view": "a", "job_ids": [job.id]})
    await asyncio.sleep(0.1)
    assert woken
    feed.actions()["watch"]({"view": "a", "job_ids": []})
    feed.take_patch()
    woken.clear()
    await engine.wait(timeout=10)
    assert woken == [] and feed.followed == set()
    feed.close()


async def test_a_log_stream_of_an_unknown_job_is_refused(make_engine):
    from pbrain_widgets import UnknownJobError

    with pytest.raises(UnknownJobError):
        LogStream(make_engine(), "nope")


async def test_levels_survive_the_trip(talk, wire):
    engine, job = talk(1)
    await engine.wait(timeout=5)
    snap = wire(LogStream(engine, job.id)).ok("snapshot")
    levels = {line[2] for line in snap["parts"]["logs"]["tails"][job.id]}
    assert levels <= {level.value for level in LogLevel} and "SUCCESS" in levels
