"""Unit tests for hil.plant.params: tables, the shipped parameter sets and their provenance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.errors import ConfigError, HilError
from hil.plant.params import (
    BUILTIN_FILES,
    DATA_DIR,
    CellParams,
    Table,
    TableStack,
    builtin_cell_params,
    load_cell_params,
)

FAST = settings(max_examples=60, deadline=None, database=None)
NMC = builtin_cell_params("nmc_pybamm_ecm")
LFP = builtin_cell_params("lfp_representative")


def stacked(p: CellParams) -> list[Table]:
    return [p.ocv_volts, p.r0_ohms, *(r.ohms for r in p.rc), *(r.seconds for r in p.rc)]


# ---- tables --------------------------------------------------------------------------------

def test_table_is_exact_at_its_points() -> None:
    table = NMC.ocv_volts
    for j, celsius in enumerate(table.celsius):
        got = table(table.soc, celsius)
        np.testing.assert_allclose(got, table.values[j], rtol=0, atol=1e-12)


def test_table_is_bilinear_between_points() -> None:
    t = Table(np.array([0.0, 1.0]), np.array([0.0, 10.0]), np.array([[1.0, 2.0], [3.0, 5.0]]))
    assert float(t(0.5, 0.0)) == pytest.approx(1.5)
    assert float(t(0.0, 5.0)) == pytest.approx(2.0)
    assert float(t(0.5, 5.0)) == pytest.approx((1 + 2 + 3 + 5) / 4)
    assert float(t(0.25, 2.0)) == pytest.approx(1 + 0.25 + 0.2 * 2 + 0.25 * 0.2 * 1)


def test_table_holds_its_edge_values_beyond_the_grid() -> None:
    t = Table(np.array([0.0, 1.0]), np.array([0.0, 10.0]), np.array([[1.0, 2.0], [3.0, 5.0]]))
    assert float(t(-1.0, -40.0)) == 1.0
    assert float(t(2.0, 99.0)) == 5.0


def test_one_row_table_does_not_depend_on_temperature() -> None:
    t = Table.curve([0.0, 1.0], [3.0, 4.0])
    assert float(t(0.3, -30.0)) == float(t(0.3, 60.0)) == pytest.approx(3.3)
    assert float(Table.constant(0.02)(0.9, 5.0)) == 0.02


@pytest.mark.parametrize(("soc", "celsius", "values", "match"), [
    ([0.0, 1.0], [25.0], [[1.0]], "expected 1 rows"),
    ([0.0, 0.0], [25.0], [[1.0, 2.0]], "increase strictly"),
    ([0.0, 1.0], [25.0], [[1.0, np.nan]], "finite"),
])
def test_table_rejects_bad_shapes(soc: list[float], celsius: list[float],
                                  values: list[list[float]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Table(np.array(soc), np.array(celsius), np.array(values))


@FAST
@given(soc=st.lists(st.floats(-0.2, 1.2), min_size=1, max_size=50),
       celsius=st.floats(-40.0, 70.0))
@pytest.mark.parametrize("params", [NMC, LFP], ids=["nmc", "lfp"])
def test_stack_equals_each_table(params: CellParams, soc: list[float], celsius: float) -> None:
    tables = stacked(params)
    s = np.array(soc)
    t = np.full(s.size, celsius)
    got = TableStack(tables)(s, t)
    for k, table in enumerate(tables):
        np.testing.assert_allclose(got[k], table(s, t), rtol=1e-9, atol=0)


def test_stack_on_a_grid_without_even_refinement_uses_search() -> None:
    odd = Table.curve([0.0, 1 / 3, 0.5, 2**-0.5, 1.0], [3.0, 3.4, 3.6, 3.7, 4.1])
    stack = TableStack([odd, Table.constant(0.001)])
    s = np.linspace(-0.1, 1.1, 37)
    got = stack(s, np.full(s.size, 25.0))
    np.testing.assert_allclose(got[0], odd(s), rtol=1e-12)
    np.testing.assert_allclose(got[1], 0.001)


# ---- shipped sets ------------------------------------------------------------------------

def test_builtin_sets_load() -> None:
    assert set(BUILTIN_FILES) == {"nmc_pybamm_ecm", "lfp_representative"}
    assert (NMC.chemistry, NMC.capacity_ah, len(NMC.rc)) == ("NMC", 100.0, 1)
    assert (LFP.chemistry, LFP.capacity_ah, len(LFP.rc)) == ("LFP", 100.0, 2)
    assert NMC.hysteresis.max_volts == 0.0 and LFP.hysteresis.active
    assert NMC.ocv_volts.celsius.size > 1  # NMC OCV depends on temperature, LFP's does not
    assert LFP.ocv_volts.celsius.size == 1


def test_unknown_set_suggests_the_close_name() -> None:
    with pytest.raises(HilError, match="did you mean 'lfp_representative'"):
        builtin_cell_params("lfp_representativ")


def test_nmc_values_at_the_reference_point() -> None:
    # PyBaMM's example: DCIR 1 mOhm at 25 degC, 50 % SoC; R0 40 % and R1 60 % of it; tau 30 s.
    assert float(NMC.r0_ohms(0.5, 25.0)) == pytest.approx(0.4e-3, rel=0.02)
    assert float(NMC.rc[0].ohms(0.5, 25.0)) == pytest.approx(0.6e-3, rel=0.02)
    assert float(NMC.rc[0].seconds(0.5, 25.0)) == pytest.approx(30.0, rel=1e-3)
    assert float(NMC.ocv_volts(1.0, 25.0)) == pytest.approx(4.187)


def test_lfp_has_a_flat_plateau_and_says_it_is_representative() -> None:
    plateau = LFP.ocv_volts(np.linspace(0.1, 0.9, 81))
    assert plateau.min() >= 3.2 and plateau.max() <= 3.35
    text = BUILTIN_FILES["lfp_representative"].read_text(encoding="utf-8")
    assert "REPRESENTATIVE" in text and "NOT MEASURED" in text
    assert "not measured" in LFP.source


def test_scaled_cell_keeps_time_constants() -> None:
    big = NMC.with_capacity(250.0)
    assert big.capacity_ah == 250.0
    assert float(big.r0_ohms(0.3, 10.0)) == pytest.approx(float(NMC.r0_ohms(0.3, 10.0)) / 2.5)
    assert float(big.rc[0].seconds(0.3, 10.0)) == pytest.approx(
        float(NMC.rc[0].seconds(0.3, 10.0)))
    assert big.thermal.heat_capacity_j_per_k == pytest.approx(2500.0)
    assert float(big.ocv_volts(0.3, 10.0)) == float(NMC.ocv_volts(0.3, 10.0))


@FAST
@given(soc=st.floats(0.0, 1.0))
def test_soc_for_ocv_inverts_the_ocv(soc: float) -> None:
    volts = float(NMC.ocv_volts(soc, 10.0))
    assert float(NMC.soc_for_ocv(volts, 10.0)) == pytest.approx(soc, abs=1e-9)


def test_nominal_volts() -> None:
    assert NMC.nominal_volts == pytest.approx(3.74, abs=0.01)
    assert LFP.nominal_volts == pytest.approx(3.28, abs=0.01)


# ---- files: errors -------------------------------------------------------------------------

GOOD = """\
name: test
chemistry: NMC
capacity_ah: 2.0
min_volts: 3.0
max_volts: 4.2
thermal: {heat_capacity_j_per_k: 40.0, cooling_w_per_k: 0.1}
ocv_volts:
  soc: [0.0, 1.0]
  values:
    - [3.0, 4.2]
