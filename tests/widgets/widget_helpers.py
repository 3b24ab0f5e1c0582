"""Helpers for widget tests: capture what a widget sends, play the part of a view."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from jupyter_client.jsonutil import json_default

from pbrain_widgets.widgets import SyncWidget

_ids = itertools.count(1)


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


class Wire:
    """Everything one widget sent towards the browser, and a way to send it messages.

    ``messages`` holds the custom messages (replies and patches), ``states`` the state updates
    (``update`` and ``echo_update``), each as a view receives it (:func:`over_the_wire`).
    """

    def __init__(self, widget: SyncWidget) -> None:
        self.widget = widget
        self.messages: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.buffers: dict[str, list[bytes]] = {}
        """Binary buffers of replies, by request id."""
        widget._send = self._capture

    def _capture(self, msg: dict[str, Any], buffers: Any = None) -> None:
        msg = over_the_wire(msg)
        if msg["method"] == "custom":
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
        content = {"kind": "request", "id": request_id, "action": action, **extra}
        if payload is not None:
            content["payload"] = payload
        self.raw(content)
        replies = [m for m in self.messages if m["kind"] == "reply" and m["id"] == request_id]
        assert len(replies) == 1, f"expected one reply to {request_id}, got {replies}"
        return replies[0]

    async def request_later(self, action: str, payload: Any = None, timeout: float = 20.0) -> dict[str, Any]:
        """Like :meth:`request`, for an action answered when work in a thread is done."""
        request_id = f"test:{next(_ids)}"
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


async def settle(seconds: float = 0.15) -> None:
    """Let pending flushes (throttled to 0.1 s) go out."""
    await asyncio.sleep(seconds)


def patched_lines(patches: list[dict[str, Any]], job_id: str) -> list[list[Any]]:
    """The log lines of ``job_id`` that the patches carried, in order."""
    return [line for p in patches for line in p["parts"].get("logs", {}).get("lines", {}).get(job_id, [])]


def job_states(
    patches: list[dict[str, Any]], known: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict]:
    """Fold the jobs feed's patches (full rows, then changed fields) into each job's latest row,
    as a view does; a change for a job without a row fails."""
    jobs = {k: dict(v) for k, v in (known or {}).items()}
    for patch in patches:
        part = patch["parts"].get("jobs", {})
        for row in part.get("jobs", []):
            jobs[row["id"]] = dict(row)
        for change in part.get("changes", []):
            assert change["id"] in jobs, f"a change for a job the view has no row of: {change}"
            jobs[change["id"]].update(change)
    return jobs
