"""What drivers may use while a rig opens: limits, safe values, shared buses, the harness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.capabilities import CanEndpoint, Range
from hil.periodic import PeriodicSender
from hil.profile import Profile
from hil.rig.config import RigConfig
from hil.sim.harness import AnalogHarness


@dataclass
class RigContext:
    config: RigConfig
    profile: Profile
    on_lost: Callable[[str], None]
    defects: list[str] = field(default_factory=list)
    log_dir: Path | None = None
    can: CanEndpoint | None = None
    periodic: PeriodicSender | None = None
    _harness: AnalogHarness | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. open I2C buses by number

    @property
    def ranges(self) -> dict[str, Range]:
        return self.config.ranges()

    @property
    def cell_count(self) -> int:
        return int(self.config.file.cells["count"])

    @property
    def temperature_count(self) -> int:
        return int(self.config.file.temperatures["count"])

    def harness(self) -> AnalogHarness:
        """The simulated rig's analog harness, created on first use."""
        if self._harness is None:
            self._harness = AnalogHarness.create(self.cell_count, self.temperature_count)
        return self._harness

    @property
    def has_harness(self) -> bool:
        return self._harness is not None

    def close_harness(self) -> None:
        if self._harness is not None:
            self._harness.close()
            self._harness = None
