"""The engineer's tools on the simulated rig: self-test, cell calibration, safe power-on values
(hil/rig/tools.py), with chip models removed or power-cycled to play a faulty HAT."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from hil.drivers.dac_cells import DacCells
from hil.errors import DriverError, HilError
from hil.rig import tools
from hil.rig.rig import Rig
from hil.sim.harness import AnalogHarness
from hil.sim.i2c.ad5272 import SimAd5272
from hil.sim.i2c.bus import I2cDevice, Segment, SimSMBus
from hil.sim.i2c.mcp4728 import Mcp4728Register, SimMcp4728

REPO = Path(__file__).resolve().parents[2]
SIM_RIG = REPO / "rigs" / "sim.yaml"
MV = 1e-3


def bus_of(rig: Rig) -> SimSMBus:
    assert rig.i2c is not None
    return rig.i2c.sim_buses[1]  # type: ignore[attr-defined, no-any-return]


def harness_of(rig: Rig) -> AnalogHarness:
    return rig._ctx.harness()  # type: ignore[union-attr]


def cells_of(rig: Rig) -> DacCells:
    assert isinstance(rig.cells, DacCells)
    return rig.cells


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with Rig.load(SIM_RIG, power_dut=False) as opened:
        yield opened


@pytest.fixture(scope="module")
def raw_rig() -> Iterator[Rig]:
    """The sim rig with its calibration switched off, as `hil calibrate` opens it."""
    with Rig.load(SIM_RIG, power_dut=False, use_calibration=False) as opened:
        yield opened


def rig_variant(directory: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load(SIM_RIG.read_text(encoding="utf-8"))
    data["dut"]["profile"] = str(REPO / "dbc" / "bms.profile.yaml")
    data["cells"]["calibration"] = str(REPO / "rigs" / "calibration" / "sim-cells.yaml")
    data.pop("faults", None)
    change(data)
    path = directory / "rig.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def removed(segment: Segment, address: int) -> Iterator[I2cDevice]:
    """The chip model at `address` taken off `segment` (it stops answering), then put back."""
    index, device = next((i, d) for i, d in enumerate(segment.devices) if d.address == address)
    del segment.devices[index]
    try:
        yield device
    finally:
        segment.devices.insert(index, device)


# --- self-test --------------------------------------------------------------------------------
def test_self_test_passes_on_the_sim_rig(rig: Rig) -> None:
    report = tools.self_test(rig)
    assert report.passed
    assert report.missing == []
    assert report.tolerance_volts == 0.005
    assert report.calibration.startswith("sim-cells.yaml (sha256 ")
    assert [c.cell for c in report.channels] == list(range(1, 17)) * 3
    assert sorted({c.set_volts for c in report.channels}) == pytest.approx([2.5, 3.45, 4.4])
    assert max(abs(c.error_volts) for c in report.channels) < 2 * MV
    assert np.abs(harness_of(rig).cell_volts - 3.7).max() < 1.5 * MV  # left in the safe state


def test_self_test_fails_a_channel_outside_the_tolerance(rig: Rig) -> None:
    """A DAC channel whose gain drifted 1 % (cell 7: chip 0x61 channel C) is the failed one."""
    dac = next(d for d in bus_of(rig).devices() if isinstance(d, SimMcp4728) and d.address == 0x61)
    original = dac.errors[2]
    dac.errors[2] = (original[0], original[1] + 0.01)
    try:
        report = tools.self_test(rig)
    finally:
        dac.errors[2] = original
        rig.cells.go_safe()  # type: ignore[union-attr]
    assert not report.passed and report.missing == []
    assert {c.cell for c in report.failed_channels} == {7}
    assert all(c.error_volts > 0.02 for c in report.failed_channels)


@pytest.mark.parametrize("capability, address, name", [
    ("cells", 0x62, "MCP4728 at i2c-1 0x62"),
    ("readback", 0x4A, "ADS1115 at i2c-1 0x4A"),
], ids=["dac", "adc"])
def test_probe_names_a_chip_that_stopped_answering(rig: Rig, capability: str, address: int,
                                                   name: str) -> None:
    cap = getattr(rig, capability)
    assert cap.probe() == []
    with removed(bus_of(rig).root, address):
        assert cap.probe() == [name]
    assert cap.probe() == []


@pytest.mark.parametrize("address, name", [(0x62, "MCP4728 at i2c-1 0x62"),
                                           (0x4A, "ADS1115 at i2c-1 0x4A")], ids=["dac", "adc"])
def test_self_test_reports_a_missing_chip(rig: Rig, address: int, name: str) -> None:
    try:
        with removed(bus_of(rig).root, address):
            report = tools.self_test(rig)
    finally:
        rig.cells.set_all(3.7)  # type: ignore[union-attr]  # every chip rewritten
    assert not report.passed
    assert report.missing == [name]


def test_self_test_notices_a_missing_rheostat(rig: Rig) -> None:
    switch = next(d for d in bus_of(rig).root.devices if d.address == 0x70)
    segment = switch.channels[2]  # type: ignore[attr-defined]
    with removed(segment, 0x2E):
        report = tools.self_test(rig)
    assert not report.passed
    assert any("0x2E" in chip for chip in report.missing)


# --- calibration ------------------------------------------------------------------------------
def test_calibrate_cells_fits_every_channel_below_a_millivolt(raw_rig: Rig) -> None:
    fits = tools.calibrate_cells(raw_rig, points=5)
    assert sorted(fits) == list(range(1, 17))
    for cell, (_fit, before, after) in fits.items():
        assert after < 1 * MV, (cell, after)
        assert before > after, (cell, before, after)
    assert max(before for _, before, _ in fits.values()) > 5 * MV  # the sim's DACs are off
    # The fit finds the sim's errors again: the shipped calibration file was made this way.
    shipped = yaml.safe_load((REPO / "rigs" / "calibration" / "sim-cells.yaml").read_text(
        encoding="utf-8"))["cells"]
    for cell, (fit, _, _) in fits.items():
        assert fit.gain == pytest.approx(shipped[cell]["gain"], abs=2e-4)
        assert fit.offset == pytest.approx(shipped[cell]["offset"], abs=0.3 * MV)
    assert np.abs(harness_of(raw_rig).cell_volts - 3.7).max() < 20 * MV  # back to safe


def test_calibration_applied_makes_the_outputs_exact(raw_rig: Rig) -> None:
    """Feed the fits back as the driver's calibration: outputs land within 1 LSB (1.25 mV)."""
    from hil.calibration import Calibration

    cells = cells_of(raw_rig)
    fits = tools.calibrate_cells(raw_rig, points=4)
    uncalibrated = cells.calibration
    cells.calibration = Calibration(cells={c: fit for c, (fit, _, _) in fits.items()})
    try:
        for volts in (2.7, 3.3, 4.1):
            cells.set_all(volts)
            assert np.abs(harness_of(raw_rig).cell_volts - volts).max() < 1.25 * MV
    finally:
        cells.calibration = uncalibrated
        cells.go_safe()


