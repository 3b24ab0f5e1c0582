"""Cohort operations in JupyterLab (issue 12): batch selection and actions, priority and the
start order, templates from the dashboard, notifications, the history searched, log download."""

from __future__ import annotations

import re

from lab_notebook import ARTIFACTS
from playwright.sync_api import Locator, Page, expect
from test_browser_dark_theme import change_theme, wait_for_theme
from test_browser_trust import COLLAPSE_PANELS
from widget_dom import assert_shown_in_full, card, dashboard, job_monitor, tab

MONITOR_CELL = "from pbrain_widgets.widgets import JobMonitor\nJobMonitor(engine, project.id)"
# a default JupyterLab has no window.jupyterapp (this test server exposes it for other tests)
FORGET_THE_APP = "() => { delete window.jupyterapp; return window.jupyterapp === undefined; }"
FAKE_DESKTOP_NOTIFICATIONS = """() => {
    window.__pbrainDesktop = [];
    window.__pbrainAsked = 0;
    class Recorded {
        constructor(title, options) { window.__pbrainDesktop.push(options.body); }
    }
    Recorded.permission = 'default';
    Recorded.requestPermission = () => {
        window.__pbrainAsked += 1;
        Recorded.permission = 'granted';
        return Promise.resolve('granted');
    };
    window.Notification = Recorded;
}"""


def history_view(page: Page):
    view = page.get_by_role("region", name="Job history")
    expect(view).to_be_visible(timeout=30_000)
    return view


def test_batch_select_shift_range_and_cancel_with_counts(notebook, tmp_path):
    """Checkboxes, a shift-click range and "select all shown": the confirmation counts what the
    action will do, the kernel cancels exactly those jobs; the logs of a selection download."""
    nb = notebook(
        [
            """
            names = [f"sub-{i:02d}" for i in range(1, 7)]
            behaviours = {n: "hang" for n in names}
            behaviours["sub-01"] = "fail"
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(behaviours, steps=1), max_concurrent=2)
            project = engine.create_project("batch", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, names)
            engine.run_pipeline(project.id, stage_ids=["import"])
            """,
            MONITOR_CELL,
        ]
    )
    nb.kernel.wait_until("job_counts(engine, project.id) == {'running': 2, 'queued': 3, 'failed': 1}")
    monitor = job_monitor(nb.page)
    tab(monitor, "queued").click()
    boxes = monitor.get_by_role("checkbox", name=re.compile(r"^Select Import & Index for "))
    expect(boxes).to_have_count(3)
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])  # the range: all three
    expect(monitor.get_by_test_id("selected-count")).to_have_text("3 selected")
    tab(monitor, "all").click()  # another listing: the selection ends (never acts on jobs not shown)
    expect(monitor.get_by_test_id("selected-count")).to_have_count(0)
    monitor.get_by_role("checkbox", name="Select all 6 jobs shown").click()
    expect(monitor.get_by_test_id("selected-count")).to_have_text("6 selected")
    bar = monitor.get_by_role("toolbar", name="Selected jobs")
    bar.get_by_role("button", name="Cancel 5…").click()
    confirm = bar.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Cancel 5 jobs of the 6 selected? 1 is not queued or running.")
    nb.screenshot("batch_select_confirm")

    confirm.get_by_role("button", name="Cancel 5 jobs").click()

    nb.kernel.wait_until("job_counts(engine, project.id) == {'cancelled': 5, 'failed': 1}")
    expect(monitor.get_by_role("status").first).to_contain_text("Cancelled 5 jobs")
    expect(tab(monitor, "cancelled").locator(".pw-count")).to_have_text("5")
    expect(bar).to_have_count(0)  # the selection is cleared

    monitor.get_by_role("checkbox", name="Select Import & Index for sub-01").click()
    monitor.get_by_role("checkbox", name="Select Import & Index for sub-02").click()
    with nb.page.expect_download() as info:
        toolbar = monitor.get_by_role("toolbar", name="Selected jobs")
        toolbar.get_by_role("button", name="Download logs").click()
    saved = tmp_path / "logs.txt"
    info.value.save_as(saved)
    text = saved.read_text()
    assert info.value.suggested_filename == "jobs-logs.txt"
    assert text.count("==== batch_") == 2
    assert "sub-01 failed at attempt 1" in text and "import step 1 for sub-02" in text


