"""Property tests of the scheduler's invariants over random pipelines, loads, failures and cancels."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbrain_widgets import Engine, InvalidTransitionError, JobStatus, Pipeline, SimulatedRunner, Stage
from pbrain_widgets.engine.scheduler import Scheduler

TERMINAL = {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}


@st.composite
def pipelines(draw) -> Pipeline:
    n = draw(st.integers(1, 6))
    stages = []
    for i in range(n):
        deps = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        stages.append(Stage(f"s{i}", depends_on=tuple(f"s{d}" for d in sorted(deps))))
    return Pipeline(stages, name="random")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pipeline=pipelines(),
    n_subjects=st.integers(1, 4),
    max_concurrent=st.integers(1, 4),
    failure_rate=st.sampled_from([0.0, 0.3, 1.0]),
    seed=st.integers(0, 1000),
    cancels=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30)), max_size=4),
    priorities=st.lists(st.tuples(st.integers(0, 40), st.integers(-3, 3)), max_size=4),
)
def test_scheduler_invariants(pipeline, n_subjects, max_concurrent, failure_rate, seed, cancels, priorities):
    async def scenario():
        runner = SimulatedRunner(step_seconds=0, failure_rate=failure_rate, seed=seed)
        engine = Engine(db_path=":memory:", max_concurrent=max_concurrent, runner=runner)
        events_a, events_b = [], []
        engine.on_job_update(events_a.append)
        engine.on_job_update(lambda job: events_b.append(job))
        try:
            project = engine.create_project("p", pipeline=pipeline)
            engine.add_subjects(project.id, [f"sub{i}" for i in range(n_subjects)])
            jobs = engine.run_pipeline(project.id)
            for index, priority in priorities:
                job = jobs[index % len(jobs)]
                # the job may start between the check and the call (the engine has its own thread)
                with contextlib.suppress(InvalidTransitionError):
                    engine.set_priority(job.id, priority)
            for delay, index in sorted(cancels):
                for _ in range(delay):
                    await asyncio.sleep(0)
                job = jobs[index % len(jobs)]
                with contextlib.suppress(InvalidTransitionError):
                    engine.cancel(job.id)
            await engine.wait(timeout=10)
            return jobs, events_a, events_b, {j.id: j for j in engine.get_jobs()}
        finally:
            await engine.aclose()

    jobs, events, events_b, final = asyncio.run(scenario())

    # every event delivered once, in the same order, to every listener
    assert [(e.id, e.status, e.progress) for e in events] == [(e.id, e.status, e.progress) for e in events_b]
    # every job ends terminal
    assert all(final[j.id].status in TERMINAL for j in jobs)

    status_of: dict[str, JobStatus] = {}
    running: set[str] = set()
    completed_at: dict[str, int] = {}
    per_job = defaultdict(list)
    for i, event in enumerate(events):
        previous = status_of.get(event.id)
        # a terminal job never changes again (a cancelled job never turns completed or failed)
        assert previous not in TERMINAL, (event.id, previous, event.status)
        if event.status is JobStatus.RUNNING and previous is not JobStatus.RUNNING:
            assert previous is JobStatus.QUEUED
            # dependencies respected: each dependency completed before this job started
            for dep in final[event.id].depends_on:
                assert dep in completed_at and completed_at[dep] < i
            running.add(event.id)
        elif event.status in TERMINAL:
            running.discard(event.id)
            if event.status is JobStatus.COMPLETED:
                assert previous is JobStatus.RUNNING
                completed_at[event.id] = i
        # concurrency never exceeded
        assert len(running) <= max_concurrent
        status_of[event.id] = event.status
        per_job[event.id].append(event.status)

    for job in jobs:
        seq = per_job[job.id]
        assert seq[0] is JobStatus.QUEUED
        assert sum(s in TERMINAL for s in seq) == 1 and seq[-1] in TERMINAL
    if failure_rate == 0 and not cancels:
        assert {j.status for j in final.values()} == {JobStatus.COMPLETED}


@settings(max_examples=60, deadline=None)
@given(
    priorities=st.lists(st.integers(-3, 3), min_size=0, max_size=200),
    moves=st.lists(st.tuples(st.integers(0, 199), st.integers(-3, 3)), max_size=10),
    removed=st.lists(st.integers(0, 199), max_size=180),
    limit=st.one_of(st.none(), st.integers(0, 45)),
    keep_odd=st.booleans(),
)
def test_start_order_with_limit_and_filter_is_the_sorted_prefix(priorities, moves, removed, limit, keep_odd):
    scheduler = Scheduler(max_concurrent=1)
    wanted: dict[str, tuple[int, int]] = {}
    for seq, priority in enumerate(priorities):
        scheduler.add(f"j{seq}", seq, priority, ())
        wanted[f"j{seq}"] = (priority, seq)
    for index, priority in moves:  # a raised job's old heap entry stays behind, stale
        if priorities:
            job_id = f"j{index % len(priorities)}"
            scheduler.set_priority(job_id, priority)
            wanted[job_id] = (priority, wanted[job_id][1])
    for index in removed:  # cancelled: a heap of mostly stale entries is rebuilt
        if priorities:
            job_id = f"j{index % len(priorities)}"
            scheduler.remove_queued(job_id)
            wanted.pop(job_id, None)
    accept = (lambda job_id: int(job_id[1:]) % 2 == 1) if keep_odd else None
    expected = sorted(
        (j for j in wanted if accept is None or accept(j)), key=lambda j: (-wanted[j][0], wanted[j][1])
    )
    assert scheduler.start_order(limit, accept) == expected[:limit]


def test_a_heap_of_mostly_cancelled_jobs_keeps_the_start_order():
    scheduler = Scheduler(max_concurrent=3)
    for seq in range(300):
        scheduler.add(f"j{seq}", seq, seq % 4, ())
    for seq in range(0, 300, 7):
        scheduler.set_priority(f"j{seq}", 9)
    left = {f"j{seq}": (9 if seq % 7 == 0 else seq % 4, seq) for seq in range(300) if seq % 6 == 0}
    for seq in range(300):
        if f"j{seq}" not in left:
            scheduler.remove_queued(f"j{seq}")
    assert len(scheduler._heap) < 2 * len(left) + 64 + 2  # rebuilt on the way
    order = sorted(left, key=lambda j: (-left[j][0], left[j][1]))
    assert scheduler.start_order() == order
    assert [scheduler.pop_startable() for _ in range(3)] == order[:3]


@settings(max_examples=60, deadline=None)
@given(
    priorities=st.lists(st.integers(-3, 3), min_size=1, max_size=300),
    batches=st.lists(st.lists(st.tuples(st.integers(0, 299), st.integers(-3, 3)), max_size=120), max_size=6),
    waiting=st.sets(st.integers(0, 299), max_size=40),
    removed=st.lists(st.integers(0, 299), max_size=100),
)
def test_batches_of_priorities_keep_the_start_order(priorities, batches, waiting, removed):
    scheduler = Scheduler(max_concurrent=1)
    n = len(priorities)
    wanted: dict[str, tuple[int, int]] = {}
    for seq, priority in enumerate(priorities):
        # some wait for a job that never ends: their priority moves, they are not in the order
        scheduler.add(f"j{seq}", seq, priority, ["never"] if seq in waiting else ())
        wanted[f"j{seq}"] = (priority, seq)
    for moves in batches:
        pairs = [(f"j{index % n}", priority) for index, priority in moves]
        scheduler.set_priorities(pairs)
        for job_id, priority in pairs:
            wanted[job_id] = (priority, wanted[job_id][1])
        ready = len(scheduler._ready)
        assert len(scheduler._heap) <= ready + ready // 4 + 64 + 1  # stale entries dropped on the way
    for index in removed:
        scheduler.remove_queued(f"j{index % n}")
        wanted.pop(f"j{index % n}", None)
    ready_ids = [j for j in wanted if int(j[1:]) not in waiting]
    expected = sorted(ready_ids, key=lambda j: (-wanted[j][0], wanted[j][1]))
    assert scheduler.start_order() == expected
    scheduler.compact()
    assert len(scheduler._heap) <= len(scheduler._ready) + 64
    assert scheduler.start_order() == expected
    assert [scheduler._order[f"j{i}"] for i in sorted(waiting) if f"j{i}" in wanted] == [
        wanted[f"j{i}"] for i in sorted(waiting) if f"j{i}" in wanted
    ]
    if expected:
        assert scheduler.pop_startable() == expected[0]


def test_lowering_the_front_of_a_long_queue_leaves_few_stale_entries():
    scheduler = Scheduler(max_concurrent=1)
    for seq in range(8000):
        scheduler.add(f"j{seq}", seq, 0, ())
    for start in range(0, 4000, 250):  # in steps, as the engine's batch does: pushes, not rebuilds
        scheduler.set_priorities([(f"j{seq}", -1) for seq in range(start, start + 250)])
        # each lowered job's old entry, in front of every live one, is skipped by every walk
        assert len(scheduler._heap) <= 8000 + 8000 // 4 + 64 + 1
    scheduler.compact()
    assert len(scheduler._heap) == 8000
    assert scheduler.start_order(3) == ["j4000", "j4001", "j4002"]
    assert scheduler.start_order()[-1] == "j3999"
