"""JobMonitor in JupyterLab: cancel, retry, filter tabs, expanded cards, bursts, scale."""

from __future__ import annotations

import re
import time

import psutil
from page_probes import long_tasks, record_long_tasks
from playwright.sync_api import expect
from widget_dom import all_cards, card, job_monitor, rendered_cards, short_id, tab, tab_count

MONITOR_CELL = "from pbrain_widgets.widgets import JobMonitor\nJobMonitor(engine, project.id)"


def wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    """Wait until none of the processes exists (zombies count as gone); return those left."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_cancel_running_command_job(notebook):
    """Scenario 3: clicking Cancel cancels the job in the kernel and ends its processes."""
    nb = notebook(
        [
            """
            import sys
            from pbrain_widgets.runners.command import CommandRunner
            script = (
                "import os, subprocess, sys, time\\n"
                "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\\n"
                "print('pids', os.getpid(), child.pid, flush=True)\\n"
                "time.sleep(600)\\n"
            )
            engine = Engine(db_path=":memory:", runner=CommandRunner([sys.executable, "-c", script]))
            project = engine.create_project("cancel", pipeline=MINI_PIPELINE)
            (subject,) = engine.add_subjects(project.id, ["sub-01"])
            job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
            """,
            MONITOR_CELL,
        ]
    )
    line = nb.kernel.wait_until("[e.message for e in engine.get_logs(job.id) if e.message.startswith('pids')]")
    pids = [int(p) for p in line[0].split()[1:]]
    assert all(psutil.pid_exists(pid) for pid in pids)
    monitor = job_monitor(nb.page)
    job_id = nb.kernel.value("job.id")
    expect(card(monitor, job_id)).to_have_class(re.compile(r"\bpw-card-running\b"))

    monitor.get_by_role("button", name="Cancel Import & Index for sub-01").click()

    assert nb.kernel.wait_until("engine.get_job(job.id).status.value == 'cancelled'")
    expect(card(monitor, job_id)).to_have_class(re.compile(r"\bpw-card-cancelled\b"))
    assert wait_gone(pids) == [], f"processes of the cancelled job still run: {pids}"


def test_retry_failed_job(notebook):
    """Scenario 4: clicking Retry runs a new attempt, which completes; its card shows the attempt."""
    nb = notebook(
        [
            """
            engine = Engine(db_path=":memory:", runner=ScriptedRunner({"sub-01": "flaky"}))
            project = engine.create_project("retry", pipeline=MINI_PIPELINE)
            (subject,) = engine.add_subjects(project.id, ["sub-01"])
            first = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
            """,
            MONITOR_CELL,
        ]
    )
    monitor = job_monitor(nb.page)
    first_id = nb.kernel.value("first.id")
    expect(card(monitor, first_id)).to_have_class(re.compile(r"\bpw-card-failed\b"))
    expect(card(monitor, first_id)).to_contain_text("sub-01 failed at attempt 1")

    card(monitor, first_id).get_by_role("button", name="Retry Import & Index for sub-01").click()

    retry = nb.kernel.wait_until(
        "[j.to_dict() for j in engine.get_jobs(project_id=project.id)"
        " if j.retry_of == first.id and j.status.value == 'completed']"
    )[0]
    assert retry["attempt"] == 2
    new_card = card(monitor, retry["id"])
    expect(new_card).to_have_class(re.compile(r"\bpw-card-completed\b"))
    new_card.get_by_role("button", expanded=False).click()
    details = new_card.locator(".pw-details")
    expect(details.locator("dt", has_text="Attempt").locator("xpath=following-sibling::dd[1]")).to_have_text(
        f"2 (retry of {short_id(first_id)})"
    )
    assert tab_count(monitor, "completed") == 1 and tab_count(monitor, "failed") == 1