def test_priority_moves_change_the_start_order(notebook):
    """Queued jobs show their place in the start order; "Run next" and the arrows move them,
    and the engine starts them in the order shown."""
    nb = notebook(
        [
            """
            names = ["hold", "q-1", "q-2", "q-3"]
            runner = ScriptedRunner({"hold": "hang"}, steps=1)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=1)
            project = engine.create_project("prio", pipeline=MINI_PIPELINE)
            subjects = {s.name: s for s in engine.add_subjects(project.id, names)}
            jobs = {n: engine.run_stage(project.id, subjects[n].id, "import") for n in names}
            """,
            MONITOR_CELL,
        ]
    )
    nb.kernel.wait_until("engine.get_job(jobs['hold'].id).status.value == 'running'")
    ids = nb.kernel.value("{n: j.id for n, j in jobs.items()}")
    monitor = job_monitor(nb.page)
    for place, name in enumerate(["q-1", "q-2", "q-3"], start=1):
        expect(card(monitor, ids[name])).to_contain_text(f"#{place} in queue")

    monitor.get_by_role("button", name="Run Import & Index for q-3 next").click()

    expect(card(monitor, ids["q-3"])).to_contain_text("#1 in queue · priority +1")
    expect(card(monitor, ids["q-1"])).to_contain_text("#2 in queue")
    assert nb.kernel.value("engine.queue_order(project.id)") == [ids["q-3"], ids["q-1"], ids["q-2"]]
    monitor.get_by_role("button", name="Lower the priority of Import & Index for q-1").click()
    expect(card(monitor, ids["q-1"])).to_contain_text("#3 in queue · priority -1")
    queued = monitor.locator('.pw-card[data-status="queued"]')
    expect(queued).to_have_count(3)
    shown = [queued.nth(i).get_attribute("data-job-id") for i in range(3)]
    assert shown == [ids["q-3"], ids["q-2"], ids["q-1"]]

    nb.kernel.run("engine.cancel(jobs['hold'].id)")

    nb.kernel.wait_until("not engine.active_jobs")
    started = nb.kernel.value(
        "[j.id for j in sorted(engine.get_jobs(project_id=project.id, status='completed'),"
        " key=lambda j: j.start_time)]"
    )
    assert started == [ids["q-3"], ids["q-2"], ids["q-1"]]


def test_template_saved_run_and_deleted_from_the_dashboard(notebook):
    """Save the chosen stages of the selected subjects as a template, run it, delete it."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import ProjectDashboard
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(steps=1, step_seconds=0))
            project = engine.create_project("tmpl", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, ["sub-01", "sub-02", "sub-03"])
            ProjectDashboard(engine, project.id)
            """
        ]
    )
    view = dashboard(nb.page, "tmpl")
    view.locator("summary", has_text="Stages (").click()
    view.get_by_role("checkbox", name="T1/M0 Fitting", exact=True).uncheck()
    view.locator("summary", has_text="Stages (").click()
    view.get_by_role("checkbox", name="Select sub-02").click()
    templates = view.locator("details.pw-templates")
    templates.locator("summary").click()
    expect(templates).to_contain_text("No templates yet")
    templates.get_by_role("textbox", name="Template name").fill("imports")
    templates.get_by_role("button", name="Save").click()
    row = templates.locator('[data-template="imports"]')
    expect(row).to_contain_text("Import & Index · 1 subject")
    assert nb.kernel.value("[t.to_dict()['stages'] for t in engine.list_templates()]") == [["import"]]
    assert nb.kernel.value("[t.subjects for t in engine.list_templates()]") == [["sub-02"]]
    nb.screenshot("template_saved_on_the_dashboard")

    row.get_by_role("button", name="Run template imports").click()

    outcome = view.get_by_role("status").first
    expect(outcome).to_contain_text("Template imports: 1 job queued or already active")
    nb.kernel.wait_until("not engine.active_jobs")
    done = nb.kernel.value(
        "[(engine.get_subject(j.subject_id).name, j.stage_id)"
        " for j in engine.get_jobs(project_id=project.id)]"
    )
    assert done == [["sub-02", "import"]]
    row.get_by_role("button", name="Delete template imports").click()
    row.get_by_role("button", name="Delete imports").click()
    expect(templates).to_contain_text("No templates yet")
    assert nb.kernel.value("len(engine.list_templates())") == 0


def notification_centre(page: Page) -> Locator:
    """Open JupyterLab's notification centre with the status bar's bell, as a user does; its list."""
    bell = page.locator(".jp-Notification-Status").get_by_role("button")
    expect(bell).to_have_attribute("title", re.compile(r"^\d+ notifications?$"))
    bell.click()
    centre = page.locator(".jp-Notification-List")
    expect(centre).to_be_visible()
    return centre


def pick_theme(page: Page, theme: str) -> None:
    """Switch the theme from JupyterLab's Settings menu, as a user does."""
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    # Lumino gives a submenu's item no role: found by its label, as the eye finds it
    label = page.locator(".lm-Menu .lm-Menu-itemLabel")
    label.filter(has_text=re.compile(r"^Theme$")).click()
    label.filter(has_text=re.compile(f"^{re.escape(theme)}$")).click()
    wait_for_theme(page, theme)


