"""A project's subjects x stages grid, its active jobs per subject, running the pipeline, and
run templates (save the stages to run, list, run and delete them)."""

from __future__ import annotations

from typing import Any

from ...engine import Engine, Job, JobStatus, StatusUpdate, Subject
from ...engine.templates import RunTemplate
from ..feed import Action, Feed
from ..records import stage_rows, subject_row
from ..validation import BadRequest, Field

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
TEMPLATE = {"name": Field(str, max_len=128)}


def template_row(template: RunTemplate) -> dict[str, Any]:
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
    """Snapshot: ``{"project": {"id", "name"}, "stages": [...], "subjects": [rows],
    "active": {subject_id: queued + running jobs}, "progress": {subject_id: {stage_id: whole
    percent of its running job}}}``.

    Patch: ``{"subjects": [changed or new rows], "active": {subject_id: count}, "progress":
    {subject_id: {stage_id: percent}}}`` (keys only when changed; a subject's progress is sent
    whole, ``{}`` when none of its jobs runs; only a change of the whole percent is sent).
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

    def snapshot(self) -> dict[str, Any]:
        project = self.engine.get_project(self.project_id)
        return {
            "project": {"id": project.id, "name": project.name},
            "stages": stage_rows(self.engine.pipeline(project.id)),
            "subjects": [subject_row(s) for s in self.engine.get_subjects(project.id)],
            "active": self._counts(),
            "progress": self._progress(),
        }

    def take_patch(self) -> dict[str, Any] | None:
        patch: dict[str, Any] = {}
        if self._changed_subjects:
            patch["subjects"] = [subject_row(self.engine.get_subject(s)) for s in self._changed_subjects]
            self._changed_subjects = set()
        if self._changed_active:
            patch["active"] = self._counts(self._changed_active)
            self._changed_active = set()
        if self._changed_progress:
            patch["progress"] = self._progress(self._changed_progress)
            self._changed_progress = set()
        return patch or None

    def actions(self) -> dict[str, Action]:
        return {
            "run_pipeline": Action(
                {
                    "subject_ids": Field(list, required=False, nullable=True, max_len=64),
                    "stage_ids": Field(list, required=False, nullable=True, max_items=100, max_len=128),
                    "rerun_done": Field(bool, required=False, nullable=True),
                },
                self._run_pipeline,
            ),
            "templates": Action({}, lambda _p: self._templates()),
            "save_template": Action(
                {
                    "name": Field(str, max_len=128),
                    "stage_ids": Field(list, max_items=100, max_len=128),
                    "subject_ids": Field(list, required=False, nullable=True, max_len=64),
                },
                self._save_template,
            ),
            "run_template": Action(TEMPLATE, self._run_template),
            "delete_template": Action(TEMPLATE, self._delete_template),
        }

    def _templates(self) -> dict[str, Any]:
        return {"templates": [template_row(t) for t in self.engine.list_templates()]}

    def _save_template(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Save the view's stage choice (and its selected subjects, by name) as a template."""
        subjects = None
        if payload["subject_ids"]:
            known = {s.id: s.name for s in self.engine.get_subjects(self.project_id)}
            unknown = [s for s in payload["subject_ids"] if s not in known]
            if unknown:
                raise BadRequest(f"subjects {unknown[:3]} are not in project {self.project_id!r}")
            subjects = [known[s] for s in payload["subject_ids"]]
        template = self.engine.save_template(payload["name"], stages=payload["stage_ids"], subjects=subjects)
        return {"template": template_row(template), **self._templates()}

    def _run_template(self, payload: dict[str, Any]) -> dict[str, Any]:
        jobs = self.engine.run_pipeline(self.project_id, template=payload["name"])
        return {"jobs": len(jobs)}

    def _delete_template(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.engine.delete_template(payload["name"])
        return self._templates()

    def _run_pipeline(self, payload: dict[str, Any]) -> dict[str, Any]:
        rerun_done = bool(payload["rerun_done"])
        jobs = self.engine.run_pipeline(
            self.project_id, payload["subject_ids"], payload["stage_ids"], rerun_done=rerun_done
        )
        return {"jobs": len(jobs)}
