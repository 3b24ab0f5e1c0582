"""A page reload in the middle of a run: every view comes back with its state and keeps updating."""

from __future__ import annotations

from playwright.sync_api import expect
from widget_dom import connection_status, dashboard, job_monitor, tab

SUBJECTS = ["sub-01", "sub-02", "sub-03"]


def test_reload_mid_run_restores_every_view(notebook):
    """Scenario 8. The runner's gate holds the second half of the run until the page is back."""
    nb = notebook(
        [
            f"""
            from pbrain_widgets.widgets import ConnectionStatus, JobMonitor, LogStream, ProjectDashboard
            runner = ScriptedRunner(steps=4, step_seconds=0.25, gated=True)
            engine = Engine(db_path=":memory:", runner=runner, max_concurrent=2)
            project = engine.create_project("reload", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, {SUBJECTS!r})
            jobs = engine.run_pipeline(project.id)
            first = jobs[0]
            """,
            "ProjectDashboard(engine, project.id)",
            "JobMonitor(engine, project.id)",
            "LogStream(engine, first)",
            "ConnectionStatus(engine)",
        ]
    )
    total = nb.kernel.value("len(jobs)")
    assert total == 2 * len(SUBJECTS)
    log = nb.page.locator(".pw-logstream").get_by_role("log")
    expect(log).to_be_visible()
    # the first two jobs pass the gate, which then closes before the next ones reach it
    nb.kernel.run(
        "runner.gate.set()\n"
        "while sum((j.current_step or '')[:4] == 'Step' for j in engine.get_jobs(status='running')) < 2:\n"
        "    await asyncio.sleep(0.005)\n"
        "runner.gate.clear()"
    )
    mid_run = {"completed": 2, "running": 2, "queued": 2}
    nb.kernel.wait_until(f"job_counts(engine, project.id) == {mid_run!r}")
    expect(tab(job_monitor(nb.page), "completed").locator(".pw-count")).to_have_text("2")
    lines_before = nb.kernel.value("[e.message for e in engine.get_logs(first.id)]")

    nb.command("docmanager:save")
    nb.page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    nb.page.reload()
    nb.wait_ready()

    monitor = job_monitor(nb.page)
    expect(tab(monitor, "all").locator(".pw-count")).to_have_text(str(total))
    for status, count in mid_run.items():
        expect(tab(monitor, status).locator(".pw-count")).to_have_text(str(count))
    expect(log.locator(".pw-line-msg")).to_have_count(len(lines_before))
    assert log.locator(".pw-line-msg").all_inner_texts() == lines_before
    view = dashboard(nb.page, "reload")
    expect(view.locator(".pw-cell [role='img'][aria-label$=': done']")).to_have_count(2)
    expect(connection_status(nb.page)).to_have_text("Connected")
    expect(view.locator(".pw-header .pw-badge", has_text="active job")).to_have_text("4 active jobs")

    # still live: the rest of the run shows up
    nb.kernel.run("runner.gate.set()\nawait engine.wait(timeout=60)")
    expect(tab(monitor, "completed").locator(".pw-count")).to_have_text(str(total))
    for subject in SUBJECTS:
        for stage in ("Import & Index", "T1/M0 Fitting"):
            expect(view.get_by_role("img", name=f"{subject}, {stage}: done", exact=True)).to_be_visible()
    expect(view.locator(".pw-header .pw-badge", has_text="active job")).to_have_text("0 active jobs")
    expect(connection_status(nb.page)).to_have_text("Connected")
