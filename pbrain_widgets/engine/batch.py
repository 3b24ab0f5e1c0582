"""Batch actions: what ``cancel_many`` and ``retry_many`` did, and what they skipped and why."""

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
