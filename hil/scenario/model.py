"""A loaded scenario: steps with resolved targets, channel numbers and checks, ready to run.

Frozen dataclasses built by `hil.scenario.loader` from a checked file; the engine runs them.
Every element can describe itself, so timelines and failure messages write themselves.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hil.conditions import Condition
from hil.profile import Target

if TYPE_CHECKING:
    from hil.plant.cycles import Profile, SpeedCycle
    from hil.scenario.checks import Check

OutputKind = Literal["cells", "temperatures", "current", "lines"]
_UNITS = {"cells": "V", "temperatures": "degC", "current": "A"}
_NOUN = {"cells": "cell", "temperatures": "temperature"}


@dataclass(frozen=True)
class OutputChange:
    """New values for one kind of output: channel -> value, or one value for current."""

    kind: OutputKind
    channels: tuple[tuple[int, float], ...] = ()
    amps: float | None = None
    lines: tuple[tuple[str, bool], ...] = ()

    def describe(self) -> str:
        if self.kind == "current":
            return f"current = {self.amps:g} A"
        if self.kind == "lines":
            return ", ".join(f"{name} = {'on' if level else 'off'}" for name, level in self.lines)
        return describe_channels(_NOUN[self.kind], self.channels, _UNITS[self.kind])


def describe_channels(noun: str, channels: tuple[tuple[int, float], ...], unit: str) -> str:
    """'cell 7 = 4.3 V', 'cells 1..16 = 3.7 V', 'cell 1 = 3.6 V, cell 2 = 3.7 V'."""
    values = {v for _, v in channels}
    indexes = [i for i, _ in channels]
    if len(values) == 1 and len(indexes) > 1 and indexes == list(
            range(indexes[0], indexes[0] + len(indexes))):
        return f"{noun}s {indexes[0]}..{indexes[-1]} = {channels[0][1]:g} {unit}"
    shown = ", ".join(f"{noun} {i} = {v:g} {unit}" for i, v in channels[:6])
    if len(channels) > 6:
        shown += f" (+{len(channels) - 6} more)"
    return shown


@dataclass(frozen=True)
class WaitCondition:
    target: Target
    condition: Condition
    within_seconds: float

    def describe(self) -> str:
        return f"wait until {self.target.name} {self.condition} (up to {self.within_seconds:g} s)"


@dataclass(frozen=True)
class ProfilePlay:
    """A CSV time series to play on one kind of output."""

    kind: OutputKind
    times: tuple[float, ...]            # seconds from the step, starting at 0
    values: tuple[float, ...]
    channels: tuple[int, ...] = ()       # for cells / temperatures
    interpolate: str = "linear"
    source: str = ""

    @property
    def duration(self) -> float:
        return self.times[-1]

    def value_at(self, t: float) -> float:
        times, values = self.times, self.values
        if t <= times[0]:
            return values[0]
        if t >= times[-1]:
            return values[-1]
        hi = bisect.bisect_right(times, t)
        lo = hi - 1
        if self.interpolate == "previous":
            return values[lo]
        span = times[hi] - times[lo]
        return values[lo] + (values[hi] - values[lo]) * (t - times[lo]) / span

    def describe(self) -> str:
        what = {"current": "current", "cells": "cells", "temperatures": "temperatures"}[self.kind]
        return f"play {self.source} on {what} ({self.duration:g} s, {len(self.times)} points)"


@dataclass(frozen=True)
class CanCommand:
    verb: str                 # send, stop, start, corrupt, length
    message: str
    signals: tuple[tuple[str, float | str], ...] = ()
    period: float | None = None
    field: str | None = None  # corrupt: crc or counter
    length: int | None = None
    frames: int = 1

    def describe(self) -> str:
        if self.verb == "send":
            every = f" every {self.period:g} s" if self.period else ""
            return f"send {self.message}{every}"
        if self.verb == "corrupt":
            return f"corrupt the {self.field} of the next {self.frames} {self.message} frame(s)"
        if self.verb == "length":
            return f"send the next {self.frames} {self.message} frame(s) with {self.length} bytes"
        return f"{self.verb} {self.message}"


@dataclass(frozen=True)
class FaultCommand:
    inject: bool
    kind: str
    index: int | None = None
    value: float = 0.0

    def describe(self) -> str:
        where = f" {self.index}" if self.index is not None else ""
        extra = f" ({self.value:g})" if self.value else ""
        return f"{'inject' if self.inject else 'clear'} {self.kind}{where}{extra}"


@dataclass(frozen=True)
class PlantConfig:
    """The pack a scenario emulates: a preset's vehicle and size, the DUT's cells."""

    preset: str
    initial_soc: float                       # 0..1
    seed: int = 0
    spread: bool = True
    ambient_celsius: float = 25.0
    weak_cell: tuple[int, float] | None = None  # (cell from 1, capacity factor)

    def describe(self) -> str:
        weak = (f", cell {self.weak_cell[0]} at {self.weak_cell[1] * 100:g} % capacity"
                if self.weak_cell else "")
        return (f"plant: {self.preset} pack at {self.initial_soc * 100:g} % SOC, "
                f"{self.ambient_celsius:g} degC{weak}")


@dataclass(frozen=True, eq=False)
class DriveCommand:
    """A speed cycle through the preset's vehicle, or a pack current/power profile."""

    duration: float
    source: str
    cycle: SpeedCycle | None = None
    profile: Profile | None = None  # already scaled
    start: float = 0.0

    def describe(self) -> str:
        offset = f" from {self.start:g} s" if self.start else ""
        return f"drive {self.source}{offset} for {self.duration:g} s"


