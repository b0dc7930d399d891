"""The results history: every test run appended to one SQLite file.

One file, no server: it can be kept on a CI runner, copied as an artifact or shared on a
drive, and still answers "what got worse between these two firmware versions?". Tables:

- ``runs``: one row per run; the manifest as JSON, plus ``firmware_version`` and ``rig``
  columns so they can be queried without parsing JSON.
- ``tests``: one row per run and test (outcome, duration).
- ``measurements``: one row per run, test and measurement (value, unit, limits, passed).

Each ``add_run`` is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers (parallel CI
jobs on one file) queue behind SQLite's lock instead of interleaving. The rollback journal is
used rather than WAL so that the file is complete on its own whenever nobody writes: copying
``history.sqlite`` alone never loses runs. ``PRAGMA user_version`` holds the schema version.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from hil.errors import HilError
from hil.outcome import Measurement

DEFAULT_HISTORY = Path("reports/history.sqlite")
SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "skipped", "error")
BUSY_TIMEOUT_SECONDS = 30.0

# When one run reports a test twice (a teardown error after a passed call), the worst wins; a
# skip in any phase means the test did not really run, so it outranks a passed phase.
_SEVERITY = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT NOT NULL UNIQUE,
    started          TEXT NOT NULL,
    finished         TEXT NOT NULL,
    started_utc      TEXT NOT NULL,  -- normalised, so runs sort by time whatever the offset
    firmware_version TEXT NOT NULL,
    rig              TEXT NOT NULL,
    manifest         TEXT NOT NULL   -- JSON object of strings
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (started_utc, seq);
CREATE TABLE IF NOT EXISTS tests (
    run_id           TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    test_id          TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    PRIMARY KEY (run_id, test_id)
);
CREATE TABLE IF NOT EXISTS measurements (
    run_id   TEXT NOT NULL,
    test_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    value    REAL,
    unit     TEXT NOT NULL,
    low      REAL,
    high     REAL,
    passed   INTEGER NOT NULL,
    PRIMARY KEY (run_id, test_id, position),
    FOREIGN KEY (run_id, test_id) REFERENCES tests (run_id, test_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS measurements_by_name ON measurements (test_id, name);
"""


@dataclass
class TestRecord:
    """One test's verdict in one run, with what it measured."""

    __test__ = False  # not a pytest test class, even when imported into a test module

    test_id: str
    outcome: str  # passed | failed | skipped | error
    duration_seconds: float = 0.0
    measurements: list[Measurement] = field(default_factory=list)


@dataclass
class RunRecord:
    """One run of the suite: when, on what (the manifest), and each test's record.

    ``History.runs()`` and ``latest()`` leave ``tests`` empty for speed; ``run()``, ``find()``
    and ``with_tests()`` fill it.
    """

    run_id: str
    started: str  # ISO 8601, UTC
    finished: str
    manifest: dict[str, str] = field(default_factory=dict)  # rig, firmware_version, git_sha...
    tests: list[TestRecord] = field(default_factory=list)

    @property
    def firmware_version(self) -> str:
        return self.manifest.get("firmware_version", "")

    @property
    def rig(self) -> str:
        return self.manifest.get("rig", "")

    def label(self) -> str:
        """How people recognise a run: its id, firmware and start time."""
        firmware = self.firmware_version or "firmware unknown"
        return f"{self.run_id} ({firmware}, {self.started})"


