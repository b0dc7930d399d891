"""The `hil` command as users run it: reports, the defect run, one-line errors."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hil_runs import HilRun


REPO = Path(__file__).resolve().parents[2]
OV_SCENARIO = "scenarios/protection/cell_over_voltage.yaml"


def hil(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_scenarios_pass_and_write_reports(good_run: HilRun) -> None:
    # the whole shipped suite is `make demo` (also run by .ci/run); a sample keeps this short
    run, tmp_path = good_run.process, good_run.report_dir
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "report.html").stat().st_size > 1000
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", 0)) >= 3
    assert int(suite.get("failures", 1)) == 0
    names = {p.get("name") for p in suite.iter("property")}
    assert "fault.over_voltage reaction time [s]" in names
    assert list((tmp_path / "logs").glob("*.blf")), "no per-test CAN log written"
    assert f"HTML report: {tmp_path / 'report.html'}" in run.stdout


@pytest.mark.e2e
def test_slow_ov_defect_fails_the_ov_scenario_readably(slow_ov_run: HilRun) -> None:
    run = slow_ov_run.process
    assert run.returncode == 1, run.stdout[-3000:]
    out = run.stdout
    assert "FAIL  fault.over_voltage (BMS_Faults.Fault_CellOverVoltage) becomes ACTIVE within " \
           "0.5 s" in out
    assert "expected: = ACTIVE by t=1.5" in out
    assert "seen:     INACTIVE from t=" in out
    assert "reached ACTIVE only at t=2." in out
    assert "Traceback" not in out


def test_bms_defects_are_listed() -> None:
    run = hil("bms", "defects")
    assert run.returncode == 0
    assert "slow-ov" in run.stdout and "no-ot-trip" in run.stdout
    assert "stuck-cell-report" in run.stdout


@pytest.mark.parametrize("rig", ["rigs/sim.yaml", "rigs/pi-example.yaml"])
def test_rig_files_load_and_validate(rig: str) -> None:
    run = hil("rig", "show", "--rig", rig)
    assert run.returncode == 0, run.stderr
    assert "safe state" in run.stdout


def test_bad_rig_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (REPO / "rigs" / "sim.yaml").read_text().replace("driver: sim-hub",
                                                            "driver: sim-hb")
    text = text.replace("../dbc/", str(REPO / "dbc") + "/")
    bad.write_text(text)
    run = hil("rig", "show", "--rig", str(bad))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "bad.yaml:" in lines[0] and "can.driver: unknown can driver 'sim-hb' (did you mean " \
        "'sim-hub'?)" in lines[0]


def test_unknown_defect_is_one_line() -> None:
    run = hil("run", OV_SCENARIO, "--bms-defect", "slow-0v", "--report-dir", "/tmp/hil-x")
    assert run.returncode != 0
    assert "unknown BMS defect 'slow-0v' (did you mean 'slow-ov'?)" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout


def test_missing_path_is_one_line() -> None:
    run = hil("run", "scenarios/nope.yaml")
    assert run.returncode == 2
    assert run.stderr.strip() == "hil: error: run: scenarios/nope.yaml: no such file or folder"
