"""Pack plant model step time: `PackModel.step` at 100 Hz vs a bare R0-only numpy loop.

The rig advances the plant every 10 ms and reads `cell_volts` and `temperatures` after each
step to drive the DACs and rheostats, so one step plus both reads must fit comfortably in a
10 ms tick next to the CAN and I2C work (goal: 192 cells at 100 Hz in under 5 % of one core).
Packs of 16, 96, 192 and 400 cells in series of the built-in NMC set (`nmc_pybamm_ecm`,
default spread) follow a drive-cycle-like current: slow traction swings, faster ripple and
short regen pulses, within about +-1.5 C. One case adds cell balancing (a bleed current on a
third of the cells, as `step` takes it).

The baseline, run in the same process on the same currents, is the least a per-cell model can
do: `v = np.interp(soc, ocv) - i*r0; soc -= i*dt/q` with one OCV curve and per-cell R0 and
capacity. Reported per size: mean and p99 time of one step (with the reads), steps/s, the
share of one core that real time at 100 Hz costs, and our mean / the baseline's mean.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from hil.plant import PackModel, builtin_cell_params

DT = 0.01  # s, 100 Hz
RATE_HZ = 1.0 / DT
SIZES = (16, 96, 192, 400)
GOAL_CELLS = 192
GOAL_PERCENT = 5.0  # of one core at 100 Hz
WARMUP = 300  # steps
ROUNDS = 5  # ours and the baseline alternate, so drift in machine load hits both alike
STEPS_PER_ROUND = 2000
BALANCING_AMPS = 0.1  # per bleeding cell group


def currents(count: int, capacity_ah: float) -> list[float]:
    """A drive-cycle-like pack current (A, > 0 discharges): traction, ripple, regen pulses."""
    t = np.arange(count) * DT
    c_rate = (0.6 + 0.5 * np.sin(2 * np.pi * t / 23.0) + 0.15 * np.sin(2 * np.pi * t / 1.7)
              + 0.05 * np.sin(2 * np.pi * t / 0.13))
    regen = (t % 9.0) > 7.5  # 1.5 s braking every 9 s
    c_rate[regen] = -0.8
    return [float(a) for a in c_rate * capacity_ah]


def time_steps(step: Callable[[float], object], amps: list[float], out: list[float]) -> None:
    """Call `step` once per current, appending each call's duration (s) to `out`."""
    clock = time.perf_counter
    for a in amps:
        started = clock()
        step(a)
        out.append(clock() - started)


def measure(cells: int, balancing: bool) -> dict[str, float]:
    params = builtin_cell_params("nmc_pybamm_ecm")
    pack = PackModel(params, cells, seed=1, initial_soc=0.8)
    bal = None
    if balancing:
        bal = np.zeros(cells)
        bal[::3] = BALANCING_AMPS

    def ours(amps: float) -> tuple[np.ndarray, np.ndarray]:
        pack.step(DT, amps, bal)
        return pack.cell_volts, pack.temperatures  # the rig reads both every step

    # Baseline: same OCV curve (25 °C row), the pack's own R0 and capacities, fixed in time.
    ocv_soc = params.ocv_volts.soc
    ocv_v = params.ocv_volts(ocv_soc, 25.0)
    r0 = pack.r0_ohms
    q_as = pack.capacities_ah * 3600.0
    soc = pack.soc
    i_bal = np.zeros(cells) if bal is None else bal

    def baseline(amps: float) -> np.ndarray:
        nonlocal soc
        i = amps + i_bal
        volts = np.interp(soc, ocv_soc, ocv_v) - i * r0  # what the rig would read
        soc = soc - i * (DT / q_as)
        return volts

    amps = currents(WARMUP + ROUNDS * STEPS_PER_ROUND, params.capacity_ah)
    time_steps(ours, amps[:WARMUP], [])
    time_steps(baseline, amps[:WARMUP], [])
    mine: list[float] = []
    base: list[float] = []
    for r in range(ROUNDS):
        chunk = amps[WARMUP + r * STEPS_PER_ROUND:WARMUP + (r + 1) * STEPS_PER_ROUND]
        time_steps(ours, chunk, mine)
        time_steps(baseline, chunk, base)
    ours_s = np.array(mine)
    return {"mean": float(ours_s.mean()), "p99": float(np.percentile(ours_s, 99)),
            "base_mean": float(np.mean(base))}


def run() -> tuple[str, list[str], list[list[object]], list[str]]:
    rows = []
    results: dict[tuple[int, bool], dict[str, float]] = {}
    cases = [(n, False) for n in SIZES] + [(GOAL_CELLS, True)]
    for cells, balancing in cases:
        m = measure(cells, balancing)
        results[cells, balancing] = m
        rows.append(["step + balancing + reads" if balancing else "step + reads", cells,
                     m["mean"] * 1e6, m["p99"] * 1e6, 1.0 / m["mean"],
                     RATE_HZ * m["mean"] * 100, m["base_mean"] * 1e6,
                     m["mean"] / m["base_mean"]])
    goal = results[GOAL_CELLS, False]
    goal_bal = results[GOAL_CELLS, True]
    percent = RATE_HZ * goal["mean"] * 100
    percent_bal = RATE_HZ * goal_bal["mean"] * 100
    met = max(percent, percent_bal) < GOAL_PERCENT
    budget_us = GOAL_PERCENT / 100 / RATE_HZ * 1e6
    notes = [
        f"dt = {DT * 1e3:g} ms; each step reads cell_volts and temperatures; "
        f"{ROUNDS} x {STEPS_PER_ROUND} timed steps per case after {WARMUP} warm-up steps; "
        f"% core = {RATE_HZ:g} x mean step time",
        "baseline = R0-only numpy loop (np.interp OCV - I*R0, coulomb count) on the same "
        "currents and cell count, same process; ratio = our mean / baseline mean",
        f"balancing: {BALANCING_AMPS:g} A bleed on every third cell group",
        f"goal: {GOAL_CELLS} cells at {RATE_HZ:g} Hz in under {GOAL_PERCENT:g} % of one core "
        f"(mean step < {budget_us:.0f} us): {'MET' if met else 'NOT MET'} in this run "
        f"({percent:.2f} % plain, {percent_bal:.2f} % with balancing)",
    ]
    header = ["case", "cells", "mean us", "p99 us", "steps/s", "% core at 100 Hz",
              "baseline us", "ratio"]
    return "Pack plant step time (PackModel.step at 100 Hz)", header, rows, notes
