"""Runners execute one stage for one subject: simulated, commands, Python functions, p-brain.

``DaskExecutor`` (``pbrain_widgets.runners.dask``) needs the ``dask`` extra and is imported on
first use.
"""

from typing import Any

from ..engine.runner import JobContext, Runner
from ..engine.simulated import SimulatedRunner
from .command import NEEDS_USER_ACTION_EXIT, PLACEHOLDERS, CommandRunner
from .function import FunctionRunner
from .pbrain import PHANTOM_OPTIONS, PbrainNotInstalledError, make_phantom_subjects, pbrain_pipeline
from .worker import TaskContext

__all__ = [
    "NEEDS_USER_ACTION_EXIT",
    "PHANTOM_OPTIONS",
    "PLACEHOLDERS",
    "CommandRunner",
    "DaskExecutor",
    "FunctionRunner",
    "JobContext",
    "PbrainNotInstalledError",
    "Runner",
    "SimulatedRunner",
    "TaskContext",
    "make_phantom_subjects",
    "pbrain_pipeline",
]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from .dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
