"""The defect matrix: does every injectable defect make the scenarios that should catch it fail?

A suite that passes on a correct BMS proves little until it fails on a broken one. Each defect
names the scenarios that catch it (`caught_by`); this runs each of them on one simulated rig
with the reference BMS rebuilt with that defect, and reports which defects went unnoticed.
`hil bms defects --check` prints the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hil.errors import HilError
from hil.rig.rig import Rig
from hil.scenario.engine import Engine
from hil.scenario.loader import ScenarioContext, load_scenarios
from hil.sim.bms.defects import DEFECTS, Defect


@dataclass(frozen=True)
class MatrixRow:
    defect: str
    scenario: str
    caught: bool
    detail: str
    seconds: float


def check_defects(rig: Rig, root: Path, names: list[str] | None = None,
                  report: Callable[[MatrixRow], None] | None = None) -> list[MatrixRow]:
    """Run each defect's `caught_by` scenarios with that defect; rows say what happened."""
    power = rig.dut_power
    if power is None or not hasattr(power, "set_defects"):
        raise HilError("the defect matrix needs the reference BMS (dut_power: sim-process)")
    assert rig.profile is not None
    ctx = ScenarioContext.for_rig(rig.config, rig.profile)
    rows: list[MatrixRow] = []
    chosen: list[Defect] = [DEFECTS[n] for n in names] if names else list(DEFECTS.values())
    try:
        for defect in chosen:
            caught_by = getattr(defect, "caught_by", ())
            if not caught_by:
                rows.append(MatrixRow(defect.name, "-", False, "no scenario claims to catch it",
                                      0.0))
                if report:
                    report(rows[-1])
                continue
            power.set_defects([defect.name])
            for relative in caught_by:
                started = time.monotonic()
                failures = []
                for scenario in load_scenarios(root / relative, ctx):
                    rig.reset_dut()
                    result = Engine(rig).run(scenario)
                    if not result.passed:
                        failed = next((o.check for o in result.outcomes if not o.passed),
                                      result.error or "timing")
                        failures.append(f"{scenario.name}: {failed}")
                detail = failures[0] if failures else "every item passed"
                rows.append(MatrixRow(defect.name, relative, bool(failures), detail,
                                      time.monotonic() - started))
                if report:
                    report(rows[-1])
    finally:
        power.set_defects([])
        power.power_cycle()
    return rows
