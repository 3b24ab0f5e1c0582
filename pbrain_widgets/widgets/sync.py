"""The sync base of every pbrain widget, and the reference of its kernel <-> view protocol.

The kernel is the source of truth. A widget's state lives in its *feeds* (see
:mod:`pbrain_widgets.widgets.feed`), named parts such as ``jobs``, ``logs`` or ``subject``. The
only synced traits are the widget's configuration (which view to draw, which project or job);
everything else travels as anywidget custom messages on the widget's one comm channel, because
traits would re-send whole values and custom messages can carry only what changed.

Messages from a view to the kernel (one shape)::

    {"kind": "request", "id": "<view prefix>:<n>", "action": "<name>", "payload": {...}}

``id`` is a string of 1 to 64 printable characters; each view uses a random prefix so that it can
recognise its own replies. Built-in actions: ``snapshot`` (no payload) and ``ping`` (no
payload). The feeds add theirs (``cancel``, ``retry``, ``watch``, ``logs``, ``run_pipeline``...).
Every action, its payload type and its result type, every message and every feed's snapshot and
patch are typed in :mod:`pbrain_widgets.widgets.protocol` (mirrored in ``js/src/protocol.ts``);
this docstring gives the rules.

Messages from the kernel to the views (sent to every view of the widget)::

    {"kind": "reply", "id": "<request id>", "ok": true, "result": ...}
    {"kind": "reply", "id": "<request id>", "ok": true, "result": ...} + buffers   (binary results)
    {"kind": "reply", "id": "<request id>", "ok": false, "error": "<why>"}
    {"kind": "reply", "id": null, "ok": false, "error": "<why>"}   (the request had no valid id)
    {"kind": "beat", "busy": <bool>, "store_error": <str or null>, "closed": <bool>, "t": <kernel time>}

A ``beat`` tells the kernel's health: it goes out when a cell starts or ends, every second while
a cell runs (see :mod:`pbrain_widgets.widgets.kernel_activity`), and when writing to the
engine's store starts failing or works again (``Engine.store_error``). The ``ping`` reply is
``{"t": <kernel time>, "busy": <bool>, "store_error": <str or null>, "closed": <bool>}``, and a
snapshot carries ``store_error`` and ``closed`` too. Anything heard from the kernel proves it
alive: a view shows "busy" (not "disconnected") while beats come, and "disconnected" only after
silence. ``closed`` says that the widget's engine was closed (``engine.close()``): the kernel
still answers, but nothing will change and every action fails, so a view says so and disables
its buttons. The beat when the cell that closed the engine ends tells the views at once; pings
and snapshots tell the ones that missed it. Once the engine is closed, every request but
``snapshot``, ``ping`` and ``jobs_window`` (what the engine left stays readable) gets the error
:data:`ENGINE_CLOSED`.

A reply may carry binary buffers (the comm message's ``buffers``, e.g. a PNG picture of a job
output); its ``result`` then describes them. A request whose work runs off the engine's loop
(rendering a picture in a thread) is answered when it is done; other requests are answered
meanwhile. A view ignores replies whose id does not carry its prefix. The ``snapshot`` result is
``{"rev": R, "t": <kernel time>, "parts": {"<feed>": <feed snapshot>, ...}}``: the full state
*now*, where R is the revision of the last patch sent.

Patches travel on the widget's engine channel (:mod:`pbrain_widgets.widgets.channel`), one comm
per engine shared by all of its widgets, whose model id and the widget's key on it are the
widget's ``_channel_id`` and ``_channel_key`` traits::

    {"kind": "patches", "t": <kernel time>,
     "patches": {"<channel key>": {"rev": <int>, "parts": {"<feed>": <feed patch>, ...}}, ...}}

Patches are numbered 1, 2, 3... per widget and carry only what changed since the previous
patch. Replies and beats go to the widget's own comm and patches to the channel, all through
the one IOPub socket, in the order they were sent. Rules for a view:

- On render it asks for a snapshot and buffers the patches that arrive meanwhile; custom messages
  are not replayed after a page reload and reach a view only after its code ran, so a view opened
  late, a second view and a reloaded view all rebuild their state this way.
- With the snapshot in hand it drops buffered patches with ``rev <= R`` and applies the rest in
  order. A patch may repeat changes the snapshot already holds (a snapshot includes changes not
  yet flushed), so every patch operation is idempotent: it sets records to their latest value,
  and log lines carry their per-job ``seq`` so that a view skips lines it already has.
- A patch whose ``rev`` skips a number means the view missed one: it asks for a new snapshot.
- ``t`` lets a view correct for a clock difference between kernel and browser (durations, ETAs).

Rate: feeds only record changes and wake their widget, which wakes its channel; the channel
flushes every woken widget with a leading-edge throttle, at most once per
:data:`~pbrain_widgets.widgets.channel.FLUSH_INTERVAL` (40 ms): an isolated change goes out at
once (on the next loop turn, so that changes made by one engine call travel together), a burst
waits for the next tick. Log lines go out on every tick; the other feeds (progress, statuses)
at most every :data:`~pbrain_widgets.widgets.channel.STATE_INTERVAL` (0.1 s), with the tick
after it. So an engine's widgets send at most 25 messages of patches a second together, however
many jobs change and however many widgets show them.

Threads: feeds, flushes and request handlers all run on the engine's thread (see
:mod:`pbrain_widgets.engine.loop_thread`). Engine events arrive there, the channel's flushes are
timers of the engine's loop, and a request is handed there from whichever thread the kernel delivers it on
(JupyterLab 4.6 sends comm messages to a kernel subshell, which ipykernel 7 runs on a thread of
its own; older kernels and other front ends deliver them on the main thread, so while a cell
blocks those clicks wait for it). Sending to the browser is thread-safe in ipykernel, so patches
flow while the kernel's main thread runs a cell.

Requests are validated (envelope, known action, payload schema, ids the engine knows and in the
widget's scope: :mod:`pbrain_widgets.widgets.scope`); a bad one is answered with an error reply
and a warning on the ``pbrain_widgets.widgets`` logger, and never raises into the kernel; a reply
that the kernel cannot send (not JSON, or text it cannot encode) becomes an error reply, so that
a view always gets an answer. Requests can only call the engine operations the feeds expose.
State updates from a view (comm ``update`` messages) are guarded by
:mod:`pbrain_widgets.widgets.guarded`.
``close()`` ends the feeds' engine subscriptions and takes the widget off its channel.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..engine import Engine
from ..errors import EngineClosedError, PbrainWidgetsError
from .channel import join_channel
from .feed import Binary, Feed, Handler, check_engine
from .kernel_activity import kernel_activity
from .protocol import ACTIONS, Health, Patch, Snapshot
from .validation import BadRequest, Schema, check_encodable, check_payload, check_request_id, schema_of

log = logging.getLogger("pbrain_widgets.widgets")

STATIC = Path(__file__).resolve().parent.parent / "static"
UNENCODABLE = "internal error: the reply is not encodable as JSON; see the kernel's log"
ENGINE_CLOSED = "the engine was closed; create a new one and re-run this cell"
"""The error of every request (but those that read: ``snapshot``, ``ping``, ``jobs_window``) once
the widget's engine is closed."""
_ALWAYS_ANSWERED = frozenset({"snapshot", "ping", "jobs_window"})  # reads of what the engine left
BEAT_SECONDS = 1.0
"""While a cell runs, seconds between two beats of a widget."""

