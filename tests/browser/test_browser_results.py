"""Results and QC where the jobs are watched: a p-brain phantom's stage results in SubjectDetail,
and the cohort QC review rated by keyboard, with its marks in the dashboard and its TSV."""

from __future__ import annotations

import re
import time

import pytest
from lab_notebook import ARTIFACTS
from page_probes import long_tasks, record_kernel_frames, record_long_tasks
from playwright.sync_api import Page, expect
from test_browser_dark_theme import change_theme
from test_browser_trust import COLLAPSE_PANELS
from widget_dom import dashboard

# A runner that writes a small real NIfTI map and reports it: fast enough for 200 subjects.
MAP_RUNNER = """
import pathlib, tempfile
import numpy as np, nibabel
from pbrain_widgets import JobContext, Pipeline, Runner, Stage

class MapRunner(Runner):
    async def run(self, ctx: JobContext) -> None:
        seed = sum(map(ord, ctx.subject.name))
        volume = np.random.default_rng(seed).random((12, 12, 4), dtype=np.float32)
        path = ctx.subject_dir / "ki.nii.gz"
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
        ctx.output(path, label="patlak/ki", unit="mL/100g/min")

FIT = Pipeline([Stage("fit", "Kinetic fit")], name="fit")

def fit_project(engine, name, count):
    project = engine.create_project(name, pipeline=FIT)
    root = pathlib.Path(tempfile.mkdtemp())
    rows = []
    for i in range(1, count + 1):
        (root / f"sub-{i:03d}").mkdir()
        rows.append({"name": f"sub-{i:03d}", "source_path": str(root / f"sub-{i:03d}")})
    return project, engine.add_subjects(project.id, rows)
"""


