"""A loaded scenario: steps with resolved targets, channel numbers and checks, ready to run.

Frozen dataclasses built by `hil.scenario.loader` from a checked file; the engine runs them.
Every element can describe itself, so timelines and failure messages write themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hil.conditions import Condition
from hil.profile import Target

if TYPE_CHECKING:
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
class CompiledStep:
    number: int
    name: str
    at: float                       # seconds after the timeline starts
    line: int | None
    changes: tuple[OutputChange, ...] = ()
    ramp_seconds: float | None = None
    request_state: str | None = None
    checks: tuple[Check, ...] = ()

    @property
    def label(self) -> str:
        return f"step {self.number} '{self.name}'" if self.name else f"step {self.number}"

    def describe(self) -> str:
        if self.request_state is not None:
            return f"request state {self.request_state}"
        what = "; ".join(c.describe() for c in self.changes)
        if self.ramp_seconds is not None:
            return f"ramp to {what} over {self.ramp_seconds:g} s"
        return f"set {what}" if what else "(no action)"


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    description: str = ""
    requirement: str | None = None
    tags: tuple[str, ...] = ()
    setup_changes: tuple[OutputChange, ...] = ()
    setup_request: str | None = None
    wait_until: WaitCondition | None = None
    steps: tuple[CompiledStep, ...] = field(default_factory=tuple)

    @property
    def duration(self) -> float:
        """Seconds from the timeline start until every ramp ended and every check window closed."""
        end = 0.0
        for step in self.steps:
            end = max(end, step.at + (step.ramp_seconds or 0.0))
            for check in step.checks:
                end = max(end, step.at + check.window_seconds)
        return end
