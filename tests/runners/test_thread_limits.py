"""BLAS / OpenMP thread limits of job processes: cores // max_concurrent, unless the user chose."""

from __future__ import annotations

import re

import pytest
import runner_jobs
from runner_helpers import project

from pbrain_widgets import InvalidArgumentError, JobStatus
from pbrain_widgets.runners.command import CommandRunner
from pbrain_widgets.runners.function import FunctionRunner
from pbrain_widgets.runners.pbrain import pbrain_pipeline
from pbrain_widgets.runners.process import THREAD_VARIABLES, cores

SHOW = """
import os, sys
print("threads: " + " ".join(f"{name}={os.environ.get(name, '-')}" for name in sys.argv[1:]))
"""


@pytest.fixture(autouse=True)
def no_thread_variables(monkeypatch):
    """The kernel's environment sets no thread variable."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def expect(default: str, **chosen: str) -> str:
    return "threads: " + " ".join(f"{name}={chosen.get(name, default)}" for name in THREAD_VARIABLES)


async def seen(engine) -> str:
    p, subs = project(engine)
    [job] = await engine.wait([engine.run_stage(p.id, subs[0].id, "work")], timeout=60)
    assert job.status is JobStatus.COMPLETED, job.error
    return next(e.message for e in engine.get_logs(job.id) if e.message.startswith("threads:"))


async def test_a_command_gets_the_cores_shared_among_the_jobs_that_run_at_once(make_engine, script):
    engine = make_engine(runner=CommandRunner([*script(SHOW), *THREAD_VARIABLES]), max_concurrent=2)
    assert await seen(engine) == expect(str(max(1, cores() // 2)))


async def test_variables_the_user_set_switch_the_default_off(make_engine, script, monkeypatch):
    argv = [*script(SHOW), *THREAD_VARIABLES]
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    engine = make_engine(runner=CommandRunner(argv), max_concurrent=2)
    assert await seen(engine) == expect("-", OMP_NUM_THREADS="7")

    monkeypatch.delenv("OMP_NUM_THREADS")
    engine = make_engine(runner=CommandRunner(argv, env={"MKL_NUM_THREADS": "3"}), max_concurrent=2)
    assert await seen(engine) == expect("-", MKL_NUM_THREADS="3")


async def test_threads_overrides_the_kernels_environment_but_not_the_runners_env(
    make_engine, script, monkeypatch
):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    runner = CommandRunner([*script(SHOW), *THREAD_VARIABLES], env={"MKL_NUM_THREADS": "5"}, threads=3)
    engine = make_engine(runner=runner, max_concurrent=2)
    assert await seen(engine) == expect("3", MKL_NUM_THREADS="5")


async def test_function_workers_get_the_limits_when_they_start(make_engine):
    kwargs = {"names": list(THREAD_VARIABLES)}
    engine = make_engine(runner=FunctionRunner(runner_jobs.show_threads, kwargs=kwargs), max_concurrent=2)
    assert await seen(engine) == expect(str(max(1, cores() // 2)))

    runner = FunctionRunner(runner_jobs.show_threads, kwargs=kwargs, threads=3)
    assert await seen(make_engine(runner=runner, max_concurrent=2)) == expect("3")

    # a worker warmed up before any job takes its engine's max_concurrent
    runner = FunctionRunner(runner_jobs.show_threads, kwargs=kwargs)
    engine = make_engine(runner=runner, max_concurrent=1)
    await runner.warm_up(engine, 1)
    assert await seen(engine) == expect(str(cores()))
    assert runner.workers_started == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_thread_counts_are_refused_by_value(bad, script):
    message = re.escape(f"threads must be an integer >= 1 or None, got {bad!r}")
    with pytest.raises(InvalidArgumentError, match=message):
        CommandRunner(script(SHOW), threads=bad)
    with pytest.raises(InvalidArgumentError, match=message):
        FunctionRunner(runner_jobs.pid, threads=bad)
    with pytest.raises(InvalidArgumentError, match=message):
        pbrain_pipeline(threads=bad)
