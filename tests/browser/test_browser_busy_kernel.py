"""A notebook cell that blocks the kernel's main thread for 10 s: the monitor stays live."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from widget_dom import RENDER_TIMEOUT_MS, card, connection_status, job_monitor

_CHANGES_JS = """() => {
    // browser time (ms) of every change inside the JobMonitor
    const times = (window.__pbrainMonitorChanges = []);
    const root = document.querySelector('.pw-monitor');
    new MutationObserver(() => times.push(Date.now())).observe(root, {
        childList: true, subtree: true, characterData: true, attributes: true,
    });
}"""


def test_monitor_and_cancel_stay_live_while_a_cell_blocks(notebook, report_figure):
    """Issue 9: during a 10 s blocking cell, the JobMonitor's DOM changes every second, a
    Cancel click stops its job within 2 s, and ConnectionStatus says busy, not disconnected."""
    nb = notebook(
        [
            """
            import asyncio, time
            from pbrain_widgets.widgets import ConnectionStatus, JobMonitor

            class Busy(Runner):
                async def run(self, ctx: JobContext) -> None:
                    for i in range(2000):
                        ctx.progress(i / 20, f"Block {i}")
                        ctx.info(f"tick {i}")
                        await asyncio.sleep(0.05)

            engine = Engine(db_path=":memory:", runner=Busy(), max_concurrent=2)
            project = engine.create_project("busy", pipeline=Pipeline([Stage("work", "Work")]))
            keep, stop = engine.add_subjects(project.id, ["sub-01", "sub-02"])
            jobs = engine.run_pipeline(project.id)
            """,
            "JobMonitor(engine, project.id)",
            "ConnectionStatus(engine)",
        ]
    )
    monitor = job_monitor(nb.page)
    status = connection_status(nb.page)
    stop_id = nb.kernel.value("jobs[1].id")
    running = re.compile(r"\bpw-card-running\b")
    expect(card(monitor, stop_id)).to_have_class(running, timeout=RENDER_TIMEOUT_MS)
    expect(status).to_have_text(re.compile("Connected"), timeout=RENDER_TIMEOUT_MS)
    nb.page.evaluate(_CHANGES_JS)

    # the kernel's main thread sleeps for 10 s (the driver's request waits behind it)
    nb.kernel.client.execute("time.sleep(10)")
    started = time.time()
    expect(status).to_have_text(re.compile("Kernel busy"), timeout=3_000)
    nb.page.wait_for_timeout(3_000)
    clicked = time.time()
    monitor.get_by_role("button", name="Cancel Work for sub-02").click()
    expect(card(monitor, stop_id)).to_have_class(re.compile(r"\bpw-card-cancelled\b"), timeout=2_000)
    shown = time.time() - clicked
    assert time.time() - started < 9.5, "the check must end while the cell still blocks"
    states = nb.page.evaluate("() => document.querySelector('.pw-conn').dataset.state")
    assert states == "busy"
    nb.page.wait_for_timeout(max(0, (started + 9.5 - time.time()) * 1000))
    changes = [t / 1000 for t in nb.page.evaluate("() => window.__pbrainMonitorChanges")]
    seconds = {int(t - started) for t in changes if started <= t < started + 9}
    quiet = set(range(9)) - seconds
    assert not quiet, f"seconds of the blocking cell without a change: {quiet}"
    expect(status).to_have_text(re.compile("Connected"), timeout=10_000)  # the cell ended

    job = nb.kernel.value("engine.get_job(jobs[1].id).to_dict()")
    assert job["status"] == "cancelled" and job["end_time"] - clicked < 2.0
    assert nb.kernel.value("engine.get_job(jobs[0].id).status.value") == "running"
    report_figure(
        f"blocking 10 s cell: {len(changes)} monitor changes, Cancel shown after {shown:.2f} s, "
        f"ended in the kernel {job['end_time'] - clicked:.2f} s after the click"
    )
    nb.kernel.run("engine.close()")
