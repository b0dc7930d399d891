"""The real-time engine: run a scenario's steps against a rig on absolute deadlines.

Steps are scheduled on the monotonic clock from the start of their segment (the timeline start,
or the end of the last `wait_until` step), never by sleeping a duration in a loop, so nothing
drifts. A step's stimulus time is the wall-clock time its output write completed, the same clock
as CAN receive timestamps, so a reaction time is the difference of the two. Actions that last
(ramps, holds, CSV profiles, waits, the fault-reset pulse) are "players" updated between steps.
The lateness of every step and update is recorded; when it exceeds the rig's tolerance the run
says its timing cannot be trusted instead of passing. Checks are judged after their windows
close; every check is evaluated, a failing one stops nothing.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hil.errors import HilError
from hil.outcome import Measurement, Outcome
from hil.periodic import PeriodicMessage
from hil.rig.rig import Rig
from hil.scenario.model import (
    CanCommand,
    CompiledStep,
    OutputChange,
    ProfilePlay,
    Scenario,
    WaitCondition,
)
from hil.scenario.plant_loop import TICK_SECONDS as PLANT_TICK_SECONDS
from hil.scenario.plant_loop import PlantLoop

TICK_SECONDS = 0.02          # ramps and profiles are written at 50 Hz
WAIT_POLL_SECONDS = 0.005
FAULT_RESET_PULSE_SECONDS = 0.25

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
    anchors: dict[int, float] = field(default_factory=dict)  # step number -> stimulus time

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


class _Player(ABC):
    """Something a step started that keeps acting until it is done."""

    next_due: float  # monotonic
    background = False  # runs until the last check window closes; not in the timing verdict

    @abstractmethod
    def advance(self, engine: Engine, now: float) -> bool:
        """Act once; True when finished."""


@dataclass
class _Ramp(_Player):
    change: OutputChange
    start_values: dict[int, float] | float
    start: float
    duration: float
    next_due: float

    def advance(self, engine: Engine, now: float) -> bool:
        fraction = min(1.0, (now - self.start) / self.duration)
        change = self.change
        if change.kind == "current":
            start = float(self.start_values)  # type: ignore[arg-type]
            value: dict[int, float] | float = start + (float(change.amps or 0.0) - start) * \
                fraction
        else:
            starts = self.start_values
            assert isinstance(starts, dict)
            value = {i: starts[i] + (target - starts[i]) * fraction
                     for i, target in change.channels}
        engine.apply(change, value)
        self.next_due += TICK_SECONDS
        return fraction >= 1.0


@dataclass
class _Hold(_Player):
    change: OutputChange
    previous: dict[int, float] | float
    next_due: float

    def advance(self, engine: Engine, now: float) -> bool:
        engine.apply(self.change, self.previous)
        return True


@dataclass
class _Profile(_Player):
    play: ProfilePlay
    start: float
    next_due: float

    def advance(self, engine: Engine, now: float) -> bool:
        elapsed = now - self.start
        value = self.play.value_at(elapsed)
        change = OutputChange(self.play.kind, channels=tuple((i, value)
                                                             for i in self.play.channels),
                              amps=value)
        engine.apply(change, value if self.play.kind == "current"
                     else dict.fromkeys(self.play.channels, value))
        self.next_due += TICK_SECONDS
        return elapsed >= self.play.duration


@dataclass
class _Wait(_Player):
    condition: WaitCondition
    since: float          # epoch
    deadline: float       # monotonic
    step: CompiledStep
    next_due: float
    reached: float | None = None

    def __post_init__(self) -> None:
        self._predicate = self.condition.condition.raw_predicate()

    def advance(self, engine: Engine, now: float) -> bool:
        target = self.condition.target
        series = engine.rig.store.series(target.series_name)
        scanned = series.latest()  # taken first: a sample arriving during the scan is kept
        hit = series.first_where(self._predicate, self.since)
        if hit is not None:
            self.reached = hit.time
            return True
        if scanned is not None:  # the next poll looks only at what arrived since
            self.since = max(self.since, math.nextafter(scanned.time, math.inf))
        if now >= self.deadline:
            seen = series.latest()
            last = target.label_of(seen.value * target.factor) if seen else "nothing"
            raise HilError(f"{self.step.label}: {target.name} did not become "
                           f"{self.condition.condition} within "
                           f"{self.condition.within_seconds:g} s (last value {last})")
        self.next_due = now + WAIT_POLL_SECONDS
        return False


@dataclass
class _Plant(_Player):
    """The plant's 100 Hz loop; never finishes by itself."""

    loop: PlantLoop
    next_due: float
    background = True

    def advance(self, engine: Engine, now: float) -> bool:
        self.loop.tick()
        self.next_due += PLANT_TICK_SECONDS
        if self.next_due < now:  # fell behind (a stall): resume the rhythm, do not burst
            self.next_due = now + PLANT_TICK_SECONDS
        return False


