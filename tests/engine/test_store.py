"""The store under failure: unwritable log folders, unencodable lines, killed kernels, damage."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pbrain_widgets import (
    Engine,
    JobContext,
    JobStatus,
    Pipeline,
    Runner,
    Stage,
    StoreDamagedError,
    StoreWriteError,
)
from pbrain_widgets.engine.models import Job, LogEntry, LogLevel
from pbrain_widgets.engine.store import FLUSH_LINES, RETRY_MAX_SECONDS, TEXT_BATCH_ROWS, Store, _format_time

ONE_STAGE = Pipeline([Stage("a")], name="one")


class ChattyRunner(Runner):
    """Logs ``lines`` numbered lines, one every ``every`` seconds; a subject named ``odd`` also
    logs a file name that UTF-8 cannot encode (as ``os.listdir`` gives for a latin-1 folder)."""

    def __init__(self, lines: int = 30, every: float = 0.01) -> None:
        self.lines = lines
        self.every = every

    async def run(self, ctx: JobContext) -> None:
        for i in range(self.lines):
            if ctx.subject.name == "odd" and i == 1:
                ctx.info("found " + b"scan\xff.dcm".decode("utf-8", "surrogateescape"))
            ctx.info(f"line {i} of {ctx.subject.name}")
            await asyncio.sleep(self.every)


def _shown(engine: Engine) -> dict[str, list[tuple[int, str, str]]]:
    return {
        job.id: [(e.seq, e.level.value, e.message) for e in engine.get_logs(job.id)]
        for job in engine.get_jobs()
    }


def _on_disk(log_dir: Path) -> dict[str, list[tuple[int, str, str]]]:
    out = {}
    for path in log_dir.glob("*.log"):
        lines = path.read_text(encoding="utf-8").splitlines()
        out[path.stem] = [(int(s), level, msg) for s, _, level, msg in (x.split("\t", 3) for x in lines)]
    return out


def _start(engine: Engine, names: list[str]) -> None:
    project = engine.create_project("study", pipeline=ONE_STAGE)
    engine.add_subjects(project.id, names)
    engine.run_pipeline(project.id)


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- log lines are never lost --------------------------------------------------------------------


def test_log_folder_gone_for_a_moment_loses_no_line_and_shows_the_error(tmp_path):
    db = tmp_path / "engine.sqlite"
    logs, aside = tmp_path / "engine-logs", tmp_path / "aside"
    engine = Engine(db, max_concurrent=8, runner=ChattyRunner(lines=40), flush_interval=0.05)
    errors: list[str | None] = []
    engine.on_store_error(errors.append)

    def block() -> None:  # on the engine's thread: no write runs half-way through the swap
        logs.rename(aside)
        logs.write_text("not a folder")

    def unblock() -> None:
        logs.unlink()
        aside.rename(logs)

    _start(engine, [f"s{i}" for i in range(8)])
    time.sleep(0.1)
    engine.call(block)
    time.sleep(0.5)
    assert "Not a directory" in (engine.store_error or "")
    engine.call(unblock)
    engine.wait_sync(timeout=20)
    _wait_for(lambda: engine.store_error is None)
    engine.flush()
    shown = _shown(engine)
    assert sum(map(len, shown.values())) == 8 * 42  # Starting, 40 lines, completed
    assert _on_disk(logs) == shown
    assert errors[0].startswith("writing to the store failed") and errors[-1] is None
    engine.close()
    with Engine(db) as again:
        assert _shown(again) == shown


def test_an_unencodable_line_is_escaped_and_other_jobs_keep_their_lines(tmp_path):
    db = tmp_path / "engine.sqlite"
    engine = Engine(db, max_concurrent=4, runner=ChattyRunner(lines=5, every=0), flush_interval=0.05)
    _start(engine, ["odd", "s1", "s2", "s3"])
    engine.wait_sync(timeout=20)
    engine.flush()
    shown = _shown(engine)
    assert sum(map(len, shown.values())) == 4 * 7 + 1
    assert any(m == "found scan\\udcff.dcm" for lines in shown.values() for _, _, m in lines)
    assert _on_disk(tmp_path / "engine-logs") == shown
    engine.close()
    with Engine(db) as again:
        assert _shown(again) == shown


def test_a_big_commit_goes_in_parts_and_keeps_changes_made_between_them(tmp_path):
    store = Store(tmp_path / "engine.sqlite")
    jobs = [Job(f"job-{i:05d}", "p", "s", "import", seq=i) for i in range(2500)]
    for job in jobs:
        store.save_job(job)
    db = sqlite3.connect(tmp_path / "engine.sqlite")  # a reader beside the store (WAL)

    def stored() -> dict[str, str]:
        return {i: json.loads(d)["status"] for i, d in db.execute("SELECT id, data FROM jobs")}

    parts = store.commit_in_parts(rows=1000)
    next(parts)  # the first 1,000 rows are written: the loop gets a turn
    assert len(stored()) == 1000
    jobs[0].status = JobStatus.CANCELLED  # a written job changes during the pause
    store.save_job(jobs[0])
    assert sum(1 for _ in parts) == 1  # 1,501 left: one more part, then the rest at once
    rows = stored()
    assert len(rows) == 2500 and rows["job-00000"] == "cancelled"
    db.close()
    store.close()


def test_a_turn_stops_creating_log_files_at_its_deadline(tmp_path):
    """1,000 new jobs' first lines are 1,000 new files (0.3 ms each on a slow disk): a turn past
    its deadline writes one job's lines and leaves the rest, in order, for the next turns."""
    store = Store(tmp_path / "engine.sqlite")
    for i in range(1000):
        store.append_log(f"job{i}", LogEntry(1, 0.0, LogLevel.INFO, f"queued {i}"))
    assert store.flush(FLUSH_LINES, deadline=time.monotonic()) is False
    assert [p.name for p in (tmp_path / "engine-logs").iterdir()] == ["job0.log"]
    while not store.flush(FLUSH_LINES, deadline=time.monotonic() + 0.005):
        pass
    assert len(list((tmp_path / "engine-logs").iterdir())) == 1000
    assert store.read_logs("job999")[0].message == "queued 999"
    store.close()


