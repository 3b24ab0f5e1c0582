"""GuardedWidget: the base of the pbrain widgets, whose views are untrusted browser code.

A view may change a widget's synced traits with a comm ``update`` message; ipywidgets applies
it with ``set_trait`` for every synced trait it names, which ignores ``read_only``, and
traitlets rolls the update back only if a validator raises :class:`~traitlets.TraitError`. So a
view could set ``project_id`` or ``_view_kind``, or have a value kept that a validator refused.
:meth:`GuardedWidget.set_state` closes that door:

- a view may set only the traits tagged ``from_view=True`` (and not read-only); an update that
  names any other trait (``project_id``, ``_view_kind``, ``_esm``, ``layout``...) is refused;
- the values it sets go through the traits' validators, which raise
  :class:`~pbrain_widgets.widgets.validation.BadTraitValue` (a ``TraitError``), so that a bad
  value rolls the whole update back;
- a refused update is logged (a warning on the ``pbrain_widgets.widgets`` logger) and the view
  is sent the kernel's values again; nothing raises into the kernel.
"""

from __future__ import annotations

import logging
from typing import Any

import traitlets

from .sync import SyncWidget
from .validation import brief

log = logging.getLogger("pbrain_widgets.widgets")

FROM_VIEW = "from_view"
"""Trait metadata: ``.tag(sync=True, from_view=True)`` lets a view set the trait."""


class GuardedWidget(SyncWidget):
    """A :class:`~pbrain_widgets.widgets.sync.SyncWidget` that takes from its views only the
    trait values it allows (see the module's documentation)."""

    @property
    def view_settable(self) -> list[str]:
        """The traits that a view may set."""
        traits = self.traits(sync=True).items()
        return sorted(name for name, trait in traits if trait.metadata.get(FROM_VIEW) and not trait.read_only)

    def set_state(self, sync_data: Any) -> None:
        """Apply a state update from a view: the traits it may set, if their values are valid."""
        kind = type(self).__name__
        if not isinstance(sync_data, dict):
            log.warning("%s ignored a state update that is not an object: %s", kind, brief(sync_data))
            return
        settable = self.view_settable
        refused = [name for name in sync_data if name not in settable]
        if refused:
            log.warning(
                "%s refused a state update from a view: %s cannot be set from the browser; views may set: %s",
                kind,
                brief(refused),
                ", ".join(settable) or "nothing",
            )
        accepted = {name: value for name, value in sync_data.items() if name in settable}
        if accepted:
            try:
                super().set_state(accepted)
            except traitlets.TraitError as exc:  # traitlets rolled the whole update back
                log.warning("%s refused a state update from a view: %s", kind, exc)
                refused += list(accepted)
            except Exception:  # an observer failed: the values may be half applied
                log.exception("%s failed on a state update from a view", kind)
                refused += list(accepted)
        self._resync([name for name in refused if name in self.keys])

    def _resync(self, names: list[str]) -> None:
        """Send the kernel's values of these traits to the views, which hold the refused ones."""
        if not names:
            return
        try:
            self.send_state(names)
        except Exception:  # never raise into the kernel
            log.exception("%s could not re-send %s to its views", type(self).__name__, names)
