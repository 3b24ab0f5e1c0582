"""SubjectDetail: one subject's stages, their latest jobs with errors and logs; run a stage."""

from __future__ import annotations

import traitlets

from ..engine import Engine, Subject
from .feeds import LogFeed, QcFeed, SubjectFeed
from .guarded import GuardedWidget
from .results import Results
from .scope import Scope


class SubjectDetail(GuardedWidget):
    """Done / total stages with a progress ring, one card per stage with its status; a stage's
    latest job with its error and live log; Run / Rerun, enabled when its dependencies are done.
    An opened stage shows its results (asked for only then): the tool's QC verdict as a badge,
    thumbnails of its figures and montages of its maps (click to enlarge), curves as small plots,
    tables, values; a QC rating (pass / fail, a note); for a phantom subject, the fitted values
    beside the phantom's truth.

    Args:
        engine: the engine to follow.
        subject_id: the subject (or a :class:`~pbrain_widgets.Subject`).
    """

    _view_kind = traitlets.Unicode("subject_detail").tag(sync=True)
    subject_id = traitlets.Unicode(read_only=True).tag(sync=True)

    def __init__(self, engine: Engine, subject_id: str | Subject) -> None:
        if isinstance(subject_id, Subject):
            subject_id = subject_id.id
        self.subject_feed = SubjectFeed(engine, subject_id)
        scope = Scope.of_subject(engine, subject_id)
        super().__init__(
            engine,
            [self.subject_feed, LogFeed(engine, scope), QcFeed(engine, scope)],
            actions=Results(engine, scope).actions(),
        )
        self.set_trait("subject_id", self.subject_feed.subject_id)
