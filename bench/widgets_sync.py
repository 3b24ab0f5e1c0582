"""What the widgets send to the browser, beside the naive baselines, measured in real kernels.

Each scenario runs as one cell in a fresh IPython kernel (like ../shared/tools/iopub_meter.py);
the script counts every iopub message but ``status`` and its size (JSON content + buffers), per
second. Scenarios:

- widgets: 500 jobs (50 subjects x 10 stages), 50 running, each writing 20 log lines and 20
  progress updates a second; all five widgets displayed; JobMonitor watches two expanded jobs,
  the dashboard has a subject open, SubjectDetail watches a job, LogStream follows a running job.
- tqdm: 50 ``tqdm.notebook`` bars, one per running job, each updated 20 times a second.
- logstream: 3,000 log lines of one job through a displayed LogStream.
- output: the same 3,000 lines through ``ipywidgets.Output.append_stdout``.

Run: ``.venv/bin/python bench/widgets_sync.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import queue
import time
from dataclasses import dataclass

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

engine = Engine(db_path=":memory:", runner=Chatty(seconds=60), max_concurrent=50)
project = engine.create_project("bench")
subjects = engine.add_subjects(project.id, [f"sub-{i:02d}" for i in range(50)])
jobs = engine.run_pipeline(project.id)
running = engine.get_jobs(status="running")
assert len(jobs) == 500 and len(running) == 50
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

    def total(self, kinds: tuple[str, ...] = ("comm_msg",)) -> tuple[int, int]:
        return sum(self.counts[k] for k in kinds), sum(self.sizes[k] for k in kinds)

    @property
    def peak(self) -> int:
        return max(self.per_second.values(), default=0)

    @property
    def mean(self) -> float:
        return sum(self.counts.values()) / self.seconds


DONE = "BENCH-DONE"


def log_line_delays(msg: dict, received: float, delays: list[float]) -> None:
    """For each log line a patch carries: seconds from the engine logging it to its arrival here."""
    data = msg["content"].get("data", {})
    if data.get("method") != "custom" or data["content"].get("kind") != "patch":
        return
    for lines in data["content"]["parts"].get("logs", {}).get("lines", {}).values():
        delays.extend(received - line[1] for line in lines)


def meter(code: str, seconds: float, delays: list[float] | None = None) -> Meter:
    """Run ``code`` as a cell in a new kernel and meter iopub for ``seconds`` from its start, or
    until the cell prints ``DONE``; with ``delays``, collect the log lines' delays."""
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute(f"DONE = {DONE!r}\n" + code)
        counts: collections.Counter = collections.Counter()
        sizes: collections.Counter = collections.Counter()
        per_second: collections.Counter = collections.Counter()
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
            if delays is not None and kind == "comm_msg":
                log_line_delays(msg, time.time(), delays)
            per_second[int(elapsed)] += 1
            if kind == "stream" and DONE in msg["content"].get("text", ""):
                return Meter(counts, sizes, per_second, elapsed)
        return Meter(counts, sizes, per_second, seconds)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def mib(n: float) -> str:
    return f"{n / 2**20:,.2f} MiB" if n >= 2**20 else f"{n / 1024:,.1f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="metering window per rate scenario")
    args = parser.parse_args()

    delays: list[float] = []
    widgets = meter(WIDGETS, args.seconds, delays)
    tqdm = meter(TQDM, args.seconds)
    print(f"\nLoad: 50 running jobs x 20 log lines/s + 20 progress updates/s, {args.seconds:.0f} s window")
    header = f"{'variant':<40} {'msgs/s mean':>12} {'msgs/s peak':>12} {'bytes/s mean':>14}"
    print(f"{header} {'comm_msg bytes/s':>17} {'comm_open':>10}")
    for name, m in (("pbrain widgets (5 widgets, 500 jobs)", widgets), ("tqdm.notebook, 50 bars", tqdm)):
        total_bytes = sum(m.sizes.values())
        print(
            f"{name:<40} {m.mean:>12.1f} {m.peak:>12} {mib(total_bytes / m.seconds) + '/s':>14} "
            f"{mib(m.sizes['comm_msg'] / m.seconds) + '/s':>17} {m.counts['comm_open']:>10}"
        )
    steady = [n for second, n in widgets.per_second.items() if second >= 2]
    print(f"pbrain widgets, steady state (from 2 s on): peak {max(steady, default=0)} msgs/s")
    if delays:
        delays.sort()
        median, p95 = delays[len(delays) // 2], delays[int(len(delays) * 0.95)]
        print(
            f"log line from engine to the wire (kernel side of the latency): median {median * 1000:.0f} ms, "
            f"95th percentile {p95 * 1000:.0f} ms over {len(delays)} lines"
        )

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
