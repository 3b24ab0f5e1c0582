"""QcReview: one output of one stage for every subject of a project, rated by keyboard."""

from __future__ import annotations

from typing import Any

import traitlets

from ..engine import Engine, Project
from ..engine import qc as qc_columns
from .feeds import QcFeed, ReviewFeed
from .guarded import GuardedWidget
from .protocol import QcTsv
from .results import Results
from .scope import Scope


class QcReview(GuardedWidget):
    """A grid of thumbnails, one per subject, of one output of ``stage_id`` (its latest completed
    job): the output labelled ``output`` (e.g. ``"montage/kinetic/patlak/ki/voxel"`` of p-brain's
    diagnostics stage, or ``"patlak/ki"`` of its kinetic stage, drawn as a montage), or each
    job's first picture. Keyboard: arrows move, ``p`` passes, ``f`` fails, ``n`` writes a note,
    ``u`` removes the rating, Enter enlarges. Ratings go to the engine (``engine.set_qc``), show in
    every :class:`ProjectDashboard` of the project, and export as a TSV of the exclusions.

    Args:
        engine: the engine to follow.
        project_id: the project (or a :class:`~pbrain_widgets.Project`).
        stage_id: the stage whose output is reviewed.
        output: the label of the output to show (``None``: the first picture of each job).
    """

    _view_kind = traitlets.Unicode("qc_review").tag(sync=True)
    project_id = traitlets.Unicode(read_only=True).tag(sync=True)
    stage_id = traitlets.Unicode(read_only=True).tag(sync=True)

    def __init__(
        self, engine: Engine, project_id: str | Project, stage_id: str, output: str | None = None
    ) -> None:
        if isinstance(project_id, Project):
            project_id = project_id.id
        scope = Scope.of_project(engine, project_id)
        review = ReviewFeed(engine, project_id, stage_id, output)
        super().__init__(
            engine,
            [review, QcFeed(engine, scope)],
            actions={**Results(engine, scope).actions(), "export_qc": self._export},
        )
        self.set_trait("project_id", review.project_id)
        self.set_trait("stage_id", review.stage.id)

    def _export(self, payload: dict[str, Any]) -> QcTsv:
        columns = self.engine.qc_rows(self.project_id)
        if payload["only_failed"]:
            columns = qc_columns.only_failed(columns)
        return {"tsv": qc_columns.tsv_text(columns)}
