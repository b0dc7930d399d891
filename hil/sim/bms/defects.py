"""Bugs the reference BMS can be built with, so suites can prove they catch them.

A suite that passes on a correct BMS proves little until it also fails on a broken one. Each
defect is a named, documented change to the reference firmware: either a parameter change (a
calibration mistake) or a behaviour switch the firmware code checks (a logic bug).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hil.sim.bms.params import BmsParams
from hil.yamlfile import did_you_mean


@dataclass(frozen=True)
class Defect:
    name: str
    summary: str
    tweak: Callable[[BmsParams], BmsParams] | None = None
    flags: frozenset[str] = field(default_factory=frozenset)


DEFECTS: dict[str, Defect] = {}


def _register(name: str, summary: str, tweak: Callable[[BmsParams], BmsParams] | None = None,
              flags: Iterable[str] = ()) -> None:
    DEFECTS[name] = Defect(name, summary, tweak, frozenset(flags))


def _protection(params: BmsParams, which: str, **changes: float) -> BmsParams:
    prot = params.protections
    new = getattr(prot, which).model_copy(update=changes)
    return params.model_copy(update={"protections": prot.model_copy(update={which: new})})


_register("slow-ov", "cell over-voltage debounce is 1.5 s instead of 0.1 s (trips too late)",
          lambda p: _protection(p, "cell_over_voltage", debounce_seconds=1.5))
_register("no-ot-trip", "over-temperature never trips (protection disabled)",
          flags=["no_ot_trip"])
_register("stuck-cell-report", "cell 1's reported voltage freezes at its first measurement",
          flags=["stuck_cell_report"])
_register("no-uv-trip", "cell under-voltage never trips (protection disabled)",
          flags=["no_uv_trip"])


def resolve(names: Iterable[str]) -> list[Defect]:
    """Defects by name; KeyError with a suggestion and the list of known defects otherwise."""
    out = []
    for name in names:
        if name not in DEFECTS:
            hint = did_you_mean(name, DEFECTS)
            raise KeyError(f"unknown BMS defect {name!r}{hint}; "
                           f"known: {', '.join(sorted(DEFECTS))}")
        out.append(DEFECTS[name])
    return out


def apply(params: BmsParams, defects: Iterable[Defect]) -> tuple[BmsParams, frozenset[str]]:
    """Parameters and behaviour flags of a firmware built with these defects."""
    flags: set[str] = set()
    for d in defects:
        if d.tweak is not None:
            params = d.tweak(params)
        flags |= d.flags
    return params, frozenset(flags)
