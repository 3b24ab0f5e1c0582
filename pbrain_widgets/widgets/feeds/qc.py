"""QC ratings of a project's subjects, per stage; rate a stage (pass / fail / none, a note)."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, QcEntry
from ...errors import PbrainWidgetsError
from ..feed import Feed, Handler
from ..protocol import QcPatch, QcRatingRow, QcSnapshot
from ..scope import Scope
from ..validation import BadRequest

Rating = QcRatingRow | None


def rating_row(entry: QcEntry | None) -> Rating:
    return None if entry is None else _rating(entry)


def _rating(entry: QcEntry) -> QcRatingRow:
    return {"rating": entry.rating.value, "note": entry.note, "time": entry.time}


class QcFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.QcSnapshot` (every rating by subject
    and stage); patch: :class:`~pbrain_widgets.widgets.protocol.QcPatch` (null: the rating was
    removed). Action: ``set_qc``."""

    name = "qc"

    def __init__(self, engine: Engine, scope: Scope) -> None:
        super().__init__(engine)
        if scope.project_id is None:
            raise ValueError("a QC feed serves one project")  # a programming error in a widget
        self.scope = scope
        self._changed: dict[tuple[str, str], Rating] = {}
        self.subscribe(engine.on_qc(self._on_qc))

    def _on_qc(self, change: tuple[str, str, QcEntry | None]) -> None:
        subject_id, stage_id, entry = change
        subject = self.engine.get_subject(subject_id)
        if self.scope.covers(subject.project_id, subject.id):
            self._changed[(subject_id, stage_id)] = rating_row(entry)
            self._wake()

    def snapshot(self) -> QcSnapshot:
        ratings: dict[str, dict[str, QcRatingRow]] = {}
        for entry in self.engine.get_qc(self.scope.project_id):
            if self.scope.covers(self.scope.project_id or "", entry.subject_id):
                ratings.setdefault(entry.subject_id, {})[entry.stage_id] = _rating(entry)
        return {"ratings": ratings}

    def take_patch(self) -> QcPatch | None:
        if not self._changed:
            return None
        ratings: dict[str, dict[str, Rating]] = {}
        for (subject_id, stage_id), row in self._changed.items():
            ratings.setdefault(subject_id, {})[stage_id] = row
        self._changed = {}
        return {"ratings": ratings}

    def actions(self) -> dict[str, Handler]:
        return {"set_qc": self._set_qc}

    def _set_qc(self, payload: dict[str, Any]) -> Rating:
        subject_id = payload["subject_id"]
        try:
            subject = self.engine.get_subject(subject_id)
        except PbrainWidgetsError:
            subject = None
        if subject is None or not self.scope.covers(subject.project_id, subject.id):
            raise BadRequest(f"subject {subject_id!r} is unknown here; this widget serves {self.scope}")
        entry = self.engine.set_qc(subject.id, payload["stage_id"], payload["rating"], payload["note"] or "")
        return rating_row(entry)