@dataclass
class _FaultResetRelease(_Player):
    signal: str
    frame: PeriodicMessage
    next_due: float

    def advance(self, engine: Engine, now: float) -> bool:
        self.frame.update(**{self.signal: 0})
        return True


class Engine:
    """Runs scenarios on an opened rig."""

    def __init__(self, rig: Rig, progress: Progress | None = None) -> None:
        if rig.bms is None or rig.cells is None:
            raise HilError("the rig is not open")
        self.rig = rig
        self.progress = progress
        self._added: list[PeriodicMessage] = []
        self._touched: list[PeriodicMessage] = []
        self.plant: PlantLoop | None = None

    def run(self, scenario: Scenario) -> RunResult:
        result = RunResult(scenario, tolerance=self.rig.config.file.timing.tolerance_seconds)
        try:
            self._setup(scenario, result)
            self._timeline(scenario, result)
        except HilError as err:
            result.error = str(err)
        finally:
            self._restore_can()
            if self.plant is not None:
                self.plant.stop()
                result.timeline.append(TimelineEvent(time.time(), self.plant.summary()))
                self.plant = None
        result.timeline.sort(key=lambda e: e.time)
        return result

    # --- setup ----------------------------------------------------------------------------
    def _setup(self, scenario: Scenario, result: RunResult) -> None:
        rig, bms = self.rig, self.rig.bms
        assert bms is not None
        if scenario.plant is not None:
            self.plant = PlantLoop(rig, scenario.plant)
            done = self.plant.start()
            result.timeline.append(TimelineEvent(done, f"setup: {scenario.plant.describe()}"))
            # the BMS wakes up on the plant's pack, as in a vehicle: its SOC starts from
            # these cells' open-circuit voltage
            if rig.power_cycle_dut():
                result.timeline.append(TimelineEvent(time.time(),
                                                     "setup: BMS power-cycled on the plant"))
        for change in scenario.setup_changes:
            done = self.apply(change, change_values(change))
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
        epochs: dict[int, float] = {0: t0_mono}  # segment -> its start on the monotonic clock
        pending = list(scenario.steps)
        players: list[_Player] = []
        if self.plant is not None:
            players.append(_Plant(self.plant, t0_mono))
        late: list[float] = []
        total = scenario.duration
        last_progress = t0_mono
        aborted = False
        windows_end = 0.0  # when the steps run so far are done (background players run until)
        try:
            while pending or any(not p.background for p in players) or (
                    players and time.time() < windows_end):
                waiting = any(isinstance(p, _Wait) for p in players)
                step_due = (epochs[pending[0].segment] + pending[0].at
                            if pending and pending[0].segment in epochs and not waiting
                            else float("inf"))
                due = min(step_due, min((p.next_due for p in players), default=float("inf")))
                if due == float("inf"):
                    raise HilError("the timeline stalled: no step is due and nothing runs")
                _sleep_until(due)
                rig.check_alive()
                now = time.monotonic()
                if now >= step_due:
                    step = pending.pop(0)
                    late.append(now - step_due)
                    result.anchors[step.number] = self._run_step(step, players, result)
                    windows_end = _windows_end(scenario, result.anchors)
                for player in list(players):
                    now = time.monotonic()
                    if now < player.next_due:
                        continue
                    if not isinstance(player, _Wait) and not player.background:
                        late.append(now - player.next_due)
                    if player.advance(self, now):
                        players.remove(player)
                        if isinstance(player, _Wait):
                            epochs[player.step.segment + 1] = time.monotonic()
                            result.timeline.append(TimelineEvent(
                                player.reached or time.time(),
                                f"{player.step.label}: {player.condition.target.name} "
                                f"{player.condition.condition} (synchronised)"))
                if self.progress and now - last_progress >= 1.0:
                    last_progress = now
                    self.progress(now - t0_mono, total)
        except BaseException:  # an error, Ctrl-C or SIGTERM: judge now, do not wait
            aborted = True
            raise
        finally:
            self._finish(scenario, result, late, t0_mono, wait=not aborted)
        if self.progress:
            self.progress(time.monotonic() - t0_mono, total)

    def _finish(self, scenario: Scenario, result: RunResult, late: list[float],
                t0_mono: float, wait: bool) -> None:
        """Wait for every check window that can still close (unless the run was aborted),
        then judge every check."""
        rig = self.rig
        anchors = result.anchors
        if wait:
            end = _windows_end(scenario, anchors)
            while time.time() < end and rig.lost_reason is None:
                time.sleep(min(0.05, max(0.0, end - time.time())))
        bms = rig.bms
        if bms is not None:  # the rig's own periodic frames count too
            late.extend(lag for due, lag in list(bms.sender.lateness) if due >= t0_mono)
        if late:
            arr = np.array(late)
            result.lateness = Lateness(float(np.percentile(arr, 50)),
                                       float(np.percentile(arr, 99)), float(arr.max()),
                                       len(late))
        for step in scenario.steps:
            for check in step.checks:
                if step.number not in anchors:
                    result.outcomes.append(Outcome(
                        str(check), False, "the step to run", "the step never ran",
                        step=step.label, line=check.line, signals=check.series_names))
                    continue
                outcome = check.evaluate(rig.store, anchors[step.number], result.t0)
                result.outcomes.append(outcome)
                if outcome.at is not None:
                    late_note = "" if outcome.passed else " (too late)"
                    result.timeline.append(TimelineEvent(outcome.at,
                                                         f"{check.subject}{late_note}"))
                result.timeline.append(TimelineEvent(
                    anchors[step.number] + check.window_seconds,
                    f"window closes for: {check.subject}"))

    def _run_step(self, step: CompiledStep, players: list[_Player], result: RunResult) -> float:
        rig, bms = self.rig, self.rig.bms
        assert bms is not None
        now = time.monotonic()
        anchor = time.time()
        if step.request_state is not None:
            anchor = bms.request_state(step.request_state)
        elif step.fault_reset:
            spec, _ = rig.profile.input_message("state_request")  # type: ignore[union-attr]
            if spec.fault_reset is None:
                raise HilError(f"{step.label}: the DUT profile has no fault_reset input")
            sent = bms.state_request.update(send_now=True, **{spec.fault_reset: 1})
            anchor = sent or anchor
            players.append(_FaultResetRelease(spec.fault_reset, bms.state_request,
                                              now + FAULT_RESET_PULSE_SECONDS))
        elif step.ramp_seconds is not None:
            for change in step.changes:
                players.append(_Ramp(change, self._present(change), now, step.ramp_seconds, now))
        elif step.hold_seconds is not None:
            previous = [(c, self._present(c)) for c in step.changes]
            anchor = max(self.apply(c, change_values(c)) for c in step.changes)
            for change, before in previous:
                players.append(_Hold(change, before, now + step.hold_seconds))
        elif step.profile is not None:
            player = _Profile(step.profile, now, now)
            player.advance(self, now)
            player.next_due = now + TICK_SECONDS
            players.append(player)
        elif step.can is not None:
            anchor = self._can(step.can) or anchor
        elif step.fault is not None:
            cmd = step.fault
            try:
                if cmd.inject:
                    anchor = rig.faults.inject(cmd.kind, cmd.index, cmd.value)
                else:
                    anchor = rig.faults.clear(cmd.kind, cmd.index)
            except HilError as err:
                raise HilError(f"{step.label}: {err}") from None
        elif step.wait_until is not None:
            wait = step.wait_until
            players.append(_Wait(wait, anchor, now + wait.within_seconds, step, now))
        elif step.drive is not None or step.charge is not None:
            assert self.plant is not None  # the loader refuses drive/charge without a plant
            if step.drive is not None:
                self.plant.drive(step.drive)
            else:
                assert step.charge is not None
                self.plant.charge(step.charge)
        elif step.changes:
            anchor = max(self.apply(change, change_values(change)) for change in step.changes)
        result.timeline.append(TimelineEvent(anchor, f"{step.label}: {step.describe()}"))
        return anchor

    # --- CAN actions ----------------------------------------------------------------------
    def _can(self, cmd: CanCommand) -> float | None:
        bms = self.rig.bms
        assert bms is not None
        if cmd.verb == "send":
            values = dict(cmd.signals)
            if cmd.period:
                message = bms.profile.database.message(cmd.message)
                protected = cmd.message in bms.profile.spec.e2e_messages
                item = bms.sender.add(message, cmd.period, values, protected=protected)
                self._added.append(item)
                return item.update(send_now=True)
            return bms.send(cmd.message, **values)
        item = bms.sender.find(cmd.message)
        if item is None:
            raise HilError(f"the rig is not sending {cmd.message} periodically")
        self._touched.append(item)
        if cmd.verb == "stop":
            item.stop()
        elif cmd.verb == "start":
            item.start()
        elif cmd.verb == "corrupt":
            assert cmd.field is not None
            item.corrupt(cmd.field, cmd.frames)
        elif cmd.verb == "length":
            assert cmd.length is not None
            item.override_length(cmd.length, cmd.frames)
        return time.time()

    def _restore_can(self) -> None:
        """Leave the rig's own frames as the scenario found them."""
        bms = self.rig.bms
        for item in self._added:
            if bms is not None:
                bms.sender.remove(item)
        for item in self._touched:
            item.bad_crc_frames = item.stuck_counter_frames = 0
            item.length_override = None
            item.start()
        self._added.clear()
        self._touched.clear()

    # --- outputs --------------------------------------------------------------------------
    def _present(self, change: OutputChange) -> dict[int, float] | float:
        rig = self.rig
        if change.kind == "current":
            assert rig.current is not None
            return rig.current.commanded() or 0.0
        if change.kind == "lines":
            raise HilError("digital lines cannot be ramped or held")
        source = rig.cells if change.kind == "cells" else rig.temperatures
        assert source is not None
        out = {}
        for index, target in change.channels:
            present = source.commanded(index)
            out[index] = target if present is None else present
        return out

    def apply(self, change: OutputChange, values: dict[int, float] | float) -> float:
        """Write `values` for this kind of output; returns when the write completed."""
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


def _windows_end(scenario: Scenario, anchors: dict[int, float]) -> float:
    """Epoch time the steps that ran are done: every action over, every check window closed
    (now if nothing is left)."""
    ends = [anchors[s.number] + max([s.busy_seconds, *(c.window_seconds for c in s.checks)])
            for s in scenario.steps if s.number in anchors]
    return max(ends, default=time.time())


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
        else:
            time.sleep(0)
