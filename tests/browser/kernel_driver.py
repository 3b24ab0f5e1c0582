"""A second client on a notebook's kernel: the test runs code there and reads kernel-side facts."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

from jupyter_client import BlockingKernelClient

RESULT_MARK = "__pbrain_result__="


class KernelError(AssertionError):
    """Code the test ran in the kernel raised."""


class KernelDriver:
    """Runs code in the same kernel as the notebook open in the page.

    Its outputs go to this client only (the notebook ignores replies to requests it did not
    send), while widget messages it causes reach the page as usual.
    """

    def __init__(self, connection_file: Path) -> None:
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=30)

    def close(self) -> None:
        self.client.stop_channels()

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute ``code``; return what it printed. Raise KernelError if it raised."""
        msg_id = self.client.execute(code, store_history=False)
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"kernel did not finish within {timeout} s: {code}")
            try:
                msg = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise KernelError(f"{code}\n" + "\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)

    def value(self, expression: str, timeout: float = 60) -> Any:
        """The JSON value of a Python expression evaluated in the kernel."""
        out = self.run(f"import json as _json\nprint({RESULT_MARK!r} + _json.dumps({expression}))", timeout)
        for line in out.splitlines():
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK) :])
        raise KernelError(f"no result printed for {expression!r}; output: {out!r}")

    def wait_until(self, expression: str, timeout: float = 30, interval: float = 0.1) -> Any:
        """Poll a Python expression in the kernel until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.value(expression)
            if last:
                return last
            time.sleep(interval)
        raise TimeoutError(f"{expression!r} still {last!r} after {timeout} s")
