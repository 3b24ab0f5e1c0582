"""Persistence: a SQLite database (WAL mode) for records, one text file per job for its log.

Projects and subjects are written at once, each call in one transaction; so are the jobs that
``run_pipeline``, ``run_stage`` and ``retry`` return (:meth:`Store.write_records`). Job progress,
stage statuses and log lines change many times a second, so they are buffered and written behind
by :meth:`Store.flush_turn`, which the engine calls a few times a second, a bounded part of the
buffer per turn. A failed write keeps everything buffered and is retried with a growing delay;
:attr:`Store.error` says why meanwhile.

Damage: a file that SQLite cannot read raises :class:`StoreDamagedError` naming it; a single
unreadable row is skipped with a warning; an empty (0-byte) database file is a new, empty store
unless job logs beside it show that it had a history (then it is damaged too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import itertools
import json
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, TypeVar

from ..errors import StoreDamagedError, StoreLockedError, StoreVersionError, StoreWriteError
from .events import Listeners
from .models import (
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
    Subject,
)
from .pipeline import Pipeline

log = logging.getLogger("pbrain_widgets.store")

T = TypeVar("T")

MEMORY = ":memory:"
FLUSH_LINES = 1000
"""Log lines written per slice of a write-behind turn (a few milliseconds each)."""
FLUSH_SECONDS = 0.005
"""A write-behind turn writes slices until this long has passed, then yields the loop."""
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0
COMMIT_PART_ROWS = 60
"""Job rows per transaction when a call's records are committed in parts (about 5 ms each)."""
TEXT_BATCH_ROWS = 2000
TEXT_BATCH_SECONDS = 10.0
"""The text index of ended jobs is written behind in batches of this many rows, or this often
(and whenever it is searched, and on close)."""
_ENCODE_ERRORS = "backslashreplace"
_MEMORY_LOGS_PREFIX = "pbrain-widgets-logs-"
_STAGE_STATUSES = frozenset(s.value for s in StageStatus)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS stage_status (
    subject_id TEXT NOT NULL, stage_id TEXT NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (subject_id, stage_id));
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stale_reasons (
    subject_id TEXT NOT NULL, stage_id TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (subject_id, stage_id));
