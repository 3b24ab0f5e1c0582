"""The job history of a project (or of the engine): analytics for plots, pages of the table,
downloads of the matching jobs' logs and of the history as CSV."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, overload

from ...engine import Engine, Job
from ...engine.analytics import percentile
from ..exports import history_csv, logs_bundle
from ..feed import Feed, Handler, in_slices
from ..protocol import (
    MAX_EXPORT_JOBS,
    Analytics,
    Download,
    FailureBins,
    FailureGroupRow,
    HistoryPage,
    HistoryPatch,
    HistorySnapshot,
    HistoryTableRow,
    StageCount,
    StageStatsRow,
)
from ..scope import Scope
from ..validation import BadRequest

REFRESH_SECONDS = 2.0
"""While jobs end, the analytics are recomputed at most this often."""
FAILURE_BINS = 24
"""Bars of the failures-over-time plot."""
TOP_GROUPS = 10
"""Failure groups sent to the views (the largest first)."""
ERROR_CHARS = 300
"""Errors in the table and in failure groups are cut to this length (the whole in the log)."""
QUANTILES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
"""The points of a stage's run-time distribution: min, quartiles, median, p90, max."""

_TABLE_COLUMNS = tuple(HistoryTableRow.__annotations__)
"""The columns of a page of the table, in the order of the protocol's row."""


@overload
def _cut(text: str) -> str: ...
@overload
def _cut(text: str | None) -> str | None: ...
def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


