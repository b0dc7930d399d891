"""Longitudinal vehicle model: a speed cycle becomes the power and current the pack delivers.

    F = m*a + m*g*(Crr*cos(theta) + sin(theta)) + 0.5*rho*CdA*v^2,   P_wheel = F*v
    motoring (P_wheel >= 0):  P_pack = P_wheel / efficiency + P_aux
    braking  (P_wheel < 0):   P_pack = max(P_wheel * regen_fraction * efficiency,
                                           -max_regen_watts) + P_aux
    I_pack = P_pack / V_pack                                          (> 0 discharges)

Rotating inertia, gear changes, motor efficiency maps and tyre slip are left out: the point is
a realistic current shape for a BMS, not range prediction. Grades are rise/run (FASTSim's
``cycGrade``): 0.05 is a 5 % climb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.errors import HilError
from hil.yamlfile import did_you_mean

GRAVITY = 9.81  # m/s^2
AIR_DENSITY = 1.2  # kg/m^3, dry air near 20 °C at sea level


@dataclass(frozen=True)
class Vehicle:
    """Road-load and drivetrain figures of one vehicle.

    `drivetrain_efficiency` is one-way, pack to wheel (inverter, motor, gearing).
    `regen_fraction` is the share of the braking power the electric drive takes (the rest goes
    to the friction brakes); `max_regen_watts` caps what reaches the pack.
    """

    name: str
    mass_kg: float
    drag_area_m2: float  # Cd * frontal area
    rolling_resistance: float  # Crr
    drivetrain_efficiency: float
    regen_fraction: float
    max_regen_watts: float
    aux_watts: float
    air_density: float = AIR_DENSITY

    def __post_init__(self) -> None:
        if self.mass_kg <= 0 or self.drag_area_m2 < 0 or self.rolling_resistance < 0:
            raise ValueError("mass must be > 0; drag area and rolling resistance >= 0")
        if not 0 < self.drivetrain_efficiency <= 1 or not 0 <= self.regen_fraction <= 1:
            raise ValueError("drivetrain_efficiency must be in (0, 1], regen_fraction in [0, 1]")
        if self.max_regen_watts < 0 or self.aux_watts < 0:
            raise ValueError("max_regen_watts and aux_watts must be >= 0")

    def tractive_force(self, speed_mps: float | np.ndarray, accel_mps2: float | np.ndarray,
                       grade: float | np.ndarray = 0.0) -> np.ndarray:
        """Force at the wheels, N (negative when the vehicle must brake)."""
        v = np.asarray(speed_mps, dtype=float)
        theta = np.arctan(np.asarray(grade, dtype=float))
        weight = self.mass_kg * GRAVITY
        return (self.mass_kg * np.asarray(accel_mps2, dtype=float)
                + weight * (self.rolling_resistance * np.cos(theta) + np.sin(theta))
                + 0.5 * self.air_density * self.drag_area_m2 * v * v)

    def wheel_watts(self, speed_mps: float | np.ndarray, accel_mps2: float | np.ndarray,
                    grade: float | np.ndarray = 0.0) -> np.ndarray:
        """Tractive power at the wheels, W (negative while braking)."""
        return self.tractive_force(speed_mps, accel_mps2, grade) * np.asarray(speed_mps, float)

    def pack_watts(self, speed_mps: float | np.ndarray, accel_mps2: float | np.ndarray,
                   grade: float | np.ndarray = 0.0) -> np.ndarray:
        """Power the pack delivers, W (> 0 discharges, < 0 is regeneration)."""
        wheel = self.wheel_watts(speed_mps, accel_mps2, grade)
        eta = self.drivetrain_efficiency
        regen = np.maximum(wheel * self.regen_fraction * eta, -self.max_regen_watts)
        return np.where(wheel >= 0.0, wheel / eta, regen) + self.aux_watts

    def pack_amps(self, speed_mps: float | np.ndarray, accel_mps2: float | np.ndarray,
                  grade: float | np.ndarray, pack_volts: float | np.ndarray) -> np.ndarray:
        """Pack current for the present pack voltage (the caller passes it), A."""
        volts = np.asarray(pack_volts, dtype=float)
        if np.any(volts <= 0):
            raise ValueError(f"pack voltage must be > 0 V, got {pack_volts}")
        return self.pack_watts(speed_mps, accel_mps2, grade) / volts


# Typical figures for each class, not any specific product: masses include a typical payload,
# CdA = drag coefficient times frontal area, efficiencies are pack-to-wheel (inverter ~0.96,
# motor ~0.92, gearing ~0.97 for the heavy vehicles), aux is the average auxiliary load
# (heating/cooling, compressors, 12/24 V loads) over a cycle.
VEHICLES: dict[str, Vehicle] = {v.name: v for v in (
    # 12 m city bus: ~13 t empty plus ~5 t of passengers; Cd ~0.65 on ~8 m^2; bus tyres;
    # HVAC, air compressor and steering pump average ~10 kW.
    Vehicle("city_bus", mass_kg=18_000.0, drag_area_m2=5.2, rolling_resistance=0.008,
            drivetrain_efficiency=0.86, regen_fraction=0.7, max_regen_watts=200_000.0,
            aux_watts=10_000.0),
    # 40 t tractor-semitrailer: Cd ~0.6 on ~10 m^2; low-rolling-resistance truck tyres.
    Vehicle("truck", mass_kg=40_000.0, drag_area_m2=6.0, rolling_resistance=0.006,
            drivetrain_efficiency=0.88, regen_fraction=0.6, max_regen_watts=350_000.0,
            aux_watts=4_000.0),
    # Electric motorcycle/scooter with rider: ~100 kg vehicle + 75 kg rider; upright rider
    # CdA ~0.6 m^2; small tyres; hub motor and controller; lights and display.
    Vehicle("two_wheeler", mass_kg=175.0, drag_area_m2=0.6, rolling_resistance=0.012,
            drivetrain_efficiency=0.80, regen_fraction=0.3, max_regen_watts=1_500.0,
            aux_watts=50.0),
    # Mid-size electric car with driver: Cd ~0.25 on ~2.3 m^2.
    Vehicle("car", mass_kg=1_900.0, drag_area_m2=0.58, rolling_resistance=0.009,
            drivetrain_efficiency=0.88, regen_fraction=0.7, max_regen_watts=70_000.0,
            aux_watts=400.0),
)}


def vehicle(name: str) -> Vehicle:
    """A preset from `VEHICLES` by name."""
    try:
        return VEHICLES[name]
    except KeyError:
        raise HilError(f"unknown vehicle {name!r}{did_you_mean(name, VEHICLES)}; known: "
                       f"{', '.join(VEHICLES)}") from None
