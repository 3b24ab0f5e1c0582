"""No process a job starts outlives its cancel, ``close()`` or a SIGKILLed kernel, even one that
called setsid or double-forked into a daemon: a quick run of ``bench/containment.py`` (which
measures 100 trials of each pattern and end)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench" / "containment.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("containment", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


containment = _load_bench()


@pytest.mark.parametrize("end", containment.ENDS)
@pytest.mark.parametrize("pattern", containment.PATTERNS)
def test_no_process_of_a_job_survives(pattern, end):
    [(_, _, trials, survivors, slowest)] = containment.run(trials=2, batch=2, combos=[(pattern, end)])
    assert (trials, survivors) == (2, 0)
    assert slowest < containment.DEADLINE
