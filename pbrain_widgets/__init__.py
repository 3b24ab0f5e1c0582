"""Drive and monitor p-brain pipelines live from Jupyter notebooks."""

from typing import Any

from .engine import (
    STUDIO_PIPELINE,
    Engine,
    Executor,
    Job,
    JobStatus,
    LocalExecutor,
    LogEntry,
    LogLevel,
    Pipeline,
    Project,
    Stage,
    StageStatus,
    StatusUpdate,
    Subject,
    default_db_path,
)
from .errors import (
    DuplicateNameError,
    EngineClosedError,
    InvalidArgumentError,
    InvalidTransitionError,
    JobFailed,
    NeedsUserAction,
    PbrainWidgetsError,
    PipelineError,
    StoreLockedError,
    UnknownJobError,
    UnknownProjectError,
    UnknownStageError,
    UnknownSubjectError,
)
from .runners import (
    NEEDS_USER_ACTION_EXIT,
    CommandRunner,
    FunctionRunner,
    JobContext,
    PbrainNotInstalledError,
    Runner,
    SimulatedRunner,
    TaskContext,
    make_phantom_subjects,
    pbrain_pipeline,
)
from .widgets import ConnectionStatus, JobMonitor, LogStream, ProjectDashboard, SubjectDetail

__version__ = "0.1.0"

__all__ = [
    "NEEDS_USER_ACTION_EXIT",
    "STUDIO_PIPELINE",
    "CommandRunner",
    "ConnectionStatus",
    "DaskExecutor",
    "DuplicateNameError",
    "Engine",
    "EngineClosedError",
    "Executor",
    "FunctionRunner",
    "InvalidArgumentError",
    "InvalidTransitionError",
    "Job",
    "JobContext",
    "JobFailed",
    "JobMonitor",
    "JobStatus",
    "LocalExecutor",
    "LogEntry",
    "LogLevel",
    "LogStream",
    "NeedsUserAction",
    "PbrainNotInstalledError",
    "PbrainWidgetsError",
    "Pipeline",
    "PipelineError",
    "Project",
    "ProjectDashboard",
    "Runner",
    "SimulatedRunner",
    "Stage",
    "StageStatus",
    "StatusUpdate",
    "StoreLockedError",
    "Subject",
    "SubjectDetail",
    "TaskContext",
    "UnknownJobError",
    "UnknownProjectError",
    "UnknownStageError",
    "UnknownSubjectError",
    "default_db_path",
    "make_phantom_subjects",
    "pbrain_pipeline",
]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":  # needs the dask extra: imported on first use
        from .runners.dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
