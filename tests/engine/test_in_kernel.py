"""The engine inside a real IPython kernel, used the way a notebook uses it."""

from __future__ import annotations

import time

import pytest
from jupyter_client.manager import start_new_kernel


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_cell(kc, code: str, timeout: float = 60) -> str:
    """Execute one cell; return its stdout, raising on an error."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            raise AssertionError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


def test_launch_from_a_cell_without_await_and_wait_in_the_next(kernel):
    run_cell(
        kernel,
        "from pbrain_widgets import Engine, SimulatedRunner\n"
        "engine = Engine(db_path=':memory:', runner=SimulatedRunner(step_seconds=0.02, failure_rate=0))\n"
        "project = engine.create_project('nb')\n"
        "engine.add_subjects(project.id, ['a', 'b'])\n"
        "jobs = engine.run_pipeline(project.id)\n"
        "print(len(jobs), sorted({j.status.value for j in jobs}))",
    )
    # the jobs run on the engine's thread, whatever the kernel does
    time.sleep(1.0)
    out = run_cell(kernel, "print(len(engine.get_jobs(status='completed')))")
    assert int(out) >= 2
    out = run_cell(
        kernel,
        "await engine.wait(timeout=60)\nprint(sorted({j.status.value for j in engine.get_jobs()}))",
    )
    assert out.strip() == "['completed']"


def test_jobs_and_queue_go_on_while_a_cell_blocks(kernel):
    """A cell that blocks the kernel's main thread for 6 s stops neither the jobs' logs nor the
    queue: a job printing every 20 ms keeps its pace and the job queued behind a busy slot
    starts during the sleep."""
    run_cell(
        kernel,
        "import time, asyncio\n"
        "from pbrain_widgets import Engine, JobContext, Pipeline, Runner, Stage\n"
        "class Ticker(Runner):\n"
        "    async def run(self, ctx: JobContext) -> None:\n"
        "        for i in range(150):\n"
        "            ctx.info(f'tick {i}')\n"
        "            await asyncio.sleep(0.02)\n"
        "engine = Engine(db_path=':memory:', max_concurrent=1, runner=Ticker())\n"
        "p = engine.create_project('busy', Pipeline([Stage('tick')]))\n"
        "first, second = engine.run_pipeline(p.id, [s.id for s in engine.add_subjects(p.id, ['a', 'b'])])\n"
        "print(first.status.value, second.status.value)",
    )
    run_cell(kernel, "t0 = time.time()\ntime.sleep(6)\nt1 = time.time()")
    out = run_cell(
        kernel,
        "logs = engine.get_logs(first.id) + engine.get_logs(second.id)\n"
        "stamps = sorted(e.time for e in logs if e.message.startswith('tick'))\n"
        "stamps = [t for t in stamps if t0 - 0.5 < t < t1]\n"
        "gap = max(b - a for a, b in zip(stamps, stamps[1:]))\n"
        "started = engine.get_job(second.id).start_time\n"
        "print(round(gap, 3), t0 < started < t1)\n"
        "engine.close()",
    )
    gap, started_during_sleep = out.split()
    assert float(gap) < 0.3, f"largest gap between log lines: {gap} s"
    assert started_during_sleep == "True"


def test_close_from_another_thread_while_a_cell_blocks(kernel):
    """close() called from a user thread while the main thread sleeps and jobs write logs:
    returns within 5 s and leaves no engine thread and no job process."""
    out = run_cell(
        kernel,
        "import threading, time, sys, psutil\n"
        "from pbrain_widgets import CommandRunner, Engine, Pipeline, Stage\n"
        "noisy = CommandRunner([sys.executable, '-c', "
        "'import time\\nwhile True:\\n    print(\"line\", flush=True); time.sleep(0.005)'])\n"
        "engine = Engine(db_path=':memory:', max_concurrent=3, runner=noisy)\n"
        "p = engine.create_project('close', Pipeline([Stage('noise')]))\n"
        "engine.run_pipeline(p.id, [s.id for s in engine.add_subjects(p.id, ['a', 'b', 'c'])])\n"
        "time.sleep(1.0)\n"
        "before = {c.pid for c in psutil.Process().children(recursive=True)}\n"
        "took = []\n"
        "def closer():\n"
        "    t = time.monotonic(); engine.close(); took.append(time.monotonic() - t)\n"
        "threading.Thread(target=closer).start()\n"
        "time.sleep(6)\n"
        "left = [c for c in psutil.Process().children(recursive=True) if c.pid in before and c.is_running()"
        " and c.status() != psutil.STATUS_ZOMBIE]\n"
        "print(round(took[0], 2), engine.thread.is_alive(), len(before), len(left))",
    )
    took, thread_alive, started, left = out.split()
    assert float(took) < 5.0
    assert thread_alive == "False"
    assert int(started) >= 3 and int(left) == 0
