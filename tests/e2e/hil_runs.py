"""Running the `hil` command from e2e tests (imported by conftest.py and test modules)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OV_SCENARIO = "scenarios/protection/cell_over_voltage.yaml"


@dataclass(frozen=True)
class HilRun:
    process: subprocess.CompletedProcess[str]
    report_dir: Path
    history: Path

    @property
    def stdout(self) -> str:
        return self.process.stdout


def run_hil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
