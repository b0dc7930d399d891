"""Runs of the `hil` command shared by several e2e tests (each run costs tens of seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hil_runs import OV_SCENARIO, HilRun, run_hil


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hil-runs")


@pytest.fixture(scope="session")
def good_run(shared_runs: Path) -> HilRun:
    """The OV scenario and the sensor scenarios on a healthy BMS, into a fresh history."""
    history = shared_runs / "history.sqlite"
    report = shared_runs / "good"
    process = run_hil("run", OV_SCENARIO, "scenarios/sensors/", "--report-dir", str(report),
                      "--", "--hil-history", str(history))
    return HilRun(process, report, history)


@pytest.fixture(scope="session")
def slow_ov_run(shared_runs: Path, good_run: HilRun) -> HilRun:
    """The OV scenario with the slow-ov defect, appended to the same history after good_run."""
    report = shared_runs / "slow-ov"
    process = run_hil("run", OV_SCENARIO, "--bms-defect", "slow-ov", "--report-dir",
                      str(report), "--", "--hil-history", str(good_run.history))
    return HilRun(process, report, good_run.history)
