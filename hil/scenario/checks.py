"""Checks: requirements that describe themselves and judge the signal history into outcomes.

A check is anchored at its step's stimulus time (when the output write completed) and looks at
the samples the receive path stored, by their CAN receive timestamps. It never raises for a
failed requirement: it returns an `Outcome` with what was expected, what was seen and when.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable

from hil import units
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

    def plot_series(self) -> list[tuple[str, str, float]]:
        """(series, unit, factor to that unit) of what this check looked at, for plots."""
        target = getattr(self, "target", None)
        if target is None:
            return [(name, "", 1.0) for name in self.series_names]
        return [(target.series_name, target.unit, target.factor)]

    def plot_thresholds(self) -> list[tuple[str, float, str]]:
        """(unit, value, label) lines worth drawing: numeric limits, not enum values."""
        target = getattr(self, "target", None)
        cond = getattr(self, "condition", None)
        if target is None or cond is None or target.ref.signal.choices:
            return []
        lines = [(target.unit, cond.value, str(cond))]
        if cond.high is not None:
            lines.append((target.unit, cond.high, str(cond)))
        return lines


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
        return (f"{self.target.describe()} becomes {self.condition.phrase} within "
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


class _Windowed(Check):
    """A check that looks at a window from `after` to `after + length` seconds after its step."""

    def __init__(self, after: float, length: float, step_label: str, line: int | None) -> None:
        super().__init__(step_label, line)
        self.after = after
        self.length = length

    @property
    def window_seconds(self) -> float:
        return self.after + self.length

    def _bounds(self, anchor: float) -> tuple[float, float]:
        """The window on the epoch clock."""
        return anchor + self.after, anchor + self.after + self.length


class _WindowCheck(_Windowed):
    """Shared parts of checks that judge every sample of one target in a window."""

    def __init__(self, target: Target, condition: Condition, after: float, length: float,
                 step_label: str, line: int | None) -> None:
        super().__init__(after, length, step_label, line)
        self.target = target
        self.condition = condition

    @property
    def series_names(self) -> tuple[str, ...]:
        return (self.target.series_name,)

    def _window_text(self) -> str:
        start = f"from {self.after:g} s " if self.after else ""
        return f"{start}for {self.length:g} s after {self.step_label}"

    def _label(self, sample: Sample) -> str:
        return self.target.label_of(sample.value * self.target.factor)

    def _samples(self, store: SignalStore, anchor: float) -> list[Sample]:
        return store.series(self.target.series_name).samples(*self._bounds(anchor))

    def _judge_frames(self, store: SignalStore, anchor: float, t0: float, *,
                      offends: Callable[[float], bool], expected: str, counted: str,
                      all_fine: Callable[[list[Sample]], str]) -> Outcome:
        """Pass when frames arrive and none offends; count the offending frames."""
        samples = self._samples(store, anchor)
        bad = [s for s in samples if offends(s.value)]
        measurement = Measurement(counted, float(len(bad)) if samples else None, "", high=0)
        if not samples:
            seen = f"no frame carrying {self.target.series_name} in the window"
        elif bad:
            seen = (f"{self._label(bad[0])} at t={bad[0].time - t0:.3f} s "
                    f"({len(bad)} of {len(samples)} frames)")
        else:
            seen = all_fine(samples)
        return Outcome(str(self), bool(samples) and not bad, expected, seen,
                       at=bad[0].time if bad else None, measurements=(measurement,),
                       step=self.step_label, line=self.line, signals=self.series_names)


class Stays(_WindowCheck):
    """Every sample in the window satisfies the condition, and at least one arrives."""

    @property
    def subject(self) -> str:
        return f"{self.target.name} stays {self.condition}"

    def __str__(self) -> str:
        return f"{self.target.describe()} stays {self.condition.phrase} {self._window_text()}"

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        predicate = self.condition.raw_predicate()
        start, end = self._bounds(anchor)
        return self._judge_frames(
            store, anchor, t0, offends=lambda v: not predicate(v),
            expected=(f"{self.condition} on every frame from t={start - t0:.3f} s to "
                      f"t={end - t0:.3f} s"),
            counted=f"{self.target.name} frames not {self.condition}",
            all_fine=lambda samples: (f"{self._label(samples[-1])} on all {len(samples)} "
                                      "frames"))


class Never(_WindowCheck):
    """No sample in the window satisfies the condition."""

    @property
    def subject(self) -> str:
        return f"{self.target.name} never {self.condition}"

    def __str__(self) -> str:
        return f"{self.target.describe()} never {self.condition.phrase} {self._window_text()}"

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        start, end = self._bounds(anchor)
        return self._judge_frames(
            store, anchor, t0, offends=self.condition.raw_predicate(),
            expected=f"never {self.condition} from t={start - t0:.3f} s to t={end - t0:.3f} s",
            counted=f"{self.target.name} frames {self.condition}",
            all_fine=self._only_values)

    def _only_values(self, samples: list[Sample]) -> str:
        values = sorted({self._label(s) for s in samples})
        return f"only {', '.join(values[:4])} in {len(samples)} frames"


class InRange(_WindowCheck):
    """Every sample in the window is within [low, high] (in the target's units)."""

    @property
    def subject(self) -> str:
        return f"{self.target.name} {self.condition}"

    def __str__(self) -> str:
        return f"{self.target.describe()} stays {self.condition} {self._window_text()}"

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        samples = self._samples(store, anchor)
        factor = self.target.factor
        values = [s.value * factor for s in samples]
        low, high = self.condition.value, self.condition.high
        unit = self.target.unit
        bad = [s for s, v in zip(samples, values, strict=True) if not self.condition(v)]
        lowest = Measurement(f"{self.target.name} min", min(values) if values else None, unit,
                             low=low)
        highest = Measurement(f"{self.target.name} max", max(values) if values else None, unit,
                              high=high)
        start, end = self._bounds(anchor)
        expected = f"{self.condition} from t={start - t0:.3f} s to t={end - t0:.3f} s"
        if not samples:
            seen = f"no frame carrying {self.target.series_name} in the window"
        elif bad:
            seen = (f"{self._label(bad[0])} at t={bad[0].time - t0:.3f} s; range seen "
                    f"{min(values):.6g}..{max(values):.6g} {unit}")
        else:
            seen = f"{min(values):.6g}..{max(values):.6g} {unit} in {len(samples)} frames"
        return Outcome(str(self), bool(samples) and not bad, expected, seen,
                       at=bad[0].time if bad else None, measurements=(lowest, highest),
                       step=self.step_label, line=self.line, signals=self.series_names)


class Tracks(_Windowed):
    """Each channel's reported value follows what the rig emulated, within a tolerance.

    The emulated value at a frame's time is the last value written before it (the rig records
    every write as `stimulus.<output>[i]` in the signal store).
    """

    def __init__(self, stimulus: str, targets: list[tuple[int, Target]], tolerance: float,
                 after: float, length: float, step_label: str, line: int | None) -> None:
        super().__init__(after, length, step_label, line)
        self.stimulus = stimulus
        self.targets = targets
        self.tolerance = tolerance
        self.unit = targets[0][1].unit if targets else ""
        self.role = targets[0][1].name.split("[", 1)[0] if targets else "?"

    @property
    def series_names(self) -> tuple[str, ...]:
        return tuple(t.series_name for _, t in self.targets)

    @property
    def subject(self) -> str:
        return f"{self.role}[i] tracks {self.stimulus}"

    def plot_series(self) -> list[tuple[str, str, float]]:
        return [(t.series_name, t.unit, t.factor) for _, t in self.targets[:8]]

    def __str__(self) -> str:
        first, last = self.targets[0][0], self.targets[-1][0]
        return (f"{self.role}[{first}..{last}] tracks the emulated {self.stimulus} within "
                f"{self.tolerance:g} {self.unit}, for {self.length:g} s from {self.after:g} s "
                f"after {self.step_label}")

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        start, end = self._bounds(anchor)
        worst: tuple[float, int, Sample, float] | None = None
        silent: list[int] = []
        failed: list[int] = []
        for index, target in self.targets:
            emulated = store.series(f"stimulus.{self.stimulus}[{index}]")
            samples = store.series(target.series_name).samples(start, end)
            if not samples:
                silent.append(index)
                continue
            for sample in samples:
                ref = emulated.value_at(sample.time)
                if ref is None:
                    continue
                error = sample.value * target.factor - ref.value
                if worst is None or abs(error) > abs(worst[0]):
                    worst = (error, index, sample, ref.value)
                if abs(error) > self.tolerance and index not in failed:
                    failed.append(index)
        worst_error = abs(worst[0]) if worst else None
        measurement = Measurement(f"{self.role} tracking error", worst_error, self.unit,
                                  high=self.tolerance)
        expected = (f"every {self.role}[i] within {self.tolerance:g} {self.unit} of the "
                    f"emulated value from t={start - t0:.3f} s to t={end - t0:.3f} s")
        parts = []
        if worst is not None:
            error, index, sample, ref = worst
            reported = sample.value * self.targets[0][1].factor
            parts.append(f"worst {self.role}[{index}]: {reported:.6g}"
                         f" {self.unit} while {ref:.6g} {self.unit} was emulated "
                         f"(error {error:+.4g} {self.unit}) at t={sample.time - t0:.3f} s")
        if failed:
            parts.append(f"out of tolerance: {', '.join(map(str, failed[:12]))}")
        if silent:
            parts.append(f"no frames for: {', '.join(map(str, silent[:12]))}")
        passed = not failed and not silent and worst is not None
        return Outcome(str(self), passed, expected, "; ".join(parts) or "nothing to compare",
                       at=worst[2].time if worst else None, measurements=(measurement,),
                       step=self.step_label, line=self.line, signals=self.series_names)


class Follows(_Windowed):
    """A reported value follows the plant's truth (`plant.soc`, `plant.current`).

    A sample at time t matches when it lies within the tolerance of any truth value between
    t - lag and t (the BMS reports what it measured a moment ago). With a change tolerance, the
    reported change from the first to the last sample in the window must also agree with the
    truth's change over the same times, within that percent of it: the test that catches a
    wrong capacity, which a wide absolute tolerance would let through.
    """

    def __init__(self, target: Target, truth: str, unit: str, tolerance: float,
                 change_tolerance_percent: float | None, lag: float, after: float,
                 length: float, step_label: str, line: int | None) -> None:
        super().__init__(after, length, step_label, line)
        self.target = target
        self.truth = truth
        self.unit = unit
        self.tolerance = tolerance
        self.change_tolerance = change_tolerance_percent
        self.lag = lag
        convert = (units.factor(target.unit, unit)
                   if target.unit and target.unit != unit else 1.0)
        self.scale = target.factor * convert  # raw sample -> `unit`

    @property
    def series_names(self) -> tuple[str, ...]:
        return (self.target.series_name, self.truth)

    @property
    def subject(self) -> str:
        return f"{self.target.name} follows {self.truth}"

    def plot_series(self) -> list[tuple[str, str, float]]:
        return [(self.target.series_name, self.unit, self.scale), (self.truth, self.unit, 1.0)]

    def __str__(self) -> str:
        change = (f" and its change within {self.change_tolerance:g} % of the true change"
                  if self.change_tolerance else "")
        start = f"from {self.after:g} s " if self.after else ""
        return (f"{self.target.describe()} follows {self.truth} within {self.tolerance:g} "
                f"{self.unit}{change}, {start}for {self.length:g} s after {self.step_label}")

    def _truth_span(self, store: SignalStore, t: float) -> tuple[float, float] | None:
        truth = store.series(self.truth)
        values = [s.value for s in truth.samples(t - self.lag, t)]
        before = truth.value_at(t - self.lag)
        if before is not None:
            values.append(before.value)
        return (min(values), max(values)) if values else None

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        start, end = self._bounds(anchor)
        samples = store.series(self.target.series_name).samples(start, end)
        unit = self.unit
        worst: tuple[float, Sample, float] | None = None  # error, sample, truth
        compared = 0
        for sample in samples:
            span = self._truth_span(store, sample.time)
            if span is None:
                continue
            compared += 1
            value = sample.value * self.scale
            low, high = span
            error = value - high if value > high else value - low if value < low else 0.0
            if worst is None or abs(error) > abs(worst[0]):
                worst = (error, sample, high if value > high else low)
        expected = (f"within {self.tolerance:g} {unit} of {self.truth} from "
                    f"t={start - t0:.3f} s to t={end - t0:.3f} s")
        measurements = [Measurement(f"{self.target.name} error vs {self.truth}",
                                    abs(worst[0]) if worst else None, unit,
                                    high=self.tolerance)]
        parts = []
        passed = worst is not None and abs(worst[0]) <= self.tolerance
        if worst is None:
            parts.append(f"nothing to compare: {len(samples)} frames carrying "
                         f"{self.target.series_name}, no {self.truth} before them")
        else:
            error, sample, truth = worst
            parts.append(f"worst {sample.value * self.scale:.6g} {unit} while the plant had "
                         f"{truth:.6g} {unit} (error {error:+.4g} {unit}) at "
                         f"t={sample.time - t0:.3f} s, {compared} frames compared")
        if self.change_tolerance is not None:
            expected += f"; change within {self.change_tolerance:g} % of the true change"
            judged = self._change(store, samples)
            if judged is None:
                passed = False
                parts.append("change not judged: fewer than two frames or no true change")
                measurements.append(Measurement(f"{self.target.name} change error", None, "%",
                                                high=self.change_tolerance))
            else:
                reported, true, relative = judged
                passed = passed and relative <= self.change_tolerance
                parts.append(f"changed {reported:+.4g} {unit} while the plant changed "
                             f"{true:+.4g} {unit} ({relative:.2f} % off)")
                measurements.append(Measurement(f"{self.target.name} change error", relative,
                                                "%", high=self.change_tolerance))
        return Outcome(str(self), passed, expected, "; ".join(parts),
                       at=worst[1].time if worst else None, measurements=tuple(measurements),
                       step=self.step_label, line=self.line, signals=self.series_names)

    def _change(self, store: SignalStore, samples: list[Sample]
                ) -> tuple[float, float, float] | None:
        if len(samples) < 2:
            return None
        truth = store.series(self.truth)
        first, last = truth.value_at(samples[0].time), truth.value_at(samples[-1].time)
        if first is None or last is None or last.value == first.value:
            return None
        reported = (samples[-1].value - samples[0].value) * self.scale
        true = last.value - first.value
        return reported, true, abs(reported - true) / abs(true) * 100.0


class CycleTime(_Windowed):
    """Frames of a message (of each multiplexer value) arrive at the expected period.

    Passes when the mean period is within the tolerance and no gap exceeds twice the period
    (one frame missing); the worst single period is recorded too.
    """

    def __init__(self, message: str, frame_series: str, mux: bool, expected: float,
                 tolerance_percent: float, after: float, length: float, step_label: str,
                 line: int | None) -> None:
        super().__init__(after, length, step_label, line)
        self.message = message
        self.frame_series = frame_series
        self.mux = mux
        self.expected = expected
        self.tolerance = tolerance_percent / 100.0

    @property
    def series_names(self) -> tuple[str, ...]:
        return (self.frame_series,)

    @property
    def subject(self) -> str:
        return f"{self.message} cycle time"

    def __str__(self) -> str:
        each = " per multiplexer value" if self.mux else ""
        return (f"{self.message} arrives every {self.expected * 1e3:g} ms{each} "
                f"(±{self.tolerance * 100:g} %), for {self.length:g} s after {self.step_label}")

    def evaluate(self, store: SignalStore, anchor: float, t0: float) -> Outcome:
        start, end = self._bounds(anchor)
        samples = store.series(self.frame_series).samples(start, end)
        groups: dict[float, list[float]] = {}
        for s in samples:
            groups.setdefault(s.value if self.mux else 0.0, []).append(s.time)
        periods = [b - a for times in groups.values() for a, b in itertools.pairwise(times)]
        mean = sum(periods) / len(periods) if periods else None
        longest = max(periods) if periods else None
        ms = "ms"
        measurements = (
            Measurement(f"{self.message} mean period", None if mean is None else mean * 1e3, ms,
                        low=self.expected * (1 - self.tolerance) * 1e3,
                        high=self.expected * (1 + self.tolerance) * 1e3),
            Measurement(f"{self.message} longest period",
                        None if longest is None else longest * 1e3, ms,
                        high=self.expected * 2 * 1e3),
        )
        expected = (f"mean period {self.expected * 1e3:g} ms ± {self.tolerance * 100:g} %, no "
                    f"gap over {self.expected * 2e3:g} ms, from t={start - t0:.3f} s to "
                    f"t={end - t0:.3f} s")
        if not periods:
            seen = f"{len(samples)} frames: too few to measure a period"
        else:
            seen = (f"{len(samples)} frames, mean period {mean * 1e3:.1f} ms, longest "
                    f"{longest * 1e3:.1f} ms")
        passed = all(m.passed for m in measurements)
        return Outcome(str(self), passed, expected, seen, measurements=measurements,
                       step=self.step_label, line=self.line, signals=self.series_names)
