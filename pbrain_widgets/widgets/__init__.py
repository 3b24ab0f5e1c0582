"""Live anywidget monitors of the engine: jobs, logs, connectivity, projects and subjects, the
pipeline graph and the timeline."""

from .connection_status import ConnectionStatus
from .job_monitor import JobMonitor
from .log_stream import LogStream
from .pipeline_graph import PipelineGraph
from .project_dashboard import ProjectDashboard
from .subject_detail import SubjectDetail
from .sync import SyncWidget
from .timeline import Timeline

__all__ = [
    "ConnectionStatus",
    "JobMonitor",
    "LogStream",
    "PipelineGraph",
    "ProjectDashboard",
    "SubjectDetail",
    "SyncWidget",
    "Timeline",
]
