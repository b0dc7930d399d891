"""The timestamped signal store: every decoded value of every signal, in arrival order.

Checks need history, not just the latest value: "became 1 within 0.5 s after the step" is a
question about the samples between two times. The receive thread appends; tests and the
scenario engine read and wait. Appends are lock-free (one `array` append each, atomic under the
GIL); readers copy slices, so the writer never blocks on a reader.
"""

from __future__ import annotations

import bisect
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sample:
    """One decoded value and the time (epoch seconds, receive timestamp) it arrived."""

    time: float
    value: float


class Series:
    """Append-only history of one signal."""

    __slots__ = ("_times", "_values", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._times = array("d")
        self._values = array("d")

    def append(self, t: float, value: float) -> None:
        # times first, values second: readers size by len(values), so they never see a
        # value without its time.
        self._times.append(t)
        self._values.append(value)

    def __len__(self) -> int:
        return len(self._values)

    def latest(self) -> Sample | None:
        n = len(self._values)
        if n == 0:
            return None
        return Sample(self._times[n - 1], self._values[n - 1])

    def _index_at(self, t: float, n: int) -> int:
        """First index < n whose time is >= t."""
        return bisect.bisect_left(self._times, t, 0, n)

    def samples(self, start: float = float("-inf"), end: float = float("inf")) -> list[Sample]:
        """Samples with start <= time <= end."""
        n = len(self._values)
        lo = self._index_at(start, n)
        hi = bisect.bisect_right(self._times, end, lo, n)
        times = self._times[lo:hi]
        values = self._values[lo:hi]
        return [Sample(t, v) for t, v in zip(times, values, strict=True)]

    def arrays(self, start: float = float("-inf"), end: float = float("inf")
               ) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (times, values) between start and end, as numpy arrays."""
        n = len(self._values)
        lo = self._index_at(start, n)
        hi = bisect.bisect_right(self._times, end, lo, n)
        return (np.frombuffer(self._times[lo:hi], dtype=np.float64),
                np.frombuffer(self._values[lo:hi], dtype=np.float64))

    def value_at(self, t: float) -> Sample | None:
        """The last sample at or before t (what a reader would have seen at time t)."""
        n = len(self._values)
        i = bisect.bisect_right(self._times, t, 0, n)
        if i == 0:
            return None
        return Sample(self._times[i - 1], self._values[i - 1])

    def first_where(self, predicate: Callable[[float], bool], start: float,
                    end: float = float("inf")) -> Sample | None:
        """First sample in [start, end] whose value satisfies predicate."""
        n = len(self._values)
        i = self._index_at(start, n)
        times, values = self._times, self._values
        while i < n:
            t = times[i]
            if t > end:
                return None
            v = values[i]
            if predicate(v):
                return Sample(t, v)
            i += 1
        return None


class SignalStore:
    """All series by name (``Message.Signal``), plus frame counters for integrity checks."""

    def __init__(self) -> None:
        self._series: dict[str, Series] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(threading.Lock())
        self._waiters = 0

    def series(self, name: str) -> Series:
        """The series for `name`, created empty if nothing arrived yet."""
        found = self._series.get(name)
        if found is None:
            with self._lock:
                found = self._series.setdefault(name, Series(name))
        return found

    def names(self) -> list[str]:
        return sorted(self._series)

    def __contains__(self, name: str) -> bool:
        return name in self._series and len(self._series[name]) > 0

    def latest(self, name: str) -> Sample | None:
        series = self._series.get(name)
        return series.latest() if series is not None else None

    def notify(self) -> None:
        """Called by the writer after a batch of appends; wakes `wait` only if someone waits."""
        if self._waiters:
            with self._changed:
                self._changed.notify_all()

    def wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Block until `ready()` is true or `timeout` seconds pass; returns ready()."""
        deadline = time.monotonic() + timeout
        if ready():
            return True
        with self._changed:
            self._waiters += 1
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return ready()
                    self._changed.wait(min(remaining, 0.05))
                    if ready():
                        return True
            finally:
                self._waiters -= 1

    def __iter__(self) -> Iterator[Series]:
        return iter(list(self._series.values()))
