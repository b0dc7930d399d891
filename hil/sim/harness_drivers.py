"""Simulated twins that write the analog harness directly (cells, NTCs, digital lines).

On a real rig these capabilities go through I2C DACs, rheostats and GPIO expanders; here the
value lands in the harness the reference BMS measures. The NTC twin stores the resistance a
real rheostat would be set to, so the BMS does the same ohms-to-degrees conversion it would do
on a rig.
"""

from __future__ import annotations

import pydantic

from hil.capabilities import CellVoltageSource, DigitalLines, Range, TemperatureSource
from hil.drivers.registry import driver
from hil.ntc import NtcModel
from hil.rig.config import DriverSection
from hil.rig.context import RigContext
from hil.rig.sections import CellsSection, TemperaturesSection
from hil.sim.harness import LINES_FROM_BMS, LINES_TO_BMS, AnalogHarness


@driver("cells", "sim-harness")
class SimHarnessCells(CellVoltageSource):
    """Cell voltages written straight into the analog harness."""

    Config = CellsSection

    def __init__(self, harness: AnalogHarness, count: int, limits: Range, safe: float) -> None:
        super().__init__(count, limits, safe)
        self.harness = harness

    @classmethod
    def open(cls, config: CellsSection, ctx: RigContext) -> SimHarnessCells:
        return cls(ctx.harness(), config.count, ctx.ranges["cell_volts"],
                   ctx.config.file.safe_state.cell_volts)

    def _write(self, values: dict[int, float]) -> None:
        with self.harness.update():
            for index, volts in values.items():
                self.harness.cell_volts[index - 1] = volts


@driver("temperatures", "sim-harness")
class SimHarnessTemperatures(TemperatureSource):
    """Thermistor resistances for requested temperatures, written into the analog harness."""

    Config = TemperaturesSection

    def __init__(self, harness: AnalogHarness, count: int, ntc: NtcModel, limits: Range,
                 safe: float) -> None:
        super().__init__(count, limits, safe)
        self.harness = harness
        self.ntc = ntc

    @classmethod
    def open(cls, config: TemperaturesSection, ctx: RigContext) -> SimHarnessTemperatures:
        return cls(ctx.harness(), config.count, config.ntc.build(),
                   ctx.ranges["temperature_celsius"],
                   ctx.config.file.safe_state.temperature_celsius)

    def _write(self, values: dict[int, float]) -> None:
        with self.harness.update():
            for index, celsius in values.items():
                self.harness.ntc_ohms[index - 1] = self.ntc.ohms(celsius)


class SimLinesSection(DriverSection):
    outputs: dict[str, bool] = pydantic.Field(
        default_factory=dict, description="lines the rig drives, with their safe level")
    inputs: list[str] = pydantic.Field(default_factory=list,
                                       description="BMS outputs the rig reads")

    @pydantic.field_validator("outputs")
    @classmethod
    def _known_outputs(cls, outputs: dict[str, bool]) -> dict[str, bool]:
        for name in outputs:
            if name not in LINES_TO_BMS:
                raise ValueError(f"the simulated harness has no output line {name!r}; "
                                 f"it has: {', '.join(LINES_TO_BMS)}")
        return outputs

    @pydantic.field_validator("inputs")
    @classmethod
    def _known_inputs(cls, inputs: list[str]) -> list[str]:
        for name in inputs:
            if name not in LINES_FROM_BMS:
                raise ValueError(f"the simulated harness has no input line {name!r}; "
                                 f"it has: {', '.join(LINES_FROM_BMS)}")
        return inputs


@driver("lines", "sim-harness")
class SimHarnessLines(DigitalLines):
    """Relay outputs into the harness; the BMS's contactor and fault outputs read back."""

    Config = SimLinesSection

    def __init__(self, harness: AnalogHarness, outputs: dict[str, bool], inputs: list[str]
                 ) -> None:
        super().__init__(outputs, inputs)
        self.harness = harness

    @classmethod
    def open(cls, config: SimLinesSection, ctx: RigContext) -> SimHarnessLines:
        return cls(ctx.harness(), config.outputs, config.inputs)

    def _write(self, name: str, level: bool) -> None:
        with self.harness.update():
            self.harness.set_line(name, level)

    def _read(self, name: str) -> bool:
        if name in LINES_TO_BMS:
            return bool(self.harness.lines_to_bms[LINES_TO_BMS.index(name)])
        return self.harness.line_from_bms(name)