r0_ohms: 0.02
rc:
  - {ohms: 0.01, seconds: 20.0}
"""


def test_minimal_file_with_scalars_loads(tmp_path: Path) -> None:
    path = tmp_path / "cell.yaml"
    path.write_text(GOOD, encoding="utf-8")
    p = load_cell_params(path)
    assert float(p.r0_ohms(0.1, 0.0)) == 0.02
    assert float(p.rc[0].seconds(0.5, 25.0)) == 20.0
    assert p.thermal.rc_heat and p.thermal.coupling_w_per_k == 0.0


@pytest.mark.parametrize(("old", "new", "line", "match"), [
    ("- [3.0, 4.2]", "- [4.2, 3.0]", 7, "ocv_volts: OCV must increase"),
    ("- [3.0, 4.2]", "- [3.0, 4.2, 4.3]", 7, "every row needs 2 values"),
    ("{ohms: 0.01, seconds: 20.0}", "{ohms: 0.01, seconds: 20.0, farads: 9.0}", 13,
     "exactly one of farads"),
    ("capacity_ah: 2.0", "capacity_ah: -2.0", 3, "capacity_ah: input should be greater"),
    ("max_volts: 4.2", "max_volt: 4.2", 5, "unknown field 'max_volt' .did you mean"),
    ("r0_ohms: 0.02", "r0_ohms: -0.02", 11, "r0_ohms: resistances must be >= 0"),
    ("r0_ohms: 0.02", "r0_ohms: .nan", 11, "r0_ohms"),
    ("capacity_ah: 2.0", "capacity_ah: .inf", 3, "capacity_ah: input should be a finite"),
    ("  - {ohms: 0.01, seconds: 20.0}", "  - {ohms: 0.01, seconds: 20.0}\n" * 3, 12,
     "rc: at most two RC pairs are supported, got 3"),
])
def test_file_mistakes_name_the_line(tmp_path: Path, old: str, new: str, line: int,
                                     match: str) -> None:
    path = tmp_path / "cell.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        load_cell_params(path)
    assert info.value.line == line


def test_cell_params_check_their_values() -> None:
    with pytest.raises(ValueError, match="at most two RC"):
        dataclasses.replace(LFP, rc=(*LFP.rc, LFP.rc[0]))
    with pytest.raises(ValueError, match="min_volts"):
        dataclasses.replace(LFP, min_volts=4.0)


# ---- provenance: the derived tables against PyBaMM's raw files ------------------------------

def _pybamm_3d(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    raw = np.loadtxt(path, delimiter=",", skiprows=1)
    temps, amps, socs = (np.unique(raw[:, k]) for k in range(3))
    return temps, amps, socs, raw[:, 3].reshape(temps.size, amps.size, socs.size)


@pytest.mark.parametrize(("name", "table"), [
    ("r0", lambda p: p.r0_ohms),
    ("r1", lambda p: p.rc[0].ohms),
])
def test_nmc_resistances_are_pybamm_at_100_amps(shared_data: Path, name: str, table) -> None:
    temps, amps, socs, values = _pybamm_3d(
        shared_data / "pybamm" / "parameters" / f"ecm_example_{name}.csv")
    ours = table(NMC)
    np.testing.assert_allclose(ours.celsius, temps)
    np.testing.assert_allclose(ours.soc, socs, atol=1e-9)
    at_100 = values[:, list(amps).index(100.0), :]
    np.testing.assert_allclose(ours.values, at_100, rtol=1e-5)
    np.testing.assert_array_equal(at_100, values[:, list(amps).index(-100.0), :])


def test_nmc_time_constant_is_pybamm_r1_times_c1(shared_data: Path) -> None:
    params = shared_data / "pybamm" / "parameters"
    _, amps, _, r1 = _pybamm_3d(params / "ecm_example_r1.csv")
    _, _, _, c1 = _pybamm_3d(params / "ecm_example_c1.csv")
    k = list(amps).index(100.0)
    np.testing.assert_allclose(NMC.rc[0].seconds.values, r1[:, k, :] * c1[:, k, :], rtol=2e-5)


def test_nmc_ocv_is_pybamm_ocv_plus_integrated_dudt(shared_data: Path) -> None:
    params = shared_data / "pybamm" / "parameters"
    ocv = np.loadtxt(params / "ecm_example_ocv.csv", delimiter=",", comments="#")
    dudt = np.loadtxt(params / "ecm_example_dudt.csv", delimiter=",", skiprows=1)
    volts, temps = np.unique(dudt[:, 0]), np.unique(dudt[:, 1])
    slope = Table(volts, temps, dudt[:, 2].reshape(volts.size, temps.size).T)
    table = NMC.ocv_volts
    np.testing.assert_allclose(table.soc, ocv[:, 0], atol=1e-9)
    for j, celsius in enumerate(table.celsius):
        path = np.linspace(25.0, celsius, 2001)  # fine trapezoid along T at each SOC's OCV
        rates = slope(ocv[:, 1][None, :], path[:, None])
        shift = np.sum(0.5 * (rates[1:] + rates[:-1]) * np.diff(path)[:, None], axis=0)
        np.testing.assert_allclose(table.values[j], ocv[:, 1] + shift, atol=2e-6)


def test_pybamm_license_sits_next_to_the_derived_data(shared_data: Path) -> None:
    ours = (DATA_DIR / "LICENSE-pybamm.txt").read_text(encoding="utf-8")
    assert ours == (shared_data / "pybamm" / "LICENSE.txt").read_text(encoding="utf-8")


def test_derived_file_carries_the_license_text() -> None:
    text = BUILTIN_FILES["nmc_pybamm_ecm"].read_text(encoding="utf-8")
    assert "Copyright (c) 2018-2023, the PyBaMM team." in text
    assert "Neither the name of the copyright holder" in text
    assert (DATA_DIR / "LICENSE-pybamm.txt").is_file()
