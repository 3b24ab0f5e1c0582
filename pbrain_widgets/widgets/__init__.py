"""Live anywidget monitors of the engine: jobs, logs, connectivity, projects and subjects, the
pipeline graph, the timeline, the job history and the cohort QC review."""

from .connection_status import ConnectionStatus
from .job_history import JobHistory
from .job_monitor import JobMonitor
from .log_stream import LogStream
from .pipeline_graph import PipelineGraph
from .project_dashboard import ProjectDashboard
from .qc_review import QcReview
from .subject_detail import SubjectDetail
from .sync import SyncWidget
from .timeline import Timeline

__all__ = [
    "ConnectionStatus",
    "JobHistory",
    "JobMonitor",
    "LogStream",
    "PipelineGraph",
    "ProjectDashboard",
    "QcReview",
    "SubjectDetail",
    "SyncWidget",
    "Timeline",
]
