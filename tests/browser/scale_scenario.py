"""A cohort at scale in JupyterLab (issue 15): subjects x the studio stages run quickly while a
JobMonitor and a ProjectDashboard watch; what the page went through, measured.

Shared by ``test_browser_scale.py`` (20,000 jobs, generous bounds) and ``bench/browser_scale.py``
(100,000 jobs against a 1,000-job baseline).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass

from lab_notebook import LabNotebook
from page_probes import (
    KernelFrames,
    long_tasks,
    max_count,
    p95,
    record_long_tasks,
    record_max_count,
    record_scroll_frames,
    scroll_frames,
)
from playwright.sync_api import expect
from widget_dom import dashboard, job_monitor, tab

PROJECT = "scale"
# the JobMonitor's scroll container of job cards, and its Completed tab's count
JOB_LIST = '.pw-monitor [role="tabpanel"] [role="list"]'
COMPLETED_COUNT = '.pw-monitor [role="tab"][data-tab="completed"] .pw-count'
# the view's first render (the loading note until its snapshot arrives), then the view
MONITOR_MOUNTED = ".pw-monitor, .pw-loading"

_COUNT_JS = """([target, countSelector, mountSelector]) => {
    // when the JobMonitor first mounted, every value its Completed count showed (Date.now()
    // and performance.now()), and when that count first showed `target`
    const seen = (window.__pbrainCount = {mount: null, full: null, changes: []});
    const scan = () => {
        if (seen.mount === null) {
            const mounted = Array.from(document.querySelectorAll(mountSelector))
                .some((el) => el.matches('.pw-monitor') || el.textContent.startsWith('Loading jobs'));
            if (mounted) seen.mount = performance.now();
        }
        const count = document.querySelector(countSelector);
        const last = seen.changes[seen.changes.length - 1];
        if (!count || (last && last[2] === count.textContent)) return;
        seen.changes.push([Date.now() / 1000, performance.now(), count.textContent]);
        if (count.textContent === target) {
            seen.full = performance.now();
            observer.disconnect();
        }
    };
    const observer = new MutationObserver(scan);
    observer.observe(document, {childList: true, subtree: true, characterData: true});
    scan();
}"""


def scale_cells(
    subjects: int, stages: int, max_concurrent: int = 200, step_seconds: float = 0.1
) -> list[str]:
    """The scenario's notebook cells: ``subjects`` x the first ``stages`` studio stages queued
    behind a closed gate, each job two steps of ``step_seconds``; a JobMonitor; a ProjectDashboard."""
    return [
        f"""
        from pbrain_widgets import STUDIO_PIPELINE
        from pbrain_widgets.widgets import JobMonitor, ProjectDashboard
        runner = ScriptedRunner(steps=2, step_seconds={step_seconds!r}, gated=True)
        engine = Engine(db_path=":memory:", runner=runner, max_concurrent={max_concurrent})
        pipeline = Pipeline(STUDIO_PIPELINE.stages[:{stages}], name="studio-{stages}")
        project = engine.create_project({PROJECT!r}, pipeline=pipeline)
        engine.add_subjects(project.id, [f"sub-{{i:05d}}" for i in range({subjects})])
        jobs = engine.run_pipeline(project.id)
        assert len(jobs) == {subjects * stages}
        """,
        "JobMonitor(engine, project.id)",
        "ProjectDashboard(engine, project.id)",
    ]


@dataclass(frozen=True)
class ScaleRun:
    """What one run showed. Times from the page's clock unless named kernel."""

    jobs: int
    #: from opening the gate to the kernel's last job ending
    kernel_seconds: float
    #: from opening the gate to the Completed count showing every job
    run_ms: float
    #: the long tasks (over 50 ms) of that time, their durations
    long_tasks_ms: list[float]
    #: from the kernel's last job ending to the Completed count showing every job
    lag_seconds: float
    #: what the Completed count showed when the kernel's last job ended
    shown_at_kernel_end: int
    #: each scroll step's time to the frame after its cards (page_probes.scroll_frames)
    scroll_ms: list[float]
    #: the most job cards in the DOM at once
    max_cards: int
    #: after page.reload(): to the Completed count showing every job, from the navigation and
    #: from the JobMonitor's first render (None without a reload)
    reload_from_navigation_ms: float | None
    reload_from_mount_ms: float | None
    #: the largest kernel -> browser websocket frame (the whole session, reload included)
    largest_frame: int
    #: kernel -> browser bytes while the jobs ran, and in the whole session
    run_bytes: int
    total_bytes: int

    @property
    def long_task_share(self) -> float:
        """The long tasks' time over the run's."""
        return sum(self.long_tasks_ms) / self.run_ms

    @property
    def scroll_median(self) -> float:
        return statistics.median(self.scroll_ms) if self.scroll_ms else float("nan")

    @property
    def scroll_p95(self) -> float:
        return p95(self.scroll_ms)


