"""Capability base classes: limits before any write, slew ramps, safe state, closed outputs."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.capabilities import CellVoltageSource, CurrentSource, DigitalLines, Range
from hil.errors import LimitError


class RecordingCells(CellVoltageSource):
    def __init__(self, count: int = 4, limits: Range | None = None) -> None:
        super().__init__(count, limits or Range(2.5, 4.3, "V", "test limits"), 3.7)
        self.writes: list[dict[int, float]] = []

    def _write(self, values: dict[int, float]) -> None:
        self.writes.append(dict(values))


def test_value_outside_limits_is_refused_before_any_write() -> None:
    cells = RecordingCells()
    with pytest.raises(LimitError, match=r"cell 2: 4.5 V is above the limit 4.3 V \(test limits\)"):
        cells.set({1: 3.0, 2: 4.5})
    assert cells.writes == []
    assert cells.commanded(1) is None


def test_unknown_cell_and_nan_are_refused() -> None:
    cells = RecordingCells()
    with pytest.raises(LimitError, match=r"cell 5 does not exist \(this rig has cells 1..4\)"):
        cells.set({5: 3.7})
    with pytest.raises(LimitError, match="is not a number"):
        cells.set({1: float("nan")})
    assert cells.writes == []


def test_safe_value_must_be_within_limits() -> None:
    with pytest.raises(LimitError, match="safe state"):
        CellVoltageSource.__init__(RecordingCells.__new__(RecordingCells), 1,
                                   Range(2.5, 4.3, "V"), 5.0)


def test_without_slew_limit_one_write() -> None:
    cells = RecordingCells()
    cells.set({1: 3.0})
    cells.set({1: 4.2})
    assert cells.writes == [{1: 3.0}, {1: 4.2}]


def test_slew_limit_turns_a_step_into_a_ramp() -> None:
    cells = RecordingCells(limits=Range(2.5, 4.3, "V", max_slew=100.0))  # 0.2 V per 2 ms
    cells.set({1: 3.0, 2: 3.0})
    cells.writes.clear()
    started = time.monotonic()
    cells.set({1: 4.0, 2: 3.1})
    took = time.monotonic() - started
    assert len(cells.writes) == 5                      # 1.0 V at 0.2 V per step
    assert [w[1] for w in cells.writes] == pytest.approx([3.2, 3.4, 3.6, 3.8, 4.0])
    assert cells.writes[-1] == {1: 4.0, 2: 3.1}
    assert took >= 4 * cells.slew_step_seconds * 0.9
    assert cells.commanded(1) == 4.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.integers(1, 4), st.floats(0.0, 6.0), min_size=1), max_size=6))
def test_no_write_ever_leaves_the_limits(requests: list[dict[int, float]]) -> None:
    cells = RecordingCells(limits=Range(2.5, 4.3, "V", max_slew=2000.0))
    for request in requests:
        with contextlib.suppress(LimitError):
            cells.set(request)
        cells.go_safe()
    for write in cells.writes:
        assert all(2.5 <= v <= 4.3 for v in write.values()), write


def test_go_safe_sets_every_channel() -> None:
    cells = RecordingCells()
    cells.set({2: 3.0})
    cells.go_safe()
    assert cells.writes[-1] == {1: 3.7, 2: 3.7, 3: 3.7, 4: 3.7}
    assert [cells.commanded(i) for i in range(1, 5)] == [3.7] * 4


def test_closed_source_refuses_writes() -> None:
    cells = RecordingCells()
    cells.close()
    with pytest.raises(LimitError, match="closed"):
        cells.set({1: 3.7})


class RecordingCurrent(CurrentSource):
    def __init__(self) -> None:
        super().__init__(Range(-100, 100, "A", "test limits"))
        self.writes: list[float] = []

    def _write(self, amps: float) -> None:
        self.writes.append(amps)


def test_current_limits_and_safe_state() -> None:
    current = RecordingCurrent()
    with pytest.raises(LimitError, match=r"pack current: -150 A is below the limit -100 A"):
        current.set(-150)
    done = current.set(20)
    assert done <= time.time() and current.commanded() == 20
    current.go_safe()
    assert current.writes == [20, 0.0]


class RecordingLines(DigitalLines):
    def __init__(self) -> None:
        super().__init__({"relay": False, "wake": True}, ["contactor"])
        self.levels: dict[str, bool] = {}

    def _write(self, name: str, level: bool) -> None:
        self.levels[name] = level

    def _read(self, name: str) -> bool:
        return self.levels.get(name, False)


def test_lines_outputs_inputs_and_safe_levels() -> None:
    lines = RecordingLines()
    lines.set("relay", True)
    with pytest.raises(LimitError, match="'contactor' is not an output of this rig"):
        lines.set("contactor", True)
    with pytest.raises(LimitError, match="'nope' is not a line of this rig"):
        lines.get("nope")
    lines.go_safe()
    assert lines.levels == {"relay": False, "wake": True}
