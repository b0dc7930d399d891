"""Unit tests for hil.report.history: the SQLite results history."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from hil.errors import HilError
from hil.outcome import Measurement
from hil.report.history import SCHEMA_VERSION, History, RunRecord, TestRecord


def make_run(run_id: str, day: int, firmware: str = "1.0.0", rig: str = "sim",
             tests: list[TestRecord] | None = None, started: str | None = None) -> RunRecord:
    started = started or f"2024-05-{day:02d}T12:00:00+00:00"
    return RunRecord(run_id, started, f"2024-05-{day:02d}T12:05:00+00:00",
                     {"rig": rig, "firmware_version": firmware, "git_sha": "abc123"},
                     tests if tests is not None else [
                         TestRecord("scenarios/ov.yaml::over voltage", "passed", 2.5,
                                    [Measurement("fault.over_voltage reaction time", 0.15, "s",
                                                 high=0.5),
                                     Measurement("cell min", 3.3, "V", low=2.5, high=4.25)]),
                         TestRecord("tests/test_x.py::test_skip", "skipped", 0.0, []),
                     ])


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "reports" / "history.sqlite")


def test_a_run_reads_back_as_written(history: History) -> None:
    run = make_run("r1", 1)
    history.add_run(run)
    assert history.path.is_file()  # the folder was created too
    assert history.run("r1") == run
    listed = history.runs()
    assert [r.run_id for r in listed] == ["r1"]
    assert listed[0].tests == []  # runs() leaves tests out for speed
    assert listed[0].manifest == run.manifest
    assert listed[0].firmware_version == "1.0.0" and listed[0].rig == "sim"


def test_tables_hold_one_row_per_run_test_and_measurement(history: History) -> None:
    history.add_run(make_run("r1", 1))
    history.add_run(make_run("r2", 2, firmware="1.1.0"))
    with sqlite3.connect(history.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM tests").fetchone()[0] == 4
        assert db.execute("SELECT count(*) FROM measurements").fetchone()[0] == 4
        assert db.execute("SELECT firmware_version FROM runs ORDER BY run_id").fetchall() == [
            ("1.0.0",), ("1.1.0",)]
        assert db.execute("SELECT passed FROM measurements WHERE run_id = 'r1' ORDER BY position"
                          ).fetchall() == [(1,), (1,)]


def test_runs_are_ordered_by_start_time_whatever_the_offset(history: History) -> None:
    history.add_run(make_run("late", 3))
    history.add_run(make_run("early", 1))
    # 13:30+02:00 is 11:30 UTC: before "middle" at 12:00 UTC on the same day
    history.add_run(make_run("offset", 2, started="2024-05-02T13:30:00+02:00"))
    history.add_run(make_run("middle", 2))
    assert [r.run_id for r in history.runs()] == ["early", "offset", "middle", "late"]
    assert [r.run_id for r in history.latest(2)] == ["middle", "late"]
    assert history.latest(0) == []


def test_runs_and_latest_filter_by_rig(history: History) -> None:
    history.add_run(make_run("a", 1, rig="sim"))
    history.add_run(make_run("b", 2, rig="pi-bench"))
    history.add_run(make_run("c", 3, rig="sim"))
    assert [r.run_id for r in history.runs(rig="sim")] == ["a", "c"]
    assert [r.run_id for r in history.latest(1, rig="pi-bench")] == ["b"]


def test_find_by_id_prefix_and_position(history: History) -> None:
    for day, run_id in enumerate(["20240501-aaa", "20240502-abc", "20240503-abd"], start=1):
        history.add_run(make_run(run_id, day))
    assert history.find("20240502-abc").run_id == "20240502-abc"
    assert history.find("20240501").run_id == "20240501-aaa"
    assert history.find("-1").run_id == "20240503-abd"
    assert history.find("-3").run_id == "20240501-aaa"
    found = history.find(" -2 ")
    assert found.run_id == "20240502-abc"
    assert [t.test_id for t in found.tests] == ["scenarios/ov.yaml::over voltage",
                                                "tests/test_x.py::test_skip"]


@pytest.mark.parametrize(("ref", "message"), [
    ("nope", "run 'nope': no such run in history"),
    ("202405", "run '202405' is ambiguous: 3 runs start with it"),
    ("-4", "run -4: history"),
    ("", "run reference is empty"),
])
def test_find_errors_are_one_line(history: History, ref: str, message: str) -> None:
    for day in range(1, 4):
        history.add_run(make_run(f"2024050{day}-x", day))
    with pytest.raises(HilError, match="^" + message) as err:
        history.find(ref)
    assert "\n" not in str(err.value)


def test_find_in_an_empty_or_missing_history(tmp_path: Path) -> None:
    missing = History(tmp_path / "typo.sqlite")
    with pytest.raises(HilError, match=r"no results history at .*typo\.sqlite"):
        missing.find("-1")
    assert not missing.path.exists()  # reading never creates the file
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert empty.is_file()
    assert History(empty).runs() == []
    with pytest.raises(HilError, match="is empty: no runs recorded yet"):
        History(empty).find("-1")


def test_unknown_run_id(history: History) -> None:
    history.add_run(make_run("r1", 1))
    with pytest.raises(HilError, match="no run 'r2'"):
        history.run("r2")


def test_a_duplicate_run_id_is_refused(history: History) -> None:
    history.add_run(make_run("r1", 1))
    with pytest.raises(HilError, match="run 'r1' is already recorded"):
        history.add_run(make_run("r1", 2, firmware="2.0.0"))
    assert history.run("r1").firmware_version == "1.0.0"


def test_a_failed_add_writes_nothing(history: History) -> None:
    history.add_run(make_run("r1", 1))
    bad = make_run("r2", 2, tests=[
        TestRecord("t::ok", "passed", 1.0, [Measurement("m", 1.0)]),
        TestRecord("t::broken", "passed", 1.0, [Measurement("m", "not a number")]),  # type: ignore[arg-type]
    ])
    with pytest.raises(ValueError):
        history.add_run(bad)
    assert [r.run_id for r in history.runs()] == ["r1"]
    with sqlite3.connect(history.path) as db:
        assert db.execute("SELECT count(*) FROM tests WHERE run_id = 'r2'").fetchone()[0] == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"started": "yesterday"}, "started: expected an ISO 8601 time"),
    ({"finished": ""}, "finished: expected an ISO 8601 time"),
    ({"run_id": ""}, "needs a non-empty run_id"),
    ({"tests": [TestRecord("t", "xfailed")]}, "outcome must be one of passed, failed"),
])
def test_bad_records_are_refused(history: History, change: dict, message: str) -> None:
    run = make_run("r1", 1)
    for key, value in change.items():
        setattr(run, key, value)
    with pytest.raises(HilError, match=message):
        history.add_run(run)


def test_a_test_reported_twice_is_merged_worst_outcome_first(history: History) -> None:
    """pytest reports a passed call and a failing teardown as two reports of one test."""
    history.add_run(make_run("r1", 1, tests=[
        TestRecord("t::a", "passed", 1.0, [Measurement("m", 1.0)]),
        TestRecord("t::a", "error", 0.5, []),
        TestRecord("t::b", "passed", 1.0, []),
        TestRecord("t::c", "skipped", 0.1, []),
        TestRecord("t::c", "passed", 0.1, []),
    ]))
    tests = history.run("r1").tests
    assert [(t.test_id, t.outcome, t.duration_seconds) for t in tests] == [
        ("t::a", "error", 1.5), ("t::b", "passed", 1.0), ("t::c", "skipped", 0.2)]
    assert tests[0].measurements == [Measurement("m", 1.0)]


def test_manifest_values_are_stored_as_text(history: History) -> None:
    run = make_run("r1", 1)
    run.manifest = {"rig": "sim", "cells": 16, "calibration": None}  # type: ignore[dict-item]
    history.add_run(run)
    assert history.run("r1").manifest == {"rig": "sim", "cells": "16", "calibration": ""}


def test_unmeasured_values_and_missing_limits_round_trip(history: History) -> None:
    measurements = [Measurement("never reached", None, "s", high=0.5), Measurement("soc", 51.5)]
    history.add_run(make_run("r1", 1, tests=[TestRecord("t", "failed", 1.0, measurements)]))
    assert history.run("r1").tests[0].measurements == measurements


def test_a_newer_schema_is_refused(history: History) -> None:
    history.add_run(make_run("r1", 1))
    with sqlite3.connect(history.path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HilError, match="written by a newer hil"):
        history.runs()
    with pytest.raises(HilError, match="written by a newer hil"):
        history.add_run(make_run("r2", 2))


def test_files_that_are_not_a_history_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(HilError, match="SQLite file but not a results history"):
        History(other).add_run(make_run("r1", 1))
    with pytest.raises(HilError, match="SQLite file but not a results history"):
        History(other).runs()
    text = tmp_path / "notes.sqlite"
    text.write_text("these are not the runs you are looking for " * 20)
    with pytest.raises(HilError, match=r"notes\.sqlite: file is not a database"):
        History(text).runs()


def _write_runs(path: str, worker: int, count: int) -> None:
    history = History(path)
    for n in range(count):
        history.add_run(make_run(f"w{worker}-{n}", 1 + n))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_runs, args=(path, w, 8)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    runs = History(path).runs()
    assert len(runs) == 32
    assert {r.run_id for r in runs} == {f"w{w}-{n}" for w in range(4) for n in range(8)}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM measurements").fetchone()[0] == 64


def test_test_record_is_not_collected_by_pytest() -> None:
    assert TestRecord.__test__ is False


@pytest.mark.parametrize("make_bad", [
    lambda d: (d / "text.txt").write_text("not a database") and d / "text.txt",
    lambda d: (d / "file").write_text("x") and d / "file" / "history.sqlite",
])
def test_an_unwritable_history_warns_and_lets_the_reports_be_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make_bad) -> None:
    from hil.pytest_plugin import reporting

    bad = make_bad(tmp_path)

    class Config:
        def getoption(self, name: str) -> str:
            return str(bad)

    run = reporting.RunReport(started="2026-11-26T00:00:00Z",
                              manifest={"finished": "2026-11-26T00:01:00Z"})
    reporting._append_history(Config(), run)  # type: ignore[arg-type]  # no exception
    assert "the results history was not written" in capsys.readouterr().err
