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
