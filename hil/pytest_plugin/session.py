"""The rig for a pytest session: found from --rig, checked at start, opened on first use.

Kept in `config.stash`, so Python tests (through fixtures) and scenario items (which are not
Python functions and get no fixtures) share one rig. The rig file is checked when pytest
starts, so a mistake in it stops the run with one line before anything is collected; the rig
itself opens only when the first test needs it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hil.calibration import describe_calibration
from hil.errors import HilError
from hil.profile import Profile
from hil.rig.config import RigConfig, load_rig_config
from hil.rig.rig import Rig
from hil.scenario.loader import ScenarioContext

log = logging.getLogger(__name__)

DEFAULT_RIG = Path("rigs") / "sim.yaml"


class RigSession:
    def __init__(self, config: pytest.Config) -> None:
        rig_option = config.getoption("hil_rig")
        if rig_option:
            path = Path(rig_option)
        else:
            path = Path(config.rootpath) / DEFAULT_RIG
            if not path.is_file():
                path = Path.cwd() / DEFAULT_RIG
        if not path.is_file():
            raise pytest.UsageError(f"--rig: rig file {str(path)!r} not found")
        self.path = path
        self.defects: list[str] = list(config.getoption("hil_bms_defects") or [])
        self.log_dir = Path(config.getoption("hil_log_dir"))
        try:
            self.config: RigConfig = load_rig_config(path)
            self.profile = Profile.load(self.config.resolve(self.config.file.dut.profile))
            self._check_defects()
        except HilError as err:
            raise pytest.UsageError(str(err)) from None
        self._rig: Rig | None = None
        self._broken: str | None = None
        self.calibration = describe_calibration(self.config)

    def _check_defects(self) -> None:
        if not self.defects:
            return
        cls, _ = self.config.drivers["dut_power"]
        if "defects" not in cls.Config.model_fields:
            raise HilError(f"--bms-defect: the rig {self.config.name!r} has an external BMS; "
                           "defects exist only in the reference BMS (dut_power: sim-process)")
        from hil.sim.bms import defects as registry

        try:
            registry.resolve(self.defects)
        except KeyError as err:
            raise HilError(f"--bms-defect: {err.args[0]}") from None

    def scenario_context(self) -> ScenarioContext:
        return ScenarioContext.for_rig(self.config, self.profile)

    def rig(self) -> Rig:
        """The opened rig; opens it on first use. A rig that failed to open fails every test."""
        if self._broken is not None:
            raise HilError(self._broken)
        if self._rig is None:
            rig = Rig(self.config, self.defects, self.log_dir)
            try:
                rig.open()
            except HilError as err:
                self._broken = f"rig {self.config.name!r} did not open: {err}"
                raise HilError(self._broken) from None
            self._rig = rig
        return self._rig

    @property
    def opened(self) -> Rig | None:
        return self._rig

    def close(self) -> None:
        if self._rig is not None:
            rig, self._rig = self._rig, None
            rig.close()


SESSION_KEY = pytest.StashKey[RigSession]()


def get_session(config: pytest.Config) -> RigSession:
    return config.stash[SESSION_KEY]
