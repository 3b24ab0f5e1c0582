"""Monitors a user can trust at a glance (issue 11): a closed engine, attempts, order, safe runs."""

from __future__ import annotations

from playwright.sync_api import expect
from widget_dom import dashboard, job_monitor

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
    expect(view.get_by_role("button", name="Run all")).to_be_enabled()

    nb.kernel.run("engine.close()")  # the beat at the end of this cell tells the views

    for frame in (nb.page.locator(".pw-frame").filter(has=monitor), nb.page.locator(".pw-frame").filter(has=view)):
        expect(frame).to_have_attribute("data-link", "closed")
        expect(frame.get_by_role("status").first).to_contain_text(CLOSED)
    expect(monitor.get_by_role("button", name="Kill all")).to_be_disabled()
    expect(view.get_by_role("button", name="Run all")).to_be_disabled()
    expect(view.get_by_role("button", name="Run sub-02")).to_be_disabled()
    stamp = monitor.locator(".pw-card .pw-card-side .pw-small").first.inner_text()
    nb.page.wait_for_timeout(1200)  # a ticking clock would have moved on by now
    assert monitor.locator(".pw-card .pw-card-side .pw-small").first.inner_text() == stamp
