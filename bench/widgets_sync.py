"""What the widgets send to the browser, beside the naive baselines, measured in real kernels.

Each scenario runs as one cell in a fresh IPython kernel (like ../shared/tools/iopub_meter.py);
the script counts every iopub message but ``status`` and its size (JSON content + buffers), per
second. Scenarios:

- widgets: ``--subjects`` x 10 stages (default 400 x 10 = 4,000 jobs), 50 running, each writing
  20 log lines and 20 progress updates a second for ``--job-seconds`` (4), so that jobs end and
  start all the time; all five widgets displayed; JobMonitor watches
  two expanded jobs, the dashboard has a subject open, SubjectDetail watches a job, LogStream
  follows a running job. Prints bytes per second, the bytes of each feed's patches, the largest
  message, and each widget's snapshot (the ``snapshot`` reply a view asks for on render; the
  JobMonitor's view then asks for its window of 60 rows, ``jobs_window``).
- tqdm: 50 ``tqdm.notebook`` bars, one per running job, each updated 20 times a second.
- logstream: 3,000 log lines of one job through a displayed LogStream.
- output: the same 3,000 lines through ``ipywidgets.Output.append_stdout``.

With ``--baseline REF`` the widgets scenario also runs on an earlier commit (checked out into a
temporary git worktree, with this checkout's built front end) in the same run, and the ratios
are printed, with the delay of each log line from the engine to the wire on both sides (the
kernel side of the latency). ``--widgets-only`` skips the tqdm, LogStream and Output scenarios.

Run: ``.venv/bin/python bench/widgets_sync.py [--seconds 10] [--subjects 400] [--baseline REF]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import start_new_kernel

CHATTY_RUNNER = """
import asyncio
from pbrain_widgets import Engine, JobContext, Runner

class Chatty(Runner):
    def __init__(self, seconds, rate=20):
        self.seconds, self.rate = seconds, rate

    async def run(self, ctx: JobContext):
        ticks = int(self.seconds * self.rate)
        for i in range(ticks):
            ctx.progress(100 * i / ticks, f"block {i}")
            ctx.info(f"working on block {i} of {ticks}")
            await asyncio.sleep(1 / self.rate)
"""

WIDGETS = (
    CHATTY_RUNNER
    + """
from IPython.display import display
from pbrain_widgets.widgets import ConnectionStatus, JobMonitor, LogStream, ProjectDashboard, SubjectDetail

engine = Engine(db_path=":memory:", runner=Chatty(seconds=JOB_SECONDS), max_concurrent=50)
project = engine.create_project("bench")
subjects = engine.add_subjects(project.id, [f"sub-{i:03d}" for i in range(SUBJECTS)])
jobs = engine.run_pipeline(project.id)
running = engine.get_jobs(status="running")
assert len(jobs) == 10 * SUBJECTS and len(running) == 50
monitor = JobMonitor(engine, project.id)
dashboard = ProjectDashboard(engine, project.id)
detail = SubjectDetail(engine, subjects[1].id)
widgets = [monitor, LogStream(engine, running[0].id), ConnectionStatus(engine), dashboard, detail]
for w in widgets:
    display(w)

def ask(widget, action, payload):  # what a view's request does
    widget._handle_custom_msg({"kind": "request", "id": "bench:1", "action": action, "payload": payload}, [])

ask(monitor, "watch", {"view": "bench", "job_ids": [running[1].id, running[2].id]})
ask(dashboard, "open_subject", {"subject_id": subjects[3].id})
ask(detail, "watch", {"view": "bench", "job_ids": [running[4].id]})
for w in widgets:  # what a view's snapshot request brings (the reply goes out on iopub)
    ask(w, "snapshot", {})
# the JobMonitor view's window: three screens of rows (an unknown action before it existed)
window = {"view": "bench", "asked": 1, "tab": "all", "history": False, "offset": 0, "count": 60}
ask(monitor, "jobs_window", window | {"pinned": [], "keep": [running[1].id, running[2].id]})
"""
)

TQDM = """
import asyncio
from tqdm.notebook import tqdm

async def job(i):
    bar = tqdm(total=1200, desc=f"job {i}")
    for _ in range(1200):
        bar.update(1)
        await asyncio.sleep(1 / 20)

tasks = [asyncio.get_running_loop().create_task(job(i)) for i in range(50)]
"""

LOGSTREAM = (
    CHATTY_RUNNER
    + """
from IPython.display import display
from pbrain_widgets.widgets import LogStream

engine = Engine(db_path=":memory:", runner=Chatty(seconds=3000 / 200, rate=200))
project = engine.create_project("bench")
(subject,) = engine.add_subjects(project.id, ["sub-01"])
job = engine.run_stage(project.id, subject.id, "import")
display(LogStream(engine, job.id))

def finished(update):
    if update.id == job.id and update.status.is_terminal:  # let the last patch go out first
        asyncio.get_running_loop().call_later(0.5, print, DONE)

