"""Reports end to end: a run with a defect that slows a reaction is flagged by the comparison."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hil.report.compare import compare as do_compare
from hil.report.history import History

if TYPE_CHECKING:
    from hil_runs import HilRun

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def hil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_comparison_flags_exactly_the_slowed_reaction(tmp_path: Path, good_run: HilRun,
                                                      slow_ov_run: HilRun) -> None:
    # good_run: OV + sensor scenarios; slow_ov_run: OV only, with the slow-ov defect
    history = good_run.history
    assert good_run.process.returncode == 0, good_run.stdout[-3000:]
    assert slow_ov_run.process.returncode == 1, slow_ov_run.stdout[-3000:]
    bad_dir = slow_ov_run.report_dir

    runs = History(history).runs()
    assert len(runs) == 2
    assert runs[1].manifest["defects"] == "slow-ov"
    assert runs[0].manifest["firmware_version"] == "1.4.2"

    page = tmp_path / "compare.html"
    compare = hil("report", "compare", "--history", str(history), "--output", str(page))
    assert compare.returncode == 0, compare.stderr
    text = page.read_text()
    assert "slow-ov" in text
    assert "fault.over_voltage reaction time" in text
    # what regressed is the OV reactions, nothing else
    history_db = History(history)
    result = do_compare(history_db.find("-2"), history_db.find("-1"))
    names = {c.name for c in result.regressions}
    assert names and all("reaction time" in n for n in names), names
    assert {c.test_id for c in result.verdict_changes} <= {t.test_id for t in
                                                           history_db.find("-1").tests}

    # evidence: JUnit suite properties carry the manifest, the HTML report stays small
    suite = ET.parse(bad_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.find("properties") or []}
    assert props["hil.defects"] == "slow-ov" and props["hil.firmware_version"] == "1.4.2"
    html_size = (bad_dir / "report.html").stat().st_size
    tests = int(suite.get("tests", 1))
    assert html_size / tests * 100 < 5_000_000, f"{html_size} bytes for {tests} tests"
    assert list((bad_dir / "logs").glob("*.png"))
    assert list((bad_dir / "logs").glob("*.csv"))

    trend = hil("report", "trend", "--history", str(history), "--output",
                str(tmp_path / "trend.html"))
    assert trend.returncode == 0, trend.stderr
    assert "data:image/png;base64" in (tmp_path / "trend.html").read_text()
