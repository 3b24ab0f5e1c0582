"""Strings from data (subject names, errors, log lines) holding HTML and script render as text."""

from __future__ import annotations

from playwright.sync_api import expect
from widget_dom import card, dashboard, job_monitor, next_frame

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1"  # no "</script>": a "/" is not allowed in a subject name


def test_html_and_script_in_data_show_as_text(notebook):
    """Scenario 10: nothing runs, and the payloads are visible literally in every view."""
    nb = notebook(
        [
            f"""
            from pbrain_widgets.widgets import JobMonitor, LogStream, ProjectDashboard, SubjectDetail
            names = [{IMG!r}, {SCRIPT!r}]
            engine = Engine(db_path=":memory:", runner=ScriptedRunner({{n: "fail" for n in names}}))
            project = engine.create_project("injection", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, names)
            jobs = [engine.run_stage(project.id, s.id, "import") for s in subjects]
            await engine.wait(timeout=30)
            """,
            "ProjectDashboard(engine, project.id)",
            "JobMonitor(engine, project.id)",
            "LogStream(engine, jobs[0])",
            "SubjectDetail(engine, subjects[1])",
        ]
    )
    page = nb.page
    ids = nb.kernel.value("[j.id for j in jobs]")
    errors = nb.kernel.value("[engine.get_job(j.id).error for j in jobs]")
    assert errors == [f"{IMG} failed at attempt 1", f"{SCRIPT} failed at attempt 1"]

    grid = dashboard(page, "injection").get_by_role("grid")
    for name in (IMG, SCRIPT):
        expect(grid.get_by_title(f"Open {name}", exact=True)).to_have_text(name)

    monitor = job_monitor(page)
    for job_id, name, error in zip(ids, (IMG, SCRIPT), errors, strict=True):
        job_card = card(monitor, job_id)
        expect(job_card.locator(".pw-job-row")).to_contain_text(name)
        expect(job_card.locator(".pw-error-text")).to_have_text(error)
        job_card.get_by_role("button", expanded=False).click()
        line = job_card.get_by_role("log").locator(".pw-line-msg", has_text=f"import step 1 for {name}")
        expect(line).to_have_count(1)

    stream = page.locator(".pw-logstream")
    expect(stream.locator(".pw-error-text")).to_have_text(errors[0])
    line = stream.get_by_role("log").locator(".pw-line-msg", has_text=f"import step 4 for {IMG}")
    expect(line).to_have_count(1)

    subject = page.get_by_role("region", name=f"Subject {SCRIPT}")
    expect(subject.get_by_role("heading")).to_have_text(SCRIPT)
    subject.get_by_role("button", name="Import & Index").click()
    expect(subject.locator(".pw-error-text")).to_have_text(errors[1])

    next_frame(page)
    assert page.evaluate("() => window.__pwned") is None
    injected = page.locator(".pw-root").locator("img, script, [onerror]")
    expect(injected).to_have_count(0)
