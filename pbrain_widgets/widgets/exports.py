"""Files a view downloads: the logs of many jobs as one text, the history as CSV.

The engine writes the files (``Engine.export_logs``, ``Engine.history_rows``); this module
joins them into one text that a reply carries to the browser, which saves it. A download is
bounded (:data:`MAX_EXPORT_JOBS`, :data:`MAX_EXPORT_CHARS`): beyond that the error says to
export from Python, where there is no limit.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from ..engine import Engine
from ..engine.history import COLUMNS
from .protocol import MAX_EXPORT_JOBS, Download
from .validation import BadRequest

MAX_EXPORT_CHARS = 32 * 1024 * 1024
"""Most characters one download holds (a reply is one message over the kernel's websocket)."""


def logs_bundle(engine: Engine, job_ids: Sequence[str], name: str) -> Download:
    """``{"file_name", "text", "jobs"}``: each job's whole log (``engine.export_logs``), one
    after the other, each under a ``==== <file name> ====`` header."""
    if not job_ids:
        raise BadRequest("no jobs to export the logs of")
    if len(job_ids) > MAX_EXPORT_JOBS:
        raise BadRequest(
            f"{len(job_ids)} jobs are too many for one download (at most {MAX_EXPORT_JOBS}); "
            "narrow the selection, or use engine.export_logs(job_ids, folder) in Python"
        )
    parts: list[str] = []
    size = 0
    with tempfile.TemporaryDirectory(prefix="pbrain-logs-") as folder:
        for path in engine.export_logs(job_ids, folder):
            text = path.read_text(encoding="utf-8")
            size += len(text)
            if size > MAX_EXPORT_CHARS:
                raise BadRequest(
                    f"the logs of these {len(job_ids)} jobs exceed {MAX_EXPORT_CHARS // 2**20} MiB; "
                    "narrow the selection, or use engine.export_logs(job_ids, folder) in Python"
                )
            parts.append(f"==== {path.name} ====\n{text}\n")
    return {"file_name": f"{name}-logs.txt", "text": "".join(parts), "jobs": len(job_ids)}


def history_csv(columns: Mapping[str, list[Any]]) -> str:
    """The columns of ``Engine.history_rows`` as CSV (times in POSIX seconds)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(zip(*(columns[name] for name in COLUMNS), strict=True))
    return out.getvalue()
