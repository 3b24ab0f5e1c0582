"""The scope of a widget: the jobs its views may see and act on.

A widget shows every job of the engine, or one project's, one subject's, or a single job. Every
request that names a job (cancel, retry, watch, logs...) goes through :meth:`Scope.check_job`,
so that a view of project A can neither act on nor read project B's jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import Engine, Job
from ..errors import UnknownJobError
from .validation import BadRequest


@dataclass(frozen=True)
class Scope:
    """Every job of the engine (no field set), or only the jobs matching each field that is set."""

    project_id: str | None = None
    subject_id: str | None = None
    job_id: str | None = None

    @classmethod
    def of_project(cls, engine: Engine, project_id: str) -> Scope:
        """The jobs of one project (an unknown id raises the engine's error)."""
        return cls(project_id=engine.get_project(project_id).id)

    @classmethod
    def of_subject(cls, engine: Engine, subject_id: str) -> Scope:
        """The jobs of one subject."""
        subject = engine.get_subject(subject_id)
        return cls(project_id=subject.project_id, subject_id=subject.id)

    @classmethod
    def of_job(cls, engine: Engine, job_id: str) -> Scope:
        """One job."""
        job = engine.get_job(job_id)
        return cls(project_id=job.project_id, subject_id=job.subject_id, job_id=job.id)

    def covers(self, project_id: str, subject_id: str | None = None, job_id: str | None = None) -> bool:
        """Whether the scope holds what these ids name (``None``: not named, so only a scope
        that does not restrict it holds it; a subject is not in a one-job scope)."""
        wanted = (self.project_id, self.subject_id, self.job_id)
        return all(w is None or w == g for w, g in zip(wanted, (project_id, subject_id, job_id), strict=True))

    def project_ids(self, engine: Engine) -> list[str]:
        """The ids of the projects this scope reaches into (every project for the whole engine)."""
        if self.project_id is not None:
            return [self.project_id]
        return [p.id for p in engine.get_projects()]

    def check_job(self, engine: Engine, job_id: str) -> Job:
        """The job, if it is in this scope; else :class:`BadRequest`, the same for a job that does
        not exist and for one of another scope (a view learns nothing of other projects)."""
        try:
            job = engine.get_job(job_id)
        except UnknownJobError:
            job = None
        if job is None or not self.covers(job.project_id, job.subject_id, job.id):
            raise BadRequest(f"job {job_id!r} is unknown here; this widget serves {self}")
        return job

    def __str__(self) -> str:
        if self.job_id is not None:
            return f"only job {self.job_id!r}"
        if self.subject_id is not None:
            return f"only the jobs of subject {self.subject_id!r}"
        if self.project_id is not None:
            return f"only the jobs of project {self.project_id!r}"
        return "every job of the engine"
