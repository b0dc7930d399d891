"""Pack current through an emulated analog Hall sensor (a DAC channel) instead of the IVT-S."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.rig.rig import Rig

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def test_hall_sensor_current_reaches_the_bms(tmp_path: Path) -> None:
    text = (REPO / "rigs" / "sim.yaml").read_text()
    text = text.replace("../dbc/", f"{REPO / 'dbc'}/")
    text = text.replace("calibration: calibration/", f"calibration: {REPO / 'rigs'}/calibration/")
    text = text.replace(
        "current:\n  driver: ivt-s-can                    # the rig plays the IVT-S current "
        "sensor on CAN\n",
        "current:\n  driver: dac-hall\n  chip: {bus: 1, address: 0x64}\n  channel: 0\n"
        "  offset_volts: 2.5\n  volts_per_amp: 0.003\n")
    assert "dac-hall" in text
    path = tmp_path / "hall.yaml"
    path.write_text(text)
    with Rig.load(path) as rig:
        assert rig.current is not None and rig.bms is not None and rig._ctx is not None
        t = rig.current.set(-100.0)
        assert rig._ctx.harness().hall_volts[0] == pytest.approx(2.2, abs=0.02)
        sample = rig.bms.wait_for("pack_current", ("between", -103.0, -97.0), 1.0, since=t)
        assert sample.value == pytest.approx(-100.0, abs=3.0)  # uncalibrated DAC channel
        # no IVT frames on this rig, and no current-sensor timeout either
        assert rig.decoder is not None
        assert rig.decoder.integrity.frames_by_id[0x521] == 0
        assert rig.bms.latest("fault.can_timeout_current_sensor") == 0
