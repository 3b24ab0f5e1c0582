"""Stage statistics, failure groups and ETAs against hand-computed numbers."""

from __future__ import annotations

import pytest
from cohort_helpers import ABC, ScriptRunner, setup

from pbrain_widgets import Job, JobStatus
from pbrain_widgets.engine import analytics, eta


def _job(i, stage, status, queued, start, end, subject="s1", error=None, blocked_by=None):
    return Job(
        id=f"j{i}",
        project_id="p",
        subject_id=subject,
        stage_id=stage,
        status=JobStatus(status),
        queued_at=queued,
        start_time=start,
        end_time=end,
        error=error,
        blocked_by=blocked_by,
        seq=i,
    )


def test_percentile_interpolates_like_numpy():
    assert analytics.percentile([], 0.5) is None
    assert analytics.percentile([4.0], 0.9) == 4.0
    # positions: 0.5 * 3 = 1.5 -> 2 + 0.5 * (3 - 2); 0.9 * 3 = 2.7 -> 3 + 0.7 * (10 - 3)
    assert analytics.percentile([10.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert analytics.percentile([10.0, 1.0, 3.0, 2.0], 0.9) == pytest.approx(7.9)


def test_stage_stats_hand_computed():
    jobs = [
        _job(1, "a", "completed", 0, 1, 11),  # wait 1, run 10
        _job(2, "a", "completed", 0, 2, 22),  # wait 2, run 20
        _job(3, "a", "failed", 0, 4, 5),  # wait 4 (a run, not a completed one)
        _job(4, "a", "completed", 0, 3, 43),  # wait 3, run 40
        _job(5, "b", "failed", 0, None, 5, blocked_by="j3"),  # skipped: not a run
        _job(6, "b", "cancelled", 0, 1, 2),  # cancelled: not counted
        _job(7, "b", "completed", 10, 15, 17),  # wait 5, run 2
    ]
    stats = {s.stage_id: s for s in analytics.stage_stats(jobs, {"p": ABC})}
    assert list(stats) == ["a", "b", "c"]
    a = stats["a"]
    assert (a.runs, a.completed, a.failed, a.success_rate) == (4, 3, 1, 0.75)
    assert a.median_run_time == 20.0
    assert a.p90_run_time == pytest.approx(36.0)  # 0.9 * 2 = 1.8 -> 20 + 0.8 * 20
    assert a.median_queue_wait == 2.5  # waits 1, 2, 3, 4
    assert a.p90_queue_wait == pytest.approx(3.7)  # 0.9 * 3 = 2.7 -> 3 + 0.7
    b = stats["b"]
    assert (b.runs, b.success_rate, b.median_run_time, b.median_queue_wait) == (1, 1.0, 2.0, 5.0)
    c = stats["c"]
    assert (c.runs, c.success_rate, c.median_run_time) == (0, None, None)


def test_error_signature_normalises_numbers_paths_ids():
    one = analytics.error_signature(
        "fit diverged at /data/sub-01/t1.nii after 12 iterations (job 3fa9c2d1e0b4)"
    )
    two = analytics.error_signature(
        "fit diverged at /data/sub-17/t1.nii after 250 iterations (job 0badc0ffee11)"
    )
    assert one == two == "fit diverged at <path> after <n> iterations (job <id>)"
    assert analytics.error_signature("no file 'a.nii'") == analytics.error_signature("no file 'b.nii'")
    assert analytics.error_signature("out of memory") != analytics.error_signature("disk full")


def test_failure_groups_one_broken_stage_is_one_problem():
    jobs = {}
    latest = {}
    n = 0
    for s in range(50):  # stage a fails for 50 subjects, same error with varying numbers
        n += 1
        root = _job(n, "a", "failed", 0, 1, 2, subject=f"s{s}", error=f"fit diverged after {s} iterations")
        jobs[root.id] = root
        latest[(root.subject_id, "a")] = root.id
        for stage in ("b", "c"):  # their downstream stages were skipped
            n += 1
            skipped = _job(
                n, stage, "failed", 0, None, 2, subject=f"s{s}", error="dependency failed", blocked_by=root.id
            )
            jobs[skipped.id] = skipped
            latest[(skipped.subject_id, stage)] = skipped.id
    n += 1
    other = _job(n, "c", "failed", 0, 1, 2, subject="s99", error="disk full")
    jobs[other.id] = other
    latest[("s99", "c")] = other.id
    n += 1  # a resolved failure: a newer job of its stage exists
    old = _job(n, "b", "failed", 0, 1, 2, subject="s98", error="disk full")
    jobs[old.id] = old
    latest[("s98", "b")] = "newer"
    groups = analytics.failure_groups(jobs, latest)
    assert len(groups) == 2
    big, small = groups
    assert (big.stage_id, big.signature) == ("a", "fit diverged after <n> iterations")
    assert (len(big.root_job_ids), len(big.blocked_job_ids), big.count, len(big.subject_ids)) == (
        50,
        100,
        150,
        50,
    )
    assert (small.stage_id, small.root_job_ids, small.count) == ("c", [other.id], 1)


def test_job_remaining_is_honest():
    # a stage that usually takes 600 s, 30 s in, at 20 %: naive says 120 s
    naive = 30 * (100 - 20) / 20
    honest = eta.job_remaining(600.0, 30.0, 20.0)
    assert naive == 120.0
    assert honest == pytest.approx(0.8 * 570 + 0.2 * 120)  # 480
    assert eta.job_remaining(None, 30.0, 20.0) == 120.0  # never seen: its own pace
    assert eta.job_remaining(600.0, 30.0, 0.0) == 570.0  # no progress yet: the expectation
    assert eta.job_remaining(600.0, 700.0, 50.0) == 700.0  # overran: its own pace
    assert eta.job_remaining(None, 5.0, 0.0) is None


def test_makespan_replays_the_queue():
    # 2 slots; running r1 (4 s left), r2 (1 s left); q1 (3 s) waits for r1, q2 (5 s), q3 (2 s)
    # t=1: r2 ends, q2 starts (q1 waits for r1) -> ends 6; t=4: r1 ends, q1 starts -> ends 7
    # t=6: q2 ends, q3 starts -> ends 8
    running = [("r1", 4.0), ("r2", 1.0)]
    queued = [("q1", (0, 1), 3.0, ("r1",)), ("q2", (0, 2), 5.0, ()), ("q3", (0, 3), 2.0, ())]
    assert eta.makespan(running, queued, 2) == 8.0
    assert eta.makespan([], [("q", (0, 1), 2.0, ())], 4) == 2.0
    assert eta.makespan([], [], 4) == 0.0


async def test_summary_counts_and_eta(make_engine):
    engine = make_engine(runner=ScriptRunner(fail={("s2", "b"): "boom"}), max_concurrent=2)
    project, _ = setup(engine)
    assert engine.summary()["eta_seconds"] == 0.0
    engine.run_pipeline(project.id)
    await engine.wait(timeout=30)
    summary = engine.summary(project.id)
    assert summary["jobs"] == {"queued": 0, "running": 0, "completed": 7, "failed": 2, "cancelled": 0}
    assert summary["stages"]["done"] == 7 and summary["stages"]["failed"] == 1
    assert summary["stages"]["not_run"] == 1  # s2's c was skipped: back to not run
    assert summary["remaining"] == 0 and summary["eta_seconds"] == 0.0
