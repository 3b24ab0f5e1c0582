"""Monitors a user can trust at a glance (issue 11): a closed engine, attempts, order, safe runs."""

from __future__ import annotations

import re

from lab_notebook import ARTIFACTS
from playwright.sync_api import expect
from test_browser_dark_theme import change_theme
from widget_dom import dashboard, job_monitor, tab

COLLAPSE_PANELS = "() => { const s = window.jupyterapp.shell; s.collapseLeft(); s.collapseRight(); }"
CLOSED = "The engine was closed — create a new one and re-run this cell"


def test_closed_engine_greys_out_and_disables_actions(notebook):
    """engine.close() in a cell: every view says so, its actions are disabled and its clocks stop."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import JobMonitor, ProjectDashboard
            engine = Engine(db_path=":memory:", runner=ScriptedRunner({"sub-01": "hang"}))
            project = engine.create_project("closing", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, ["sub-01", "sub-02"])
            job = engine.run_stage(project.id, subjects[0].id, "import", run_dependencies=False)
            """,
            "JobMonitor(engine, project.id)",
            "ProjectDashboard(engine, project.id)",
        ]
    )
    monitor = job_monitor(nb.page)
    view = dashboard(nb.page, "closing")
    cancel = monitor.get_by_role("button", name="Cancel Import & Index for sub-01")
    expect(cancel).to_be_enabled()
    expect(view.get_by_role("button", name="Run all · 3 missing")).to_be_enabled()

    nb.kernel.run("engine.close()")  # the beat at the end of this cell tells the views

    for frame in (
        nb.page.locator(".pw-frame").filter(has=monitor),
        nb.page.locator(".pw-frame").filter(has=view),
    ):
        expect(frame).to_have_attribute("data-link", "closed")
        expect(frame.get_by_role("status").first).to_contain_text(CLOSED)
    expect(monitor.get_by_role("button", name="Kill all")).to_be_disabled()
    expect(view.get_by_role("button", name=re.compile(r"^Run all · \d+ missing$"))).to_be_disabled()
    expect(view.get_by_role("button", name="Run 2 missing stages of sub-02")).to_be_disabled()
    stamp = monitor.locator(".pw-job-row .pw-num").first.inner_text()
    nb.page.wait_for_timeout(1200)  # a ticking clock would have moved on by now
    assert monitor.locator(".pw-job-row .pw-num").first.inner_text() == stamp


def test_retried_failures_clear_and_running_jobs_come_first(notebook):
    """Retries leave Failed at 0 with the earlier attempts folded under the newest; the running
    jobs head the default list; an open card stays open and in view when its job ends."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import JobMonitor
            behaviours = {"f-1": "flaky", "f-2": "flaky", "h-1": "hang", "h-2": "hang"}
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(behaviours), max_concurrent=2)
            project = engine.create_project("attempts", pipeline=MINI_PIPELINE)
            names = [*behaviours, *(f"q-{i}" for i in range(10))]
            subjects = {s.name: s for s in engine.add_subjects(project.id, names)}
            def start(name):
                return engine.run_stage(project.id, subjects[name].id, "import", run_dependencies=False)
            flaky = [start("f-1"), start("f-2")]
            await engine.wait(flaky)
            """,
            "JobMonitor(engine, project.id)",
        ]
    )
    monitor = job_monitor(nb.page)
    expect(tab(monitor, "failed").locator(".pw-count")).to_have_text("2")
    for name in ("f-1", "f-2"):
        monitor.get_by_role("button", name=f"Retry Import & Index for {name}").click()
    nb.kernel.wait_until("job_counts(engine, project.id) == {'completed': 2, 'failed': 2}")
    expect(tab(monitor, "failed").locator(".pw-count")).to_have_text("0")
    expect(tab(monitor, "completed").locator(".pw-count")).to_have_text("2")
    expect(tab(monitor, "all").locator(".pw-count")).to_have_text("2")
    expect(monitor.locator(".pw-card")).to_have_count(2)
    first = nb.kernel.value("flaky[0].id")
    newest = monitor.locator(".pw-card", has_text="f-1")
    expect(newest).to_contain_text("attempt 2 — retried after failure")
    expect(newest.get_by_role("button", name="Retry Import & Index for f-1")).to_have_count(0)
    newest.locator(".pw-card-toggle").click()
    expect(newest.get_by_role("list", name="Earlier attempts")).to_contain_text("1: failed")
    expect(
        newest.get_by_role("list", name="Earlier attempts").locator(f'[data-job-id="{first}"]')
    ).to_have_count(1)
    monitor.get_by_role("button", name="All attempts").click()
    expect(monitor.locator(".pw-card")).to_have_count(4)
    superseded = monitor.locator(f'.pw-card[data-job-id="{first}"]')
    expect(superseded).to_contain_text("superseded")
    expect(superseded.get_by_role("button", name="Retry Import & Index for f-1")).to_have_count(0)
    monitor.get_by_role("button", name="All attempts").click()
    expect(monitor.locator(".pw-card")).to_have_count(2)  # the kernel's newest-only listing came
    newest.locator(".pw-card-toggle").click()

    # two jobs that run until cancelled, then ten that queue behind them
    nb.kernel.run("hang = [start('h-1'), start('h-2')]\nqueued = [start(f'q-{i}') for i in range(10)]")
    nb.kernel.wait_until("job_counts(engine, project.id).get('running') == 2")
    expect(tab(monitor, "running").locator(".pw-count")).to_have_text("2")
    expect(monitor.locator(".pw-card").nth(0)).to_have_attribute("data-status", "running")
    expect(monitor.locator(".pw-card").nth(1)).to_have_attribute("data-status", "running")
    expect(monitor.locator(".pw-card").nth(2)).to_have_attribute("data-status", "queued")
    nb.screenshot("retried_failures_clear_and_running_jobs_come_first")

    tab(monitor, "running").click()
    hang = nb.kernel.value("hang[0].id")
    running_card = monitor.locator(f'.pw-card[data-job-id="{hang}"]')
    running_card.locator(".pw-card-toggle").click()
    nb.kernel.run("engine.cancel(hang[0].id)")
    expect(running_card).to_have_attribute("data-status", "cancelled")
    expect(running_card.locator(".pw-card-toggle")).to_have_attribute("aria-expanded", "true")
    expect(running_card).to_be_in_viewport()
    nb.kernel.run("engine.cancel_all(project.id)")


