"""The catalog: projects, their pipelines and subjects, and each subject's stage statuses.

Project and subject names end up in folder names, command lines (``{subject}``) and log lines,
so they are checked (:func:`check_name`) and refused, never changed, when they could not be all
three safely.
"""

from __future__ import annotations

import os
import time
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import DuplicateNameError, InvalidArgumentError, UnknownProjectError, UnknownSubjectError
from .events import Listeners
from .models import Project, StageStatus, StatusUpdate, Subject
from .pipeline import Pipeline
from .store import Store

_HAS_RESULT = frozenset({StageStatus.DONE, StageStatus.FAILED, StageStatus.WAITING})
_SUBJECT_FIELDS = ("name", "source_path", "has_t1", "has_dce", "has_diffusion")
_FLAGS = ("has_t1", "has_dce", "has_diffusion")
_MAX_NAME_BYTES = 255  # the longest file name most file systems allow
# control characters (NUL, tab, newline...), lone surrogates, line and paragraph separators
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
NAME_RULE = (
    "a name must be usable as one folder name and one log line: no '/' or '\\', no control "
    "character (newline, tab, NUL...), line separator or lone surrogate, not '.' or '..', not "
    f"starting with '-', at most {_MAX_NAME_BYTES} bytes in UTF-8"
)


