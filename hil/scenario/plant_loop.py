"""The plant in the loop: a living pack driving the rig's cells, temperatures and current.

The emulated cells are the DUT's (the profile's `pack:` cell set and group capacity, one per
emulated cell channel); the scenario's preset gives the vehicle and the size of the whole pack.
The rig emulates a section of that pack's string, and the current is scaled by the ratio of
the DUT's group capacity to the preset's, so every emulated cell sees the C-rate its twin sees
in the full pack (same SOC swing, same polarisation, same heating per cell).

Every tick the pack is advanced with the current the rig held since the last tick (the real
elapsed time, so the truth integrates what the BMS measured), then the new current is chosen:
the drive or charger's demand, 0 when the BMS has a main contactor open, and never above the
BMS's charge current limit on charge. Balancing switches the BMS reports closed bleed their
cells. Only outputs that changed by more than a DAC step are written. The truth is recorded in
the signal store as `plant.soc` (pack SOC, %), `plant.current` (A), `plant.min_cell_volts`,
`plant.max_cell_volts` and `plant.max_celsius`, beside what the BMS reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hil.conditions import condition
from hil.errors import HilError
from hil.plant import (
    NO_SPREAD,
    CcCvCharge,
    ConstantCurrentCharge,
    ConstantPowerCharge,
    PackModel,
    builtin_cell_params,
    load_cell_params,
    pack_preset,
    power_to_amps,
    vehicle,
)
from hil.plant.params import CellParams
from hil.profile import Profile, Target
from hil.rig.rig import Rig
from hil.scenario.model import ChargeCommand, DriveCommand, PlantConfig

TICK_SECONDS = 0.01            # 100 Hz
CELL_WRITE_VOLTS = 0.0005      # below one DAC step (MCP4728 at 5.12 V full scale: 1.25 mV)
TEMPERATURE_WRITE_CELSIUS = 0.05
CURRENT_WRITE_AMPS = 0.01
Charger = CcCvCharge | ConstantCurrentCharge | ConstantPowerCharge
TRUTH = ("plant.soc", "plant.current", "plant.min_cell_volts", "plant.max_cell_volts",
         "plant.max_celsius")


def dut_cell(profile: Profile) -> CellParams:
    """The cell the DUT is calibrated for, at the DUT's group capacity."""
    spec = profile.spec.pack
    if spec is None:
        raise HilError(f"the DUT profile {profile.path.name} has no pack: section")
    if "/" in spec.cell or spec.cell.endswith((".yaml", ".yml")):
        cell = load_cell_params(profile.path.parent / spec.cell)
    else:  # a built-in set: an unknown name gets a "did you mean"
        cell = builtin_cell_params(spec.cell)
    return cell.with_capacity(spec.capacity_ah)


@dataclass
class _Source:
    """What sets the current now: a drive or a charge, from `start` (monotonic)."""

    start: float
    drive: DriveCommand | None = None
    charge: ChargeCommand | None = None
    charger: Charger | None = None


