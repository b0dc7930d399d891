"""Unit tests for the pack model's lumped thermal nodes: steady states, transients, coupling."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hil.plant.pack import NO_SPREAD, PackModel
from hil.plant.params import CellParams, RcPair, Table, Thermal, builtin_cell_params

NMC = builtin_cell_params("nmc_pybamm_ecm")
R0, R1 = 0.010, 0.020
HEAT_CAPACITY, COOLING = 100.0, 0.5  # J/K, W/K: time constant 200 s


def cell(*, rc_heat: bool = False, coupling: float = 0.0, cooling: float = COOLING,
         share: float = 1.0) -> CellParams:
    return CellParams(
        name="hand", chemistry="test", capacity_ah=1e6, min_volts=3.0, max_volts=4.0,
        ocv_volts=Table.curve([0.0, 1.0], [3.0, 4.0]), r0_ohms=Table.constant(R0),
        rc=(RcPair(Table.constant(R1), Table.constant(10.0)),),
        thermal=Thermal(HEAT_CAPACITY, cooling, coupling, rc_heat=rc_heat,
                        balancing_heat_share=share))


def test_steady_state_is_ambient_plus_i2r0_over_ha() -> None:
    model = PackModel(cell(), 1, spread=NO_SPREAD, ambient_celsius=20.0)
    for _ in range(400):
        model.step(10.0, 5.0)  # 4000 s = 20 time constants
    assert model.temperatures[0] == pytest.approx(20.0 + 5.0**2 * R0 / COOLING, abs=1e-6)


def test_rc_heat_adds_the_rc_resistor_losses() -> None:
    model = PackModel(cell(rc_heat=True), 1, spread=NO_SPREAD, ambient_celsius=20.0)
    for _ in range(400):
        model.step(10.0, 5.0)
    assert model.temperatures[0] == pytest.approx(20.0 + 25.0 * (R0 + R1) / COOLING, abs=1e-6)


@pytest.mark.parametrize(("dt", "seconds"), [(0.01, 20.0), (1.0, 200.0), (60.0, 600.0)])
def test_lone_cell_transient_is_exact_at_any_step(dt: float, seconds: float) -> None:
    model = PackModel(cell(), 1, spread=NO_SPREAD, ambient_celsius=25.0)
    steps = round(seconds / dt)
    for _ in range(steps):
        model.step(dt, 4.0)
    rise = 16.0 * R0 / COOLING
    expected = 25.0 + rise * (1.0 - math.exp(-steps * dt * COOLING / HEAT_CAPACITY))
    assert model.temperatures[0] == pytest.approx(expected, abs=1e-9)


def test_identical_cells_stay_identical_with_coupling() -> None:
    model = PackModel(cell(coupling=3.0), 12, spread=NO_SPREAD)
    for _ in range(300):
        model.step(1.0, 6.0)
    assert np.ptp(model.temperatures) == 0.0


def test_nmc_steady_state_with_temperature_dependent_r0() -> None:
    # Alternating +-I keeps SOC (and RC voltages) near constant while I^2*R0 heats the cell.
    no_rc_heat = dataclasses.replace(NMC, thermal=dataclasses.replace(NMC.thermal,
                                                                       rc_heat=False))
    model = PackModel(no_rc_heat, 1, spread=NO_SPREAD, ambient_celsius=25.0, initial_soc=0.5)
    amps = 200.0
    for k in range(2000):  # 2000 s = 10 time constants of 1000 J/K over 5 W/K
        model.step(1.0, amps if k % 2 else -amps)
    t = model.temperatures[0]
    r0 = float(NMC.r0_ohms(model.soc[0], t))
    assert t - 25.0 == pytest.approx(amps**2 * r0 / NMC.thermal.cooling_w_per_k, rel=1e-3)


def test_coupling_spreads_heat_and_conserves_it_without_cooling() -> None:
    start = np.array([25.0, 25.0, 45.0, 25.0, 25.0])
    model = PackModel(cell(cooling=0.0, coupling=2.0), 5, spread=NO_SPREAD,
                      initial_celsius=start)
    for _ in range(50):
        model.step(5.0, 0.0)
    t = model.temperatures
    assert t.sum() == pytest.approx(start.sum(), rel=1e-12)
    assert t[2] < 45.0 and t[1] > 25.0 and t[0] > 25.0
    assert t[0] == pytest.approx(t[4]) and t[1] == pytest.approx(t[3])
    for _ in range(2000):
        model.step(60.0, 0.0)
    np.testing.assert_allclose(model.temperatures, 29.0, atol=1e-9)


def test_huge_steps_do_not_oscillate() -> None:
    start = np.array([25.0, 60.0, 25.0, 60.0, 25.0, 60.0])
    model = PackModel(cell(coupling=50.0), 6, spread=NO_SPREAD, initial_celsius=start,
                      ambient_celsius=25.0)
    previous = np.ptp(model.temperatures)
    for _ in range(10):
        model.step(1e4, 0.0)
        assert np.ptp(model.temperatures) <= previous + 1e-12
        assert np.all((model.temperatures >= 25.0 - 1e-9) & (model.temperatures <= 60.0))
        previous = np.ptp(model.temperatures)


@pytest.mark.parametrize("share", [1.0, 0.25])
def test_balancing_heat_is_the_bleed_power_share(share: float) -> None:
    model = PackModel(cell(share=share), 2, spread=NO_SPREAD, ambient_celsius=25.0)
    bal = np.array([0.0, 0.5])
    for _ in range(400):
        model.step(10.0, 0.0, bal)
    volts = model.cell_volts[1]
    heat = 0.5**2 * R0 + share * volts * 0.5
    assert model.temperatures[0] == pytest.approx(25.0, abs=1e-12)
    assert model.temperatures[1] == pytest.approx(25.0 + heat / COOLING, rel=1e-4)


def test_ambient_change_pulls_the_cells_along() -> None:
    model = PackModel(cell(), 3, spread=NO_SPREAD, ambient_celsius=25.0)
    model.ambient_celsius = -10.0
    model.step(200.0, 0.0)  # one time constant
    np.testing.assert_allclose(model.temperatures, -10.0 + 35.0 / math.e, rtol=1e-12)
