"""Exceptions raised by pbrain-widgets.

Every error the library raises on bad input is a subclass of :class:`PbrainWidgetsError`, and its
message names the bad value and what would have been valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, overload


def _choices(values: Iterable[object], limit: int = 12) -> str:
    items = [repr(v) for v in values]
    if not items:
        return "none"
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


class PbrainWidgetsError(Exception):
    """Base class of every error raised by pbrain-widgets."""


class UnknownIdError(PbrainWidgetsError, KeyError):
    """An id (project, subject, stage or job) that the engine does not know."""

    def __init__(self, kind: str, value: object, valid: Iterable[object] = ()) -> None:
        self.kind = kind
        self.value = value
        super().__init__(f"unknown {kind} {value!r}; valid {kind}s: {_choices(valid)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownProjectError(UnknownIdError):
    def __init__(self, value: object, valid: Iterable[object] = ()) -> None:
        super().__init__("project id", value, valid)


class UnknownSubjectError(UnknownIdError):
    def __init__(self, value: object, valid: Iterable[object] = ()) -> None:
        super().__init__("subject id", value, valid)


class UnknownStageError(UnknownIdError):
    def __init__(self, value: object, valid: Iterable[object] = ()) -> None:
        super().__init__("stage id", value, valid)


class UnknownJobError(UnknownIdError):
    def __init__(self, value: object, valid: Iterable[object] = ()) -> None:
        super().__init__("job id", value, valid)


class UnknownTemplateError(UnknownIdError):
    def __init__(self, value: object, valid: Iterable[object] = ()) -> None:
        super().__init__("template", value, valid)


class DuplicateNameError(PbrainWidgetsError, ValueError):
    """A name that must be unique (a subject in its project, a project) is already taken."""


class PipelineError(PbrainWidgetsError, ValueError):
    """A pipeline definition that is not a valid DAG (cycle, unknown dependency, duplicate id)."""


class InvalidTransitionError(PbrainWidgetsError, ValueError):
    """An operation that the job's current status does not allow (e.g. retrying a running job)."""


class InvalidArgumentError(PbrainWidgetsError, ValueError):
    """A parameter value out of its valid range or of the wrong type."""


@overload
def check_count(name: str, value: object, optional: Literal[False] = False, minimum: int = 0) -> int: ...
@overload
def check_count(name: str, value: object, optional: Literal[True], minimum: int = 0) -> int | None: ...
def check_count(name: str, value: object, optional: bool = False, minimum: int = 0) -> int | None:
    """``value`` if it is an integer >= ``minimum`` (or ``None`` when ``optional``); else
    :class:`InvalidArgumentError` naming ``name``, the value and what would be valid."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        valid = f"an integer >= {minimum}" + (" or None" if optional else "")
        raise InvalidArgumentError(f"{name} must be {valid}, got {value!r}")
    return value


class StoreLockedError(PbrainWidgetsError, RuntimeError):
    """The database file is already open in another engine."""


class EngineClosedError(PbrainWidgetsError, RuntimeError):
    """The engine was closed; create a new one."""


class JobFailed(PbrainWidgetsError):
    """Raised by a runner to fail its job with a plain message (no traceback in the log)."""


class NeedsUserAction(PbrainWidgetsError):
    """Raised by a runner when the stage cannot go on without a user (e.g. drawing an ROI).

    The job ends failed with this message and the subject's stage becomes ``waiting``; retry
    the job once the action is done.
    """


class StoreDamagedError(PbrainWidgetsError, RuntimeError):
    """The database file cannot be read (not a database, truncated, malformed)."""


class StoreWriteError(PbrainWidgetsError, RuntimeError):
    """Changes could not be written to the store before it was closed."""


class StoreVersionError(PbrainWidgetsError, RuntimeError):
    """The database was written by a newer pbrain-widgets, whose layout this one does not know."""
