"""Helpers for widget tests: capture what a widget sends, play the part of a view."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from jupyter_client.jsonutil import json_default
from protocol_check import check_type

from pbrain_widgets.widgets import SyncWidget
from pbrain_widgets.widgets.protocol import ACTIONS, FEEDS, KernelMessage, Patches

_ids = itertools.count(1)
REPLY_SECONDS = 20.0


def over_the_wire(data: Any) -> Any:
    """``data`` as a view receives it: encoded as the kernel encodes comm messages (the first,
    non-deprecated attempt of jupyter_client's ``json_packer``), decoded as strict UTF-8 JSON.

    A value the kernel cannot encode (a ``Path``, ``NaN``, a lone surrogate) raises, and so does
    one that it would encode into bytes a browser cannot read as UTF-8 (surrogate escapes).
    """
    packed = json.dumps(data, default=json_default, ensure_ascii=False, allow_nan=False).encode(
        "utf8", errors="surrogateescape"
    )
    return json.loads(packed.decode("utf8"))


def check_patches(message: dict[str, Any]) -> None:
    """Fail unless ``message`` is what the protocol says an engine channel sends: ``patches``,
    each feed's patch of its feed's patch type."""
    check_type(message, Patches)
    for key, patch in message["patches"].items():
        for name, part in patch["parts"].items():
            check_type(part, FEEDS[name][1], f"patches.{key}.parts.{name}")


def check_message(message: dict[str, Any], actions: dict[str, str]) -> None:
    """Fail unless ``message`` is what the protocol says: a kernel message, each reply's result
    of its action's result type (``actions``: the action of each request id)."""
    check_type(message, KernelMessage)
    if message["kind"] == "reply" and message["ok"] and message["id"] in actions:
        action = actions[message["id"]]
        check_type(message["result"], ACTIONS[action].result, f"reply to {action}")
        if action == "snapshot":
            for name, part in message["result"]["parts"].items():
                check_type(part, FEEDS[name][0], f"snapshot.parts.{name}")


class Wire:
    """Everything one widget sent towards the browser, and a way to send it messages.

    ``messages`` holds the custom messages (replies, beats and patches), ``states`` the state
    updates (``update`` and ``echo_update``), each as a view receives it (:func:`over_the_wire`).
    Patches are this widget's entries of its engine channel's messages, as
    ``{"kind": "patch", "rev", "t", "parts"}`` (``t`` of the channel's message). Every custom
    message is checked against the protocol's types (:func:`check_message`,
    :func:`check_patches`).
    """

    def __init__(self, widget: SyncWidget) -> None:
        self.widget = widget
        self.messages: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.buffers: dict[str, list[bytes]] = {}
        """Binary buffers of replies, by request id."""
        self._actions: dict[str, str] = {}
        widget._send = self._capture
        channel, key = widget._channel, widget._channel_key
        forward = channel._send  # another wire's capture, or the channel's comm

        def capture_channel(msg: dict[str, Any], buffers: Any = None) -> None:
            seen = over_the_wire(msg)
            if seen["method"] == "custom":
                check_patches(seen["content"])
                mine = seen["content"]["patches"].get(key)
                if mine is not None:
                    self.messages.append({"kind": "patch", "t": seen["content"]["t"], **mine})
            forward(msg, buffers)

        channel._send = capture_channel

    def _capture(self, msg: dict[str, Any], buffers: Any = None) -> None:
        msg = over_the_wire(msg)
        if msg["method"] == "custom":
            check_message(msg["content"], self._actions)
            self.messages.append(msg["content"])
            if buffers:
                self.buffers[msg["content"]["id"]] = [bytes(b) for b in buffers]
        else:
            self.states.append(msg)

    @property
    def patches(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["kind"] == "patch"]

    def request(self, action: Any, payload: Any = None, **extra: Any) -> dict[str, Any]:
        """Deliver a request the way a view's message arrives, and return the reply to it."""
        request_id = f"test:{next(_ids)}"
        if isinstance(action, str):
            self._actions[request_id] = action
        content = {"kind": "request", "id": request_id, "action": action, **extra}
        if payload is not None:
            content["payload"] = payload
        self.raw(content)
        deadline = time.monotonic() + REPLY_SECONDS  # a reply made in slices comes a little later
        while True:
            replies = [m for m in self.messages if m["kind"] == "reply" and m["id"] == request_id]
            if replies or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        assert len(replies) == 1, f"expected one reply to {request_id}, got {replies}"
        return replies[0]

    async def request_later(self, action: str, payload: Any = None, timeout: float = 20.0) -> dict[str, Any]:
        """Like :meth:`request`, for an action answered when work in a thread is done."""
        request_id = f"test:{next(_ids)}"
        self._actions[request_id] = action
        self.raw({"kind": "request", "id": request_id, "action": action, "payload": payload or {}})
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            replies = [m for m in self.messages if m["kind"] == "reply" and m["id"] == request_id]
            if replies:
                return {**replies[0], "buffers": self.buffers.get(request_id, [])}
            await asyncio.sleep(0.02)
        raise AssertionError(f"no reply to {action} within {timeout} s")

    def raw(self, content: Any) -> None:
        """Deliver a custom message as the kernel does (decoded from JSON, on this thread); the
        widget answers it on the engine's thread, so wait for that thread to pass this point."""
        self.widget._handle_custom_msg(json.loads(json.dumps(content)), [])
        if not self.widget.engine.closed:
            self.widget.engine.call(lambda: None)

    def update(self, state: dict[str, Any]) -> None:
        """Deliver a comm ``update`` message from a view, as ipywidgets does (``set_state``)."""
        self.widget.set_state(json.loads(json.dumps(state)))

    def ok(self, action: str, payload: Any = None) -> Any:
        reply = self.request(action, payload)
        assert reply["ok"], reply
        return reply["result"]


async def settle(seconds: float = 0.3) -> None:
    """Let pending flushes (throttled to 40 ms) go out (with room for a loaded machine)."""
    await asyncio.sleep(seconds)


def patched_lines(patches: list[dict[str, Any]], job_id: str) -> list[list[Any]]:
    """The log lines of ``job_id`` that the patches carried, in order."""
    return [line for p in patches for line in p["parts"].get("logs", {}).get("lines", {}).get(job_id, [])]


def table_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a job table as a view reads them (fill and coded columns expanded)."""
    columns = {}
    for name, column in table["columns"].items():
        if isinstance(column, list):
            columns[name] = column
        elif "fill" in column:
            columns[name] = [column["fill"]] * table["n"]
        else:
            columns[name] = [column["values"][code] for code in column["codes"]]
    assert all(len(values) == table["n"] for values in columns.values()), table
    return [{name: values[i] for name, values in columns.items()} for i in range(table["n"])]


def grid_states(
    patches: list[dict[str, Any]], known: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict]:
    """Fold the project feed's patches (whole subject rows, then changed cells) into each
    subject's statuses, as a view does."""
    statuses = {k: dict(v) for k, v in (known or {}).items()}
    for patch in patches:
        part = patch["parts"].get("project", {})
        for row in part.get("subjects", []):
            statuses[row["id"]] = dict(row["statuses"])
        for subject_id, cells in part.get("cells", {}).items():
            assert subject_id in statuses, f"cells of a subject the view has no row of: {subject_id}"
            statuses[subject_id].update(cells)
    return statuses


def latest_jobs(
    patches: list[dict[str, Any]], known: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict]:
    """Fold the subject feed's patches into each stage's newest job, as a view does."""
    latest = {k: dict(v) for k, v in (known or {}).items()}
    for patch in patches:
        part = patch["parts"].get("subject", {})
        if "reset" in part:
            latest = {k: dict(v) for k, v in part["reset"]["latest"].items()}
        for stage, row in part.get("latest", {}).items():
            if stage not in latest or row["seq"] >= latest[stage]["seq"]:
                latest[stage] = dict(row)
        by_seq = {row["seq"]: row for row in latest.values()}
        for name, pairs in part.get("changes", {}).items():
            for seq, value in pairs:
                if seq in by_seq:
                    by_seq[seq][name] = value
    return latest


class JobsView:
    """A JobMonitor view as the browser keeps it: it asks for a window (``jobs_window``) and
    holds the rows of its window only, from the reply and then the patches meant for it."""

    def __init__(self, wire: Wire, view: str = "view-1", **spec: Any) -> None:
        self.wire = wire
        self.view = view
        self.spec: dict[str, Any] = {
            "tab": "all",
            "history": False,
            "offset": 0,
            "count": 100,
            "pinned": [],
            "keep": [],
        }
        self.asked = 0
        self.rows: dict[str, dict[str, Any]] = {}
        self.window: dict[str, Any] = {}
        self.seen = 0
        self.ask(**spec)

    def payload(self, **spec: Any) -> dict[str, Any]:
        self.spec.update(spec)
        self.asked += 1
        return {"view": self.view, "asked": self.asked, **self.spec}

    def ask(self, **spec: Any) -> dict[str, Any]:
        """Ask for the window (with these changes to what it lists); the reply's rows replace
        what the view held."""
        result = self.wire.ok("jobs_window", self.payload(**spec))
        self.seen = len(self.wire.patches)  # the patches already sent are older than the reply
        self.rows = {}
        self._put(result["jobs"], {})
        self._show(result["window"])
        return result

    def _put(self, table: dict[str, Any] | None, changes: dict[str, Any]) -> None:
        for row in table_rows(table) if table else []:
            self.rows[row["id"]] = row
        by_seq = {row["seq"]: row for row in self.rows.values()}
        for name, pairs in changes.items():
            for seq, value in pairs:
                if seq in by_seq:
                    by_seq[seq][name] = value

    def _show(self, window: dict[str, Any]) -> None:
        if window["asked"] < self.window.get("asked", 0):
            return
        self.window = window
        keep = set(window["ids"]) | set(window["held"])
        assert {row["seq"] for row in self.rows.values() if row["seq"] in keep} == keep, "a row is missing"
        self.rows = {k: row for k, row in self.rows.items() if row["seq"] in keep}

    def follow(self) -> list[dict[str, Any]]:
        """Apply the patches that came since; returns this feed's parts of them."""
        parts = [p["parts"]["jobs"] for p in self.wire.patches[self.seen :] if "jobs" in p["parts"]]
        self.seen = len(self.wire.patches)
        for part in parts:
            self._put(part.get("jobs"), part.get("changes", {}))
            mine = part.get("windows", {}).get(self.view)
            if mine is not None:
                self._show(mine)
        return parts

    @property
    def listed(self) -> list[dict[str, Any]]:
        """The rows of the window, in the listing's order."""
        by_seq = {row["seq"]: row for row in self.rows.values()}
        return [by_seq[seq] for seq in self.window["ids"]]
