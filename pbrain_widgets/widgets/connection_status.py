"""ConnectionStatus: whether the kernel answers, measured, not assumed."""

from __future__ import annotations

from typing import Any

import traitlets

from ..engine import Engine
from .guarded import GuardedWidget
from .validation import BadTraitValue


class ConnectionStatus(GuardedWidget):
    """A dot and a label: Connected (pulsing) while the kernel answers the view's pings,
    Disconnected when no answer came for ``timeout_ms`` (kernel stopped, restarting, busy in a
    blocking cell, or the network gone), Connected again as soon as answers come back.

    It follows no engine event: its only traffic is one ping and one reply per ``interval_ms``.
    """

    _view_kind = traitlets.Unicode("connection_status").tag(sync=True)
    interval_ms = traitlets.Int(1000).tag(sync=True, from_view=True)
    timeout_ms = traitlets.Int(3000).tag(sync=True, from_view=True)

    def __init__(self, engine: Engine, interval_ms: int = 1000, timeout_ms: int = 3000) -> None:
        super().__init__(engine, interval_ms=interval_ms, timeout_ms=timeout_ms)

    @traitlets.validate("interval_ms", "timeout_ms")
    def _check_timing(self, proposal: dict[str, Any]) -> int:
        # both traits are validated once an update that sets both is applied, so check the pair
        timing = {"interval_ms": self.interval_ms, "timeout_ms": self.timeout_ms}
        timing[proposal["trait"].name] = proposal["value"]
        if not 100 <= timing["interval_ms"] <= timing["timeout_ms"] <= 4500:
            raise BadTraitValue(
                f"need 100 <= interval_ms <= timeout_ms <= 4500 (Disconnected must show within 5 s), "
                f"got interval_ms={timing['interval_ms']}, timeout_ms={timing['timeout_ms']}"
            )
        return proposal["value"]
