"""The simulated rig's DUT supply: powering the reference BMS on starts its process.

A power cycle is a fresh process, as a real controller reboots: latched faults, counters and
SOC estimates start over. If the process dies while powered, the rig is told (lost BMS).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pydantic

from hil.capabilities import DutPower
from hil.drivers.registry import driver
from hil.errors import ConfigError
from hil.rig.config import DriverSection
from hil.rig.context import RigContext
from hil.sim.bms import defects as defect_registry
from hil.sim.child import ChildProcess


class SimProcessSection(DriverSection):
    params: str | None = pydantic.Field(
        default=None, description="BMS parameter file, relative to the rig file")
    dbc: str | None = pydantic.Field(
        default=None, description="the BMS's DBC, relative to the rig file "
                                  "(default: the DUT profile's first DBC)")
    defects: list[str] = pydantic.Field(default_factory=list)
    seed: int = 1

    @pydantic.field_validator("defects")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        try:
            defect_registry.resolve(names)
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        return names


@driver("dut_power", "sim-process")
class SimBmsPower(DutPower):
    """Starts and stops `python -m hil.sim.bms` wired to the harness and the CAN hub."""

    Config = SimProcessSection

    def __init__(self, args: list[str], ready_timeout: float, log_path: Path | None,
                 on_lost: Callable[[str], None]) -> None:
        super().__init__()
        self.args = args
        self.ready_timeout = ready_timeout
        self.log_path = log_path
        self._on_lost = on_lost
        self._child: ChildProcess | None = None
        self._watch_stop = threading.Event()
        self.starts = 0
        self.defects: list[str] = []

    @classmethod
    def open(cls, config: SimProcessSection, ctx: RigContext) -> SimBmsPower:
        url = ctx.shared.get("can_hub_url")
        if url is None:
            raise ctx.config.error("the reference BMS process needs the sim-hub CAN driver",
                                   "dut_power", "driver")
        defects = [*config.defects, *ctx.defects]
        try:
            defect_registry.resolve(ctx.defects)
        except KeyError as err:
            raise ConfigError(f"--bms-defect: {err.args[0]}") from None
        dbc = (ctx.config.resolve(config.dbc) if config.dbc
               else ctx.profile.database.sources[0])
        args = ["-m", "hil.sim.bms", "--can",
                json.dumps({"interface": "remote", "channel": url}),
                "--harness", str(ctx.harness().path), "--dbc", str(dbc),
                "--cells", str(ctx.cell_count), "--temperatures", str(ctx.temperature_count),
                "--seed", str(config.seed)]
        if config.params:
            params = ctx.config.resolve(config.params)
            if not params.is_file():
                raise ctx.config.error(f"BMS parameter file {config.params!r} not found",
                                       "dut_power", "params")
            args += ["--params", str(params)]
        current = ctx.config.drivers.get("current")
        if current is not None and current[0].driver_name == "dac-hall":
            section = current[1]
            args += ["--hall", f"{section.offset_volts}:{section.volts_per_amp}"]
        log = Path(ctx.log_dir, "reference_bms.log") if ctx.log_dir else None
        power = cls(args, ctx.config.file.dut.ready_timeout_seconds, log, ctx.on_lost)
        power.defects = defects
        return power

    def power_on(self) -> None:
        if self.is_on():
            return
        args = list(self.args)
        for name in self.defects:
            args += ["--defect", name]
        child = ChildProcess("reference BMS", args, self.log_path)
        child.wait_line("READY", self.ready_timeout)
        self._child = child
        self.starts += 1
        self._watch_stop = threading.Event()
        threading.Thread(target=self._watch, args=(child, self._watch_stop), daemon=True,
                         name="hil-bms-watch").start()

    def set_defects(self, names: list[str]) -> None:
        """Build the firmware with these defects from the next power-on (a reflash)."""
        defect_registry.resolve(names)
        self.defects = list(names)

    def power_off(self) -> None:
        child, self._child = self._child, None
        self._watch_stop.set()
        if child is not None:
            child.stop()

    def is_on(self) -> bool:
        return self._child is not None and self._child.alive()

    def _watch(self, child: ChildProcess, stop: threading.Event) -> None:
        while not stop.wait(0.1):
            if not child.alive():
                if not stop.is_set():
                    self._on_lost(f"reference BMS process exited ({child.proc.returncode}): "
                                  f"{child.last_error()}")
                return

    def close(self) -> None:
        self.power_off()
        super().close()

