"""Per-channel calibration: the gain and offset that make a requested value the real one.

`actual = gain * nominal + offset`, where `nominal` is what the driver's ideal conversion
(code -> volts) says. To produce `actual`, a driver asks for `nominal = (actual - offset) /
gain`. `hil calibrate` fits these from read-back or multimeter values and writes the file a rig
references; every report records which calibration was used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pydantic
import yaml

from hil.yamlfile import StrictModel, load_yaml, validate


class ChannelCalibration(StrictModel):
    gain: float = pydantic.Field(default=1.0, gt=0.5, lt=2.0)
    offset: float = 0.0

    def to_nominal(self, actual: float) -> float:
        return (actual - self.offset) / self.gain

    def to_actual(self, nominal: float) -> float:
        return self.gain * nominal + self.offset


IDENTITY = ChannelCalibration()


class CalibrationFile(StrictModel):
    created: str = ""
    method: str = ""
    cells: dict[int, ChannelCalibration] = pydantic.Field(default_factory=dict)
    temperatures: dict[int, ChannelCalibration] = pydantic.Field(default_factory=dict)


@dataclass(frozen=True)
class Calibration:
    """A loaded calibration (identity for channels it does not list)."""

    path: Path | None = None
    cells: Mapping[int, ChannelCalibration] = field(default_factory=dict)
    temperatures: Mapping[int, ChannelCalibration] = field(default_factory=dict)
    sha256: str = ""

    def cell(self, index: int) -> ChannelCalibration:
        return self.cells.get(index, IDENTITY)

    def temperature(self, index: int) -> ChannelCalibration:
        return self.temperatures.get(index, IDENTITY)

    def describe(self) -> str:
        if self.path is None:
            return "none (nominal conversion)"
        return f"{self.path.name} (sha256 {self.sha256[:12]})"


def load_calibration(path: str | os.PathLike[str] | None) -> Calibration:
    if path is None:
        return Calibration()
    path = Path(path)
    doc = load_yaml(path, what="calibration file")
    data = validate(CalibrationFile, doc, what="calibration file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Calibration(path, dict(data.cells), dict(data.temperatures), digest)


def write_calibration(path: Path, cells: Mapping[int, ChannelCalibration], method: str,
                      created: str, temperatures: Mapping[int, ChannelCalibration] | None = None
                      ) -> None:
    data = {
        "created": created,
        "method": method,
        "cells": {i: {"gain": round(c.gain, 6), "offset": round(c.offset, 6)}
                  for i, c in sorted(cells.items())},
    }
    if temperatures:
        data["temperatures"] = {i: {"gain": round(c.gain, 6), "offset": round(c.offset, 6)}
                                for i, c in sorted(temperatures.items())}
    header = ("# Per-channel calibration: actual = gain * nominal + offset (volts for cells).\n"
              "# Written by `hil calibrate`; referenced from a rig file.\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def describe_calibration(config: object) -> str:
    """Which calibration files a rig file's sections use, with their hashes (for reports)."""
    parts = []
    for kind, (_cls, section) in config.drivers.items():  # type: ignore[attr-defined]
        relative = getattr(section, "calibration", None)
        if relative:
            path = config.resolve(relative)  # type: ignore[attr-defined]
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                parts.append(f"{kind}: {path.name} (sha256 {digest})")
            else:
                parts.append(f"{kind}: {relative} (missing)")
    return "; ".join(parts) or "none (nominal conversion)"
