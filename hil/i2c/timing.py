"""Wire time of I2C transactions (lower bounds from the I2C specification, UM10204).

A transaction of N bytes (address bytes included) costs 9 clocks per byte, about two bit
times for START and STOP, and the bus-free time before the next START:
``t = 9 * N * t_bit + 2 * t_bit + t_BUF``. Linux adds software overhead per transaction on top;
that is not modelled (see ../shared/hardware-reference.md section 10).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class BusSpeed:
    name: str
    hz: float
    t_buf: float  # bus-free time between STOP and START, seconds

    @property
    def t_bit(self) -> float:
        return 1.0 / self.hz


STANDARD = BusSpeed("100 kHz", 100_000, 4.7e-6)
FAST = BusSpeed("400 kHz", 400_000, 1.3e-6)


def transaction_seconds(wire_bytes: int, speed: BusSpeed) -> float:
    return 9 * wire_bytes * speed.t_bit + 2 * speed.t_bit + speed.t_buf


def wire_seconds(transactions: Iterable[int], speed: BusSpeed) -> float:
    """Total wire time of transactions given as their byte counts."""
    return sum(transaction_seconds(n, speed) for n in transactions)
