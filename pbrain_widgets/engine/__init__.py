"""The kernel-side job engine: records, pipelines, scheduler, events and store."""

from .engine import Engine
from .executor import Executor, LocalExecutor
from .models import (
    LOG_TAIL_LINES,
    MAX_LINE_CHARS,
    Job,
    JobStatus,
    LogEntry,
    LogLevel,
    Output,
    OutputKind,
    Project,
    QcEntry,
    QcRating,
    StageStatus,
    StatusUpdate,
    Subject,
)
from .pipeline import STUDIO_PIPELINE, Pipeline, Stage
from .store import default_db_path

__all__ = [
    "LOG_TAIL_LINES",
    "MAX_LINE_CHARS",
    "STUDIO_PIPELINE",
    "Engine",
    "Executor",
    "Job",
    "JobStatus",
    "LocalExecutor",
    "LogEntry",
    "LogLevel",
    "Output",
    "OutputKind",
    "Pipeline",
    "Project",
    "QcEntry",
    "QcRating",
    "Stage",
    "StageStatus",
    "StatusUpdate",
    "Subject",
    "default_db_path",
]
