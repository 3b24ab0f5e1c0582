"""Live anywidget monitors of the engine: jobs, logs, connectivity, projects and subjects."""

from .connection_status import ConnectionStatus
from .job_monitor import JobMonitor
from .log_stream import LogStream
from .project_dashboard import ProjectDashboard
from .subject_detail import SubjectDetail
from .sync import SyncWidget

__all__ = ["ConnectionStatus", "JobMonitor", "LogStream", "ProjectDashboard", "SubjectDetail", "SyncWidget"]
