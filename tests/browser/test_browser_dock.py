"""dock(): a monitor in JupyterLab's side panel stays in view while the notebook scrolls."""

from __future__ import annotations

import re
import time

from lab_notebook import RUNNERS_CELL, LabNotebook
from playwright.sync_api import expect

FILLER = "print('\\n'.join(f'line {i}' for i in range(80)))"


def test_docked_monitor_stays_in_view_and_comes_back_when_its_panel_closes(notebook):
    """One call docks a JobMonitor in the right side panel; scrolling the notebook to its end
    leaves it in view and live; closing the panel shows it in the cell instead."""
    nb = notebook(
        [
            """
            from pbrain_widgets import dock
            from pbrain_widgets.widgets import JobMonitor
            engine = Engine(db_path=":memory:", runner=ScriptedRunner({"sub-01": "hang"}))
            project = engine.create_project("docked", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, ["sub-01"])
            """,
            'docked = dock(JobMonitor(engine, project.id), title="Jobs")',
            FILLER,
            FILLER,
            FILLER,
        ]
    )
    page = nb.page
    panel = page.locator(".jp-LabShell .jupyterlab-sidecar")
    monitor = panel.get_by_role("region", name="Job monitor")
    expect(monitor).to_be_visible(timeout=30_000)
    note = page.locator(".jp-Notebook .pw-dock-note")
    expect(note).to_have_attribute("data-docked", "true")
    expect(note).to_contain_text("“Jobs” is docked in a side panel")
    assert page.locator(".jp-Notebook .pw-root[aria-label='Job monitor']").count() == 0
    expect(page.locator(".jp-SideBar.jp-mod-right .lm-TabBar-tabLabel", has_text="Jobs")).to_be_visible()

    # scroll the notebook to its last cell: the docked monitor stays where it is, and live
    page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
    expect(note).not_to_be_in_viewport()
    expect(monitor).to_be_in_viewport()
    nb.kernel.run("job = engine.run_stage(project.id, subjects[0].id, 'import', run_dependencies=False)")
    expect(monitor.locator(".pw-card[data-status='running']")).to_have_count(1)
    nb.screenshot("dock_side_panel")

    # the panel closed (here from the kernel): the note says so and the monitor shows in the cell
    nb.kernel.run("docked.sidecar.close()")
    expect(panel).to_have_count(0)
    expect(note).to_have_attribute("data-docked", "false", timeout=15_000)
    expect(note).to_contain_text("This front end has no side panel for widgets")
    expect(page.locator(".jp-Notebook").get_by_role("region", name="Job monitor")).to_be_visible()
    assert nb.kernel.value("docked.note.docked") is False
    nb.kernel.run("engine.close()")


def test_notebook_7_shows_the_monitor_in_the_cell_and_says_why(lab_server, page):
    """Notebook 7 has no side panel for widgets: the note says so and the monitor shows inline."""
    nb = LabNotebook(
        lab_server,
        page,
        "dock_in_notebook_7",
        [
            """
            from pbrain_widgets import dock
            from pbrain_widgets.widgets import JobMonitor
            engine = Engine(db_path=":memory:")
            project = engine.create_project("docked", pipeline=MINI_PIPELINE)
            """,
            'docked = dock(JobMonitor(engine, project.id), title="Jobs")',
        ],
        preamble=[RUNNERS_CELL],
    )
    try:
        page.goto(f"{lab_server.url}/notebooks/{nb.path}?token={lab_server.token}")
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the page started its kernel, and the kernel is idle
            session = lab_server.session_for(nb.path)
            if session and session["kernel"]["execution_state"] == "idle":
                break
            time.sleep(0.2)
        page.get_by_role("menuitem", name="Run").click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        note = page.locator(".pw-dock-note")
        expect(note).to_have_attribute("data-docked", "false", timeout=60_000)
        expect(note).to_contain_text("This front end has no side panel for widgets")
        expect(page.locator(".jp-Notebook").get_by_role("region", name="Job monitor")).to_be_visible()
        # Notebook 7 loads the labextension too and has a notification centre: the plugin took the probe
        expect(page.get_by_role("button", name="Desktop alerts")).to_have_attribute(
            "title", re.compile("and so does Jupyter's notification centre")
        )
        expect(page.locator(".jupyterlab-sidecar")).to_have_count(0)
        nb.screenshot("dock_in_notebook_7")
    finally:
        lab_server.shutdown_session(nb.path)
