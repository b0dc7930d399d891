"""Unit tests for hil.conditions: self-describing conditions on a target's value."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.conditions import Condition, condition
from hil.profile import Profile, Target

FAST = settings(max_examples=100, deadline=None, database=None)

DBC_DIR = Path(__file__).resolve().parents[2] / "dbc"


@functools.cache
def _profile() -> Profile:
    return Profile.load(DBC_DIR / "bms.profile.yaml")


@pytest.fixture
def profile() -> Profile:
    return _profile()


@pytest.fixture(scope="module")
def mv_target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    path = tmp_path_factory.mktemp("profile") / "dut.yaml"
    path.write_text(
        "name: mv\n"
        f"dbc: [{DBC_DIR / 'bms.dbc'}]\n"
        "roles:\n"
        "  max_mv: {signal: BMS_CellSummary.MaxCellVoltage, unit: mV}\n"
        "inputs:\n"
        "  state_request: {message: VCU_Request, signal: VCU_StateRequest}\n",
        encoding="utf-8")
    return Profile.load(path).resolve("max_mv")


def test_equality_with_half_lsb_tolerance(profile: Profile) -> None:
    cond = condition(profile.resolve("max_cell_voltage"), 4.25)  # 0.001 V per bit
    assert (cond.op, cond.value) == ("==", 4.25)
    assert cond(4.25)
    assert cond(4.2504) and cond(4.2496)
    assert not cond(4.2506) and not cond(4.2494)


def test_inequality_is_the_negation(profile: Profile) -> None:
    cond = condition(profile.resolve("max_cell_voltage"), ("!=", 4.25))
    assert not cond(4.2504)
    assert cond(4.2506)


@FAST
@given(st.floats(-10.0, 10.0), st.floats(-10.0, 10.0))
def test_tolerance_is_half_the_resolution(expected: float, value: float) -> None:
    target = _profile().resolve("soc")  # 0.01 % per bit
    cond = Condition("==", expected, target, str(expected))
    if abs(value - expected) < 0.005 - 1e-9:
        assert cond(value)
    if abs(value - expected) > 0.005 + 1e-9:
        assert not cond(value)


@pytest.mark.parametrize(("spec", "op", "value", "text"), [
    (">= 4.2", ">=", 4.2, ">= 4.2 V"),
    ("<=4.2", "<=", 4.2, "<= 4.2 V"),
    ("> 3", ">", 3.0, "> 3 V"),
    ("< -1.5", "<", -1.5, "< -1.5 V"),
    ("!= 4", "!=", 4.0, "!= 4 V"),
    ("== 4.25", "==", 4.25, "= 4.25 V"),
    ((">", 4.0), ">", 4.0, "> 4 V"),
    (4.25, "==", 4.25, "= 4.25 V"),
])
def test_numeric_specs(profile: Profile, spec, op: str, value: float, text: str) -> None:
    cond = condition(profile.resolve("max_cell_voltage"), spec)
    assert (cond.op, cond.value) == (op, pytest.approx(value))
    assert str(cond) == text


@pytest.mark.parametrize(("spec", "value", "inside", "outside"), [
    (">= 4.2", 4.2, 4.2, 4.19),
    ("> 4.2", 4.2, 4.21, 4.2),
    ("<= 4.2", 4.2, 4.2, 4.21),
    ("< 4.2", 4.2, 4.19, 4.2),
])
def test_comparisons_are_exact(profile: Profile, spec: str, value: float, inside: float,
                               outside: float) -> None:
    cond = condition(profile.resolve("max_cell_voltage"), spec)
    assert cond(inside)
    assert not cond(outside)


def test_enum_labels(profile: Profile) -> None:
    state = profile.resolve("state")
    fault = condition(state, "FAULT")
    assert (fault.op, fault.value, fault.written) == ("==", 5.0, "FAULT")
    assert str(fault) == "= FAULT"
    assert fault(5.0) and not fault(4.0)
    assert str(condition(state, "!= FAULT")) == "!= FAULT"
    assert str(condition(state, "== DRIVE")) == "= DRIVE"
    assert condition(state, ("<", "FAULT"))(3.0)
    # a number that has a label is described by the label
    assert str(condition(state, 5)) == "= FAULT"
    assert str(condition(state, "< 3")) == "< DRIVE"


def test_unknown_label(profile: Profile) -> None:
    with pytest.raises(KeyError, match="did you mean 'FAULT'"):
        condition(profile.resolve("state"), "FAUL")
    with pytest.raises(KeyError, match="is numeric"):
        condition(profile.resolve("soc"), ">= full")


def test_units_in_str(profile: Profile) -> None:
    assert str(condition(profile.resolve("soc"), 50)) == "= 50 %"
    assert str(condition(profile.resolve("soc"), (">", 50))) == "> 50 %"


def test_unknown_operator(profile: Profile) -> None:
    with pytest.raises(ValueError, match="unknown comparison '=~'"):
        Condition("=~", 1.0, profile.resolve("soc"), "1")
    with pytest.raises(ValueError, match="unknown comparison"):
        condition(profile.resolve("soc"), ("=>", 1.0))


def test_condition_passes_through(profile: Profile) -> None:
    cond = condition(profile.resolve("soc"), 50)
    assert condition(profile.resolve("soc"), cond) is cond


def test_raw_predicate_converts_dbc_values(mv_target: Target) -> None:
    cond = condition(mv_target, 4250)  # mV, 1 mV per bit
    assert str(cond) == "= 4250 mV"
    raw = cond.raw_predicate()
    assert raw(4.25)  # the store holds volts (the DBC unit)
    assert raw(4.2504)
    assert not raw(4.2506)
    assert not cond(4.25)  # the condition itself is in mV
    assert condition(mv_target, "> 4200").raw_predicate()(4.3)
