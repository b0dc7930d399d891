"""The scenario file format, as pydantic models: what the loader accepts, field by field.

These models check the shape of a file (keys, types, required fields). Meaning (does this role
exist, is cell 17 on this rig, is 6 V within the rig's limits) is checked by the loader against
the DUT profile and the rig. docs/scenario.schema.json is generated from here
(`python -m hil.scenario.schema`), so editors validate exactly what the loader accepts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic

from hil.yamlfile import StrictModel

Seconds = Annotated[float, pydantic.Field(ge=0)]
PositiveSeconds = Annotated[float, pydantic.Field(gt=0)]
#: A number, or a number with a unit ("4.2 V", "300 mV", "25 degC").
Quantity = float | str
#: Channel selector -> value. Selectors: a number (7), a range ("1..4"), a list ("1,3,5"),
#: or "all".
ChannelValues = dict[int | str, Quantity]
#: A value to compare with: a number, a number with a unit, an enum name ("FAULT"), or a
#: comparison (">= 4.2 V").
Expected = float | str


class Outputs(StrictModel):
    """Emulator outputs to change. Channels are numbered from 1."""

    cell_volts: ChannelValues | None = pydantic.Field(
        default=None, description="cell selector -> volts, e.g. {all: 3.7} or {7: 4.3}")
    temperature_celsius: ChannelValues | None = pydantic.Field(
        default=None, description="sensor selector -> degrees Celsius")
    current_amps: Quantity | None = pydantic.Field(
        default=None, description="pack current, positive = discharge")


class SetAction(Outputs):
    lines: dict[str, bool] | None = pydantic.Field(
        default=None, description="digital output line -> level")


class RampAction(Outputs):
    over_seconds: PositiveSeconds = pydantic.Field(
        description="ramp linearly from the present value to the target over this time")


class HoldAction(Outputs):
    for_seconds: PositiveSeconds = pydantic.Field(
        description="set these values, then put the previous ones back after this time")


class ProfileAction(StrictModel):
    """Play a CSV time series on an output, interpolated at the engine's update rate."""

    csv: str = pydantic.Field(description="CSV file, relative to the scenario file")
    time_column: str | int = pydantic.Field(default=0, description="column name or index")
    value_column: str | int = pydantic.Field(default=1, description="column name or index")
    target: Literal["current_amps", "cell_volts", "temperature_celsius"]
    channels: int | str = pydantic.Field(
        default="all", description="for cell_volts or temperature_celsius: which channels")
    scale: float = pydantic.Field(default=1.0, description="value = scale * csv value + offset")
    offset: float = 0.0
    interpolate: Literal["linear", "previous"] = "linear"
    duration_seconds: PositiveSeconds | None = pydantic.Field(
        default=None, description="play only this long (default: the whole file)")


class DriveAction(StrictModel):
    """Drive the plant: a speed cycle through the preset's vehicle, or a current profile."""

    cycle: str | None = pydantic.Field(
        default=None, description="shipped speed cycle (udds, us06, wmtc_all, NREL13) or a "
                                  "FASTSim-format CSV relative to the scenario file")
    current_csv: str | None = pydantic.Field(
        default=None, description="PyBaMM-format profile (CSV) relative to the scenario file, "
                                  "> 0 discharges: a current is what the BMS sees, a power "
                                  "is the preset's whole pack")
    scale: float = pydantic.Field(default=1.0, gt=0,
                                  description="for current_csv: pack current = scale * file")
    start_seconds: Seconds = pydantic.Field(default=0.0,
                                            description="start this far into the cycle")
    duration_seconds: PositiveSeconds = pydantic.Field(description="how long to drive")

    @pydantic.model_validator(mode="after")
    def _one_source(self) -> DriveAction:
        if (self.cycle is None) == (self.current_csv is None):
            raise ValueError("a drive has exactly one of cycle or current_csv")
        return self


class ChargeAction(StrictModel):
    """Charge the plant: constant current, constant power, or CC-CV to a cell voltage."""

    amps: Quantity | None = pydantic.Field(
        default=None, description="charge current the BMS sees (positive number)")
    kilowatts: Quantity | None = pydantic.Field(
        default=None, description="charger power into the preset's whole pack")
    until_cell_volts: Quantity | None = pydantic.Field(
        default=None, description="CC-CV: hold the highest cell at this voltage (with amps)")
    cutoff_amps: Quantity | None = pydantic.Field(
        default=None, description="CC-CV: the charge ends when the current falls below this")
    duration_seconds: PositiveSeconds = pydantic.Field(description="longest charge time")
    follow_bms_limit: bool = pydantic.Field(
        default=True, description="never charge above the BMS's charge current limit")

    @pydantic.model_validator(mode="after")
    def _one_mode(self) -> ChargeAction:
        if (self.amps is None) == (self.kilowatts is None):
            raise ValueError("a charge has exactly one of amps or kilowatts")
        if self.until_cell_volts is not None and self.amps is None:
            raise ValueError("until_cell_volts (CC-CV) needs amps")
        return self


