"""The feeds that the widgets are made of (see :mod:`pbrain_widgets.widgets.feed`)."""

from .focus import FocusFeed
from .graph import GraphFeed
from .history import HistoryFeed
from .job import JobFeed
from .jobs import JobsFeed
from .logs import LogFeed
from .project import ProjectFeed
from .qc import QcFeed
from .review import ReviewFeed
from .subject import SubjectFeed
from .timeline import TimelineFeed

__all__ = [
    "FocusFeed",
    "GraphFeed",
    "HistoryFeed",
    "JobFeed",
    "JobsFeed",
    "LogFeed",
    "ProjectFeed",
    "QcFeed",
    "ReviewFeed",
    "SubjectFeed",
    "TimelineFeed",
]
