"""`hil plant` lists everything a scenario can name, with the figures that matter."""

from __future__ import annotations

import subprocess
import sys

from hil.plant import PACK_PRESETS, VEHICLES, builtin_cycles
from hil.plant.catalog import catalog
from hil.plant.params import BUILTIN_FILES


def test_every_name_a_scenario_can_use_is_listed() -> None:
    text = catalog()
    for name in [*PACK_PRESETS, *VEHICLES, *builtin_cycles(), *BUILTIN_FILES]:
        assert f"  {name} " in text, name


def test_figures_are_computed_from_the_presets() -> None:
    lines: dict[str, str] = {}  # the first line of each name: presets come before vehicles
    for line in catalog().splitlines():
        if line.startswith("  "):
            lines.setdefault(line.split()[0], line)
    assert "200s2p LFP 280 Ah cells" in lines["city_bus"]
    assert "560 Ah" in lines["city_bus"] and "vehicle: city_bus" in lines["city_bus"]
    assert "1,369 s, 12.0 km" in lines["udds"]
    assert "hysteresis" in lines["lfp_representative"]
    assert "hysteresis" not in lines["nmc_pybamm_ecm"]


def test_hil_plant_command_prints_it() -> None:
    run = subprocess.run([sys.executable, "-m", "hil.cli", "plant"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == catalog()
