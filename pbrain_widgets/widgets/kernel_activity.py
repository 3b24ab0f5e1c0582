"""Whether the kernel's main thread is running a cell, from IPython's cell events.

Widgets tell their views so that a busy kernel reads as "busy", never as "disconnected": while a
cell runs, each widget sends a small beat every second from the engine's thread (its views may
not get their pings answered until the cell ends on kernels that deliver comm messages on the
main thread only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..engine.events import Listeners, Unsubscribe


class KernelActivity:
    """The busy flag of this process's IPython kernel (always idle outside IPython)."""

    def __init__(self) -> None:
        self.busy = False
        self._listeners: Listeners[bool] = Listeners("kernel activity")
        self._hooked = False
        self._lock = threading.Lock()

    def _hook(self) -> None:
        with self._lock:
            if self._hooked:
                return
            self._hooked = True
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is None:
            return
        # widgets are made by a cell, so the kernel is busy now; post_run_cell says when not
        self.busy = shell.execution_count is not None and getattr(shell, "kernel", None) is not None
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)

    def _pre_run_cell(self, _info: Any = None) -> None:
        self._set(True)

    def _post_run_cell(self, _result: Any = None) -> None:
        self._set(False)

    def _set(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self._listeners.emit(busy)

    def subscribe(self, callback: Callable[[bool], Any]) -> Unsubscribe:
        """Call ``callback(busy)`` (on the kernel's main thread) when a cell starts or ends."""
        self._hook()
        return self._listeners.add(callback)


kernel_activity = KernelActivity()
