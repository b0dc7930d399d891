"""Scenario files as pytest items: checked at collection, run by the engine, readable failures.

A YAML file under a `scenarios` folder is a `ScenarioFile`; it is loaded and validated when
collected (a mistake is a one-line collection error naming file, line and field), and yields
one `ScenarioItem` per scenario it defines.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hil.errors import HilError
from hil.faults import unsupported_reason
from hil.pytest_plugin.reporting import measurements_of
from hil.pytest_plugin.session import get_session
from hil.scenario.engine import Engine, RunResult
from hil.scenario.loader import load_scenarios
from hil.scenario.model import Scenario
from hil.scenario.report import render

PROGRESS_ABOVE_SECONDS = 15.0
PROGRESS_EVERY_SECONDS = 10.0


def is_scenario_file(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and "scenarios" in path.parts[:-1]


class ScenarioFailed(Exception):
    """Raised by a scenario item whose run did not pass; carries the whole result."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.scenario.title)
        self.result = result


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        session = get_session(self.config)
        try:
            scenarios = load_scenarios(self.path, session.scenario_context())
        except HilError as err:
            raise self.CollectError(str(err)) from None
        for scenario in scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.result: RunResult | None = None
        self._progress_shown = 0
        for tag in scenario.tags:  # tags select scenarios with -m, like markers
            self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            self.add_marker(tag)

    def runtest(self) -> None:
        session = get_session(self.config)
        for kind in self.scenario.requires:
            reason = unsupported_reason(session.config.name, session.config.file.faults, kind)
            if reason is not None:
                pytest.skip(reason)
        rig = session.rig()
        rig.reset_dut()
        rig.start_can_log(self.nodeid)
        progress = self._progress if self.scenario.duration >= PROGRESS_ABOVE_SECONDS else None
        try:
            self.result = Engine(rig, progress).run(self.scenario)
        finally:
            log_path = rig.stop_can_log()
            if log_path is not None:
                self.user_properties.append(("can_log", str(log_path)))
        measurements_of(self).extend(self.result.measurements)
        if not self.result.passed:
            raise ScenarioFailed(self.result)

    def _progress(self, elapsed: float, total: float) -> None:
        """Long scenarios show where they are: a line every PROGRESS_EVERY_SECONDS (whole
        lines, so CI logs read well and pytest's own columns stay aligned)."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.config.get_verbosity() < 0:
            return
        step = int(elapsed // PROGRESS_EVERY_SECONDS)
        if step <= self._progress_shown:
            return
        self._progress_shown = step
        remaining = max(0.0, total - elapsed)
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if step == 1:
                reporter.write("\n")
            reporter.write_line(f"    {self.scenario.name}: {elapsed:4.0f} s elapsed, "
                                f"~{remaining:4.0f} s remaining")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return render(excinfo.value.result)
        if isinstance(excinfo.value, HilError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.scenario.steps[0].line if self.scenario.steps else None
        return self.path, (line - 1) if line else None, f"scenario: {self.name}"