engine.on_job_update(finished)
"""
)

OUTPUT = """
import ipywidgets
from IPython.display import display

out = ipywidgets.Output()
display(out)
for i in range(3000):
    out.append_stdout(f"working on block {i} of 3000\\n")
print(DONE)
"""


@dataclass
class Meter:
    counts: collections.Counter
    sizes: collections.Counter
    per_second: collections.Counter
    seconds: float
    parts: collections.Counter = field(default_factory=collections.Counter)
    """Bytes of each feed's patches (JSON of the part), by feed name."""
    snapshots: list[int] = field(default_factory=list)
    """Bytes of each snapshot reply, in the order the widgets were asked."""
    largest: int = 0

    def total(self, kinds: tuple[str, ...] = ("comm_msg",)) -> tuple[int, int]:
        return sum(self.counts[k] for k in kinds), sum(self.sizes[k] for k in kinds)

    @property
    def peak(self) -> int:
        return max(self.per_second.values(), default=0)

    @property
    def mean(self) -> float:
        return sum(self.counts.values()) / self.seconds


DONE = "BENCH-DONE"


def patch_parts(content: dict) -> list[dict]:
    """The ``parts`` of every widget patch a custom message carries: an engine channel's
    ``patches`` (one entry per widget) or, at commits before the channel, a widget's ``patch``."""
    if content.get("kind") == "patches":
        return [patch["parts"] for patch in content["patches"].values()]
    if content.get("kind") == "patch":
        return [content["parts"]]
    return []


def custom_content(msg: dict) -> dict:
    data = msg["content"].get("data", {})
    content = data.get("content") if data.get("method") == "custom" else None
    return content if isinstance(content, dict) else {}


def log_line_delays(msg: dict, received: float, delays: list[float]) -> None:
    """For each log line a patch carries: seconds from the engine logging it to its arrival here."""
    for parts in patch_parts(custom_content(msg)):
        for lines in parts.get("logs", {}).get("lines", {}).values():
            delays.extend(received - line[1] for line in lines)


def measure_parts(msg: dict, size: int, parts: collections.Counter, snapshots: list[int]) -> None:
    """Add a patch's bytes per feed to ``parts``; note a snapshot reply's size in ``snapshots``."""
    content = custom_content(msg)
    for feeds in patch_parts(content):
        for name, part in feeds.items():
            parts[name] += len(json.dumps(part))
    if content.get("kind") == "reply" and {"parts", "rev"} <= set(content.get("result") or ()):
        snapshots.append(size)


def percentiles(delays: list[float]) -> str:
    ordered = sorted(delays)
    if not ordered:
        return "no log lines"
    median, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
    return f"median {median * 1000:.0f} ms, 95th percentile {p95 * 1000:.0f} ms over {len(ordered)} lines"


def load_average() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def meter(
    code: str, seconds: float, delays: list[float] | None = None, pythonpath: str | None = None
) -> Meter:
    """Run ``code`` as a cell in a new kernel and meter iopub for ``seconds`` from its start, or
    until the cell prints ``DONE``; with ``delays``, collect the log lines' delays. With
    ``pythonpath``, the kernel imports pbrain_widgets from there."""
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else dict(os.environ)
    # the kernel puts its working directory first on sys.path: start it in the checkout measured
    cwd = pythonpath or str(Path(__file__).resolve().parent.parent)
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=cwd)
    try:
        kc.execute(f"DONE = {DONE!r}\n" + code)
        counts: collections.Counter = collections.Counter()
        sizes: collections.Counter = collections.Counter()
        per_second: collections.Counter = collections.Counter()
        parts: collections.Counter = collections.Counter()
        snapshots: list[int] = []
        largest = 0
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            try:
                msg = kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            kind = msg["msg_type"]
            if kind == "status":
                continue
            if kind == "error":
                raise RuntimeError(
                    f"the bench cell failed: {msg['content']['ename']}: {msg['content']['evalue']}"
                )
            size = len(json.dumps(msg["content"], default=str)) + sum(
                len(b) for b in msg.get("buffers") or []
            )
            counts[kind] += 1
            sizes[kind] += size
            largest = max(largest, size)
            if kind == "comm_msg":
                if delays is not None:
                    log_line_delays(msg, time.time(), delays)
                measure_parts(msg, size, parts, snapshots)
            per_second[int(elapsed)] += 1
            if kind == "stream" and DONE in msg["content"].get("text", ""):
                return Meter(counts, sizes, per_second, elapsed, parts, snapshots, largest)
        return Meter(counts, sizes, per_second, seconds, parts, snapshots, largest)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def mib(n: float) -> str:
    return f"{n / 2**20:,.2f} MiB" if n >= 2**20 else f"{n / 1024:,.1f} KiB"


