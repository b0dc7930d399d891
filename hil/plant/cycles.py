"""Load profiles for the plant: drive cycles from files, and chargers that react to the pack.

Two file formats, both 1 Hz-ish tables interpolated linearly in between:

- PyBaMM drive cycles (``time, current`` or ``time, power`` after ``#`` comment lines, the unit
  named in the last comment: "Current [A]", "Power [kW]"). PyBaMM's sign: > 0 discharges, as
  here. They are single-cell profiles; scale them for a pack (`Profile.scaled`).
- FASTSim speed cycles (``cycSecs,cycMps,cycGrade[,cycRoadType]``, some files with a UTF-8 BOM).
  A `Vehicle` turns speed, acceleration and grade into pack power.

Chargers (`ConstantCurrentCharge`, `ConstantPowerCharge`, `CcCvCharge`) compute the next
step's current from the pack's state, so a voltage limit is held without overshoot.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hil.errors import ConfigError, HilError
from hil.plant.pack import PackModel
from hil.yamlfile import did_you_mean

_UNIT_IN_HEADER = re.compile(r"(current|power)\s*\[\s*(a|ma|w|kw)\s*\]", re.IGNORECASE)
_TO_SI = {"a": ("current", "A", 1.0), "ma": ("current", "A", 1e-3),
          "w": ("power", "W", 1.0), "kw": ("power", "W", 1e3)}


def _time_problem(seconds: np.ndarray) -> str | None:
    """Why `seconds` cannot be a time axis, or None."""
    if seconds.size < 2:
        return "a profile needs at least two samples"
    if not np.all(np.isfinite(seconds)):
        return "every time must be a finite number"
    bad = np.flatnonzero(np.diff(seconds) <= 0)
    if bad.size:
        k = int(bad[0])
        return f"time must increase: {seconds[k]:g} s is followed by {seconds[k + 1]:g} s"
    return None


def _wrap(t: float | np.ndarray, start: float, duration: float, loop: bool) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return start + np.mod(t - start, duration) if loop else t


@dataclass(frozen=True, eq=False)
class Profile:
    """One quantity over time: "current" in A or "power" in W, > 0 discharging the pack."""

    seconds: np.ndarray
    values: np.ndarray
    quantity: str = "current"
    source: str = ""

    def __post_init__(self) -> None:
        if self.quantity not in ("current", "power"):
            raise ValueError(f"quantity must be 'current' or 'power', got {self.quantity!r}")
        seconds = np.array(self.seconds, dtype=float)
        values = np.array(self.values, dtype=float)
        if seconds.shape != values.shape or seconds.ndim != 1:
            raise ValueError("seconds and values must be 1-D arrays of equal length")
        problem = _time_problem(seconds)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "seconds", seconds)
        object.__setattr__(self, "values", values)

    @property
    def unit(self) -> str:
        return "A" if self.quantity == "current" else "W"

    @property
    def duration(self) -> float:
        return float(self.seconds[-1] - self.seconds[0])

    def at(self, t: float | np.ndarray, *, loop: bool = False) -> np.ndarray:
        """Linear between samples; held beyond the ends, or repeated with `loop`."""
        t = _wrap(t, self.seconds[0], self.duration, loop)
        return np.interp(t, self.seconds, self.values)

    def scaled(self, factor: float) -> Profile:
        """Values times `factor`, e.g. a single-cell current times the cells in parallel."""
        return Profile(self.seconds, self.values * factor, self.quantity, self.source)


def read_pybamm_profile(path: str | os.PathLike[str], quantity: str | None = None) -> Profile:
    """A PyBaMM drive-cycle CSV; the quantity and unit come from its header comment.

    Give `quantity` ("current" in A, "power" in W) for files whose header names no unit.
    """
    path = Path(path)
    unit: tuple[str, str, float] | None = None
    rows: list[tuple[float, float]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for number, line in enumerate(f, start=1):
                text = line.strip()
                if not text:
                    continue
                if text.startswith("#"):
                    match = _UNIT_IN_HEADER.search(text)
                    if match:
                        unit = _TO_SI[match.group(2).lower()]
                    continue
                fields = text.split(",")
                try:
                    row = (float(fields[0]), float(fields[1]))
                except (ValueError, IndexError):
                    row = (np.nan, np.nan)
                if not np.all(np.isfinite(row)):
                    raise ConfigError(f"expected 'time, value' as two finite numbers, got "
                                      f"{text!r}", path=path, line=number)
                rows.append(row)
    except FileNotFoundError:
        raise ConfigError("profile file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read profile: {err}", path=path) from err
    if quantity is not None:
        unit = (quantity, "", 1.0)
    if unit is None:
        raise ConfigError("the header names no 'Current [A]' or 'Power [kW]' column: pass "
                          "quantity='current' (A) or 'power' (W)", path=path)
    data = np.array(rows, dtype=float).reshape(-1, 2)
    problem = _time_problem(data[:, 0])
    if problem:
        raise ConfigError(problem, path=path)
    return Profile(data[:, 0], data[:, 1] * unit[2], unit[0], source=str(path))


@dataclass(frozen=True, eq=False)
class SpeedCycle:
    """Vehicle speed over time (m/s) and road grade (rise/run), linear between samples."""

    seconds: np.ndarray
    mps: np.ndarray
    grade: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        arrays = [np.array(a, dtype=float) for a in (self.seconds, self.mps, self.grade)]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
            raise ValueError("seconds, mps and grade must be 1-D arrays of equal length")
        problem = _time_problem(arrays[0])
        if problem:
            raise ValueError(problem)
        for name, arr in zip(("seconds", "mps", "grade"), arrays, strict=True):
            object.__setattr__(self, name, arr)
        # the acceleration of each interval, once: `at` runs on every plant tick
        object.__setattr__(self, "_slopes", np.diff(arrays[1]) / np.diff(arrays[0]))

    @property
    def duration(self) -> float:
        return float(self.seconds[-1] - self.seconds[0])

    @property
    def distance_m(self) -> float:
        return float(np.sum(0.5 * (self.mps[1:] + self.mps[:-1]) * np.diff(self.seconds)))

    def at(self, t: float | np.ndarray, *, loop: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(speed m/s, acceleration m/s^2, grade) at `t`.

        The acceleration is the slope of the interpolated speed: constant within a sample
        interval, 0 beyond the ends.
        """
        t = _wrap(t, self.seconds[0], self.duration, loop)
        speed = np.interp(t, self.seconds, self.mps)
        grade = np.interp(t, self.seconds, self.grade)
        slopes = self._slopes  # type: ignore[attr-defined]
        k = np.searchsorted(self.seconds, t, side="right") - 1
        inside = (k >= 0) & (k < slopes.size)
        accel = np.where(inside, slopes[np.clip(k, 0, slopes.size - 1)], 0.0)
        return speed, accel, grade


