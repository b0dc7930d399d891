"""Fixtures for Python tests: the rig, the BMS under test, and the emulator's capabilities.

`bms`, `cells`, `temperatures`, `current` and `lines` each start a test from a known state (the
DUT reset as the rig file says, outputs at their initial values) and record the test's CAN
traffic to its own log file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from hil.capabilities import CellVoltageSource, CurrentSource, DigitalLines, TemperatureSource
from hil.dut import Dut
from hil.errors import HilError
from hil.outcome import Measurement
from hil.pytest_plugin.reporting import PLOT_KEY, measurements_of
from hil.pytest_plugin.session import get_session
from hil.report.plots import PlotSpec
from hil.rig.rig import Rig


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest) -> Rig:
    """The opened rig of this session (`--rig`, default rigs/sim.yaml)."""
    try:
        return get_session(request.config).rig()
    except HilError as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture
def hil_test(rig: Rig, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """Per-test start: reset the DUT, initial outputs, CAN log; checks the bus at the end."""
    try:
        rig.reset_dut()
    except HilError as err:
        pytest.fail(str(err), pytrace=False)
    rig.start_can_log(request.node.nodeid)
    started = time.time()
    if rig.bms is not None:
        rig.bms.accessed.clear()
    try:
        yield rig
    finally:
        path = rig.stop_can_log()
        if path is not None:
            request.node.user_properties.append(("can_log", str(path)))
        if rig.bms is not None:  # the plot shows what the test looked at
            request.node.stash[PLOT_KEY] = PlotSpec(
                t0=started, start=started, end=time.time(),
                signals=[(t.series_name, t.unit, t.factor)
                         for t in list(rig.bms.accessed.values())[:8]])
    if rig.lost_reason is not None:
        pytest.fail(f"the rig lost its bus or DUT during the test: {rig.lost_reason}",
                    pytrace=False)


@pytest.fixture
def record_measurement(request: pytest.FixtureRequest) -> Callable[..., Measurement]:
    """Record a measurement with its limits: `record_measurement("reaction time", 0.18, "s",
    high=0.5)`. It goes to the HTML report, JUnit properties and the results history; a value
    outside its limits does not fail the test by itself (assert on the returned
    Measurement's `passed` for that)."""

    def record(name: str, value: float | None, unit: str = "", low: float | None = None,
               high: float | None = None) -> Measurement:
        measurement = Measurement(name, value, unit, low, high)
        measurements_of(request.node).append(measurement)
        return measurement

    return record


@pytest.fixture
def bms(hil_test: Rig) -> Dut:
    """The BMS under test: decoded signals by role, `wait_for`, state requests, limits."""
    assert hil_test.bms is not None
    return hil_test.bms


@pytest.fixture
def cells(hil_test: Rig) -> CellVoltageSource:
    assert hil_test.cells is not None
    return hil_test.cells


@pytest.fixture
def temperatures(hil_test: Rig) -> TemperatureSource:
    assert hil_test.temperatures is not None
    return hil_test.temperatures


@pytest.fixture
def current(hil_test: Rig) -> CurrentSource:
    assert hil_test.current is not None
    return hil_test.current


@pytest.fixture
def lines(hil_test: Rig) -> DigitalLines:
    if hil_test.lines is None:
        pytest.skip("this rig has no digital lines")
    return hil_test.lines