class History:
    """The history file. Connections are opened per call, so one object can be shared freely.

    Reading a file that does not exist is an error (a typo in ``--history`` should not look like
    an empty history); ``add_run`` creates the file and its folder.
    """

    def __init__(self, path: str | Path = DEFAULT_HISTORY) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        """Append a run with its tests and measurements, all or nothing."""
        started_utc = _utc_key(run.started, "started", run.run_id)
        _utc_key(run.finished, "finished", run.run_id)
        if not run.run_id:
            raise HilError("history: a run needs a non-empty run_id")
        manifest = _manifest_text(run.manifest)
        tests = _merge_repeats(run.tests, run.run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(create=True) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                self._ensure_schema(db)
                if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone():
                    raise HilError(f"history {self.path}: run {run.run_id!r} is already "
                                   "recorded")
                db.execute(
                    "INSERT INTO runs (run_id, started, finished, started_utc, firmware_version,"
                    " rig, manifest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run.run_id, run.started, run.finished, started_utc,
                     manifest.get("firmware_version", ""), manifest.get("rig", ""),
                     json.dumps(manifest, sort_keys=True)))
                db.executemany(
                    "INSERT INTO tests (run_id, position, test_id, outcome, duration_seconds) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(run.run_id, i, t.test_id, t.outcome, float(t.duration_seconds))
                     for i, t in enumerate(tests)])
                db.executemany(
                    "INSERT INTO measurements (run_id, test_id, position, name, value, unit, "
                    "low, high, passed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run.run_id, t.test_id, i, m.name, _real(m.value), m.unit, _real(m.low),
                      _real(m.high), int(m.passed))
                     for t in tests for i, m in enumerate(t.measurements)])
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    # -- reading ---------------------------------------------------------------------------

    def runs(self, rig: str | None = None) -> list[RunRecord]:
        """Every run (of one rig, if given), oldest first, without tests."""
        with self._reader() as db:
            if db is None:
                return []
            sql = "SELECT run_id, started, finished, manifest FROM runs"
            params: tuple[str, ...] = ()
            if rig is not None:
                sql += " WHERE rig = ?"
                params = (rig,)
            rows = db.execute(sql + " ORDER BY started_utc, seq", params).fetchall()
        return [_run_from_row(row) for row in rows]

    def latest(self, n: int, rig: str | None = None) -> list[RunRecord]:
        """The last ``n`` runs, oldest first, without tests."""
        return self.runs(rig)[-n:] if n > 0 else []

    def run(self, run_id: str) -> RunRecord:
        """One run by its exact id, with tests and measurements."""
        with self._reader() as db:
            row = None if db is None else db.execute(
                "SELECT run_id, started, finished, manifest FROM runs WHERE run_id = ?",
                (run_id,)).fetchone()
        if row is None:
            raise HilError(f"history {self.path}: no run {run_id!r}")
        return self.with_tests([_run_from_row(row)])[0]

    def with_tests(self, runs: Sequence[RunRecord]) -> list[RunRecord]:
        """Copies of ``runs`` with their tests and measurements, read in one pass."""
        ids = [r.run_id for r in runs]
        tests: dict[str, dict[str, TestRecord]] = {i: {} for i in ids}
        with self._reader() as db:
            for chunk in _chunks(ids, 500) if db is not None else ():
                marks = ",".join("?" * len(chunk))
                for run_id, test_id, outcome, duration in db.execute(
                        "SELECT run_id, test_id, outcome, duration_seconds FROM tests "
                        f"WHERE run_id IN ({marks}) ORDER BY run_id, position", chunk):
                    tests[run_id][test_id] = TestRecord(test_id, outcome, duration, [])
                for run_id, test_id, name, value, unit, low, high in db.execute(
                        "SELECT run_id, test_id, name, value, unit, low, high FROM measurements "
                        f"WHERE run_id IN ({marks}) ORDER BY run_id, test_id, position", chunk):
                    tests[run_id][test_id].measurements.append(
                        Measurement(name, value, unit, low, high))
        return [replace(r, tests=list(tests[r.run_id].values())) for r in runs]

    def find(self, ref: str) -> RunRecord:
        """A run by id, unique id prefix, or position from the end ("-1" last, "-2" before it).

        Returned with tests. Unknown, ambiguous or out-of-range refs raise a one-line HilError.
        """
        ref = ref.strip()
        runs = self.runs()
        if not runs:
            raise HilError(f"history {self.path} is empty: no runs recorded yet")
        if not ref:
            raise HilError("run reference is empty: give a run id, a prefix of one, or -1")
        if _is_negative_index(ref):
            index = int(ref)
            if -index > len(runs):
                raise HilError(f"run {ref}: history {self.path} has only {len(runs)} "
                               f"run{'s' if len(runs) != 1 else ''}")
            return self.run(runs[index].run_id)
        exact = [r for r in runs if r.run_id == ref]
        matches = exact or [r for r in runs if r.run_id.startswith(ref)]
        if len(matches) == 1:
            return self.run(matches[0].run_id)
        if not matches:
            raise HilError(f"run {ref!r}: no such run in history {self.path} ({len(runs)} runs,"
                           f" latest {runs[-1].run_id})")
        shown = ", ".join(r.run_id for r in matches[:4]) + (", ..." if len(matches) > 4 else "")
        raise HilError(f"run {ref!r} is ambiguous: {len(matches)} runs start with it ({shown})")

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; readers open the file read-only, so they never create or change it."""
        if not create and not self.path.is_file():
            raise HilError(f"no results history at {self.path}: run the tests first (they "
                           "append to it), or pass --history PATH")
        target = self.path if create else f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            with closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS,
                                         isolation_level=None, uri=not create)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                yield db
        except sqlite3.DatabaseError as err:
            raise HilError(f"history {self.path}: {err}") from err

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        """A read-only connection, or None while the file has no tables yet (an empty history:
        a first writer may be creating it right now)."""
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HilError(f"history {self.path} has schema {version}, written by a newer "
                               f"hil; this one reads schema {SCHEMA_VERSION}: upgrade hil")
            if version == 0:
                _check_foreign_tables(db, self.path)
                yield None
            else:
                yield db

    def _ensure_schema(self, db: sqlite3.Connection) -> None:
        """Create the tables when missing; inside the caller's write transaction."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HilError(f"history {self.path} has schema {version}, written by a newer hil; "
                           f"this one writes schema {SCHEMA_VERSION}: upgrade hil")
        if version == SCHEMA_VERSION:
            return
        _check_foreign_tables(db, self.path)
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_foreign_tables(db: sqlite3.Connection, path: Path) -> None:
    """Refuse to add our tables to someone else's database."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                  "'sqlite_%' AND name NOT IN ('runs', 'tests', 'measurements')").fetchone():
        raise HilError(f"{path} is an SQLite file but not a results history")


def _run_from_row(row: tuple[str, str, str, str]) -> RunRecord:
    run_id, started, finished, manifest = row
    return RunRecord(run_id, started, finished, json.loads(manifest), [])


def _utc_key(stamp: str, what: str, run_id: str) -> str:
    """The time as a sortable UTC string; naive times are taken as UTC."""
    try:
        when = _dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        raise HilError(f"history: run {run_id!r}: {what}: expected an ISO 8601 time such as "
                       f"2024-05-01T12:00:00+00:00, got {stamp!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _manifest_text(manifest: Mapping[str, object]) -> dict[str, str]:
    """Manifest values are text; numbers and None are written as text rather than refused."""
    return {str(k): "" if v is None else str(v) for k, v in manifest.items()}


def _merge_repeats(tests: Sequence[TestRecord], run_id: str) -> list[TestRecord]:
    """One record per test id: pytest reports a test once per phase, so a passed call with a
    failing teardown arrives twice. The worst outcome wins; durations add up."""
    merged: dict[str, TestRecord] = {}
    for test in tests:
        if test.outcome not in _SEVERITY:
            raise HilError(f"history: run {run_id!r}: test {test.test_id!r}: outcome must be "
                           f"one of {', '.join(OUTCOMES)}, got {test.outcome!r}")
        seen = merged.get(test.test_id)
        if seen is None:
            merged[test.test_id] = replace(test, measurements=list(test.measurements))
            continue
        if _SEVERITY[test.outcome] > _SEVERITY[seen.outcome]:
            seen.outcome = test.outcome
        seen.duration_seconds += test.duration_seconds
        seen.measurements.extend(test.measurements)
    return list(merged.values())


def _real(value: float | None) -> float | None:
    return None if value is None else float(value)


def _is_negative_index(ref: str) -> bool:
    return ref.startswith("-") and ref[1:].isdigit() and int(ref[1:]) > 0


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
