"""Persistence: a SQLite database (WAL mode) for records, one text file per job for its log.

Projects and subjects are written at once, each call in one transaction. Jobs, stage statuses
and log lines change many times a second, so they are buffered and written together by
:meth:`Store.flush`, which the engine calls a few times a second and on close.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from ..errors import StoreLockedError
from .models import Job, JobStatus, LogEntry, LogLevel, Project, StageStatus, Subject

MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
    UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS stage_status (
    subject_id TEXT NOT NULL, stage_id TEXT NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (subject_id, stage_id));
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL);
"""


def default_db_path() -> Path:
    """``$PBRAIN_WIDGETS_DB``, else ``$XDG_DATA_HOME/pbrain-widgets/engine.sqlite``
    (``~/.local/share/pbrain-widgets/engine.sqlite``)."""
    env = os.environ.get("PBRAIN_WIDGETS_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "pbrain-widgets" / "engine.sqlite"


def _memory_log_root() -> str | None:
    """Where a ``:memory:`` engine keeps its log files: in RAM (``/dev/shm``) where there is
    one, like the rest of a throwaway engine, else the system's temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _format_time(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds")


def format_log_line(entry: LogEntry) -> str:
    """One line of a job's log file: ``seq<TAB>ISO time<TAB>LEVEL<TAB>message``."""
    return f"{entry.seq}\t{_format_time(entry.time)}\t{entry.level.value}\t{entry.message}\n"


def parse_log_line(line: str) -> LogEntry:
    seq, when, level, message = line.split("\t", 3)
    return LogEntry(int(seq), datetime.fromisoformat(when).timestamp(), LogLevel(level), message)


def _job_from_json(text: str) -> Job:
    data = json.loads(text)
    data["status"] = JobStatus(data["status"])
    data["previous_stage_status"] = StageStatus(data["previous_stage_status"])
    data["depends_on"] = tuple(data["depends_on"])
    data["resource_history"] = [tuple(s) for s in data.get("resource_history", [])]
    names = {f.name for f in dataclasses.fields(Job)}
    return Job(**{k: v for k, v in data.items() if k in names})


def _subject_from_json(text: str) -> Subject:
    data = json.loads(text)
    data["stage_statuses"] = {}
    return Subject(**data)


class Store:
    """The engine's database and log folder.

    ``path=":memory:"`` keeps records in memory and logs in a temporary folder (in RAM where the
    machine has ``/dev/shm``) removed by :meth:`close`. A file database is locked against a
    second engine (in any process) while open.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.in_memory = str(path) == MEMORY
        self._lock_file = None
        if self.in_memory:
            self.path = None
            self.log_dir = Path(tempfile.mkdtemp(prefix="pbrain-widgets-logs-", dir=_memory_log_root()))
            self._db = sqlite3.connect(MEMORY, check_same_thread=False)
        else:
            self.path = Path(path).expanduser().resolve()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock(self.path.with_name(self.path.name + ".lock"))
            self.log_dir = self.path.with_name(self.path.stem + "-logs")
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log_prefix = f"{self.log_dir}{os.sep}"
        self._db.executescript(_SCHEMA)
        self._dirty_jobs: dict[str, Job] = {}
        self._dirty_statuses: dict[tuple[str, str], StageStatus] = {}
        self._pending_logs: dict[str, list[LogEntry]] = {}
        self.closed = False

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
            rows.append((s.id, s.project_id, s.name, json.dumps(data)))
        with self._db:
            self._db.executemany(
                "INSERT INTO subjects (id, project_id, name, data) VALUES (?, ?, ?, ?)", rows
            )

    # -- records written behind -------------------------------------------------------------

    # An in-memory database is never read back (a new engine starts empty), so job rows and
    # stage statuses are not written there: the engine's own records are the only copy.

    def save_job(self, job: Job) -> None:
        if not self.in_memory:
            self._dirty_jobs[job.id] = job

    def save_stage_status(self, subject_id: str, stage_id: str, status: StageStatus) -> None:
        if not self.in_memory:
            self._dirty_statuses[(subject_id, stage_id)] = status

    def append_log(self, job_id: str, entry: LogEntry) -> None:
        pending = self._pending_logs.get(job_id)
        if pending is None:
            self._pending_logs[job_id] = [entry]
        else:
            pending.append(entry)

    def log_path(self, job_id: str) -> str:
        return f"{self._log_prefix}{job_id}.log"

    def flush(self) -> None:
        """Write every buffered change: job rows, stage statuses, log lines."""
        if self.closed:
            return
        if self._pending_logs:
            pending, self._pending_logs = self._pending_logs, {}
            for job_id, entries in pending.items():
                with open(self.log_path(job_id), "a", encoding="utf-8", newline="") as fh:
                    fh.write("".join(map(format_log_line, entries)))
        if self._dirty_jobs or self._dirty_statuses:
            jobs, self._dirty_jobs = self._dirty_jobs, {}
            statuses, self._dirty_statuses = self._dirty_statuses, {}
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO jobs (id, seq, data) VALUES (?, ?, ?)",
                    [(j.id, j.seq, json.dumps(j.to_dict())) for j in jobs.values()],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO stage_status (subject_id, stage_id, status) VALUES (?, ?, ?)",
                    [(sub, stage, st.value) for (sub, stage), st in statuses.items()],
                )

    # -- reading ----------------------------------------------------------------------------

    def load(self) -> tuple[list[Project], list[Subject], list[Job]]:
        """Every stored project, subject (with its stage statuses) and job (in queue order)."""
        projects = []
        for (text,) in self._db.execute("SELECT data FROM projects ORDER BY rowid"):
            projects.append(Project(**json.loads(text)))
        subjects = {}
        for (text,) in self._db.execute("SELECT data FROM subjects ORDER BY rowid"):
            s = _subject_from_json(text)
            subjects[s.id] = s
        for sub, stage, status in self._db.execute("SELECT * FROM stage_status"):
            if sub in subjects:
                subjects[sub].stage_statuses[stage] = StageStatus(status)
        jobs = [_job_from_json(t) for (t,) in self._db.execute("SELECT data FROM jobs ORDER BY seq")]
        return projects, list(subjects.values()), jobs

    def read_logs(self, job_id: str) -> list[LogEntry]:
        """Every log line of a job: the file, then lines not yet flushed."""
        entries: list[LogEntry] = []
        try:
            with open(self.log_path(job_id), encoding="utf-8", newline="") as fh:
                text = fh.read()
        except FileNotFoundError:
            text = ""
        for line in text.split("\n"):
            try:
                entries.append(parse_log_line(line))
            except ValueError:  # the empty end, or a line cut short by a crash
                continue
        entries.extend(self._pending_logs.get(job_id, ()))
        return entries

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        self._db.close()
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.close()
        if self.in_memory:
            shutil.rmtree(self.log_dir, ignore_errors=True)