def read_fastsim_cycle(path: str | os.PathLike[str]) -> SpeedCycle:
    """A FASTSim cycle CSV (``cycSecs``, ``cycMps``, optional ``cycGrade``; BOM tolerated)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in ("cycSecs", "cycMps") if c not in columns]
            if missing:
                raise ConfigError(f"missing column(s) {', '.join(missing)}; found "
                                  f"{', '.join(columns) or 'none'}", path=path, line=1)
            secs, mps, grade = [], [], []
            for row in reader:
                row = {k.strip(): v for k, v in row.items() if k is not None}
                if not any((v or "").strip() for v in row.values()):
                    continue
                for column in ("cycSecs", "cycMps", "cycGrade"):
                    text = (row.get(column) or ("0" if column == "cycGrade" else "")).strip()
                    try:
                        value = float(text)
                    except ValueError:
                        value = np.nan
                    if not np.isfinite(value):
                        raise ConfigError(f"expected a finite number, got {text!r}", path=path,
                                          line=reader.line_num, field=column)
                    {"cycSecs": secs, "cycMps": mps, "cycGrade": grade}[column].append(value)
    except FileNotFoundError:
        raise ConfigError("speed cycle file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read speed cycle: {err}", path=path) from err
    problem = _time_problem(np.array(secs))
    if problem:
        raise ConfigError(problem, path=path)
    return SpeedCycle(np.array(secs), np.array(mps), np.array(grade), source=str(path))


# ---------------------------------------------------------------------------------------------
# Chargers and power control


def power_to_amps(pack: PackModel, watts: float, dt: float) -> float:
    """The current that draws `watts` from the pack over the next step (> 0 discharges).

    Solves P = I*(E - I*Z) with the pack's linear voltage response over `dt`, the root nearer
    zero. Beyond the pack's maximum power it returns the maximum-power current E/(2Z).
    """
    e_cells, z_cells = pack.voltage_response(dt)
    e, z = float(e_cells.sum()), float(z_cells.sum())
    if z <= 0.0:
        return watts / e
    disc = e * e - 4.0 * z * watts
    if disc < 0.0:
        return e / (2.0 * z)
    return 2.0 * watts / (e + np.sqrt(disc))  # = (e - sqrt(disc)) / 2z, without cancellation


@dataclass
class ConstantCurrentCharge:
    """Charge at `amps` until the highest cell reaches `stop_cell_volts` (if given)."""

    amps: float
    stop_cell_volts: float | None = None
    finished: bool = field(default=False, init=False)

    def current(self, pack: PackModel, dt: float) -> float:
        if self.stop_cell_volts is not None and pack.cell_volts.max() >= self.stop_cell_volts:
            self.finished = True
        return 0.0 if self.finished else -abs(self.amps)


@dataclass
class ConstantPowerCharge:
    """Charge at `watts` into the pack until the highest cell reaches `stop_cell_volts`."""

    watts: float
    stop_cell_volts: float | None = None
    finished: bool = field(default=False, init=False)

    def current(self, pack: PackModel, dt: float) -> float:
        if self.stop_cell_volts is not None and pack.cell_volts.max() >= self.stop_cell_volts:
            self.finished = True
        return 0.0 if self.finished else power_to_amps(pack, -abs(self.watts), dt)


@dataclass
class CcCvCharge:
    """Constant current until a cell reaches `max_cell_volts`, then hold it there (CV).

    In CV the current is the largest charge current (up to `amps`) that keeps every cell at
    or below the limit at the end of the next step; the charge ends when it falls below
    `cutoff_amps`. `max_pack_volts` adds a pack-level limit (a charger's voltage setting).
    """

    amps: float
    max_cell_volts: float
    cutoff_amps: float
    max_pack_volts: float | None = None
    finished: bool = field(default=False, init=False)
    in_cv: bool = field(default=False, init=False)

    def current(self, pack: PackModel, dt: float) -> float:
        if self.finished:
            return 0.0
        e, z = pack.voltage_response(dt)
        # V = E - I*Z <= limit  <=>  I >= (E - limit) / Z   (I < 0 charges)
        floor = float(np.max((e - self.max_cell_volts) / z))
        if self.max_pack_volts is not None:
            floor = max(floor, float((e.sum() - self.max_pack_volts) / z.sum()))
        amps = min(max(-abs(self.amps), floor), 0.0)
        self.in_cv = self.in_cv or amps > -abs(self.amps)
        if self.in_cv and -amps < self.cutoff_amps:
            self.finished = True
            return 0.0
        return amps


def run_until_finished(pack: PackModel, charger: ConstantCurrentCharge | ConstantPowerCharge
                       | CcCvCharge, dt: float, max_seconds: float) -> float:
    """Step `pack` with `charger` until it finishes or `max_seconds` pass, then set the
    current to 0; returns the seconds charged."""
    elapsed = 0.0
    while elapsed < max_seconds:
        amps = charger.current(pack, dt)
        if charger.finished:
            break
        pack.step(dt, amps)
        elapsed += dt
    pack.step(0.0, 0.0)
    return elapsed


# ---------------------------------------------------------------------------------------------
# Cycles shipped with the package (FASTSim 2.1.5, Apache-2.0: see data/cycles/NOTICE-fastsim.txt)

CYCLES_DIR = Path(__file__).resolve().parent / "data" / "cycles"


def builtin_cycles() -> list[str]:
    """Names of the speed cycles shipped in hil/plant/data/cycles (file names without .csv)."""
    return sorted(p.stem for p in CYCLES_DIR.glob("*.csv"))


def builtin_cycle(name: str) -> SpeedCycle:
    """A shipped speed cycle by name, e.g. 'udds' (EPA urban) or 'wmtc_all' (two-wheelers)."""
    path = CYCLES_DIR / f"{name}.csv"
    if not path.is_file():
        known = builtin_cycles()
        raise HilError(f"unknown speed cycle {name!r}{did_you_mean(name, known)}; shipped: "
                       f"{', '.join(known)} (or give a path to a FASTSim-format CSV)")
    return read_fastsim_cycle(path)
