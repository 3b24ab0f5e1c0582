"""Recorders installed in the page before the kernel acts, read back after: what the DOM went
through, when, and how busy the main thread was."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, WebSocket

ARTIFACT_LATENCY = Path(__file__).parent / "artifacts" / "latency.txt"

_STAMPED_LINES_JS = """(selector) => {
    // line number -> seconds between the kernel's time.time() in the line and the line being
    // in the DOM (Date.now() in the MutationObserver callback, before the next paint)
    const seen = (window.__pbrainLineDelay = {});
    const scan = () => {
        const now = Date.now() / 1000;
        for (const root of document.querySelectorAll(selector)) {
            for (const line of root.querySelectorAll('.pw-line')) {
                const m = /line (\\d+) t=([\\d.]+)/.exec(line.textContent);
                if (m && !(m[1] in seen)) seen[m[1]] = now - parseFloat(m[2]);
            }
        }
    };
    new MutationObserver(scan).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

_HISTORY_JS = """([name, selector, attribute, separator]) => {
    // every distinct value each matching element showed, in order. With a separator the
    // attribute holds "<key><separator><value>"; without, the key is the aria-label.
    const all = (window.__pbrainHistory = window.__pbrainHistory || {});
    const history = (all[name] = {});
    const scan = () => {
        document.querySelectorAll(selector).forEach((el) => {
            const raw = attribute ? el.getAttribute(attribute) ?? '' : el.textContent;
            let key = el.getAttribute('aria-label') || '';
            let value = raw;
            if (separator) {
                const i = raw.lastIndexOf(separator);
                key = raw.slice(0, i);
                value = raw.slice(i + separator.length);
            }
            const seen = (history[key] = history[key] || []);
            if (seen[seen.length - 1] !== value) seen.push(value);
        });
    };
    scan();
    new MutationObserver(scan).observe(document.body, {
        childList: true, subtree: true, characterData: true, attributes: true,
    });
}"""

_LONG_TASKS_JS = """() => {
    const tasks = (window.__pbrainLongTasks = []);
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) tasks.push({start: e.startTime, duration: e.duration});
    }).observe({type: 'longtask'});
    return performance.now();
}"""

_SCROLL_FRAMES_JS = """([selector, interval]) => {
    // every `interval` ms, scroll the list three viewports on (back to the top at its end) and
    // time it to the frame after the one that first had a card at the viewport's middle: a
    // step waits there in spacer until the list renders the rows of its new window
    const state = (window.__pbrainScroll = {durations: [], busy: false});
    const covered = (list) => {
        const middle = list.getBoundingClientRect().top + list.clientHeight / 2;
        return Array.from(list.querySelectorAll('.pw-card')).some((card) => {
            const box = card.getBoundingClientRect();
            return box.top <= middle && box.bottom >= middle;
        });
    };
    const step = () => {
        const list = document.querySelector(selector);
        if (state.busy || !list || list.scrollHeight < 8 * list.clientHeight) return;
        const stride = 3 * list.clientHeight;
        const end = list.scrollHeight - list.clientHeight;
        state.busy = true;
        const started = performance.now();
        list.scrollTop = list.scrollTop + stride > end ? 0 : list.scrollTop + stride;
        const watch = () => {
            if (!list.isConnected) {
                state.busy = false;
            } else if (covered(list)) {
                requestAnimationFrame(() => {
                    state.durations.push(performance.now() - started);
                    state.busy = false;
                });
            } else {
                requestAnimationFrame(watch);
            }
        };
        requestAnimationFrame(watch);
    };
    state.timer = setInterval(step, interval);
}"""


_MAX_COUNT_JS = """(selector) => {
    // the most elements matching `selector` in the document at once, from now on
    window.__pbrainMaxCount = 0;
    new MutationObserver(() => {
        const n = document.querySelectorAll(selector).length;
        if (n > window.__pbrainMaxCount) window.__pbrainMaxCount = n;
    }).observe(document.body, {childList: true, subtree: true});
}"""


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Delays:
    """Per-line delays (seconds) from the kernel emitting a line to the line being in the DOM."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        return p95(self.values)

    def summary(self) -> str:
        return (
            f"log line delay, kernel emit -> DOM, {len(self.values)} lines: "
            f"median {self.median * 1000:.0f} ms, p95 {self.p95 * 1000:.0f} ms, "
            f"max {max(self.values) * 1000:.0f} ms"
        )


def record_stamped_lines(page: Page, selector: str) -> None:
    """Start timing the arrival of ``line <n> t=<time>`` log lines under ``selector``."""
    page.evaluate(_STAMPED_LINES_JS, selector)


def stamped_line_delays(page: Page) -> dict[int, float]:
    """Line number -> delay (seconds) of every stamped line seen so far."""
    raw: dict[str, float] = page.evaluate("() => window.__pbrainLineDelay")
    return {int(k): v for k, v in raw.items()}


def record_history(
    page: Page, name: str, selector: str, attribute: str | None = None, separator: str | None = None
) -> None:
    """Start recording, under ``name``, the values that elements matching ``selector`` show:
    ``attribute`` (or the text when None), keyed by aria-label, or split at ``separator``."""
    page.evaluate(_HISTORY_JS, [name, selector, attribute, separator])


def history(page: Page, name: str) -> dict[str, list[str]]:
    """Key -> the values shown, in order (consecutive repeats dropped)."""
    return page.evaluate("(name) => window.__pbrainHistory[name]", name)


def record_long_tasks(page: Page) -> float:
    """Start collecting long tasks (main-thread tasks over 50 ms); return performance.now()."""
    return page.evaluate(_LONG_TASKS_JS)


def long_tasks(page: Page, since: float = 0.0) -> list[dict[str, Any]]:
    """Long tasks that started after ``since`` (a performance.now() value)."""
    tasks = page.evaluate("() => window.__pbrainLongTasks")
    return [t for t in tasks if t["start"] >= since]


def record_max_count(page: Page, selector: str) -> None:
    """Start recording the most elements matching ``selector`` in the page at once."""
    page.evaluate(_MAX_COUNT_JS, selector)


def max_count(page: Page) -> int:
    """The most elements seen at once since :func:`record_max_count`."""
    return page.evaluate("() => window.__pbrainMaxCount")


def record_scroll_frames(page: Page, selector: str, interval_ms: int = 500) -> None:
    """Start scrolling the list at ``selector`` (a JobMonitor's scroll container of ``.pw-card``
    rows) by three of its heights every ``interval_ms``, timing each step (see scroll_frames)."""
    page.evaluate(_SCROLL_FRAMES_JS, [selector, interval_ms])


def scroll_frames(page: Page) -> list[float]:
    """Stop scrolling; for each step, the milliseconds from setting ``scrollTop`` to the
    animation frame after the one that first had a card in the middle of the list (a
    requestAnimationFrame pair: the frame that drew the cards, then the next one's start)."""
    return page.evaluate(
        "() => { clearInterval(window.__pbrainScroll.timer); return window.__pbrainScroll.durations; }"
    )


@dataclass
class KernelFrames:
    """What the page received on its kernels' websockets (``/api/kernels/<id>/channels``), one
    entry per frame: in JupyterLab a frame is one kernel message."""

    sizes: list[int] = field(default_factory=list)
    #: the frames themselves, when recorded with ``keep=True``
    payloads: list[bytes] = field(default_factory=list)

    @property
    def largest(self) -> int:
        return max(self.sizes, default=0)

    @property
    def total(self) -> int:
        return sum(self.sizes)


def record_kernel_frames(page: Page, keep: bool = False) -> KernelFrames:
    """Start recording every kernel -> browser websocket frame of sockets the page opens from
    now on (so before it opens the notebook; a reload's new socket counts too). Playwright hands
    the frames over while the script waits on the page."""
    frames = KernelFrames()

    def on_frame(data: bytes | str) -> None:
        payload = data if isinstance(data, bytes) else data.encode()
        frames.sizes.append(len(payload))
        if keep:
            frames.payloads.append(payload)

    def on_socket(ws: WebSocket) -> None:
        if "/api/kernels/" in ws.url:
            ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return frames
