"""ProjectDashboard in JupyterLab: a full pipeline run seen cell by cell."""

from __future__ import annotations

import re

from page_probes import history, record_history
from playwright.sync_api import expect
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
