"""Engineer's tools for a rig: self-test (`hil rig check`), safe power-on values (`hil rig
init`) and channel calibration (`hil calibrate`).

They open the rig without powering the DUT: they exercise the emulator itself. Every output is
driven only through the capabilities, so limits and the safe state apply here too.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hil.calibration import Calibration, ChannelCalibration, write_calibration
from hil.errors import HilError
from hil.rig.rig import Rig


@dataclass(frozen=True)
class ChannelCheck:
    cell: int
    set_volts: float
    read_volts: float

    @property
    def error_volts(self) -> float:
        return self.read_volts - self.set_volts


@dataclass(frozen=True)
class CheckReport:
    missing: list[str]
    channels: list[ChannelCheck]
    tolerance_volts: float | None
    calibration: str
    errors: list[str] = field(default_factory=list)

    @property
    def failed_channels(self) -> list[ChannelCheck]:
        if self.tolerance_volts is None:
            return []
        return [c for c in self.channels if abs(c.error_volts) > self.tolerance_volts]

    @property
    def passed(self) -> bool:
        return not self.missing and not self.errors and not self.failed_channels


def test_points(rig: Rig, count: int) -> list[float]:
    """`count` cell voltages spread over the usable part of the rig's cell range."""
    assert rig.cells is not None
    low = max(rig.cells.limits.low, 2.5)
    high = min(rig.cells.limits.high, 4.4)
    if high <= low:
        low, high = rig.cells.limits.low, rig.cells.limits.high
    return [float(v) for v in np.linspace(low, high, count)]


def self_test(rig: Rig, points: int = 3) -> CheckReport:
    """Presence of every chip, then set -> read back -> error for every read-back channel."""
    missing: list[str] = []
    for cap in rig.capabilities():
        probe = getattr(cap, "probe", None)
        if probe is not None:
            missing.extend(probe())
    checks: list[ChannelCheck] = []
    errors: list[str] = []
    tolerance = None
    calibration = "none"
    if missing:
        errors.append("channels not checked: chips are missing")
    elif rig.readback is not None and rig.cells is not None:
        tolerance = getattr(rig.readback, "tolerance_volts", None)
        calibration = getattr(rig.cells, "calibration", Calibration()).describe()
        cells = [c for c in rig.readback.cells if c <= rig.cells.count]
        try:
            for volts in test_points(rig, points):
                rig.cells.set(dict.fromkeys(cells, volts))
                for cell in cells:
                    checks.append(ChannelCheck(cell, volts, rig.readback.read_cell(cell)))
        except HilError as err:
            errors.append(str(err))
        finally:
            rig.cells.go_safe()
    return CheckReport(missing, checks, tolerance, calibration, errors)


Measure = Callable[[int, float], float]  # (cell, volts requested) -> volts measured


def calibrate_cells(rig: Rig, points: int, measure: Measure | None = None
                    ) -> dict[int, tuple[ChannelCalibration, float, float]]:
    """Fit gain and offset per cell. Returns cell -> (calibration, max error before, after).

    The rig must be opened with calibration off, so that requests go out at their nominal
    codes. `measure` defaults to the rig's read-back; pass one that asks a person for
    multimeter readings to calibrate against a better instrument.
    """
    cells_cap = rig.cells
    if cells_cap is None:
        raise HilError("this rig has no cells to calibrate")
    from_readback = measure is None
    if measure is None:
        if rig.readback is None:
            raise HilError("this rig has no read-back ADC: use --manual with a multimeter")
        readback = rig.readback

        def measure(cell: int, _volts: float) -> float:
            return readback.read_cell(cell)

    volts_for = getattr(cells_cap, "volts_for", None)
    code_for = getattr(cells_cap, "code_for", None)
    if volts_for is None or code_for is None:
        raise HilError(f"cells driver {type(cells_cap).__name__} cannot be calibrated")
    cells = list(range(1, cells_cap.count + 1))
    if from_readback and rig.readback is not None:
        cells = [c for c in cells if c in rig.readback.cells]
    levels = test_points(rig, points)
    nominal: dict[int, list[float]] = {c: [] for c in cells}
    actual: dict[int, list[float]] = {c: [] for c in cells}
    for volts in levels:
        cells_cap.set(dict.fromkeys(cells, volts))
        for cell in cells:
            nominal[cell].append(volts_for(cell, code_for(cell, volts)))
            actual[cell].append(measure(cell, volts))
    cells_cap.go_safe()
    out = {}
    for cell in cells:
        x, y = np.array(nominal[cell]), np.array(actual[cell])
        gain, offset = np.polyfit(x, y, 1)
        if not 0.5 < gain < 2.0:
            raise HilError(f"cell {cell}: the fitted gain {gain:.4g} is outside 0.5..2: is the "
                           f"channel connected, and were the readings in volts?")
        fit = ChannelCalibration(gain=float(gain), offset=float(offset))
        before = float(np.max(np.abs(y - x)))
        after = float(np.max(np.abs(fit.to_nominal(y) - x)))
        out[cell] = (fit, before, after)
    return out


def save_cell_calibration(path: Path, fits: dict[int, tuple[ChannelCalibration, float, float]],
                          method: str) -> None:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    write_calibration(path, {cell: fit for cell, (fit, _, _) in fits.items()}, method, now)


def write_safe_power_on_values(rig: Rig) -> list[str]:
    """Store the safe state where chips keep values over a power cycle; returns what was done."""
    done = []
    safe = rig.config.file.safe_state
    writer = getattr(rig.cells, "write_power_on_values", None)
    if writer is not None:
        writer(safe.cell_volts)
        done.append(f"cells: {safe.cell_volts:g} V written to every DAC's EEPROM")
    else:
        done.append(f"cells: driver {type(rig.cells).__name__} has no non-volatile memory; "
                    "its power-on value is set by hardware (e.g. AD5675R RSTSEL pin)")
    done.append("temperatures: not written (AD5272 50-TP memory is one-time programmable)")
    done.append("lines: MCP23017 outputs power up as inputs (relays off through the HAT's "
                "pull-downs)")
    return done
