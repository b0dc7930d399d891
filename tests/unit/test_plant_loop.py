"""The plant in the loop, on a stand-in rig: feedback from the BMS's signals and the scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.plant import builtin_cycle, pack_preset, vehicle
from hil.profile import Profile
from hil.scenario.model import ChargeCommand, DriveCommand, PlantConfig
from hil.scenario.plant_loop import PlantLoop
from hil.signals import SignalStore

REPO = Path(__file__).resolve().parents[2]
PROFILE = Profile.load(REPO / "dbc" / "bms.profile.yaml")


class Channels:
    def __init__(self, count: int) -> None:
        self.count = count
        self.values: dict[int, float] = {}
        self.writes = 0

    def set(self, values: dict[int, float]) -> float:
        self.values.update(values)
        self.writes += 1
        return 0.0


class Current:
    def __init__(self) -> None:
        self.amps = 0.0

    def set(self, amps: float) -> float:
        self.amps = amps
        return 0.0


class FakeRig:
    def __init__(self) -> None:
        self.profile = PROFILE
        self.store = SignalStore()
        self.cells = Channels(16)
        self.temperatures = Channels(4)
        self.current = Current()

    def report(self, role: str, label_or_value: str | float) -> None:
        target = PROFILE.resolve(role)
        raw = (target.value_of(label_or_value) if isinstance(label_or_value, str)
               else label_or_value / target.factor)
        self.store.series(target.series_name).append(0.0, raw)

    def close_contactors(self, closed: bool = True) -> None:
        for role in ("contactor.main_positive", "contactor.main_negative"):
            self.report(role, "CLOSED" if closed else "OPEN")


def loop(rig: FakeRig, soc: float = 0.5, **kw: object) -> PlantLoop:
    config = PlantConfig("city_bus", soc, seed=1, spread=False, **kw)  # type: ignore[arg-type]
    plant = PlantLoop(rig, config)  # type: ignore[arg-type]
    plant.start(now=0.0)
    return plant


def test_start_writes_the_resting_pack_and_its_truth() -> None:
    rig = FakeRig()
    plant = loop(rig, 0.5)
    assert sorted(rig.cells.values) == list(range(1, 17))
    assert rig.cells.values[1] == pytest.approx(plant.pack.ocv_volts[0])
    assert rig.temperatures.values == {i: pytest.approx(25.0) for i in range(1, 5)}
    assert rig.store.latest("plant.soc").value == pytest.approx(50.0)
    assert rig.store.latest("plant.current").value == 0.0


def test_open_contactors_mean_no_current_closed_let_the_charge_flow() -> None:
    rig = FakeRig()
    plant = loop(rig)
    plant.charge(ChargeCommand(60.0, amps=50.0, follow_bms_limit=False), now=0.0)
    rig.close_contactors(False)
    plant.tick(now=0.01)
    assert rig.current.amps == 0.0
    rig.close_contactors(True)
    plant.tick(now=0.02)
    assert rig.current.amps == pytest.approx(-50.0)
    # one second at 50 A into 100 Ah groups: 50/360000 of SOC
    plant.tick(now=1.02)
    assert rig.store.latest("plant.soc").value == pytest.approx(50.0 + 100 * 50 / 360000)


def test_charge_follows_the_bms_charge_current_limit() -> None:
    rig = FakeRig()
    rig.close_contactors()
    rig.report("charge_current_limit", 30.0)
    plant = loop(rig)
    plant.charge(ChargeCommand(60.0, amps=50.0), now=0.0)
    plant.tick(now=0.01)
    assert rig.current.amps == pytest.approx(-30.0)


def test_charge_ends_after_its_duration() -> None:
    rig = FakeRig()
    rig.close_contactors()
    plant = loop(rig)
    plant.charge(ChargeCommand(1.0, amps=50.0, follow_bms_limit=False), now=0.0)
    plant.tick(now=0.5)
    assert rig.current.amps == pytest.approx(-50.0)
    plant.tick(now=1.01)
    assert rig.current.amps == 0.0


def test_drive_current_is_the_bus_current_at_the_dut_c_rate() -> None:
    rig = FakeRig()
    rig.close_contactors()
    plant = loop(rig, 0.8)
    preset = pack_preset("city_bus")
    assert plant.current_scale == pytest.approx(100.0 / preset.capacity_ah)
    cycle = builtin_cycle("udds")
    plant.drive(DriveCommand(100.0, "udds", cycle=cycle, start=60.0), now=0.0)
    volts = plant.pack.cell_volts.mean() * preset.cells_series
    plant.tick(now=0.01)
    speed, accel, grade = cycle.at(60.01)
    expected = float(vehicle("city_bus").pack_amps(speed, accel, grade, volts)) * 100 / 560
    assert rig.current.amps == pytest.approx(expected, rel=1e-3)
    assert abs(expected) > 1.0  # the bus is moving at 60 s into UDDS


def test_balancing_switches_bleed_their_cells_only() -> None:
    rig = FakeRig()
    plant = loop(rig)
    rig.report("balancing[3]", 1)
    before = plant.pack.soc
    plant.tick(now=100.0)
    drop = before - plant.pack.soc
    assert drop[2] == pytest.approx(0.1 * 100.0 / (100 * 3600))
    assert np.all(np.delete(drop, 2) == 0.0)


def test_weak_cell_has_its_share_of_capacity() -> None:
    rig = FakeRig()
    plant = loop(rig, weak_cell=(5, 0.25))
    assert plant.pack.capacities_ah[4] == pytest.approx(25.0)
    assert plant.pack.capacities_ah[3] == pytest.approx(100.0)


def test_unchanged_outputs_are_not_rewritten() -> None:
    rig = FakeRig()
    plant = loop(rig)
    writes = rig.cells.writes
    plant.tick(now=0.01)
    plant.tick(now=0.02)
    assert rig.cells.writes == writes  # at rest nothing moves


def test_current_profile_is_the_dut_current(tmp_path: Path) -> None:
    from hil.plant import read_pybamm_profile
    path = tmp_path / "steps.csv"
    path.write_text("# Time [s], Current [A]\n0, 20\n10, 20\n10.001, -5\n20, -5\n")
    rig = FakeRig()
    rig.close_contactors()
    plant = loop(rig)
    profile = read_pybamm_profile(path).scaled(2.0)
    plant.drive(DriveCommand(20.0, "steps.csv", profile=profile), now=0.0)
    plant.tick(now=5.0)
    assert rig.current.amps == pytest.approx(40.0)
    plant.tick(now=15.0)
    assert rig.current.amps == pytest.approx(-10.0)


def test_constant_power_charge_is_the_section_share_of_the_pack_power() -> None:
    rig = FakeRig()
    rig.close_contactors()
    plant = loop(rig)
    preset = pack_preset("city_bus")
    plant.charge(ChargeCommand(60.0, kilowatts=100.0, follow_bms_limit=False), now=0.0)
    plant.tick(now=0.01)
    # 100 kW into 200 series groups of 560 Ah; this section: 16 groups of 100 Ah
    section_watts = 100e3 * 16 / preset.cells_series * 100 / preset.capacity_ah
    watts = -rig.current.amps * plant.pack.pack_volts
    assert watts == pytest.approx(section_watts, rel=2e-3)
