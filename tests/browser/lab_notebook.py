"""Notebooks for the scenarios: written with nbformat, opened and run in the page."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import nbformat
from kernel_driver import KernelDriver
from lab_server import LabServer
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).parent / "artifacts"
# the first cell of every scenario notebook: imports and the scripted runners
RUNNERS_CELL = (Path(__file__).parent / "kernel_runners.py").read_text()
OPEN_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 60_000

# The current notebook panel, through the app that --LabApp.expose_app_in_browser exposes.
_PANEL_JS = "window.jupyterapp && window.jupyterapp.shell.currentWidget"

_KERNEL_READY_JS = f"""() => {{
    const panel = {_PANEL_JS};
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    const dialog = document.querySelector('.jp-Dialog .jp-mod-accept');
    if (dialog) {{ dialog.click(); return false; }}
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}}"""

_CELLS_DONE_JS = f"""() => {{
    const panel = {_PANEL_JS};
    const cells = Array.from(panel.content.model.cells);
    const code = cells.filter(c => c.type === 'code');
    const errors = [];
    for (const c of code) {{
        for (let i = 0; i < c.outputs.length; i++) {{
            const o = c.outputs.get(i).toJSON();
            if (o.output_type === 'error') {{
                errors.push(o.ename + ': ' + o.evalue + '\\n' + o.traceback.join('\\n'));
            }}
        }}
    }}
    if (panel.sessionContext.session.kernel.status !== 'idle') return null;
    // run-all stops at a cell that raised: the cells after it never get a count
    if (!errors.length && !code.every(c => c.executionCount !== null)) return null;
    return {{errors}};
}}"""


class LabNotebook:
    """One scenario's notebook, open in a page, with a driver on its kernel."""

    def __init__(
        self, server: LabServer, page: Page, name: str, cells: Sequence[str], preamble: Sequence[str] = ()
    ) -> None:
        """Write the notebook: ``preamble`` cells (source collapsed), then ``cells`` (dedented)."""
        self.server = server
        self.page = page
        self.name = name
        self.path = f"{name}.ipynb"
        self.kernel: KernelDriver | None = None
        self.screenshots: list[Path] = []
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        hidden = {"jupyter": {"source_hidden": True}}
        notebook.cells = [nbformat.v4.new_code_cell(source, metadata=hidden) for source in preamble] + [
            nbformat.v4.new_code_cell(textwrap.dedent(cell).strip()) for cell in cells
        ]
        nbformat.write(notebook, server.root_dir / self.path)

    @property
    def url(self) -> str:
        # a workspace per notebook, so no test reopens the notebooks of earlier tests
        return f"{self.server.url}/lab/workspaces/{self.name}/tree/{self.path}?token={self.server.token}"

    def open(self) -> None:
        """Open the notebook (accepting the kernel dialog if asked) and wait for an idle kernel."""
        self.page.goto(self.url)
        self.wait_ready()
        if self.kernel is None:
            session = self.server.session_for(self.path)
            assert session is not None, f"no kernel session for {self.path}"
            connection = self.server.runtime_dir / f"kernel-{session['kernel']['id']}.json"
            self.kernel = KernelDriver(connection)

    def wait_ready(self) -> None:
        """Wait until the page shows the notebook with a connected, idle kernel."""
        self.page.wait_for_function(_KERNEL_READY_JS, timeout=OPEN_TIMEOUT_MS, polling=100)

    def command(self, command_id: str, args: dict | None = None) -> None:
        """Start a JupyterLab command (as the menus and the palette do)."""
        self.page.evaluate(
            "([id, args]) => { window.jupyterapp.commands.execute(id, args); }", [command_id, args or {}]
        )

    def run_all(self) -> None:
        """Run every cell from the page; fail with the traceback if a cell raised."""
        self.command("notebook:run-all-cells")
        result = self.page.wait_for_function(_CELLS_DONE_JS, timeout=RUN_TIMEOUT_MS, polling=100).json_value()
        assert not result["errors"], "a cell raised:\n" + "\n\n".join(result["errors"])

    def screenshot(self, scenario: str) -> Path:
        """Save a screenshot of the page as the scenario's artifact."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{scenario}.png"
        # the widgets, not the set-up code, at the top of the notebook's scrolling area
        self.page.evaluate("() => document.querySelector('.pw-root')?.scrollIntoView({block: 'start'})")
        self.page.screenshot(path=str(path), full_page=True)
        self.screenshots.append(path)
        return path

    def close(self) -> None:
        """Disconnect from the kernel and shut it down."""
        if self.kernel is not None:
            self.kernel.close()
        self.server.shutdown_session(self.path)
