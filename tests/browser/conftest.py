"""Fixtures for the browser tests: one JupyterLab per session, one Chromium per module, a page per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence

import pytest
from lab_browser import launch_chromium
from lab_notebook import RUNNERS_CELL, LabNotebook
from lab_server import LabServer, free_port
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

# generous waits for a loaded CI machine: they end as soon as the condition holds
expect.set_options(timeout=15_000)
PAGE_TIMEOUT_MS = 30_000
FIGURES = pytest.StashKey[list[str]]()
CALL_FAILED = pytest.StashKey[bool]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print the figures the scenarios measured, with or without ``-s``."""
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("browser test figures")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a measured figure for the end-of-run summary."""

    def report(text: str) -> None:
        request.config.stash.setdefault(FIGURES, []).append(f"{request.node.name}: {text}")

    return report


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab of the tests' own on a free localhost port."""
    server = LabServer(base=tmp_path_factory.mktemp("jupyterlab"), port=free_port())
    server.start()
    yield server
    server.stop()


# Module scope, not session: while Playwright's sync API is started, the thread has a running
# event loop (in its greenlet), and the async tests of the other folders would not run.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser_context(
    playwright_instance: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """Headless Debian Chromium with a fresh profile (one per test module)."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = launch_chromium(playwright_instance, profile)
    yield context
    context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(request: pytest.FixtureRequest, browser_context: BrowserContext) -> Iterator[Page]:
    """A new tab; it leaves without asking even when a notebook has unsaved changes. When the
    test fails, the page's errors and console warnings are printed with the failure."""
    tab = browser_context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    tab.on("dialog", lambda dialog: dialog.accept())
    said: list[str] = []
    tab.on("pageerror", lambda error: said.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda msg: msg.type in ("error", "warning") and said.append(f"console {msg.type}: {msg.text[:500]}"),
    )
    yield tab
    if request.node.stash.get(CALL_FAILED, False) and said:
        print("\n".join(["what the page said:", *said[-40:]]))
    tab.close()


@pytest.fixture
def notebook(
    request: pytest.FixtureRequest, lab_server: LabServer, page: Page
) -> Iterator[Callable[[Sequence[str]], LabNotebook]]:
    """Factory: write the test's notebook (the runners' cell, then ``cells``), open it and run it.

    The scenario's screenshot is taken at the end of the test, pass or fail, unless the test
    took it itself at the moment that matters.
    """
    scenario = request.node.name.removeprefix("test_")
    opened: list[LabNotebook] = []

    def make(cells: Sequence[str], run: bool = True) -> LabNotebook:
        nb = LabNotebook(lab_server, page, scenario, cells, preamble=[RUNNERS_CELL])
        opened.append(nb)
        nb.open()
        if run:
            nb.run_all()
        return nb

    yield make
    for nb in opened:
        try:
            if not nb.screenshots:
                nb.screenshot(scenario)
        finally:
            nb.close()
