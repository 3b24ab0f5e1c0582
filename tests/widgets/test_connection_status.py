"""ConnectionStatus: answers pings, follows no engine event, checks its timing."""

from __future__ import annotations

import time

import pytest

from pbrain_widgets import InvalidArgumentError
from pbrain_widgets.widgets import ConnectionStatus


async def test_pings_are_answered_and_nothing_else_is_sent(study, wire):
    engine, project, subjects = study
    status = ConnectionStatus(engine)
    w = wire(status)
    assert status.actions == ["ping", "snapshot"]
    before = time.time()
    assert w.ok("ping")["t"] >= before
    engine.run_pipeline(project.id)
    await engine.wait(timeout=10)
    assert [m["kind"] for m in w.messages] == ["reply"]
    assert w.ok("snapshot")["parts"] == {}


@pytest.mark.parametrize(("interval", "timeout"), [(50, 3000), (2000, 1000), (1000, 6000)])
def test_timings_must_show_a_disconnect_within_five_seconds(make_engine, interval, timeout):
    with pytest.raises(InvalidArgumentError, match="within 5 s"):
        ConnectionStatus(make_engine(), interval_ms=interval, timeout_ms=timeout)
