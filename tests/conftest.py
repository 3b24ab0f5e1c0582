"""Shared fixtures: throwaway engines on the test's own event loop."""

from __future__ import annotations

import pytest

from pbrain_widgets import Engine, SimulatedRunner


@pytest.fixture
def make_engine(tmp_path):
    """Factory for engines that are closed after the test."""
    engines: list[Engine] = []

    def make(db_path=":memory:", **kwargs) -> Engine:
        kwargs.setdefault("runner", SimulatedRunner(step_seconds=0.005, failure_rate=0))
        engine = Engine(db_path=db_path, **kwargs)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine) -> Engine:
    return make_engine()
