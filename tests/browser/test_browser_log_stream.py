"""LogStream (with a JobMonitor) in JupyterLab: live progress, line latency, auto-scroll."""

from __future__ import annotations

from page_probes import (
    ARTIFACT_LATENCY,
    Delays,
    history,
    record_history,
    record_stamped_lines,
    stamped_line_delays,
)
from playwright.sync_api import Locator, Page, expect
from widget_dom import RENDER_TIMEOUT_MS, job_monitor

LINES = 150
STREAM_SETUP = """
from pbrain_widgets.widgets import JobMonitor, LogStream
runner = StampedRunner(lines={lines}, interval={interval})
engine = Engine(db_path=":memory:", runner=runner)
project = engine.create_project("stream", pipeline=MINI_PIPELINE)
(subject,) = engine.add_subjects(project.id, ["sub-01"])
job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
"""


def log_stream(page: Page) -> Locator:
    """The LogStream view's scrolling log."""
    stream = page.locator(".pw-logstream")
    expect(stream).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    return stream.get_by_role("log")


def test_live_progress_steps_and_log_latency(notebook, report_figure):
    """Scenario 2: progress and step advance in the monitor, lines appear in the LogStream;
    the delay from the kernel emitting a line to the line being in the DOM is measured."""
    nb = notebook(
        [
            STREAM_SETUP.format(lines=LINES, interval=0.02),
            "JobMonitor(engine, project.id)",
            "LogStream(engine, job)",
        ]
    )
    job_monitor(nb.page)
    expect(log_stream(nb.page)).to_contain_text("Starting Import & Index for subject sub-01")
    record_stamped_lines(nb.page, ".pw-logstream")
    record_history(nb.page, "progress", '.pw-monitor [role="progressbar"]', "aria-valuenow")
    record_history(nb.page, "step", ".pw-monitor .pw-progress-cell .pw-step")

    nb.kernel.run("runner.gate.set()")

    nb.page.wait_for_function(
        f"() => Object.keys(window.__pbrainLineDelay).length >= {LINES}", timeout=30_000
    )
    nb.kernel.wait_until("engine.get_job(job.id).status.value == 'completed'")
    delays = stamped_line_delays(nb.page)
    assert sorted(delays) == list(range(LINES))
    stats = Delays(list(delays.values()))
    report_figure(stats.summary())
    ARTIFACT_LATENCY.parent.mkdir(exist_ok=True)
    ARTIFACT_LATENCY.write_text(stats.summary() + "\n")
    # the target (median <= 30 ms, issue 15) is a figure, reported above; this bound catches lines
    # that wait for the job's end or for a cell instead of streaming
    assert stats.median <= 1.0, stats.summary()

    progress = [int(v) for v in history(nb.page, "progress")["Import & Index for sub-01"]]
    assert len(progress) >= 5 and progress == sorted(progress), progress
    steps = [s for s in history(nb.page, "step")[""] if s.startswith("Block")]
    assert steps[:3] == ["Block 1", "Block 2", "Block 3"], steps
    expect(log_stream(nb.page).locator(".pw-line-msg").last).to_contain_text("completed successfully")


def test_auto_scroll_follows_unless_scrolled_up(notebook):
    """Scenario 11: the LogStream follows new lines; scrolled up it stays; at the bottom it follows again."""
    setup = STREAM_SETUP.format(lines=100_000, interval=0.03)
    nb = notebook([setup, "runner.gate.set()", "LogStream(engine, job)"])
    log = log_stream(nb.page).element_handle()
    at_bottom = "(el) => el.scrollHeight - el.scrollTop - el.clientHeight <= 4"
    # ten more lines (18 px each) than when the scroll height was h
    grown = "([el, h]) => el.scrollHeight >= h + 10 * 18"
    nb.page.wait_for_function("(el) => el.scrollHeight > 3 * el.clientHeight", arg=log)
    height = log.evaluate("(el) => el.scrollHeight")
    nb.page.wait_for_function(f"(a) => ({grown})(a) && ({at_bottom})(a[0])", arg=[log, height])

    log.hover()
    nb.page.mouse.wheel(0, -200)
    nb.page.wait_for_function(f"(el) => !({at_bottom})(el)", arg=log)
    top = log.evaluate("(el) => el.scrollTop")
    height = log.evaluate("(el) => el.scrollHeight")
    nb.page.wait_for_function(grown, arg=[log, height])
    assert log.evaluate("(el) => el.scrollTop") == top, "the view moved while the reader was scrolled up"

    nb.page.mouse.wheel(0, 1_000_000)
    nb.page.wait_for_function(at_bottom, arg=log)
    height = log.evaluate("(el) => el.scrollHeight")
    nb.page.wait_for_function(f"(a) => ({grown})(a) && ({at_bottom})(a[0])", arg=[log, height])
    nb.kernel.run("engine.cancel(job.id)")
