"""Stale results: a stage that completes again makes the done stages downstream of it stale.

Their outputs were computed from the old output, so they are no longer "done": the dashboard
shows them as ``stale``, a default run queues them again, and ``Subject.stale_reasons`` keeps
why ("input t1_fit re-ran at 14:02"). A downstream stage that is queued or running to run again
is left alone, but if that job is cancelled its stage returns to ``stale``, not ``done``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .catalog import Catalog
from .models import Job, StageStatus, Subject
from .pipeline import Pipeline
from .store import Store

KEEPS_REASON = frozenset({StageStatus.STALE, StageStatus.QUEUED, StageStatus.RUNNING, StageStatus.NOT_RUN})
"""Statuses during which a stale reason is kept (it is forgotten once the stage has a result)."""


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
    reason = reason_text(stage_id, when)
    marked = []
    for sid in pipeline.dependents(stage_id):
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
