"""Rig-file options shared by every driver of one capability (count, NTC model)."""

from __future__ import annotations

from typing import Literal

import pydantic

from hil.ntc import BetaNtc, NtcModel, SteinhartHartNtc
from hil.rig.config import DriverSection
from hil.yamlfile import StrictModel


class CellsSection(DriverSection):
    count: int = pydantic.Field(ge=1, le=192, description="cells wired to the BMS")


class BetaNtcConfig(StrictModel):
    model: Literal["beta"] = "beta"
    r25_ohms: float = pydantic.Field(gt=0)
    beta: float = pydantic.Field(gt=0)

    def build(self) -> NtcModel:
        return BetaNtc(self.r25_ohms, self.beta)


class SteinhartHartNtcConfig(StrictModel):
    model: Literal["steinhart_hart"]
    a: float
    b: float
    c: float

    def build(self) -> NtcModel:
        return SteinhartHartNtc(self.a, self.b, self.c)


class TemperaturesSection(DriverSection):
    count: int = pydantic.Field(ge=1, le=64, description="NTC inputs wired to the BMS")
    ntc: BetaNtcConfig | SteinhartHartNtcConfig = pydantic.Field(
        discriminator="model", description="the thermistor the BMS expects")
