"""The feeds that the widgets are made of (see :mod:`pbrain_widgets.widgets.feed`)."""

from .job import JobFeed
from .jobs import JobsFeed
from .logs import LogFeed
from .project import ProjectFeed
from .subject import SubjectFeed

__all__ = ["JobFeed", "JobsFeed", "LogFeed", "ProjectFeed", "SubjectFeed"]
