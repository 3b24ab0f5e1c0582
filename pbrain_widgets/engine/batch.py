"""Batch actions: what ``cancel_many``, ``retry_many`` and ``set_priority_many`` did, and what
they skipped and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Job, _Record


@dataclass
class BatchResult(_Record):
    """The outcome of one batch action, taken in one step on the engine's thread."""

    done: list[Job] = field(default_factory=list)
    """Snapshots of the jobs acted on: the cancelled jobs, or the new jobs of the retries."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Job id -> why nothing was done for it (already ended, already retried, unknown id...)."""

    @property
    def done_ids(self) -> list[str]:
        return [j.id for j in self.done]


@dataclass
class PriorityResult(_Record):
    """The outcome of :meth:`~pbrain_widgets.Engine.set_priority_many`: ids, not snapshots (a
    batch of 100,000 would copy every job for what the caller already knows)."""

    changed: list[str] = field(default_factory=list)
    """The ids of the jobs whose priority was set (queued ones), in the order given."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Job id -> why its priority was not set (no longer queued, unknown id)."""