class CanAction(StrictModel):
    """One CAN action. Exactly one of send, stop, start, corrupt, length."""

    send: str | None = pydantic.Field(default=None, description="message to send (DBC name)")
    signals: dict[str, Quantity] = pydantic.Field(
        default_factory=dict, description="for send: signal values (others 0)")
    period_seconds: PositiveSeconds | None = pydantic.Field(
        default=None, description="for send: keep sending at this period")
    stop: str | None = pydantic.Field(
        default=None, description="stop a periodic message the rig sends (provoke a timeout)")
    start: str | None = pydantic.Field(default=None,
                                       description="resume a stopped periodic message")
    corrupt: str | None = pydantic.Field(
        default=None, description="periodic message whose next frames are corrupted")
    field: Literal["crc", "counter"] | None = pydantic.Field(
        default=None, description="for corrupt: a wrong CRC, or an alive counter that sticks")
    length: str | None = pydantic.Field(
        default=None, description="periodic message whose next frames have another length")
    bytes: int | None = pydantic.Field(default=None, ge=0, le=8,
                                       description="for length: data bytes to send")
    frames: int = pydantic.Field(default=1, ge=1,
                                 description="for corrupt and length: how many frames")

    @pydantic.model_validator(mode="after")
    def _one(self) -> CanAction:
        verbs = [v for v in ("send", "stop", "start", "corrupt", "length")
                 if getattr(self, v) is not None]
        if len(verbs) != 1:
            raise ValueError("a can action has exactly one of send, stop, start, corrupt, length")
        if self.corrupt is not None and self.field is None:
            raise ValueError("corrupt needs field: crc or counter")
        if self.length is not None and self.bytes is None:
            raise ValueError("length needs bytes: <0..8>")
        return self


class FaultAction(StrictModel):
    fault: str = pydantic.Field(description="a fault kind the rig declares, e.g. open_wire")
    index: int | None = pydantic.Field(default=None, ge=1,
                                       description="cell or sensor number, if the fault has one")
    value: Quantity = pydantic.Field(default=0.0, description="e.g. the offset in A")


class Target(StrictModel):
    role: str | None = pydantic.Field(default=None,
                                      description="a DUT profile role, e.g. fault.over_voltage")
    signal: str | None = pydantic.Field(default=None, description="a DBC signal, Message.Signal")

    @pydantic.model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.role is None) == (self.signal is None):
            raise ValueError("give exactly one of role or signal")
        return self

    @property
    def name(self) -> str:
        return self.role if self.role is not None else str(self.signal)


class WaitUntil(Target):
    """Wait until the target holds a value (synchronise on the BMS)."""

    is_: Expected = pydantic.Field(alias="is", description="value or enum name to wait for")
    within_seconds: PositiveSeconds

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Becomes(Target):
    """The target reaches a value within a time after the step: reaction time measured."""

    becomes: Expected = pydantic.Field(
        description="value, enum name (ACTIVE, FAULT) or comparison ('>= 4.2 V')")
    within_seconds: PositiveSeconds


class Window(Target):
    after_seconds: Seconds = pydantic.Field(
        default=0.0, description="the window starts this long after the step")
    for_seconds: PositiveSeconds = pydantic.Field(description="the window's length")


class Stays(Window):
    """Every sample in the window satisfies the value (and at least one arrives)."""

    stays: Expected


class Never(Window):
    """No sample in the window satisfies the value."""

    never: Expected


class InRange(Window):
    """Every sample in the window is within [low, high]."""

    in_range: tuple[Quantity, Quantity]


class Tracks(StrictModel):
    """A numbered role follows the emulated value of every channel within a tolerance."""

    tracks: Literal["cell_volts", "temperature_celsius"]
    role: str = pydantic.Field(description="the numbered role, e.g. cell_voltage")
    channels: int | str = "all"
    tolerance: Quantity = pydantic.Field(description="largest allowed error, e.g. '5 mV'")
    after_seconds: Seconds = pydantic.Field(default=0.0, description="settling time")
    for_seconds: PositiveSeconds


class Follows(Target):
    """The target follows a plant truth series (plant.soc, plant.current) within a tolerance."""

    follows: Literal["plant.soc", "plant.current"] = pydantic.Field(
        description="the plant's true value: pack SOC in %, or pack current in A")
    tolerance: Quantity = pydantic.Field(
        description="largest error of any sample, in the target's unit, e.g. '2 %' or '3 A'")
    change_tolerance_percent: float | None = pydantic.Field(
        default=None, gt=0, description="also: the change over the window agrees with the "
                                        "truth's change within this percent of it")
    lag_seconds: Seconds = pydantic.Field(
        default=0.0, description="a sample may match the truth up to this long before it")
    after_seconds: Seconds = 0.0
    for_seconds: PositiveSeconds


