"""The engine channel: one comm per engine that carries the patches of all of its widgets.

Every :class:`~pbrain_widgets.widgets.sync.SyncWidget` of one engine sends its patches through
that engine's :class:`EngineChannel`, a bare ipywidgets model with no view. The channel flushes
on one clock for all of them: an isolated change goes out at once (on the next loop turn, so that
the changes of one engine call travel together), a burst waits for the next tick, at most one
message per :data:`FLUSH_INTERVAL`. Every tick carries the log lines (the live feeds); the other
feeds' changes (progress, statuses) go out at most every :data:`STATE_INTERVAL`, with the first
tick after it. One message carries the patch of every widget that changed::

    {"kind": "patches", "t": <kernel time>, "patches": {"<channel key>": {"rev": <int>, "parts": {...}}}}

Each widget has its own key on its channel (its ``_channel_key`` trait) and keeps numbering its
own revisions; its views subscribe to the channel's model (its ``_channel_id`` trait) and read
only their key's entry. So a log line waits at most one tick, and the messages of a page are one
per tick whatever the number of widgets: a tick every 40 ms (25 a second) for every widget of an
engine, where a 0.1 s throttle per widget sent 10 a second for each of them.

Threads: flushes are timers of the engine's loop and run on the engine's thread, like the feeds;
:meth:`EngineChannel.wake` may be called from any thread. A view never sends on the channel;
the channel refuses any message and any state update from the browser.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import math
import threading
import time
from typing import Any, Protocol

import ipywidgets

from ..engine import Engine
from .protocol import Patch, Patches
from .validation import brief

log = logging.getLogger("pbrain_widgets.widgets")

FLUSH_INTERVAL = 0.04
"""Minimum seconds between two messages of one engine's channel (every widget of the engine):
the most a streamed log line waits."""
STATE_INTERVAL = 0.1
"""Minimum seconds between two ticks that carry the feeds other than the live ones (log lines).
Progress changes with every report: sent on every tick, 50 running jobs' progress cost twice the
bytes of 10 times a second, which a view does not need."""


class Member(Protocol):
    """A widget on a channel: what it changed since its previous patch, or ``None``."""

    def take_patch(self, everything: bool) -> Patch | None: ...


class EngineChannel(ipywidgets.Widget):
    """The channel of one engine's widgets (see the module's documentation). Widgets join it
    with :func:`join_channel`; it closes itself when its last widget leaves."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self._keys = itertools.count(1)
        self._members: dict[str, Member] = {}
        self._dirty: dict[str, None] = {}  # keys woken since the last flush, in order
        self._last_flush = -math.inf
        self._last_full = -math.inf  # the last tick that carried every feed
        self._handle: asyncio.Handle | None = None
        self._closed = False
        # a channel has no view of its own: send in the context of the latest view message of
        # any of its widgets (set by them), else in the one that created it (see SyncWidget)
        self.route: contextvars.Context = contextvars.copy_context()
        self.on_msg(self._refuse_message)

    def leave(self, key: str) -> None:
        """Remove a widget (what it had not sent is dropped); the last to leave closes the channel."""
        with _LOCK:
            self._members.pop(key, None)
            self._dirty.pop(key, None)
            last = not self._members
            if last and _CHANNELS.get(self.engine) is self:
                del _CHANNELS[self.engine]  # the engine's next widget opens a new channel
        if last:
            self.close()

    def wake(self, key: str) -> None:
        """The widget ``key`` has changes: flush soon (throttled). From any thread."""
        with _LOCK:
            self._dirty[key] = None
        if self._handle is not None or self._closed:
            return
        if threading.current_thread() is not self.engine.thread:
            if not self.engine.closed:
                self.engine.call_soon(self._schedule)
            return
        self._schedule()

    def _schedule(self) -> None:
        if self._handle is not None or self._closed:
            return
        loop = asyncio.get_running_loop()
        delay = self._last_flush + FLUSH_INTERVAL - time.monotonic()
        if delay <= 0:
            self._handle = loop.call_soon(self._scheduled_flush)
        else:
            self._handle = loop.call_later(delay, self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._handle = None
        try:
            self.flush_now()
        except Exception:
            log.exception("the engine channel failed to send its patches")

    def flush(self) -> None:
        """Send what every widget changed, now (from any thread)."""
        if threading.current_thread() is not self.engine.thread and not self.engine.closed:
            self.engine.call(self.flush_now, True)
        else:
            self.flush_now(everything=True)

    def flush_now(self, everything: bool = False) -> None:
        """Send, in one message, the patch of every widget woken since the last flush (on the
        engine's thread, or once the engine is closed): of every feed if ``everything`` or if
        :data:`STATE_INTERVAL` has passed since the last such tick, else of the live feeds, the
        widgets staying woken for the next tick."""
        if self._closed:
            return
        now = self._last_flush = time.monotonic()
        full = everything or now - self._last_full >= STATE_INTERVAL
        if full:
            self._last_full = now
        with _LOCK:
            woken = [(key, self._members[key]) for key in self._dirty if key in self._members]
            if full:
                self._dirty.clear()
        if not full and woken:  # the rest of their changes go with a later tick
            self._schedule()
        patches: dict[str, Patch] = {}
        for key, member in woken:
            try:
                patch = member.take_patch(full)
            except Exception:  # one widget's failure must not hold back the others
                log.exception("widget %s on the engine channel failed to make its patch", key)
                continue
            if patch is not None:
                patches[key] = patch
        if patches:
            message: Patches = {"kind": "patches", "t": time.time(), "patches": patches}
            self.route.copy().run(self.send, message)

    def _refuse_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        log.warning("the engine channel ignored a message from the browser: %s", brief(content))

    def set_state(self, sync_data: Any) -> None:
        """A view may set nothing on the channel: every state update is refused (and logged)."""
        log.warning("the engine channel refused a state update from the browser: %s", brief(sync_data))

    def close(self) -> None:
        """Stop flushing and close the channel's comm."""
        if not getattr(self, "_closed", True):  # __del__ may call this on a half-built channel
            self._closed = True
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
        super().close()


_CHANNELS: dict[Engine, EngineChannel] = {}
"""The open channel of each engine that has widgets."""
_LOCK = threading.Lock()
"""Guards the channels, their members and their woken keys: widgets come and go on any thread."""


def join_channel(engine: Engine, member: Member) -> tuple[EngineChannel, str]:
    """Put ``member`` on the engine's channel (opened on first use); return the channel and the
    member's key on it."""
    with _LOCK:
        channel = _CHANNELS.get(engine)
        if channel is None:
            channel = _CHANNELS[engine] = EngineChannel(engine)
        key = str(next(channel._keys))
        channel._members[key] = member
        return channel, key
