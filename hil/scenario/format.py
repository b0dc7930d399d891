"""The scenario file format, as pydantic models: what the loader accepts, field by field.

These models check the shape of a file (keys, types, required fields). Meaning (does this role
exist, is cell 17 on this rig, is 6 V within the rig's limits) is checked by the loader
against the DUT profile and the rig. The JSON Schema for editors is generated from here.
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from hil.yamlfile import StrictModel

Seconds = Annotated[float, pydantic.Field(ge=0)]
PositiveSeconds = Annotated[float, pydantic.Field(gt=0)]
#: Channel selector -> value. Selectors: a number (7), a range ("1..4"), or "all".
ChannelValues = dict[int | str, float]


class Outputs(StrictModel):
    """Emulator outputs to change. Channels are numbered from 1."""

    cell_volts: ChannelValues | None = pydantic.Field(
        default=None, description="cell selector -> volts, e.g. {all: 3.7} or {7: 4.3}")
    temperature_celsius: ChannelValues | None = pydantic.Field(
        default=None, description="sensor selector -> degrees Celsius")
    current_amps: float | None = pydantic.Field(
        default=None, description="pack current, positive = discharge")


class SetAction(Outputs):
    lines: dict[str, bool] | None = pydantic.Field(
        default=None, description="digital output line -> level")


class RampAction(Outputs):
    over_seconds: PositiveSeconds = pydantic.Field(
        description="ramp linearly from the present value to the target over this time")


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


class Expect(Target):
    """A check anchored at its step: the target becomes a value within a time."""

    becomes: float | str = pydantic.Field(
        description="value, enum name (ACTIVE, FAULT) or comparison ('>= 4.2')")
    within_seconds: PositiveSeconds


class WaitUntil(Target):
    """Synchronise on the BMS before the timeline starts."""

    is_: float | str = pydantic.Field(alias="is", description="value or enum name to wait for")
    within_seconds: PositiveSeconds

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Setup(Outputs):
    """Applied before the timeline starts (after the rig's initial state)."""

    state_request: str | None = pydantic.Field(
        default=None, description="VCU state request: standby, drive or charge")
    wait_until: WaitUntil | None = None


class Step(StrictModel):
    """One timeline step: when, what to change (at most one action), and what must follow."""

    name: str | None = None
    at_seconds: Seconds | None = pydantic.Field(
        default=None, description="time from the start of the timeline")
    after_seconds: Seconds | None = pydantic.Field(
        default=None, description="time after the previous step")
    set: SetAction | None = None
    ramp: RampAction | None = None
    request_state: str | None = None
    expect: list[Expect] = pydantic.Field(default_factory=list)

    @pydantic.model_validator(mode="after")
    def _timing_and_action(self) -> Step:
        if (self.at_seconds is None) == (self.after_seconds is None):
            raise ValueError("give exactly one of at_seconds or after_seconds")
        actions = [a for a in ("set", "ramp", "request_state") if getattr(self, a) is not None]
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
    setup: Setup = Setup()
    steps: list[Step] = pydantic.Field(min_length=1)