class CycleTime(StrictModel):
    """Frames of a message arrive at its period (from the DBC's GenMsgCycleTime)."""

    cycle_time: str = pydantic.Field(description="message name")
    expected_seconds: PositiveSeconds | None = pydantic.Field(
        default=None, description="default: GenMsgCycleTime (per multiplexer value)")
    tolerance_percent: float = pydantic.Field(default=10.0, gt=0)
    after_seconds: Seconds = 0.0
    for_seconds: PositiveSeconds


CHECK_KINDS = ("becomes", "stays", "never", "in_range", "tracks", "cycle_time", "follows")


def _check_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        found = [k for k in CHECK_KINDS if k in data]
        return f"{found[0]} check" if len(found) == 1 else None
    return None


# Tags name the check kind (they show in pydantic's error locations, never in our messages).
Check = Annotated[
    Annotated[Becomes, pydantic.Tag("becomes check")]
    | Annotated[Stays, pydantic.Tag("stays check")]
    | Annotated[Never, pydantic.Tag("never check")]
    | Annotated[InRange, pydantic.Tag("in_range check")]
    | Annotated[Tracks, pydantic.Tag("tracks check")]
    | Annotated[CycleTime, pydantic.Tag("cycle_time check")]
    | Annotated[Follows, pydantic.Tag("follows check")],
    pydantic.Discriminator(
        _check_kind,
        custom_error_type="check_kind",
        custom_error_message=f"a check has exactly one of {', '.join(CHECK_KINDS)}"),
]


class WeakCell(StrictModel):
    cell: int = pydantic.Field(ge=1, description="which emulated cell is weak (from 1)")
    capacity_percent: float = pydantic.Field(gt=0, le=100,
                                             description="its capacity, % of the others")


class PlantSetup(StrictModel):
    """A living pack: the plant drives cells, temperatures and current for the whole run."""

    preset: str = pydantic.Field(description="pack preset: city_bus, truck, two_wheeler, "
                                             "grid_string")
    initial_soc_percent: float = pydantic.Field(ge=0, le=100)
    seed: int = pydantic.Field(default=0, description="cell-to-cell spread draw")
    spread: bool = pydantic.Field(default=True, description="false: identical cells")
    ambient_celsius: float = 25.0
    weak_cell: WeakCell | None = None


class Setup(Outputs):
    """Applied before the timeline starts (after the rig's initial state)."""

    state_request: str | None = pydantic.Field(
        default=None, description="VCU state request: standby, drive or charge")
    wait_until: WaitUntil | None = None


ACTIONS = ("set", "ramp", "hold", "profile", "request_state", "fault_reset", "can", "inject",
           "clear", "wait_until", "drive", "charge")


class Step(StrictModel):
    """One timeline step: when, what to do (at most one action), and what must follow.

    `at_seconds` counts from the start of the timeline, or from the end of the last
    `wait_until` step before it; `after_seconds` from the previous step.
    """

    name: str | None = None
    at_seconds: Seconds | None = None
    after_seconds: Seconds | None = None
    set: SetAction | None = None
    ramp: RampAction | None = None
    hold: HoldAction | None = None
    profile: ProfileAction | None = None
    request_state: str | None = None
    fault_reset: bool | None = pydantic.Field(default=None,
                                              description="pulse the VCU's fault reset")
    can: CanAction | None = None
    inject: FaultAction | None = None
    clear: FaultAction | None = None
    wait_until: WaitUntil | None = pydantic.Field(
        default=None, description="pause the timeline until the BMS gets there")
    drive: DriveAction | None = pydantic.Field(default=None,
                                               description="needs a plant: block")
    charge: ChargeAction | None = pydantic.Field(default=None,
                                                 description="needs a plant: block")
    expect: list[Check] = pydantic.Field(default_factory=list)

    @pydantic.model_validator(mode="after")
    def _timing_and_action(self) -> Step:
        if (self.at_seconds is None) == (self.after_seconds is None):
            raise ValueError("give exactly one of at_seconds or after_seconds")
        actions = [a for a in ACTIONS if getattr(self, a) not in (None, False)]
        if len(actions) > 1:
            raise ValueError(f"a step does one thing; this one has {' and '.join(actions)}")
        return self


class ScenarioFile(StrictModel):
    scenario: str = pydantic.Field(description="title: what this scenario shows")
    description: str = ""
    requirement: str | None = pydantic.Field(default=None, description="requirement id")
    tags: list[str] = pydantic.Field(default_factory=list)
    parameters: dict[str, float | str] = pydantic.Field(
        default_factory=dict, description="values for ${name} in this file")
    matrix: dict[str, list[float | str] | str] = pydantic.Field(
        default_factory=dict,
        description="one test item per combination, e.g. {cell: '1..16'}; use as ${cell}")
    id: str | None = pydantic.Field(
        default=None, description="test id of each matrix item, e.g. 'cell ${cell}'")
    requires: list[str] = pydantic.Field(
        default_factory=list, description="rig faults this scenario needs (else skipped)")
    plant: PlantSetup | None = pydantic.Field(
        default=None, description="emulate a living pack instead of fixed values")
    setup: Setup = Setup()
    steps: list[Step] = pydantic.Field(min_length=1)
