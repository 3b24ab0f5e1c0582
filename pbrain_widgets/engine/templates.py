"""Run templates: a named run configuration kept in the store.

A template says which stages to run, for which subjects (a list of names, or one glob pattern
such as ``"sub-0*"``), with how many jobs at once, and which options the runners get
(``ctx.options``, e.g. p-brain's models). ``engine.run_pipeline(project_id, template=name)``
applies one to any project whose pipeline has its stages.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgumentError
from .catalog import check_name
from .models import Subject, _Record
from .scheduler import check_max_concurrent


@dataclass
class RunTemplate(_Record):
    name: str
    stages: list[str] | None = None
    """Stage ids to run (with their dependencies that are not done); ``None``: every stage."""
    subjects: list[str] | str | None = None
    """Subject names, or one glob pattern over names (``"sub-0*"``); ``None``: every subject."""
    max_concurrent: int | None = None
    """Set as the engine's ``max_concurrent`` when the template is applied; ``None``: unchanged."""
    runner_options: dict[str, Any] = field(default_factory=dict)
    """Given to the runners of the jobs it queues as ``ctx.options``."""
    created_at: float = field(default_factory=time.time)

    def select_subjects(self, subjects: list[Subject]) -> list[Subject]:
        """The subjects this template runs, in the project's order."""
        if self.subjects is None:
            return subjects
        if isinstance(self.subjects, str):
            return [s for s in subjects if fnmatch.fnmatchcase(s.name, self.subjects)]
        wanted = set(self.subjects)
        return [s for s in subjects if s.name in wanted]


def make_template(
    name: str,
    stages: Iterable[str] | None,
    subjects: Iterable[str] | str | None,
    max_concurrent: int | None,
    runner_options: Mapping[str, Any] | None,
) -> RunTemplate:
    """A checked template (bad values raise :class:`InvalidArgumentError`)."""
    name = check_name("template", name)
    stage_list = None
    if stages is not None:
        if isinstance(stages, str):
            stages = [stages]
        stage_list = list(stages)
        if not stage_list or not all(isinstance(s, str) for s in stage_list):
            raise InvalidArgumentError(
                f"stages must be a non-empty list of stage ids or None, got {stages!r}"
            )
    subject_spec: list[str] | str | None = None
    if isinstance(subjects, str):
        subject_spec = subjects
    elif subjects is not None:
        subject_spec = list(subjects)
        if not all(isinstance(s, str) for s in subject_spec):
            raise InvalidArgumentError(
                f"subjects must be a glob pattern, a list of subject names or None, got {subjects!r}"
            )
    if max_concurrent is not None:
        check_max_concurrent(max_concurrent)
    options = dict(runner_options or {})
    if not all(isinstance(k, str) for k in options):
        raise InvalidArgumentError(f"runner_options keys must be strings, got {list(options)!r}")
    return RunTemplate(name, stage_list, subject_spec, max_concurrent, options)


def template_from_dict(data: Mapping[str, Any]) -> RunTemplate:
    return RunTemplate(**{k: v for k, v in data.items() if k in RunTemplate.__dataclass_fields__})
