"""The engine's own thread: an asyncio event loop that runs every job, pipe, flush and timer.

Each :class:`~pbrain_widgets.engine.Engine` starts one :class:`LoopThread` and stops it on
``close()``. Everything that changes the engine's state runs on that thread, so the engine needs
no locks; callers on other threads (the kernel's main thread, the comm thread that delivers
widget messages, user threads) hand their call over with :meth:`LoopThread.call` and get its
result back. A notebook cell that blocks the main thread therefore never blocks the jobs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

from ..errors import EngineClosedError, PbrainWidgetsError

T = TypeVar("T")

_STOP_SECONDS = 5.0
SLICE_SECONDS = 0.008
"""Long work on the engine's loop gives the loop back after about this long."""
SCAN_STEP = 1000
"""How many jobs sliceable work handles between two pauses (``yield``) when each costs a few
microseconds (a scan of the engine's lists, a listing's filter or sort): a step of a few
milliseconds at most, so that :func:`drive_in_slices` keeps to about :data:`SLICE_SECONDS`."""


def drive(work: Generator[None, None, T]) -> T:
    """Run sliceable ``work`` (a generator that yields between steps) to its end at once."""
    while True:
        try:
            next(work)
        except StopIteration as stop:
            return stop.value


async def drive_in_slices(work: Generator[None, None, T]) -> T:
    """Run ``work`` on the running loop, giving the loop back every :data:`SLICE_SECONDS`, so
    that jobs, pipes and timers go on while a large request is served."""
    deadline = time.monotonic() + SLICE_SECONDS
    while True:
        try:
            next(work)
        except StopIteration as stop:
            return stop.value
        if time.monotonic() >= deadline:
            await asyncio.sleep(0)
            deadline = time.monotonic() + SLICE_SECONDS


class LoopThread:
    """A daemon thread running one event loop until :meth:`stop`."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._stopped = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._cancel_leftovers()
            self.loop.close()

    def _cancel_leftovers(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def is_current(self) -> bool:
        """Whether the caller runs on this loop's thread."""
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` run on the loop thread; its result (or exception) comes back here.

        On the loop thread itself, and once the loop is stopped (the engine is then read-only),
        it is a plain call.
        """
        if self.is_current():
            return fn(*args)
        with self._lock:
            future = None if self._stopped else self.submit_call(fn, *args)
        return fn(*args) if future is None else future.result()

    def submit_call(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Schedule ``fn(*args)`` on the loop; a future of its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller's thread
                future.set_exception(exc)

        self.call_soon(run)
        return future

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop soon; safe from any thread."""
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed
            raise EngineClosedError("this engine is closed; create a new Engine") from None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` as a task on the loop; a future of its result, usable from any thread."""
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:
            coro.close()
            raise EngineClosedError("this engine is closed; create a new Engine") from None

    def stop(self, timeout: float = _STOP_SECONDS) -> None:
        """Stop the loop and, unless called from the loop thread, wait for the thread to end."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            # calls scheduled before this point run before the loop stops (callbacks are FIFO)
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.is_current():
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise PbrainWidgetsError(
                    f"the engine thread did not stop within {timeout:.0f} s; a listener or runner "
                    "may be blocking it"
                )
