"""JobMonitor in JupyterLab: cancel, retry, filter tabs, expanded cards, bursts, scale."""

from __future__ import annotations

import itertools
import re
import time

import psutil
from page_probes import long_tasks, max_count, record_long_tasks, record_max_count
from playwright.sync_api import expect
from test_browser_trust import COLLAPSE_PANELS
from widget_dom import (
    all_cards,
    assert_shown_in_full,
    card,
    detail,
    job_monitor,
    next_frame,
    rendered_cards,
    short_id,
    tab,
    tab_count,
)

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
    line = nb.kernel.wait_until("[e.message for e in engine.get_logs(job.id) if e.message[:4] == 'pids']")
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
    expect(detail(new_card, "Attempt")).to_have_text(f"2 (retry of {short_id(first_id)})")
    # only the newest attempt counts: the failure was retried away
    assert tab_count(monitor, "completed") == 1 and tab_count(monitor, "failed") == 0


def test_filter_tabs_match_kernel(notebook):
    """Scenario 5: each tab shows exactly the jobs of its status; the counts match the kernel's."""
    nb = notebook(
        [
            """
            behaviours = {"ok-1": "ok", "ok-2": "ok", "bad-1": "fail"}
            behaviours.update({f"hang-{i}": "hang" for i in range(1, 5)})
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(behaviours), max_concurrent=2)
            project = engine.create_project("tabs", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, list(behaviours))
            jobs = {s.name: engine.run_stage(project.id, s.id, "import") for s in subjects}
            engine.cancel(jobs["hang-4"].id)
            """,
            MONITOR_CELL,
        ]
    )
    expected = {"completed": 2, "failed": 1, "running": 2, "queued": 1, "cancelled": 1}
    nb.kernel.wait_until(f"job_counts(engine, project.id) == {expected!r}")
    ids = nb.kernel.value("job_ids_by_status(engine, project.id)")
    monitor = job_monitor(nb.page)
    for key in ["all", *expected]:
        want = sorted(short_id(i) for status, group in ids.items() for i in group if key in ("all", status))
        tab(monitor, key).click()
        expect(tab(monitor, key)).to_have_attribute("aria-selected", "true")
        expect(tab(monitor, key).locator(".pw-count")).to_have_text(str(len(want)))
        if key != "all":  # the counts come before the tab's window: its rows replace the last tab's
            expect(monitor.locator(f".pw-card:not(.pw-card-{key})")).to_have_count(0)
        cards = all_cards(monitor)
        assert sorted(c.short_id for c in cards) == want, f"tab {key}"
        assert key == "all" or {c.status for c in cards} == {key}
    stats = dict(
        zip(
            monitor.locator(".pw-stat-label").all_inner_texts(),
            monitor.locator(".pw-stat-value").all_inner_texts(),
            strict=True,
        )
    )
    assert {k.lower(): int(v) for k, v in stats.items()} == expected


def test_expanded_card_shows_details_and_earlier_logs(notebook):
    """Scenario 6: expanding a card shows its details and every log line, including earlier ones."""
    nb = notebook(
        [
            """
            engine = Engine(db_path=":memory:", runner=ScriptedRunner({"sub-01": "hang"}, steps=6))
            project = engine.create_project("expand", pipeline=MINI_PIPELINE)
            (subject,) = engine.add_subjects(project.id, ["sub-01"])
            job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
            """,
            MONITOR_CELL,
        ]
    )
    nb.kernel.wait_until("engine.get_job(job.id).current_step == 'Hanging until cancelled'")
    job = nb.kernel.value("engine.get_job(job.id).to_dict()")
    logged = nb.kernel.value("[e.message for e in engine.get_logs(job.id)]")
    assert sum("step" in line for line in logged) == 6
    monitor = job_monitor(nb.page)
    job_card = card(monitor, job["id"])
    expect(job_card.locator(".pw-card-details")).to_have_count(0)

    job_card.get_by_role("button", expanded=False).click()

    field = {
        "Job": job["id"],
        "Stage": "Import & Index (import)",
        "Subject": "sub-01",
        "Attempt": "1",
        "Log file": job["log_path"],
    }
    for name, value in field.items():
        expect(detail(job_card, name)).to_have_text(value)
    log = job_card.get_by_role("log", name="Log of Import & Index for sub-01")
    expect(log.locator(".pw-line")).to_have_count(len(logged))
    assert log.locator(".pw-line-msg").all_inner_texts() == logged


