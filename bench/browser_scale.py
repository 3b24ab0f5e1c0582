"""The cohort at scale in the browser (issue 15): 100,000 jobs in JupyterLab against 1,000.

``--subjects`` x the first ``--stages`` studio stages (default 10,000 x 10) run quickly (two steps
of ``--step-seconds`` each, ``--max-concurrent`` at once) while a JobMonitor and a ProjectDashboard
watch them in a notebook in headless Chromium, the JobMonitor's list scrolled three of its
heights every 0.5 s; then the page reloads. A 100-subject run (1,000 jobs) in the same session is
the baseline. The JupyterLab server, Chromium and the scenario are the browser tests' own
(``tests/browser``: ``lab_server.py``, ``lab_browser.py``, ``scale_scenario.py``). Prints, for both
and as a ratio, with the issue's targets: long tasks over the run's time, the longest, the
display's lag behind the kernel at the end, scroll frames, reload to the full count, the largest
kernel -> browser message and the bytes.

    python bench/browser_scale.py [--subjects 10000] [--stages 10] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "browser"))

from lab_browser import launch_chromium
from lab_notebook import RUNNERS_CELL, LabNotebook
from lab_server import LabServer, free_port
from page_probes import record_kernel_frames
from playwright.sync_api import BrowserContext, sync_playwright
from scale_scenario import ScaleRun, run_scale, scale_cells

BASELINE_SUBJECTS = 100


def measure(server: LabServer, context: BrowserContext, subjects: int, args: argparse.Namespace) -> ScaleRun:
    """One run in a new tab and a new kernel."""
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    frames = record_kernel_frames(page)
    cells = scale_cells(subjects, args.stages, args.max_concurrent, args.step_seconds)
    nb = LabNotebook(server, page, f"browser_scale_{subjects}", cells, preamble=[RUNNERS_CELL])
    try:
        nb.open()
        nb.run_all()
        return run_scale(nb, frames, timeout=args.timeout)
    finally:
        nb.close()
        page.close()


# figure name, how it is read from a run, its unit's format, the target (None: a figure only)
Row = tuple[str, Callable[[ScaleRun], float], str, float | None]
ROWS: list[Row] = [
    ("kernel: gate open -> last job ended (s)", lambda r: r.kernel_seconds, "{:.1f}", None),
    ("long tasks / run time (%)", lambda r: 100 * r.long_task_share, "{:.0f}", 10),
    ("longest long task (ms)", lambda r: max(r.long_tasks_ms, default=0), "{:.0f}", None),
    ("display lag at the end (s)", lambda r: r.lag_seconds, "{:.2f}", 1),
    (
        "completed shown at the kernel's end (%)",
        lambda r: 100 * r.shown_at_kernel_end / r.jobs,
        "{:.1f}",
        None,
    ),
    ("scroll frame, median (ms)", lambda r: r.scroll_median, "{:.0f}", None),
    ("scroll frame, p95 (ms)", lambda r: r.scroll_p95, "{:.0f}", 50),
    (
        "reload -> full count, from navigation (ms)",
        lambda r: r.reload_from_navigation_ms or 0,
        "{:.0f}",
        None,
    ),
    ("reload -> full count, from mounting (ms)", lambda r: r.reload_from_mount_ms or 0, "{:.0f}", 1000),
    ("largest kernel -> browser message (kB)", lambda r: r.largest_frame / 1e3, "{:.0f}", 1000),
    ("kernel -> browser bytes during the run (MB)", lambda r: r.run_bytes / 1e6, "{:.1f}", None),
    ("kernel -> browser bytes, whole session (MB)", lambda r: r.total_bytes / 1e6, "{:.1f}", None),
    ("most job cards in the DOM", lambda r: r.max_cards, "{:.0f}", None),
]


def print_table(run: ScaleRun, baseline: ScaleRun) -> None:
    """A Markdown table: each figure, the baseline's, the ratio, the target and whether it is met."""
    print(f"| figure | {run.jobs:,} jobs | {baseline.jobs:,} jobs | ratio | target | |")
    print("|---|---|---|---|---|---|")
    for name, read, fmt, target in ROWS:
        value, base = read(run), read(baseline)
        ratio = f"{value / base:.2f}" if base else "-"
        verdict = "-" if target is None else ("met" if value <= target else "**missed**")
        goal = "-" if target is None else f"<= {target:g}"
        print(f"| {name} | {fmt.format(value)} | {fmt.format(base)} | {ratio} | {goal} | {verdict} |")
    print(
        f"scroll steps: {len(run.scroll_ms)} and {len(baseline.scroll_ms)}; completed shown when the kernel "
        f"finished: {run.shown_at_kernel_end:,} of {run.jobs:,} and {baseline.shown_at_kernel_end:,} of "
        f"{baseline.jobs:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--stages", type=int, default=10, choices=range(1, 11), metavar="1..10")
    parser.add_argument("--quick", action="store_true", help="2,000 subjects (20,000 jobs at 10 stages)")
    parser.add_argument("--max-concurrent", type=int, default=200)
    parser.add_argument("--step-seconds", type=float, default=0.1, help="each job's two steps")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the kernel's run")
    args = parser.parse_args()
    subjects = 2_000 if args.quick else args.subjects
    base = Path(tempfile.mkdtemp(prefix="browser_scale_"))
    server = LabServer(base=base / "lab", port=free_port())
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    server.start()
    try:
        with sync_playwright() as playwright:
            context = launch_chromium(playwright, base / "chromium-profile")
            try:
                baseline = measure(server, context, BASELINE_SUBJECTS, args)
                print(f"baseline done: {baseline.jobs:,} jobs", flush=True)
                run = measure(server, context, subjects, args)
            finally:
                context.close()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{args.stages} stages, {args.max_concurrent} jobs at once, two steps of {args.step_seconds:g} s "
        "each; a run's time: gate open -> the JobMonitor's Completed count showing every job"
    )
    print_table(run, baseline)


if __name__ == "__main__":
    main()
