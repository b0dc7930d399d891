"""What a rig can do for a test, independent of the hardware that does it.

Tests and the scenario engine ask for capabilities (cell voltages, temperatures, current,
digital lines, CAN); drivers provide them by subclassing. The base classes hold the policy every
backend shares: range checks against the rig's limits *before* anything is written, the
record of what was commanded, and the safe state. A backend implements one narrow `_write`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import can

from hil.errors import LimitError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Range:
    """An allowed interval for one kind of output, with where it was declared (for messages)."""

    low: float
    high: float
    unit: str
    source: str = "the rig's limits"
    max_slew: float | None = None  # units per second; faster changes become ramps

    def check(self, what: str, value: float) -> None:
        if not isinstance(value, (int, float)) or math.isnan(value):
            raise LimitError(f"{what}: {value!r} is not a number")
        if value < self.low:
            raise LimitError(f"{what}: {value:g} {self.unit} is below the limit "
                             f"{self.low:g} {self.unit} ({self.source})")
        if value > self.high:
            raise LimitError(f"{what}: {value:g} {self.unit} is above the limit "
                             f"{self.high:g} {self.unit} ({self.source})")


class Capability(ABC):
    """Something on the rig that drives outputs and can be put in its safe state."""

    name = "capability"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        # (stimulus name, value, epoch time the write completed): the rig records these
        self.listeners: list[Callable[[str, float, float], None]] = []

    def _notify(self, name: str, value: float, when: float) -> None:
        for listener in self.listeners:
            listener(name, value, when)

    @abstractmethod
    def go_safe(self) -> None:
        """Put every output in the rig's safe state. Must not raise for a healthy backend."""

    def close(self) -> None:
        """Release the hardware. Outputs are left in the safe state by the rig before this."""
        self._closed = True


class _ChannelSource(Capability):
    """Shared policy of numbered analog outputs (cells, temperature sensors)."""

    quantity = "value"
    unit = ""
    stimulus = "value"  # name of the recorded stimulus series: stimulus.<name>[i]

    def __init__(self, count: int, limits: Range, safe_value: float) -> None:
        super().__init__()
        if count < 1:
            raise ValueError(f"{self.name}: count must be at least 1, got {count}")
        limits.check(f"{self.name} safe state", safe_value)
        self.count = count
        self.limits = limits
        self.safe_value = safe_value
        self._commanded: list[float | None] = [None] * count

    def _label(self, index: int) -> str:
        return f"{self.quantity} {index}"

    def _validated(self, values: Mapping[int, float]) -> dict[int, float]:
        """Every index and value checked before any is written (all or nothing)."""
        out: dict[int, float] = {}
        for index, value in values.items():
            if not isinstance(index, int) or isinstance(index, bool) or not (
                    1 <= index <= self.count):
                raise LimitError(f"{self.name}: {self.quantity} {index!r} does not exist "
                                 f"(this rig has {self.quantity}s 1..{self.count})")
            self.limits.check(self._label(index), value)
            out[index] = float(value)
        return out

    #: Period of the intermediate writes when a change must be slowed to the slew limit.
    slew_step_seconds = 0.002

    def set(self, values: Mapping[int, float]) -> float:
        """Drive the given channels (1-based) together; returns the epoch time the write ended.

        With a slew limit, a change faster than it is written as a ramp of small steps (every
        value on the way is within limits, since both ends are).
        """
        checked = self._validated(values)
        with self._lock:
            if self._closed:
                raise LimitError(f"{self.name} is closed")
            self._write_slewed(checked)
            done = time.time()
        return done

    def check_writable(self, values: dict[int, float]) -> None:
        """Raise LimitError if the hardware cannot make these values (called before a ramp
        starts, so that a ramp is never left half-way)."""

    def _write_slewed(self, target: dict[int, float]) -> None:
        slew = self.limits.max_slew
        start = {i: self._commanded[i - 1] for i in target}
        steps = 1
        if slew:
            largest = max((abs(v - s) for i, v in target.items()
                           if (s := start[i]) is not None), default=0.0)
            steps = max(1, math.ceil(largest / (slew * self.slew_step_seconds)))
        if steps > 1:  # a single write checks everything itself before the first byte
            self.check_writable(target)
        began = time.monotonic()
        for step in range(1, steps + 1):
            if step > 1:
                delay = began + (step - 1) * self.slew_step_seconds - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            fraction = step / steps
            values = {i: v if (s := start[i]) is None or step == steps else s + (v - s) * fraction
                      for i, v in target.items()}
            self._write(values)
            done = time.time()
            for index, value in values.items():
                self._commanded[index - 1] = value
                self._notify(f"{self.stimulus}[{index}]", value, done)

    def set_all(self, value: float) -> float:
        return self.set(dict.fromkeys(range(1, self.count + 1), value))

    def commanded(self, index: int) -> float | None:
        """The last value written to a channel (None before the first write)."""
        return self._commanded[index - 1]

    def go_safe(self) -> None:
        with self._lock:
            self._write_slewed(dict.fromkeys(range(1, self.count + 1), self.safe_value))

    @abstractmethod
    def _write(self, values: dict[int, float]) -> None:
        """Drive the listed channels; values are already within limits."""


