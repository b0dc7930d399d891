"""Checks judge a crafted signal history: verdicts, evidence text and measurements."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.conditions import Condition, condition
from hil.profile import Profile
from hil.scenario import checks
from hil.signals import SignalStore

REPO = Path(__file__).resolve().parents[2]
PROFILE = Profile.load(REPO / "dbc" / "bms.profile.yaml")
T0 = 1000.0


def store_with(series: str, points: list[tuple[float, float]]) -> SignalStore:
    store = SignalStore()
    for t, v in points:
        store.series(series).append(T0 + t, v)
    return store


def test_becomes_measures_the_reaction_time() -> None:
    target = PROFILE.resolve("fault.over_voltage")
    store = store_with(target.series_name, [(0.05, 0), (0.10, 0), (0.15, 1), (0.20, 1)])
    check = checks.Becomes(target, condition(target, "ACTIVE"), 0.5, "step 1", 7)
    outcome = check.evaluate(store, T0, T0)
    assert outcome.passed
    (m,) = outcome.measurements
    assert m.value == pytest.approx(0.15) and m.high == 0.5 and m.passed
    assert "ACTIVE at t=0.150 s" in outcome.seen


def test_becomes_too_late_says_when_it_happened() -> None:
    target = PROFILE.resolve("fault.over_voltage")
    store = store_with(target.series_name, [(0.1, 0), (0.4, 0), (0.9, 1)])
    outcome = checks.Becomes(target, condition(target, "ACTIVE"), 0.5, "step 2", None).evaluate(
        store, T0, T0)
    assert not outcome.passed
    assert "INACTIVE from t=0.100 s to t=0.400 s (2 frames)" in outcome.seen
    assert "reached ACTIVE only at t=0.900 s (0.900 s after the step)" in outcome.seen
    assert outcome.measurements[0].value == pytest.approx(0.9)
    assert not outcome.measurements[0].passed


def test_stays_and_never() -> None:
    target = PROFILE.resolve("contactor.main_positive")
    points = [(0.1 * i, 0) for i in range(1, 10)] + [(1.05, 1)]
    store = store_with(target.series_name, points)
    stays = checks.Stays(target, condition(target, "OPEN"), 0.0, 1.0, "step 1", None)
    assert stays.evaluate(store, T0, T0).passed
    longer = checks.Stays(target, condition(target, "OPEN"), 0.0, 1.1, "step 1", None)
    outcome = longer.evaluate(store, T0, T0)
    assert not outcome.passed and "CLOSED at t=1.050 s (1 of 10 frames)" in outcome.seen
    never = checks.Never(target, condition(target, "CLOSED"), 0.5, 0.5, "step 1", None)
    assert never.evaluate(store, T0, T0).passed
    assert not checks.Never(target, condition(target, "CLOSED"), 0.5, 0.6, "s", None).evaluate(
        store, T0, T0).passed


def test_window_without_frames_fails() -> None:
    target = PROFILE.resolve("state")
    outcome = checks.Stays(target, condition(target, "DRIVE"), 0, 1, "s", None).evaluate(
        SignalStore(), T0, T0)
    assert not outcome.passed and "no frame carrying BMS_Status.BMS_State" in outcome.seen


def test_in_range_records_min_and_max() -> None:
    target = PROFILE.resolve("soc")
    store = store_with(target.series_name, [(0.1, 50.0), (0.2, 50.4), (0.3, 49.8)])
    cond = Condition("between", 49.5, target, "49.5..50.5 %", high=50.5)
    outcome = checks.InRange(target, cond, 0, 1, "s", None).evaluate(store, T0, T0)
    assert outcome.passed
    low, high = outcome.measurements
    assert (low.value, high.value) == (49.8, 50.4)
    tight = Condition("between", 49.9, target, "49.9..50.5 %", high=50.5)
    assert not checks.InRange(target, tight, 0, 1, "s", None).evaluate(store, T0, T0).passed


def test_tracks_compares_each_channel_with_the_emulated_value_at_that_time() -> None:
    store = SignalStore()
    targets = [(i, PROFILE.resolve(f"cell_voltage[{i}]")) for i in (1, 2)]
    for i, target in targets:
        store.series(f"stimulus.cell_volts[{i}]").append(T0, 3.7)
        store.series(f"stimulus.cell_volts[{i}]").append(T0 + 0.5, 3.9)
        store.series(target.series_name).append(T0 + 0.2, 3.701)
        store.series(target.series_name).append(T0 + 0.7, 3.9 if i == 1 else 3.88)
    check = checks.Tracks("cell_volts", targets, 0.005, 0.0, 1.0, "step 1", None)
    outcome = check.evaluate(store, T0, T0)
    assert not outcome.passed
    assert "worst cell_voltage[2]: 3.88 V while 3.9 V was emulated" in outcome.seen
    assert "out of tolerance: 2" in outcome.seen
    assert outcome.measurements[0].value == pytest.approx(0.02)
    loose = checks.Tracks("cell_volts", targets, 0.03, 0.0, 1.0, "step 1", None)
    assert loose.evaluate(store, T0, T0).passed


def test_cycle_time_per_multiplexer_value() -> None:
    store = SignalStore()
    for k in range(10):  # mux 0 and 1, each every 200 ms
        store.series("BMS_CellVoltages.CellVoltagesMux").append(T0 + 0.2 * k, 0)
        store.series("BMS_CellVoltages.CellVoltagesMux").append(T0 + 0.2 * k + 0.1, 1)
    check = checks.CycleTime("BMS_CellVoltages", "BMS_CellVoltages.CellVoltagesMux", True, 0.2,
                             10, 0.0, 2.0, "step 1", None)
    outcome = check.evaluate(store, T0, T0)
    assert outcome.passed, outcome.seen
    assert outcome.measurements[0].value == pytest.approx(200.0)
    as_one = checks.CycleTime("BMS_CellVoltages", "BMS_CellVoltages.CellVoltagesMux", False, 0.2,
                              10, 0.0, 2.0, "step 1", None)
    assert not as_one.evaluate(store, T0, T0).passed  # every 100 ms without the mux split


def test_cycle_time_flags_a_missing_frame() -> None:
    times = [0.05 * k for k in range(20) if k != 10]
    store = store_with("BMS_Status.BMS_State", [(t, 1) for t in times])
    outcome = checks.CycleTime("BMS_Status", "BMS_Status.BMS_State", False, 0.05, 50, 0.0, 1.0,
                               "s", None).evaluate(store, T0, T0)
    assert outcome.measurements[1].value == pytest.approx(100.0)  # the gap, within 2 periods
    gap = [0.05 * k for k in range(20) if k not in (10, 11)]
    store = store_with("BMS_Status.BMS_State", [(t, 1) for t in gap])
    assert not checks.CycleTime("BMS_Status", "BMS_Status.BMS_State", False, 0.05, 50, 0.0, 1.0,
                                "s", None).evaluate(store, T0, T0).passed


# --- follows: the BMS against the plant's truth ---------------------------------------------

def _soc_store(reported: list[tuple[float, float]], truth: list[tuple[float, float]]
               ) -> tuple[SignalStore, object]:
    target = PROFILE.resolve("soc")
    store = store_with(target.series_name, [(t, v / target.factor) for t, v in reported])
    for t, v in truth:
        store.series("plant.soc").append(T0 + t, v)
    return store, target


def test_follows_passes_within_tolerance_and_measures_the_worst_error() -> None:
    store, target = _soc_store([(0.5, 50.0), (1.0, 50.4), (1.5, 49.8)],
                               [(0.0, 50.0), (1.0, 50.1), (1.4, 50.0)])
    check = checks.Follows(target, "plant.soc", "%", 0.5, None, 0.0, 0.0, 2.0, "step 1", 3)
    outcome = check.evaluate(store, T0, T0)
    assert outcome.passed
    (m,) = outcome.measurements
    assert m.value == pytest.approx(0.3) and m.high == 0.5   # 50.4 vs 50.1 at t=1.0
    assert "3 frames compared" in outcome.seen


def test_follows_fails_beyond_tolerance() -> None:
    store, target = _soc_store([(0.5, 50.0), (1.0, 52.0)], [(0.0, 50.0)])
    outcome = checks.Follows(target, "plant.soc", "%", 1.0, None, 0.0, 0.0, 2.0, "step 1",
                             None).evaluate(store, T0, T0)
    assert not outcome.passed
    assert "error +2 %" in outcome.seen and "at t=1.000 s" in outcome.seen


def test_follows_lag_accepts_a_value_the_truth_had_a_moment_before() -> None:
    # the truth steps from 0 to 100 A at t=1.0; the BMS reports 0 A at t=1.2 (old news)
    target = PROFILE.resolve("pack_current")
    store = store_with(target.series_name, [(1.2, 0.0 / target.factor)])
    for t, v in [(0.0, 0.0), (1.0, 100.0)]:
        store.series("plant.current").append(T0 + t, v)
    strict = checks.Follows(target, "plant.current", "A", 2.0, None, 0.0, 0.0, 2.0, "s", None)
    lagged = checks.Follows(target, "plant.current", "A", 2.0, None, 0.3, 0.0, 2.0, "s", None)
    assert not strict.evaluate(store, T0, T0).passed
    assert lagged.evaluate(store, T0, T0).passed


def test_follows_change_tolerance_catches_a_wrong_rate() -> None:
    # true SOC rises 1.0 %; a BMS counting 5 % too fast reports 1.05 %
    truth = [(0.0, 50.0), (10.0, 51.0)]
    good, target = _soc_store([(0.1, 50.0), (10.1, 51.0)], truth)
    fast, _ = _soc_store([(0.1, 50.0), (10.1, 51.05)], truth)
    check = checks.Follows(target, "plant.soc", "%", 1.0, 2.5, 0.0, 0.0, 11.0, "step 1", None)
    ok = check.evaluate(good, T0, T0)
    assert ok.passed and ok.measurements[1].value == pytest.approx(0.0, abs=1e-6)
    bad = check.evaluate(fast, T0, T0)
    assert not bad.passed
    assert bad.measurements[1].value == pytest.approx(5.0, rel=1e-3)
    assert "(5.00 % off)" in bad.seen


def test_follows_without_truth_or_change_is_not_a_pass() -> None:
    store, target = _soc_store([(0.5, 50.0), (1.0, 50.0)], [])
    check = checks.Follows(target, "plant.soc", "%", 1.0, 2.5, 0.0, 0.0, 2.0, "step 1", None)
    outcome = check.evaluate(store, T0, T0)
    assert not outcome.passed
    assert "nothing to compare" in outcome.seen and "change not judged" in outcome.seen
