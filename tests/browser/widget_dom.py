"""Finding the widgets' parts in the page, by role and accessible name where they have them."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

RENDER_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Card:
    """A rendered job card: the short id it shows and its status."""

    short_id: str
    status: str


def short_id(job_id: str) -> str:
    """The part of a job id that a card shows."""
    return job_id[:8]


def job_monitor(page: Page) -> Locator:
    """The JobMonitor view, once it has its first snapshot."""
    monitor = page.get_by_role("region", name="Job monitor")
    expect(monitor).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    return monitor


def dashboard(page: Page, project: str) -> Locator:
    """The ProjectDashboard view of a project, once it has its first snapshot."""
    view = page.get_by_role("region", name=f"Project {project}")
    expect(view).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    return view


def connection_status(page: Page) -> Locator:
    """The ConnectionStatus view."""
    return page.locator(".pw-conn")


def tab(monitor: Locator, key: str) -> Locator:
    """A filter tab: ``all`` or a job status."""
    return monitor.locator(f'[role="tab"][data-tab="{key}"]')


def tab_count(monitor: Locator, key: str) -> int:
    return int(tab(monitor, key).locator(".pw-count").inner_text())


def job_list(monitor: Locator) -> Locator:
    """The scrolling list of the selected tab's cards."""
    return monitor.get_by_role("tabpanel").get_by_role("list")


def card(monitor: Locator, job_id: str) -> Locator:
    """The row (or open card) of a job (it must be in the rendered window of the list)."""
    return monitor.locator(f'.pw-card[data-job-id="{job_id}"]')


def detail(card_locator: Locator, name: str) -> Locator:
    """The value of one field (``Job``, ``Attempt``...) in an expanded card's details."""
    term = card_locator.locator(".pw-details dt", has_text=name)
    return term.locator("xpath=following-sibling::dd[1]")


def rendered_cards(monitor: Locator) -> list[Card]:
    """The cards in the DOM now, in order."""
    rows = job_list(monitor).evaluate(
        """(list) => Array.from(list.querySelectorAll('.pw-card')).map((card) => [
            card.dataset.jobId.slice(0, 8),
            Array.from(card.classList).find((c) => c.startsWith('pw-card-') && c !== 'pw-card-head')
                .slice('pw-card-'.length),
        ])"""
    )
    return [Card(short, status) for short, status in rows]


def all_cards(monitor: Locator) -> list[Card]:
    """Every card of the selected tab, scrolling the virtualised list from top to bottom.

    Fails if one window of the list holds the same job twice.
    """
    scroller = job_list(monitor)
    scroller.evaluate("(el) => { el.scrollTop = 0; }")
    seen: dict[str, Card] = {}
    while True:
        window = rendered_cards(monitor)
        ids = [c.short_id for c in window]
        assert len(ids) == len(set(ids)), f"duplicated cards in one window: {ids}"
        seen.update((c.short_id, c) for c in window)
        at_end = scroller.evaluate(
            """(el) => {
                const before = el.scrollTop;
                el.scrollTop = before + el.clientHeight;
                el.dispatchEvent(new Event('scroll'));
                return el.scrollTop === before;
            }"""
        )
        if at_end:
            return list(seen.values())
        next_frame(monitor.page)


def next_frame(page: Page) -> None:
    """Wait until the page has drawn two more frames (pending renders are done)."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


CUT_OR_WHOLE = """(el) => {
    const cell = el.closest('.pw-job-row > *') ?? el;
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const room = cell.getBoundingClientRect();
    return {
        text: el.innerText,
        scroll: el.scrollWidth,
        client: el.clientWidth,
        // a text wider than its box by a fraction of a pixel already ends in an ellipsis
        whole: el.scrollWidth <= el.clientWidth && text.width <= box.width + 0.001
            && text.left >= room.left - 0.5 && text.right <= room.right + 0.5,
    };
}"""


def assert_shown_in_full(locator: Locator, value: str) -> None:
    """The element shows ``value``, all of it: no ellipsis, nothing beyond its table cell's edge."""
    seen = locator.evaluate(CUT_OR_WHOLE)
    assert seen["text"] == value and seen["whole"], (value, seen)
