"""A project's subjects x stages grid, its active jobs per subject, running the pipeline, and
run templates (save the stages to run, list, run and delete them)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from ...engine import Engine, Job, JobStatus, StageStatus, StatusUpdate, Subject
from ...engine.templates import RunTemplate
from ..feed import Feed, Handler, in_slices
from ..protocol import (
    MAX_SUBJECT_ROWS,
    CellsDone,
    ProjectPatch,
    ProjectSnapshot,
    Queued,
    SavedTemplate,
    StageStatusName,
    SubjectRow,
    TemplateRow,
    Templates,
)
from ..records import stage_rows, subject_row
from ..validation import BadRequest

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def template_row(template: RunTemplate) -> TemplateRow:
    """What the dashboard shows of a template (runner options stay in Python)."""
    subjects = template.subjects
    return {
        "name": template.name,
        "stages": template.stages,
        "subjects": subjects if isinstance(subjects, str) or subjects is None else list(subjects),
        "max_concurrent": template.max_concurrent,
        "has_options": bool(template.runner_options),
    }


class ProjectFeed(Feed):
    """Snapshot: :class:`~pbrain_widgets.widgets.protocol.ProjectSnapshot`; patch:
    :class:`~pbrain_widgets.widgets.protocol.ProjectPatch`: the grid cells that changed, and a
    whole subject row only for a new subject (or a changed name or modalities); ``progress``
    per subject, whole (``{}`` when none of its jobs runs), when a whole percent changes.
    """

    name = "project"

    def __init__(self, engine: Engine, project_id: str) -> None:
        super().__init__(engine)
        self.project_id = engine.get_project(project_id).id
        self._active: dict[str, str] = {}  # queued or running job id -> its subject id
        self._per_subject: dict[str, int] = {}  # subject id -> its queued and running jobs (> 0)
        for job in engine.get_jobs(project_id=self.project_id, status=_ACTIVE):
            self._count_active(job.id, job.subject_id, 1)
        self._running: dict[str, tuple[str, str, int]] = {
            j.id: (j.subject_id, j.stage_id, int(j.progress))
            for j in engine.get_jobs(project_id=self.project_id, status=JobStatus.RUNNING)
        }
        self._changed_subjects: set[str] = set()
        self._changed_active: set[str] = set()
        self._changed_progress: set[str] = set()
        # the row of each subject that views hold (from a snapshot or a patch), and the subjects
        # a snapshot newer than the last patch holds newer rows of (sent whole next time)
        self._sent: dict[str, SubjectRow] = {}
        self._full: set[str] = set()
        # subjects a snapshot left out (too many for one message): sent whole in the next patches
        self._backlog: dict[str, None] = {}
        self.subscribe(engine.on_status_update(self._on_status))
        self.subscribe(engine.on_subject_update(self._on_subject))
        self.subscribe(engine.on_job_update(self._on_job))

    def _on_status(self, update: StatusUpdate) -> None:
        if update.project_id == self.project_id:
            self._changed_subjects.add(update.subject_id)
            self._wake()

    def _on_subject(self, subject: Subject) -> None:
        if subject.project_id == self.project_id:
            self._changed_subjects.add(subject.id)
            self._wake()

    def _on_job(self, job: Job) -> None:
        if job.project_id != self.project_id:
            return
        self._track_progress(job)
        was_active = job.id in self._active
        if job.status in _ACTIVE and not was_active:
            self._count_active(job.id, job.subject_id, 1)
        elif job.status not in _ACTIVE and was_active:
            self._count_active(job.id, job.subject_id, -1)
        else:
            return
        self._changed_active.add(job.subject_id)
        self._wake()

    def _track_progress(self, job: Job) -> None:
        before = self._running.get(job.id)
        if job.status is JobStatus.RUNNING:
            entry = (job.subject_id, job.stage_id, int(job.progress))
            if entry == before:
                return
            self._running[job.id] = entry
        elif before is None:
            return
        else:
            del self._running[job.id]
        self._changed_progress.add(job.subject_id)
        self._wake()

    def _progress(self, subject_ids: set[str] | None = None) -> dict[str, dict[str, int]]:
        progress: dict[str, dict[str, int]] = {s: {} for s in subject_ids or ()}
        for subject_id, stage_id, percent in self._running.values():
            if subject_ids is None or subject_id in subject_ids:
                progress.setdefault(subject_id, {})[stage_id] = percent
        return progress

    def _count_active(self, job_id: str, subject_id: str, sign: int) -> None:
        if sign > 0:
            self._active[job_id] = subject_id
        else:
            del self._active[job_id]
        count = self._per_subject.get(subject_id, 0) + sign
        if count > 0:
            self._per_subject[subject_id] = count
        else:
            self._per_subject.pop(subject_id, None)

    def _counts(self, subject_ids: Iterable[str]) -> dict[str, int]:
        """The queued and running jobs of each of ``subject_ids`` (0 included)."""
        return {s: self._per_subject.get(s, 0) for s in subject_ids}

    def snapshot(self) -> ProjectSnapshot:
        project = self.engine.get_project(self.project_id)
        # copies of the first message's subjects only (ids alone for the rest, as the jobs feed)
        subject_ids = list(self.engine.subject_names(project.id))
        rows = [subject_row(self.engine.get_subject(s)) for s in subject_ids[:MAX_SUBJECT_ROWS]]
        self._sent.update((row["id"], row) for row in rows)
        self._full |= self._changed_subjects
        # a view that takes this snapshot holds none of the others, whatever other views hold
        self._backlog = dict.fromkeys(subject_ids[MAX_SUBJECT_ROWS:])
        for subject_id in self._backlog:
            self._sent.pop(subject_id, None)
        if self._backlog:
            self._wake()
        return {
            "project": {"id": project.id, "name": project.name},
            "stages": stage_rows(self.engine.pipeline(project.id)),
            "subjects": rows,
            "total": len(subject_ids),
            # the subjects of the rows sent: the others' counts go with their rows
            "active": {r["id"]: n for r in rows if (n := self._per_subject.get(r["id"], 0))},
            "active_total": len(self._active),
            "progress": self._progress(),
        }

    def take_patch(self) -> ProjectPatch | None:
        patch: ProjectPatch = {}
        # rows views lack go whole, one message's worth at a time: new or changed subjects first,
        # then those a snapshot left out; the rest wait in the backlog for the next patch
        owed = list(
            {**dict.fromkeys(s for s in self._changed_subjects if s not in self._sent), **self._backlog}
        )
        self._backlog = dict.fromkeys(owed[MAX_SUBJECT_ROWS:])
        self._changed_subjects = {s for s in self._changed_subjects if s in self._sent} | set(
            owed[:MAX_SUBJECT_ROWS]
        )
        if self._backlog:
            self._wake()
        if self._changed_subjects:
            rows: list[SubjectRow] = []
            cells: dict[str, dict[str, StageStatusName]] = {}
            for subject_id in self._changed_subjects:
                row = subject_row(self.engine.get_subject(subject_id))
                before = self._sent.get(subject_id)
                self._sent[subject_id] = row
                if before is None or subject_id in self._full or _details(before) != _details(row):
                    rows.append(row)
                    continue
                now, was = row["statuses"], before["statuses"]
                changed = {
                    s: now.get(s, StageStatus.NOT_RUN.value) for s in {*now, *was} if now.get(s) != was.get(s)
                }
                if changed:
                    cells[subject_id] = changed
            if rows:
                patch["subjects"] = rows
                self._changed_active.update(row["id"] for row in rows)  # a view may lack their counts
            if cells:
                patch["cells"] = cells
            self._changed_subjects = set()
            self._full = set()
        if self._changed_active:
            patch["active"] = self._counts(self._changed_active)
            patch["active_total"] = len(self._active)
            self._changed_active = set()
        if self._changed_progress:
            patch["progress"] = self._progress(self._changed_progress)
            self._changed_progress = set()
        return patch or None

    def actions(self) -> dict[str, Handler]:
        return {
            "run_pipeline": self._run_pipeline,
            "cells": self._cells,
            "templates": lambda _p: self._templates(),
            "save_template": self._save_template,
            "run_template": self._run_template,
            "delete_template": self._delete_template,
        }

    def _templates(self) -> Templates:
        return {"templates": [template_row(t) for t in self.engine.list_templates()]}

    def _save_template(self, payload: dict[str, Any]) -> SavedTemplate:
        """Save the view's stage choice (and its selected subjects, by name) as a template."""
        subjects = None
        if payload["subject_ids"]:
            known = self.engine.subject_names(self.project_id)
            unknown = [s for s in payload["subject_ids"] if s not in known]
            if unknown:
                raise BadRequest(f"subjects {unknown[:3]} are not in project {self.project_id!r}")
            subjects = [known[s] for s in payload["subject_ids"]]
        template = self.engine.save_template(payload["name"], stages=payload["stage_ids"], subjects=subjects)
        return {"template": template_row(template), **self._templates()}

    async def _run_template(self, payload: dict[str, Any]) -> Queued:
        jobs = await in_slices(
            functools.partial(self.engine.run_pipeline, template=payload["name"]), self.project_id
        )
        return {"jobs": len(jobs)}

    def _delete_template(self, payload: dict[str, Any]) -> Templates:
        self.engine.delete_template(payload["name"])
        return self._templates()

    async def _run_pipeline(self, payload: dict[str, Any]) -> Queued:
        run = functools.partial(self.engine.run_pipeline, rerun_done=bool(payload["rerun_done"]))
        jobs = await in_slices(run, self.project_id, payload["subject_ids"], payload["stage_ids"])
        return {"jobs": len(jobs)}

    async def _cells(self, payload: dict[str, Any]) -> CellsDone:
        """Run, rerun or cancel cells of this project's grid (the engine checks every cell
        against this project before it acts on any)."""
        cells: list[tuple[str, str]] = payload["cells"]
        action = payload["action"]
        named = set(cells)
        if action == "cancel":
            cancelled = (await in_slices(self.engine.cancel_cells, self.project_id, cells)).done
            acted = {(j.subject_id, j.stage_id) for j in cancelled} & named
            return {"action": action, "cells": len(named), "acted": len(acted), "jobs": len(cancelled)}
        before = set(self.engine.get_job_ids(project_id=self.project_id, status=_ACTIVE))
        run = functools.partial(self.engine.run_cells, rerun_done=action == "rerun")
        jobs = await in_slices(run, self.project_id, cells)
        queued = [j for j in jobs if j.id not in before]
        acted = {(j.subject_id, j.stage_id) for j in queued} & named
        return {"action": action, "cells": len(named), "acted": len(acted), "jobs": len(queued)}


def _details(row: SubjectRow) -> tuple[object, ...]:
    """What a subject row holds beside its statuses."""
    return (row["name"], row["has_t1"], row["has_dce"], row["has_diffusion"])
