"""Unit tests for hil.plant.presets: the packs are the size their class is."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import HilError
from hil.plant.presets import PACK_PRESETS, pack_preset
from hil.plant.vehicle import VEHICLES

# (nominal volts range, nominal kWh range) typical of each class
RANGES = {
    "city_bus": ((600.0, 700.0), (300.0, 400.0)),
    "truck": ((600.0, 800.0), (400.0, 650.0)),
    "two_wheeler": ((48.0, 72.0), (2.0, 6.0)),
    "grid_string": ((1000.0, 1500.0), (250.0, 450.0)),
}


def test_every_class_has_a_preset() -> None:
    assert set(PACK_PRESETS) == set(RANGES)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_preset_size_is_typical(name: str) -> None:
    preset = pack_preset(name)
    (v_low, v_high), (e_low, e_high) = RANGES[name]
    assert v_low <= preset.nominal_volts <= v_high
    assert e_low <= preset.energy_kwh <= e_high
    assert preset.cells_series <= 400
    assert preset.vehicle is None or preset.vehicle in VEHICLES
    assert preset.basis


@pytest.mark.parametrize("name", sorted(RANGES))
def test_preset_builds_a_working_pack(name: str) -> None:
    preset = pack_preset(name)
    pack = preset.build(seed=3, initial_soc=0.6)
    assert pack.cells_series == preset.cells_series
    np.testing.assert_allclose(pack.capacities_ah.mean(), preset.capacity_ah, rtol=0.01)
    pack.step(1.0, preset.capacity_ah)  # 1C for one second
    assert pack.pack_volts == pytest.approx(preset.nominal_volts, rel=0.05)


def test_cell_is_the_chemistry_resized() -> None:
    bus = pack_preset("city_bus")
    cell = bus.cell()
    assert (cell.chemistry, cell.capacity_ah) == ("LFP", 280.0)


def test_unknown_preset_suggests_a_name() -> None:
    with pytest.raises(HilError, match="did you mean 'truck'"):
        pack_preset("truk")
