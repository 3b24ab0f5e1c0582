"""Fixtures for widget tests: engines with a project, and wires to widgets."""

from __future__ import annotations

import pytest
from widget_helpers import Wire

from pbrain_widgets import Engine, SimulatedRunner
from pbrain_widgets.widgets import SyncWidget


@pytest.fixture
def wire():
    wires: list[Wire] = []

    def attach(widget: SyncWidget) -> Wire:
        w = Wire(widget)
        wires.append(w)
        return w

    yield attach
    for w in wires:
        w.widget.close()


@pytest.fixture
def study(make_engine):
    """An engine with one project of three subjects."""
    engine: Engine = make_engine(runner=SimulatedRunner(step_seconds=0.01, failure_rate=0))
    project = engine.create_project("study")
    subjects = engine.add_subjects(project.id, ["sub-01", "sub-02", "sub-03"])
    return engine, project, subjects
