"""The pack plant model: equivalent-circuit cells, a vehicle, drive cycles and chargers.

A self-contained library: nothing here talks to the rig. A typical loop::

    from hil.plant import builtin_cycle, pack_preset, vehicle

    preset = pack_preset("city_bus")
    pack = preset.build(seed=1, initial_soc=0.9)
    bus, cycle = vehicle("city_bus"), builtin_cycle("udds")  # or read_fastsim_cycle(path)
    t, dt = 0.0, 0.01
    while t < cycle.duration:
        speed, accel, grade = cycle.at(t)
        pack.step(dt, float(bus.pack_amps(speed, accel, grade, pack.pack_volts)))
        t += dt
    pack.cell_volts, pack.temperatures, pack.soc   # what the emulator drives and checks use

Current is positive when the pack discharges, everywhere in this package. On a rig, scenarios
run the plant through `hil.scenario.plant_loop` (a `plant:` block in the scenario file).
"""

from hil.plant.cycles import (
    CcCvCharge,
    ConstantCurrentCharge,
    ConstantPowerCharge,
    Profile,
    SpeedCycle,
    builtin_cycle,
    builtin_cycles,
    power_to_amps,
    read_fastsim_cycle,
    read_pybamm_profile,
    run_until_finished,
)
from hil.plant.pack import NO_SPREAD, PackModel, Spread
from hil.plant.params import (
    BUILTIN_FILES,
    CellParams,
    Hysteresis,
    RcPair,
    Table,
    TableStack,
    Thermal,
    builtin_cell_params,
    load_cell_params,
)
from hil.plant.presets import PACK_PRESETS, PackPreset, pack_preset
from hil.plant.vehicle import VEHICLES, Vehicle, vehicle

__all__ = [
    "BUILTIN_FILES",
    "NO_SPREAD",
    "PACK_PRESETS",
    "VEHICLES",
    "CcCvCharge",
    "CellParams",
    "ConstantCurrentCharge",
    "ConstantPowerCharge",
    "Hysteresis",
    "PackModel",
    "PackPreset",
    "Profile",
    "RcPair",
    "SpeedCycle",
    "Spread",
    "Table",
    "TableStack",
    "Thermal",
    "Vehicle",
    "builtin_cell_params",
    "builtin_cycle",
    "builtin_cycles",
    "load_cell_params",
    "pack_preset",
    "power_to_amps",
    "read_fastsim_cycle",
    "read_pybamm_profile",
    "run_until_finished",
    "vehicle",
]
