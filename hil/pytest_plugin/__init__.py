"""The pytest plugin (registered as `hil` through the pytest11 entry point).

Options `--rig`, `--bms-defect`, `--hil-log-dir`; fixtures `rig`, `bms`, `cells`,
`temperatures`, `current`, `lines`; scenario YAML files under `scenarios/` as test items; the
rig's safe state on every way out, SIGTERM included.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Any

import pytest

from hil.faults import FAULT_KINDS, unsupported_reason
from hil.pytest_plugin import reporting
from hil.pytest_plugin.fixtures import (
    bms,
    cells,
    current,
    hil_test,
    lines,
    record_measurement,
    rig,
    temperatures,
)
from hil.pytest_plugin.scenario_items import ScenarioFile, ScenarioItem, is_scenario_file
from hil.pytest_plugin.session import SESSION_KEY, RigSession
from hil.yamlfile import did_you_mean

__all__ = ["bms", "cells", "current", "hil_test", "lines", "record_measurement", "rig",
           "temperatures"]

_PREVIOUS_SIGTERM = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop BMS validation")
    group.addoption("--rig", dest="hil_rig", default=None, metavar="PATH",
                    help="rig file (default: rigs/sim.yaml, the simulated rig)")
    group.addoption("--bms-defect", dest="hil_bms_defects", action="append", default=[],
                    metavar="NAME",
                    help="build the reference BMS with this defect (repeatable); "
                         "see `hil bms defects`")
    group.addoption("--hil-log-dir", dest="hil_log_dir", default="reports/logs",
                    metavar="DIR", help="where per-test CAN logs go (default reports/logs)")
    group.addoption("--hil-history", dest="hil_history", default="reports/history.sqlite",
                    metavar="PATH", help="results history to append runs to ('none': off)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test on a rig")
    config.addinivalue_line("markers", "requires_fault(kind, ...): skip unless the rig can "
                                       "inject these faults (see the rig file's faults)")
    session = RigSession(config)
    config.stash[SESSION_KEY] = session
    _add_report_metadata(config, session)
    reporting.setup(config, session)
    if hasattr(config, "workerinput") or signal.getsignal(signal.SIGTERM) not in (
            signal.SIG_DFL, None):
        return
    config.stash[_PREVIOUS_SIGTERM] = signal.signal(signal.SIGTERM, _sigterm)


def _add_report_metadata(config: pytest.Config, session: RigSession) -> None:
    """Rig, profile, defects and calibration at the top of the pytest-html report."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:  # pytest-html without pytest-metadata: nothing to add to
        return
    metadata = config.stash.get(metadata_key, None)
    if metadata is None:
        return
    metadata["HIL rig"] = f"{session.config.name} ({session.path})"
    metadata["DUT profile"] = session.profile.name
    metadata["BMS defects"] = ", ".join(session.defects) or "none"
    metadata["Calibration"] = session.calibration


def _sigterm(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C: fixtures finish, the rig goes safe, logs are flushed."""
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
    previous = config.stash.get(_PREVIOUS_SIGTERM, None)
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Before the HTML and JUnit writers: the manifest and history need the open rig (firmware
    # version off the bus); then the rig closes, so the safe state does not wait for reports.
    rig_session = session.config.stash.get(SESSION_KEY, None)
    if rig_session is not None:
        try:
            reporting.finish_run(session.config, rig_session)
        finally:
            rig_session.close()


def _uses_rig(item: pytest.Item) -> bool:
    return isinstance(item, ScenarioItem) or "hil_test" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not _uses_rig(item):
        return
    if report.when == "teardown":  # a passed test can still error in teardown: keep it
        if report.failed:
            reporting.record_test(item.config, item, report)
        return
    finished = report.when == "call" or (report.when == "setup" and not report.passed)
    if not finished:
        return
    rig = item.config.stash[SESSION_KEY].opened
    if rig is not None and report.when == "call":
        try:
            reporting.evidence(item, report, rig)
        except Exception:  # evidence must never hide the verdict
            logging.getLogger(__name__).exception("evidence for %s failed", item.nodeid)
    reporting.junit_properties(item)
    reporting.record_test(item.config, item, report)


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    run = session.config.stash.get(reporting.REPORTING_KEY, None)
    if run is not None:
        prefix.extend(reporting.summary_html(run))


def pytest_runtest_setup(item: pytest.Item) -> None:
    session = item.config.stash.get(SESSION_KEY, None)
    if session is None:
        return
    for marker in item.iter_markers("requires_fault"):
        for kind in marker.args:
            if kind not in FAULT_KINDS:  # a typo must fail, not hide as a skip
                pytest.fail(f"requires_fault: unknown fault {kind!r}"
                            f"{did_you_mean(kind, FAULT_KINDS)}", pytrace=False)
            reason = unsupported_reason(session.config.name, session.config.file.faults, kind)
            if reason is not None:
                pytest.skip(reason)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    explicit = file_path.suffix in (".yaml", ".yml") and parent.session.isinitpath(file_path)
    if explicit or is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return []
    defects = ", ".join(session.defects) or "none"
    return [f"hil: rig {session.config.name!r} ({session.path}), DUT profile "
            f"{session.profile.name!r}, BMS defects: {defects}",
            f"hil: calibration: {session.calibration}"]