def screenshots(page: Page, selector: str, name: str) -> None:
    """The view light and dark, 600 and 1400 px wide, into tests/browser/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    for theme in ("JupyterLab Light", "JupyterLab Dark"):
        change_theme(page, theme)
        for width in (600, 1400):
            page.set_viewport_size({"width": width, "height": 1000})
            page.evaluate(COLLAPSE_PANELS)
            target = page.locator(selector).first
            target.scroll_into_view_if_needed()
            target.screenshot(path=str(ARTIFACTS / f"{name}-{theme.split()[-1].lower()}-{width}.png"))
    change_theme(page, "JupyterLab Light")


@pytest.mark.timeout(900)  # real p-brain: about a minute on an idle machine, several when loaded
def test_a_phantom_kinetic_stage_shows_its_montages_region_table_and_fidelity(notebook, page, report_figure):
    """The real p-brain pipeline on its phantom, up to the summary: opening Kinetic modelling
    shows p-brain's QC verdict and montages of Ki / vb / CNR drawn in the kernel; Summary shows
    the region Ki table; the fidelity table sets the fitted values beside truth.json's."""
    received = record_kernel_frames(page)
    nb = notebook(
        [
            """
            import tempfile
            from pbrain_widgets.runners.pbrain import PHANTOM_OPTIONS, make_phantom_subjects, pbrain_pipeline
            from pbrain_widgets.widgets import SubjectDetail
            [folder] = make_phantom_subjects(tempfile.mkdtemp(), 1)
            engine = Engine(db_path=":memory:", max_concurrent=2)
            fast = {"kinetic_models": ("patlak",), "diffusion_models": ("dti", "rsi")}
            pipeline = pbrain_pipeline(**{**PHANTOM_OPTIONS, **fast})
            project = engine.create_project("phantom", pipeline=pipeline)
            [subject] = engine.add_subjects(project.id, [{"name": folder.name, "source_path": folder}])
            jobs = engine.run_pipeline(project.id, stage_ids=["summary"])
            """,
            "SubjectDetail(engine, subject.id)",
        ]
    )
    nb.kernel.wait_until(
        "all(not j.status.is_active for j in engine.get_jobs()) and len(engine.get_jobs()) > 0", timeout=600
    )
    failed = nb.kernel.value("[(j.stage_id, j.error) for j in engine.get_jobs() if j.error]")
    assert failed == [], failed
    view = nb.page.get_by_role("region", name="Subject phantom-01")
    expect(view).to_be_visible()
    before = len(received.sizes)
    clicked = time.monotonic()
    view.get_by_role("button", name=re.compile(r"^Kinetic modelling")).click()
    results = view.get_by_role("region", name="Results of Kinetic modelling")
    expect(results.locator(".pw-badge", has_text="p-brain QC: pass")).to_be_visible()
    results.scroll_into_view_if_needed()  # pictures are drawn when they come into view
    pictures = results.get_by_role("list", name="Pictures").get_by_role("listitem")
    expect(pictures).to_have_count(3, timeout=30_000)  # CNR, Ki and vb maps
    expect(results.locator("img[data-picture=ready]").first).to_be_visible(timeout=60_000)
    first_thumbnail = time.monotonic() - clicked
    ki = results.get_by_role("img", name="patlak/ki (mL/100g/min)")
    expect(ki).to_have_attribute("data-picture", "ready", timeout=60_000)
    expect(results.locator("img[data-picture=ready]")).to_have_count(3, timeout=60_000)
    opened_bytes = sum(received.sizes[before:])
    assert ki.evaluate("img => img.naturalWidth") > 100
    expect(results.get_by_text("cnr median")).to_be_visible()

    # enlarge: a dialog with the full-size picture, closed by Escape
    results.get_by_role("button", name="Enlarge patlak/ki (mL/100g/min)").click()
    dialog = nb.page.get_by_role("dialog", name="patlak/ki")
    expect(dialog.get_by_role("img")).to_have_attribute("data-picture", "ready", timeout=60_000)
    assert dialog.get_by_role("img").evaluate("img => img.naturalWidth") == 900
    nb.page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    view.get_by_role("button", name=re.compile(r"^Summary")).click()
    summary = view.get_by_role("region", name="Results of Summary")
    summary.scroll_into_view_if_needed()
    summary.get_by_role("button", name="kinetic/patlak/region/ki_csv").click()
    table = summary.get_by_role("table", name="kinetic/patlak/region/ki_csv")
    expect(table.get_by_role("row", name=re.compile(r"^cortical_GM 0\.2"))).to_be_visible()

    fidelity = view.get_by_role("table", name="Phantom fidelity")
    expect(
        fidelity.get_by_role("row", name=re.compile(r"^cortical_GM Ki patlak mL\/100g\/min 0\.5 0\.2"))
    ).to_be_visible()
    expect(fidelity.get_by_role("row", name=re.compile(r"^WM T1 — ms 850 \d+ -?\d+ %$"))).to_be_visible()
    report_figure(
        f"phantom kinetic stage opened: first thumbnail {first_thumbnail:.2f} s after the click, "
        f"{opened_bytes / 1024:.0f} KiB received by the page until its 3 thumbnails were in "
        "(kernel websocket frames, whatever else the kernel sent meanwhile included)"
    )
    view.get_by_role("button", name=re.compile(r"^Kinetic modelling")).click()
    expect(results.get_by_role("img", name="patlak/ki (mL/100g/min)")).to_have_attribute(
        "data-picture", "ready"
    )
    # a 600 px window: the log's tools stay on one line below the result values, every value's
    # name is shown whole
    nb.page.set_viewport_size({"width": 600, "height": 1000})
    nb.page.evaluate(COLLAPSE_PANELS)
    tools = view.get_by_role("toolbar", name=re.compile(r": tools$"))
    tools.scroll_into_view_if_needed()
    values = results.locator(".pw-values")
    layout = nb.page.evaluate(NARROW_LAYOUT_JS, [values.element_handle(), tools.element_handle()])
    assert layout["toolsTop"] >= layout["valuesBottom"], layout
    assert layout["toolsRows"] == 1, layout
    assert layout["cutNames"] == [], layout
    screenshots(nb.page, ".pw-subject", "subject_detail_results")


# where the result values end and the log's tools begin, how many rows the tools' buttons take,
# and the value names cut by an ellipsis or an overflow
NARROW_LAYOUT_JS = """([values, tools]) => {
  const buttons = [...tools.querySelectorAll("button")].map((b) => b.getBoundingClientRect().top);
  return {
    valuesBottom: values.getBoundingClientRect().bottom,
    toolsTop: Math.min(...buttons),
    toolsRows: new Set(buttons.map(Math.round)).size,
    cutNames: [...values.querySelectorAll("dt")]
      .filter((d) => d.scrollWidth > d.clientWidth)
      .map((d) => d.textContent),
  };
}"""


