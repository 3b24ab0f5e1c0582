"""dock(): keep a monitor in view, in a JupyterLab side panel that stays while the notebook scrolls.

The panel is a ``jupyterlab-sidecar`` (pip package ``sidecar``) holding a view of the widget. In
a front end without that panel (Notebook 7, VS Code, JupyterLab without the extension) the
sidecar's model cannot be drawn, and nothing would show: so :func:`dock` also displays, in the
cell, a one-line :class:`DockNote` whose view looks for the panel; when it is not there, the note
says why and the kernel shows the widget in the cell instead.
"""

from __future__ import annotations

import logging
from typing import Any

import anywidget
import ipywidgets
import traitlets
from IPython.display import display

from ..errors import InvalidArgumentError
from .sync import STATIC

log = logging.getLogger("pbrain_widgets.widgets")

ANCHORS = ("right", "split-right", "split-left", "split-top", "split-bottom", "tab-before", "tab-after")
"""Where the panel goes: JupyterLab's right side bar, or beside the notebook in the main area."""


class DockNote(anywidget.AnyWidget):
    """The line a docked monitor leaves in its cell. Its view sets ``docked`` to whether the
    side panel is there (the only trait a view may set); while it is not, ``inline`` holds the
    widget so that it shows in the cell."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"
    _view_kind = traitlets.Unicode("dock_note").tag(sync=True)
    title = traitlets.Unicode(read_only=True).tag(sync=True)
    docked = traitlets.Bool(None, allow_none=True).tag(sync=True)

    def __init__(self, title: str) -> None:
        super().__init__()
        self.set_trait("title", title)

    def set_state(self, sync_data: Any) -> None:
        """A view may set ``docked`` to true or false, nothing else."""
        valid = isinstance(sync_data, dict) and set(sync_data) == {"docked"}
        if valid and isinstance(sync_data["docked"], bool):
            super().set_state(sync_data)
            return
        log.warning("DockNote refused a state update from a view: only docked (true/false) may be set")


class Dock:
    """A monitor shown in a side panel (see :func:`dock`). ``close()`` removes the panel."""

    def __init__(self, widget: ipywidgets.DOMWidget, title: str, anchor: str) -> None:
        from sidecar import Sidecar  # the JupyterLab extension; imported when first used

        self.widget = widget
        self.sidecar = Sidecar(title=title, anchor=anchor)
        self.sidecar.outputs = (_display_data(widget),)
        self.note = DockNote(title)
        self.inline = ipywidgets.Output()
        self.note.observe(self._follow, "docked")

    def _follow(self, change: dict[str, Any]) -> None:
        # Output.outputs is a synced trait: setting it draws the widget in the cell from any thread
        self.inline.outputs = () if change["new"] is not False else (_display_data(self.widget),)

    def _ipython_display_(self) -> None:
        pass  # dock() displayed the note already; a cell ending in dock(...) shows it once

    def close(self) -> None:
        """Remove the side panel and the note (the widget itself stays usable)."""
        self.sidecar.close()
        self.note.close()
        self.inline.close()


def _display_data(widget: ipywidgets.DOMWidget) -> dict[str, Any]:
    bundle = widget._repr_mimebundle_()  # ipywidgets: the data, or (data, metadata)
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def dock(widget: ipywidgets.DOMWidget, title: str = "pbrain monitor", anchor: str = "right") -> Dock:
    """Show ``widget`` (any monitor) in a JupyterLab side panel titled ``title`` that stays in view
    while the notebook scrolls, and a one-line note in the cell. ``anchor`` is ``"right"`` (the
    right side bar) or a place beside the notebook (``"split-right"``, ``"split-bottom"``,
    ``"tab-after"``...: :data:`ANCHORS`).

    Where the front end has no such panel (Notebook 7, VS Code), the note says so and the widget
    shows in the cell instead. Returns the :class:`Dock`; ``close()`` removes the panel.
    """
    if not isinstance(widget, ipywidgets.DOMWidget):
        raise InvalidArgumentError(
            f"dock() takes a monitor widget (JobMonitor, ProjectDashboard, ...), not {type(widget).__name__}"
        )
    if not isinstance(title, str) or not title.strip():
        raise InvalidArgumentError(f"dock() title must be a non-empty string, not {title!r}")
    if anchor not in ANCHORS:
        raise InvalidArgumentError(f"dock() anchor {anchor!r} is not one of {', '.join(ANCHORS)}")
    docked = Dock(widget, title.strip(), anchor)
    display(ipywidgets.VBox([docked.note, docked.inline]))
    return docked
