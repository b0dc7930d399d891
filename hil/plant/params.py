"""Cell parameter sets: what an equivalent-circuit cell needs, loaded from YAML data files.

A set describes one cell at a reference capacity: OCV, R0 and up to two RC pairs as tables over
(temperature, SOC), an optional one-state hysteresis, and a lumped thermal node. Other cell
sizes of the same chemistry come from `CellParams.scaled`: capacity, capacitances and thermal
values grow with the cell, resistances shrink with it, time constants stay.

Built-in sets (hil/plant/data/, every number's origin is in the file's header):

- ``nmc_pybamm_ecm``: derived from PyBaMM's ECM example set (BSD-3-Clause; the license text is
  in the file and in ``LICENSE-pybamm.txt`` beside it). A 100 Ah demonstration cell.
- ``lfp_representative``: a REPRESENTATIVE LFP cell, NOT MEASURED: values chosen to the typical
  published shape (flat 3.22-3.335 V plateau, ~30 mV hysteresis gap), no real product.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydantic

from hil.errors import HilError
from hil.yamlfile import StrictModel, did_you_mean, load_yaml, validate

DATA_DIR = Path(__file__).with_name("data")
BUILTIN_FILES: dict[str, Path] = {
    "nmc_pybamm_ecm": DATA_DIR / "nmc_pybamm_ecm.yaml",
    "lfp_representative": DATA_DIR / "lfp_representative.yaml",
}
REFERENCE_CELSIUS = 25.0  # where a table without temperature rows is placed


# ---------------------------------------------------------------------------------------------
# Tables


def _grid(points: object, what: str) -> np.ndarray:
    arr = np.array(points, dtype=float).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: expected at least one finite point")
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{what}: points must increase strictly")
    return arr


def _padded(grid: np.ndarray, values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """A one-point axis as two equal points, so interpolation code never special-cases it."""
    if grid.size > 1:
        return grid, values
    return np.array([grid[0], grid[0] + 1.0]), np.repeat(values, 2, axis=axis)


def _locate(grid: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment index and fraction of `x` on `grid` (two or more points), clamped at the ends."""
    i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
    f = np.clip((x - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
    return i, f


@dataclass(frozen=True, eq=False)
class Table:
    """Values over (temperature, SOC): bilinear between the points, held beyond the edges.

    ``values[j][i]`` belongs to ``celsius[j]`` and ``soc[i]``. One temperature row means no
    temperature dependence, one SOC column no SOC dependence. Arrays are read-only copies.
    """

    soc: np.ndarray
    celsius: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        soc = _grid(self.soc, "soc")
        celsius = _grid(self.celsius, "celsius")
        values = np.array(self.values, dtype=float)
        if values.shape != (celsius.size, soc.size):
            raise ValueError(f"values: expected {celsius.size} rows (one per temperature) of "
                             f"{soc.size} values (one per SOC), got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("values: every value must be finite")
        for name, arr in (("soc", soc), ("celsius", celsius), ("values", values)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @classmethod
    def constant(cls, value: float) -> Table:
        return cls(np.array([0.5]), np.array([REFERENCE_CELSIUS]), np.array([[value]]))

    @classmethod
    def curve(cls, soc: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray
              ) -> Table:
        """A function of SOC only."""
        return cls(np.asarray(soc), np.array([REFERENCE_CELSIUS]), np.asarray(values)[None, :])

    def __call__(self, soc: float | np.ndarray, celsius: float | np.ndarray = REFERENCE_CELSIUS
                 ) -> np.ndarray:
        s, v = _padded(self.soc, self.values, axis=1)
        t, v = _padded(self.celsius, v, axis=0)
        soc_arr, t_arr = np.broadcast_arrays(np.asarray(soc, float), np.asarray(celsius, float))
        i, fi = _locate(s, soc_arr)
        j, fj = _locate(t, t_arr)
        lo = v[j, i] + (v[j, i + 1] - v[j, i]) * fi
        hi = v[j + 1, i] + (v[j + 1, i + 1] - v[j + 1, i]) * fi
        return lo + (hi - lo) * fj

    def on_grid(self, soc: np.ndarray, celsius: np.ndarray) -> np.ndarray:
        """Values at every (celsius[j], soc[i]), shape (len(celsius), len(soc))."""
        tt, ss = np.meshgrid(celsius, soc, indexing="ij")
        return self(ss, tt)

    def scaled(self, factor: float) -> Table:
        return Table(self.soc, self.celsius, self.values * factor)

    def map(self, other: Table, fn: np.ufunc) -> Table:
        """fn(self, other) at the union of both grids (e.g. R*C -> time constant)."""
        soc = _union([self.soc, other.soc])
        celsius = _union([self.celsius, other.celsius])
        return Table(soc, celsius, fn(self.on_grid(soc, celsius), other.on_grid(soc, celsius)))


def _union(grids: Sequence[np.ndarray]) -> np.ndarray:
    """All points of all grids; points closer than float noise (0.15 vs 0.15000000000000002)
    count once."""
    points = np.sort(np.concatenate(grids))
    gap = 1e-9 * max(1.0, float(np.max(np.abs(points))))
    return points[np.concatenate([[True], np.diff(points) > gap])]


def _uniform_refinement(points: np.ndarray, max_points: int = 4096) -> np.ndarray | None:
    """Evenly spaced points that include all of `points`, or None if that needs too many.

    Resampling onto them is exact (see `TableStack`) and turns a search into arithmetic.
    """
    if points.size < 2:
        return points
    span = points[-1] - points[0]
    smallest = float(np.min(np.diff(points)))
    for divisions in range(1, 65):
        step = smallest / divisions
        count = round(span / step)
        if count + 1 > max_points:
            return None
        k = (points - points[0]) / step
        if np.allclose(k, np.round(k), rtol=0.0, atol=1e-9):
            return points[0] + step * np.arange(count + 1)
    return None


class TableStack:
    """Several tables on one common grid, so one lookup evaluates all of them for many cells.

    The grid is the union of the tables' points, refined to even spacing when a modest number
    of points allows it. A bilinear table resampled onto a finer grid that contains all its
    points is the same function, so the stack returns what each table would; it only saves
    the searching and the per-table work (the pack model's hot path).
    """

    def __init__(self, tables: Sequence[Table]) -> None:
        if not tables:
            raise ValueError("a TableStack needs at least one table")
        axes = []
        for union in (_union([t.soc for t in tables]), _union([t.celsius for t in tables])):
            even = _uniform_refinement(union)
            axes.append(union if even is None else even)
        soc, celsius = axes
        values = np.stack([t.on_grid(soc, celsius) for t in tables])
        soc, values = _padded(soc, values, axis=2)
        celsius, values = _padded(celsius, values, axis=1)
        self.soc_points = soc
        self.celsius_points = celsius
        self.size = len(tables)
        steps = np.array([np.diff(soc), np.diff(celsius)], dtype=object)
        self._uniform = all(np.allclose(d, d[0], rtol=1e-9, atol=0.0) for d in steps)
        # (x - origin) * inverse_step, clamped to [0, last]: soc in row 0, celsius in row 1
        self._origin = np.array([[soc[0]], [celsius[0]]])
        self._inverse_step = np.array([[1.0 / (soc[1] - soc[0])],
                                       [1.0 / (celsius[1] - celsius[0])]])
        self._last = np.array([[soc.size - 1.0], [celsius.size - 1.0]]) * (1.0 - 1e-12)
        # Per grid cell: the value at its low corner and three bilinear coefficients, laid out
        # cell-major so that one `take` gathers everything a lookup needs.
        v00 = values[:, :-1, :-1]
        v01 = values[:, :-1, 1:]
        v10 = values[:, 1:, :-1]
        v11 = values[:, 1:, 1:]
        coef = np.stack([v00, v01 - v00, v10 - v00, v11 - v10 - v01 + v00])  # (4, K, T-1, S-1)
        self._coef = np.ascontiguousarray(coef.reshape(4 * self.size, -1).T)  # (cells, 4K)
        self._cells_per_row = soc.size - 1

    def __call__(self, soc: np.ndarray, celsius: np.ndarray) -> np.ndarray:
        """Every table at each (soc[n], celsius[n]): shape (number of tables, n)."""
        if self._uniform:
            u = np.array([soc, celsius], dtype=float)
            u -= self._origin
            u *= self._inverse_step
            np.maximum(u, 0.0, out=u)
            np.minimum(u, self._last, out=u)
            index = u.astype(np.intp)
            u -= index
            fi, fj = u
            cell = index[1] * self._cells_per_row + index[0]
        else:
            i, fi = _locate(self.soc_points, np.asarray(soc, float))
            j, fj = _locate(self.celsius_points, np.asarray(celsius, float))
            cell = j * self._cells_per_row + i
        c = np.take(self._coef, cell, axis=0).reshape(-1, 4, self.size)
        w = np.empty((cell.size, 4))
        w[:, 0] = 1.0
        w[:, 1] = fi
        w[:, 2] = fj
        np.multiply(fi, fj, out=w[:, 3])
        return np.einsum("nw,nwk->kn", w, c)


# ---------------------------------------------------------------------------------------------
# Parameter set


@dataclass(frozen=True)
class RcPair:
    """One RC pair: resistance and time constant (R*C) tables."""

    ohms: Table
    seconds: Table

    @classmethod
    def from_farads(cls, ohms: Table, farads: Table) -> RcPair:
        return cls(ohms, ohms.map(farads, np.multiply))

    def __post_init__(self) -> None:
        if np.any(self.ohms.values <= 0) or np.any(self.seconds.values <= 0):
            raise ValueError("an RC pair needs resistances and time constants > 0")


@dataclass(frozen=True)
class Hysteresis:
    """Plett's one-state hysteresis: it moves toward -max_volts*sign(I) by exp(-gamma*|dSOC|)."""

    max_volts: float = 0.0
    gamma: float = 0.0

    def __post_init__(self) -> None:
        if self.max_volts < 0 or self.gamma < 0:
            raise ValueError("hysteresis max_volts and gamma must be >= 0")

    @property
    def active(self) -> bool:
        return self.max_volts > 0 and self.gamma > 0


@dataclass(frozen=True)
class Thermal:
    """One lumped thermal node per cell.

    C dT/dt = heat - cooling*(T - T_ambient) - coupling*(2T - T_left - T_right): `cooling` is
    h*A to the ambient or coolant, `coupling` the conductance to each series neighbour.
    `rc_heat` adds the losses in the RC resistors (v_rc^2 / R) to I^2*R0. The share of the
    balancing bleed power (V*I_bal) that heats the cell depends on where the resistors sit:
    1.0 puts all of it into the cell.
    """

    heat_capacity_j_per_k: float
    cooling_w_per_k: float
    coupling_w_per_k: float = 0.0
    rc_heat: bool = True
    balancing_heat_share: float = 1.0

    def __post_init__(self) -> None:
        if self.heat_capacity_j_per_k <= 0:
            raise ValueError("heat_capacity_j_per_k must be > 0")
        if self.cooling_w_per_k < 0 or self.coupling_w_per_k < 0:
            raise ValueError("cooling_w_per_k and coupling_w_per_k must be >= 0")
        if not 0.0 <= self.balancing_heat_share <= 1.0:
            raise ValueError("balancing_heat_share must be between 0 and 1")


@dataclass(frozen=True)
class CellParams:
    """An equivalent-circuit cell: V = OCV - I*R0 - sum(v_rc) + hysteresis (I > 0 discharges)."""

    name: str
    chemistry: str
    capacity_ah: float
    min_volts: float
    max_volts: float
    ocv_volts: Table
    r0_ohms: Table
    thermal: Thermal
    rc: tuple[RcPair, ...] = ()
    hysteresis: Hysteresis = field(default_factory=Hysteresis)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rc", tuple(self.rc))
        if self.capacity_ah <= 0:
            raise ValueError("capacity_ah must be > 0")
        if len(self.rc) > 2:
            raise ValueError(f"at most two RC pairs are supported, got {len(self.rc)}")
        if not 0 < self.min_volts < self.max_volts:
            raise ValueError("expected 0 < min_volts < max_volts")
        if np.any(np.diff(self.ocv_volts.values, axis=1) <= 0):
            raise ValueError("ocv_volts must increase with SOC in every temperature row")
        if np.any(self.r0_ohms.values < 0):
            raise ValueError("r0_ohms must be >= 0")

    def scaled(self, factor: float) -> CellParams:
        """The same chemistry `factor` times as large (or `factor` cells in parallel).

        Capacity, thermal mass, cooling and coupling grow by `factor`, resistances shrink by
        it; time constants, OCV and hysteresis do not change.
        """
        if factor <= 0:
            raise ValueError(f"scale factor must be > 0, got {factor}")
        th = self.thermal
        return dataclasses.replace(
            self,
            capacity_ah=self.capacity_ah * factor,
            r0_ohms=self.r0_ohms.scaled(1.0 / factor),
            rc=tuple(RcPair(p.ohms.scaled(1.0 / factor), p.seconds) for p in self.rc),
            thermal=dataclasses.replace(
                th, heat_capacity_j_per_k=th.heat_capacity_j_per_k * factor,
                cooling_w_per_k=th.cooling_w_per_k * factor,
                coupling_w_per_k=th.coupling_w_per_k * factor),
        )

    def with_capacity(self, capacity_ah: float) -> CellParams:
        """This chemistry as a cell of `capacity_ah` (see `scaled`)."""
        return self.scaled(capacity_ah / self.capacity_ah)

    def soc_for_ocv(self, volts: float | np.ndarray, celsius: float = REFERENCE_CELSIUS
                    ) -> np.ndarray:
        """The SOC whose OCV is `volts` at `celsius` (inverse of the OCV table, clamped)."""
        row = self.ocv_volts.on_grid(self.ocv_volts.soc, np.array([celsius]))[0]
        return np.interp(volts, row, self.ocv_volts.soc)

    @property
    def nominal_volts(self) -> float:
        """Mean OCV from 0 to 100 % SOC at 25 °C: energy / charge of a slow full discharge."""
        soc = np.linspace(0.0, 1.0, 1001)
        return float(np.mean(self.ocv_volts(soc, REFERENCE_CELSIUS)))


# ---------------------------------------------------------------------------------------------
# Files


class _FileModel(StrictModel):
    """A cell file's section: unknown keys, NaN and infinities are refused with file/line."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _TableFile(_FileModel):
    soc: list[float] = pydantic.Field(min_length=1)
    celsius: list[float] = pydantic.Field(default=[REFERENCE_CELSIUS], min_length=1)
    values: list[list[float]]

    @pydantic.model_validator(mode="after")
    def _check(self) -> _TableFile:
        self.build()  # raises ValueError with a readable message
        return self

    def build(self) -> Table:
        widths = sorted({len(row) for row in self.values})
        if widths and widths != [len(self.soc)]:
            raise ValueError(f"values: every row needs {len(self.soc)} values (one per SOC), "
                             f"got rows of {', '.join(map(str, widths))}")
        return Table(np.array(self.soc), np.array(self.celsius), np.array(self.values, float))


_TableOrNumber = float | _TableFile


def _table(value: float | _TableFile) -> Table:
    return value.build() if isinstance(value, _TableFile) else Table.constant(float(value))


class _RcFile(_FileModel):
    ohms: _TableOrNumber
    farads: _TableOrNumber | None = None
    seconds: _TableOrNumber | None = None

    @pydantic.model_validator(mode="after")
    def _one_of(self) -> _RcFile:
        if (self.farads is None) == (self.seconds is None):
            raise ValueError("give exactly one of farads (C) or seconds (time constant R*C)")
        self.build()
        return self

    def build(self) -> RcPair:
        if self.seconds is not None:
            return RcPair(_table(self.ohms), _table(self.seconds))
        assert self.farads is not None
        return RcPair.from_farads(_table(self.ohms), _table(self.farads))


class _HysteresisFile(_FileModel):
    max_volts: float = pydantic.Field(default=0.0, ge=0)
    gamma: float = pydantic.Field(default=0.0, ge=0)


class _ThermalFile(_FileModel):
    heat_capacity_j_per_k: float = pydantic.Field(gt=0)
    cooling_w_per_k: float = pydantic.Field(ge=0)
    coupling_w_per_k: float = pydantic.Field(default=0.0, ge=0)
    rc_heat: bool = True
    balancing_heat_share: float = pydantic.Field(default=1.0, ge=0, le=1)


class _CellFile(_FileModel):
    name: str
    chemistry: str
    source: str = ""
    capacity_ah: float = pydantic.Field(gt=0)
    min_volts: float = pydantic.Field(gt=0)
    max_volts: float = pydantic.Field(gt=0)
    hysteresis: _HysteresisFile = _HysteresisFile()
    thermal: _ThermalFile
    ocv_volts: _TableFile
    r0_ohms: _TableOrNumber
    rc: list[_RcFile] = pydantic.Field(default_factory=list)

    @pydantic.field_validator("r0_ohms")
    @classmethod
    def _not_negative(cls, r0: float | _TableFile) -> float | _TableFile:
        values = np.array(r0.values if isinstance(r0, _TableFile) else [r0], float)
        if np.any(values < 0):
            raise ValueError(f"resistances must be >= 0, got {values.min():g}")
        return r0

    @pydantic.field_validator("rc")
    @classmethod
    def _at_most_two(cls, rc: list[_RcFile]) -> list[_RcFile]:
        if len(rc) > 2:
            raise ValueError(f"at most two RC pairs are supported, got {len(rc)}")
        return rc

    @pydantic.field_validator("ocv_volts")
    @classmethod
    def _increasing(cls, table: _TableFile) -> _TableFile:
        if np.any(np.diff(np.array(table.values), axis=1) <= 0):
            raise ValueError("OCV must increase with SOC in every temperature row")
        return table

    @pydantic.model_validator(mode="after")
    def _limits(self) -> _CellFile:
        if self.min_volts >= self.max_volts:
            raise ValueError(f"min_volts ({self.min_volts:g}) must be below max_volts "
                             f"({self.max_volts:g})")
        return self


def load_cell_params(path: str | os.PathLike[str]) -> CellParams:
    """Load a cell parameter file; mistakes become one-line errors with file, line and field."""
    f = validate(_CellFile, load_yaml(path, what="cell parameter file"),
                 what="cell parameter file")
    return CellParams(
        name=f.name, chemistry=f.chemistry, source=f.source.strip(),
        capacity_ah=f.capacity_ah, min_volts=f.min_volts, max_volts=f.max_volts,
        ocv_volts=f.ocv_volts.build(), r0_ohms=_table(f.r0_ohms),
        rc=tuple(p.build() for p in f.rc),
        hysteresis=Hysteresis(f.hysteresis.max_volts, f.hysteresis.gamma),
        thermal=Thermal(**f.thermal.model_dump()),
    )


@functools.cache
def builtin_cell_params(name: str) -> CellParams:
    """One of the shipped parameter sets by name (see the module docstring)."""
    try:
        path = BUILTIN_FILES[name]
    except KeyError:
        raise HilError(f"unknown cell parameter set {name!r}{did_you_mean(name, BUILTIN_FILES)}; "
                       f"known: {', '.join(BUILTIN_FILES)}") from None
    return load_cell_params(path)