def test_qc_review_rates_three_subjects_by_keyboard_and_the_dashboard_marks_them(notebook, tmp_path):
    """p passes, f fails, n writes a note; the ratings are the engine's, the dashboard marks
    them, and the exported TSV is the engine's own export."""
    nb = notebook(
        [
            MAP_RUNNER,
            """
            from pbrain_widgets.widgets import ProjectDashboard, QcReview
            engine = Engine(db_path=":memory:", runner=MapRunner())
            project, subjects = fit_project(engine, "review", 3)
            await engine.wait(engine.run_pipeline(project.id), timeout=60)
            """,
            'QcReview(engine, project.id, "fit", output="patlak/ki")',
            "ProjectDashboard(engine, project.id)",
        ]
    )
    review = nb.page.get_by_role("region", name="QC review of Kinetic fit")
    expect(review).to_be_visible()
    review.scroll_into_view_if_needed()  # pictures are drawn when they come into view
    grid = review.get_by_role("listbox", name="Subjects")
    # an option's content is presentational to assistive technology: find the images by tag
    expect(grid.locator("img[data-picture=ready]")).to_have_count(3, timeout=30_000)
    grid.focus()
    for key, name in (("p", "sub-001: passed"), ("f", "sub-002: failed"), ("f", "sub-003: failed")):
        nb.page.keyboard.press(key)  # rates the current tile and moves to the next
        expect(grid.get_by_role("option", name=name, exact=True)).to_have_count(1)
    nb.page.keyboard.press("n")
    note = review.get_by_role("textbox", name="Note for sub-003")
    expect(note).to_be_focused()
    note.fill("motion <b>artefact</b>")
    note.press("Enter")
    nb.kernel.wait_until("len([e for e in engine.get_qc() if e.note]) == 1")
    ratings = nb.kernel.value(
        "sorted((engine.get_subject(e.subject_id).name, e.rating.value, e.note) for e in engine.get_qc())"
    )
    assert ratings == [
        ["sub-001", "pass", ""],
        ["sub-002", "fail", ""],
        ["sub-003", "fail", "motion <b>artefact</b>"],
    ]
    expect(grid.get_by_role("option", name="sub-003: failed, note: motion <b>artefact</b>")).to_be_visible()
    expect(review.locator(".pw-badge", has_text="1 passed")).to_be_visible()
    # ArrowLeft moves back; u removes sub-002's rating, p passes it
    nb.page.keyboard.press("ArrowLeft")
    expect(grid.get_by_role("option", name="sub-002: failed")).to_have_attribute("aria-selected", "true")

    board = dashboard(nb.page, "review")
    cells = board.locator(".pw-cell[data-stage-id='fit']")
    expect(cells.locator(".pw-qc-mark")).to_have_count(3)
    expect(board.get_by_role("img", name="sub-002, Kinetic fit: done, QC fail")).to_be_visible()
    expect(board.get_by_role("img", name="sub-001, Kinetic fit: done, QC pass")).to_be_visible()

    with nb.page.expect_download() as download:
        review.get_by_role("button", name="Export exclusions (TSV)").click()
    saved = download.value.path().read_text()
    assert download.value.suggested_filename == "review-qc-exclusions.tsv"
    engines = nb.kernel.value(f"engine.export_qc({str(tmp_path / 'x.tsv')!r}, project.id).read_text()")
    assert saved == engines
    assert saved.count("\n") == 3 and "sub-001" not in saved and "motion <b>artefact</b>" in saved
    screenshots(nb.page, ".pw-review", "qc_review")