CREATE TABLE IF NOT EXISTS templates (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS job_text USING fts5(error, log, content='');
CREATE TABLE IF NOT EXISTS outputs (
    job_id TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (job_id, idx));
CREATE TABLE IF NOT EXISTS qc_ratings (
    subject_id TEXT NOT NULL, stage_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (subject_id, stage_id));
"""
SCHEMA_VERSION = 1
"""The layout of the database (SQLite's ``user_version``): 0 before job outputs and QC ratings,
1 with the ``outputs`` and ``qc_ratings`` tables. Opening an older database adds what it lacks
(every table is created if missing) and raises its version; a newer one is refused."""
_TEXT_INDEX_KEY = "job_text_v1"
"""Set in ``meta`` once every ended job of the store has its row in ``job_text``."""


def default_db_path() -> Path:
    """``$PBRAIN_WIDGETS_DB``, else ``$XDG_DATA_HOME/pbrain-widgets/engine.sqlite``
    (``~/.local/share/pbrain-widgets/engine.sqlite``)."""
    env = os.environ.get("PBRAIN_WIDGETS_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "pbrain-widgets" / "engine.sqlite"


def _memory_log_root() -> str:
    """Where a ``:memory:`` engine keeps its log files: in RAM (``/dev/shm``) where there is
    one, like the rest of a throwaway engine, else the system's temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else tempfile.gettempdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_dead_memory_logs(root: str) -> None:
    """Remove the log folders of ``:memory:`` engines whose process died without closing.

    Each folder is named ``pbrain-widgets-logs-<pid>-<random>``; a folder whose pid is not a
    live process, and that belongs to this user, is deleted.
    """
    try:
        names = os.listdir(root)
    except OSError:
        return
    uid = os.geteuid()
    for name in names:
        if not name.startswith(_MEMORY_LOGS_PREFIX):
            continue
        pid, sep, _ = name.removeprefix(_MEMORY_LOGS_PREFIX).partition("-")
        if not sep or not pid.isdigit() or _alive(int(pid)):
            continue
        path = os.path.join(root, name)
        with contextlib.suppress(OSError):
            if os.lstat(path).st_uid == uid:
                shutil.rmtree(path, ignore_errors=True)


def escape_unencodable(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (lone surrogates, e.g. file names read from a
    folder that is not UTF-8) written as ``\\udcxx`` escapes: every line can be stored."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", _ENCODE_ERRORS).decode("utf-8")
    return text


_second: list[Any] = [None, ""]  # the last whole second formatted: a flood logs many per second


def _format_time(t: float) -> str:
    """``t`` as ISO 8601 in UTC with microseconds (``2026-11-29T17:52:09.123456+00:00``)."""
    frac, whole = math.modf(t)  # rounded as datetime.fromtimestamp rounds
    micro = round(frac * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    if whole != _second[0]:
        _second[0] = whole
        _second[1] = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{micro:06d}+00:00"


def format_log_line(entry: LogEntry) -> str:
    """One line of a job's log file: ``seq<TAB>ISO time<TAB>LEVEL<TAB>message``."""
    return f"{entry.seq}\t{_format_time(entry.time)}\t{entry.level.value}\t{entry.message}\n"


def parse_log_line(line: str) -> LogEntry:
    seq, when, level, message = line.split("\t", 3)
    return LogEntry(int(seq), datetime.fromisoformat(when).timestamp(), LogLevel(level), message)


def _project_from_row(text: str) -> tuple[Project, Pipeline]:
    project = Project(**json.loads(text))
    return project, Pipeline.from_dict(project.pipeline)


def _subject_from_row(text: str) -> Subject:
    data = json.loads(text)
    data["stage_statuses"] = {}
    data["stale_reasons"] = {}
    return Subject(**data)


def _job_from_row(text: str) -> Job:
    data = json.loads(text)
    data["status"] = JobStatus(data["status"])
    data["previous_stage_status"] = StageStatus(data["previous_stage_status"])
    data["depends_on"] = tuple(data["depends_on"])
    data["resource_history"] = tuple(tuple(s) for s in data.get("resource_history", ()))
    data["steps"] = tuple(tuple(s) for s in data.get("steps", ()))
    names = {f.name for f in dataclasses.fields(Job)}
    return Job(**{k: v for k, v in data.items() if k in names})


def _output_from_row(text: str) -> Output:
    data = json.loads(text)
    data["kind"] = OutputKind(data["kind"])
    return Output(**data)


def _qc_from_row(text: str) -> QcEntry:
    data = json.loads(text)
    data["rating"] = QcRating(data["rating"])
    return QcEntry(**data)


def _write_all(path: str, data: bytes) -> None:
    """Append ``data`` to the file; on failure the file is cut back to its former end, so that
    the retry does not follow half a line."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


class Store:
    """The engine's database and log folder.

    ``path=":memory:"`` keeps records in memory and logs in a temporary folder (in RAM where the
    machine has ``/dev/shm``) removed by :meth:`close`; the folders of such engines whose process
    was killed are removed when the next store opens. A file database is locked against a
    second engine (in any process) while open.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.in_memory = str(path) == MEMORY
        self.closed = False
        self.error: str | None = None
        """Why writing failed, while it keeps failing; ``None`` when writes succeed."""
        self.error_listeners: Listeners[str | None] = Listeners("store error")
        self._retry_delay: float | None = None
        self._lock_file: IO[str] | None = None
        self._dirty_jobs: dict[str, Job] = {}
        self._dirty_statuses: dict[tuple[str, str], StageStatus] = {}
        self._dirty_reasons: dict[tuple[str, str], str | None] = {}
        self._dirty_outputs: list[Output] = []
        self._pending_text: list[tuple[int, str, str]] = []
        self._text_written_at = time.monotonic()
        self._pending_logs: dict[str, deque[LogEntry]] = {}
        self._logs_on_disk: set[str] = set()  # jobs whose log file must exist
        root = _memory_log_root()
        remove_dead_memory_logs(root)
        if self.in_memory:
            self.path: Path | None = None
            prefix = f"{_MEMORY_LOGS_PREFIX}{os.getpid()}-"
            self.log_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
            self._db = sqlite3.connect(MEMORY, check_same_thread=False)
            self._migrate()
        else:
            self.path = Path(path).expanduser().resolve()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.log_dir = self.path.with_name(self.path.stem + "-logs")
            self._lock(self.path.with_name(self.path.name + ".lock"))
            try:
                self._check_not_emptied()
                self._db = sqlite3.connect(self.path, check_same_thread=False)
                with self._damage_is_named():
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=NORMAL")
                    self._migrate()
                self.log_dir.mkdir(parents=True, exist_ok=True)
            except BaseException:
                self._release()
                raise
        self._log_prefix = f"{self.log_dir}{os.sep}"

    def _migrate(self) -> None:
        """Bring the database to :data:`SCHEMA_VERSION` (see there)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"the engine's database {str(self.path)!r} has layout version {version}, written by a "
                f"newer pbrain-widgets (this one reads up to version {SCHEMA_VERSION}); upgrade "
                "pbrain-widgets, or pass another db_path"
            )
        self._db.executescript(_SCHEMA)
        if version < SCHEMA_VERSION:
            with self._db:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _lock(self, lock_path: Path) -> None:
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the store's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreLockedError(
                f"database {str(lock_path)[:-5]!r} is already open in an engine ({holder}); "
                "close that engine first (engine.close()) or pass another db_path"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._lock_file = handle

    def _release(self) -> None:
        """Close the database and give up the lock (the lock file stays, unlocked)."""
        db = getattr(self, "_db", None)  # None when opening failed before connecting
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.close()
            self._lock_file = None

    def _damaged(self, what: str) -> StoreDamagedError:
        return StoreDamagedError(
            f"the engine's database {str(self.path)!r} is damaged ({what}); move it aside (with its "
            f"-wal and -shm files, e.g. `mv {self.path} {self.path}.broken`) and create the Engine "
            "again to start an empty history, or pass another db_path"
        )

    @contextlib.contextmanager
    def _damage_is_named(self) -> Any:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from exc

    def _check_not_emptied(self) -> None:
        """A 0-byte database is new and empty (created by ``touch``, or by a kernel killed while
        creating it), unless its job logs show that it held a history that was lost."""
        assert self.path is not None
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            emptied = self.path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size)
        except FileNotFoundError:
            return
        if emptied and self.log_dir.is_dir() and next(self.log_dir.glob("*.log"), None) is not None:
            raise self._damaged(f"0 bytes, yet {str(self.log_dir)!r} holds job logs: its history was lost")

    # -- records written at once ------------------------------------------------------------

    def insert_project(self, project: Project) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO projects (id, name, data) VALUES (?, ?, ?)",
                (project.id, project.name, json.dumps(project.to_dict())),
            )

    def insert_subjects(self, subjects: Iterable[Subject]) -> None:
        """All or nothing: one transaction."""
        rows = []
        for s in subjects:
            data = s.to_dict()
            data.pop("stage_statuses")
            data.pop("stale_reasons", None)
            rows.append((s.id, s.project_id, s.name, json.dumps(data)))
        with self._db:
            self._db.executemany(
                "INSERT INTO subjects (id, project_id, name, data) VALUES (?, ?, ?, ?)", rows
            )

    def _text_due(self, text: bool | None) -> bool:
        # FTS5 inserts cost most in many small transactions: the index is written in batches
        if not self._pending_text:
            return False
        if text is not None:
            return text
        waited = time.monotonic() - self._text_written_at
        return len(self._pending_text) >= TEXT_BATCH_ROWS or waited >= TEXT_BATCH_SECONDS

    def _dirty(self, text: bool | None = None) -> bool:
        records = self._dirty_jobs or self._dirty_statuses or self._dirty_reasons or self._dirty_outputs
        return bool(records) or self._text_due(text)

    def write_records(self, text: bool | None = None) -> None:
        """Write every buffered job row and stage status now, in one transaction (kept
        buffered if it fails), with the text index when ``text`` (``None``: a batch of
        :data:`TEXT_BATCH_ROWS` when one is due; the rest in later calls, as 100,000 cancelled
        jobs' text in one transaction would hold the loop for seconds)."""
        if not self._dirty(text) or self.closed:
            return
        reasons = self._dirty_reasons
        write_text = self._text_due(text)
        batch = self._pending_text if text else self._pending_text[:TEXT_BATCH_ROWS]
        with self._db:
            if write_text:
                self._db.executemany("INSERT INTO job_text (rowid, error, log) VALUES (?, ?, ?)", batch)
            if reasons:
                self._db.executemany(
                    "INSERT OR REPLACE INTO stale_reasons (subject_id, stage_id, reason) VALUES (?, ?, ?)",
                    [(sub, stage, r) for (sub, stage), r in reasons.items() if r is not None],
                )
                self._db.executemany(
                    "DELETE FROM stale_reasons WHERE subject_id = ? AND stage_id = ?",
                    [key for key, r in reasons.items() if r is None],
                )
            self._insert_jobs(self._dirty_jobs.values())
            self._insert_statuses(self._dirty_statuses.items())
            self._db.executemany(
                "INSERT OR REPLACE INTO outputs (job_id, idx, data) VALUES (?, ?, ?)",
                [(o.job_id, o.index, json.dumps(o.to_dict())) for o in self._dirty_outputs],
            )
        self._dirty_outputs.clear()
        self._dirty_jobs.clear()
        self._dirty_statuses.clear()
        self._dirty_reasons.clear()
        if write_text:
            del self._pending_text[: len(batch)]
            self._text_written_at = time.monotonic()

    # -- records written behind -------------------------------------------------------------

    # An in-memory database is never read back (a new engine starts empty), so job rows and
    # stage statuses are not written there: the engine's own records are the only copy.

    def save_job(self, job: Job) -> None:
        if not self.in_memory:
            self._dirty_jobs[job.id] = job

    def save_stage_status(self, subject_id: str, stage_id: str, status: StageStatus) -> None:
        if not self.in_memory:
            self._dirty_statuses[(subject_id, stage_id)] = status

    def save_stale_reason(self, subject_id: str, stage_id: str, reason: str | None) -> None:
        """Why a subject's stage is stale (``None``: forget it)."""
        if not self.in_memory:
            self._dirty_reasons[(subject_id, stage_id)] = reason

    # Job outputs are written behind in memory stores too: the database is where they are kept.

    def save_output(self, output: Output) -> None:
        self._dirty_outputs.append(output)

    def read_outputs(self, job_id: str) -> list[Output]:
        """A job's outputs in the order they were reported (written or not yet)."""
        rows = self._db.execute("SELECT idx, data FROM outputs WHERE job_id = ? ORDER BY idx", (job_id,))
        found: dict[int, Output] = {}
        for idx, text in rows:
            try:
                found[idx] = _output_from_row(text)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping unreadable output %d of job %r in %s: %s", idx, job_id, self.path, exc)
        for out in self._dirty_outputs:
            if out.job_id == job_id:
                found[out.index] = out
        return [found[i] for i in sorted(found)]

    # -- QC ratings (written at once: a reviewer's click) ----------------------------------

    def save_qc(self, subject_id: str, stage_id: str, entry: QcEntry | None) -> None:
        """Store a rating, or forget it (``None``)."""
        with self._db:
            if entry is None:
                self._db.execute(
                    "DELETE FROM qc_ratings WHERE subject_id = ? AND stage_id = ?", (subject_id, stage_id)
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO qc_ratings (subject_id, stage_id, data) VALUES (?, ?, ?)",
                    (subject_id, stage_id, json.dumps(entry.to_dict())),
                )

    def load_qc(self) -> list[QcEntry]:
        out = []
        for sub, stage, text in self._db.execute("SELECT subject_id, stage_id, data FROM qc_ratings"):
            try:
                out.append(_qc_from_row(text))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping unreadable QC rating of %r / %r in %s: %s", sub, stage, self.path, exc)
        return out

    # The text index (SQLite FTS5) of ended jobs, written behind in memory stores too: it is
    # what :mod:`.history` searches.

    def index_job_text(self, seq: int, error: str | None, log_text: str) -> None:
        """Index an ended job's error and log text under its ``seq`` (once per job)."""
        self._pending_text.append((seq, error or "", log_text))

    def search_text(self, match: str) -> set[int]:
        """The ``seq`` of every indexed job whose error or log matches an FTS5 ``match`` query
        (jobs indexed but not yet written are searched too)."""
        self.write_records_quietly(text=True)
        query = "SELECT rowid FROM job_text WHERE job_text MATCH ?"
        return {row[0] for row in self._db.execute(query, (match,))}

    def write_records_quietly(self, text: bool | None = None) -> None:
        """:meth:`write_records`, leaving a failure to the write-behind's retry."""
        with contextlib.suppress(sqlite3.Error):
            self.write_records(text)

    def text_index_complete(self) -> bool:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_TEXT_INDEX_KEY,)).fetchone()
        return row is not None

    def mark_text_index_complete(self) -> None:
        self.write_records(text=True)
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (_TEXT_INDEX_KEY,))

    # -- run templates (written at once) ---------------------------------------------------

    def save_template(self, name: str, data: dict[str, Any]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO templates (name, data) VALUES (?, ?)", (name, json.dumps(data))
            )

    def delete_template(self, name: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM templates WHERE name = ?", (name,))

    def load_templates(self) -> list[dict[str, Any]]:
        out = []
        for name, text in self._db.execute("SELECT name, data FROM templates ORDER BY name"):
            try:
                out.append(json.loads(text))
            except ValueError as exc:
                log.warning("skipping unreadable template %r of %s: %s", name, self.path, exc)
        return out

    def append_log(self, job_id: str, entry: LogEntry) -> None:
        pending = self._pending_logs.get(job_id)
        if pending is None:
            self._pending_logs[job_id] = deque((entry,))
        else:
            pending.append(entry)

    def pending_log_lines(self, job_id: str) -> int:
        """How many of the job's log lines are not written yet."""
        pending = self._pending_logs.get(job_id)
        return 0 if pending is None else len(pending)

    def log_path(self, job_id: str) -> str:
        return f"{self._log_prefix}{job_id}.log"

    def _write_logs(self, job_id: str, entries: list[LogEntry]) -> None:
        data = "".join(map(format_log_line, entries)).encode("utf-8", _ENCODE_ERRORS)
        path = self.log_path(job_id)
        try:
            _write_all(path, data)
        except FileNotFoundError:
            # the log folder was removed: make it again rather than lose every later line
            self.log_dir.mkdir(parents=True, exist_ok=True)
            _write_all(path, data)
        self._logs_on_disk.add(job_id)

    def flush(self, max_lines: int | None = None, deadline: float | None = None) -> bool:
        """Write buffered changes: every job row and stage status, then log lines (at most
        ``max_lines`` of them, and no further job's once the ``time.monotonic()`` ``deadline``
        passed, one job's at least; all if ``None``). True when nothing is left to write.

        What fails to be written stays buffered, in order; the first error is raised after every
        job's lines were tried, so one job's file does not hold back the others.
        """
        if self.closed:
            return True
        failure: Exception | None = None
        text = True if max_lines is None else None  # a full flush writes the text index too
        try:
            if max_lines is not None and self._many_dirty(COMMIT_PART_ROWS):
                self._write_part(COMMIT_PART_ROWS)  # a bounded turn: the rest in later turns
            else:
                self.write_records(text)
        except sqlite3.Error as exc:
            failure = exc
        budget = max_lines
        for job_id in list(self._pending_logs):
            entries = self._pending_logs[job_id]
            part = list(entries if budget is None else itertools.islice(entries, budget))
            try:
                self._write_logs(job_id, part)
            except OSError as exc:
                failure = failure or exc
                continue
            if len(part) == len(entries):
                del self._pending_logs[job_id]
            else:
                for _ in part:
                    entries.popleft()
                # the rest goes behind the other jobs: a flooding job does not starve them
                self._pending_logs[job_id] = self._pending_logs.pop(job_id)
            if budget is not None:
                budget -= len(part)
                if budget <= 0:
                    break
            # each job's first lines create its file (0.3 ms each on a slow disk): 1,000 new
            # jobs' lines would hold the loop for a third of a second
            if deadline is not None and time.monotonic() >= deadline:
                break
        if failure is not None:
            raise failure
        return not (self._pending_logs or self._dirty(text))

    def flush_turn(self) -> float | None:
        """One write-behind turn: every record, and log lines in slices of :data:`FLUSH_LINES`
        for about :data:`FLUSH_SECONDS`, so that a flood never stalls the engine's loop.

        Returns the delay before the next turn, or ``None`` when everything is written. After a
        failed write the delay grows from 0.2 s, doubling, to 5 s, and :attr:`error` says why
        until a write succeeds.
        """
        deadline = time.monotonic() + FLUSH_SECONDS
        try:
            while not (done := self.flush(FLUSH_LINES, deadline)) and time.monotonic() < deadline:
                pass
        except (OSError, sqlite3.Error) as exc:
            return self._failed(exc)
        self._retry_delay = None
        self._set_error(None)
        return None if done else 0.0

    def _insert_statuses(self, statuses: Iterable[tuple[tuple[str, str], StageStatus]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO stage_status (subject_id, stage_id, status) VALUES (?, ?, ?)",
            [(sub, stage, st.value) for (sub, stage), st in statuses],
        )

    def _insert_jobs(self, jobs: Iterable[Job]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO jobs (id, seq, data) VALUES (?, ?, ?)",
            [(j.id, j.seq, json.dumps(j.to_dict())) for j in jobs],
        )

    def commit_in_parts(self, rows: int = COMMIT_PART_ROWS) -> Iterator[None]:
        """:meth:`commit`, in transactions of at most ``rows`` job rows and as many stage
        statuses, pausing (``yield``)
        between them: a call that queued 100,000 jobs does not hold the loop for its one big
        transaction. A row that changes during a pause is written again by a later part."""
        while self._many_dirty(rows) and not self.closed:
            try:
                self._write_part(rows)
            except sqlite3.Error as exc:
                self._failed(exc)  # the rows stay buffered for the write-behind's retry
                return
            yield
        self.commit()

    def _many_dirty(self, rows: int) -> bool:
        return len(self._dirty_jobs) > rows or len(self._dirty_statuses) > rows

    def _write_part(self, rows: int) -> None:
        """Write the first ``rows`` buffered job rows and stage statuses in one transaction
        (kept if it fails)."""
        jobs = list(itertools.islice(self._dirty_jobs.values(), rows))
        statuses = list(itertools.islice(self._dirty_statuses.items(), rows))
        with self._db:
            self._insert_jobs(jobs)
            self._insert_statuses(statuses)
        for job in jobs:
            del self._dirty_jobs[job.id]
        for key, _ in statuses:
            del self._dirty_statuses[key]

    def commit(self) -> None:
        """Write every buffered record now (the jobs an API call is about to return).

        If that fails the records stay buffered for the write-behind's retry and :attr:`error`
        says why: the jobs exist and run either way.
        """
        try:
            self.write_records()
        except sqlite3.Error as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> float:
        """Note a failed write; the delay before the next try."""
        delay = self._retry_delay
        self._retry_delay = RETRY_FIRST_SECONDS if delay is None else min(delay * 2, RETRY_MAX_SECONDS)
        self._set_error(f"writing to the store failed: {exc}; the changes are kept in memory and retried")
        return self._retry_delay

    def _set_error(self, error: str | None) -> None:
        if error == self.error:
            return
        if error is None:
            log.warning("writing to the store works again; the kept changes are written")
        else:
            log.warning("%s", error)
        self.error = error
        self.error_listeners.emit(error)

    def unwritten(self) -> str:
        """What is still buffered, in words (``""`` when nothing is)."""
        lines = sum(map(len, self._pending_logs.values()))
        parts = []
        if lines:
            jobs = list(self._pending_logs)
            more = "..." if len(jobs) > 5 else ""
            parts.append(f"{lines} log lines of {len(jobs)} jobs ({', '.join(jobs[:5])}{more})")
        if self._dirty_jobs:
            parts.append(f"{len(self._dirty_jobs)} job records")
        if self._dirty_statuses:
            parts.append(f"{len(self._dirty_statuses)} stage statuses")
        if self._dirty_outputs:
            parts.append(f"{len(self._dirty_outputs)} job outputs")
        return " and ".join(parts)

    # -- reading ----------------------------------------------------------------------------

    def _rows(self, table: str, parse: Callable[[str], T]) -> list[T]:
        """Parsed rows of a table in insertion order; an unreadable row is skipped with a warning."""
        order = "seq" if table == "jobs" else "rowid"
        out = []
        for row_id, text in self._db.execute(f"SELECT id, data FROM {table} ORDER BY {order}"):
            try:
                out.append(parse(text))
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping unreadable %s row %r of %s: %s", table, row_id, self.path, exc)
        return out

    def load(self) -> tuple[list[Project], list[Subject], list[Job]]:
        """Every stored project, subject (with its stage statuses) and job (in queue order).

        Rows that cannot be read, and subjects and jobs whose project or subject was not read,
        are skipped with a warning; the rest opens.
        """
        with self._damage_is_named():
            read = self._rows("projects", _project_from_row)
            projects = [project for project, _ in read]
            stages = {project.id: set(pipeline.stage_ids) for project, pipeline in read}
            subjects: dict[str, Subject] = {}
            for s in self._rows("subjects", _subject_from_row):
                if s.project_id in stages:
                    subjects[s.id] = s
                else:
                    log.warning("skipping subject %r of %s: its project was not read", s.id, self.path)
            for sub, stage, status in self._db.execute(
                "SELECT subject_id, stage_id, status FROM stage_status"
            ):
                if sub in subjects and status in _STAGE_STATUSES:
                    subjects[sub].stage_statuses[stage] = StageStatus(status)
            for sub, stage, reason in self._db.execute(
                "SELECT subject_id, stage_id, reason FROM stale_reasons"
            ):
                if sub in subjects:
                    subjects[sub].stale_reasons[stage] = reason
            jobs = []
            for job in self._rows("jobs", _job_from_row):
                subject = subjects.get(job.subject_id)
                if (
                    subject is None
                    or job.project_id != subject.project_id
                    or job.stage_id not in stages[job.project_id]
                ):
                    log.warning("skipping job %r of %s: its subject or stage was not read", job.id, self.path)
                    continue
                jobs.append(job)
        self._logs_on_disk.update(j.id for j in jobs if j.status is not JobStatus.QUEUED)
        return projects, list(subjects.values()), jobs

    def read_logs(self, job_id: str) -> list[LogEntry]:
        """Every log line of a job: the file, then lines not yet written.

        A job whose file should exist but does not gets one line (seq 0) saying so.
        """
        entries: list[LogEntry] = []
        path = self.log_path(job_id)
        try:
            with open(path, encoding="utf-8", errors=_ENCODE_ERRORS, newline="") as fh:
                text = fh.read()
        except FileNotFoundError:
            text = ""
            if job_id in self._logs_on_disk:
                message = (
                    f"the log file {path} is missing (deleted or moved): this job's earlier lines are lost"
                )
                entries.append(LogEntry(0, time.time(), LogLevel.ERROR, message))
        last = 0
        for line in text.split("\n"):
            try:
                entry = parse_log_line(line)
            except ValueError:  # the empty end, or a line cut short by a crash
                continue
            if entry.seq > last:  # a line written twice (a write reported failed that was not)
                entries.append(entry)
                last = entry.seq
        entries.extend(self._pending_logs.get(job_id, ()))
        return entries

    def close(self) -> None:
        """Write everything, then release the database and its lock, even if that write fails:
        :class:`StoreWriteError` then says what was not written."""
        if self.closed:
            return
        failure: Exception | None = None
        lost = ""
        try:
            self.flush()
        except Exception as exc:
            failure, lost = exc, self.unwritten()
        finally:
            self.closed = True
            self._release()
            if self.in_memory:
                shutil.rmtree(self.log_dir, ignore_errors=True)
        if failure is not None:
            where = self.log_dir if isinstance(failure, OSError) else self.path
            raise StoreWriteError(
                f"the engine is closed, but {lost} could not be written to {str(where)!r} "
                f"({failure}); they are lost"
            ) from failure