class PlantLoop:
    """Owns the pack model for one scenario run and keeps the rig's outputs on it."""

    def __init__(self, rig: Rig, config: PlantConfig) -> None:
        if rig.profile is None or rig.cells is None or rig.current is None:
            raise HilError("the rig is not open")
        self.rig = rig
        self.config = config
        profile = rig.profile
        spec = profile.spec.pack
        assert spec is not None  # the loader refused the scenario otherwise
        self.preset = pack_preset(config.preset)
        self.vehicle = vehicle(self.preset.vehicle) if self.preset.vehicle else None
        count = rig.cells.count
        self.pack = PackModel(dut_cell(profile), count, 1, seed=config.seed,
                              spread=None if config.spread else NO_SPREAD,
                              ambient_celsius=config.ambient_celsius,
                              initial_soc=config.initial_soc)
        if config.weak_cell is not None:
            self.pack.weaken(config.weak_cell[0] - 1, config.weak_cell[1])
        #: emulated group capacity / the preset's: pack current -> the DUT's current
        self.current_scale = spec.capacity_ah / self.preset.capacity_ah
        self.balancing_amps = spec.balancing_amps
        sensors = rig.temperatures.count if rig.temperatures is not None else 0
        self._sensor_cells = [np.asarray(g) for g in np.array_split(np.arange(count), sensors)
                              ] if sensors else []
        self._contactors = self._roles(("contactor.main_positive", "contactor.main_negative"))
        self._closed = [condition(t, "CLOSED").raw_predicate() for t in self._contactors]
        self._balancing = [self._role(f"balancing[{i}]") for i in range(1, count + 1)]
        self._charge_limit = self._role("charge_current_limit")
        self._source: _Source | None = None
        self._amps = 0.0
        self._last_tick: float | None = None
        self._written_cells = np.full(count, np.nan)
        self._written_temps = np.full(len(self._sensor_cells), np.nan)
        self._written_amps: float | None = None
        self.ticks = 0
        self.longest_gap = 0.0

    # --- feedback from the BMS ------------------------------------------------------------
    def _role(self, name: str) -> Target | None:
        assert self.rig.profile is not None
        try:
            return self.rig.profile.resolve(name)
        except KeyError:
            return None

    def _roles(self, names: tuple[str, ...]) -> list[Target]:
        return [t for t in (self._role(n) for n in names) if t is not None]

    def contactors_closed(self) -> bool:
        """Both main contactors reported closed (True when the profile has no such roles)."""
        store = self.rig.store
        for target, closed in zip(self._contactors, self._closed, strict=True):
            latest = store.latest(target.series_name)
            if latest is None or not closed(latest.value):
                return False
        return True

    def balancing(self) -> np.ndarray | None:
        """Bleed current per cell from the BMS's balancing switches, or None if none is on."""
        store = self.rig.store
        on = [t is not None and (s := store.latest(t.series_name)) is not None and s.value != 0
              for t in self._balancing]
        if not any(on):
            return None
        return np.where(on, self.balancing_amps, 0.0)

    def charge_limit_amps(self) -> float | None:
        target = self._charge_limit
        if target is None:
            return None
        latest = self.rig.store.latest(target.series_name)
        return None if latest is None else latest.value * target.factor

    # --- sources --------------------------------------------------------------------------
    def drive(self, command: DriveCommand, now: float | None = None) -> None:
        self._source = _Source(time.monotonic() if now is None else now, drive=command)

    def charge(self, command: ChargeCommand, now: float | None = None) -> None:
        charger: Charger
        if command.amps is not None and command.until_cell_volts is not None:
            charger = CcCvCharge(command.amps, command.until_cell_volts, command.cutoff_amps)
        elif command.amps is not None:
            charger = ConstantCurrentCharge(command.amps)
        else:  # the preset's whole-pack power, this section's share of it
            assert command.kilowatts is not None
            charger = ConstantPowerCharge(command.kilowatts * 1e3 * self._power_share)
        self._source = _Source(time.monotonic() if now is None else now, charge=command,
                               charger=charger)

    def _demand(self, now: float, dt: float) -> float:
        """The current the source asks for now (> 0 discharges), before the contactors."""
        source = self._source
        if source is None:
            return 0.0
        command = source.drive or source.charge
        assert command is not None
        elapsed = now - source.start
        if elapsed >= command.duration:
            self._source = None
            return 0.0
        if source.drive is not None:
            return self._drive_amps(source.drive, elapsed)
        assert source.charge is not None
        return self._charge_amps(source, dt)

    def _drive_amps(self, command: DriveCommand, elapsed: float) -> float:
        t = command.start + elapsed
        if command.profile is not None:
            value = float(command.profile.at(t))
            if command.profile.unit == "A":
                return value
            return power_to_amps(self.pack, value * self._power_share, TICK_SECONDS)
        assert command.cycle is not None and self.vehicle is not None
        speed, accel, grade = command.cycle.at(t)
        full_pack_volts = float(self.pack.cell_volts.mean()) * self.preset.cells_series
        amps = float(self.vehicle.pack_amps(speed, accel, grade, full_pack_volts))
        return amps * self.current_scale

    @property
    def _power_share(self) -> float:
        """Whole-pack watts -> watts of the emulated section at the scaled current."""
        return self.pack.cells_series / self.preset.cells_series * self.current_scale

    def _charge_amps(self, source: _Source, dt: float) -> float:
        command, charger = source.charge, source.charger
        assert command is not None and charger is not None
        amps = charger.current(self.pack, max(dt, TICK_SECONDS))
        if command.follow_bms_limit:
            limit = self.charge_limit_amps()
            if limit is not None:
                amps = max(amps, -abs(limit))
        return min(amps, 0.0)

    # --- the loop -------------------------------------------------------------------------
    def start(self, now: float | None = None) -> float:
        """Write the pack at rest; returns when the outputs were written."""
        self._last_tick = time.monotonic() if now is None else now
        return self._write(time.time())

    def tick(self, now: float | None = None) -> None:
        """Advance the pack to `now` (monotonic; default: the clock) with the current held
        since the last tick, then set the next current and write the outputs."""
        now = time.monotonic() if now is None else now
        dt = now - (self._last_tick if self._last_tick is not None else now)
        self._last_tick = now
        if self.ticks:  # the first tick follows the setup (power cycle, waits), not a tick
            self.longest_gap = max(self.longest_gap, dt)
        bleed = self.balancing()
        self.pack.step(dt, self._amps, bleed)
        demand = self._demand(now, dt)
        amps = demand if demand == 0.0 or self.contactors_closed() else 0.0
        if amps != self._amps:
            self.pack.step(0.0, amps, bleed)  # the instant I*R0 change
        self._amps = amps
        self.ticks += 1
        self._write(time.time())

    def stop(self) -> None:
        """No more current: the pack rests (the cells keep their last values)."""
        self._source = None
        self._amps = 0.0
        assert self.rig.current is not None
        self.rig.current.set(0.0)

    def _write(self, epoch: float) -> float:
        rig, pack = self.rig, self.pack
        assert rig.cells is not None and rig.current is not None
        done = epoch
        volts = pack.cell_volts
        changed = ~(np.abs(volts - self._written_cells) <= CELL_WRITE_VOLTS)
        if changed.any():
            done = rig.cells.set({int(i) + 1: float(volts[i]) for i in np.flatnonzero(changed)})
            self._written_cells[changed] = volts[changed]
        if self._sensor_cells and rig.temperatures is not None:
            cells = pack.temperatures
            temps = np.array([cells[g].mean() for g in self._sensor_cells])
            moved = ~(np.abs(temps - self._written_temps) <= TEMPERATURE_WRITE_CELSIUS)
            if moved.any():
                rig.temperatures.set({int(i) + 1: float(temps[i])
                                      for i in np.flatnonzero(moved)})
                self._written_temps[moved] = temps[moved]
        if self._written_amps is None or abs(self._amps - self._written_amps) > CURRENT_WRITE_AMPS:
            done = rig.current.set(self._amps)
            self._written_amps = self._amps
        store = rig.store
        soc = pack.soc
        for name, value in zip(TRUTH, (float(soc.mean() * 100.0), self._amps,
                                       float(volts.min()), float(volts.max()),
                                       float(pack.temperatures.max())), strict=True):
            store.series(name).append(epoch, value)
        return done

    def summary(self) -> str:
        soc = self.pack.soc.mean() * 100.0
        return (f"plant: {self.ticks} steps, longest gap {self.longest_gap * 1e3:.0f} ms; "
                f"pack SOC {soc:.2f} %, cells {self.pack.cell_volts.min():.3f}.."
                f"{self.pack.cell_volts.max():.3f} V")
