"""Stale results: a stage that completes again makes the done stages downstream of it stale.

Their outputs were computed from the old output, so they are no longer "done": the dashboard
shows them as ``stale``, a default run queues them again, and ``Subject.stale_reasons`` keeps
why ("input t1_fit re-ran at 14:02"). A downstream stage that is queued or running to run again
is left alone, but if that job is cancelled its stage returns to ``stale``, not ``done``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from .catalog import Catalog
from .models import Job, StageStatus, Subject
from .pipeline import Pipeline
from .store import Store

_HAD_RESULT = frozenset({StageStatus.DONE, StageStatus.STALE, StageStatus.QUEUED, StageStatus.RUNNING})
KEEPS_REASON = frozenset({StageStatus.STALE, StageStatus.QUEUED, StageStatus.RUNNING, StageStatus.NOT_RUN})
"""Statuses during which a stale reason is kept (it is forgotten once the stage has a result)."""


_DEPENDENTS: weakref.WeakKeyDictionary[Pipeline, dict[str, list[str]]] = weakref.WeakKeyDictionary()


def dependents(pipeline: Pipeline, stage_id: str) -> list[str]:
    """``pipeline.dependents(stage_id)``, computed once per pipeline and stage."""
    known = _DEPENDENTS.get(pipeline)
    if known is None:
        known = _DEPENDENTS[pipeline] = {}
    out = known.get(stage_id)
    if out is None:
        out = known[stage_id] = pipeline.dependents(stage_id)
    return out


def reason_text(stage_id: str, when: float) -> str:
    return f"input {stage_id} re-ran at {time.strftime('%H:%M', time.localtime(when))}"


def mark_downstream_stale(
    catalog: Catalog,
    store: Store,
    pipeline: Pipeline,
    subject: Subject,
    stage_id: str,
    when: float,
    active_job: Callable[[str], Job | None],
) -> list[str]:
    """After ``stage_id`` of ``subject`` completed: make its done dependents stale. Returns them."""
    below = dependents(pipeline, stage_id)
    statuses = subject.stage_statuses
    if not any(statuses.get(sid) in _HAD_RESULT for sid in below):  # the usual first run
        return []
    reason = reason_text(stage_id, when)
    marked = []
    for sid in below:
        active = active_job(sid)
        if active is not None:
            if active.previous_stage_status is StageStatus.DONE:
                active.previous_stage_status = StageStatus.STALE
                set_reason(store, subject, sid, reason)
            continue
        if subject.stage_statuses.get(sid) in (StageStatus.DONE, StageStatus.STALE):
            set_reason(store, subject, sid, reason)
            catalog.set_stage_status(subject, sid, StageStatus.STALE)
            marked.append(sid)
    return marked


def set_reason(store: Store, subject: Subject, stage_id: str, reason: str | None) -> None:
    if reason is None:
        if subject.stale_reasons.pop(stage_id, None) is not None:
            store.save_stale_reason(subject.id, stage_id, None)
    elif subject.stale_reasons.get(stage_id) != reason:
        subject.stale_reasons[stage_id] = reason
        store.save_stale_reason(subject.id, stage_id, reason)
