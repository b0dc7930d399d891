"""Conditions on a signal's value that describe themselves ("== FAULT", "> 4.2 V").

Used by `Bms.wait_for` in Python tests and by scenario checks, so a failure message reads like
the requirement. Values are in the target's units (a role's unit, or the DBC's for a signal);
equality allows half an LSB of the signal so that 4.25 matches a 0.001 V/bit encoding.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from hil.profile import Target

_OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True)
class Condition:
    """`op value` against one target; `value` already converted to the target's units."""

    op: str
    value: float
    target: Target
    written: str  # the value as the user wrote it ("FAULT", 4.25)
    high: float | None = None  # upper end for op "between"

    def __post_init__(self) -> None:
        if self.op not in _OPS and self.op != "between":
            raise ValueError(f"unknown comparison {self.op!r}; use one of "
                             f"{', '.join(_OPS)}, between")
        if self.op == "between" and (self.high is None or self.high < self.value):
            raise ValueError("between needs a low and a high value, low <= high")

    def __call__(self, value: float) -> bool:
        if self.op == "between":
            assert self.high is not None
            return self.value <= value <= self.high
        if self.op in ("==", "!="):
            equal = abs(value - self.value) <= self.target.resolution / 2 + 1e-12
            return equal if self.op == "==" else not equal
        return _OPS[self.op](value, self.value)

    def raw_predicate(self) -> Callable[[float], bool]:
        """The same test applied to stored (DBC physical) values."""
        factor = self.target.factor
        return lambda raw: self(raw * factor)

    @property
    def phrase(self) -> str:
        """The value as a requirement reads: 'ACTIVE', '>= 68 %', 'in [1, 2]'."""
        return self.written if self.op == "==" else str(self)

    def __str__(self) -> str:
        if self.op == "between":
            return f"in [{self.written}]"
        return f"{self.op} {self.written}" if self.op != "==" else f"= {self.written}"


ConditionSpec = float | str | tuple[str, float | str] | tuple[str, float, float]


def condition(target: Target, spec: ConditionSpec | Condition) -> Condition:
    """Build a condition from a value (equality), an enum name, an (op, value) pair, or
    ("between", low, high)."""
    if isinstance(spec, Condition):
        return spec
    if isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "between":
        _, low, high = spec
        lo, hi = target.value_of(low), target.value_of(high)
        return Condition("between", lo, target,
                         f"{_written(low, target)}, {_written(high, target)}", high=hi)
    if isinstance(spec, tuple):
        op, value = spec  # type: ignore[misc]
        return Condition(op, target.value_of(value), target, _written(value, target))
    if isinstance(spec, str):
        for op in (">=", "<=", "==", "!=", ">", "<"):
            if spec.startswith(op):
                rest = spec[len(op):].strip()
                value = _number_or_label(rest)
                return Condition(op, target.value_of(value), target, _written(value, target))
    return Condition("==", target.value_of(spec), target, _written(spec, target))


def _number_or_label(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _written(value: float | str, target: Target) -> str:
    if isinstance(value, str):
        return value
    return target.label_of(float(value))