def check_name(kind: str, value: object) -> str:
    """``value`` without surrounding whitespace, if it is a valid ``kind`` (project, subject)
    name: see :data:`NAME_RULE`. Otherwise :class:`InvalidArgumentError` naming what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"a {kind} name must be a non-empty string, got {value!r}")
    name = value.strip()
    for i, char in enumerate(name):
        if char in "/\\" or unicodedata.category(char) in _UNSAFE_CATEGORIES:
            raise InvalidArgumentError(
                f"{kind} name {name!r} contains {char!r} (U+{ord(char):04X}) at position {i}; {NAME_RULE}"
            )
    if name in (".", ".."):
        raise InvalidArgumentError(f"{kind} name {name!r} is not allowed; {NAME_RULE}")
    if name.startswith("-"):
        raise InvalidArgumentError(f"{kind} name {name!r} starts with '-'; {NAME_RULE}")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise InvalidArgumentError(f"{kind} name {name[:40]!r}... is too long; {NAME_RULE}")
    return name


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def _detect_modalities(path: Path) -> dict[str, bool]:
    names = " ".join(p.name.lower() for p in path.rglob("*") if p.is_file())
    return {
        "has_t1": any(k in names for k in ("t1", "_ir", "ir_", "vfa")),
        "has_dce": "dce" in names,
        "has_diffusion": any(k in names for k in ("dwi", "diffusion", "dti")),
    }


def subject_copy(subject: Subject) -> Subject:
    """A copy a caller may keep and change (its stage statuses included)."""
    clone = object.__new__(Subject)  # copy.copy's generic path costs 5x more (10,000 subjects)
    clone.__dict__.update(subject.__dict__)
    clone.stage_statuses = dict(subject.stage_statuses)
    clone.stale_reasons = dict(subject.stale_reasons)
    return clone


class Catalog:
    """Projects, pipelines and subjects of one engine, with their listeners."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.projects: dict[str, Project] = {}
        self.pipelines: dict[str, Pipeline] = {}
        self.subjects: dict[str, Subject] = {}
        self.status_listeners: Listeners[StatusUpdate] = Listeners("status update")
        self.subject_listeners: Listeners[Subject] = Listeners("subject update")

    def load(self, projects: Iterable[Project], subjects: Iterable[Subject]) -> None:
        for p in projects:
            self.projects[p.id] = p
            self.pipelines[p.id] = Pipeline.from_dict(p.pipeline)
        for s in subjects:
            pipeline = self.pipelines.get(s.project_id)
            if pipeline is not None:
                for sid in pipeline.stage_ids:
                    s.stage_statuses.setdefault(sid, StageStatus.NOT_RUN)
            self.subjects[s.id] = s

    # -- lookups -----------------------------------------------------------------------------

    def project(self, project_id: str) -> Project:
        try:
            return self.projects[project_id]
        except (KeyError, TypeError):
            raise UnknownProjectError(project_id, self.projects) from None

    def subject(self, subject_id: str) -> Subject:
        try:
            return self.subjects[subject_id]
        except (KeyError, TypeError):
            raise UnknownSubjectError(subject_id, self.subjects) from None

    def project_subject(self, project_id: str, subject_id: str) -> Subject:
        subject = self.subject(subject_id)
        if subject.project_id != project_id:
            valid = [s.id for s in self.subjects.values() if s.project_id == project_id]
            raise UnknownSubjectError(subject_id, valid)
        return subject

    def project_subjects(self, project_id: str) -> list[Subject]:
        return [s for s in self.subjects.values() if s.project_id == project_id]

    # -- changes -----------------------------------------------------------------------------

    def create_project(
        self, name: str, pipeline: Pipeline, storage_path: str | os.PathLike[str] | None
    ) -> Project:
        name = check_name("project", name)
        if not isinstance(pipeline, Pipeline):
            raise InvalidArgumentError(f"pipeline must be a Pipeline, got {pipeline!r}")
        taken = [p.name for p in self.projects.values()]
        if name in taken:
            raise DuplicateNameError(f"a project named {name!r} already exists; existing projects: {taken}")
        project = Project(
            id=new_id(),
            name=name,
            storage_path=str(storage_path) if storage_path is not None else None,
            pipeline=pipeline.to_dict(),
        )
        self._store.insert_project(project)
        self.projects[project.id] = project
        self.pipelines[project.id] = pipeline
        return project

    def set_pipeline(self, project_id: str, pipeline: Pipeline) -> None:
        project = self.project(project_id)
        if not isinstance(pipeline, Pipeline):
            raise InvalidArgumentError(f"pipeline must be a Pipeline, got {pipeline!r}")
        if pipeline.to_dict()["stages"] != project.pipeline["stages"]:
            raise InvalidArgumentError(
                f"pipeline {pipeline.name!r} does not match project {project.name!r}'s stages "
                f"{[s['id'] for s in project.pipeline['stages']]}"
            )
        self.pipelines[project_id] = pipeline

    def add_subjects(self, project_id: str, names: Iterable[str | Mapping[str, Any]]) -> list[Subject]:
        """Check every item, then add them all in one transaction: all or nothing."""
        project = self.project(project_id)
        if isinstance(names, (str, Mapping)):
            names = [names]
        try:
            items = list(names)
        except TypeError:
            raise InvalidArgumentError(
                f"subjects must be a list of names or mappings with a 'name', got {names!r}"
            ) from None
        existing = {s.name for s in self.project_subjects(project_id)}
        subjects: list[Subject] = []
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, (str, Mapping)):
                raise InvalidArgumentError(
                    f"a subject must be a name or a mapping with a 'name', got {item!r}"
                )
            spec: dict[str, Any] = {"name": item} if isinstance(item, str) else dict(item)
            extra = set(spec) - set(_SUBJECT_FIELDS)
            if extra:
                unknown = sorted(map(repr, extra))
                raise InvalidArgumentError(
                    f"unknown subject field(s) {', '.join(unknown)}; valid fields: {sorted(_SUBJECT_FIELDS)}"
                )
            name = check_name("subject", spec.get("name"))
            if name in existing or name in seen:
                raise DuplicateNameError(
                    f"subject {name!r} already exists in project {project.name!r}; "
                    "subject names are unique within a project"
                )
            seen.add(name)
            source = spec.get("source_path")
            flags: dict[str, Any] = {}
            if source is not None:
                if not isinstance(source, (str, os.PathLike)):
                    raise InvalidArgumentError(
                        f"source_path of subject {name!r} must be a folder path, got {source!r}"
                    )
                path = Path(source).expanduser()
                if not path.is_dir():
                    raise InvalidArgumentError(
                        f"source_path {str(source)!r} of subject {name!r} is not an existing folder"
                    )
                source = str(path.resolve())
                flags = _detect_modalities(path)
            for key in _FLAGS:
                if key in spec:
                    if not isinstance(spec[key], bool):
                        raise InvalidArgumentError(
                            f"{key} of subject {name!r} must be True or False, got {spec[key]!r}"
                        )
                    flags[key] = spec[key]
            subjects.append(
                Subject(
                    id=new_id(),
                    project_id=project_id,
                    name=name,
                    source_path=source,
                    stage_statuses=dict.fromkeys(self.pipelines[project_id].stage_ids, StageStatus.NOT_RUN),
                    **flags,
                )
            )
        self._store.insert_subjects(subjects)
        for s in subjects:
            self.subjects[s.id] = s
            if self.subject_listeners:
                self.subject_listeners.emit(subject_copy(s))
        return [subject_copy(s) for s in subjects]

    def set_stage_status(self, subject: Subject, stage_id: str, status: StageStatus) -> None:
        if subject.stage_statuses.get(stage_id) == status:
            return
        subject.stage_statuses[stage_id] = status
        subject.updated_at = time.time()
        if stage_id in subject.stale_reasons and status in _HAS_RESULT:  # the reason is moot now
            del subject.stale_reasons[stage_id]
            self._store.save_stale_reason(subject.id, stage_id, None)
        self._store.save_stage_status(subject.id, stage_id, status)
        if self.status_listeners:
            self.status_listeners.emit(StatusUpdate(subject.project_id, subject.id, stage_id, status))
