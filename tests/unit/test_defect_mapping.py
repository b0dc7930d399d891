"""Every injectable defect names the shipped scenarios that catch it, and they exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.sim.bms.defects import DEFECTS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_is_claimed_by_shipped_scenarios(name: str) -> None:
    defect = DEFECTS[name]
    assert defect.summary and len(defect.summary) < 100
    assert defect.caught_by, f"{name}: no scenario claims to catch it"
    for relative in defect.caught_by:
        assert (REPO / relative).is_file(), f"{name}: {relative} does not exist"
        assert relative.startswith("scenarios/")


def test_every_protection_has_a_defect() -> None:
    caught = {Path(p).stem for d in DEFECTS.values() for p in d.caught_by}
    for scenario in ("cell_over_voltage", "cell_under_voltage", "over_temperature",
                     "under_temperature", "over_current_charge", "over_current_discharge"):
        assert scenario in caught, f"no defect is caught by {scenario}"
