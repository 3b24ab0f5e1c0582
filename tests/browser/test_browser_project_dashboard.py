"""ProjectDashboard in JupyterLab: a full pipeline run seen cell by cell."""

from __future__ import annotations

import re

from lab_notebook import ARTIFACTS
from page_probes import history, record_history
from playwright.sync_api import expect
from test_browser_dark_theme import change_theme
from test_browser_trust import COLLAPSE_PANELS
from widget_dom import dashboard

SUBJECTS = ["sub-01", "sub-02", "sub-03"]
STATUS_ORDER = ["not run", "queued", "running", "done"]


def test_full_pipeline_run_from_the_dashboard(notebook):
    """Scenario 1: Run all; every cell goes queued, running, done; the active-jobs badge counts up
    and back to zero."""
    nb = notebook(
        [
            f"""
            from pbrain_widgets import STUDIO_PIPELINE, SimulatedRunner
            from pbrain_widgets.widgets import ProjectDashboard
            engine = Engine(db_path=":memory:", runner=SimulatedRunner(step_seconds=0.1, failure_rate=0))
            project = engine.create_project("cohort")
            subjects = engine.add_subjects(project.id, {SUBJECTS!r})
            """,
            "ProjectDashboard(engine, project.id)",
        ]
    )
    view = dashboard(nb.page, "cohort")
    stages = nb.kernel.value("[s.label for s in STUDIO_PIPELINE]")
    marks = view.get_by_role("grid").locator(".pw-cell [role='img']")
    expect(marks).to_have_count(len(SUBJECTS) * len(stages))
    badge = view.locator(".pw-header .pw-badge", has_text=re.compile(r"active jobs?$"))
    expect(badge).to_have_text("0 active jobs")
    record_history(nb.page, "cells", ".pw-dashboard .pw-cell [role='img']", "aria-label", ": ")
    record_history(nb.page, "badge", ".pw-dashboard .pw-header .pw-badge[title^='running']")

    view.get_by_role("button", name=f"Run all · {len(SUBJECTS) * len(stages)} missing", exact=True).click()

    # the click's request reaches the kernel on its own: wait for its jobs, then for their end
    nb.kernel.wait_until(f"len(engine.get_jobs()) == {len(SUBJECTS) * len(stages)}", timeout=30)
    nb.kernel.run("await engine.wait(timeout=60)")
    statuses = nb.kernel.value(
        "{s.name: {k: v.value for k, v in s.stage_statuses.items()} for s in engine.get_subjects(project.id)}"
    )
    assert all(v == "done" for row in statuses.values() for v in row.values()), statuses
    expect(badge).to_have_text("0 active jobs")
    for subject in SUBJECTS:
        for stage in stages:
            expect(view.get_by_role("img", name=f"{subject}, {stage}: done", exact=True)).to_be_visible()

    cells = history(nb.page, "cells")
    assert len(cells) == len(SUBJECTS) * len(stages)
    for cell, seen in cells.items():
        assert seen[0] == "not run" and seen[-1] == "done", (cell, seen)
        assert "running" in seen, (cell, seen)
        assert [STATUS_ORDER.index(s) for s in seen] == sorted(STATUS_ORDER.index(s) for s in seen), (
            cell,
            seen,
        )
    # the first stage may start in the engine call that queued it; every later one waits its turn
    for subject in SUBJECTS:
        for stage in stages[1:]:
            assert "queued" in cells[f"{subject}, {stage}"], (subject, stage, cells[f"{subject}, {stage}"])
    counts = [int(text.split()[0]) for text in history(nb.page, "badge")[""]]
    peak = counts.index(max(counts))
    assert counts[0] == 0 and counts[-1] == 0 and max(counts) >= len(SUBJECTS), counts
    assert counts[: peak + 1] == sorted(counts[: peak + 1]), f"badge did not count up: {counts}"


COHORT = 210
FAILING = {f"sub-{i:03d}" for i in range(5, COHORT, 40)}  # 6 subjects fail their import
HANGING = {"sub-002", "sub-003"}  # running (at 99 %) until cancelled
STAGE_COUNTS = """{
    stage.id: {
        key: sum(s.stage_statuses[stage.id].value == key for s in engine.get_subjects(project.id))
        for key in ("done", "running", "failed")
    }
    for stage in STUDIO_PIPELINE
}"""


