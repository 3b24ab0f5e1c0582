"""Fixtures for runner tests."""

from __future__ import annotations

import sys
import textwrap

import pytest


@pytest.fixture
def script(tmp_path):
    """Write a Python script and return the argv that runs it."""
    count = 0

    def write(code: str) -> list[str]:
        nonlocal count
        count += 1
        path = tmp_path / f"script{count}.py"
        path.write_text(textwrap.dedent(code))
        return [sys.executable, str(path)]

    return write
