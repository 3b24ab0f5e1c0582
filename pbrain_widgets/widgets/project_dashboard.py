"""ProjectDashboard: the subjects x stages grid of a project, live; run stages; open a subject."""

from __future__ import annotations

from typing import Any

import traitlets

from ..engine import Engine, Project
from ..errors import UnknownSubjectError
from .feeds import FocusFeed, LogFeed, ProjectFeed, QcFeed, SubjectFeed
from .guarded import GuardedWidget
from .results import Results
from .scope import Scope
from .validation import BadTraitValue


class ProjectDashboard(GuardedWidget):
    """One row per subject and one column per stage, with a live mark per cell; modality badges,
    active-jobs badge, Run all (with a choice of stages), per-row run, and a selection of rows,
    columns and cells that the view runs, reruns or cancels (the ``cells`` request:
    :meth:`Engine.run_cells`, :meth:`Engine.cancel_cells`). Clicking a subject opens its
    detail (the same view as :class:`SubjectDetail`)
    inside the dashboard; ``selected_subject`` is that subject's id (settable from Python and
    from a view, only to a subject of this project). A cell whose stage was rated in QC
    (:class:`QcReview`, ``engine.set_qc``) carries a pass or fail mark. The stage in focus in a
    :class:`PipelineGraph` of the same engine and project is the only stage column shown.

    Args:
        engine: the engine to follow.
        project_id: the project (or a :class:`~pbrain_widgets.Project`).
    """

    _view_kind = traitlets.Unicode("project_dashboard").tag(sync=True)
    project_id = traitlets.Unicode(read_only=True).tag(sync=True)
    selected_subject = traitlets.Unicode(None, allow_none=True).tag(sync=True, from_view=True)

    def __init__(self, engine: Engine, project_id: str | Project) -> None:
        if isinstance(project_id, Project):
            project_id = project_id.id
        self.project_feed = ProjectFeed(engine, project_id)
        self.subject_feed = SubjectFeed(engine, None)
        scope = Scope.of_project(engine, project_id)
        super().__init__(
            engine,
            [
                self.project_feed,
                self.subject_feed,
                LogFeed(engine, scope),
                FocusFeed(engine, scope),
                QcFeed(engine, scope),
            ],
            actions={"open_subject": self._open_subject, **Results(engine, scope).actions()},
        )
        self.set_trait("project_id", self.project_feed.project_id)

    def _open_subject(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.selected_subject = payload["subject_id"]
        return {"subject_id": self.selected_subject}

    @traitlets.validate("selected_subject")
    def _check_subject(self, proposal: dict[str, Any]) -> str | None:
        subject_id = proposal["value"]
        if subject_id is not None:
            valid = [s.id for s in self.engine.get_subjects(self.project_feed.project_id)]
            if subject_id not in valid:  # a TraitError, so that a view's update is rolled back
                raise BadTraitValue(f"selected_subject: {UnknownSubjectError(subject_id, valid)}")
        return subject_id

    @traitlets.observe("selected_subject")
    def _follow_subject(self, change: dict[str, Any]) -> None:
        # a view's update arrives on the kernel's thread; the feed lives on the engine's
        self.engine.call(self.subject_feed.switch, change["new"])
