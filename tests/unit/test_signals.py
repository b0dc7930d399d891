"""Unit tests for hil.signals: Series history queries and SignalStore waiting."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.signals import Sample, Series, SignalStore

FAST = settings(max_examples=100, deadline=None, database=None)


@pytest.fixture
def series() -> Series:
    s = Series("M.S")
    for t, v in [(1.0, 10.0), (2.0, 20.0), (3.0, 30.0), (3.0, 31.0), (5.0, 50.0)]:
        s.append(t, v)
    return s


def test_empty_series() -> None:
    s = Series("M.S")
    assert len(s) == 0
    assert s.latest() is None
    assert s.samples() == []
    assert s.value_at(100.0) is None
    assert s.first_where(lambda v: True, 0.0) is None
    times, values = s.arrays()
    assert times.size == 0 and values.size == 0


def test_append_and_latest(series: Series) -> None:
    assert series.name == "M.S"
    assert len(series) == 5
    assert series.latest() == Sample(5.0, 50.0)


def test_samples_window_is_inclusive(series: Series) -> None:
    assert [s.value for s in series.samples()] == [10.0, 20.0, 30.0, 31.0, 50.0]
    assert series.samples(2.0, 3.0) == [Sample(2.0, 20.0), Sample(3.0, 30.0),
                                         Sample(3.0, 31.0)]
    assert series.samples(3.5, 4.5) == []
    assert series.samples(4.0, 2.0) == []
    assert series.samples(start=5.0) == [Sample(5.0, 50.0)]
    assert series.samples(end=1.0) == [Sample(1.0, 10.0)]


def test_value_at_is_the_last_sample_at_or_before(series: Series) -> None:
    assert series.value_at(0.999) is None
    assert series.value_at(1.0) == Sample(1.0, 10.0)
    assert series.value_at(2.5) == Sample(2.0, 20.0)
    assert series.value_at(3.0) == Sample(3.0, 31.0)  # the later of two equal times
    assert series.value_at(1e9) == Sample(5.0, 50.0)


def test_first_where(series: Series) -> None:
    assert series.first_where(lambda v: v > 15, 0.0) == Sample(2.0, 20.0)
    assert series.first_where(lambda v: v > 15, 2.5) == Sample(3.0, 30.0)
    assert series.first_where(lambda v: v > 30, 3.0) == Sample(3.0, 31.0)
    assert series.first_where(lambda v: v > 15, 0.0, end=1.5) is None
    assert series.first_where(lambda v: v == 50.0, 5.0, end=5.0) == Sample(5.0, 50.0)
    assert series.first_where(lambda v: v > 100, 0.0) is None


def test_arrays_are_copies(series: Series) -> None:
    times, values = series.arrays(2.0, 3.0)
    assert times.dtype == np.float64
    np.testing.assert_array_equal(times, [2.0, 3.0, 3.0])
    np.testing.assert_array_equal(values, [20.0, 30.0, 31.0])
    series.append(6.0, 60.0)  # appending later does not change what was returned
    np.testing.assert_array_equal(values, [20.0, 30.0, 31.0])
    all_times, _ = series.arrays()
    assert all_times[-1] == 6.0


@FAST
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(-1e6, 1e6)), max_size=40),
       st.floats(-1, 101), st.floats(-1, 101))
def test_queries_agree_with_a_linear_scan(points: list, start: float, end: float) -> None:
    points.sort(key=lambda p: p[0])
    s = Series("x")
    for t, v in points:
        s.append(t, v)
    assert s.samples(start, end) == [Sample(t, v) for t, v in points if start <= t <= end]
    before = [Sample(t, v) for t, v in points if t <= start]
    assert s.value_at(start) == (before[-1] if before else None)
    hits = [Sample(t, v) for t, v in points if start <= t <= end and v > 0]
    assert s.first_where(lambda v: v > 0, start, end) == (hits[0] if hits else None)


# --- SignalStore ---------------------------------------------------------------------------

def test_store_series_are_created_on_demand_and_shared() -> None:
    store = SignalStore()
    a = store.series("M.A")
    assert store.series("M.A") is a
    assert "M.A" not in store  # exists but empty
    assert store.latest("M.A") is None
    assert store.latest("M.unknown") is None
    a.append(1.0, 2.0)
    assert "M.A" in store
    assert store.latest("M.A") == Sample(1.0, 2.0)
    store.series("B.B")
    assert store.names() == ["B.B", "M.A"]
    assert {s.name for s in store} == {"M.A", "B.B"}


def test_wait_returns_at_once_when_ready() -> None:
    store = SignalStore()
    start = time.monotonic()
    assert store.wait(lambda: True, timeout=5.0)
    assert time.monotonic() - start < 0.5


def test_wait_times_out_false() -> None:
    store = SignalStore()
    start = time.monotonic()
    assert not store.wait(lambda: False, timeout=0.08)
    elapsed = time.monotonic() - start
    assert 0.08 <= elapsed < 1.0


def test_wait_wakes_when_another_thread_appends_and_notifies() -> None:
    store = SignalStore()
    series = store.series("BMS_Status.BMS_State")

    def writer() -> None:
        time.sleep(0.05)
        series.append(1.0, 5.0)
        store.notify()

    thread = threading.Thread(target=writer)
    start = time.monotonic()
    thread.start()
    try:
        ok = store.wait(lambda: "BMS_Status.BMS_State" in store, timeout=5.0)
    finally:
        thread.join()
    assert ok
    assert time.monotonic() - start < 2.0
    assert store.latest("BMS_Status.BMS_State") == Sample(1.0, 5.0)


def test_notify_without_waiters_is_harmless() -> None:
    store = SignalStore()
    store.notify()
    assert store._waiters == 0
    assert not store.wait(lambda: False, timeout=0.01)
    assert store._waiters == 0
