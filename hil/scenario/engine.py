"""The real-time engine: run a scenario's steps against a rig on absolute deadlines.

Steps are scheduled on the monotonic clock from the timeline start (no drift from sleeping in
a loop). A step's stimulus time is the wall-clock time its output write completed, the same
clock as CAN receive timestamps, so a reaction time is the difference of the two. Lateness of
every step and ramp update is recorded; when it exceeds the rig's tolerance the run says its
timing cannot be trusted instead of passing. Checks are judged after their windows close;
every check is evaluated, a failing one stops nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hil.errors import HilError
from hil.outcome import Measurement, Outcome
from hil.rig.rig import Rig
from hil.scenario.model import CompiledStep, OutputChange, Scenario

RAMP_TICK_SECONDS = 0.02

Progress = Callable[[float, float], None]  # (elapsed, total) seconds


@dataclass(frozen=True)
class TimelineEvent:
    time: float  # epoch seconds
    text: str


@dataclass(frozen=True)
class Lateness:
    p50: float
    p99: float
    max: float
    count: int

    def __str__(self) -> str:
        return (f"lateness p50 {self.p50 * 1e3:.1f} ms, p99 {self.p99 * 1e3:.1f} ms, "
                f"max {self.max * 1e3:.1f} ms over {self.count} writes")


@dataclass
class RunResult:
    scenario: Scenario
    t0: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    lateness: Lateness | None = None
    tolerance: float = 0.0
    error: str | None = None

    @property
    def timing_ok(self) -> bool:
        return self.lateness is None or self.lateness.max <= self.tolerance

    @property
    def passed(self) -> bool:
        return (self.error is None and self.timing_ok and bool(self.outcomes)
                and all(o.passed for o in self.outcomes))

    @property
    def measurements(self) -> list[Measurement]:
        return [m for o in self.outcomes for m in o.measurements]


@dataclass
class _Ramp:
    change: OutputChange
    start_values: dict[int, float] | float
    start: float      # monotonic
    duration: float
    next_tick: float  # monotonic


class Engine:
    """Runs scenarios on an opened rig."""

    def __init__(self, rig: Rig, progress: Progress | None = None) -> None:
        if rig.bms is None or rig.cells is None:
            raise HilError("the rig is not open")
        self.rig = rig
        self.progress = progress

    def run(self, scenario: Scenario) -> RunResult:
        result = RunResult(scenario, tolerance=self.rig.config.file.timing.tolerance_seconds)
        try:
            self._setup(scenario, result)
            self._timeline(scenario, result)
        except HilError as err:
            result.error = str(err)
        return result

    # --- setup ----------------------------------------------------------------------------
    def _setup(self, scenario: Scenario, result: RunResult) -> None:
        rig, bms = self.rig, self.rig.bms
        assert bms is not None
        for change in scenario.setup_changes:
            done = self._apply(change, change_values(change))
            result.timeline.append(TimelineEvent(done, f"setup: {change.describe()}"))
        if scenario.setup_request is not None:
            sent = bms.request_state(scenario.setup_request)
            result.timeline.append(TimelineEvent(sent, f"setup: request state "
                                                       f"{scenario.setup_request}"))
        wait = scenario.wait_until
        if wait is not None:
            started = time.time()
            try:
                hit = bms.wait_for(wait.target.name, wait.condition, wait.within_seconds,
                                   since=started)
            except AssertionError as err:
                raise HilError(f"setup: {err}") from None
            result.timeline.append(TimelineEvent(
                hit.time, f"setup: {wait.target.name} {wait.condition} (synchronised)"))
        rig.check_alive()

    # --- timeline -------------------------------------------------------------------------
    def _timeline(self, scenario: Scenario, result: RunResult) -> None:
        rig = self.rig
        t0_mono = time.monotonic()
        result.t0 = time.time()
        result.timeline.append(TimelineEvent(result.t0, "timeline starts (t=0)"))
        pending = list(scenario.steps)
        ramps: list[_Ramp] = []
        anchors: dict[int, float] = {}
        late: list[float] = []
        total = scenario.duration
        last_progress = 0.0
        while pending or ramps:
            due_step = t0_mono + pending[0].at if pending else float("inf")
            due_ramp = min((r.next_tick for r in ramps), default=float("inf"))
            due = min(due_step, due_ramp)
            _sleep_until(due)
            rig.check_alive()
            now = time.monotonic()
            if pending and now >= t0_mono + pending[0].at:
                step = pending.pop(0)
                late.append(now - (t0_mono + step.at))
                anchors[step.number] = self._run_step(step, ramps, result)
            for ramp in list(ramps):
                if time.monotonic() >= ramp.next_tick:
                    late.append(time.monotonic() - ramp.next_tick)
                    if self._advance(ramp):
                        ramps.remove(ramp)
            if self.progress and now - last_progress >= 1.0:
                last_progress = now
                self.progress(now - t0_mono, total)
        end = max((anchors[s.number] + c.window_seconds for s in scenario.steps
                   for c in s.checks), default=time.time())
        while time.time() < end:
            time.sleep(min(0.05, max(0.0, end - time.time())))
            rig.check_alive()
        if late:
            arr = np.array(late)
            result.lateness = Lateness(float(np.percentile(arr, 50)),
                                       float(np.percentile(arr, 99)), float(arr.max()),
                                       len(late))
        for step in scenario.steps:
            for check in step.checks:
                outcome = check.evaluate(rig.store, anchors[step.number], result.t0)
                result.outcomes.append(outcome)
                if outcome.at is not None:
                    late_note = "" if outcome.passed else " (too late)"
                    result.timeline.append(TimelineEvent(
                        outcome.at, f"{check.subject}{late_note}"))
                result.timeline.append(TimelineEvent(
                    anchors[step.number] + check.window_seconds,
                    f"window closes for: {check.subject}"))
        result.timeline.sort(key=lambda e: e.time)
        if self.progress:
            self.progress(total, total)

    def _run_step(self, step: CompiledStep, ramps: list[_Ramp], result: RunResult) -> float:
        bms = self.rig.bms
        assert bms is not None
        if step.request_state is not None:
            anchor = bms.request_state(step.request_state)
        elif step.ramp_seconds is not None:
            anchor = time.time()
            start = time.monotonic()
            for change in step.changes:
                ramps.append(_Ramp(change, self._present(change), start, step.ramp_seconds,
                                   start))
        elif step.changes:
            anchor = max(self._apply(change, change_values(change)) for change in step.changes)
        else:
            anchor = time.time()
        result.timeline.append(TimelineEvent(anchor, f"{step.label}: {step.describe()}"))
        return anchor

    def _present(self, change: OutputChange) -> dict[int, float] | float:
        rig = self.rig
        if change.kind == "current":
            assert rig.current is not None
            return rig.current.commanded() or 0.0
        source = rig.cells if change.kind == "cells" else rig.temperatures
        assert source is not None
        out = {}
        for index, target in change.channels:
            present = source.commanded(index)
            out[index] = target if present is None else present
        return out

    def _advance(self, ramp: _Ramp) -> bool:
        """Write the ramp's next point; True when it reached its target."""
        fraction = min(1.0, (time.monotonic() - ramp.start) / ramp.duration)
        change = ramp.change
        if change.kind == "current":
            start = float(ramp.start_values)  # type: ignore[arg-type]
            value: dict[int, float] | float = start + (float(change.amps or 0.0) - start) * \
                fraction
        else:
            starts = ramp.start_values
            assert isinstance(starts, dict)
            value = {i: starts[i] + (target - starts[i]) * fraction for i, target in
                     change.channels}
        self._apply(change, value)
        ramp.next_tick += RAMP_TICK_SECONDS
        return fraction >= 1.0

    def _apply(self, change: OutputChange, values: dict[int, float] | float) -> float:
        rig = self.rig
        if change.kind == "cells":
            assert rig.cells is not None and isinstance(values, dict)
            return rig.cells.set(values)
        if change.kind == "temperatures":
            assert rig.temperatures is not None and isinstance(values, dict)
            return rig.temperatures.set(values)
        if change.kind == "current":
            assert rig.current is not None
            return rig.current.set(float(values))  # type: ignore[arg-type]
        assert rig.lines is not None
        done = time.time()
        for name, level in change.lines:
            done = rig.lines.set(name, level)
        return done


def change_values(change: OutputChange) -> dict[int, float] | float:
    if change.kind == "current":
        return float(change.amps or 0.0)
    return dict(change.channels)


def _sleep_until(deadline: float) -> None:
    """Sleep to a monotonic deadline; the last millisecond is spun for precision."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if remaining > 0.002:
            time.sleep(remaining - 0.001)
        elif remaining > 0:
            time.sleep(0)