def test_many_jobs_ending_at_once(notebook):
    """Scenario 7: 40 jobs end together: no stale, missing or duplicated cards; counts match."""
    nb = notebook(
        [
            """
            names = [f"s{i:02d}" for i in range(40)]
            runner = ScriptedRunner({n: "fail" for n in names[::2]}, steps=1, step_seconds=0, gated=True)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=40)
            project = engine.create_project("burst", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, names)
            engine.run_pipeline(project.id, stage_ids=["import"])
            """,
            MONITOR_CELL,
        ]
    )
    monitor = job_monitor(nb.page)
    expect(tab(monitor, "running").locator(".pw-count")).to_have_text("40")

    nb.kernel.run("runner.gate.set()")

    nb.kernel.wait_until("not engine.active_jobs")
    ids = nb.kernel.value("job_ids_by_status(engine, project.id)")
    assert {k: len(v) for k, v in ids.items()} == {"completed": 20, "failed": 20}
    for key in ("completed", "failed"):
        expect(tab(monitor, key).locator(".pw-count")).to_have_text("20")
    for key in ("running", "queued"):
        expect(tab(monitor, key).locator(".pw-count")).to_have_text("0")
    cards = all_cards(monitor)
    kernel_status = {short_id(i): status for status, group in ids.items() for i in group}
    assert {c.short_id: c.status for c in cards} == kernel_status
    assert len(cards) == 40


def test_two_thousand_jobs_stay_responsive(notebook, report_figure):
    """Scenario 13: 2,000 jobs: no long task over 200 ms while updates flow; few cards in the DOM."""
    nb = notebook(
        [
            """
            runner = ScriptedRunner(steps=3, step_seconds=0.1, gated=True)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=100)
            project = engine.create_project("scale", pipeline=MINI_PIPELINE)
            engine.add_subjects(project.id, [f"sub-{i:04d}" for i in range(1000)])
            jobs = engine.run_pipeline(project.id)
            assert len(jobs) == 2000
            """,
            MONITOR_CELL,
        ]
    )
    monitor = job_monitor(nb.page)
    expect(tab(monitor, "all").locator(".pw-count")).to_have_text("2000")
    since = record_long_tasks(nb.page)
    record_max_count(nb.page, ".pw-card")
    started = time.monotonic()

    nb.kernel.run("runner.gate.set()")

    expect(tab(monitor, "completed").locator(".pw-count")).to_have_text("2000", timeout=90_000)
    flow_seconds = time.monotonic() - started
    tasks = long_tasks(nb.page, since)
    max_cards = max_count(nb.page)
    worst = max((t["duration"] for t in tasks), default=0)
    report_figure(
        f"2,000 jobs: updates flowed {flow_seconds:.1f} s; {len(tasks)} long tasks, "
        f"longest {worst:.0f} ms; at most {max_cards} job cards in the DOM"
    )
    # a figure above; this bound catches a list that renders every card (seconds per update)
    assert worst <= 1000, f"long tasks over 1 s while updates flowed: {tasks}"
    # the probe itself works: a 250 ms task (a timer callback, as a message handler would be) is seen
    nb.page.evaluate(
        "() => setTimeout(() => { const end = performance.now() + 250; while (performance.now() < end); })"
    )
    nb.page.wait_for_function(
        "(since) => window.__pbrainLongTasks.some((t) => t.start >= since && t.duration >= 250)", arg=since
    )
    assert 0 < max_cards < 200
    assert len(rendered_cards(monitor)) < 200