@dataclass(frozen=True)
class ChargeCommand:
    """Constant current (optionally CC-CV) or constant power, for at most `duration`."""

    duration: float
    amps: float | None = None
    kilowatts: float | None = None          # into the preset's whole pack
    until_cell_volts: float | None = None
    cutoff_amps: float = 0.0
    follow_bms_limit: bool = True

    def describe(self) -> str:
        what = (f"{self.amps:g} A" if self.amps is not None else f"{self.kilowatts:g} kW")
        if self.until_cell_volts is not None:
            what += f", CV at {self.until_cell_volts:g} V per cell"
        return f"charge at {what} for up to {self.duration:g} s"


@dataclass(frozen=True)
class CompiledStep:
    number: int
    name: str
    at: float                       # seconds after the start of its segment (see `segment`)
    line: int | None
    segment: int = 0                # 0 until the first wait_until step, then 1, ...
    changes: tuple[OutputChange, ...] = ()
    ramp_seconds: float | None = None
    hold_seconds: float | None = None
    profile: ProfilePlay | None = None
    request_state: str | None = None
    fault_reset: bool = False
    can: CanCommand | None = None
    fault: FaultCommand | None = None
    wait_until: WaitCondition | None = None
    drive: DriveCommand | None = None
    charge: ChargeCommand | None = None
    checks: tuple[Check, ...] = ()

    @property
    def label(self) -> str:
        return f"step {self.number} '{self.name}'" if self.name else f"step {self.number}"

    @property
    def busy_seconds(self) -> float:
        """How long the step's own action runs after it starts."""
        return (self.ramp_seconds or self.hold_seconds
                or (self.profile.duration if self.profile else 0.0)
                or (self.drive.duration if self.drive else 0.0)
                or (self.charge.duration if self.charge else 0.0) or 0.0)

    def describe(self) -> str:
        if self.request_state is not None:
            return f"request state {self.request_state}"
        if self.fault_reset:
            return "fault reset"
        if self.can is not None:
            return self.can.describe()
        if self.fault is not None:
            return self.fault.describe()
        if self.wait_until is not None:
            return self.wait_until.describe()
        if self.profile is not None:
            return self.profile.describe()
        if self.drive is not None:
            return self.drive.describe()
        if self.charge is not None:
            return self.charge.describe()
        what = "; ".join(c.describe() for c in self.changes)
        if self.ramp_seconds is not None:
            return f"ramp to {what} over {self.ramp_seconds:g} s"
        if self.hold_seconds is not None:
            return f"hold {what} for {self.hold_seconds:g} s"
        return f"set {what}" if what else "(no action)"


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    description: str = ""
    requirement: str | None = None
    tags: tuple[str, ...] = ()
    item_id: str | None = None      # which matrix combination this is
    requires: tuple[str, ...] = ()  # rig faults needed
    setup_changes: tuple[OutputChange, ...] = ()
    setup_request: str | None = None
    wait_until: WaitCondition | None = None
    plant: PlantConfig | None = None
    steps: tuple[CompiledStep, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.title} [{self.item_id}]" if self.item_id else self.title

    @property
    def duration(self) -> float:
        """Estimated seconds of the timeline: every action done, every check window closed
        (a wait_until counts as its timeout)."""
        total = 0.0
        segment_end = 0.0
        segment = 0
        for step in self.steps:
            if step.segment != segment:
                total += segment_end
                segment, segment_end = step.segment, 0.0
            end = step.at + step.busy_seconds
            if step.wait_until is not None:
                end += step.wait_until.within_seconds
            for check in step.checks:
                end = max(end, step.at + check.window_seconds)
            segment_end = max(segment_end, end)
        return total + segment_end