def test_qc_review_of_200_subjects_stays_small_and_smooth(notebook, report_figure):
    """200 tiles: under 2,000 DOM nodes, pictures only for the tiles in view; once the grid has
    painted and settled, moving by keyboard across rows, rating p / f and scrolling the grid top
    to bottom make no long task a broken grid would (one that re-renders or decodes every tile)."""
    nb = notebook(
        [
            MAP_RUNNER,
            """
            from pbrain_widgets.widgets import QcReview
            engine = Engine(db_path=":memory:", runner=MapRunner(), max_concurrent=8)
            project, subjects = fit_project(engine, "cohort200", 200)
            await engine.wait(engine.run_pipeline(project.id), timeout=300)
            """,
            'QcReview(engine, project.id, "fit")',
        ]
    )
    review = nb.page.get_by_role("region", name="QC review of Kinetic fit")
    expect(review.get_by_role("option")).to_have_count(200, timeout=60_000)
    review.scroll_into_view_if_needed()
    grid = review.get_by_role("listbox", name="Subjects")
    expect(grid.locator("img[data-picture=ready]").first).to_be_visible(timeout=60_000)
    nb.page.wait_for_function(SETTLED_PICTURES_JS, arg=grid.element_handle(), timeout=60_000, polling=100)
    nodes = review.evaluate("el => el.querySelectorAll('*').length")
    ready = grid.locator("img[data-picture=ready]").count()
    settle(nb.page)
    since = record_long_tasks(nb.page)  # from here on: only what the reviewer does

    grid.focus()
    for key in ["ArrowRight"] * 5 + ["ArrowDown"] * 12 + ["ArrowUp"] * 4 + ["ArrowLeft"] * 2:
        nb.page.keyboard.press(key)
    rated = ["p", "f"] * 10
    for key in rated:
        nb.page.keyboard.press(key)  # rates the current tile and moves to the next
    expect(review.locator(".pw-badge", has_text="10 passed")).to_be_visible()
    expect(review.locator(".pw-badge", has_text="10 failed")).to_be_visible()
    # tiles keep their height while their pictures arrive: the current one stays in view
    expect(grid.get_by_role("option", selected=True)).to_be_in_viewport()
    # scroll the grid top to bottom a step a frame, as a wheel or a dragged scroll bar does
    grid.evaluate(SCROLL_THROUGH_JS)
    expect(grid.locator("[role=option]").last).to_be_in_viewport()
    nb.page.wait_for_function(SETTLED_PICTURES_JS, arg=grid.element_handle(), timeout=60_000, polling=100)
    fetched = grid.locator("img[data-picture=ready]").count()
    settle(nb.page)
    tasks = long_tasks(nb.page, since)
    worst = max((t["duration"] for t in tasks), default=0)
    listed = ", ".join(f"{t['duration']:.0f}" for t in tasks) or "none"
    report_figure(
        f"QC review, 200 subjects: {nodes} DOM nodes, {ready} of 200 pictures fetched at first "
        f"(the tiles in view); keyboard moves, 20 ratings and a scroll to the bottom ({fetched} pictures "
        f"then): {len(tasks)} long tasks, longest {worst:.0f} ms (ms: {listed})"
    )
    assert nodes < 2000, nodes
    assert ready < 200, ready
    # a figure above; the bound catches a grid that re-renders and re-decodes every tile per key
    assert worst <= 250, f"long tasks while reviewing: {tasks}"


# true once every picture in the grid's visible part is drawn (none still "Drawing...")
SETTLED_PICTURES_JS = """(grid) => {
    const box = grid.getBoundingClientRect();
    const inView = (el) => {
        const r = el.getBoundingClientRect();
        return r.bottom > box.top && r.top < box.bottom;
    };
    const waiting = [...grid.querySelectorAll('[data-picture=loading]')].filter(inView);
    const ready = [...grid.querySelectorAll('img[data-picture=ready]')].filter(inView);
    return waiting.length === 0 && ready.length > 0 && ready.every((img) => img.complete);
}"""

# scroll from the top to the bottom, one step per animation frame
SCROLL_THROUGH_JS = """(grid) => new Promise((done) => {
    grid.scrollTop = 0;
    const step = Math.max(40, grid.clientHeight / 6);
    const next = () => {
        if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1) return done();
        grid.scrollTop += step;
        requestAnimationFrame(next);
    };
    requestAnimationFrame(next);
})"""


def settle(page: Page) -> None:
    """Wait until the page has painted and its main thread has been idle for a while."""
    page.evaluate(
        """() => new Promise((done) => {
            let quiet = 0;
            setTimeout(done, 10000);  // a machine too loaded for 20 frames on time: go on
            const frame = (last) => requestAnimationFrame((now) => {
                quiet = now - last < 34 ? quiet + 1 : 0;  // a frame on time
                if (quiet >= 20) requestIdleCallback(() => done(), {timeout: 2000});
                else frame(now);
            });
            frame(performance.now());
        })"""
    )
