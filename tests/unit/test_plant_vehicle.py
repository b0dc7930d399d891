"""Unit tests for hil.plant.vehicle: road load, drivetrain and regeneration by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.errors import HilError
from hil.plant.vehicle import GRAVITY, VEHICLES, Vehicle, vehicle

FAST = settings(max_examples=80, deadline=None, database=None)

# 1000 kg, CdA 0.5 m^2, Crr 0.01, 90 % drivetrain, half the braking power regenerated
# (at most 2 kW), 100 W auxiliaries.
CAR = Vehicle("hand", mass_kg=1000.0, drag_area_m2=0.5, rolling_resistance=0.01,
              drivetrain_efficiency=0.9, regen_fraction=0.5, max_regen_watts=2000.0,
              aux_watts=100.0)


def test_constant_speed_on_a_flat_road() -> None:
    # rolling 1000*9.81*0.01 = 98.1 N; aero 0.5*1.2*0.5*10^2 = 30 N; at 10 m/s: 1281 W
    assert float(CAR.tractive_force(10.0, 0.0)) == pytest.approx(98.1 + 30.0)
    assert float(CAR.wheel_watts(10.0, 0.0)) == pytest.approx(1281.0)
    assert float(CAR.pack_watts(10.0, 0.0)) == pytest.approx(1281.0 / 0.9 + 100.0)
    assert float(CAR.pack_amps(10.0, 0.0, 0.0, 400.0)) == pytest.approx(
        (1281.0 / 0.9 + 100.0) / 400.0)


def test_acceleration_and_grade() -> None:
    theta = math.atan(0.05)
    expected = (1000.0 * 0.5 + 1000.0 * GRAVITY * (0.01 * math.cos(theta) + math.sin(theta))
                + 30.0)
    assert float(CAR.tractive_force(10.0, 0.5, 0.05)) == pytest.approx(expected)


def test_braking_regenerates_a_fraction_through_the_drivetrain() -> None:
    # 10 m/s, -0.3 m/s^2: F = -300 + 128.1 N, wheel -1719 W, pack -1719*0.5*0.9 + 100
    wheel = (-300.0 + 128.1) * 10.0
    assert float(CAR.wheel_watts(10.0, -0.3)) == pytest.approx(wheel)
    assert float(CAR.pack_watts(10.0, -0.3)) == pytest.approx(wheel * 0.5 * 0.9 + 100.0)
    assert float(CAR.pack_amps(10.0, -0.3, 0.0, 400.0)) < 0.0


def test_regeneration_is_capped() -> None:
    assert float(CAR.pack_watts(20.0, -3.0)) == pytest.approx(-2000.0 + 100.0)


def test_standing_still_draws_only_the_auxiliaries() -> None:
    assert float(CAR.pack_watts(0.0, 0.0, 0.1)) == pytest.approx(100.0)


@FAST
@given(speed=st.floats(0.0, 40.0), accel=st.floats(-4.0, 4.0), grade=st.floats(-0.1, 0.1))
def test_pack_power_sign_follows_wheel_power(speed: float, accel: float, grade: float) -> None:
    wheel = float(CAR.wheel_watts(speed, accel, grade))
    pack = float(CAR.pack_watts(speed, accel, grade)) - CAR.aux_watts
    if abs(wheel) > 1e-6:  # (aux added and taken away again rounds tiny powers to 0)
        assert (pack > 0) == (wheel > 0)
    assert abs(pack) <= abs(wheel) / CAR.drivetrain_efficiency + 1e-9
    assert pack >= -CAR.max_regen_watts - 1e-9


def test_vectorised_over_a_cycle() -> None:
    speed = np.array([0.0, 5.0, 10.0, 10.0])
    accel = np.array([1.0, 1.0, 0.0, -1.0])
    out = CAR.pack_amps(speed, accel, 0.0, np.full(4, 350.0))
    assert out.shape == (4,)
    assert out[0] == pytest.approx(100.0 / 350.0)


def test_presets_are_plausible() -> None:
    assert set(VEHICLES) == {"city_bus", "truck", "two_wheeler", "car"}
    # Cruise power at a typical speed for each class, kW at the pack.
    cruise = {"car": (27.8, 10, 20), "city_bus": (13.9, 20, 60), "truck": (22.2, 80, 160),
              "two_wheeler": (13.9, 0.5, 2.0)}
    for name, (mps, low, high) in cruise.items():
        kw = float(vehicle(name).pack_watts(mps, 0.0)) / 1000.0
        assert low < kw < high, f"{name}: {kw:.1f} kW at {mps} m/s"


def test_unknown_vehicle_suggests_a_name() -> None:
    with pytest.raises(HilError, match="did you mean 'city_bus'"):
        vehicle("city-bus")


@pytest.mark.parametrize("change", [{"mass_kg": 0.0}, {"drivetrain_efficiency": 1.2},
                                    {"regen_fraction": -0.1}, {"aux_watts": -1.0}])
def test_bad_figures_are_refused(change: dict[str, float]) -> None:
    figures = {"name": "x", "mass_kg": 1.0, "drag_area_m2": 0.1, "rolling_resistance": 0.01,
               "drivetrain_efficiency": 0.9, "regen_fraction": 0.5, "max_regen_watts": 1.0,
               "aux_watts": 0.0}
    with pytest.raises(ValueError):
        Vehicle(**{**figures, **change})


def test_pack_voltage_must_be_positive() -> None:
    with pytest.raises(ValueError, match="pack voltage"):
        CAR.pack_amps(10.0, 0.0, 0.0, 0.0)
