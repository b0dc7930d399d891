"""Unit tests for hil.units: conversion factors and dimension checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil import units

FAST = settings(max_examples=100, deadline=None, database=None)

known = st.sampled_from(units.KNOWN_UNITS)


@pytest.mark.parametrize(("src", "dst", "expected"), [
    ("mV", "V", 1e-3),
    ("V", "mV", 1e3),
    ("kV", "mV", 1e6),
    ("mA", "A", 1e-3),
    ("kA", "mA", 1e6),
    ("ms", "s", 1e-3),
    ("kW", "W", 1e3),
    ("kWh", "Wh", 1e3),
    ("Ah", "As", 3600.0),
    ("mAh", "As", 3.6),
    ("Ah", "mAh", 1000.0),
    ("kOhm", "Ohm", 1e3),
    ("degC", "°C", 1.0),
    ("C", "degC", 1.0),
    ("%", "%", 1.0),
])
def test_factors(src: str, dst: str, expected: float) -> None:
    assert units.factor(src, dst) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("src", "dst"), [(None, None), ("", None), (None, ""), ("V", "V")])
def test_same_or_no_unit_is_one(src: str | None, dst: str | None) -> None:
    assert units.factor(src, dst) == 1.0


@pytest.mark.parametrize(("src", "dst", "message"), [
    ("V", "A", "cannot convert 'V' to 'A'"),
    ("mV", "degC", "cannot convert 'mV' to 'degC'"),
    ("Ah", "Wh", "cannot convert 'Ah' to 'Wh'"),
    ("", "V", "cannot convert 'no unit' to 'V'"),
    ("V", None, "cannot convert 'V' to 'no unit'"),
    ("%", "V", "cannot convert '%' to 'V'"),
])
def test_incompatible_dimensions(src: str | None, dst: str | None, message: str) -> None:
    with pytest.raises(ValueError) as info:
        units.factor(src, dst)
    assert str(info.value) == message


def test_unknown_units() -> None:
    with pytest.raises(ValueError, match=r"^unknown unit 'volts'$"):
        units.factor("volts", "V")
    with pytest.raises(ValueError, match=r"unknown unit 'volts' \(known: V, mV, "):
        units.factor("V", "volts")


def test_is_known() -> None:
    assert units.is_known("mV")
    assert units.is_known("")
    assert not units.is_known("volts")
    assert "" not in units.KNOWN_UNITS


@FAST
@given(a=known, b=known)
def test_factor_is_inverse_symmetric_or_refused_both_ways(a: str, b: str) -> None:
    try:
        ab = units.factor(a, b)
    except ValueError:
        with pytest.raises(ValueError):
            units.factor(b, a)
        return
    assert ab > 0
    assert ab * units.factor(b, a) == pytest.approx(1.0, rel=1e-12)


@FAST
@given(a=known, b=known, c=known)
def test_factors_chain(a: str, b: str, c: str) -> None:
    try:
        ab, bc = units.factor(a, b), units.factor(b, c)
    except ValueError:
        return
    assert units.factor(a, c) == pytest.approx(ab * bc, rel=1e-12)
