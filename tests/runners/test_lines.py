"""The line protocol: levels, progress lines and bounded splitting of raw output."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbrain_widgets import LogLevel
from pbrain_widgets.runners.lines import LINE_LIMIT, LineSplitter, parse_line


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("[ERROR] disk full", LogLevel.ERROR),
        ("ERROR: disk full", LogLevel.ERROR),
        ("  error: lower case too", LogLevel.ERROR),
        ("CRITICAL: out of memory", LogLevel.ERROR),
        ("[WARNING] low SNR", LogLevel.WARNING),
        ("WARNING: low SNR", LogLevel.WARNING),
        ("[WARN] low SNR", LogLevel.WARNING),
        ("[SUCCESS] fitted", LogLevel.SUCCESS),
        ("[DEBUG] voxel 12", LogLevel.DEBUG),
        ("INFO: plain", LogLevel.INFO),
        ("no marker here", LogLevel.INFO),
        ("an ERROR: inside the line is not a marker", LogLevel.INFO),
        ("ERRORS happen", LogLevel.INFO),
    ],
)
def test_levels_come_from_the_marker_at_the_start(line, level):
    parsed = parse_line(line)
    assert parsed.level is level
    assert parsed.message == line
    assert parsed.progress is None


def test_unmarked_lines_take_the_default_level():
    assert parse_line("plain", LogLevel.WARNING).level is LogLevel.WARNING


@pytest.mark.parametrize(
    ("line", "percent", "step"),
    [
        ("PROGRESS 45 Fitting voxels", 45.0, "Fitting voxels"),
        ("PROGRESS 45% Fitting voxels", 45.0, "Fitting voxels"),
        ("[PROGRESS] 45% - Fitting voxels", 45.0, "Fitting voxels"),
        ("[progress] 12.5%", 12.5, None),
        ("PROGRESS: 7 - load", 7.0, "load"),
        ("PROGRESS 250 over the top", 100.0, "over the top"),
        ("PROGRESS -3 below", 0.0, "below"),
    ],
)
def test_progress_lines(line, percent, step):
    parsed = parse_line(line)
    assert parsed.level is LogLevel.PROGRESS
    assert parsed.progress == percent
    assert parsed.step == step


@pytest.mark.parametrize("line", ["PROGRESS bar", "progressive rock 45", "[PROGRESS]"])
def test_lines_that_only_look_like_progress(line):
    assert parse_line(line).progress is None


def test_splitter_handles_chunks_crlf_carriage_returns_and_a_last_partial_line():
    splitter = LineSplitter()
    lines = [*splitter.feed(b"one\r\ntw"), *splitter.feed(b"o\n10%\r50%\r100%\nlast")]
    assert lines == ["one", "two", "100%"]
    assert list(splitter.close()) == ["last"]
    assert list(splitter.close()) == []


def test_splitter_decodes_utf8_split_across_chunks_and_replaces_garbage():
    splitter = LineSplitter()
    data = "é€".encode()
    lines = [*splitter.feed(data[:1]), *splitter.feed(data[1:] + b"\xff\xfe\x00x\n")]
    assert lines == ["é€\ufffd\ufffd\x00x"]


def test_splitter_bounds_a_long_line_and_says_how_much_was_dropped():
    splitter = LineSplitter(limit=10)
    lines = []
    for _ in range(100):
        lines += splitter.feed(b"x" * 1000)
    lines += splitter.feed(b"\nnext\n")
    assert lines == ["x" * 10 + " ... [line truncated: 99990 more characters]", "next"]
    assert LINE_LIMIT + 60 < 65536


@given(st.lists(st.binary(max_size=50), max_size=20))
def test_splitter_never_loses_lines(chunks):
    data = b"".join(chunks)
    splitter = LineSplitter()
    out = [line for chunk in chunks for line in splitter.feed(chunk)]
    out += splitter.close()
    expected = data.decode("utf-8", errors="replace").split("\n")
    if expected[-1] == "":
        expected.pop()
    expected = [e.removesuffix("\r").rsplit("\r", 1)[-1] for e in expected]
    assert out == expected
