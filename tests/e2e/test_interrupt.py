"""Interrupting a running demo at random points always leaves the rig in its safe state."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import can
import numpy as np
import pytest

from hil.ntc import BetaNtc
from hil.sim.harness import AnalogHarness

REPO = Path(__file__).resolve().parents[2]
SAFE_CELL_VOLTS = 3.7          # rigs/sim.yaml safe_state
SAFE_OHMS = BetaNtc(10000, 3435).ohms(25.0)

_random = random.Random(20261125)
CASES = [(sig, round(_random.uniform(0.0, 5.0), 2))
         for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGINT)]


@pytest.mark.e2e
@pytest.mark.parametrize(("sig", "delay"), CASES,
                         ids=[f"{signal.Signals(s).name}-after-{d}s" for s, d in CASES])
def test_interrupted_demo_ends_in_safe_state(tmp_path: Path, sig: int, delay: float) -> None:
    harness_dir = tmp_path / "harness"
    harness_dir.mkdir()
    env = dict(os.environ, HIL_HARNESS_DIR=str(harness_dir), HIL_KEEP_HARNESS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hil.cli", "run", "scenarios/protection/",
         "--report-dir", str(tmp_path / "reports")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not list(harness_dir.glob("hil-harness-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(harness_dir.glob("hil-harness-*")), "the rig never created its harness"
        time.sleep(delay)  # random point: BMS start-up, a test's reset, a scenario, teardown
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (path,) = harness_dir.glob("hil-harness-*")
    harness = AnalogHarness.attach(path)
    try:
        # calibrated DACs: within a few LSB; rheostats: within one fine step (19.5 Ohm)
        assert np.allclose(harness.cell_volts, SAFE_CELL_VOLTS, atol=0.003), output[-2000:]
        assert np.allclose(harness.ntc_ohms, SAFE_OHMS, atol=20.0), output[-2000:]
        assert not harness.lines_to_bms.any(), "a relay was left closed"
        assert not harness.lines_from_bms.any(), "the BMS left a contactor closed"
        assert int(harness._header[6]) % 2 == 0, "an update was left half-written"
    finally:
        harness.close()
    for log in (tmp_path / "reports" / "logs").glob("*.blf"):
        frames = list(can.BLFReader(log))  # a truncated, unflushed log would not parse
        assert frames or log.stat().st_size > 0
