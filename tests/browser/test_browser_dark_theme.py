"""The widgets under JupyterLab's dark theme: text and background contrast (WCAG 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from widget_dom import card, connection_status, dashboard, job_monitor, next_frame

# text-bearing parts of every view; each is checked wherever it appears
CHECKED = [
    ".pw-title",
    ".pw-muted",
    ".pw-stat-value",
    ".pw-stat-label",
    ".pw-tab",
    ".pw-count",
    ".pw-strong",
    ".pw-badge",
    ".pw-step",
    ".pw-error-text",
    ".pw-btn",
    ".pw-link",
    ".pw-details dt",
    ".pw-details dd",
    ".pw-line-time",
    ".pw-line-level",
    ".pw-line-msg",
    ".pw-conn",
    ".pw-legend li",
    ".pw-stage-head",
    ".pw-total",
    ".pw-cell-pct",
    ".pw-chip",
]

_CONTRAST_JS = """(selectors) => {
    const ctx = Object.assign(document.createElement('canvas'), {width: 1, height: 1})
        .getContext('2d', {willReadFrequently: true});
    // any CSS colour -> [r, g, b, a] in 0-255 / 0-1, whatever syntax the stylesheet used
    const rgba = (colour) => {
        ctx.clearRect(0, 0, 1, 1);
        ctx.fillStyle = '#0000';
        ctx.fillStyle = colour;
        ctx.fillRect(0, 0, 1, 1);
        const d = ctx.getImageData(0, 0, 1, 1).data;
        return [d[0], d[1], d[2], d[3] / 255];
    };
    const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
    const luminance = (c) => {
        const [r, g, b] = c.slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (el) => {
        const layers = [];
        for (let node = el; node; node = node.parentElement) {
            const c = rgba(getComputedStyle(node).backgroundColor);
            if (c[3] > 0) layers.push(c);
            if (c[3] === 1) break;
        }
        let result = [255, 255, 255, 1];
        for (const layer of layers.reverse()) result = over(layer, result);
        return result;
    };
    const results = [];
    for (const selector of selectors) {
        for (const el of document.querySelectorAll(`.pw-root ${selector}, .pw-root${selector}`)) {
            const text = el.textContent.trim();
            if (!text || !el.checkVisibility() || el.closest(':disabled')) continue;
            const style = getComputedStyle(el);
            let opacity = 1;
            for (let node = el; node; node = node.parentElement) {
                opacity *= Number(getComputedStyle(node).opacity);
            }
            const fg = rgba(style.color);
            fg[3] *= opacity;
            const bg = background(el);
            const [l1, l2] = [luminance(over(fg, bg)), luminance(bg)].sort((a, b) => b - a);
            const size = parseFloat(style.fontSize);
            const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
            results.push({
                selector, text: text.slice(0, 40), color: style.color,
                ratio: (l1 + 0.05) / (l2 + 0.05), needed: large ? 3 : 4.5,
            });
        }
    }
    return results;
}"""


def change_theme(page: Page, theme: str) -> None:
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    wait_for_theme(page, theme)


def wait_for_theme(page: Page, theme: str) -> None:
    """Wait until the page shows ``theme``, with its colours settled."""
    page.wait_for_function(
        "(theme) => document.body.dataset.jpThemeName === theme && !document.querySelector('.jp-Dialog')",
        arg=theme,
    )
    # colours are read once entry animations (opacity) are over; endless ones (spinners) go on
    page.wait_for_function(
        "() => document.getAnimations().every((a) => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)"
    )
    next_frame(page)


@pytest.fixture
def dark_page(page: Page) -> Iterator[Page]:
    """The page; the test switches it to the dark theme, and the light theme comes back after
    (the choice is saved in the server's user settings, which later tests share)."""
    yield page
    change_theme(page, "JupyterLab Light")


def test_widgets_are_readable_in_the_dark_theme(notebook, dark_page, report_figure):
    """Scenario 12: every checked text has a contrast ratio of at least 4.5 (3 for large text)."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import ConnectionStatus, JobMonitor, LogStream, ProjectDashboard
            behaviours = {"sub-ok": "ok", "sub-fail": "fail", "sub-hang": "hang", "sub-queued": "ok"}
            engine = Engine(db_path=":memory:", runner=ScriptedRunner(behaviours), max_concurrent=1)
            project = engine.create_project("dark", pipeline=MINI_PIPELINE)
            subjects = engine.add_subjects(project.id, list(behaviours))
            jobs = [engine.run_stage(project.id, s.id, "import") for s in subjects]
            """,
            "ConnectionStatus(engine)",
            "ProjectDashboard(engine, project.id)",
            "JobMonitor(engine, project.id)",
            "LogStream(engine, jobs[1])",
        ]
    )
    nb.kernel.wait_until("engine.get_job(jobs[2].id).current_step == 'Hanging until cancelled'")
    monitor = job_monitor(dark_page)
    failed = card(monitor, nb.kernel.value("jobs[1].id"))
    expect(failed.locator(".pw-error-text")).to_be_visible()
    failed.get_by_role("button", expanded=False).click()
    expect(failed.get_by_role("log").locator(".pw-line")).not_to_have_count(0)
    dashboard(dark_page, "dark")
    expect(connection_status(dark_page)).to_have_text("Connected")

    change_theme(dark_page, "JupyterLab Dark")
    nb.screenshot("widgets_are_readable_in_the_dark_theme")

    results = dark_page.evaluate(_CONTRAST_JS, CHECKED)
    checked = {r["selector"] for r in results}
    assert {".pw-title", ".pw-badge", ".pw-error-text", ".pw-line-msg", ".pw-conn", ".pw-tab"} <= checked
    worst = min(results, key=lambda r: r["ratio"] / r["needed"])
    report_figure(
        f"dark theme: {len(results)} texts checked; lowest contrast {worst['ratio']:.2f}"
        f" ({worst['selector']} {worst['text']!r}, needs {worst['needed']})"
    )
    low: dict[tuple[str, str, str], list[str]] = {}
    for r in results:
        if r["ratio"] < r["needed"]:
            key = (r["selector"], r["color"], f"{r['ratio']:.2f} < {r['needed']}")
            low.setdefault(key, []).append(r["text"])
    report = "\n".join(f"{key}: {texts[:3]}" for key, texts in low.items())
    assert not low, f"text below WCAG contrast in the dark theme (selector, colour, ratio: texts):\n{report}"
    nb.kernel.run("engine.cancel_all()")
