"""The text line protocol of commands and worker output: bounded line splitting, levels, progress.

A line's level comes from a marker at its start (case-insensitive, after leading spaces):

- ``[ERROR]``, ``ERROR:``, ``[CRITICAL]``, ``CRITICAL:``, ``FATAL:`` -> ERROR
- ``[WARNING]``, ``WARNING:``, ``[WARN]``, ``WARN:`` -> WARNING
- ``[SUCCESS]``, ``SUCCESS:`` -> SUCCESS
- ``[DEBUG]``, ``DEBUG:`` -> DEBUG
- ``[INFO]``, ``INFO:`` -> INFO

A line without a marker gets the stream's default level (INFO for stdout and stderr alike:
many tools, Python's ``logging`` among them, write ordinary messages to stderr). The marker
stays in the stored message.

Progress lines set the job's progress and current step, and are stored at level PROGRESS::

    PROGRESS 45 Fitting voxels
    PROGRESS 45% Fitting voxels
    [PROGRESS] 45% - Fitting voxels

The percent is a number from 0 to 100 (values outside are clamped); the step text is optional.

Output lines record something the job produced (see ``JobContext.output``), and are stored at
level INFO::

    OUTPUT {"path": "maps/ki.nii.gz", "kind": "map", "label": "Ki", "group": "patlak"}
    [OUTPUT] {"path": "qc/montage.png"}
    OUTPUT: {"kind": "value", "label": "CNR median", "value": 4.2, "unit": "a.u."}
    OUTPUT {"kind": "qc", "label": "kinetic QC", "value": "warn"}

After the marker comes one JSON object whose keys are those of ``JobContext.output``:
``path`` (relative to the subject's folder, or absolute), ``kind`` (``image``, ``map``,
``table``, ``curve``, ``file``, ``value``, ``qc``; default from the file's name), ``label``,
``value``, ``unit``, ``group``. An output line that is not valid fails the job when it ends,
with the reason in its log.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.models import MAX_LINE_CHARS, LogLevel
from ..engine.runner import OUTPUT_FIELDS
from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from ..engine.runner import JobContext

_LEVEL_RE = re.compile(
    r"^\s*(?:\[(?P<bracket>error|critical|warning|warn|success|debug|info)\]"
    r"|(?P<colon>error|critical|fatal|warning|warn|success|debug|info):)",
    re.IGNORECASE,
)
_LEVELS = {
    "error": LogLevel.ERROR,
    "critical": LogLevel.ERROR,
    "fatal": LogLevel.ERROR,
    "warning": LogLevel.WARNING,
    "warn": LogLevel.WARNING,
    "success": LogLevel.SUCCESS,
    "debug": LogLevel.DEBUG,
    "info": LogLevel.INFO,
}
_PROGRESS_RE = re.compile(
    r"^\s*(?:\[progress\]|progress:?)\s+(?P<pct>[-+]?\d+(?:\.\d+)?)\s*%?\s*(?:[-:\u2013]\s*)?(?P<step>.*?)\s*$",
    re.IGNORECASE,
)
_OUTPUT_RE = re.compile(r"^\s*(?:\[output\]|output:?)\s+(?P<json>\{.*\})\s*$", re.IGNORECASE)

LINE_LIMIT = MAX_LINE_CHARS - 64
"""Characters kept of one output line; the rest of a longer line is dropped with a note."""


@dataclass(frozen=True)
class ParsedLine:
    """A line of output as it goes to the job's log."""

    level: LogLevel
    message: str
    progress: float | None = None
    step: str | None = None
    output: dict[str, Any] | None = None
    """The arguments of ``JobContext.output`` that an output line gives."""
    output_error: str | None = None
    """Why an output line could not be read."""


def _parse_output(text: str, found: str) -> ParsedLine:
    try:
        fields = json.loads(found)
    except ValueError as exc:
        return ParsedLine(LogLevel.INFO, text, output_error=f"not valid JSON ({exc})")
    unknown = sorted(set(fields) - set(OUTPUT_FIELDS))
    if unknown:
        valid = ", ".join(OUTPUT_FIELDS)
        return ParsedLine(LogLevel.INFO, text, output_error=f"unknown key(s) {unknown}; valid keys: {valid}")
    return ParsedLine(LogLevel.INFO, text, output=fields)


def parse_line(text: str, default: LogLevel = LogLevel.INFO) -> ParsedLine:
    """Level, message and progress or output report of one line of output (see the module
    docstring)."""
    match = _OUTPUT_RE.match(text)
    if match is not None:
        return _parse_output(text, match["json"])
    match = _PROGRESS_RE.match(text)
    if match is not None:
        percent = min(100.0, max(0.0, float(match["pct"])))
        return ParsedLine(LogLevel.PROGRESS, text, percent, match["step"] or None)
    match = _LEVEL_RE.match(text)
    if match is not None:
        return ParsedLine(_LEVELS[(match["bracket"] or match["colon"]).lower()], text)
    return ParsedLine(default, text)


def report_line(ctx: JobContext, line: str) -> str | None:
    """Put one line of output into the job: its log, and the progress or output it reports.

    Returns why an output line was refused (the line is logged with an ERROR saying so), so that
    the runner can fail the job when it ends; ``None`` otherwise.
    """
    parsed = parse_line(line)
    ctx.log(parsed.level, parsed.message)
    if parsed.progress is not None:
        ctx.progress(parsed.progress, parsed.step)
    error = parsed.output_error
    if parsed.output is not None:
        try:
            ctx.output(**parsed.output)
        except InvalidArgumentError as exc:
            error = str(exc)
    if error is not None:
        ctx.log(LogLevel.ERROR, f"output refused: {error}")
    return error


class LineSplitter:
    """Turns a byte stream into bounded text lines, as the bytes come.

    Bytes are decoded as UTF-8 with invalid sequences shown as U+FFFD. Lines end at ``\\n``;
    within a line, ``\\r`` (a terminal progress bar rewriting itself) keeps only the text after
    the last one. A line longer than ``limit`` characters keeps its first ``limit`` characters
    plus a note of how many were dropped; memory stays bounded whatever the input.
    """

    def __init__(self, limit: int = LINE_LIMIT) -> None:
        self.limit = limit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def feed(self, data: bytes) -> Iterator[str]:
        """The lines completed by ``data``."""
        yield from self._split(self._decoder.decode(data))

    def close(self) -> Iterator[str]:
        """The last line, if the stream did not end with a newline."""
        yield from self._split(self._decoder.decode(b"", final=True))
        if self._parts or self._dropped:
            yield self._take()

    def _split(self, text: str) -> Iterator[str]:
        while text:
            head, newline, text = text.partition("\n")
            self._add(head)
            if newline:
                yield self._take()

    def _add(self, text: str) -> None:
        room = self.limit - self._kept
        if len(text) > room:
            self._dropped += len(text) - room
            text = text[:room]
        if text:
            self._parts.append(text)
            self._kept += len(text)

    def _take(self) -> str:
        line = "".join(self._parts)
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            line = line.rsplit("\r", 1)[1]
        if self._dropped:
            line += f" ... [line truncated: {self._dropped} more characters]"
        self._parts.clear()
        self._kept = 0
        self._dropped = 0
        return line
