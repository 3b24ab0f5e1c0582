"""A project's subjects x stages grid, its active jobs per subject, and running the pipeline."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, JobStatus, StageStatus, StatusUpdate, Subject
from ..feed import Feed, Handler
from ..protocol import ProjectPatch, ProjectSnapshot, Queued, StageStatusName, SubjectRow
from ..records import stage_rows, subject_row

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


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
        self._active: dict[str, str] = {
            j.id: j.subject_id for j in engine.get_jobs(project_id=self.project_id, status=_ACTIVE)
        }
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
            self._active[job.id] = job.subject_id
        elif job.status not in _ACTIVE and was_active:
            del self._active[job.id]
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

    def _counts(self, subject_ids: set[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(subject_ids or (), 0)
        for subject_id in self._active.values():
            if subject_ids is None or subject_id in subject_ids:
                counts[subject_id] = counts.get(subject_id, 0) + 1
        return counts

    def snapshot(self) -> ProjectSnapshot:
        project = self.engine.get_project(self.project_id)
        rows = [subject_row(s) for s in self.engine.get_subjects(project.id)]
        self._sent.update((row["id"], row) for row in rows)
        self._full |= self._changed_subjects
        return {
            "project": {"id": project.id, "name": project.name},
            "stages": stage_rows(self.engine.pipeline(project.id)),
            "subjects": rows,
            "active": self._counts(),
            "progress": self._progress(),
        }

    def take_patch(self) -> ProjectPatch | None:
        patch: ProjectPatch = {}
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
            if cells:
                patch["cells"] = cells
            self._changed_subjects = set()
            self._full = set()
        if self._changed_active:
            patch["active"] = self._counts(self._changed_active)
            self._changed_active = set()
        if self._changed_progress:
            patch["progress"] = self._progress(self._changed_progress)
            self._changed_progress = set()
        return patch or None

    def actions(self) -> dict[str, Handler]:
        return {"run_pipeline": self._run_pipeline}

    def _run_pipeline(self, payload: dict[str, Any]) -> Queued:
        rerun_done = bool(payload["rerun_done"])
        jobs = self.engine.run_pipeline(
            self.project_id, payload["subject_ids"], payload["stage_ids"], rerun_done=rerun_done
        )
        return {"jobs": len(jobs)}


def _details(row: SubjectRow) -> tuple[object, ...]:
    """What a subject row holds beside its statuses."""
    return (row["name"], row["has_t1"], row["has_dce"], row["has_diffusion"])