def test_run_finished_and_failures_notify_once_per_burst(notebook):
    """40 jobs fail at once: one notification names two and counts the rest, with the run's
    summary (or just after it); in the widget, in JupyterLab's notification centre (through the
    labextension's bridge: the page has no window.jupyterapp, as in a default JupyterLab) and,
    once the user opted in with a click, on the desktop."""
    nb = notebook(
        [
            """
            names = [f"s{i:02d}" for i in range(40)]
            runner = ScriptedRunner({n: "fail" for n in names}, steps=1, step_seconds=0, gated=True)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=40)
            project = engine.create_project("notify", pipeline=MINI_PIPELINE)
            engine.add_subjects(project.id, names)
            engine.run_pipeline(project.id, stage_ids=["import"])
            """,
            MONITOR_CELL,
        ]
    )
    monitor = job_monitor(nb.page)
    expect(tab(monitor, "running").locator(".pw-count")).to_have_text("40")
    assert nb.page.evaluate(FORGET_THE_APP)
    # the browser's Notification API, recorded (headless Chromium shows none); permission is
    # asked when the user clicks Desktop alerts
    nb.page.evaluate(FAKE_DESKTOP_NOTIFICATIONS)
    desktop = monitor.get_by_role("button", name="Desktop alerts")
    expect(desktop).to_have_attribute("aria-pressed", "false")
    # the button says the notification centre takes them too (the plugin answered the probe)
    expect(desktop).to_have_attribute("title", re.compile("and so does Jupyter's notification centre"))
    assert nb.page.evaluate("() => window.__pbrainAsked") == 0
    desktop.click()
    expect(desktop).to_have_attribute("aria-pressed", "true")
    assert nb.page.evaluate("() => window.__pbrainAsked") == 1

    nb.kernel.run("runner.gate.set()")

    alerts = monitor.get_by_role("status", name="Notifications")
    burst = re.compile(r"40 jobs failed: Import & Index for s\d\d failed; .* and 38 more")
    expect(alerts).to_contain_text(burst)
    expect(alerts).to_contain_text("Run finished: run_pipeline: 40 jobs, 0 completed, 40 failed")
    # JupyterLab's notification centre (the test server's settings turn on do-not-disturb, so
    # no toast pops up; the centre lists them all the same): the 40 failures are one
    # notification, an error; the run's summary comes with them or in the next patch
    centre = notification_centre(nb.page)
    ours = centre.locator(".jp-Notification-List-Item").filter(has_text="pbrain:")
    expect(ours.filter(has_text="Run finished")).to_have_count(1)
    failures = ours.filter(has_text="40 jobs failed: Import & Index for s")
    expect(failures).to_have_count(1)
    expect(failures.locator(".Toastify__toast--error")).to_have_count(1)
    texts = ours.all_inner_texts()
    assert len(texts) <= 2, texts
    assert sum("failed:" in t for t in texts) == 1, texts
    shown = nb.page.evaluate("() => window.__pbrainDesktop")
    assert 1 <= len(shown) <= 2 and any("40 jobs failed: Import & Index for s" in t for t in shown), shown
    assert nb.page.evaluate("() => window.jupyterapp === undefined")
    ARTIFACTS.mkdir(exist_ok=True)
    monitor.scroll_into_view_if_needed()
    nb.page.screenshot(path=str(ARTIFACTS / "notification_centre-light-1400.png"))
    nb.screenshots.append(ARTIFACTS / "notification_centre-light-1400.png")
    try:
        pick_theme(nb.page, "JupyterLab Dark")
        notification_centre(nb.page)
        expect(ours.filter(has_text="Run finished")).to_have_count(1)
        nb.page.screenshot(path=str(ARTIFACTS / "notification_centre-dark-1400.png"))
    finally:
        nb.page.keyboard.press("Escape")
        pick_theme(nb.page, "JupyterLab Light")


