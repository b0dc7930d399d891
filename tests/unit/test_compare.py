"""Unit tests for hil.report.compare and `hil report compare`: what got worse between runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from hil.cli import main as hil_main
from hil.errors import HilError
from hil.outcome import Measurement
from hil.report import commands
from hil.report.compare import compare, flaky, judge, noise_floor, render_compare_html
from hil.report.history import History, RunRecord, TestRecord

OV = "scenarios/protection/cell_over_voltage.yaml::over voltage"
REACTION = "fault.over_voltage reaction time"


def run(run_id: str, tests: list[TestRecord], firmware: str = "1.0.0", rig: str = "sim",
        day: int = 1) -> RunRecord:
    return RunRecord(run_id, f"2024-05-{day:02d}T12:00:00+00:00",
                     f"2024-05-{day:02d}T12:05:00+00:00",
                     {"rig": rig, "firmware_version": firmware, "host": "bench-1"}, tests)


def ov_test(reaction: float | None, outcome: str = "passed") -> TestRecord:
    return TestRecord(OV, outcome, 2.0, [Measurement(REACTION, reaction, "s", high=0.5)])


def one(baseline: Measurement, candidate: Measurement, tolerance: float = 0.2):
    return judge("t", baseline.name, baseline, candidate, tolerance)


# -- measurement regressions ---------------------------------------------------------------

def test_a_reaction_time_40_percent_slower_is_the_one_regression() -> None:
    before = run("a", [ov_test(0.15), TestRecord("t::other", "passed", 1.0,
                                                  [Measurement("x", 1.0, "V", high=5.0)])])
    after = run("b", [ov_test(0.21), TestRecord("t::other", "passed", 1.0,
                                                 [Measurement("x", 1.05, "V", high=5.0)])])
    result = compare(before, after, tolerance=0.2)
    assert len(result.regressions) == 1
    change = result.regressions[0]
    assert (change.test_id, change.name, change.baseline, change.candidate) == (
        OV, REACTION, 0.15, 0.21)
    assert change.relative == pytest.approx(0.4)
    assert change.change_text() == "+40.0 %"
    assert change.limit_text == "<= 0.5 s"
    assert not change.left_limits
    assert result.verdict_changes == [] and result.changed == []
    assert result.summary() == "1 regression, 0 verdict changes"


def test_ten_percent_is_within_the_tolerance() -> None:
    result = compare(run("a", [ov_test(0.15)]), run("b", [ov_test(0.165)]), tolerance=0.2)
    assert result.measurement_changes == []
    assert compare(run("a", [ov_test(0.15)]), run("b", [ov_test(0.21)]), 0.5).regressions == []


@pytest.mark.parametrize(("low", "high", "before", "after", "regressed"), [
    (None, 0.5, 0.15, 0.21, True),     # high only: bigger is worse
    (None, 0.5, 0.15, 0.09, False),    # ... smaller is better
    (100.0, None, 500.0, 300.0, True),  # low only: smaller is worse
    (100.0, None, 500.0, 800.0, False),
    (2.5, 4.25, 3.3, 2.6, True),       # both: closer to the low limit
    (2.5, 4.25, 3.3, 4.1, True),       # both: closer to the high limit
    (2.5, 4.25, 2.6, 3.4, False),      # both: away from the limits
])
def test_the_direction_follows_the_limits(low: float | None, high: float | None, before: float,
                                          after: float, regressed: bool) -> None:
    change = one(Measurement("m", before, "", low, high), Measurement("m", after, "", low, high))
    assert (change is not None and change.kind == "regressed") is regressed


def test_without_limits_a_change_is_reported_as_changed() -> None:
    change = one(Measurement("soc error", 1.0, "%"), Measurement("soc error", 1.5, "%"))
    assert change is not None and change.kind == "changed"
    assert change.change_text() == "+50.0 %"
    down = one(Measurement("soc error", 1.0, "%"), Measurement("soc error", 0.5, "%"))
    assert down is not None and down.kind == "changed"
    assert one(Measurement("soc error", 1.0, "%"), Measurement("soc error", 1.1, "%")) is None
    result = compare(run("a", [TestRecord("t", "passed", 1, [Measurement("e", 1.0)])]),
                     run("b", [TestRecord("t", "passed", 1, [Measurement("e", 2.0)])]))
    assert result.regressions == [] and len(result.changed) == 1
    assert result.summary() == "0 regressions, 0 verdict changes, 1 changed measurement"


def test_leaving_the_limits_is_a_regression_whatever_the_tolerance() -> None:
    change = one(Measurement("m", 0.45, "s", high=0.5), Measurement("m", 0.51, "s", high=0.5))
    assert change is not None and change.kind == "regressed" and change.left_limits
    assert change.relative == pytest.approx(0.1333, abs=1e-3)
    lost = one(Measurement("m", 0.15, "s", high=0.5), Measurement("m", None, "s", high=0.5))
    assert lost is not None and lost.kind == "regressed" and lost.left_limits
    assert lost.change_text() == "not measured"
    # already outside, and no further out than the tolerance: nothing new to say
    assert one(Measurement("m", 0.6, "s", high=0.5), Measurement("m", 0.62, "s", high=0.5)) is None
    # measured now, not before: nothing to compare
    assert one(Measurement("m", None, "s", high=0.5), Measurement("m", 0.2, "s", high=0.5)) is None


def test_tiny_absolute_changes_are_noise() -> None:
    assert noise_floor(Measurement("m", 0.0, "s", high=0.5)) == pytest.approx(0.005)
    assert noise_floor(Measurement("m", 0.0, "V", low=-2.0, high=1.0)) == pytest.approx(0.02)
    assert noise_floor(Measurement("m", 0.0)) == 1e-6
    # +50 % but 1 ms against a 0.5 s limit (floor 5 ms)
    assert one(Measurement("m", 0.002, "s", high=0.5), Measurement("m", 0.003, "s", high=0.5)
               ) is None
    assert one(Measurement("m", 0.0, "s", high=0.5), Measurement("m", 0.004, "s", high=0.5)
               ) is None
    from_zero = one(Measurement("m", 0.0, "s", high=0.5), Measurement("m", 0.1, "s", high=0.5))
    assert from_zero is not None and from_zero.relative is None
    assert from_zero.change_text() == "from 0"


def test_repeated_measurement_names_are_compared_in_order() -> None:
    def test(first: float, second: float) -> TestRecord:
        return TestRecord("t", "passed", 1.0, [Measurement(REACTION, first, "s", high=0.5),
                                                Measurement(REACTION, second, "s", high=0.5)])

    result = compare(run("a", [test(0.1, 0.1)]), run("b", [test(0.1, 0.2)]))
    assert [c.name for c in result.regressions] == [f"{REACTION} #2"]


def test_changed_limits_judge_with_the_candidate_and_show_the_old_one() -> None:
    change = one(Measurement("m", 0.3, "s", high=1.0), Measurement("m", 0.45, "s", high=0.5))
    assert change is not None and change.limit_text == "<= 0.5 s"
    assert change.baseline_limit == "<= 1 s"


# -- tests: verdicts, new and removed -------------------------------------------------------

def test_verdict_changes_new_and_removed_tests() -> None:
    before = run("a", [ov_test(0.15), TestRecord("t::fixed", "failed"),
                       TestRecord("t::now_skipped", "passed"), TestRecord("t::gone", "passed"),
                       TestRecord("t::same", "failed")])
    after = run("b", [ov_test(0.15, "failed"), TestRecord("t::fixed", "passed"),
                      TestRecord("t::now_skipped", "skipped"), TestRecord("t::new", "error"),
                      TestRecord("t::same", "failed")])
    result = compare(before, after)
    assert [(v.test_id, v.baseline, v.candidate, v.worse) for v in result.verdict_changes] == [
        (OV, "passed", "failed", True),  # what got worse comes first
        ("t::fixed", "failed", "passed", False),
        ("t::now_skipped", "passed", "skipped", False),
    ]
    assert str(result.verdict_changes[0]) == f"{OV}: passed → failed"
    assert result.new_tests == ["t::new"]
    assert result.removed_tests == ["t::gone"]
    assert result.summary() == ("0 regressions, 3 verdict changes (1 now failing), 1 new test, "
                                "1 removed test")


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        compare(run("a", []), run("b", []), tolerance=-0.1)


# -- flaky tests ---------------------------------------------------------------------------

def add(history: History, outcomes: list[str], firmware: str = "1.0.0", rig: str = "sim",
        test_id: str = "t::wobbly") -> None:
    start = len(history.runs()) if history.path.exists() else 0
    for n, outcome in enumerate(outcomes, start=start):
        history.add_run(run(f"r{n:03d}", [TestRecord(test_id, outcome),
                                          TestRecord("t::steady", "passed")],
                            firmware=firmware, rig=rig, day=1 + n))


def test_a_test_that_passes_fails_and_passes_again_is_flaky(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    add(history, ["passed", "failed", "skipped", "passed", "error"])
    found = flaky(history)
    assert len(found) == 1
    assert (found[0].test_id, found[0].rig, found[0].firmware_version) == (
        "t::wobbly", "sim", "1.0.0")
    assert found[0].outcomes == "PFSPE"
    assert found[0].flips == 3 and found[0].runs == 5


@pytest.mark.parametrize("outcomes", [
    ["passed", "passed", "failed"],             # one change: a regression, not flakiness
    ["passed", "skipped", "passed", "skipped"],  # skipped is not a verdict
    ["failed", "failed"],
])
def test_steady_or_once_changed_tests_are_not_flaky(tmp_path: Path, outcomes: list[str]) -> None:
    history = History(tmp_path / "h.sqlite")
    add(history, outcomes)
    assert flaky(history) == []


def test_flakiness_is_judged_per_rig_and_firmware_within_the_window(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    add(history, ["passed", "failed"], firmware="1.0.0")
    add(history, ["passed"], firmware="1.1.0")      # another firmware: its own group
    add(history, ["passed"], firmware="1.0.0", rig="pi")
    add(history, ["passed"], firmware="1.0.0")      # 1.0.0 on sim: P F P: flaky
    assert [(f.rig, f.firmware_version, f.outcomes) for f in flaky(history)] == [
        ("sim", "1.0.0", "PFP")]
    assert flaky(history, last=2) == []            # only F P in the window


# -- the page ------------------------------------------------------------------------------

def test_the_page_shows_the_key_facts_and_escapes_text() -> None:
    evil = "t::<script>alert('x')</script>"
    before = run("base-1", [ov_test(0.15), TestRecord(evil, "passed"),
                            TestRecord("t::gone", "passed")], firmware="1.0.0")
    after = run("cand-2", [ov_test(0.21), TestRecord(evil, "failed"), TestRecord("t::new",
                                                                                "passed")],
                firmware="1.1.0 <beta>")
    page = render_compare_html(compare(before, after), flaky=[])
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "1.1.0 &lt;beta&gt;" in page
    assert re.search(r"<tr class=\"diff\"><th>firmware_version</th><td>1\.0\.0</td>", page)
    assert not re.search(r"<tr class=\"diff\"><th>host</th>", page)  # same on both
    assert "+40.0 %" in page and "0.15 s" in page and "0.21 s" in page and "&lt;= 0.5 s" in page
    assert "t::new" in page and "t::gone" in page
    assert "1 regression, 1 verdict change (1 now failing), 1 new test, 1 removed test" in page
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)  # nothing fetched


def test_the_page_lists_flaky_tests_and_marks_them_in_verdict_changes(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    add(history, ["passed", "failed", "passed", "failed"])
    comparison = compare(history.find("-2"), history.find("-1"))
    page = render_compare_html(comparison, flaky(history))
    assert "Flaky tests (same rig and firmware, recent runs) (1)" in page
    assert "<code>PFPF</code>" in page and "known flaky" in page


# -- the command ---------------------------------------------------------------------------

def cli(argv: list[str]) -> int:
    """As hil/cli.py does it: the report command on an argparse subparsers object."""
    parser = argparse.ArgumentParser(prog="hil")
    commands.add_parser(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    history = History(tmp_path / "history.sqlite")
    history.add_run(run("20240501-aaa", [ov_test(0.15), TestRecord("t::b", "passed")], day=1))
    history.add_run(run("20240502-bbb", [ov_test(0.21), TestRecord("t::b", "failed")],
                        firmware="1.1.0", day=2))
    history.add_run(run("20240503-ccc", [ov_test(0.30), TestRecord("t::b", "failed")],
                        firmware="1.2.0", day=3))
    return history.path


def test_compare_command_defaults_to_the_last_two_runs(two_runs: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    output = tmp_path / "out" / "compare.html"
    assert cli(["report", "compare", "--history", str(two_runs), "--output", str(output)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("20240502-bbb (1.1.0, ") and "-> 20240503-ccc (1.2.0" in printed[0]
    assert printed[0].endswith(": 1 regression, 0 verdict changes")
    assert printed[1] == f"compare report: {output.resolve()}"
    page = output.read_text(encoding="utf-8")
    assert "20240502-bbb" in page and "20240503-ccc" in page and "+42.9 %" in page


def test_compare_command_takes_refs_and_tolerance(two_runs: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "c.html"
    assert cli(["report", "compare", "20240501", "-1", "--history", str(two_runs),
                "--output", str(output), "--tolerance", "0.5"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(
        ": 1 regression, 1 verdict change (1 now failing)")  # +100 % is beyond 50 %
    assert cli(["report", "compare", "-3", "--history", str(two_runs), "--output", str(output),
                "--tolerance", "2"]) == 0  # candidate defaults to the last run
    assert capsys.readouterr().out.splitlines()[0].endswith(
        ": 0 regressions, 1 verdict change (1 now failing)")


def test_compare_command_writes_to_reports_by_default(two_runs: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    two_runs.rename(tmp_path / "reports" / "history.sqlite")
    assert hil_main(["report", "compare"]) == 0
    assert (tmp_path / "reports" / "compare.html").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (["2024050"], "is ambiguous"),
    (["nope"], "run 'nope': no such run"),
    (["--tolerance", "-1"], "--tolerance: expected a fraction >= 0"),
    (["--history", "missing.sqlite"], "no results history at missing.sqlite"),
])
def test_compare_command_user_errors_exit_2(two_runs: Path, tmp_path: Path, argv: list[str],
                                           message: str, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if "--history" not in argv:
        argv = [*argv, "--history", str(two_runs)]
    assert hil_main(["report", "compare", *argv, "--output", "c.html"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hil: error: ") and message in err and err.count("\n") == 1
    with pytest.raises(HilError, match=re.escape(message)):
        cli(["report", "compare", *argv, "--output", "c.html"])


def test_compare_needs_two_runs(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    history.add_run(run("only", [ov_test(0.1)]))
    with pytest.raises(HilError, match="has 1 run; two are needed"):
        cli(["report", "compare", "--history", str(history.path)])


def test_report_without_a_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert hil_main(["report"]) == 2
    out = capsys.readouterr().out
    assert "compare" in out and "trend" in out