def test_writes_are_bounded_per_turn_fair_between_jobs_and_retried_with_backoff(tmp_path):
    store = Store(tmp_path / "engine.sqlite")
    flood = 200 * FLUSH_LINES  # far more than one turn writes
    for i in range(1, flood + 1):
        store.append_log("flood", LogEntry(i, 0.0, LogLevel.INFO, f"line {i}"))
    store.append_log("quiet", LogEntry(1, 0.0, LogLevel.INFO, "hello"))
    start = time.perf_counter()
    assert store.flush_turn() == 0.0  # more to write: the next turn comes at once
    # about FLUSH_SECONDS; the line count below is what proves the turn bounded, this only catches
    # a turn that wrote much of the flood (seconds), with slack for a loaded CI machine
    assert time.perf_counter() - start < 0.5
    assert len(store.read_logs("flood")) == flood
    assert (tmp_path / "engine-logs" / "flood.log").read_text().count("\n") < flood
    assert store.flush_turn() == 0.0
    assert (tmp_path / "engine-logs" / "quiet.log").exists()  # not starved by the flood

    logs = tmp_path / "engine-logs"
    logs.rename(tmp_path / "aside")
    logs.write_text("not a folder")
    store.append_log("quiet", LogEntry(2, 0.0, LogLevel.INFO, "again"))
    delays = [store.flush_turn() for _ in range(7)]
    assert delays == [0.2, 0.4, 0.8, 1.6, 3.2, RETRY_MAX_SECONDS, RETRY_MAX_SECONDS]
    assert "Not a directory" in store.error
    logs.unlink()
    (tmp_path / "aside").rename(logs)
    while (delay := store.flush_turn()) is not None:
        assert delay == 0.0
    assert store.error is None
    assert [e.seq for e in store.read_logs("flood")] == list(range(1, flood + 1))
    assert [e.message for e in store.read_logs("quiet")] == ["hello", "again"]
    store.close()


def test_close_releases_the_database_when_its_last_write_fails(tmp_path):
    db = tmp_path / "engine.sqlite"
    logs = tmp_path / "engine-logs"
    engine = Engine(db, runner=ChattyRunner(lines=3, every=0), flush_interval=3600)
    _start(engine, ["s1", "s2"])
    engine.wait_sync(timeout=20)
    logs.rename(tmp_path / "aside")
    logs.write_text("not a folder")
    with pytest.raises(
        StoreWriteError, match=r"10 log lines of 2 jobs .* could not be written .*engine-logs"
    ):
        engine.close()
    assert engine.closed
    logs.unlink()
    (tmp_path / "aside").rename(logs)
    with Engine(db) as again:  # the lock and the database were released
        assert {j.status for j in again.get_jobs()} == {JobStatus.COMPLETED}


# -- what an API call returns is on disk ---------------------------------------------------------


