"""Keeping Python's full garbage collections short while an engine holds many jobs.

CPython 3.11 scans every tracked object of the process in a full (generation 2) collection, and
starts one whenever the survivors grew by a quarter: while 100,000 jobs are planned, seven full
collections of 15-110 ms each stall the engine's loop. A job record lives as long as its engine,
so scanning it again and again finds nothing. Once an engine made :data:`FREEZE_EVERY_JOBS` new
records, :func:`gc.freeze` moves every tracked object of the process into the permanent
generation, which collections skip (an O(1) list move). Objects are still freed by reference
counting as usual; only cyclic garbage that exists at the moment of a freeze waits until
:func:`gc.unfreeze`, which runs when the last engine that froze is closed (the first freeze
collects once before it, so the garbage it could keep is at most what the process made since).
"""

from __future__ import annotations

import gc
import threading

FREEZE_EVERY_JOBS = 2_000
"""New job records after which an engine freezes the process's tracked objects."""

_lock = threading.Lock()
_holders = 0
"""Engines that froze objects and are not closed yet; the last to close unfreezes."""


class LongLivedRecords:
    """One engine's count of new long-lived records, freezing after each
    :data:`FREEZE_EVERY_JOBS` of them; :meth:`release` when the engine closes."""

    def __init__(self) -> None:
        self._since_freeze = 0
        self._holding = False

    def added(self, count: int = 1) -> None:
        """``count`` records were made that live as long as the engine (or, in a batch, job
        events whose copies survive young collections until widgets send them)."""
        self._since_freeze += count
        if self._since_freeze < FREEZE_EVERY_JOBS:
            return
        self._since_freeze = 0
        global _holders
        with _lock:
            if not self._holding:
                if _holders == 0 and gc.isenabled():
                    gc.collect()  # what was garbage before the first freeze is not kept
                self._holding = True
                _holders += 1
            gc.freeze()

    def release(self) -> None:
        """The engine closed: its records may be garbage now."""
        global _holders
        with _lock:
            if not self._holding:
                return
            self._holding = False
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
