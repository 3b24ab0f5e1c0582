"""The protocol is typed once: the front end's copy matches it, widgets offer exactly its
actions, and what widgets send matches its types (every Wire checks each message)."""

from __future__ import annotations

from pathlib import Path

import pytest
from protocol_check import check_type
from widget_helpers import check_message, check_patches

from pbrain_widgets.widgets import (
    ConnectionStatus,
    JobHistory,
    JobMonitor,
    LogStream,
    PipelineGraph,
    ProjectDashboard,
    QcReview,
    SubjectDetail,
    Timeline,
)
from pbrain_widgets.widgets.protocol import ACTIONS, FEEDS, JobRow, JobsPatch, PicturePayload
from pbrain_widgets.widgets.protocol_ts import render
from pbrain_widgets.widgets.render import SIZES
from pbrain_widgets.widgets.validation import schema_of

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "protocol.ts"


def test_the_typescript_protocol_is_generated_from_the_python_one():
    assert PROTOCOL_TS.read_text() == render(), (
        "js/src/protocol.ts differs from pbrain_widgets/widgets/protocol.py: regenerate it with "
        "`python -m pbrain_widgets.widgets.protocol_ts > js/src/protocol.ts`"
    )


def test_the_typescript_protocol_names_every_action_and_feed():
    text = PROTOCOL_TS.read_text()
    for name, spec in ACTIONS.items():
        assert f"  {name}: {{ payload: {spec.payload.__name__}; result: " in text
    for name, (snapshot, patch) in FEEDS.items():
        assert f"  {name}: {{ snapshot: {snapshot.__name__}; patch: {patch.__name__} }};" in text


def test_widgets_offer_every_declared_action_and_only_those(study):
    engine, project, subjects = study
    job = engine.run_stage(project.id, subjects[0].id, "import")
    widgets = [
        JobMonitor(engine, project.id),
        LogStream(engine, job.id),
        ConnectionStatus(engine),
        ProjectDashboard(engine, project.id),
        SubjectDetail(engine, subjects[0].id),
        PipelineGraph(engine, project.id),
        Timeline(engine, project.id),
        JobHistory(engine, project.id),
        QcReview(engine, project.id, "import"),
    ]
    try:
        offered = {name for w in widgets for name in w.actions}
        feeds = {name for w in widgets for name in w._feeds}
    finally:
        for w in widgets:
            w.close()
    assert offered == set(ACTIONS)  # no declared action without a widget that answers it
    assert feeds == set(FEEDS)


def test_the_job_monitor_and_subject_detail_share_one_name_per_job_action(study):
    engine, project, subjects = study
    monitor, detail = JobMonitor(engine, project.id), SubjectDetail(engine, subjects[0].id)
    try:
        assert {"cancel", "retry"} <= set(monitor.actions) & set(detail.actions)
        assert monitor._actions["cancel"].schema == detail._actions["cancel"].schema
    finally:
        monitor.close()
        detail.close()


def patches(parts):
    return {"kind": "patches", "t": 0.0, "patches": {"1": {"rev": 1, "parts": parts}}}


@pytest.mark.parametrize(
    "message",
    [
        patches({"jobs": {"changes": {"progress": [[1, 2.0]]}, "extra": 1}}),
        patches({"jobs": {"changes": [{"id": "a", "progress": 2.0}]}}),
        {"kind": "beat", "busy": True, "store_error": None, "t": 0.0},
        {"kind": "reply", "id": "v:1", "ok": "yes", "result": None},
        patches({"project": {"cells": {"s": {"import": "finished"}}}}),
        {"kind": "patches", "t": 0.0, "patches": {"1": {"parts": {}}}},
        {"kind": "patch", "rev": 1, "t": 0.0, "parts": {}},
    ],
    ids=[
        "unknown-key",
        "old-change-shape",
        "beat-without-closed",
        "ok-not-bool",
        "unknown-status",
        "patch-without-rev",
        "patch-on-the-widget-comm",
    ],
)
def test_a_message_off_the_protocol_fails_the_check(message):
    with pytest.raises(AssertionError):
        if message["kind"] == "patches":
            check_patches(message)
        else:
            check_message(message, {})


def test_a_job_row_must_carry_every_field_with_its_type():
    row = dict.fromkeys(JobRow.__annotations__)
    with pytest.raises(AssertionError, match="message.id: expected str"):
        check_type(row, JobRow)
    with pytest.raises(AssertionError, match=r"missing \{'columns'\}"):
        check_type({"jobs": {"n": 0}}, JobsPatch)


def test_a_literal_of_the_protocol_is_a_choice_the_payload_check_enforces():
    assert set(schema_of(PicturePayload)["size"].choices) == set(SIZES)  # one list of sizes
    text = PROTOCOL_TS.read_text()
    assert 'size: "thumb" | "full";' in text and 'move: "raise" | "lower" | "next";' in text
