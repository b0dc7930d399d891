"""What the plant ships with, as text for `hil plant`: presets, vehicles, cycles, cell sets.

Scenario authors pick these by name (`plant: {preset: ...}`, `drive: {cycle: ...}`); listing
them with their sizes saves opening the source.
"""

from __future__ import annotations

from hil.plant.cycles import builtin_cycle, builtin_cycles
from hil.plant.params import BUILTIN_FILES, builtin_cell_params
from hil.plant.presets import PACK_PRESETS
from hil.plant.vehicle import VEHICLES


def catalog() -> str:
    """Every preset, vehicle, shipped cycle and cell set, one line each."""
    lines = ["Pack presets (plant: {preset: NAME}):"]
    for p in PACK_PRESETS.values():
        cell = p.cell()
        lines.append(f"  {p.name:<12} {p.cells_series}s{p.cells_parallel}p {cell.chemistry} "
                     f"{p.cell_capacity_ah:g} Ah cells: {p.nominal_volts:.0f} V, "
                     f"{p.capacity_ah:g} Ah, {p.energy_kwh:.1f} kWh; vehicle: "
                     f"{p.vehicle or 'none'} - {p.description}")
    lines.append("Vehicles (used by the preset of the same name):")
    for v in VEHICLES.values():
        lines.append(f"  {v.name:<12} {v.mass_kg:,.0f} kg, CdA {v.drag_area_m2:g} m2, "
                     f"Crr {v.rolling_resistance:g}, drivetrain {v.drivetrain_efficiency:.0%}, "
                     f"regen {v.regen_fraction:.0%} up to {v.max_regen_watts / 1e3:g} kW, "
                     f"aux {v.aux_watts / 1e3:g} kW")
    lines.append("Speed cycles (drive: {cycle: NAME}):")
    for name in builtin_cycles():
        cycle = builtin_cycle(name)
        lines.append(f"  {name:<12} {cycle.duration:,.0f} s, {cycle.distance_m / 1e3:.1f} km, "
                     f"top {cycle.mps.max() * 3.6:.0f} km/h")
    lines.append("Cell parameter sets (DUT profile pack: {cell: NAME}):")
    for name in BUILTIN_FILES:
        cell = builtin_cell_params(name)
        lines.append(f"  {name:<20} {cell.chemistry}, {cell.capacity_ah:g} Ah, "
                     f"{cell.min_volts:g}..{cell.max_volts:g} V, {len(cell.rc)} RC pair(s)"
                     f"{', hysteresis' if cell.hysteresis.active else ''}")
    return "\n".join(lines)