def test_totals_filters_and_a_cell_that_opens_its_latest_job(notebook):
    """210 subjects: the per-stage totals equal the engine's counts, "Failed" and "Incomplete"
    list the right subjects with their counts, running cells show their percent, and a click (or
    Enter) on a cell opens that subject x stage's latest job with its log. Screenshots light and
    dark at 600 and 1400 px, where a cue marks the stages scrolled out of view."""
    behaviours = {name: "fail" for name in FAILING} | {name: "hang" for name in HANGING}
    nb = notebook(
        [
            f"""
            from pbrain_widgets import STUDIO_PIPELINE
            from pbrain_widgets.widgets import ProjectDashboard
            runner = ScriptedRunner({behaviours!r}, steps=1, step_seconds=0.005)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=8)
            project = engine.create_project("cohort of {COHORT}", pipeline=STUDIO_PIPELINE)
            subjects = engine.add_subjects(project.id, [f"sub-{{i:03d}}" for i in range({COHORT})])
            imports = engine.run_pipeline(project.id, stage_ids=["import"])
            fits = engine.run_pipeline(project.id, [s.id for s in subjects[:24]], stage_ids=["t1_fit"])
            ending = [j for j in fits if engine.get_subject(j.subject_id).name not in {HANGING!r}]
            await engine.wait(ending, timeout=90)
            """,
            "ProjectDashboard(engine, project.id)",
        ]
    )
    page = nb.page
    view = dashboard(page, f"cohort of {COHORT}")
    # the hanging imports run on, their t1_fit waits; sub-005's t1_fit failed with its import
    settled = "{'completed': 223, 'failed': 7, 'running': 2, 'queued': 2}"
    nb.kernel.wait_until(f"job_counts(engine, project.id) == {settled}", timeout=60)
    want = nb.kernel.value(STAGE_COUNTS)
    assert want["import"] == {"done": COHORT - 8, "running": 2, "failed": 6}, want
    for stage, counts in want.items():
        total = view.locator(f".pw-stage-total[data-stage-id='{stage}']")
        for key, n in counts.items():
            expect(total).to_have_attribute(f"data-{key}", str(n))
    expect(view.get_by_role("gridcell", name="Import & Index: 202 done, 2 running, 6 failed")).to_be_visible()

    # running cells: the job's whole percent
    running = view.locator(".pw-cell[data-status='running']")
    expect(running).to_have_count(2)
    expect(running.first).to_contain_text("99%")

    # filters, with their counts
    incomplete = nb.kernel.value(
        "sum(any(v.value != 'done' for v in s.stage_statuses.values())"
        " for s in engine.get_subjects(project.id))"
    )
    filters = view.get_by_role("radiogroup", name="Show subjects")
    expect(filters.get_by_role("radio", name=f"All {COHORT}")).to_be_checked()
    expect(filters.get_by_role("radio", name=f"Incomplete {incomplete}")).to_be_visible()
    failed = filters.get_by_role("radio", name=f"Failed {len(FAILING)}")
    failed.click()
    expect(failed).to_be_checked()
    rows = view.get_by_role("grid").locator(".pw-grid-row[aria-rowindex]")
    expect(rows).to_have_count(len(FAILING))
    names = rows.locator("[role='rowheader']").all_inner_texts()
    assert set(names) == FAILING, names

    # a failed cell opens its latest job: the error and the log
    first = sorted(FAILING)[0]
    view.get_by_role("button", name=f"{first}, Import & Index: failed").click()
    detail = view.get_by_role("region", name="Import & Index details")
    expect(detail).to_contain_text(f"{first} failed at attempt 1")
    expect(detail.get_by_role("log")).to_contain_text(f"import step 1 for {first}")
    expect(view.get_by_role("region", name=f"Subject {first}")).to_be_visible()
    by_name = "{s.name: s.id for s in subjects}"
    job_id = nb.kernel.value(f"engine.get_jobs(subject_id={by_name}[{first!r}], stage_id='import')[0].id")
    expect(detail).to_contain_text(job_id[:8])

    # Enter on a running cell (all subjects again) opens that one's live job
    filters.get_by_role("radio", name=f"All {COHORT}").click()
    cell = view.get_by_role("button", name="sub-002, Import & Index: running")
    cell.focus()
    page.keyboard.press("Enter")
    expect(view.get_by_role("region", name="Subject sub-002")).to_be_visible()
    detail = view.get_by_role("region", name="Import & Index details")
    expect(detail).to_contain_text("Hanging until cancelled")
    expect(detail.get_by_role("log")).to_contain_text("import step 1 for sub-002")
    expect(cell).to_have_class(re.compile(r"pw-selected"))

    # screenshots; at 600 px the stages scrolled out of view are marked, the percent not clipped
    page.get_by_role("button", name="Close subject sub-002").click()
    ARTIFACTS.mkdir(exist_ok=True)
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        change_theme(page, theme)
        for width in (600, 1400):
            page.set_viewport_size({"width": width, "height": 900})
            page.evaluate(COLLAPSE_PANELS)
            view.scroll_into_view_if_needed()
            cue = view.get_by_role("button", name="Scroll right to more stages")
            if width == 600:
                expect(cue).to_be_visible()
                pct = running.first.locator(".pw-cell-pct").bounding_box()
                box = running.first.bounding_box()
                assert pct["x"] + pct["width"] <= box["x"] + box["width"] + 0.5, (pct, box)
            else:
                expect(cue).to_have_count(0)
            head = view.locator(".pw-stage-head[data-stage-id='modelling']")
            assert head.evaluate("(el) => el.scrollHeight <= el.clientHeight + 1"), "a stage header is cut"
            shot = f"project_dashboard_cohort-{theme.split()[-1].lower()}-{width}.png"
            view.screenshot(path=str(ARTIFACTS / shot))
    change_theme(page, "JupyterLab Light")
    nb.screenshots.append(ARTIFACTS / "project_dashboard_cohort-light-1400.png")

    # the cue scrolls the stages into view, and the subject column stays put
    page.set_viewport_size({"width": 600, "height": 900})
    grid = view.get_by_role("grid")
    name_x = view.get_by_role("rowheader").first.bounding_box()["x"]
    view.get_by_role("button", name="Scroll right to more stages").click()
    page.wait_for_function("(el) => el.scrollLeft > 0", arg=grid.element_handle())
    assert abs(view.get_by_role("rowheader").first.bounding_box()["x"] - name_x) < 1
    nb.kernel.run("engine.cancel_all()")


