"""Runners execute one stage for one subject: simulated, commands, Python functions, p-brain."""

from .base import JobContext, Runner
from .simulated import SimulatedRunner

__all__ = ["JobContext", "Runner", "SimulatedRunner"]
