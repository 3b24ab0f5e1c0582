"""Quality-control ratings: a reviewer passes or fails each subject's stage, with a note.

The engine keeps one rating per (subject, stage) (:class:`~pbrain_widgets.engine.models.QcEntry`)
and stores it at once. This module checks what a caller gives and lays the ratings out as
columns (:data:`COLUMNS`) for ``engine.qc_table`` and as the TSV of ``engine.export_qc``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .models import QcEntry, QcRating
from .store import _format_time

if TYPE_CHECKING:
    from .catalog import Catalog

MAX_NOTE_CHARS = 2000
COLUMNS = ("subject", "subject_id", "stage_id", "rating", "note", "rated_at")
"""Columns of ``engine.qc_table`` and of the exported TSV (``rated_at``: UTC)."""


def check_rating(rating: object) -> QcRating | None:
    """``pass`` / ``fail`` (or a :class:`QcRating`), or ``None`` to forget a rating."""
    if rating is None:
        return None
    try:
        return QcRating(rating)
    except ValueError:
        valid = [r.value for r in QcRating]
        raise InvalidArgumentError(f"unknown QC rating {rating!r}; valid ratings: {valid} or None") from None


def check_note(note: object) -> str:
    if note is None:
        return ""
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise InvalidArgumentError(
            f"a QC note must be a string of at most {MAX_NOTE_CHARS} characters, got {note!r:.80}"
        )
    return note


def rows(entries: Iterable[QcEntry], catalog: Catalog) -> dict[str, list[Any]]:
    """The ratings as columns (:data:`COLUMNS`), ordered by subject name then stage."""
    cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    named = sorted(entries, key=lambda e: (catalog.subjects[e.subject_id].name, e.stage_id))
    for entry in named:
        cols["subject"].append(catalog.subjects[entry.subject_id].name)
        cols["subject_id"].append(entry.subject_id)
        cols["stage_id"].append(entry.stage_id)
        cols["rating"].append(entry.rating.value)
        cols["note"].append(entry.note)
        cols["rated_at"].append(entry.time)
    return cols


def only_failed(columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The rows rated ``fail``: the exclusions."""
    keep = [i for i, rating in enumerate(columns["rating"]) if rating == QcRating.FAIL.value]
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def tsv_text(columns: dict[str, list[Any]]) -> str:
    """The columns as tab-separated text with a header (times as ISO UTC)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(len(columns["subject"])):
        row = [columns[name][i] for name in COLUMNS]
        row[-1] = _format_time(row[-1])
        writer.writerow(row)
    return out.getvalue()


def write_tsv(path: str | os.PathLike[str], columns: dict[str, list[Any]]) -> Path:
    """Write :func:`tsv_text` to a file; returns its path."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(tsv_text(columns), encoding="utf-8")
    return target
