"""Drive and monitor p-brain pipelines live from Jupyter notebooks.

The widgets (and anywidget with them) and the Dask executor are imported on first use, so that
headless scripts and cluster workers unpickling a runner pay only for the engine.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .engine import (
    STUDIO_PIPELINE,
    Engine,
    Executor,
    Job,
    JobStatus,
    LocalExecutor,
    LogEntry,
    LogLevel,
    Output,
    OutputKind,
    Pipeline,
    Project,
    QcEntry,
    QcRating,
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
    StoreDamagedError,
    StoreLockedError,
    StoreVersionError,
    StoreWriteError,
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

if TYPE_CHECKING:
    from .runners.dask import DaskExecutor
    from .widgets import (
        ConnectionStatus,
        JobHistory,
        JobMonitor,
        LogStream,
        PipelineGraph,
        ProjectDashboard,
        QcReview,
        SubjectDetail,
        Timeline,
    )
    from .widgets.dock import dock

_LAZY = {
    "DaskExecutor": ".runners.dask",
    "ConnectionStatus": ".widgets",
    "JobHistory": ".widgets",
    "JobMonitor": ".widgets",
    "LogStream": ".widgets",
    "PipelineGraph": ".widgets",
    "ProjectDashboard": ".widgets",
    "QcReview": ".widgets",
    "SubjectDetail": ".widgets",
    "Timeline": ".widgets",
    "dock": ".widgets.dock",
}

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
    "JobHistory",
    "JobMonitor",
    "JobStatus",
    "LocalExecutor",
    "LogEntry",
    "LogLevel",
    "LogStream",
    "NeedsUserAction",
    "Output",
    "OutputKind",
    "PbrainNotInstalledError",
    "PbrainWidgetsError",
    "Pipeline",
    "PipelineError",
    "PipelineGraph",
    "Project",
    "ProjectDashboard",
    "QcEntry",
    "QcRating",
    "QcReview",
    "Runner",
    "SimulatedRunner",
    "Stage",
    "StageStatus",
    "StatusUpdate",
    "StoreDamagedError",
    "StoreLockedError",
    "StoreVersionError",
    "StoreWriteError",
    "Subject",
    "SubjectDetail",
    "TaskContext",
    "Timeline",
    "UnknownJobError",
    "UnknownProjectError",
    "UnknownStageError",
    "UnknownSubjectError",
    "default_db_path",
    "dock",
    "make_phantom_subjects",
    "pbrain_pipeline",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
