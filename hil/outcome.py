"""Outcomes of checks: verdicts that keep what was measured, even (especially) when failing.

A failed limit is a record, not an exception: the expected value, what was seen, when, and
every measurement with its limit stay available for the pytest report, JUnit properties and
the results history.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measurement:
    """A measured value with its unit and limits, e.g. a reaction time against its maximum."""

    name: str
    value: float | None
    unit: str = ""
    low: float | None = None
    high: float | None = None

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        if self.low is not None and self.value < self.low:
            return False
        return not (self.high is not None and self.value > self.high)

    def limit_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}{unit}"
        if self.high is not None:
            return f"<= {self.high:g}{unit}"
        if self.low is not None:
            return f">= {self.low:g}{unit}"
        return "none"

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        shown = "not measured" if self.value is None else f"{self.value:.3f}{unit}"
        return f"{self.name} {shown} (limit {self.limit_text()})"


@dataclass(frozen=True)
class Outcome:
    """The verdict of one check, with the evidence for it."""

    check: str              # the requirement as text: "fault.over_voltage becomes ACTIVE ..."
    passed: bool
    expected: str
    seen: str
    at: float | None = None  # epoch time of the decisive sample, if any
    measurements: tuple[Measurement, ...] = field(default_factory=tuple)
    step: str = ""
    line: int | None = None
    signals: tuple[str, ...] = field(default_factory=tuple)  # series the check looked at
