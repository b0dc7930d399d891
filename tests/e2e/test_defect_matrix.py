"""The defect matrix on a sample: each defect makes the scenarios that claim it fail.

The whole matrix (every defect, about 30 scenario runs) is `hil bms defects --check`; here a
sample from different groups keeps the suite short.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.rig.rig import Rig
from hil.sim.bms.matrix import check_defects

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLE = ["e2e-ignored", "temperature-offset"]


def test_sampled_defects_are_caught(rig: Rig) -> None:
    rows = check_defects(rig, REPO, SAMPLE)
    assert {r.defect for r in rows} == set(SAMPLE)
    missed = [f"{r.defect} by {r.scenario}: {r.detail}" for r in rows if not r.caught]
    assert not missed, missed
    assert rig.dut_power is not None and rig.dut_power.defects == []  # rebuilt clean