def test_calibrate_cells_covers_only_cells_with_a_readback_channel(
        tmp_path: Path) -> None:
    def three_adcs(data: dict[str, Any]) -> None:
        data["readback"]["chips"] = data["readback"]["chips"][:3]  # cells 1..12 read back

    with Rig.load(rig_variant(tmp_path, three_adcs), power_dut=False,
                  use_calibration=False) as partial:
        fits = tools.calibrate_cells(partial, points=3)
    assert sorted(fits) == list(range(1, 13))


# --- safe power-on values ---------------------------------------------------------------------
def test_safe_power_on_values_survive_a_hat_power_cycle(rig: Rig) -> None:
    bus = bus_of(rig)
    dacs = [d for d in bus.devices() if isinstance(d, SimMcp4728)]
    assert sorted(d.address for d in dacs) == [0x60, 0x61, 0x62, 0x63]
    for dac in dacs:  # a fresh HAT: EEPROM at zero scale
        dac.eeprom = [Mcp4728Register(vref=1, gain=1, code=0)] * 4
    cells = cells_of(rig)

    done = tools.write_safe_power_on_values(rig)

    assert done[0] == "cells: 3.7 V written to every DAC's EEPROM"
    for dac in dacs:
        assert all(r.vref == 1 and r.gain == 1 and r.pd == 0 and r.code > 2900
                   for r in dac.eeprom)
    cells.set_all(3.3)  # the running value differs from the stored one
    assert np.abs(harness_of(rig).cell_volts - 3.3).max() < 1.5 * MV

    for dac in dacs:  # the HAT's supply goes off and on
        dac.power_on()

    assert np.abs(harness_of(rig).cell_volts - 3.7).max() < 3 * MV
    cells.set_all(3.7)  # the driver's idea of the chips matches them again


def test_safe_power_on_values_name_an_unanswering_dac(rig: Rig) -> None:
    with removed(bus_of(rig).root, 0x63), pytest.raises(DriverError, match="0x63"):
        tools.write_safe_power_on_values(rig)


# --- the simulated bus's device list ----------------------------------------------------------
def test_bus_devices_lists_every_dac_and_switch(rig: Rig) -> None:
    names = sorted(f"{type(d).__name__}@{d.address:02X}" for d in bus_of(rig).devices())
    for expected in ("SimMcp4728@60", "SimMcp4728@63", "SimTca9548a@70", "SimMcp23017@21",
                     "SimAds1115@4B"):
        assert expected in names


def test_bus_devices_lists_chips_behind_unselected_switch_channels(rig: Rig) -> None:
    rig.temperatures.set({1: 25.0})  # type: ignore[union-attr]  # switch 0x70 on channel 0
    pots = [d for d in bus_of(rig).devices() if isinstance(d, SimAd5272)]
    assert len(pots) == 8


def test_a_dead_channel_or_millivolt_readings_are_a_clear_error(raw_rig: Rig) -> None:
    with pytest.raises(HilError, match=r"cell \d+: the fitted gain .* outside 0.5..2"):
        tools.calibrate_cells(raw_rig, points=3, measure=lambda cell, volts: 1000.0 * volts)