def test_jobs_returned_before_a_sigkill_are_kept_as_interrupted(tmp_path):
    db = tmp_path / "crash.sqlite"
    script = textwrap.dedent(
        """
        import sys, time
        from pbrain_widgets import Engine, SimulatedRunner
        runner = SimulatedRunner(step_seconds=60, failure_rate=0)
        engine = Engine(sys.argv[1], max_concurrent=2, runner=runner)
        project = engine.create_project("study")
        engine.add_subjects(project.id, ["s1", "s2"])
        print(len(engine.run_pipeline(project.id)), flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    returned = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)  # within the write-behind interval
    proc.wait(10)
    proc.stdout.close()
    with Engine(db, runner=ChattyRunner(lines=1, every=0)) as engine:
        jobs = engine.get_jobs()
        assert len(jobs) == returned == 20
        assert all(j.status is JobStatus.FAILED and j.error.startswith("interrupted") for j in jobs)
        root = min(jobs, key=lambda j: j.seq)
        retried = engine.retry(root.id)
        engine.wait_sync(timeout=20)
        assert engine.get_job(retried.id).status is JobStatus.COMPLETED


# -- damage --------------------------------------------------------------------------------------


def _history(db: Path) -> list[str]:
    with Engine(db, runner=ChattyRunner(lines=2, every=0)) as engine:
        _start(engine, ["s1", "s2", "s3"])
        engine.wait_sync(timeout=20)
        return [j.id for j in engine.get_jobs()]


def test_a_damaged_database_names_the_file_and_what_to_do(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(os.urandom(3000))
    with pytest.raises(StoreDamagedError, match=r"garbage\.sqlite.* is damaged .*move it aside"):
        Engine(garbage)
    garbage.rename(tmp_path / "garbage.sqlite.broken")
    Engine(garbage).close()  # the lock was released; a fresh store opens

    db = tmp_path / "cut.sqlite"
    _history(db)
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.truncate(size // 2)
    with pytest.raises(StoreDamagedError, match=r"cut\.sqlite"):
        Engine(db)


def test_an_empty_database_file_is_new_unless_its_logs_show_a_lost_history(tmp_path):
    touched = tmp_path / "touched.sqlite"
    touched.touch()
    with Engine(touched) as engine:
        assert engine.get_projects() == []

    db = tmp_path / "emptied.sqlite"
    _history(db)
    db.write_bytes(b"")
    with pytest.raises(StoreDamagedError, match=r"0 bytes, yet .*emptied-logs.* holds job logs"):
        Engine(db)


def test_one_unreadable_row_is_skipped_and_the_rest_opens(tmp_path, caplog):
    db = tmp_path / "engine.sqlite"
    ids = _history(db)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE jobs SET data = '{not json' WHERE id = ?", (ids[0],))
    with Engine(db) as engine:
        assert sorted(j.id for j in engine.get_jobs()) == sorted(ids[1:])
    assert f"skipping unreadable jobs row {ids[0]!r}" in caplog.text


def test_a_deleted_log_file_says_so(tmp_path):
    db = tmp_path / "engine.sqlite"
    ids = _history(db)
    (tmp_path / "engine-logs" / f"{ids[0]}.log").unlink()
    with Engine(db) as engine:
        [line] = engine.get_logs(ids[0])
        assert line.level is LogLevel.ERROR and "is missing (deleted or moved)" in line.message
        assert len(engine.get_logs(ids[1])) == 4


# -- :memory: engines of killed processes --------------------------------------------------------


def test_log_folders_of_killed_memory_engines_are_removed(tmp_path):
    script = textwrap.dedent(
        """
        import os, time
        from pbrain_widgets import Engine
        engine = Engine(":memory:")
        project = engine.create_project("p")
        engine.add_subjects(project.id, ["s"])
        print(os.path.dirname(engine.run_pipeline(project.id)[0].log_path), flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    folder = Path(proc.stdout.readline().strip())
    proc.kill()
    proc.wait(10)
    proc.stdout.close()
    assert folder.is_dir()
    live = Engine(":memory:")
    try:
        live_project = live.create_project("p")
        live.add_subjects(live_project.id, ["s"])
        live_folder = Path(live.run_pipeline(live_project.id)[0].log_path).parent
        Engine(":memory:").close()
        assert not folder.exists()
        assert live_folder.is_dir()  # a live engine's folder stays
    finally:
        live.close()


def test_log_times_are_formatted_as_datetime_does():
    """The per-second cache of the log's time column writes what datetime would, to the microsecond."""
    rng = random.Random(7)
    times = [0.0, 1.9999995, 1.0000005, 1_700_000_000.9999996, *(rng.uniform(0, 4e9) for _ in range(20_000))]
    for t in sorted(times) + times:  # in order (the cache hits) and shuffled (it misses)
        expected = datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds")
        assert _format_time(t) == expected, t


def test_a_burst_of_ended_jobs_is_text_indexed_in_batches(tmp_path):
    store = Store(tmp_path / "engine.sqlite")
    count = 2 * TEXT_BATCH_ROWS + 5  # (100,000 jobs cancelled at once: one batch per turn)
    for seq in range(1, count + 1):
        store.index_job_text(seq, "cancelled by user", f"line of job {seq}")
    indexed = "SELECT count(*) FROM job_text WHERE job_text MATCH 'cancelled'"
    store.write_records()
    assert store._db.execute(indexed).fetchone()[0] == TEXT_BATCH_ROWS
    store.write_records()
    assert store._db.execute(indexed).fetchone()[0] == 2 * TEXT_BATCH_ROWS
    assert store.search_text("line") == set(range(1, count + 1))  # a search writes the rest first
    store.close()
