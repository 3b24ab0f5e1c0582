"""dock(): the side panel's content, the note a view may set only one way, bad arguments."""

from __future__ import annotations

import pytest

from pbrain_widgets import InvalidArgumentError, dock
from pbrain_widgets.widgets import JobMonitor


@pytest.fixture
def docked(study):
    engine, project, _ = study
    monitor = JobMonitor(engine, project.id)
    d = dock(monitor, title=" Jobs ")
    yield d, monitor
    d.close()
    monitor.close()


def test_the_panel_holds_a_view_of_the_widget(docked):
    d, monitor = docked
    (output,) = d.sidecar.outputs
    assert output["output_type"] == "display_data"
    assert output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == monitor.model_id
    assert d.sidecar.title == d.note.title == "Jobs"
    assert d.sidecar.anchor == "right"


def test_the_widget_shows_in_the_cell_only_while_no_panel_is_there(docked):
    d, monitor = docked
    assert d.note.docked is None and d.inline.outputs == ()
    d.note.set_state({"docked": False})
    (output,) = d.inline.outputs
    assert output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == monitor.model_id
    d.note.set_state({"docked": True})
    assert d.inline.outputs == ()


@pytest.mark.parametrize(
    "update", [{"docked": "yes"}, {"title": "x"}, {"docked": False, "title": "x"}, ["docked"]]
)
def test_a_view_may_set_only_docked_to_a_bool(docked, update, caplog):
    d, _ = docked
    d.note.set_state(update)
    assert d.note.docked is None and d.note.title == "Jobs" and d.inline.outputs == ()
    assert "refused a state update" in caplog.text


def test_bad_arguments_name_the_value_and_the_choices(study):
    engine, project, _ = study
    with pytest.raises(InvalidArgumentError, match="not int"):
        dock(3)  # type: ignore[arg-type]
    monitor = JobMonitor(engine, project.id)
    with pytest.raises(InvalidArgumentError, match="'left' is not one of right, split-right"):
        dock(monitor, anchor="left")
    with pytest.raises(InvalidArgumentError, match="non-empty string"):
        dock(monitor, title="  ")
    monitor.close()
