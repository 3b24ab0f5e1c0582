"""ConnectionStatus: whether the kernel answers, measured, not assumed."""

from __future__ import annotations

import traitlets

from ..engine import Engine
from ..errors import InvalidArgumentError
from .sync import SyncWidget


class ConnectionStatus(SyncWidget):
    """A dot and a label: Connected (pulsing) while the kernel answers the view's pings,
    Disconnected when no answer came for ``timeout_ms`` (kernel stopped, restarting, busy in a
    blocking cell, or the network gone), Connected again as soon as answers come back.

    It follows no engine event: its only traffic is one ping and one reply per ``interval_ms``.
    """

    _view_kind = traitlets.Unicode("connection_status").tag(sync=True)
    interval_ms = traitlets.Int(1000).tag(sync=True)
    timeout_ms = traitlets.Int(3000).tag(sync=True)

    def __init__(self, engine: Engine, interval_ms: int = 1000, timeout_ms: int = 3000) -> None:
        if not 100 <= interval_ms <= timeout_ms <= 4500:
            raise InvalidArgumentError(
                f"need 100 <= interval_ms <= timeout_ms <= 4500 (Disconnected must show within 5 s), "
                f"got interval_ms={interval_ms}, timeout_ms={timeout_ms}"
            )
        super().__init__(engine, interval_ms=interval_ms, timeout_ms=timeout_ms)
