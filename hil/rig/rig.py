"""The Rig: opens the drivers a rig file names, hands out capabilities, owns the safe state.

Opening order matters: CAN first (the receive path must see the BMS's first frame), then the
rig's own periodic frames, then the outputs, set to the initial state *before* the BMS is
powered. Every way out (close, exception, Ctrl-C, SIGTERM, a lost bus or BMS) passes through
`go_safe`, which never raises.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from hil.capabilities import (
    CanEndpoint,
    Capability,
    CellVoltageSource,
    CurrentSource,
    DigitalLines,
    DutPower,
    TemperatureSource,
    VoltageReadback,
)
from hil.decoder import Decoder
from hil.drivers.i2c_buses import I2cBuses
from hil.drivers.registry import KINDS
from hil.dut import Dut
from hil.errors import BusLostError, ConfigError, HilError
from hil.faults import FaultInjector
from hil.periodic import PeriodicSender
from hil.profile import Profile
from hil.rig.config import RigConfig, load_rig_config
from hil.rig.context import RigContext
from hil.signals import SignalStore

log = logging.getLogger(__name__)


class Rig:
    """An opened rig. Use as a context manager, or call `open` and `close`."""

    def __init__(self, config: RigConfig, defects: list[str] | tuple[str, ...] = (),
                 log_dir: Path | None = None, *, power_dut: bool = True,
                 use_calibration: bool = True) -> None:
        self.config = config
        self.defects = list(defects)
        self.log_dir = log_dir
        self.power_dut = power_dut  # False for self-test and calibration: no BMS needed
        self.use_calibration = use_calibration
        self.profile: Profile | None = None
        self.can: CanEndpoint | None = None
        self.cells: CellVoltageSource | None = None
        self.temperatures: TemperatureSource | None = None
        self.current: CurrentSource | None = None
        self.lines: DigitalLines | None = None
        self.readback: VoltageReadback | None = None
        self.dut_power: DutPower | None = None
        self.i2c: I2cBuses | None = None
        self.store = SignalStore()
        self.decoder: Decoder | None = None
        self.periodic: PeriodicSender | None = None
        self.bms: Dut | None = None
        self.faults = FaultInjector(self)
        self.lost_reason: str | None = None
        self._ctx: RigContext | None = None
        self._safe_lock = threading.Lock()
        self._opened = False

    @classmethod
    def load(cls, path: str | os.PathLike[str], defects: list[str] | tuple[str, ...] = (),
             log_dir: Path | None = None, **options: bool) -> Rig:
        return cls(load_rig_config(path), defects, log_dir, **options)

    @property
    def name(self) -> str:
        return self.config.name

    # --- lifetime -------------------------------------------------------------------------
    def __enter__(self) -> Rig:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> Rig:
        if self._opened:
            return self
        if self.defects and "defects" not in type(self.config.drivers["dut_power"][1]).model_fields:
            raise ConfigError("--bms-defect only works with the reference BMS "
                              "(dut_power driver sim-process)", path=self.config.path)
        self.profile = Profile.load(self.config.resolve(self.config.file.dut.profile))
        ctx = RigContext(self.config, self.profile, self._lost, self.defects, log_dir=self.log_dir,
                         use_calibration=self.use_calibration)
        self._ctx = ctx
        self._opened = True
        try:
            for kind in KINDS:  # in dependency order: i2c and can first, dut_power last
                if kind not in self.config.drivers:
                    continue
                opened = self._open(kind, ctx)
                setattr(self, kind, opened)
                ctx.shared[kind] = opened
                if kind == "can":
                    self._start_receive_path(ctx)
            assert self.dut_power is not None
            for cap in self.capabilities():
                cap.listeners.append(self._record_stimulus)
            self.apply_initial_state()
            if self.power_dut:
                self.dut_power.power_on()
                self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def _start_receive_path(self, ctx: RigContext) -> None:
        assert self.can is not None and self.profile is not None
        ctx.can = self.can
        self.decoder = Decoder(self.profile.database, self.store,
                               self.profile.spec.e2e_messages)
        self.can.add_listener(self.decoder)
        self.periodic = PeriodicSender(self.can, on_lost=self._lost)
        ctx.periodic = self.periodic
        self.bms = Dut(self.profile, self.store, self.decoder, self.periodic)

    def _open(self, kind: str, ctx: RigContext) -> Any:
        cls, section = self.config.drivers[kind]
        return cls.open(section, ctx)

    def capabilities(self) -> list[Capability]:
        caps: list[Capability | None] = [self.current, self.cells, self.temperatures,
                                         self.lines, self.readback, self.can, self.dut_power]
        return [c for c in caps if c is not None]

    def go_safe(self) -> list[str]:
        """Every output to the rig's safe state; returns problems instead of raising."""
        problems = []
        with self._safe_lock:
            for cap in self.capabilities():
                try:
                    cap.go_safe()
                except Exception as err:  # one failing output must not keep others unsafe
                    problems.append(f"{cap.name}: {err}")
                    log.error("safe state of %s failed: %s", cap.name, err)
            if self.bms is not None:
                try:
                    self.bms.request_state("standby")
                except Exception as err:
                    problems.append(f"state request: {err}")
        return problems

    def close(self) -> None:
        """Safe state, then stop everything; logs are flushed. Safe to call twice."""
        if not self._opened:
            return
        self._opened = False
        self.go_safe()
        if self.can is not None:
            self.can.stop_log()
        steps: list[tuple[str, Any]] = [
            ("dut power", self.dut_power), ("current", self.current), ("cells", self.cells),
            ("temperatures", self.temperatures), ("readback", self.readback),
            ("lines", self.lines),
        ]
        for name, cap in steps:
            if cap is not None:
                try:
                    cap.close()
                except Exception as err:
                    log.error("closing %s failed: %s", name, err)
        if self.periodic is not None:
            self.periodic.close()
        if self.can is not None:
            self.can.close()
        if self.i2c is not None:
            self.i2c.close()
        if self._ctx is not None:
            self._ctx.close_harness()

    def _record_stimulus(self, name: str, value: float, when: float) -> None:
        """Every output write lands in the signal store as `stimulus.<name>`, so checks and
        plots see what the rig did next to what the BMS reported."""
        self.store.series(f"stimulus.{name}").append(when, value)
        self.store.notify()

    def _lost(self, reason: str) -> None:
        """A driver lost its bus or the DUT went away: record it and go safe at once."""
        if self.lost_reason is None:
            self.lost_reason = reason
        threading.Thread(target=self.go_safe, name="hil-go-safe", daemon=True).start()

    def check_alive(self) -> None:
        if self.lost_reason is not None:
            raise BusLostError(self.lost_reason)

    # --- states ---------------------------------------------------------------------------
    def apply_initial_state(self) -> None:
        """Outputs to where every test starts: nominal cells and temperatures, no current."""
        assert self.cells and self.temperatures and self.current and self.profile
        initial = self.config.file.initial
        nominal = self.profile.nominal
        cell_volts = initial.cell_volts if initial.cell_volts is not None else nominal.get(
            "cell_volts")
        celsius = (initial.temperature_celsius if initial.temperature_celsius is not None
                   else nominal.get("celsius"))
        if cell_volts is None or celsius is None:
            raise ConfigError("no initial cell_volts/temperature_celsius in the rig file and "
                              "no nominal values in the DUT profile", path=self.config.path,
                              field="initial")
        self.current.set(initial.current_amps)
        self.cells.set_all(cell_volts)
        self.temperatures.set_all(celsius)
        if self.lines is not None:
            for name, level in initial.lines.items():
                self.lines.set(name, level)
        if self.bms is not None:
            self.bms.request_state(initial.state_request)

    def wait_ready(self) -> None:
        """Wait until the BMS reports a state other than INIT after its last power-on."""
        assert self.bms is not None
        timeout = self.config.file.dut.ready_timeout_seconds
        started = time.time()
        target = self.bms.target("state")
        try:
            target.value_of("INIT")
            expected: tuple[str, str] | None = ("!=", "INIT")
        except KeyError:
            expected = None
        series = self.store.series(target.series_name)
        if expected is None:
            if not self.store.wait(lambda: series.first_where(lambda v: True, started)
                                   is not None, timeout):
                raise HilError(f"the BMS sent no {target.series_name} within {timeout:g} s "
                               "after power-on")
            return
        try:
            self.bms.wait_for("state", expected, timeout, since=started)
        except AssertionError as err:
            raise HilError(f"the BMS did not become ready after power-on: {err}") from None

    def reset_dut(self) -> None:
        """Bring the DUT to a known state before a test, as the rig file says."""
        assert self.bms is not None and self.dut_power is not None
        self.check_alive()
        how = self.config.file.dut.reset_between_tests
        problems = self.go_safe()  # also ends every injected fault (relays, pots, sensor)
        frame = self.bms.state_request  # a scenario may have stopped or corrupted it
        frame.bad_crc_frames = frame.stuck_counter_frames = 0
        frame.length_override = None
        frame.start()
        if problems:
            raise HilError(f"the rig could not reach its safe state: {'; '.join(problems)}")
        self.apply_initial_state()
        if how == "power_cycle":
            self.power_cycle_dut()
        elif how == "fault_reset":
            self.bms.reset_faults()
            self.wait_ready()

    def power_cycle_dut(self) -> bool:
        """Switch the BMS off and on and wait until it is ready; False when the rig cannot
        switch it (manual power)."""
        assert self.dut_power is not None
        if self.config.file.dut_power.get("driver") == "manual":
            return False
        self.dut_power.power_off()
        if self.decoder is not None:
            self.decoder.restart_sequences()
        self.dut_power.power_on()
        self.wait_ready()
        return True

    # --- per-test evidence ----------------------------------------------------------------
    def start_can_log(self, test_name: str) -> Path | None:
        if self.can is None or self.log_dir is None:
            return None
        path = evidence_path(self.log_dir, test_name, ".blf")
        self.can.start_log(path)
        return path

    def stop_can_log(self) -> Path | None:
        return self.can.stop_log() if self.can is not None else None


def evidence_path(log_dir: Path, test_name: str, suffix: str) -> Path:
    """Where a test's CAN log, plot and data go: one stem per test, any suffix."""
    return log_dir / f"{safe_filename(test_name)}{suffix}"


def safe_filename(name: str) -> str:
    """A test id as a file name: 'scenarios/ov.yaml::cell 7' -> 'scenarios_ov.yaml__cell_7'."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return cleaned[:150] or "test"
