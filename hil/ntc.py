"""NTC thermistor models: resistance at a temperature and back.

The emulator turns a requested temperature into a resistance for the digital rheostat; a BMS
turns the resistance it measures back into a temperature. Both directions for the Beta model
and for Steinhart-Hart (facts: ../shared/hardware-reference.md section 6.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

KELVIN = 273.15
T25 = 298.15


class NtcModel(Protocol):
    def ohms(self, celsius: float) -> float: ...

    def celsius(self, ohms: float) -> float: ...


@dataclass(frozen=True)
class BetaNtc:
    """R(T) = R25 * exp(B * (1/T - 1/298.15))."""

    r25_ohms: float
    beta: float

    def ohms(self, celsius: float) -> float:
        return self.r25_ohms * math.exp(self.beta * (1.0 / (celsius + KELVIN) - 1.0 / T25))

    def celsius(self, ohms: float) -> float:
        if ohms <= 0:
            return math.inf
        return 1.0 / (1.0 / T25 + math.log(ohms / self.r25_ohms) / self.beta) - KELVIN


@dataclass(frozen=True)
class SteinhartHartNtc:
    """1/T = A + B ln R + C (ln R)^3, with the closed-form inverse for R(T)."""

    a: float
    b: float
    c: float

    def celsius(self, ohms: float) -> float:
        if ohms <= 0:
            return math.inf
        ln_r = math.log(ohms)
        return 1.0 / (self.a + self.b * ln_r + self.c * ln_r**3) - KELVIN

    def ohms(self, celsius: float) -> float:
        t = celsius + KELVIN
        if self.c == 0:
            return math.exp((1.0 / t - self.a) / self.b)
        x = (self.a - 1.0 / t) / self.c
        radicand = (self.b / (3.0 * self.c)) ** 3 + (x / 2.0) ** 2
        if radicand >= 0:  # the closed form (one real root)
            y = math.sqrt(radicand)
            return math.exp(math.cbrt(y - x / 2.0) - math.cbrt(y + x / 2.0))
        # A fit with C < 0 can have three real roots: Newton from the Beta-like guess finds
        # the physical one near ln R = (1/T - A) / B.
        ln_r = (1.0 / t - self.a) / self.b
        for _ in range(50):
            f = self.a + self.b * ln_r + self.c * ln_r**3 - 1.0 / t
            step = f / (self.b + 3.0 * self.c * ln_r**2)
            ln_r -= step
            if abs(step) < 1e-12:
                break
        return math.exp(ln_r)

    @classmethod
    def fit(cls, points: list[tuple[float, float]]) -> SteinhartHartNtc:
        """Fit A, B, C through three (celsius, ohms) points of a manufacturer's R-T table."""
        if len(points) != 3:
            raise ValueError("Steinhart-Hart needs exactly three (celsius, ohms) points")
        (t1, r1), (t2, r2), (t3, r3) = points
        l1, l2, l3 = math.log(r1), math.log(r2), math.log(r3)
        y1, y2, y3 = 1 / (t1 + KELVIN), 1 / (t2 + KELVIN), 1 / (t3 + KELVIN)
        g2 = (y2 - y1) / (l2 - l1)
        g3 = (y3 - y1) / (l3 - l1)
        c = (g3 - g2) / (l3 - l2) / (l1 + l2 + l3)
        b = g2 - c * (l1 * l1 + l1 * l2 + l2 * l2)
        a = y1 - (b + l1 * l1 * c) * l1
        return cls(a, b, c)
