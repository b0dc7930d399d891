"""Checks: requirements that describe themselves and judge the signal history into outcomes.

A check is anchored at its step's stimulus time (when the output write completed) and looks at
the samples the receive path stored, by their CAN receive timestamps. It never raises for a
failed requirement: it returns an `Outcome` with what was expected, what was seen and when.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from hil.conditions import Condition
from hil.outcome import Measurement, Outcome
from hil.profile import Target
from hil.signals import Sample, SignalStore


class Check(ABC):
    """One requirement on the DUT's reaction to a step."""

    def __init__(self, step_label: str, line: int | None) -> None:
        self.step_label = step_label
        self.line = line

    @property
    @abstractmethod
    def window_seconds(self) -> float:
        """How long after the anchor the check needs data before it can be judged."""

    @abstractmethod
    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        """Judge the stored history; `anchor` is the step's stimulus time, `t0` the start."""

    @property
    @abstractmethod
    def series_names(self) -> tuple[str, ...]: ...

    @property
    @abstractmethod
    def subject(self) -> str:
        """Short form for timelines: 'fault.over_voltage = ACTIVE'."""


class Becomes(Check):
    """`target` reaches `condition` in a frame received within `within` seconds of the anchor."""

    def __init__(self, target: Target, condition: Condition, within: float, step_label: str,
                 line: int | None) -> None:
        super().__init__(step_label, line)
        self.target = target
        self.condition = condition
        self.within = within

    @property
    def window_seconds(self) -> float:
        return self.within

    @property
    def series_names(self) -> tuple[str, ...]:
        return (self.target.series_name,)

    @property
    def subject(self) -> str:
        return f"{self.target.name} {self.condition}"

    def __str__(self) -> str:
        return (f"{self.target.describe()} becomes {self.condition.written} within "
                f"{self.within:g} s after {self.step_label}")

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        series = store.series(self.target.series_name)
        predicate = self.condition.raw_predicate()
        end = anchor + self.within
        hit = series.first_where(predicate, anchor, end)
        name = f"{self.target.name} reaction time"
        expected = f"{self.condition} by t={end - t0:.3f} s ({self.within:g} s after the step)"
        if hit is not None:
            reaction = hit.time - anchor
            return Outcome(
                check=str(self), passed=True, expected=expected,
                seen=f"{self._label(hit)} at t={hit.time - t0:.3f} s "
                     f"({reaction:.3f} s after the step)",
                at=hit.time,
                measurements=(Measurement(name, reaction, "s", high=self.within),),
                step=self.step_label, line=self.line, signals=self.series_names)
        later = series.first_where(predicate, end)
        seen = self._describe_window(series.samples(anchor, end), anchor, end, t0)
        if later is not None:
            seen += (f"; reached {self._label(later)} only at t={later.time - t0:.3f} s "
                     f"({later.time - anchor:.3f} s after the step)")
        else:
            seen += f"; never reached it up to t={self._last_time(series, t0)}"
        return Outcome(
            check=str(self), passed=False, expected=expected, seen=seen,
            at=later.time if later else None,
            measurements=(Measurement(name, later.time - anchor if later else None, "s",
                                      high=self.within),),
            step=self.step_label, line=self.line, signals=self.series_names)

    def _label(self, sample: Sample) -> str:
        return self.target.label_of(sample.value * self.target.factor)

    def _describe_window(self, samples: list[Sample], anchor: float, end: float, t0: float
                         ) -> str:
        if not samples:
            return (f"no frame carrying {self.target.series_name} between "
                    f"t={anchor - t0:.3f} s and t={end - t0:.3f} s")
        runs: list[tuple[str, float, float, int]] = []  # label, first, last, count
        for s in samples:
            label = self._label(s)
            if runs and runs[-1][0] == label:
                first, _, count = runs[-1][1], runs[-1][2], runs[-1][3]
                runs[-1] = (label, first, s.time, count + 1)
            else:
                runs.append((label, s.time, s.time, 1))
        parts = [f"{label} from t={first - t0:.3f} s to t={last - t0:.3f} s ({count} frames)"
                 for label, first, last, count in runs[:6]]
        return "; ".join(parts)

    @staticmethod
    def _last_time(series: object, t0: float) -> str:
        latest = series.latest()  # type: ignore[attr-defined]
        return f"{latest.time - t0:.3f} s" if latest is not None else "the end"
