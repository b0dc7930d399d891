"""Unit tests for hil.plant.cycles: profile files, speed cycles and chargers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.errors import ConfigError
from hil.plant.cycles import (
    CcCvCharge,
    ConstantCurrentCharge,
    ConstantPowerCharge,
    Profile,
    SpeedCycle,
    power_to_amps,
    read_fastsim_cycle,
    read_pybamm_profile,
    run_until_finished,
)
from hil.plant.pack import NO_SPREAD, PackModel
from hil.plant.params import builtin_cell_params
from hil.plant.vehicle import vehicle

NMC = builtin_cell_params("nmc_pybamm_ecm")


# ---- files in the team's shared data (skipped when absent) -----------------------------

def test_pybamm_current_profiles(shared_data: Path) -> None:
    udds = read_pybamm_profile(shared_data / "pybamm" / "drive_cycles" / "UDDS.csv")
    assert (udds.quantity, udds.unit, udds.seconds.size, udds.duration) == ("current", "A",
                                                                           1370, 1369.0)
    assert udds.values.max() == pytest.approx(8.1)
    steps = read_pybamm_profile(shared_data / "pybamm" / "drive_cycles" / "car_current.csv")
    assert float(steps.at(30.0)) == 1.0 and float(steps.at(55.0)) == -0.5
    assert float(steps.at(10_000.0)) == -0.5  # held after the end


def test_pybamm_power_profile_is_in_watts(shared_data: Path) -> None:
    wltc = read_pybamm_profile(shared_data / "pybamm" / "drive_cycles" / "WLTC.csv")
    assert (wltc.quantity, wltc.unit) == ("power", "W")
    assert wltc.seconds[1] == pytest.approx(0.1)
    assert float(wltc.at(0.0)) == pytest.approx(0.000511 * 1000.0)


@pytest.mark.parametrize(("name", "duration", "km", "top_kmh"), [
    ("udds.csv", 1369.0, 11.99, 91.2),
    ("wltc_3b.csv", 1800.0, 23.27, 131.3),  # UTF-8 BOM and CRLF
    ("wmtc_all.csv", 1800.0, 28.9, 125.3),  # BOM
])
def test_fastsim_cycles(shared_data: Path, name: str, duration: float, km: float,
                        top_kmh: float) -> None:
    cycle = read_fastsim_cycle(shared_data / "fastsim" / "cycles" / name)
    assert cycle.duration == duration
    assert cycle.distance_m / 1000.0 == pytest.approx(km, rel=0.01)
    assert cycle.mps.max() * 3.6 == pytest.approx(top_kmh, abs=0.2)
    assert np.all(cycle.grade == 0.0)


def test_bus_on_a_shared_cycle_draws_and_regenerates(shared_data: Path) -> None:
    cycle = read_fastsim_cycle(shared_data / "fastsim" / "cycles" / "udds.csv")
    t = np.arange(0.0, cycle.duration, 1.0)
    speed, accel, grade = cycle.at(t)
    amps = vehicle("city_bus").pack_amps(speed, accel, grade, 650.0)
    assert amps.max() > 100.0 and amps.min() < -50.0


# ---- small files written here ----------------------------------------------------------

def test_pybamm_format_from_tmp_path(tmp_path: Path) -> None:
    path = tmp_path / "steps.csv"
    path.write_text("# made up\n# Time [s], Current [A]\n0, 2\n10, 2\n10.001, -1\n20, -1\n",
                    encoding="utf-8")
    profile = read_pybamm_profile(path)
    assert float(profile.at(5.0)) == 2.0
    assert float(profile.at(15.0)) == -1.0
    np.testing.assert_allclose(profile.at(np.array([0.0, 10.0005, 25.0])), [2.0, 0.5, -1.0])
    assert float(profile.at(25.0, loop=True)) == 2.0  # 25 s is 5 s into the second lap
    assert float(profile.scaled(3.0).at(5.0)) == 6.0


def test_pybamm_power_in_kilowatts(tmp_path: Path) -> None:
    path = tmp_path / "power.csv"
    path.write_text("# time [s],Power [kW]\n0,1.5\n1,2.5\n", encoding="utf-8")
    profile = read_pybamm_profile(path)
    assert profile.quantity == "power"
    assert float(profile.at(0.5)) == pytest.approx(2000.0)


def test_pybamm_file_without_a_unit_needs_a_quantity(tmp_path: Path) -> None:
    path = tmp_path / "bare.csv"
    path.write_text("0,1\n1,2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pass quantity"):
        read_pybamm_profile(path)
    assert read_pybamm_profile(path, quantity="current").quantity == "current"


def test_fastsim_format_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "cycle.csv"
    text = "cycSecs,cycMps,cycGrade,cycRoadType\r\n0,0,0,0\r\n1,2,0,0\r\n3,2,0.02,0\r\n4,0,0,0\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cycle = read_fastsim_cycle(path)
    speed, accel, grade = cycle.at(np.array([0.5, 2.0, 3.5, 9.0]))
    np.testing.assert_allclose(speed, [1.0, 2.0, 1.0, 0.0])
    np.testing.assert_allclose(accel, [2.0, 0.0, -2.0, 0.0])
    np.testing.assert_allclose(grade, [0.0, 0.01, 0.01, 0.0])
    assert cycle.distance_m == pytest.approx(1.0 + 4.0 + 1.0)


def test_fastsim_without_grade_column(tmp_path: Path) -> None:
    path = tmp_path / "cycle.csv"
    path.write_text("cycSecs,cycMps\n0,0\n1,1\n", encoding="utf-8")
    assert np.all(read_fastsim_cycle(path).grade == 0.0)


@pytest.mark.parametrize(("text", "match", "line"), [
    ("secs,mps\n0,0\n", "missing column.s. cycSecs, cycMps", 1),
    ("cycSecs,cycMps\n0,0\n1,fast\n", "cycMps: expected a finite number, got 'fast'", 3),
    ("cycSecs,cycMps\n0,0\ninf,1\n", "cycSecs: expected a finite number, got 'inf'", 3),
    ("cycSecs,cycMps,cycGrade\n0,0,0\n1,nan,0\n", "cycMps: expected a finite number", 3),
    ("cycSecs,cycMps\n0,0\n1,1\n1,2\n", "time must increase: 1 s is followed by 1 s", None),
])
def test_fastsim_mistakes(tmp_path: Path, text: str, match: str, line: int | None) -> None:
    path = tmp_path / "cycle.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        read_fastsim_cycle(path)
    assert info.value.line == line


def test_pybamm_bad_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("# Time [s], Current [A]\n0, 1\nten, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected 'time, value'") as info:
        read_pybamm_profile(path)
    assert info.value.line == 3


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        read_fastsim_cycle(tmp_path / "nope.csv")


def test_profile_and_cycle_check_their_arrays() -> None:
    with pytest.raises(ValueError, match="time must increase"):
        Profile(np.array([0.0, 0.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="equal length"):
        SpeedCycle(np.array([0.0, 1.0]), np.array([1.0]), np.array([0.0, 0.0]))


# ---- chargers ----------------------------------------------------------------------------

def small_pack(soc: float = 0.3) -> PackModel:
    return PackModel(NMC.with_capacity(5.0), 4, seed=4, initial_soc=soc)


def test_cc_cv_holds_the_limit_and_tapers_to_the_cutoff() -> None:
    model = small_pack()
    charger = CcCvCharge(amps=5.0, max_cell_volts=4.1, cutoff_amps=0.25)
    dt, peak, trace = 2.0, 0.0, []
    for _ in range(20_000):
        amps = charger.current(model, dt)
        if charger.finished:
            break
        model.step(dt, amps)
        peak = max(peak, float(model.cell_volts.max()))
        trace.append(amps)
    assert charger.finished and charger.in_cv
    assert trace[0] == -5.0 and 0.25 <= -trace[-1] < 0.3  # the last step above the cutoff
    assert peak <= 4.1 + 1e-4
    assert peak == pytest.approx(4.1, abs=1e-3)
    assert model.soc.max() > 0.9


def test_pack_voltage_limit() -> None:
    model = small_pack()
    charger = CcCvCharge(amps=5.0, max_cell_volts=4.2, cutoff_amps=0.5, max_pack_volts=15.6)
    run_until_finished(model, charger, 2.0, 20_000.0)
    assert charger.finished
    assert model.current_amps == 0.0
    assert model.ocv_volts.sum() == pytest.approx(15.6, abs=0.05)


def test_constant_current_charge_stops_at_the_voltage() -> None:
    model = small_pack(0.8)
    charger = ConstantCurrentCharge(amps=2.5, stop_cell_volts=4.0)
    assert charger.current(model, 1.0) == -2.5
    seconds = run_until_finished(model, charger, 1.0, 10_000.0)
    assert charger.finished and 0.0 < seconds < 10_000.0
    assert model.soc.mean() > 0.8


def test_constant_power_charge_delivers_the_power() -> None:
    model = small_pack()
    charger = ConstantPowerCharge(watts=60.0)
    for _ in range(50):
        amps = charger.current(model, 1.0)
        model.step(1.0, amps)
        assert amps * model.pack_volts == pytest.approx(-60.0, rel=1e-4)


@pytest.mark.parametrize("watts", [500.0, -800.0, 0.0])
def test_power_to_amps_solves_for_the_end_of_step_voltage(watts: float) -> None:
    model = PackModel(NMC, 12, spread=NO_SPREAD)
    amps = power_to_amps(model, watts, 0.01)
    model.step(0.01, amps)
    assert amps * model.pack_volts == pytest.approx(watts, rel=1e-5, abs=1e-9)


def test_power_beyond_the_maximum_gives_the_maximum_power_current() -> None:
    model = PackModel(NMC, 1, spread=NO_SPREAD)
    e, z = (float(x.sum()) for x in model.voltage_response(0.01))
    assert power_to_amps(model, 1e9, 0.01) == pytest.approx(e / (2 * z))


@pytest.mark.parametrize(("row", "line"), [("1,nan", 3), ("1,,2", 3), ("inf,1", 3)])
def test_pybamm_rows_must_be_two_finite_numbers(tmp_path: Path, row: str, line: int) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"# Time [s], Current [A]\n0,1\n{row}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="two finite numbers") as info:
        read_pybamm_profile(path)
    assert info.value.line == line
