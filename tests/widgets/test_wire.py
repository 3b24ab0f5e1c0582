"""The test wire encodes what widgets send as the kernel does, so non-JSON fails the tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from widget_helpers import over_the_wire


def test_plain_json_travels_as_a_view_receives_it():
    assert over_the_wire({"a": (1, 2.5, "é"), "b": None}) == {"a": [1, 2.5, "é"], "b": None}


@pytest.mark.parametrize(
    "value",
    [Path("/tmp/x"), math.nan, math.inf, "\ud800", "bad \udc80 byte", object()],
    ids=["path", "nan", "inf", "lone-surrogate", "surrogate-escape", "object"],
)
def test_what_the_kernel_cannot_send_fails(value):
    with pytest.raises((TypeError, ValueError)):
        over_the_wire({"kind": "reply", "result": value})
