"""Pack presets: series/parallel counts, cell size and chemistry of typical application packs.

The figures are typical of each class (public spec sheets and reviews of the segment taken
together), not any specific product. Voltages and energies are computed from the parameter
set's mean OCV (`CellParams.nominal_volts`), so they follow the data:

============  ==========  =========  ========  =========  ============
preset        cells       cell       chem.     nominal V  nominal kWh
============  ==========  =========  ========  =========  ============
city_bus      200s2p      280 Ah     LFP       657        368
truck         192s4p      180 Ah     NMC       718        517
two_wheeler   16s14p      5 Ah       NMC       59.8       4.2
grid_string   384s1p      280 Ah     LFP       1261       353
============  ==========  =========  ========  =========  ============
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.errors import HilError
from hil.plant.pack import PackModel, Spread
from hil.plant.params import CellParams, builtin_cell_params
from hil.yamlfile import did_you_mean


@dataclass(frozen=True)
class PackPreset:
    """A pack of `cells_series` groups of `cells_parallel` cells of `cell_capacity_ah` each."""

    name: str
    description: str
    cell_params: str  # a built-in parameter set, see hil.plant.params
    cells_series: int
    cells_parallel: int
    cell_capacity_ah: float
    vehicle: str | None  # the matching preset in hil.plant.vehicle.VEHICLES
    basis: str  # where the figures come from

    def cell(self) -> CellParams:
        """The parameter set resized to this preset's cell."""
        return builtin_cell_params(self.cell_params).with_capacity(self.cell_capacity_ah)

    @property
    def capacity_ah(self) -> float:
        return self.cell_capacity_ah * self.cells_parallel

    @property
    def nominal_volts(self) -> float:
        return self.cell().nominal_volts * self.cells_series

    @property
    def energy_kwh(self) -> float:
        return self.nominal_volts * self.capacity_ah / 1000.0

    def build(self, *, seed: int = 0, spread: Spread | None = None,
              ambient_celsius: float = 25.0, initial_soc: float | np.ndarray = 0.5
              ) -> PackModel:
        return PackModel(self.cell(), self.cells_series, self.cells_parallel, seed=seed,
                         spread=spread, ambient_celsius=ambient_celsius,
                         initial_soc=initial_soc)


PACK_PRESETS: dict[str, PackPreset] = {p.name: p for p in (
    PackPreset(
        "city_bus", "12 m battery-electric city bus, overnight depot charging",
        "lfp_representative", cells_series=200, cells_parallel=2, cell_capacity_ah=280.0,
        vehicle="city_bus",
        basis="Typical 12 m e-bus: 600-700 V, 300-400 kWh, LFP (the most common bus "
              "chemistry); 280 Ah is a common large prismatic LFP size."),
    PackPreset(
        "truck", "Heavy electric truck (40 t class), regional haul",
        "nmc_pybamm_ecm", cells_series=192, cells_parallel=4, cell_capacity_ah=180.0,
        vehicle="truck",
        basis="Typical heavy e-truck: ~700 V, 400-600 kWh, NMC for energy density; 180 Ah "
              "prismatic cells."),
    PackPreset(
        "two_wheeler", "Electric scooter / motorcycle (also a 3-wheeler class pack)",
        "nmc_pybamm_ecm", cells_series=16, cells_parallel=14, cell_capacity_ah=5.0,
        vehicle="two_wheeler",
        basis="Typical 2-wheeler: 48-72 V, 3-5 kWh of 21700 cylindrical cells (~5 Ah)."),
    PackPreset(
        "grid_string", "Grid-storage rack: one string of a battery energy storage system",
        "lfp_representative", cells_series=384, cells_parallel=1, cell_capacity_ah=280.0,
        vehicle=None,
        basis="Typical BESS rack: 280 Ah LFP prismatic cells, one string of eight 48-cell "
              "modules, ~1.2 kV DC."),
)}


def pack_preset(name: str) -> PackPreset:
    """A preset from `PACK_PRESETS` by name."""
    try:
        return PACK_PRESETS[name]
    except KeyError:
        raise HilError(f"unknown pack preset {name!r}{did_you_mean(name, PACK_PRESETS)}; "
                       f"known: {', '.join(PACK_PRESETS)}") from None
