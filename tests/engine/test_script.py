"""The engine from a plain Python script: no event loop anywhere, a blocking wait."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading


def test_a_plain_script_runs_a_pipeline_to_the_end_with_the_blocking_wait(tmp_path):
    script = textwrap.dedent(
        """
        import asyncio, threading
        from pbrain_widgets import Engine, SimulatedRunner

        engine = Engine(db_path=%r, runner=SimulatedRunner(step_seconds=0.01, failure_rate=0))
        project = engine.create_project("script")
        engine.add_subjects(project.id, ["a", "b", "c"])
        jobs = engine.run_pipeline(project.id)
        done = engine.wait_sync(jobs, timeout=60)
        try:
            asyncio.get_running_loop()
            print("a loop was running")
        except RuntimeError:
            pass
        print(len(done), sorted({j.status.value for j in done}))
        engine.close()
        print(sorted(t.name for t in threading.enumerate()))
        """
    ) % str(tmp_path / "script.sqlite")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    summary, threads = out.stdout.strip().split("\n")
    assert summary == "30 ['completed']"  # 3 subjects x 10 stages
    assert threads == "['MainThread']"  # close() ended the engine's thread


def test_asyncio_run_in_a_script_awaits_the_engine_from_its_own_loop(tmp_path):
    script = textwrap.dedent(
        """
        import asyncio
        from pbrain_widgets import Engine, SimulatedRunner

        async def main():
            runner = SimulatedRunner(step_seconds=0.01, failure_rate=0)
            async with Engine(db_path=":memory:", runner=runner) as engine:
                project = engine.create_project("script")
                engine.add_subjects(project.id, ["a"])
                jobs = engine.run_pipeline(project.id)
                done = await engine.wait(jobs, timeout=60)
                print(sorted({j.status.value for j in done}))

        asyncio.run(main())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['completed']"


def test_the_engine_thread_ends_with_close(make_engine):
    engine = make_engine()
    assert engine.thread.is_alive() and engine.thread is not threading.current_thread()
    engine.close()
    assert not engine.thread.is_alive()
    engine.close()  # twice is fine
