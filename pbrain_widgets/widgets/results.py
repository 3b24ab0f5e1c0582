"""The results of jobs for the views: their outputs, pictures of them, tables, phantom fidelity.

Nothing is sent until a view asks (a stage opened, a thumbnail scrolled into view): a widget
offers these as request actions, each checked against its scope. Pictures travel as binary
buffers (a PNG each), rendered in a thread (:mod:`pbrain_widgets.widgets.render`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from ..engine import Engine, Output
from ..errors import UnknownSubjectError
from ..runners.fidelity import has_truth, phantom_fidelity
from .feed import Binary, Handler
from .protocol import Fidelity, JobOutputs, OutputRow, TableText
from .render import picture, table
from .scope import Scope
from .validation import BadRequest

_RENDER_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="pbrain-render")
"""Where pictures and tables are made: off the engine's loop, two at a time."""


def output_row(output: Output) -> OutputRow:
    """What a view shows of an output (the file's name, not its folder)."""
    exists = output.path is not None and Path(output.path).is_file()
    return {
        "index": output.index,
        "kind": output.kind.value,
        "label": output.label,
        "group": output.group,
        "unit": output.unit,
        "value": output.value,
        "file": Path(output.path).name if output.path else None,
        "exists": exists,
    }


class Results:
    """The result actions of one widget, limited to its scope (or to what ``scope()`` returns
    at the time of the request, for a widget whose scope follows the subject it shows)."""

    def __init__(self, engine: Engine, scope: Scope) -> None:
        self.engine = engine
        self.scope = scope

    def actions(self) -> dict[str, Handler]:
        return {
            "outputs": self._outputs,
            "picture": self._picture,
            "table": self._table,
            "fidelity": self._fidelity,
        }

    def _outputs(self, payload: dict[str, Any]) -> JobOutputs:
        job = self.scope.check_job(self.engine, payload["job_id"])
        return {"job_id": job.id, "outputs": [output_row(o) for o in self.engine.get_outputs(job.id)]}

    def _output(self, payload: dict[str, Any]) -> Output:
        job = self.scope.check_job(self.engine, payload["job_id"])
        outputs = self.engine.get_outputs(job.id)
        index = payload["index"]
        if index >= len(outputs):
            raise BadRequest(f"job {job.id!r} has {len(outputs)} outputs; there is no output {index}")
        return outputs[index]

    # Checks run at once (a bad request is answered at once); the work is awaited in a thread.

    def _picture(self, payload: dict[str, Any]) -> Awaitable[Binary]:
        output = self._output(payload)  # the size is one of render.SIZES (the protocol's Literal)

        async def draw() -> Binary:
            loop = asyncio.get_running_loop()
            made = await loop.run_in_executor(_RENDER_THREADS, picture, output, payload["size"])
            return Binary({"mime": "image/png", "width": made.width, "height": made.height}, [made.png])

        return draw()

    def _table(self, payload: dict[str, Any]) -> Awaitable[TableText]:
        output = self._output(payload)
        return asyncio.get_running_loop().run_in_executor(_RENDER_THREADS, table, output)

    def _fidelity(self, payload: dict[str, Any]) -> Awaitable[Fidelity] | None:
        try:
            subject = self.engine.get_subject(payload["subject_id"])
        except UnknownSubjectError:  # its error lists every subject: say no more than for another scope's
            subject = None
        if subject is None or not self.scope.covers(subject.project_id, subject.id):
            raise BadRequest(
                f"subject {payload['subject_id']!r} is unknown here; this widget serves {self.scope}"
            )
        folder = subject.source_path
        if folder is None or not has_truth(folder):
            return None
        return asyncio.get_running_loop().run_in_executor(_RENDER_THREADS, _fidelity_rows, folder)


def _fidelity_rows(folder: str) -> Fidelity:
    return {"rows": [r.to_dict() for r in phantom_fidelity(folder)]}  # type: ignore[misc]
