"""engine.history(): every job, filtered and searched (FTS5), in memory and SQLite engines."""

from __future__ import annotations

import math
import sys
import time

import pytest
from cohort_helpers import ScriptRunner, setup

from pbrain_widgets import Job, JobStatus, PbrainWidgetsError
from pbrain_widgets.engine import history

pd = pytest.importorskip("pandas")


async def test_history_page_counts_every_match_and_returns_one_page(make_engine):
    runner = ScriptRunner(fail={("s2", "a"): "fit diverged"})
    engine = make_engine(runner=runner)
    project, subjects = setup(engine)
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    every = engine.history_rows()["job_id"]
    page = engine.history_page(2, 4)
    assert page["total"] == 9 and page["columns"]["job_id"] == every[2:6]
    assert list(page["columns"]) == list(history.COLUMNS)
    failed = engine.history_page(0, 2, status="failed")
    assert failed["total"] == 3 and len(failed["columns"]["job_id"]) == 2
    assert engine.history_page(50, 10)["columns"]["job_id"] == []
    with pytest.raises(PbrainWidgetsError, match="offset must be an integer >= 0, got -1"):
        engine.history_page(-1)
    with pytest.raises(PbrainWidgetsError, match="unknown job status"):
        engine.history_page(status="nope")


@pytest.mark.parametrize("where", ["memory", "file"])
async def test_history_rows_filters_and_text(make_engine, tmp_path, where):
    db = ":memory:" if where == "memory" else tmp_path / "h.sqlite"
    runner = ScriptRunner(fail={("s2", "a"): "fit diverged at /data/s2/t1.nii after 12 iterations"})
    engine = make_engine(db, runner=runner)
    project, subjects = setup(engine)
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    frame = engine.history()
    assert list(frame.columns) == list(history.COLUMNS)
    assert len(frame) == 9  # 3 subjects x 3 stages
    assert frame["job_id"].tolist() == [j.id for j in engine.get_jobs()]  # newest first
    failed = engine.history(status="failed")
    assert sorted(failed["stage_id"]) == ["a", "b", "c"]  # s2's a, and b and c skipped
    assert set(failed["subject"]) == {"s2"}
    root = engine.history(text="diverged")
    assert root["stage_id"].tolist() == ["a"] and root["subject"].tolist() == ["s2"]
    assert root["error"].iloc[0].startswith("fit diverged")
    # words of the log, not only of the error; every word must be there
    assert len(engine.history(text="magicword")) == 7  # the 7 jobs that ran
    assert len(engine.history(text="magicword s3")) == 3
    assert len(engine.history(text="nothing-like-this")) == 0
    assert len(engine.history(subject_id=subjects["s1"].id, stage_id="b")) == 1
    done = engine.history(status=["completed"], project_id=project.id)
    assert len(done) == 6
    row = done.iloc[0]
    assert row["run_time"] >= 0 and row["queue_wait"] >= 0 and row["attempt"] == 1
    assert row["end_time"] >= row["start_time"] >= row["queued_time"]
    # time range: queued at or after `since`, before `until`
    assert len(engine.history(since=time.time() + 60)) == 0
    assert len(engine.history(until=time.time() + 60, limit=4)) == 4
    # a retry is a new row (attempt 2)
    engine.retry(root["job_id"].iloc[0])
    await engine.wait(timeout=30)
    again = engine.history(subject_id=subjects["s2"].id, stage_id="a")
    assert again["attempt"].tolist() == [2, 1]  # the runner fails it again
    if where == "file":
        engine.close()
        reopened = make_engine(db, runner=runner)
        assert len(reopened.history()) == 12
        assert reopened.history(text="diverged")["attempt"].tolist() == [2, 1]


async def test_history_text_finds_running_jobs(make_engine):
    engine = make_engine(runner=ScriptRunner(seconds=30))
    project, subjects = setup(engine, ["s1"])
    engine.run_stage(project.id, subjects["s1"].id, "a")
    for _ in range(200):
        if engine.get_logs(engine.get_jobs()[0].id):
            break
        await __import__("asyncio").sleep(0.01)
    assert engine.history(text="magicword")["status"].tolist() == ["running"]
    engine.cancel_all()


def test_history_bad_arguments(engine):
    with pytest.raises(PbrainWidgetsError, match="unknown job status"):
        engine.history(status="nope")
    with pytest.raises(PbrainWidgetsError, match="ISO 8601"):
        engine.history(since="yesterday")


def test_history_without_pandas_says_how_to_install(engine, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(PbrainWidgetsError, match=r"pbrain-widgets\[history\]"):
        engine.history()
    assert engine.history_rows()["job_id"] == []  # the plain columns need no pandas


def _fill(engine, project_id, subject_ids, n):
    """n ended jobs, indexed as the engine indexes them, straight into the engine."""
    stages = ["a", "b", "c"]
    errors = ["segmentation fault in module", "out of memory while fitting", "disk quota exceeded"]

    def fill():
        t0 = time.time() - n
        for i in range(n):
            engine._seq += 1
            failed = i % 10 == 0
            job = Job(
                id=f"job{i:08d}",
                project_id=project_id,
                subject_id=subject_ids[i % len(subject_ids)],
                stage_id=stages[i % 3],
                status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                queued_at=t0 + i,
                start_time=t0 + i + 0.5,
                end_time=t0 + i + 2.0,
                error=errors[i % 3] if failed else None,
                seq=engine._seq,
            )
            engine._jobs[job.id] = job
            text = f"step one\nstep two of job {i}\nvoxel {i % 997}"
            engine._store.index_job_text(job.seq, job.error, text)
        engine._store.write_records()
        return t0

    return engine.call(fill)


def test_history_on_100k_jobs_is_fast(make_engine):
    engine = make_engine(runner=ScriptRunner())
    project, subjects = setup(engine, [f"s{i}" for i in range(100)])
    t0 = _fill(engine, project.id, [s.id for s in subjects.values()], 100_000)
    since = t0 + 50_000
    queries = [
        {"status": "failed", "stage_id": "b"},
        {"text": "out of memory"},
        {"text": "voxel 996", "status": "completed"},
        {"project_id": project.id, "subject_id": subjects["s7"].id, "since": since},
        {"status": "failed", "text": "quota", "since": since},
    ]
    expected = [3333, 3333, 90, 500, 1667]  # counted by hand: see each filter
    for query, count in zip(queries, expected, strict=True):
        engine.history(**query)  # warm
        took = math.inf
        for _ in range(3):  # the best of three: other work on a loaded machine is not ours
            t0 = time.perf_counter()
            frame = engine.history(**query)
            took = min(took, time.perf_counter() - t0)
        assert len(frame) == count, query
        print(f"history({query}): {len(frame)} rows in {took * 1000:.1f} ms")
        # the target (< 200 ms) is a figure (printed); this bound catches a scan without the index
        assert took < 2.0, f"{query}: {took * 1000:.0f} ms"