def test_history_plots_search_and_pages(notebook):
    """The history's plots and statistics; a search in the errors finds only the failed jobs'
    rows, the table pages through 120 jobs 50 at a time; CSV download of the matching jobs."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import JobHistory
            names = [f"sub-{i:03d}" for i in range(60)]
            behaviours = {n: "fail" for n in names[:6]}
            runner = ScriptedRunner(behaviours, steps=1, step_seconds=0)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=8)
            project = engine.create_project("hist", pipeline=MINI_PIPELINE)
            engine.add_subjects(project.id, names)
            engine.run_pipeline(project.id)
            await engine.wait(timeout=60)
            JobHistory(engine, project.id)
            """
        ]
    )
    view = history_view(nb.page)
    expect(view.get_by_test_id("history-range")).to_have_text("1\N{EN DASH}50 of 120")
    runs = re.compile(r"^Import & Index: median .*, 54 runs$")
    expect(view.get_by_role("img", name=runs)).to_have_count(1)
    failures = re.compile(r"^Failures over time: 6 root failures and 6 jobs skipped")
    expect(view.get_by_role("img", name=failures)).to_have_count(1)
    groups = view.get_by_role("list", name="Failure groups, largest first")
    expect(groups.locator("li")).to_have_count(1)
    expect(groups).to_contain_text("Import & Index · 6 subjects, 6 skipped")
    view.get_by_role("button", name="Next").click()
    expect(view.get_by_test_id("history-range")).to_have_text("51\N{EN DASH}100 of 120")

    view.get_by_role("searchbox", name="Search the history in errors and logs").fill("failed at attempt")

    expect(view.get_by_test_id("history-range")).to_have_text("1\N{EN DASH}6 of 6")
    rows = view.get_by_role("table", name="Jobs in the history").locator("tbody tr")
    expect(rows).to_have_count(6)
    assert all("failed at attempt 1" in t for t in rows.all_inner_texts())
    with nb.page.expect_download() as info:
        view.get_by_role("button", name="CSV").click()
    lines = info.value.path().read_text().splitlines()
    assert lines[0].startswith("job_id,project_id,project,") and len(lines) == 7
    with nb.page.expect_download() as info:  # the logs of the same six jobs, one text
        view.get_by_role("button", name="Download logs").click()
    headers = [line for line in info.value.path().read_text().splitlines() if line.startswith("==== ")]
    assert info.value.suggested_filename == "history-logs.txt" and len(headers) == 6
    view.get_by_role("searchbox", name="Search the history in errors and logs").fill("no such words anywhere")
    expect(view.get_by_text("No job's error or log holds “no such words anywhere”")).to_be_visible()


def test_cohort_screenshots_light_and_dark_at_600_and_1400_px(notebook):
    """JobHistory, the JobMonitor with a selection and queued jobs, the dashboard's templates:
    light and dark, 600 and 1400 px wide, in tests/browser/artifacts/."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import JobHistory, ProjectDashboard
            behaviours = {f"sub-{i:02d}": ("fail" if i % 4 == 0 else "ok") for i in range(1, 13)}
            behaviours["sub-12"] = "hang"
            runner = ScriptedRunner(behaviours, steps=2, step_seconds=0.01)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=1)
            project = engine.create_project("cohort", pipeline=MINI_PIPELINE)
            engine.add_subjects(project.id, list(behaviours))
            engine.run_pipeline(project.id)
            last = engine.get_subjects(project.id)[-1].id
            while engine.get_jobs(project_id=project.id, status="running")[0].subject_id != last:
                await asyncio.sleep(0.05)
            engine.add_subjects(project.id, ["sub-13", "sub-14", "sub-15"])
            engine.run_pipeline(project.id)
            engine.save_template("nightly", stages=["import"], subjects="sub-1*")
            """,
            MONITOR_CELL,
            "JobHistory(engine, project.id)",
            "ProjectDashboard(engine, project.id)",
        ]
    )
    monitor = job_monitor(nb.page)
    history_view(nb.page)
    view = dashboard(nb.page, "cohort")
    tab(monitor, "queued").click()
    monitor.get_by_role("checkbox", name=re.compile(r"^Select all \d+ jobs shown$")).click()
    view.locator("details.pw-templates summary").click()
    expect(view.locator('[data-template="nightly"]')).to_be_visible()
    widgets = {
        "cohort_monitor": ".pw-monitor",
        "job_history": ".pw-history",
        "dashboard_templates": ".pw-dashboard",
    }
    # the ready queued jobs in start order, with their stage's name (none has a priority here)
    order = nb.kernel.value(
        "[(i, MINI_PIPELINE[engine.get_job(i).stage_id].label) for i in engine.queue_order(project.id)]"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        change_theme(nb.page, theme)
        for width in (600, 1400):
            nb.page.set_viewport_size({"width": width, "height": 1000})
            nb.page.evaluate(COLLAPSE_PANELS)
            for place, (job_id, stage) in enumerate(order, start=1):  # at 1400 px as at 600 px
                assert_shown_in_full(card(monitor, job_id).locator(".pw-stage-name"), stage)
                assert_shown_in_full(
                    card(monitor, job_id).locator(".pw-queue-cell [data-place]"), f"#{place} in queue"
                )
            for name, selector in widgets.items():
                target = nb.page.locator(selector).first
                target.scroll_into_view_if_needed()
                target.screenshot(path=str(ARTIFACTS / f"{name}-{theme.split()[-1].lower()}-{width}.png"))
    change_theme(nb.page, "JupyterLab Light")
    nb.page.set_viewport_size({"width": 1400, "height": 1000})
    nb.screenshots.append(ARTIFACTS / "job_history-light-1400.png")
    nb.kernel.run("engine.cancel_all()")
