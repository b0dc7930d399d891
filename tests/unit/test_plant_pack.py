"""Unit tests for hil.plant.pack: the equivalent circuit against hand-computed steps.

Most tests use a hand-made cell with constant resistances and a straight-line OCV
(3 V at 0 % to 4 V at 100 %), so every expected value can be written down.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.plant.pack import NO_SPREAD, PackModel, Spread
from hil.plant.params import CellParams, Hysteresis, RcPair, Table, Thermal, builtin_cell_params

FAST = settings(max_examples=40, deadline=None, database=None)
NMC = builtin_cell_params("nmc_pybamm_ecm")
LFP = builtin_cell_params("lfp_representative")

R0, R1, TAU1, R2, TAU2 = 0.010, 0.020, 10.0, 0.005, 200.0


def cell(*, capacity_ah: float = 1.0, rc: int = 1, hysteresis: Hysteresis | None = None,
         thermal: Thermal | None = None) -> CellParams:
    pairs = [RcPair(Table.constant(R1), Table.constant(TAU1)),
             RcPair(Table.constant(R2), Table.constant(TAU2))][:rc]
    return CellParams(
        name="hand", chemistry="test", capacity_ah=capacity_ah, min_volts=3.0, max_volts=4.0,
        ocv_volts=Table.curve([0.0, 1.0], [3.0, 4.0]), r0_ohms=Table.constant(R0),
        rc=tuple(pairs), hysteresis=hysteresis or Hysteresis(),
        thermal=thermal or Thermal(100.0, 0.5, 0.0, rc_heat=False))


def pack(params: CellParams, n: int = 1, p: int = 1, **kw: object) -> PackModel:
    return PackModel(params, n, p, spread=NO_SPREAD, **kw)


# ---- the instant R0 drop and the first step --------------------------------------------

@pytest.mark.parametrize("amps", [100.0, -60.0, 250.0])
def test_current_step_drops_exactly_i_r0(amps: float) -> None:
    model = pack(NMC, 4)
    before = model.cell_volts
    model.step(0.0, amps)
    r0 = float(NMC.r0_ohms(0.5, 25.0))
    np.testing.assert_allclose(before - model.cell_volts, amps * r0, rtol=1e-12)


def test_first_step_hand_computed() -> None:
    model = pack(cell(), initial_soc=0.5)
    model.step(1.0, 2.0)
    soc = 0.5 - 2.0 * 1.0 / 3600.0
    v_rc = R1 * (1.0 - math.exp(-1.0 / TAU1)) * 2.0
    expected = (3.0 + soc) - 2.0 * R0 - v_rc
    assert model.soc[0] == pytest.approx(soc, abs=1e-15)
    assert model.rc_volts[0, 0] == pytest.approx(v_rc, rel=1e-12)
    assert model.cell_volts[0] == pytest.approx(expected, abs=1e-12)


def test_rc_relaxes_to_one_over_e_after_tau() -> None:
    model = pack(cell(capacity_ah=1e6))
    for _ in range(1000):  # 100 s at 5 A: ten time constants, v_rc ~ R1*I
        model.step(0.1, 5.0)
    assert model.rc_volts[0, 0] == pytest.approx(R1 * 5.0, rel=1e-4)
    model.step(0.0, 0.0)
    rest = model.ocv_volts[0]
    start = rest - model.cell_volts[0]
    for _ in range(100):  # one time constant
        model.step(0.1, 0.0)
    assert model.rc_volts[0, 0] / (R1 * 5.0) == pytest.approx(math.exp(-1.0), rel=1e-4)
    assert (rest - model.cell_volts[0]) / start == pytest.approx(math.exp(-1.0), rel=1e-4)


def test_two_rc_pairs_relax_with_their_own_time_constants() -> None:
    model = pack(cell(rc=2, capacity_ah=1e6))
    model.step(5000.0, 10.0)  # one long step: both pairs settle (exact discretisation)
    np.testing.assert_allclose(model.rc_volts[:, 0], [R1 * 10.0, R2 * 10.0], rtol=1e-9)
    model.step(TAU1, 0.0)
    assert model.rc_volts[0, 0] == pytest.approx(R1 * 10.0 / math.e, rel=1e-9)
    assert model.rc_volts[1, 0] == pytest.approx(R2 * 10.0 * math.exp(-TAU1 / TAU2), rel=1e-9)


@FAST
@given(splits=st.lists(st.floats(0.001, 5.0), min_size=1, max_size=20),
       amps=st.floats(-50.0, 50.0))
def test_rc_update_is_exact_for_any_step_size(splits: list[float], amps: float) -> None:
    one, many = pack(cell(rc=2, capacity_ah=1e6)), pack(cell(rc=2, capacity_ah=1e6))
    one.step(sum(splits), amps)
    for dt in splits:
        many.step(dt, amps)
    np.testing.assert_allclose(many.rc_volts, one.rc_volts, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(many.soc, one.soc, rtol=1e-12)


def test_terminal_voltage_is_the_sum_of_its_parts() -> None:
    model = pack(LFP, 8, seed=3)
    for k in range(200):
        model.step(0.5, 80.0 if k % 50 < 30 else -40.0)
    expected = (model.ocv_volts - model.cell_amps * model.r0_ohms
                - model.rc_volts.sum(axis=0) + model.hysteresis_volts)
    np.testing.assert_allclose(model.cell_volts, expected, rtol=1e-12)
    assert model.pack_volts == pytest.approx(model.cell_volts.sum())


# ---- SOC -----------------------------------------------------------------------------------

def test_soc_one_c_for_36_seconds_is_one_percent() -> None:
    model = pack(NMC, 3, initial_soc=0.5)
    for _ in range(360):
        model.step(0.1, 100.0)  # 1C for the 100 Ah cell
    np.testing.assert_allclose(model.soc, 0.49, atol=1e-12)
    assert model.elapsed_seconds == pytest.approx(36.0)


def test_charging_raises_soc() -> None:
    model = pack(NMC, 2, initial_soc=0.5)
    model.step(36.0, -100.0)
    np.testing.assert_allclose(model.soc, 0.51, atol=1e-12)


def test_parallel_group_multiplies_capacity_and_conductance() -> None:
    model = pack(NMC, 2, 3)
    np.testing.assert_allclose(model.capacities_ah, 300.0)
    np.testing.assert_allclose(model.r0_ohms, float(NMC.r0_ohms(0.5, 25.0)) / 3, rtol=1e-12)
    model.step(36.0, 300.0)
    np.testing.assert_allclose(model.soc, 0.49, atol=1e-12)


def test_ocv_at_rest_follows_the_table_including_temperature() -> None:
    socs = NMC.ocv_volts.soc[5:105:10]
    for j, celsius in enumerate(NMC.ocv_volts.celsius):
        model = pack(NMC, socs.size, initial_soc=socs, initial_celsius=celsius)
        np.testing.assert_allclose(model.cell_volts, NMC.ocv_volts.values[j, 5:105:10],
                                   atol=1e-9)


# ---- hysteresis --------------------------------------------------------------------------

def test_hysteresis_moves_one_minus_one_over_e_per_one_over_gamma_of_soc() -> None:
    m, gamma = 0.02, 25.0
    model = pack(cell(rc=0, hysteresis=Hysteresis(m, gamma)))
    model.step(3600.0 / gamma, 1.0)  # 1 A on 1 Ah for 1/gamma of the capacity
    assert model.hysteresis_volts[0] == pytest.approx(-m * (1.0 - math.exp(-1.0)), rel=1e-12)
    model.step(100_000.0, -0.1)  # long charge: settles at +M
    assert model.hysteresis_volts[0] == pytest.approx(m, rel=1e-9)


def test_hysteresis_holds_at_rest_and_lifts_the_voltage_after_charge() -> None:
    model = pack(LFP, 2, initial_soc=0.5)
    model.step(1800.0, -100.0)  # 50 % of the capacity: fully on the charge branch
    model.step(0.0, 0.0)
    held = model.hysteresis_volts
    np.testing.assert_allclose(held, LFP.hysteresis.max_volts, rtol=1e-6)
    model.step(3600.0, 0.0)
    np.testing.assert_allclose(model.hysteresis_volts, held)
    assert np.all(model.cell_volts - model.ocv_volts > 0.0)


# ---- balancing -------------------------------------------------------------------------

def test_balancing_bleeds_only_the_chosen_cell() -> None:
    model = pack(NMC, 4)
    bal = np.array([0.0, 0.0, 2.0, 0.0])
    model.step(0.0, 10.0, bal)
    r0 = float(NMC.r0_ohms(0.5, 25.0))
    volts = model.cell_volts
    assert volts[1] - volts[2] == pytest.approx(2.0 * r0, rel=1e-9)
    model.step(3600.0, 10.0, bal)
    drop = 0.5 - model.soc
    np.testing.assert_allclose(drop[[0, 1, 3]], 10.0 / 100.0, rtol=1e-12)
    assert drop[2] == pytest.approx(12.0 / 100.0, rel=1e-12)
    assert model.temperatures[2] > model.temperatures[0]


# ---- spread ------------------------------------------------------------------------------

def test_spread_is_reproducible_by_seed() -> None:
    a = PackModel(NMC, 96, seed=7)
    b = PackModel(NMC, 96, seed=7)
    c = PackModel(NMC, 96, seed=8)
    np.testing.assert_array_equal(a.capacities_ah, b.capacities_ah)
    np.testing.assert_array_equal(a.soc, b.soc)
    np.testing.assert_array_equal(a.r0_ohms, b.r0_ohms)
    assert not np.array_equal(a.capacities_ah, c.capacities_ah)


def test_spread_has_the_documented_sigmas() -> None:
    spread = Spread(capacity_sigma=0.02, r0_sigma=0.05, soc_sigma=0.01)
    model = PackModel(NMC, 400, seed=1, spread=spread, initial_soc=0.5)
    r0 = float(NMC.r0_ohms(0.5, 25.0))
    assert np.std(model.capacities_ah / 100.0) == pytest.approx(0.02, rel=0.15)
    assert np.std(model.r0_ohms / r0) == pytest.approx(0.05, rel=0.15)
    assert np.std(model.soc) == pytest.approx(0.01, rel=0.15)
    assert np.max(np.abs(model.capacities_ah / 100.0 - 1.0)) <= 3 * 0.02 + 1e-12


def test_default_spread_and_no_spread() -> None:
    assert PackModel(NMC, 4).spread == Spread()
    same = PackModel(NMC, 4, spread=NO_SPREAD)
    assert np.ptp(same.cell_volts) == 0.0


# ---- reset, sizes, errors -----------------------------------------------------------------

def test_reset_returns_to_rest_and_keeps_the_cells() -> None:
    model = PackModel(LFP, 16, seed=2, initial_soc=0.6)
    start_volts, capacities = model.cell_volts, model.capacities_ah
    for _ in range(100):
        model.step(1.0, 150.0)
    model.reset(initial_soc=0.6)
    np.testing.assert_allclose(model.cell_volts, start_volts)
    np.testing.assert_array_equal(model.capacities_ah, capacities)
    assert model.elapsed_seconds == 0.0 and model.current_amps == 0.0
    exact = np.linspace(0.2, 0.8, 16)
    model.reset(initial_soc=exact, celsius=5.0, ambient_celsius=0.0)
    np.testing.assert_array_equal(model.soc, exact)
    np.testing.assert_array_equal(model.temperatures, 5.0)
    assert model.ambient_celsius == 0.0


def test_four_hundred_cells_in_one_vector() -> None:
    model = PackModel(NMC, 400, 2, seed=0)
    model.step(0.01, 200.0, np.full(400, 0.05))
    for prop in (model.cell_volts, model.temperatures, model.soc, model.ocv_volts):
        assert prop.shape == (400,)
    assert model.rc_volts.shape == (1, 400)
    assert 400 * 3.6 < model.pack_volts < 400 * 3.8


def test_outputs_are_copies() -> None:
    model = pack(NMC, 2)
    model.cell_volts[0] = 0.0
    model.soc[0] = 0.0
    assert model.cell_volts[0] > 3.0 and model.soc[0] == 0.5


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: m.step(-0.1, 1.0), "dt must be >= 0"),
    (lambda m: m.step(float("nan"), 1.0), "dt must be >= 0"),
    (lambda m: m.step(0.1, 1.0, np.zeros(3)), "balancing_amps: expected 4 values"),
    (lambda m: m.reset(initial_soc=np.zeros(2)), "initial_soc: expected 4 values"),
])
def test_bad_arguments_are_refused(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(pack(NMC, 4))


def test_needs_at_least_one_cell() -> None:
    with pytest.raises(ValueError, match="at least one cell"):
        PackModel(NMC, 0)


def test_voltage_response_predicts_the_next_step() -> None:
    model = pack(LFP, 3, initial_soc=0.4)
    model.step(20.0, 50.0)
    e, z = model.voltage_response(1.0)
    model.step(1.0, -120.0)
    np.testing.assert_allclose(model.cell_volts, e + 120.0 * z, atol=2e-4)
