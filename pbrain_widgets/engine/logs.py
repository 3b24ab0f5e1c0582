"""Job logs: numbered lines, the in-memory tails, truncation, and log listeners.

Every line a job logs gets the next ``seq`` of that job (1, 2, 3...), goes to the store (written
behind, one file per job) and to the listeners of that job. The newest :data:`LOG_TAIL_LINES`
lines of active jobs, and of the most recently finished ones, stay in memory so that views ask
the disk only for older pages.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from ..errors import check_count
from .events import KeyedListeners, Unsubscribe
from .models import LOG_TAIL_LINES, MAX_LINE_CHARS, LogEntry, LogLevel
from .store import Store, escape_unencodable

_KEPT_TAILS = 256
LOG_BACKLOG_LINES = 20_000
"""Unwritten lines of one job above which a runner reading a flood of output waits for the
store (:meth:`JobContext.log_room`): memory, and the garbage collector's pauses, stay bounded."""


def _truncate(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    cut = len(line) - MAX_LINE_CHARS
    return f"{line[:MAX_LINE_CHARS]}... [line truncated: {cut} more characters]"


class JobLogs:
    """The log lines of every job of one engine."""

    def __init__(self, store: Store, on_written: Callable[[], None]) -> None:
        self._store = store
        self._on_written = on_written
        self._tails: dict[str, deque[LogEntry]] = {}
        self._open: set[str] = set()  # jobs not ended: their tail is made with their first line
        self._old_tails: OrderedDict[str, deque[LogEntry]] = OrderedDict()
        self._seq: dict[str, int] = {}
        self.listeners: KeyedListeners[LogEntry] = KeyedListeners("job log")

    def open(self, job_id: str) -> None:
        """A new job: its log starts empty and its tail will be kept in memory (made with its
        first line, so that 100,000 queued jobs hold no empty tails)."""
        self._seq[job_id] = 0
        self._open.add(job_id)

    def retire(self, job_id: str) -> None:
        """A job ended: its tail joins the recently finished ones (the oldest are dropped)."""
        self._open.discard(job_id)
        tail = self._tails.pop(job_id, None)
        if tail is not None:
            self._old_tails[job_id] = tail
            if len(self._old_tails) > _KEPT_TAILS:
                self._old_tails.popitem(last=False)

    def tail_text(self, job_id: str) -> str:
        """The messages of the job's in-memory lines (its last :data:`LOG_TAIL_LINES`), one per
        line; ``""`` when none are in memory."""
        tail = self._tails.get(job_id)
        if tail is None:
            tail = self._old_tails.get(job_id)
        return "\n".join(e.message for e in tail) if tail else ""

    def count_stored(self, job_id: str) -> None:
        """A job loaded from the store: its next line continues the numbering on disk."""
        entries = self._store.read_logs(job_id)
        self._seq[job_id] = entries[-1].seq if entries else 0

    def append(self, job_id: str, level: LogLevel, message: str) -> None:
        """Add ``message`` (split into lines) to the job's log.

        What UTF-8 cannot encode is escaped first, so that memory, listeners and the file agree.
        """
        if job_id not in self._seq:
            self.count_stored(job_id)
        lines = message.splitlines() or [""]
        now = time.time()
        tail = self._tails.get(job_id)
        if tail is None:
            tail = self._old_tails.get(job_id)
            if tail is None and job_id in self._open:
                tail = self._tails[job_id] = deque(maxlen=LOG_TAIL_LINES)
        wants = self.listeners.wants(job_id)
        seq = self._seq[job_id]
        for line in lines:
            seq += 1
            entry = LogEntry(seq, now, level, _truncate(escape_unencodable(line)))
            if tail is not None:
                tail.append(entry)
            self._store.append_log(job_id, entry)
            if wants:
                self.listeners.emit(job_id, entry)
        self._seq[job_id] = seq
        self._on_written()

    async def room(self, job_id: str) -> None:
        """Return once the job has at most :data:`LOG_BACKLOG_LINES` lines not yet written."""
        while self._store.pending_log_lines(job_id) > LOG_BACKLOG_LINES:
            await asyncio.sleep(0.005)  # the write-behind writes a slice per loop turn

    def get(self, job_id: str, tail: int | None = None, before: int | None = None) -> list[LogEntry]:
        """The job's lines in order: all, or the last ``tail`` (of those with seq < ``before``)."""
        check_count("tail", tail, optional=True)
        check_count("before", before, optional=True)
        if tail == 0:
            return []
        memory = self._tails.get(job_id) or self._old_tails.get(job_id)
        total = self._seq.get(job_id)
        if memory is not None and total is not None and before is None:
            complete = len(memory) == total
            if complete or (tail is not None and tail <= len(memory)):
                lines = list(memory)
                return lines if tail is None else lines[-tail:]
        entries = self._store.read_logs(job_id)
        if before is not None:
            entries = [e for e in entries if e.seq < before]
        return entries if tail is None else entries[-tail:]

    def subscribe(self, job_id: str | None, callback: Callable[[LogEntry], Any]) -> Unsubscribe:
        return self.listeners.add(job_id, callback)