def run_scale(nb: LabNotebook, frames: KernelFrames, reload: bool = True, timeout: float = 600) -> ScaleRun:
    """Open the gate of the notebook's jobs (``scale_cells``, already run) and measure until
    the JobMonitor shows every job completed; then, with ``reload``, reload the page and measure
    until it shows them again. ``frames`` was recorded before the notebook opened. ``timeout``
    bounds the kernel's run; the display gets 30 s more to catch up."""
    page, kernel = nb.page, nb.kernel
    assert kernel is not None
    total: int = kernel.value("len(jobs)")
    monitor = job_monitor(page)
    dashboard(page, PROJECT)
    # every row in the page (the snapshot's rest follows in patches) before the clock starts
    for status, count in kernel.value("job_counts(engine, project.id)").items():
        expect(tab(monitor, status).locator(".pw-count")).to_have_text(str(count), timeout=120_000)
    expect(tab(monitor, "all").locator(".pw-count")).to_have_text(str(total), timeout=30_000)
    page.evaluate(_COUNT_JS, [str(total), COMPLETED_COUNT, MONITOR_MOUNTED])
    record_max_count(page, ".pw-monitor .pw-card")
    record_scroll_frames(page, JOB_LIST)
    since = record_long_tasks(page)
    before_run = len(frames.sizes)
    opened = time.time()

    kernel.run("runner.gate.set()")
    kernel.run(f"await engine.wait(timeout={timeout})", timeout=timeout + 30)

    scrolls = scroll_frames(page)  # the steps taken while the kernel ran
    kernel_end: float = kernel.value("max(j.end_time for j in engine.get_jobs(project_id=project.id))")
    page.wait_for_function("() => window.__pbrainCount.full !== null", timeout=30_000, polling=100)
    count = page.evaluate("() => window.__pbrainCount")
    run_bytes = sum(frames.sizes[before_run:])
    shown_epoch = next(epoch for epoch, _, text in count["changes"] if text == str(total))
    shown_then = [int(text) for epoch, _, text in count["changes"] if epoch <= kernel_end]
    tasks = [t["duration"] for t in long_tasks(page, since) if t["start"] <= count["full"]]
    max_cards = max_count(page)

    from_navigation = from_mount = None
    if reload:
        nb.command("docmanager:save")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        page.add_init_script(f"({_COUNT_JS})({json.dumps([str(total), COMPLETED_COUNT, MONITOR_MOUNTED])})")
        page.reload()
        page.wait_for_function(
            "() => window.__pbrainCount && window.__pbrainCount.full !== null", timeout=120_000, polling=100
        )
        after = page.evaluate("() => window.__pbrainCount")
        from_navigation = after["full"]
        from_mount = after["full"] - after["mount"]
        nb.wait_ready()
    return ScaleRun(
        jobs=total,
        kernel_seconds=kernel_end - opened,
        run_ms=count["full"] - since,
        long_tasks_ms=tasks,
        lag_seconds=shown_epoch - kernel_end,
        shown_at_kernel_end=shown_then[-1] if shown_then else 0,
        scroll_ms=scrolls,
        max_cards=max_cards,
        reload_from_navigation_ms=from_navigation,
        reload_from_mount_ms=from_mount,
        largest_frame=frames.largest,
        run_bytes=run_bytes,
        total_bytes=frames.total,
    )
