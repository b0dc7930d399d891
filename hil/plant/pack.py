"""A series string of equivalent-circuit cells with lumped thermal nodes, one numpy vector each.

The plant a BMS is tested against: the rig turns `cell_volts` and `temperatures` into DAC and
rheostat settings, the scenario engine feeds the pack current. Each cell is a parallel group
(capacity and conductances times `cells_parallel`) with

    V = OCV(SOC, T) - I*R0(SOC, T) - v_rc1 - v_rc2 + v_hyst          (I > 0 discharges)
    v_rc <- v_rc*exp(-dt/tau) + R*(1 - exp(-dt/tau))*I               (exact for constant I)
    v_hyst <- v_hyst*a - (1 - a)*M*sign(I),  a = exp(-gamma*|I|*dt/Q)  (Plett one-state)
    SOC <- SOC - I*dt/Q                                              (coulombic efficiency 1)
    C dT/dt = I^2*R0 [+ v_rc^2/R] + share*V*I_bal - hA*(T - T_amb) - k*(2T - T_left - T_right)

Each thermal step first applies a cell's own heat and cooling exactly (exponential, heat held
over the step), then the exchange with its neighbours: pairwise, so it conserves energy, and
damped so that no dt makes it oscillate. A lone cell, or a string at one temperature, follows
the exact solution. Open contactors are simply a current of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.plant.params import CellParams, TableStack


@dataclass(frozen=True)
class Spread:
    """Cell-to-cell variation drawn once per pack from a seeded normal distribution.

    Capacity and R0 sigmas are relative (0.01 = 1 %), the initial SOC sigma is absolute (0.005
    = 0.5 % SOC). Draws are cut at 3 sigma. The defaults are the usual order of magnitude for
    new cells from one production lot (capacity about 1 %, DC resistance a few %); they are
    not from one specific study: set your own for an aged or mixed pack.
    """

    capacity_sigma: float = 0.01
    r0_sigma: float = 0.03
    soc_sigma: float = 0.005

    def __post_init__(self) -> None:
        if min(self.capacity_sigma, self.r0_sigma, self.soc_sigma) < 0:
            raise ValueError("spread sigmas must be >= 0")
        if max(self.capacity_sigma, self.r0_sigma) >= 1 / 3:
            raise ValueError("relative sigmas must be below 1/3 (draws are cut at 3 sigma)")


NO_SPREAD = Spread(0.0, 0.0, 0.0)


class PackModel:
    """`cells_series` cell groups of `cells_parallel` cells each; state vectors per group.

    `spread=None` uses the default `Spread()`; `NO_SPREAD` makes every cell identical. The
    spread draws depend only on `seed` and the cell count, so a pack is reproducible.
    """

    def __init__(self, params: CellParams, cells_series: int, cells_parallel: int = 1, *,
                 seed: int = 0, spread: Spread | None = None, ambient_celsius: float = 25.0,
                 initial_soc: float | np.ndarray = 0.5,
                 initial_celsius: float | np.ndarray | None = None) -> None:
        if cells_series < 1 or cells_parallel < 1:
            raise ValueError(f"need at least one cell in series and in parallel, got "
                             f"{cells_series}s{cells_parallel}p")
        self.params = params
        self.cells_series = int(cells_series)
        self.cells_parallel = int(cells_parallel)
        self.spread = Spread() if spread is None else spread
        group = params.scaled(cells_parallel) if cells_parallel > 1 else params
        self.group = group
        n = self.cells_series
        self._n_rc = len(group.rc)

        rng = np.random.default_rng(seed)
        draws = np.clip(rng.standard_normal((3, n)), -3.0, 3.0)
        self._capacity_factor = 1.0 + self.spread.capacity_sigma * draws[0]
        self._r0_factor = 1.0 + self.spread.r0_sigma * draws[1]
        self._soc_offset = self.spread.soc_sigma * draws[2]
        self._capacity_as = group.capacity_ah * 3600.0 * self._capacity_factor

        self._tables = TableStack([group.ocv_volts, group.r0_ohms,
                                   *(p.ohms for p in group.rc), *(p.seconds for p in group.rc)])
        th = group.thermal
        self._heat_capacity = th.heat_capacity_j_per_k
        self._cooling = th.cooling_w_per_k
        self._coupling = th.coupling_w_per_k
        self._rc_heat = th.rc_heat and self._n_rc > 0
        self._bal_share = th.balancing_heat_share
        self._hyst = group.hysteresis
        self._thermal_dt = -1.0
        self._own_gain = 0.0
        self._exchange_gain = 0.0

        self._ambient = float(ambient_celsius)
        self._soc = np.zeros(n)
        self._celsius = np.zeros(n)
        self._v_rc = np.zeros((self._n_rc, n))
        self._v_hyst = np.zeros(n)
        self._i = np.zeros(n)
        self._pack_amps = 0.0
        self._elapsed = 0.0
        self.reset(initial_soc=initial_soc, celsius=initial_celsius)

    # ---- state --------------------------------------------------------------------------

    def reset(self, *, initial_soc: float | np.ndarray | None = None,
              celsius: float | np.ndarray | None = None,
              ambient_celsius: float | None = None) -> None:
        """Back to rest: no current, RC and hysteresis voltages 0, time 0.

        A scalar `initial_soc` gets each cell's drawn SOC offset added; an array sets every
        cell exactly. Temperatures start at `celsius` (default: the ambient). Capacity and R0
        draws stay: they are the same cells. Omitted arguments keep their previous values.
        """
        if ambient_celsius is not None:
            self._ambient = float(ambient_celsius)
        if initial_soc is not None:
            soc = np.asarray(initial_soc, dtype=float)
            self._soc = (soc + self._soc_offset if soc.ndim == 0
                         else self._per_cell(soc, "initial_soc").copy())
        self._celsius = (np.full(self.cells_series, self._ambient) if celsius is None
                         else np.broadcast_to(np.asarray(celsius, float),
                                              (self.cells_series,)).copy())
        self._v_rc[:] = 0.0
        self._v_hyst[:] = 0.0
        self._i[:] = 0.0
        self._pack_amps = 0.0
        self._elapsed = 0.0
        self._lookup()

    def step(self, dt: float, current_amps: float,
             balancing_amps: np.ndarray | None = None) -> None:
        """Advance `dt` seconds with `current_amps` through the string (> 0 discharges).

        The current is held over the step; afterwards the voltages are those at the end of
        the step with the current still flowing. `dt = 0` applies a current change with no
        time passing (the instant I*R0 step). `balancing_amps` (one per cell group, > 0 bleeds
        the cell) adds to that group's own current.
        """
        if not dt >= 0.0:
            raise ValueError(f"dt must be >= 0 s, got {dt}")
        i = np.full(self.cells_series, float(current_amps))
        if balancing_amps is not None:
            bal = self._per_cell(balancing_amps, "balancing_amps")
            i += bal
        if dt > 0.0:
            heat = i * i * self._r0
            if self._n_rc:
                a = np.exp(-dt / self._tau)
                self._v_rc *= a
                self._v_rc += self._r_rc * (1.0 - a) * i
                if self._rc_heat:
                    heat += (self._v_rc * self._v_rc / self._r_rc).sum(axis=0)
            if balancing_amps is not None and self._bal_share:
                heat += self._bal_share * self._volts * bal
            if self._hyst.active:
                a = np.exp(-self._hyst.gamma * dt / self._capacity_as * np.abs(i))
                self._v_hyst *= a
                self._v_hyst -= (1.0 - a) * self._hyst.max_volts * np.sign(i)
            self._soc -= i * (dt / self._capacity_as)
            self._thermal_step(dt, heat)
            self._elapsed += dt
        self._i = i
        self._pack_amps = float(current_amps)
        self._lookup()

    def _thermal_step(self, dt: float, heat: np.ndarray) -> None:
        if dt != self._thermal_dt:
            c, h, k = self._heat_capacity, self._cooling, self._coupling
            # Exact for constant heat: (1 - exp(-dt*h/C)) / h, which is dt/C for h = 0.
            self._own_gain = -np.expm1(-dt * h / c) / h if h > 0 else dt / c
            # Explicit exchange, its gain bounded so the fastest (alternating) mode cannot
            # overshoot at any dt; equals k*dt/C for small dt.
            self._exchange_gain = -np.expm1(-4.0 * k * dt / c) / 4.0
            self._thermal_dt = dt
        t = self._celsius
        t += self._own_gain * (heat + self._cooling * (self._ambient - t))
        if self._exchange_gain and t.size > 1:
            exchange = self._exchange_gain * np.diff(t)  # into cell k from k+1 when k+1 is warmer
            t[:-1] += exchange
            t[1:] -= exchange

    def _lookup(self) -> None:
        """Table values at the present SOC and temperature, and the terminal voltages."""
        values = self._tables(self._soc, self._celsius)
        k = self._n_rc
        self._ocv = values[0]
        self._r0 = values[1] * self._r0_factor
        self._r_rc = values[2:2 + k]
        self._tau = values[2 + k:]
        volts = self._ocv - self._i * self._r0 + self._v_hyst
        if k:
            volts -= self._v_rc.sum(axis=0)
        self._volts = volts

    def _per_cell(self, values: np.ndarray | float, what: str) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        if arr.shape != (self.cells_series,):
            raise ValueError(f"{what}: expected {self.cells_series} values (one per cell in "
                             f"series), got shape {arr.shape}")
        return arr

    # ---- what the rig reads ------------------------------------------------------------

    @property
    def cell_volts(self) -> np.ndarray:
        """Terminal voltage per cell group, V."""
        return self._volts.copy()

    @property
    def pack_volts(self) -> float:
        """Sum of the cell voltages (busbars and contactors are not modelled)."""
        return float(self._volts.sum())

    @property
    def temperatures(self) -> np.ndarray:
        """Cell temperature per group, °C."""
        return self._celsius.copy()

    @property
    def soc(self) -> np.ndarray:
        """True SOC per group (0..1 in normal use; beyond when over-charged or -discharged)."""
        return self._soc.copy()

    @property
    def ocv_volts(self) -> np.ndarray:
        return self._ocv.copy()

    @property
    def r0_ohms(self) -> np.ndarray:
        """Present R0 per group, with the spread and the parallel count applied."""
        return self._r0.copy()

    @property
    def rc_volts(self) -> np.ndarray:
        """RC pair voltages, shape (number of pairs, cells_series)."""
        return self._v_rc.copy()

    @property
    def hysteresis_volts(self) -> np.ndarray:
        return self._v_hyst.copy()

    def weaken(self, cell: int, capacity_factor: float) -> None:
        """Give cell group `cell` (0-based) `capacity_factor` times its capacity: an aged
        or faulty cell, the one a drive pushes past its limit first."""
        if not 0 <= cell < self.cells_series:
            raise ValueError(f"cell index {cell} is outside 0..{self.cells_series - 1}")
        if not 0.0 < capacity_factor <= 1.0:
            raise ValueError(f"capacity_factor must be in (0, 1], got {capacity_factor}")
        self._capacity_as[cell] *= capacity_factor

    @property
    def capacities_ah(self) -> np.ndarray:
        """Capacity per group, with the spread applied."""
        return self._capacity_as / 3600.0

    @property
    def cell_amps(self) -> np.ndarray:
        """Current through each group in the last step: pack current plus balancing."""
        return self._i.copy()

    @property
    def current_amps(self) -> float:
        return self._pack_amps

    @property
    def elapsed_seconds(self) -> float:
        return self._elapsed

    @property
    def ambient_celsius(self) -> float:
        return self._ambient

    @ambient_celsius.setter
    def ambient_celsius(self, celsius: float) -> None:
        self._ambient = float(celsius)

    def voltage_response(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(E, Z) per cell with V_end ~= E - I*Z after a step of `dt` at cell current I.

        Linear in I: the RC update is, and the OCV moves along its local slope as the charge
        I*dt flows. Temperature and hysteresis changes within the step are neglected.
        Chargers use it to hold a voltage limit (CV) or a power.
        """
        e = self._ocv + self._v_hyst
        step = 1e-4
        slope = (self._tables(self._soc + step, self._celsius)[0]
                 - self._tables(self._soc - step, self._celsius)[0]) / (2 * step)
        z = self._r0 + slope * (dt / self._capacity_as)
        if self._n_rc:
            a = np.exp(-dt / self._tau)
            e = e - (self._v_rc * a).sum(axis=0)
            z += (self._r_rc * (1.0 - a)).sum(axis=0)
        return e, z