def test_at_600_px_stage_names_and_queue_places_read_in_full(notebook):
    """In a 600 px window each job takes two lines: the longest p-brain stage name and a queued
    job's place in the queue (with its priority) read in full, an attempt note gives way first;
    the list's rows stack without overlap, open from the keyboard, and are one line again at
    1400 px."""
    nb = notebook(
        [
            """
            names = ["flaky", "hold", "q-1", "q-2", "q-3"]
            runner = ScriptedRunner({"flaky": "fail", "hold": "hang"}, steps=1, step_seconds=0)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=1)
            pipeline = Pipeline([Stage("modelling", "Pharmacokinetic Modelling")], name="long names")
            project = engine.create_project("narrow", pipeline=pipeline)
            subjects = {s.name: s for s in engine.add_subjects(project.id, names)}
            jobs = {n: engine.run_stage(project.id, subjects[n].id, "modelling") for n in names}
            while engine.get_job(jobs["hold"].id).status.value != "running":
                await asyncio.sleep(0.05)
            jobs["flaky"] = engine.retry(jobs["flaky"].id)
            """,
            MONITOR_CELL,
        ]
    )
    ids = nb.kernel.value("{n: j.id for n, j in jobs.items()}")
    monitor = job_monitor(nb.page)
    nb.page.set_viewport_size({"width": 600, "height": 1000})
    nb.page.evaluate(COLLAPSE_PANELS)
    tab(monitor, "queued").click()

    monitor.get_by_role("button", name="Run Pharmacokinetic Modelling for q-3 next").click()

    expect(card(monitor, ids["q-3"])).to_contain_text("#1 in queue · priority +1")
    assert nb.kernel.value("engine.queue_order(project.id)") == [
        ids[n] for n in ("q-3", "q-1", "q-2", "flaky")
    ]
    places = {
        "q-3": "#1 in queue · priority +1",
        "q-1": "#2 in queue",
        "q-2": "#3 in queue",
        "flaky": "#4 in queue",
    }
    for name, place in places.items():
        row = card(monitor, ids[name])
        assert_shown_in_full(row.locator(".pw-stage-name"), "Pharmacokinetic Modelling")
        assert_shown_in_full(row.locator(".pw-queue-cell [data-place]"), place)
        assert_shown_in_full(row.locator(".pw-col-subject"), name)
    expect(card(monitor, ids["flaky"]).locator(".pw-attempt-note")).to_have_text(
        "· attempt 2 — retried after failure"
    )
    nb.screenshot("job_monitor_queue_at_600_px")

    def tops() -> list[tuple[float, float]]:
        boxes = [c.bounding_box() for c in monitor.locator(".pw-card").all()]
        return [(b["y"], b["height"]) for b in boxes]

    def stacked() -> None:
        shown = tops()
        assert all(abs(y + h - after) < 1 for (y, h), (after, _) in itertools.pairwise(shown)), shown

    rows = monitor.locator(".pw-card")
    expect(rows).to_have_count(4)
    stacked()
    two_lines = rows.first.bounding_box()["height"]
    assert two_lines >= 36, two_lines  # room for two lines of text
    assert rows.first.evaluate("(r) => r.querySelector('.pw-job-row').scrollHeight <= r.clientHeight")
    toggle = card(monitor, ids["q-3"]).get_by_role(
        "button", name="Details of Pharmacokinetic Modelling for q-3"
    )
    toggle.focus()
    nb.page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    queue = card(monitor, ids["q-3"]).locator(".pw-details dt", has_text=re.compile("^Queue$"))
    expect(queue.locator("xpath=following-sibling::dd[1]")).to_have_text("#1 in queue · priority +1")
    next_frame(nb.page)
    stacked()  # the open card's height counts its two-line row
    nb.page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    nb.page.set_viewport_size({"width": 1400, "height": 1000})

    nb.page.wait_for_function(
        "(el) => el.getBoundingClientRect().height <= 28", arg=rows.first.element_handle(), timeout=10_000
    )
    next_frame(nb.page)
    stacked()
    assert_shown_in_full(card(monitor, ids["q-3"]).locator(".pw-queue-cell [data-place]"), places["q-3"])
    nb.kernel.run("engine.cancel_all()")
