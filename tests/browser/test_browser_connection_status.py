"""ConnectionStatus in JupyterLab: a kernel restart shows as Disconnected within 5 s."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from widget_dom import RENDER_TIMEOUT_MS, connection_status


def test_kernel_restart_shows_disconnected_within_5_s(notebook, report_figure):
    """Scenario 9: restart the kernel from the Kernel menu's command and its dialog."""
    nb = notebook(
        [
            """
            from pbrain_widgets.widgets import ConnectionStatus
            engine = Engine(db_path=":memory:", runner=ScriptedRunner())
            """,
            "ConnectionStatus(engine)",
        ]
    )
    status = connection_status(nb.page)
    expect(status).to_have_text("Connected", timeout=RENDER_TIMEOUT_MS)

    nb.command("kernelmenu:restart")
    dialog = nb.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Restart")
    dialog.locator(".jp-mod-accept").click()
    clicked = time.monotonic()

    expect(status).to_have_text("Disconnected", timeout=5_000)
    report_figure(f"Disconnected shown {time.monotonic() - clicked:.2f} s after the restart was confirmed")
