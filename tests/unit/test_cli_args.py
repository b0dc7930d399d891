"""`hil run` fills in pytest's report options: the history goes with the reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil import cli


@pytest.fixture
def pytest_args(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []

    def fake_main(args: list[str]) -> int:
        seen.append(args)
        return 0

    monkeypatch.setattr(pytest, "main", fake_main)
    return seen


def test_history_goes_into_the_report_dir(tmp_path: Path, pytest_args: list[list[str]]) -> None:
    assert cli.main(["run", str(tmp_path), "--report-dir", str(tmp_path / "out")]) == 0
    (args,) = pytest_args
    assert args[args.index("--hil-history") + 1] == str(tmp_path / "out" / "history.sqlite")


def test_an_explicit_history_wins(tmp_path: Path, pytest_args: list[list[str]]) -> None:
    assert cli.main(["run", str(tmp_path), "--report-dir", str(tmp_path / "out"), "--",
                     "--hil-history", "none"]) == 0
    (args,) = pytest_args
    assert args.count("--hil-history") == 1 and args[-1] == "none"


def test_points_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["rig", "check", "--points", "0"])
    assert info.value.code == 2
    assert "--points: must be at least 1, got 0" in capsys.readouterr().err