if not (STATIC / "widget.js").is_file():
    raise ImportError(
        f"the widgets' front end is not built: {STATIC / 'widget.js'} is missing; build it with "
        "`make js` (or `cd js && npm ci && npm run build`), or install the package with pip"
    )


@dataclass(frozen=True)
class Action:
    """A request a view may send: its payload schema (from the protocol) and its handler."""

    schema: Schema
    handler: Handler


class SyncWidget(anywidget.AnyWidget):
    """Base of the pbrain widgets: one engine, a set of feeds; its replies on its own comm, its
    patches on the engine's channel.

    Subclasses set ``_view_kind`` (which front-end view draws them) and pass their feeds.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"
    _view_kind = traitlets.Unicode("").tag(sync=True)
    _channel_id = traitlets.Unicode("").tag(sync=True)
    """Model id of the engine channel that carries this widget's patches."""
    _channel_key = traitlets.Unicode("").tag(sync=True)
    """This widget's key in the channel's messages."""

    def __init__(
        self,
        engine: Engine,
        feeds: Iterable[Feed] = (),
        actions: Mapping[str, Handler] | None = None,
        **traits: Any,
    ) -> None:
        engine = check_engine(engine)
        self._channel, key = join_channel(engine, self)
        try:  # the channel's traits go in the comm's opening state: a view has them on render
            super().__init__(_channel_id=self._channel.model_id, _channel_key=key, **traits)
        except BaseException:
            self._channel.leave(key)
            raise
        self.engine = engine
        self._feeds: dict[str, Feed] = {}
        self._actions: dict[str, Action] = {}
        self._add_actions(
            {"snapshot": lambda _payload: self.snapshot(), "ping": lambda _payload: self._health()}
        )
        for feed in feeds:
            self._feeds[feed.name] = feed
            self._add_actions(feed.actions())
        self._add_actions(actions or {})
        self._rev = 0
        self._closed = False
        self._beat_handle: asyncio.TimerHandle | None = None
        # Until a view speaks, send in the context that created the widget (a cell's: the main
        # shell), never in whatever context an engine callback inherited: a message sent in the
        # context of another comm's subshell (which the front end deletes when that comm closes)
        # would route this widget's requests there.
        self._route: contextvars.Context = contextvars.copy_context()
        self._pending_replies: set[asyncio.Future[None]] = set()  # replies to work in a thread
        for feed in self._feeds.values():
            feed.bind(self._wake)
        self.on_msg(self._on_view_msg)
        self._end_activity = kernel_activity.subscribe(self._on_activity)
        self._end_store_watch = engine.on_store_error(lambda _error: self._beat())
        self._end_close_watch = engine.on_close(self._on_engine_close)
        if kernel_activity.busy:
            self._on_activity(True)

    def _add_actions(self, actions: Mapping[str, Handler]) -> None:
        for name, handler in actions.items():
            if name in self._actions:
                raise ValueError(f"two feeds of {type(self).__name__} both define the action {name!r}")
            if name not in ACTIONS:  # one name per action, typed once: the protocol lists them all
                raise ValueError(
                    f"{type(self).__name__}: action {name!r} is not declared in protocol.ACTIONS"
                )
            self._actions[name] = Action(schema_of(ACTIONS[name].payload), handler)

    @property
    def revision(self) -> int:
        """Number of the last patch sent."""
        return self._rev

    @property
    def actions(self) -> list[str]:
        """The action names that views may request."""
        return sorted(self._actions)

    def snapshot(self) -> Snapshot:
        """The full state of every feed, with the revision it corresponds to."""
        return {
            "rev": self._rev,
            "t": time.time(),
            "store_error": self.engine.store_error,
            "closed": self.engine.closed,
            "parts": {name: feed.snapshot() for name, feed in self._feeds.items()},
        }

    def _health(self) -> Health:
        engine = self.engine
        return {
            "busy": kernel_activity.busy,
            "store_error": engine.store_error,
            "closed": engine.closed,
            "t": time.time(),
        }

    # -- kernel -> views ---------------------------------------------------------------------

    def _on_engine_thread(self) -> bool:
        return threading.current_thread() is self.engine.thread

    def _wake(self) -> None:
        if not self._closed:
            self._channel.wake(self._channel_key)

    def flush(self) -> None:
        """Send now what changed since the last patch, with the other pending patches of the
        engine's channel (if anything did)."""
        self._channel.flush()

    def take_patch(self, everything: bool) -> Patch | None:
        """The channel's call (on the engine's thread): this widget's next patch, numbered, or
        ``None`` if nothing changed since the last one; of its live feeds only, unless
        ``everything``."""
        if self._closed:
            return None
        parts = {}
        for name, feed in self._feeds.items():
            if not (everything or feed.live):
                continue
            patch = feed.take_patch()
            if patch is not None:
                parts[name] = patch
        if not parts:
            return None
        self._rev += 1
        return {"rev": self._rev, "parts": parts}

    def _on_engine_close(self, _event: None) -> None:
        # the engine's loop stops after this: send what changed (jobs ended by close) and say closed
        self._channel.flush_now(everything=True)
        self._beat()

    def _on_activity(self, _busy: bool) -> None:
        # called on the kernel's main thread when a cell starts or ends
        if self._closed:
            return
        try:
            self.engine.call_soon(self._beat)
        except PbrainWidgetsError:  # the engine is closed: its loop is gone, beat from here
            self._send_beat()

    def _send_beat(self) -> Health:
        health = self._health()
        try:
            self._send_to_views({"kind": "beat", **health})
        except Exception:
            log.exception("%s: sending a beat failed", type(self).__name__)
        return health

    def _beat(self) -> None:
        if self._beat_handle is not None:
            self._beat_handle.cancel()
            self._beat_handle = None
        if self._closed:
            return
        health = self._send_beat()
        if health["busy"] and not health["closed"]:
            self._beat_handle = asyncio.get_running_loop().call_later(BEAT_SECONDS, self._beat)

    # -- views -> kernel ---------------------------------------------------------------------

    def _send_to_views(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """Send to the views in the context of the latest view message (see ``_on_view_msg``)."""
        self._route.copy().run(self.send, message, buffers)

    def _on_view_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # The kernel's context here holds this message as the shell parent, with the subshell the
        # front end sent it to. ipykernel routes the front end's next messages for this comm to
        # the subshell named by the parent of our last message; sending in this context keeps
        # them on the front end's subshell (live while a cell blocks), where sending in the
        # context of a cell would route them to the main shell (queued behind the cell).
        route = contextvars.copy_context()
        # whatever thread the kernel delivers on, the feeds live on the engine's thread
        if self._on_engine_thread() or self.engine.closed:
            self._answer_from(route, content)
        else:
            try:
                self.engine.call_soon(self._answer_from, route, content)
            except PbrainWidgetsError:  # closed meanwhile
                self._answer_from(route, content)

    def _answer_from(self, route: contextvars.Context, content: Any) -> None:
        self._route = self._channel.route = route
        self._answer(content)

    def _answer(self, content: Any) -> None:
        request_id: str | None = content.get("id") if isinstance(content, dict) else None
        try:  # reply with the request's id only if it is valid (so encodable)
            request_id = check_request_id(request_id)
        except BadRequest:
            request_id = None  # _handle_request says why in the error reply
        try:
            result = self._handle_request(content)
        except (BadRequest, PbrainWidgetsError) as exc:
            log.warning("%s rejected a request from the browser: %s", type(self).__name__, exc)
            self._reply(request_id, ok=False, error=str(exc))
        except Exception:
            log.exception("%s failed on a request from the browser", type(self).__name__)
            self._reply(request_id, ok=False, error="internal error; see the kernel's log")
        else:
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(self._reply_when_done(request_id, result))
                self._pending_replies.add(task)
                task.add_done_callback(self._pending_replies.discard)
            else:
                self._reply(request_id, ok=True, result=result)

    async def _reply_when_done(self, request_id: str | None, pending: Any) -> None:
        try:
            result = await pending
        except (BadRequest, PbrainWidgetsError) as exc:
            log.warning("%s rejected a request from the browser: %s", type(self).__name__, exc)
            self._reply(request_id, ok=False, error=str(exc))
        except Exception:
            log.exception("%s failed on a request from the browser", type(self).__name__)
            self._reply(request_id, ok=False, error="internal error; see the kernel's log")
        else:
            self._reply(request_id, ok=True, result=result)

    def _handle_request(self, content: Any) -> Any:
        if not isinstance(content, dict) or content.get("kind") != "request":
            raise BadRequest(f'a message must be {{"kind": "request", ...}}, got {str(content)[:80]!r}')
        check_request_id(content.get("id"))
        extra = sorted(set(content) - {"kind", "id", "action", "payload"})
        if extra:
            raise BadRequest(f"unknown request field(s) {extra}; valid: kind, id, action, payload")
        name = content.get("action")
        if not isinstance(name, str) or name not in self._actions:
            raise BadRequest(f"unknown action {str(name)[:80]!r}; valid actions: {', '.join(self.actions)}")
        if self.engine.closed and name not in _ALWAYS_ANSWERED:
            raise EngineClosedError(ENGINE_CLOSED)
        action = self._actions[name]
        payload = check_payload(name, content.get("payload"), action.schema)
        return action.handler(payload)

    def _reply(
        self, request_id: str | None, *, ok: bool, result: Any = None, error: str | None = None
    ) -> None:
        if self._closed:
            return
        message: dict[str, Any] = {"kind": "reply", "id": request_id, "ok": ok}
        buffers = None
        if isinstance(result, Binary):
            result, buffers = result.result, result.buffers
        if ok:
            message["result"] = result
        else:
            message["error"] = error
        try:
            check_encodable(message)
        except (TypeError, ValueError) as exc:  # the view would wait for ever: answer it anyway
            log.error("%s cannot send its reply to request %r: %s", type(self).__name__, request_id, exc)
            message = {"kind": "reply", "id": request_id, "ok": False, "error": UNENCODABLE}
            buffers = None
        try:
            self._send_to_views(message, buffers)
        except Exception:  # never raise into the kernel
            log.exception("%s could not send its reply to request %r", type(self).__name__, request_id)

    # -- life cycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop following the engine and close the widget's channel."""
        if not getattr(self, "_closed", True):  # __del__ may call this on a half-built widget
            self._closed = True
            self._end_activity()
            self._end_store_watch()
            self._end_close_watch()
            self._channel.leave(self._channel_key)
            for feed in self._feeds.values():
                feed.close()
        super().close()