def test_runs_queue_only_missing_stages_and_reruns_ask_first(notebook):
    """Run on a half-done subject's row queues only its missing stages; redoing done stages is
    a separate action that says what it will redo and asks first."""
    nb = notebook(
        [
            """
            from pbrain_widgets import STUDIO_PIPELINE
            from pbrain_widgets.widgets import ProjectDashboard
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(steps=1, step_seconds=0.01))
            project = engine.create_project("safe")
            half, fresh = engine.add_subjects(project.id, ["half", "fresh"])
            done = ["import", "t1_fit", "input_functions", "time_shift"]
            await engine.wait(engine.run_pipeline(project.id, [half.id], done))
            """,
            "ProjectDashboard(engine, project.id)",
        ]
    )
    view = dashboard(nb.page, "safe")
    # the Stages popover closes on Escape and on a click outside it
    stages = view.locator("details.pw-stage-choice")
    stages.locator("summary").click()
    expect(stages.get_by_role("group", name="Stages to run")).to_be_visible()
    nb.page.keyboard.press("Escape")
    expect(stages).not_to_have_attribute("open", "")
    stages.locator("summary").click()
    expect(stages).to_have_attribute("open", "")
    view.locator(".pw-title").click()
    expect(stages).not_to_have_attribute("open", "")
    expect(view.get_by_role("button", name="Run all · 16 missing")).to_be_enabled()
    expect(view.get_by_role("button", name="Run 6 missing stages of half")).to_be_enabled()
    view.get_by_role("checkbox", name="Select half").check()
    bar = view.get_by_role("toolbar", name="Selected cells")
    expect(bar).to_contain_text("10 cells selected")
    bar.get_by_role("button", name="Run · 6", exact=True).click()
    expect(view.get_by_role("status").filter(has_text="Run:")).to_contain_text(
        "6 jobs queued for 6 of the 10 selected cells; 4 were done, queued or running"
    )
    nb.kernel.run("await engine.wait(timeout=60)")
    ran = nb.kernel.value("sorted(j.stage_id for j in engine.get_jobs(subject_id=half.id))")
    assert ran == sorted(nb.kernel.value("[s.id for s in STUDIO_PIPELINE]")), ran  # each stage once
    expect(bar.get_by_role("button", name="Run · 0", exact=True)).to_be_disabled()

    view.get_by_role("button", name="Rerun done…").click()
    confirm = view.get_by_role("alertdialog", name="Confirm rerun of done stages")
    expect(confirm).to_contain_text("Redo 10 done stages of 1 subject?")
    nb.screenshot("runs_queue_only_missing_stages_and_reruns_ask_first")
    confirm.get_by_role("button", name="Keep results").click()
    expect(confirm).to_have_count(0)
    assert nb.kernel.value("len(engine.get_jobs(subject_id=half.id))") == 10


