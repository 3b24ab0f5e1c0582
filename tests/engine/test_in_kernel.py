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
    # the jobs run on the kernel's loop between cells, while the kernel is idle
    time.sleep(1.0)
    out = run_cell(kernel, "print(len(engine.get_jobs(status='completed')))")
    assert int(out) >= 2
    out = run_cell(
        kernel,
        "await engine.wait(timeout=60)\nprint(sorted({j.status.value for j in engine.get_jobs()}))",
    )
    assert out.strip() == "['completed']"
