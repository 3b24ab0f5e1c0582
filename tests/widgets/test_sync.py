"""The sync base: request validation, replies, throttled patches, revisions, close."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from pathlib import Path

import pytest
from widget_helpers import JobsView, settle

from pbrain_widgets import InvalidArgumentError
from pbrain_widgets.widgets import JobMonitor, SyncWidget
from pbrain_widgets.widgets.channel import FLUSH_INTERVAL
from pbrain_widgets.widgets.validation import BadRequest


def listener_counts(engine) -> tuple[int, int, int]:
    return (
        len(engine._job_listeners._callbacks),
        len(engine._catalog.status_listeners._callbacks),
        len(engine._catalog.subject_listeners._callbacks),
    )


def req(action, payload=None, **extra):
    content = {"kind": "request", "id": "x:1", "action": action, **extra}
    if payload is not None:
        content["payload"] = payload
    return content


BAD_REQUESTS = [
    ("hello", "must be"),
    ({"kind": "patch", "id": "x:1"}, "must be"),
    ({"kind": "request", "id": "", "action": "ping"}, "request id"),
    ({"kind": "request", "id": "x" * 65, "action": "ping"}, "request id"),
    ({"kind": "request", "id": "x:\ud800", "action": "ping"}, "printable"),  # a lone surrogate
    ({"kind": "request", "id": "x:\n1", "action": "ping"}, "printable"),
    (req("ping", extra=1), "unknown request field"),
    (req("rm -rf /"), "unknown action"),
    (req("__init__"), "unknown action"),
    (req(7), "unknown action"),
    (req("cancel", []), "must be an object"),
    (req("cancel", {}), "needs the field 'job_id'"),
    (req("cancel", {"job_id": 5}), "non-empty string"),
    (req("cancel", {"job_id": "a", "b": 1}), "unknown field"),
    (req("cancel", {"job_id": "nope"}), "job 'nope' is unknown here"),
    (req("logs", {"job_id": "a", "limit": True}), "integer"),
    (req("logs", {"job_id": "a", "limit": 10**9}), "from 1"),
    (req("watch", {"view": "v", "job_ids": ["a"] * 9}), "at most 8"),
]


@pytest.mark.parametrize(("content", "why"), BAD_REQUESTS)
async def test_bad_requests_get_an_error_reply_and_a_warning(study, wire, caplog, content, why):
    engine, project, _ = study
    w = wire(JobMonitor(engine, project.id))
    with caplog.at_level(logging.WARNING, logger="pbrain_widgets.widgets"):
        w.raw(content)
    assert len(w.messages) == 1
    reply = w.messages[0]
    assert reply["kind"] == "reply" and reply["ok"] is False
    assert why in reply["error"]
    request_id = content.get("id", "") if isinstance(content, dict) else ""
    valid_id = 0 < len(request_id) <= 64 and request_id.isprintable()
    assert reply["id"] == (content["id"] if valid_id else None)
    assert any(why in r.getMessage() for r in caplog.records if r.name == "pbrain_widgets.widgets")
    assert engine.get_jobs() == []


async def test_an_engine_refusal_is_an_error_reply(study, wire):
    engine, project, subjects = study
    w = wire(JobMonitor(engine, project.id))
    job = engine.run_stage(project.id, subjects[0].id, "import")
    await engine.wait(timeout=5)
    reply = w.request("cancel", {"job_id": job.id})
    assert not reply["ok"] and "only queued or running jobs can be cancelled" in reply["error"]


async def test_an_unexpected_error_is_logged_and_answered(study, wire, caplog, monkeypatch):
    engine, project, _ = study
    w = wire(JobMonitor(engine, project.id))

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "cancel_all", broken)
    with caplog.at_level(logging.ERROR, logger="pbrain_widgets.widgets"):
        reply = w.request("cancel_all", {})
    assert not reply["ok"] and reply["error"] == "internal error; see the kernel's log"
    assert "boom" in caplog.text


@pytest.mark.parametrize(
    ("result", "error"),
    [
        (lambda: Path("/data/sub-01"), None),
        (lambda: {"eta": math.inf}, None),
        (lambda: "sub-\ud800", None),  # a lone surrogate
        (None, "bad name \ud800"),  # an error message that cannot be encoded either
    ],
    ids=["path", "inf", "lone-surrogate", "error-text"],
)
async def test_a_reply_that_cannot_be_encoded_becomes_an_error_reply(engine, wire, caplog, result, error):
    def handler(_payload):
        if error is not None:
            raise BadRequest(error)
        return result()

    w = wire(SyncWidget(engine, actions={"cancel_all": handler}))  # a declared action, answered oddly
    with caplog.at_level(logging.ERROR, logger="pbrain_widgets.widgets"):
        reply = w.request("cancel_all")
    assert reply["ok"] is False and "not encodable as JSON" in reply["error"]
    assert "cannot send its reply" in caplog.text
    assert w.ok("ping")["t"] > 0  # and the widget goes on answering


async def test_a_reply_that_cannot_be_sent_is_logged_not_raised(engine, caplog):
    widget = SyncWidget(engine)

    def gone(content, buffers=None):
        raise RuntimeError("comm closed")

    widget.send = gone
    with caplog.at_level(logging.ERROR):
        widget._handle_custom_msg({"kind": "request", "id": "x:1", "action": "ping"}, [])
        engine.call(lambda: None)
    assert "could not send its reply to request 'x:1'" in caplog.text
    assert "Exception in callback" not in caplog.text  # nothing escaped to the event loop
    widget.close()


async def test_ping_answers_at_once(study, wire):
    engine, project, _ = study
    w = wire(JobMonitor(engine, project.id))
    before = time.time()
    assert w.ok("ping")["t"] >= before


async def test_an_isolated_change_goes_out_at_once_and_a_burst_is_coalesced(study, wire):
    engine, project, subjects = study
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w)
    job = engine.run_stage(project.id, subjects[0].id, "import")
    await asyncio.sleep(0.02)  # one loop turn is enough for the first change
    assert len(w.patches) == 1
    assert w.patches[0]["rev"] == 1
    await engine.wait(timeout=10)
    await settle()
    revs = [p["rev"] for p in w.patches]
    assert revs == list(range(1, len(revs) + 1))
    view.follow()
    assert view.rows[job.id]["status"] == "completed"


async def test_patches_are_at_most_one_per_flush_interval(make_engine, wire):
    from pbrain_widgets import SimulatedRunner

    engine = make_engine(runner=SimulatedRunner(step_seconds=0.002, failure_rate=0), max_concurrent=20)
    project = engine.create_project("busy")
    engine.add_subjects(project.id, [f"s{i}" for i in range(40)])
    w = wire(JobMonitor(engine, project.id))
    view = JobsView(w, count=400)
    start = time.monotonic()
    engine.run_pipeline(project.id)
    await engine.wait(timeout=60)
    await settle()
    elapsed = time.monotonic() - start
    assert len(engine.get_jobs()) == 400
    assert len(w.patches) <= elapsed / FLUSH_INTERVAL + 2
    view.follow()
    assert view.window["listed"] == len(view.listed) == 400
    assert {row["status"] for row in view.listed} == {"completed"}


async def test_without_a_running_loop_a_change_is_sent_at_once(make_engine):
    engine = make_engine()
    project = engine.create_project("sync")
    monitor = JobMonitor(engine, project.id)
    sent = []
    monitor._channel.send = lambda content, buffers=None: sent.append(content)

    def add() -> None:
        engine.add_subjects(project.id, ["late"])

    await asyncio.get_running_loop().run_in_executor(None, add)  # a thread with no running loop
    engine.call(lambda: None)  # the flush was scheduled on the engine's thread before this
    assert sent and sent[0]["patches"][monitor._channel_key]["parts"]["jobs"]["subjects"]
    monitor.close()


async def test_snapshot_carries_the_last_revision(study, wire):
    engine, project, subjects = study
    w = wire(JobMonitor(engine, project.id))
    engine.run_stage(project.id, subjects[0].id, "import")
    await engine.wait(timeout=5)
    await settle()
    snap = w.ok("snapshot")
    assert snap["rev"] == w.patches[-1]["rev"] == w.widget.revision
    assert set(snap["parts"]) == {"jobs", "logs", "focus"}


async def test_close_unsubscribes_and_stops_sending(study, wire):
    engine, project, subjects = study
    baseline = listener_counts(engine)
    monitor = JobMonitor(engine, project.id)
    w = wire(monitor)
    assert listener_counts(engine) == (baseline[0] + 1, baseline[1], baseline[2] + 1)
    engine.run_stage(project.id, subjects[0].id, "import")
    monitor.close()
    assert listener_counts(engine) == baseline
    count = len(w.messages)
    await engine.wait(timeout=5)
    await settle()
    assert len(w.messages) == count


def test_a_widget_needs_an_engine():
    with pytest.raises(InvalidArgumentError, match="engine must be"):
        JobMonitor("not an engine")


async def test_requests_from_a_subshell_thread_are_answered_on_the_engine_thread(make_engine):
    from pbrain_widgets import JobStatus, SimulatedRunner

    engine = make_engine(runner=SimulatedRunner(step_seconds=0.5, failure_rate=0))
    project = engine.create_project("threads")
    (subject,) = engine.add_subjects(project.id, ["s"])
    monitor = JobMonitor(engine, project.id)
    sent: list[tuple[str, dict]] = []
    monitor.send = lambda content, buffers=None: sent.append((threading.current_thread().name, content))
    monitor._channel.send = monitor.send
    job = engine.run_stage(project.id, subject.id, "import")
    await asyncio.sleep(0.05)
    request = {"kind": "request", "id": "sub:1", "action": "cancel", "payload": {"job_id": job.id}}

    def subshell() -> None:  # what ipykernel 7 does with a comm message sent to a subshell
        async def deliver() -> None:
            monitor._handle_custom_msg(request, [])

        asyncio.run(deliver())

    thread = threading.Thread(target=subshell, name="subshell-test")
    thread.start()
    await asyncio.to_thread(thread.join)
    await settle()
    assert engine.get_job(job.id).status is JobStatus.CANCELLED
    (reply,) = [(name, m) for name, m in sent if m.get("id") == "sub:1"]
    assert reply[1]["ok"] and reply[0] == engine.thread.name
    assert {name for name, _ in sent} == {engine.thread.name}  # patches and replies alike
    monitor.close()


async def test_sends_happen_in_the_context_of_the_latest_view_message(study):
    """ipykernel routes a comm's next incoming messages to the subshell of the parent of its
    last outgoing message; the widget sends in the context the view's message arrived in."""
    import contextvars

    engine, project, _ = study
    parent: contextvars.ContextVar[str] = contextvars.ContextVar("parent", default="cell")
    monitor = JobMonitor(engine, project.id)
    seen: list[str] = []
    monitor.send = lambda content, buffers=None: seen.append(parent.get())
    monitor._channel.send = monitor.send  # the patches' comm (see the channel's route)

    def deliver() -> None:  # the kernel sets the shell parent, then hands the message over
        parent.set("subshell request")
        monitor._handle_custom_msg({"kind": "request", "id": "v:1", "action": "ping"}, [])

    thread = threading.Thread(target=deliver)
    thread.start()
    thread.join()
    engine.call(lambda: None)
    engine.run_pipeline(project.id)  # patches follow, scheduled from this context
    await settle(0.3)
    monitor.close()
    assert seen[0] == "subshell request" and len(seen) > 1
    assert set(seen) == {"subshell request"}


def test_a_widget_offers_only_actions_the_protocol_declares(engine):
    with pytest.raises(ValueError, match="'cancel_job' is not declared in protocol.ACTIONS"):
        SyncWidget(engine, actions={"cancel_job": lambda _payload: None})