def test_screenshots_light_and_dark_at_600_and_1400_px(notebook):
    """Each monitor, light and dark, 600 and 1400 px wide, in tests/browser/artifacts/; the job
    table's rows stay dense (28 px) and its columns line up with the header."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import ConnectionStatus, JobMonitor, LogStream
            from pbrain_widgets.widgets import ProjectDashboard, SubjectDetail
            behaviours = {"sub-01": "ok", "sub-02": "fail", "sub-03": "hang", "sub-04": "flaky"}
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(behaviours, steps=3), max_concurrent=2)
            project = engine.create_project("shots", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, [*behaviours, "sub-05", "sub-06"])
            jobs = engine.run_pipeline(project.id)
            await asyncio.sleep(1.5)
            """,
            "JobMonitor(engine, project.id)",
            "ProjectDashboard(engine, project.id)",
            "SubjectDetail(engine, subjects[1].id)",
            "LogStream(engine, jobs[0])",
            "ConnectionStatus(engine)",
        ]
    )
    monitor = job_monitor(nb.page)
    dashboard(nb.page, "shots")
    nb.kernel.wait_until("job_counts(engine, project.id).get('running', 0) >= 1")
    rows = monitor.locator(".pw-job-row")
    expect(rows.first).to_be_visible()
    assert rows.first.bounding_box()["height"] <= 28
    header = monitor.locator(".pw-job-head").get_by_role("button", name="Sort by subject")
    cells = [rows.nth(i).locator(":scope > *").nth(2).bounding_box()["x"] for i in range(rows.count())]
    assert all(abs(x - header.bounding_box()["x"]) < 1 for x in cells), cells
    monitor.locator(".pw-card .pw-card-toggle").first.click()
    widgets = {
        "job_monitor": ".pw-monitor",
        "project_dashboard": ".pw-dashboard",
        "subject_detail": ".pw-subject",
        "log_stream": ".pw-logstream",
        "connection_status": ".pw-conn",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        change_theme(nb.page, theme)
        for width in (600, 1400):
            nb.page.set_viewport_size({"width": width, "height": 1000})
            # the notebook alone, as at 600 px a user closes the side panels
            nb.page.evaluate(COLLAPSE_PANELS)
            for name, selector in widgets.items():
                target = nb.page.locator(selector).first
                target.scroll_into_view_if_needed()
                shot = ARTIFACTS / f"{name}-{theme.split()[-1].lower()}-{width}.png"
                target.screenshot(path=str(shot))
    change_theme(nb.page, "JupyterLab Light")
    nb.screenshots.append(ARTIFACTS / "job_monitor-light-1400.png")
    nb.kernel.run("engine.cancel_all()")


def test_log_viewer_pill_filter_search_and_whole_download(notebook, tmp_path):
    """A paused log counts the lines that arrive (N new lines ↓); levels filter, search finds and
    highlights, and Download saves every line of the job, not only the loaded tail."""
    nb = notebook(
        [
            """
            from pbrain_widgets import Runner
            from pbrain_widgets.widgets import LogStream

            class Chatty(Runner):
                def __init__(self):
                    self.more = Gate()

                async def run(self, ctx):
                    for i in range(2500):
                        ctx.info(f"line {i}")
                        if i % 250 == 0:
                            await asyncio.sleep(0)
                    ctx.warning("halfway there")
                    await self.more.wait()
                    for i in range(2500, 2520):
                        ctx.info(f"line {i}")
                        await asyncio.sleep(0.01)

            runner = Chatty()
            engine = Engine(db_path=":memory:", runner=runner)
            project = engine.create_project("logs", pipeline=MINI_PIPELINE)
            (subject,) = engine.add_subjects(project.id, ["sub-01"])
            job = engine.run_stage(project.id, subject.id, "import", run_dependencies=False)
            while not any(e.message == "halfway there" for e in engine.get_logs(job.id, tail=3)):
                await asyncio.sleep(0.05)
            """,
            "LogStream(engine, job)",
        ]
    )
    stream = nb.page.locator(".pw-logstream")
    log = stream.get_by_role("log")
    expect(log).to_contain_text("halfway there")
    log.evaluate("(el) => { el.scrollTop = el.scrollHeight / 2; el.dispatchEvent(new Event('scroll')); }")
    expect(stream.get_by_role("button", name="Follow")).to_have_attribute("aria-pressed", "false")
    nb.kernel.run("runner.more.set()")
    nb.kernel.wait_until("engine.get_job(job.id).status.value == 'completed'")
    pill = stream.get_by_role("button", name=re.compile(r"^\d+ new lines ↓$"))
    expect(pill).to_have_text("21 new lines ↓")  # 20 lines and the engine's last word
    pill.click()
    expect(pill).to_have_count(0)
    expect(log.locator(".pw-line-msg").last).to_contain_text("completed successfully")

    stream.get_by_role("button", name="INFO", exact=True).click()
    expect(log.locator(".pw-lvl-INFO")).to_have_count(0)
    expect(log.locator(".pw-lvl-WARNING")).to_have_count(1)
    stream.get_by_role("button", name="INFO", exact=True).click()

    stream.get_by_role("searchbox", name="Search the log").fill("line 251")
    expect(stream.get_by_role("toolbar").get_by_text("1/10")).to_be_visible()  # 2510..2519
    stream.get_by_role("button", name="Next match").click()
    expect(stream.get_by_role("toolbar").get_by_text("2/10")).to_be_visible()
    expect(log.locator(".pw-line-current mark")).to_have_text("line 251")
    expect(log.locator(".pw-line-current")).to_contain_text("line 2511")

    with nb.page.expect_download() as info:
        stream.get_by_role("button", name="Download").click()
    saved = tmp_path / "log.txt"
    info.value.save_as(saved)
    got = [line.split(maxsplit=3)[3] for line in saved.read_text().splitlines()]
    want = nb.kernel.value("[e.message for e in engine.get_logs(job.id)]")
    assert len(want) > 2500 and got == want
    nb.screenshot("log_viewer_pill_filter_search_and_whole_download")
