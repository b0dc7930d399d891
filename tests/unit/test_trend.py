"""Unit tests for hil.report.trend and `hil report trend`: measurements plotted over runs."""

from __future__ import annotations

import argparse
import base64
import re
import struct
from pathlib import Path

import pytest

from hil.cli import main as hil_main
from hil.errors import HilError
from hil.outcome import Measurement
from hil.report import commands, trend
from hil.report.history import History, RunRecord, TestRecord
from hil.report.trend import collect, render_trend_html

PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def add_run(history: History, n: int, tests: list[TestRecord], rig: str = "sim",
            firmware: str | None = None) -> None:
    history.add_run(RunRecord(f"run-{n:02d}", f"2024-05-{n:02d}T12:00:00+00:00",
                              f"2024-05-{n:02d}T12:05:00+00:00",
                              {"rig": rig, "firmware_version": firmware or f"1.{n}.0"}, tests))


@pytest.fixture
def history(tmp_path: Path) -> History:
    """Three sim runs and one pi run. Worth a plot: A's reaction time (3 points) and C's
    "tracking error" (2 points, one out of limits). Not: A's "once" and B's "mostly missing"
    (one value each)."""
    h = History(tmp_path / "history.sqlite")
    for n, reaction in enumerate([0.15, 0.18, 0.21], start=1):
        tests = [TestRecord("t::A <first>", "passed", 1.0,
                            [Measurement("reaction time", reaction, "s", high=0.5)]
                            + ([Measurement("once", 1.0, "V")] if n == 2 else [])),
                 TestRecord("t::B", "passed", 1.0,
                            [Measurement("mostly missing", 2.0 if n == 3 else None, "A")])]
        if n >= 2:
            tests.append(TestRecord("t::C", "passed", 1.0, [
                Measurement("tracking error", 0.02 * n, "V", low=-0.05, high=0.05)]))
        add_run(h, n, tests)
    add_run(h, 4, [TestRecord("t::A <first>", "passed", 1.0,
                              [Measurement("reaction time", 0.4, "s", high=0.5)])], rig="pi")
    return h


def images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in PNG.findall(page)]


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def test_one_image_per_measurement_with_more_than_one_value(history: History) -> None:
    page = render_trend_html(history, rig="sim")
    pngs = images(page)
    assert len(pngs) == page.count("<img") == 2
    assert all(png_size(p) == (600, 250) for p in pngs)
    assert 'alt="reaction time over 3 runs"' in page
    assert 'alt="tracking error over 2 runs"' in page
    assert "Measured in one run only (2)" in page and "once" in page and "mostly missing" in page
    assert "t::A &lt;first&gt;" in page and "<first>" not in page
    assert "3 runs (rig sim; firmware 1.1.0 → 1.2.0 → 1.3.0): 2 plots." in page
    assert "run-04" not in page  # the pi run
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)  # self-contained


def test_series_follow_the_runs(history: History) -> None:
    collected = collect(history, rig="sim")
    assert [r.run_id for r in collected.runs] == ["run-01", "run-02", "run-03"]
    by_name = {s.name: s for s in collected.plotted}
    assert by_name["reaction time"].values == [0.15, 0.18, 0.21]
    assert by_name["reaction time"].highs == [0.5, 0.5, 0.5]
    assert by_name["tracking error"].values[0] is None  # C did not exist in run 1
    assert [s.name for s in collected.single_point] == ["once", "mostly missing"]


def test_all_rigs_and_the_last_n_runs(history: History) -> None:
    everything = collect(history)
    assert [r.run_id for r in everything.runs] == ["run-01", "run-02", "run-03", "run-04"]
    last_two = collect(history, last=2)
    assert [r.run_id for r in last_two.runs] == ["run-03", "run-04"]
    assert [s.name for s in last_two.plotted] == ["reaction time"]


def test_the_number_of_plots_is_capped_and_the_page_says_so(history: History,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(trend, "MAX_PLOTS", 1)
    page = render_trend_html(history, rig="sim")
    assert len(images(page)) == 1
    assert "1 more measurement not plotted: at most 1 plots per page" in page


def test_unknown_rig_and_bad_window_are_user_errors(history: History) -> None:
    with pytest.raises(HilError, match=r"--rig: no runs of rig 'bench' .* rigs there: 'pi', "
                                       r"'sim'"):
        render_trend_html(history, rig="bench")
    with pytest.raises(HilError, match="--last: expected at least 1 run, got 0"):
        render_trend_html(history, last=0)


def test_an_empty_history_gives_an_empty_page(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    page = render_trend_html(History(path))
    assert "The history has no runs yet." in page and "<img" not in page


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hil")
    commands.add_parser(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_trend_command_end_to_end(history: History, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "pages" / "trend.html"
    assert cli(["report", "trend", "--history", str(history.path), "--output", str(output),
                "--rig", "sim", "--last", "5"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2 plots over 3 runs", f"trend report: {output.resolve()}"]
    assert len(images(output.read_text(encoding="utf-8"))) == 2


def test_trend_command_defaults(history: History, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    history.path.rename(tmp_path / "reports" / "history.sqlite")
    assert hil_main(["report", "trend"]) == 0
    assert (tmp_path / "reports" / "trend.html").is_file()
    assert hil_main(["report", "trend", "--rig", "nope"]) == 2