def checkout(ref: str, folder: str) -> str:
    """A worktree of ``ref`` in ``folder``, with this checkout's built front end (the kernel
    side refuses to import without it; no browser runs here)."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "--detach", folder, ref], check=True, capture_output=True
    )
    shutil.copytree(
        root / "pbrain_widgets" / "static", Path(folder) / "pbrain_widgets" / "static", dirs_exist_ok=True
    )
    return folder


def report_widgets(name: str, m: Meter) -> float:
    """Print one side's widgets scenario; return its comm bytes per second without snapshots."""
    patch_bytes = m.sizes["comm_msg"] - sum(m.snapshots)
    rate = patch_bytes / m.seconds
    print(f"\n{name}: {m.mean:.1f} msgs/s, comm_msg without snapshot replies {rate / 1000:,.1f} KB/s")
    total = sum(m.parts.values()) or 1
    print(
        "  patch bytes by feed: "
        + ", ".join(
            f"{k} {v / 1000 / m.seconds:,.1f} KB/s ({100 * v / total:.0f} %)"
            for k, v in m.parts.most_common()
        )
    )
    print(f"  snapshot replies (bytes): {', '.join(f'{s / 1000:,.1f} KB' for s in m.snapshots)}")
    print(f"  largest message: {m.largest / 1000:,.1f} KB")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="metering window per rate scenario")
    parser.add_argument(
        "--subjects", type=int, default=400, help="subjects of the widgets scenario (x 10 jobs)"
    )
    parser.add_argument(
        "--job-seconds", type=float, default=4.0, help="run time of each job of the widgets scenario"
    )
    parser.add_argument("--baseline", help="git ref whose widgets run the same scenario in this run")
    parser.add_argument(
        "--widgets-only", action="store_true", help="skip the tqdm, LogStream and Output runs"
    )
    args = parser.parse_args()
    code = f"SUBJECTS = {args.subjects}\nJOB_SECONDS = {args.job_seconds}\n" + WIDGETS

    delays: list[float] = []
    base_delays: list[float] = []
    root = Path(__file__).resolve().parent.parent
    print(f"start: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        if args.baseline:
            path = checkout(args.baseline, f"{tmp}/baseline")
            try:
                base = meter(code, args.seconds, base_delays, pythonpath=path)
            finally:
                subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", path], check=False)
    widgets = meter(code, args.seconds, delays)
    print(f"end: {load_average()}")
    jobs = 10 * args.subjects
    load = "50 running x 20 log lines/s + 20 progress updates/s"
    print(f"\nLoad: {jobs:,} jobs, {load}, {args.seconds:.0f} s window")
    rate = report_widgets("pbrain widgets (5 widgets)", widgets)
    print(f"  log line from engine to the wire: {percentiles(delays)}")
    if base is not None:
        base_rate = report_widgets(f"pbrain widgets at {args.baseline}", base)
        print(f"  log line from engine to the wire: {percentiles(base_delays)}")
        print(f"\nbytes/s: {rate / base_rate:.2f}x the baseline (target: <= 80 KB/s)")
        print(f"messages/s: {widgets.mean / base.mean:.2f}x the baseline (target: <= 1)")
        print(f"largest message: {widgets.largest / base.largest:.2f}x the baseline (target: <= 1 MB)")
        print(
            "JobMonitor snapshot: "
            f"{widgets.snapshots[0] / base.snapshots[0]:.2f}x the baseline (target: < 600 KB for 4,000 jobs)"
        )
    if args.widgets_only:
        return
    tqdm = meter(TQDM, args.seconds)
    print(f"\nLoad: 50 running jobs x 20 log lines/s + 20 progress updates/s, {args.seconds:.0f} s window")
    header = f"{'variant':<40} {'msgs/s mean':>12} {'msgs/s peak':>12} {'bytes/s mean':>14}"
    print(f"{header} {'comm_msg bytes/s':>17} {'comm_open':>10}")
    for name, m in (("pbrain widgets (5 widgets)", widgets), ("tqdm.notebook, 50 bars", tqdm)):
        total_bytes = sum(m.sizes.values())
        print(
            f"{name:<40} {m.mean:>12.1f} {m.peak:>12} {mib(total_bytes / m.seconds) + '/s':>14} "
            f"{mib(m.sizes['comm_msg'] / m.seconds) + '/s':>17} {m.counts['comm_open']:>10}"
        )
    steady = [n for second, n in widgets.per_second.items() if second >= 2]
    print(f"pbrain widgets, steady state (from 2 s on): peak {max(steady, default=0)} msgs/s")

    logstream = meter(LOGSTREAM, 60.0)
    output = meter(OUTPUT, 300.0)
    text = sum(len(f"working on block {i} of 3000\n") for i in range(3000))
    print("\n3,000 log lines (comm_msg traffic only; the text itself is about " + mib(text) + ")")
    print(f"{'variant':<40} {'messages':>10} {'bytes':>14} {'seconds':>8}")
    for name, m in (("LogStream", logstream), ("ipywidgets.Output.append_stdout", output)):
        count, size = m.total()
        print(f"{name:<40} {count:>10} {mib(size):>14} {m.seconds:>8.1f}")


if __name__ == "__main__":
    main()
