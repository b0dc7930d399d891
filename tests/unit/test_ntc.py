"""Unit tests for hil.ntc: Beta and Steinhart-Hart thermistor models."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.ntc import BetaNtc, SteinhartHartNtc

FAST = settings(max_examples=100, deadline=None, database=None)

B3435 = BetaNtc(10_000.0, 3435.0)
B3950 = BetaNtc(10_000.0, 3950.0)
#: The widely used generic 10 kOhm Steinhart-Hart set (../shared/hardware-reference.md 6.3).
SH_GENERIC = SteinhartHartNtc(1.009249522e-3, 2.378405444e-4, 2.019202697e-7)


# Computed table in ../shared/hardware-reference.md section 6.3 (Beta model, R25 = 10 kOhm),
# values as printed there (3 significant digits).
@pytest.mark.parametrize(("celsius", "kohm_b3435", "kohm_b3950"), [
    (-40, 248.3, 401.9),
    (-20, 77.5, 105.4),
    (0, 28.7, 33.6),
    (10, 18.4, 20.2),
    (25, 10.0, 10.0),
    (45, 4.85, 4.35),
    (60, 2.98, 2.49),
    (80, 1.66, 1.27),
])
def test_beta_matches_reference_table(celsius: float, kohm_b3435: float,
                                      kohm_b3950: float) -> None:
    assert B3435.ohms(celsius) / 1000 == pytest.approx(kohm_b3435, rel=2e-3)
    assert B3950.ohms(celsius) / 1000 == pytest.approx(kohm_b3950, rel=2e-3)


def test_beta_r25_is_exact() -> None:
    assert B3435.ohms(25.0) == pytest.approx(10_000.0, rel=1e-12)
    assert B3435.celsius(10_000.0) == pytest.approx(25.0, abs=1e-9)


def test_beta_is_a_negative_temperature_coefficient() -> None:
    values = [B3435.ohms(t) for t in range(-40, 125, 5)]
    assert all(a > b for a, b in itertools.pairwise(values))


@pytest.mark.parametrize("ohms", [0.0, -5.0])
def test_non_positive_resistance_reads_infinitely_hot(ohms: float) -> None:
    assert B3435.celsius(ohms) == math.inf
    assert SH_GENERIC.celsius(ohms) == math.inf


@FAST
@given(celsius=st.floats(-55.0, 150.0), beta=st.floats(2500.0, 5000.0),
       r25=st.floats(1_000.0, 100_000.0))
def test_beta_round_trip(celsius: float, beta: float, r25: float) -> None:
    ntc = BetaNtc(r25, beta)
    assert ntc.celsius(ntc.ohms(celsius)) == pytest.approx(celsius, abs=1e-9)


@FAST
@given(st.floats(-55.0, 150.0))
def test_steinhart_hart_round_trip(celsius: float) -> None:
    assert SH_GENERIC.celsius(SH_GENERIC.ohms(celsius)) == pytest.approx(celsius, abs=1e-8)


@FAST
@given(st.floats(50.0, 1_000_000.0))
def test_steinhart_hart_round_trip_from_ohms(ohms: float) -> None:
    assert SH_GENERIC.ohms(SH_GENERIC.celsius(ohms)) == pytest.approx(ohms, rel=1e-8)


def test_steinhart_hart_generic_set_is_about_10k_at_25() -> None:
    assert SH_GENERIC.ohms(25.0) == pytest.approx(10_000.0, rel=0.02)


def test_steinhart_hart_with_c_zero_is_the_beta_model() -> None:
    sh = SteinhartHartNtc(1 / 298.15 - math.log(10_000.0) / 3435.0, 1 / 3435.0, 0.0)
    for celsius in (-20.0, 0.0, 25.0, 60.0, 100.0):
        assert sh.ohms(celsius) == pytest.approx(B3435.ohms(celsius), rel=1e-9)
        assert sh.celsius(B3435.ohms(celsius)) == pytest.approx(celsius, abs=1e-9)


def test_fit_reproduces_its_three_points() -> None:
    points = [(-20.0, 77_500.0), (25.0, 10_000.0), (70.0, 2_000.0)]
    sh = SteinhartHartNtc.fit(points)
    assert sh.c > 0
    for celsius, ohms in points:
        assert sh.ohms(celsius) == pytest.approx(ohms, rel=1e-9)
        assert sh.celsius(ohms) == pytest.approx(celsius, abs=1e-9)


def test_fit_to_a_beta_curve_gives_c_about_zero_and_matches_it() -> None:
    sh = SteinhartHartNtc.fit([(t, B3435.ohms(t)) for t in (-20.0, 25.0, 70.0)])
    assert abs(sh.c) < 1e-15
    assert sh.b == pytest.approx(1 / 3435.0, rel=1e-6)
    for celsius in (-30.0, 0.0, 45.0, 90.0):
        assert sh.celsius(B3435.ohms(celsius)) == pytest.approx(celsius, abs=1e-6)
        assert sh.ohms(celsius) == pytest.approx(B3435.ohms(celsius), rel=1e-6)


@FAST
@given(st.tuples(st.floats(-40.0, 0.0), st.floats(10.0, 40.0), st.floats(50.0, 120.0)))
def test_fit_through_points_of_the_generic_curve_recovers_it(temps: tuple) -> None:
    sh = SteinhartHartNtc.fit([(t, SH_GENERIC.ohms(t)) for t in temps])
    assert sh.a == pytest.approx(SH_GENERIC.a, rel=1e-5)
    assert sh.b == pytest.approx(SH_GENERIC.b, rel=1e-5)
    assert sh.c == pytest.approx(SH_GENERIC.c, rel=1e-3)


@pytest.mark.parametrize("count", [0, 2, 4])
def test_fit_needs_three_points(count: int) -> None:
    points = [(float(t), B3435.ohms(t)) for t in range(count)]
    with pytest.raises(ValueError, match="exactly three"):
        SteinhartHartNtc.fit(points)


def test_fit_with_negative_c_still_gives_resistance() -> None:
    points = [(0.0, 28_700.0), (25.0, 10_000.0), (45.0, 4_850.0)]  # hardware-reference 6.3
    sh = SteinhartHartNtc.fit(points)
    assert sh.c < 0
    for celsius, ohms in points:
        assert sh.ohms(celsius) == pytest.approx(ohms, rel=1e-6)