class CellVoltageSource(_ChannelSource):
    """Emulated cell voltages in volts, cells numbered from 1."""

    name = "cells"
    quantity = "cell"
    unit = "V"
    stimulus = "cell_volts"


class TemperatureSource(_ChannelSource):
    """Emulated temperature sensors (NTC thermistors) in degrees Celsius, numbered from 1."""

    name = "temperatures"
    quantity = "temperature sensor"
    unit = "degC"
    stimulus = "temperature_celsius"


class CurrentSource(Capability):
    """Emulated pack current in amperes; positive = discharge."""

    name = "current"

    def __init__(self, limits: Range, safe_amps: float = 0.0) -> None:
        super().__init__()
        limits.check("current safe state", safe_amps)
        self.limits = limits
        self.safe_amps = safe_amps
        self._commanded: float | None = None

    def set(self, amps: float) -> float:
        """Drive the pack current; returns the epoch time the new value was in effect."""
        self.limits.check("pack current", amps)
        with self._lock:
            self._write(float(amps))
            done = time.time()
            self._commanded = float(amps)
            self._notify("current_amps", float(amps), done)
        return done

    def commanded(self) -> float | None:
        return self._commanded

    def go_safe(self) -> None:
        with self._lock:
            self._write(self.safe_amps)
            self._commanded = self.safe_amps
            self._notify("current_amps", self.safe_amps, time.time())

    @abstractmethod
    def _write(self, amps: float) -> None:
        """Make the current sensor report `amps` from now on."""


class DigitalLines(Capability):
    """Named digital lines: outputs the rig drives (relays), inputs it reads (BMS outputs)."""

    name = "lines"

    def __init__(self, outputs: Mapping[str, bool], inputs: Iterable[str]) -> None:
        super().__init__()
        self.safe_levels = dict(outputs)  # output name -> level in the safe state
        self.inputs = tuple(inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.safe_levels)

    def set(self, name: str, level: bool) -> float:
        if name not in self.safe_levels:
            raise LimitError(f"lines: {name!r} is not an output of this rig "
                             f"(outputs: {', '.join(self.outputs) or 'none'})")
        with self._lock:
            self._write(name, bool(level))
            done = time.time()
            self._notify(f"lines.{name}", float(bool(level)), done)
            return done

    def get(self, name: str) -> bool:
        if name not in self.inputs and name not in self.safe_levels:
            raise LimitError(f"lines: {name!r} is not a line of this rig "
                             f"(inputs: {', '.join(self.inputs) or 'none'})")
        return self._read(name)

    def go_safe(self) -> None:
        with self._lock:
            for name, level in self.safe_levels.items():
                self._write(name, level)
                self._notify(f"lines.{name}", float(level), time.time())

    @abstractmethod
    def _write(self, name: str, level: bool) -> None: ...

    @abstractmethod
    def _read(self, name: str) -> bool: ...


Listener = Callable[[can.Message], None]


class CanEndpoint(Capability):
    """The rig's CAN connection: send frames, deliver every frame (both directions) to listeners.

    Frames the rig sends are echoed to the listeners (is_rx False) so that CAN logs and the
    signal store hold both directions.
    """

    name = "can"

    @abstractmethod
    def send(self, msg: can.Message) -> None: ...

    @abstractmethod
    def add_listener(self, listener: can.Listener) -> None: ...

    @abstractmethod
    def remove_listener(self, listener: can.Listener) -> None: ...

    @abstractmethod
    def start_log(self, path: Path) -> None:
        """Write every frame from now on to `path` (BLF or ASC, chosen by suffix)."""

    @abstractmethod
    def stop_log(self) -> Path | None: ...

    def go_safe(self) -> None:
        """CAN has no outputs of its own; periodic senders are stopped by their owners."""


class VoltageReadback(Capability):
    """Measures the emulator's own outputs (an ADC on the HAT), for self-test and calibration."""

    name = "readback"

    def __init__(self, cells: Iterable[int]) -> None:
        super().__init__()
        self.cells = tuple(cells)

    def read_cell(self, index: int) -> float:
        """The voltage actually present on cell `index`'s output, in volts."""
        if index not in self.cells:
            raise LimitError(f"readback: cell {index} has no read-back channel "
                             f"(this rig reads back cells {_ranges(self.cells)})")
        with self._lock:
            return self._read_cell(index)

    @abstractmethod
    def _read_cell(self, index: int) -> float: ...

    def go_safe(self) -> None:
        """Read-back drives nothing."""


def _ranges(indexes: Iterable[int]) -> str:
    values = sorted(indexes)
    if not values:
        return "none"
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


class DutPower(Capability):
    """Switches the device under test's supply: a relay on a real rig, a process in simulation."""

    name = "dut_power"

    @abstractmethod
    def power_on(self) -> None: ...

    @abstractmethod
    def power_off(self) -> None: ...

    def power_cycle(self) -> None:
        self.power_off()
        self.power_on()

    @abstractmethod
    def is_on(self) -> bool: ...

    def go_safe(self) -> None:
        """The DUT stays powered in the safe state: its own protections keep working."""
