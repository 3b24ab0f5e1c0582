"""Recorders installed in the page before the kernel acts, read back after: what the DOM went
through, when, and how busy the main thread was."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

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


@dataclass(frozen=True)
class Delays:
    """Per-line delays (seconds) from the kernel emitting a line to the line being in the DOM."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

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
