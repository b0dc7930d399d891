"""Fault injection: the pack faults a rig can create, and how this rig creates each one.

A rig file says, per fault, how it is realised: a relay on a digital line (an open sense
wire), the thermistor rheostats (open or short), the CAN current-sensor emulation (silent,
stuck, offset, error flag) or `unsupported`. Tests that need a fault the rig cannot make are
skipped with that reason (`@pytest.mark.requires_fault("open_wire")`), not failed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

import pydantic

from hil.errors import HilError
from hil.yamlfile import StrictModel, did_you_mean

if TYPE_CHECKING:
    from hil.rig.rig import Rig

#: Fault kinds, what they mean, and what their index counts.
FAULT_KINDS: dict[str, tuple[str, str | None]] = {
    "open_wire": ("a cell's sense wire opens", "cell"),
    "ntc_open": ("a thermistor input opens", "temperature sensor"),
    "ntc_short": ("a thermistor input is shorted", "temperature sensor"),
    "current_sensor_silent": ("the current sensor stops sending", None),
    "current_sensor_stuck": ("the current sensor's value freezes", None),
    "current_sensor_offset": ("the current sensor reads off by a fixed amount", None),
    "current_sensor_error": ("the current sensor flags a measurement error", None),
}

#: How each kind can be realised.
MEANS: dict[str, tuple[str, ...]] = {
    "open_wire": ("relay",),
    "ntc_open": ("rheostat", "relay"),
    "ntc_short": ("rheostat", "relay"),
    "current_sensor_silent": ("can",),
    "current_sensor_stuck": ("can",),
    "current_sensor_offset": ("can",),
    "current_sensor_error": ("can",),
}


class Realisation(StrictModel):
    by: Literal["relay", "rheostat", "can"]
    line: str | None = pydantic.Field(
        default=None, description="relay output, with {i} for the cell or sensor number")


def check_faults(faults: dict[str, Realisation | Literal["unsupported"]]
                 ) -> dict[str, Realisation | Literal["unsupported"]]:
    """Rig-file validation of the `faults` section (kinds, means, relay lines given)."""
    for kind, how in faults.items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}{did_you_mean(kind, FAULT_KINDS)}; known: "
                             f"{', '.join(FAULT_KINDS)}")
        if how == "unsupported":
            continue
        if how.by not in MEANS[kind]:
            raise ValueError(f"{kind} cannot be realised by {how.by}; "
                             f"use {' or '.join(MEANS[kind])}")
        if how.by == "relay" and not how.line:
            raise ValueError(f"{kind}: a relay needs line: <output name, {{i}} for the index>")
    return faults


def unsupported_reason(rig_name: str, declared: dict[str, Realisation | str], kind: str
                       ) -> str | None:
    """None if a rig with this `faults` section can make `kind`, else why not."""
    if kind not in FAULT_KINDS:
        return f"unknown fault {kind!r}{did_you_mean(kind, FAULT_KINDS)}"
    how = declared.get(kind)
    if how is None:
        return f"rig {rig_name!r} declares no way to inject {kind} (faults section)"
    if how == "unsupported":
        return f"rig {rig_name!r} cannot inject {kind} (declared unsupported)"
    return None


class FaultUnavailable(HilError):
    """The rig cannot create this fault (a reason to skip a test, not to fail it)."""


class FaultInjector:
    """Injects and clears faults through the rig's capabilities, as the rig file says."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.declared = dict(rig.config.file.faults)

    def reason_unsupported(self, kind: str) -> str | None:
        """None if the rig can make `kind`, else why not."""
        return unsupported_reason(self.rig.config.name, self.declared, kind)

    def _how(self, kind: str) -> Realisation:
        reason = self.reason_unsupported(kind)
        if reason is not None:
            raise FaultUnavailable(reason)
        how = self.declared[kind]
        assert not isinstance(how, str)
        return how

    def _index(self, kind: str, index: int | None) -> int | None:
        noun = FAULT_KINDS[kind][1]
        if noun is None:
            return None
        if index is None:
            raise HilError(f"{kind} needs a {noun} number")
        return index

    def inject(self, kind: str, index: int | None = None, value: float = 0.0) -> float:
        """Create the fault now; returns the epoch time the output write completed."""
        return self._apply(kind, index, value, on=True)

    def clear(self, kind: str, index: int | None = None) -> float:
        return self._apply(kind, index, 0.0, on=False)

    def _apply(self, kind: str, index: int | None, value: float, on: bool) -> float:
        how = self._how(kind)
        index = self._index(kind, index)
        rig = self.rig
        if how.by == "relay":
            assert how.line is not None and rig.lines is not None
            return rig.lines.set(how.line.format(i=index), on)
        if how.by == "rheostat":
            temps = rig.temperatures
            assert temps is not None and index is not None
            if not on:
                temps.restore(index)  # type: ignore[attr-defined]
            elif kind == "ntc_open":
                temps.open_circuit(index)  # type: ignore[attr-defined]
            else:
                temps.short_circuit(index)  # type: ignore[attr-defined]
            return time.time()
        current = rig.current
        setter = getattr(current, "set_fault", None)
        if setter is None:
            raise FaultUnavailable(f"current driver {type(current).__name__} has no sensor "
                                   "faults")
        if on:
            setter(kind.removeprefix("current_sensor_"), value)
        else:
            current.clear_faults()  # type: ignore[union-attr]
        return time.time()