def test_select_a_column_a_cell_and_rows_then_run_rerun_and_cancel(notebook):
    """Issue 12 on the dashboard, by keyboard where it can: a stage's column and one more cell
    are selected and run; two rows (shift-click) are cancelled after a confirmation that counts
    them; a rerun of a column says how many done results it redoes and how many go stale
    downstream. The engine's jobs are read from the kernel. Screenshots light and dark at 600 and
    1400 px, where the selection's bar stays usable."""
    nb = notebook(
        [
            """
            from pbrain_widgets import STUDIO_PIPELINE
            from pbrain_widgets.widgets import ProjectDashboard
            runner = ScriptedRunner({"sub-05": "hang"}, steps=1, step_seconds=0.01)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=4)
            project = engine.create_project("batch", pipeline=STUDIO_PIPELINE)
            subjects = engine.add_subjects(project.id, [f"sub-0{i}" for i in range(1, 7)])
            """,
            "ProjectDashboard(engine, project.id)",
        ]
    )
    page = nb.page
    view = dashboard(page, "batch")
    pairs = (
        "sorted((engine.get_subject(j.subject_id).name, j.stage_id, j.status.value)"
        " for j in engine.get_jobs(project_id=project.id))"
    )
    # a column by its header's box and one cell, by keyboard
    column = view.get_by_role("checkbox", name="Select stage Import & Index")
    column.focus()
    page.keyboard.press("Space")
    expect(column).to_be_checked()
    cell = view.get_by_role("button", name="sub-01, T1/M0 Fitting: not run")
    cell.focus()
    page.keyboard.press("Space")
    expect(view.locator(".pw-cell[aria-selected='true']")).to_have_count(7)
    expect(view.locator(".pw-cell[data-stage-id='t1_fit'][aria-selected='true']")).to_have_count(1)
    expect(cell).to_have_class(re.compile(r"pw-picked"))
    expect(view.get_by_role("region", name="Subject sub-01")).to_have_count(0)  # Space selects, never opens
    bar = view.get_by_role("toolbar", name="Selected cells")
    expect(bar).to_contain_text("7 cells selected")
    expect(bar).to_contain_text("7 to run · 0 done · 0 queued or running")
    cancel = bar.get_by_role("button", name="Cancel · 0…")
    expect(cancel).to_be_disabled()
    expect(cancel).to_have_attribute("title", "Nothing to cancel: no selected cell is queued or running")
    bar.get_by_role("button", name="Run · 7", exact=True).focus()
    page.keyboard.press("Enter")
    expect(view.get_by_role("status").filter(has_text="Run:")).to_contain_text(
        "Run: 7 jobs queued for 7 of the 7 selected cells; 0 were done, queued or running"
    )
    nb.kernel.wait_until("job_counts(engine, project.id) == {'completed': 6, 'running': 1}", timeout=60)
    ran = nb.kernel.value(pairs)
    assert ran == sorted(
        [[f"sub-0{i}", "import", "running" if i == 5 else "completed"] for i in range(1, 7)]
        + [["sub-01", "t1_fit", "completed"]]
    ), ran
    # the Run button is disabled now (nothing left to run): the focus stays on the bar, where
    # Escape clears the selection
    expect(bar.get_by_role("button", name="Run · 0", exact=True)).to_be_disabled()
    expect(bar.locator(":focus")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(bar).to_have_count(0)
    expect(view.locator(".pw-cell[aria-selected='true']")).to_have_count(0)

    # a row: run what it lacks, then two rows (a shift-click) cancelled after a confirmation
    view.get_by_role("checkbox", name="Select sub-05").click()
    expect(bar).to_contain_text("10 cells selected")
    bar.get_by_role("button", name="Run · 9", exact=True).click()
    expect(view.get_by_role("status").filter(has_text="Run:")).to_contain_text(
        "Run: 9 jobs queued for 9 of the 10 selected cells; 1 was done, queued or running"
    )
    nb.kernel.wait_until("job_counts(engine, project.id) == {'completed': 6, 'running': 1, 'queued': 9}")
    view.get_by_role("checkbox", name="Select sub-06").click(modifiers=["Shift"])
    expect(bar).to_contain_text("20 cells selected")
    bar.get_by_role("button", name="Cancel · 10…").click()
    confirm = bar.get_by_role("alertdialog", name="Confirm cancel of the selected cells")
    expect(confirm).to_contain_text("Cancel 10 jobs of the 20 selected cells? 10 are not queued or running.")
    shots(page, view, "project_dashboard_cells")
    confirm.get_by_role("button", name="Cancel 10 jobs").click()
    expect(view.get_by_role("status").filter(has_text="Cancel:")).to_contain_text(
        "Cancel: 10 jobs cancelled for 10 of the 20 selected cells; 10 were not queued or running"
    )
    nb.kernel.wait_until("not engine.active_jobs")
    after = nb.kernel.value(pairs)
    assert [p for p in after if p[0] == "sub-05"] == sorted(
        [["sub-05", s, "cancelled"] for s in nb.kernel.value("[s.id for s in STUDIO_PIPELINE]")]
    ), after
    assert [p for p in after if p[0] == "sub-06"] == [["sub-06", "import", "completed"]], after

    # a column rerun asks first, with how many done results it redoes and makes stale downstream
    view.get_by_role("button", name="Clear").click()
    view.get_by_role("checkbox", name="Select stage Import & Index").click()
    bar.get_by_role("button", name="Rerun · 6…").click()
    confirm = bar.get_by_role("alertdialog", name="Confirm rerun of the selected cells")
    expect(confirm).to_contain_text(
        "Rerun 6 of the 6 selected cells? 5 done results will be redone"
        " and 1 done result downstream becomes stale."
    )
    confirm.get_by_role("button", name="Keep results").click()
    expect(confirm).to_have_count(0)
    assert nb.kernel.value(pairs) == after  # nothing queued


def shots(page, view, name):
    """Light and dark, 600 and 1400 px wide; at 600 px the selection's bar and its confirmation
    stay inside the widget and their buttons can be pressed."""
    ARTIFACTS.mkdir(exist_ok=True)
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        change_theme(page, theme)
        for width in (600, 1400):
            page.set_viewport_size({"width": width, "height": 900})
            page.evaluate(COLLAPSE_PANELS)
            view.scroll_into_view_if_needed()
            bar = view.get_by_role("toolbar", name="Selected cells")
            right = view.bounding_box()["x"] + view.bounding_box()["width"]
            for button in bar.get_by_role("button").all():
                box = button.bounding_box()
                assert box and box["x"] + box["width"] <= right + 0.5, (width, button.inner_text(), box)
                expect(button).to_be_in_viewport()
            view.screenshot(path=str(ARTIFACTS / f"{name}-{theme.split()[-1].lower()}-{width}.png"))
    change_theme(page, "JupyterLab Light")
    page.set_viewport_size({"width": 1400, "height": 1000})