class HistoryFeed(Feed):
    """Snapshot: ``{"stages": {id: label}, "analytics": {...}}``; patch: ``{"analytics": {...}}``
    when jobs ended (recomputed at most every :data:`REFRESH_SECONDS`).

    ``analytics``: ``runs`` (jobs that ran and ended completed or failed); ``stats``
    (``Engine.stage_stats`` rows); ``durations``, completed run times per stage:
    ``{stage_id: {"n", "q": [min, p25, median, p75, p90, max]}}``; ``failures``, failed jobs per
    time bin by end time, root failures apart from the jobs skipped because of one:
    ``{"start", "width", "roots": [counts], "skipped": [counts]}``; ``groups``, the largest
    ``Engine.failure_groups``.

    Actions: ``history_page`` (filters, ``offset``, ``limit``: ``{"total", "offset", "rows"}``,
    at most :data:`~pbrain_widgets.widgets.protocol.HISTORY_PAGE_MAX` rows),
    ``export_history_logs`` and ``export_csv`` (filters: a file for the view to save). The logs
    of jobs picked by id are ``export_logs`` of :class:`~pbrain_widgets.widgets.feeds.JobsFeed`.
    """

    name = "history"

    def __init__(self, engine: Engine, project_id: str | None = None) -> None:
        super().__init__(engine)
        self.scope = Scope.of_project(engine, project_id) if project_id is not None else Scope()
        self.project_id = project_id
        self._dirty = False
        self._computed_at = -float("inf")
        self._timer: asyncio.TimerHandle | None = None
        self.subscribe(engine.on_job_update(self._on_job))

    def _on_job(self, job: Job) -> None:
        if job.end_time is not None and self.scope.covers(job.project_id, job.subject_id, job.id):
            self._dirty = True
            self._wake()

    def _analytics(self) -> Analytics:
        self._computed_at = time.monotonic()
        self._dirty = False
        pid = self.project_id
        done = self.engine.history_rows(project_id=pid, status="completed")
        failed = self.engine.history_rows(project_id=pid, status="failed")
        runs: dict[str, list[float]] = {}
        for stage_id, run_time in zip(done["stage_id"], done["run_time"], strict=True):
            if run_time is not None:
                runs.setdefault(stage_id, []).append(run_time)
        durations: dict[str, StageCount] = {
            sid: {
                "n": len(values),
                "q": [round(p, 3) for q in QUANTILES if (p := percentile(values, q)) is not None],
            }
            for sid, values in runs.items()
        }
        stats: list[StageStatsRow] = [s.to_dict() for s in self.engine.stage_stats(pid)]  # type: ignore[misc]
        for row in stats:
            for key, value in row.items():
                if isinstance(value, float):
                    row[key] = round(value, 4)  # type: ignore[literal-required]
        groups: list[FailureGroupRow] = [
            {
                "stage_id": g.stage_id,
                "signature": _cut(g.signature),
                "example_error": _cut(g.example_error),
                "count": g.count,
                "roots": len(g.root_job_ids),
                "skipped": len(g.blocked_job_ids),
                "subjects": len(g.subject_ids),
            }
            for g in self.engine.failure_groups(pid)[:TOP_GROUPS]
        ]
        return {
            "runs": sum(s["runs"] for s in stats),
            "stats": stats,
            "durations": durations,
            "failures": self._failure_bins(done, failed),
            "groups": groups,
        }

    @staticmethod
    def _failure_bins(done: dict[str, list[Any]], failed: dict[str, list[Any]]) -> FailureBins:
        """Failed jobs per time bin over the span of the ended jobs' history."""
        ends = [t for t in failed["end_time"] if t is not None]
        starts = [t for t in (*done["queued_time"], *failed["queued_time"]) if t is not None]
        last = [t for t in (*done["end_time"], *ends) if t is not None]
        if not ends or not starts:
            return {"start": None, "width": None, "roots": [], "skipped": []}
        start, end = min(starts), max(last)
        width = max((end - start) / FAILURE_BINS, 1e-3)
        roots = [0] * FAILURE_BINS
        skipped = [0] * FAILURE_BINS
        for t, blocked_by in zip(failed["end_time"], failed["blocked_by"], strict=True):
            if t is None:
                continue
            i = min(int((t - start) / width), FAILURE_BINS - 1)
            (skipped if blocked_by is not None else roots)[i] += 1
        return {"start": round(start, 3), "width": round(width, 3), "roots": roots, "skipped": skipped}

    def snapshot(self) -> HistorySnapshot:
        stages: dict[str, str] = {}
        for project_id in self.scope.project_ids(self.engine):
            stages.update((s.id, s.label) for s in self.engine.pipeline(project_id))
        return {"stages": stages, "analytics": self._analytics()}

    def take_patch(self) -> HistoryPatch | None:
        if not self._dirty:
            return None
        wait = self._computed_at + REFRESH_SECONDS - time.monotonic()
        if wait > 0:  # too soon: come back when the interval is over
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(wait, self._refresh_due)
            return None
        return {"analytics": self._analytics()}

    def _refresh_due(self) -> None:
        self._timer = None
        self._wake()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().close()

    # -- requests ----------------------------------------------------------------------------

    def _filters(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "text": payload["text"],
            "stage_id": payload["stage_id"],
            "status": payload["status"] or None,
        }

    def actions(self) -> dict[str, Handler]:
        return {
            "history_page": self._page,
            "export_history_logs": self._export_logs,
            "export_csv": self._export_csv,
        }

    def _page(self, payload: dict[str, Any]) -> HistoryPage:
        offset = payload["offset"] or 0
        limit = payload["limit"] or 50
        found = self.engine.history_page(offset, limit, **self._filters(payload))
        columns = found["columns"]
        rows: list[HistoryTableRow] = []
        for i in range(len(columns["job_id"])):
            row: Any = {name: columns[name][i] for name in _TABLE_COLUMNS}
            row["error"] = _cut(row["error"])
            for name in ("queued_time", "queue_wait", "run_time"):
                row[name] = _round(row[name])
            rows.append(row)
        return {"total": found["total"], "offset": offset, "rows": rows}

    def _export_logs(self, payload: dict[str, Any]) -> Awaitable[Download]:
        ids = self.engine.history_rows(**self._filters(payload), limit=MAX_EXPORT_JOBS + 1)["job_id"]
        if not ids:
            raise BadRequest("no job matches these filters")
        return in_slices(logs_bundle, self.engine, ids, "history")  # the files read off the loop

    def _export_csv(self, payload: dict[str, Any]) -> Download:
        columns = self.engine.history_rows(**self._filters(payload))
        return {"file_name": "history.csv", "text": history_csv(columns), "jobs": len(columns["job_id"])}
