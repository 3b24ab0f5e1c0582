"""Headless Debian Chromium as the browser tests and the browser benchmarks start it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}


def launch_chromium(playwright: Playwright, profile: Path) -> BrowserContext:
    """Start headless Chromium (``playwright install`` is never used) with its profile in ``profile``."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
    )
