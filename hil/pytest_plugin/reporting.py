"""Evidence in the reports: per-test plots, measurements, CAN log and CSV links; the run manifest,
the CAN integrity summary and the results history.

- pytest-html: each test gets a small PNG of the stimuli and the decoded signals its checks
  looked at (thresholds and windows drawn), a table of its measurements, and links to its CAN
  log (BLF) and signal data (CSV); the top of the report shows the manifest and whether the
  CAN path can be trusted.
- JUnit: measurements are test-case properties (name = value, with the limit as
  "<name> limit"); the manifest is test-suite properties; plots are attached with GitLab's
  `[[ATTACHMENT|path]]` convention in system-out.
- History: every run that used a rig is appended to reports/history.sqlite (or --hil-history).
"""

from __future__ import annotations

import base64
import csv
import html
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hil.errors import HilError
from hil.outcome import Measurement
from hil.report.history import History, RunRecord, TestRecord
from hil.report.manifest import integrity_summary, live_manifest, now_utc, static_manifest
from hil.report.plots import PlotSpec, render_png
from hil.rig.rig import evidence_path

if TYPE_CHECKING:
    from hil.pytest_plugin.session import RigSession
    from hil.rig.rig import Rig

log = logging.getLogger(__name__)

MEASUREMENTS_KEY = pytest.StashKey[list[Measurement]]()
PLOT_KEY = pytest.StashKey[PlotSpec]()
REPORTING_KEY = pytest.StashKey["RunReport"]()


@dataclass
class RunReport:
    """What the session collected for the reports."""

    started: str
    manifest: dict[str, str] = field(default_factory=dict)
    trustworthy: bool = True
    integrity: str = ""
    tests: list[TestRecord] = field(default_factory=list)
    used_rig: bool = False


def setup(config: pytest.Config, session: RigSession) -> None:
    report = RunReport(started=now_utc())
    report.manifest = static_manifest(session.config, session.defects, report.started)
    config.stash[REPORTING_KEY] = report


def measurements_of(item: pytest.Item) -> list[Measurement]:
    return item.stash.setdefault(MEASUREMENTS_KEY, [])


# --- per test -------------------------------------------------------------------------------
def scenario_plot(item: Any) -> PlotSpec | None:
    """What a scenario item's plot shows: its checks' signals, thresholds and windows."""
    result = getattr(item, "result", None)
    if result is None or not result.timeline:
        return None
    times = [e.time for e in result.timeline]
    spec = PlotSpec(t0=result.t0 or times[0], start=min(times) - 0.3, end=max(times) + 0.2)
    seen: set[str] = set()
    outcomes = iter(result.outcomes)  # the engine judges checks in step order
    for step in item.scenario.steps:
        anchor = result.anchors.get(step.number)
        for check in step.checks:
            outcome = next(outcomes, None)
            for name, unit, factor in check.plot_series():
                if name not in seen:
                    seen.add(name)
                    spec.signals.append((name, unit, factor))
            spec.thresholds.extend(check.plot_thresholds())
            if anchor is not None:
                start = anchor + getattr(check, "after", 0.0)
                passed = outcome.passed if outcome is not None else True
                spec.windows.append((start, anchor + check.window_seconds, passed))
            if outcome is not None and outcome.at is not None:
                spec.markers.append((outcome.at, outcome.check))
    return spec


def attach_stimuli(spec: PlotSpec, rig: Rig) -> None:
    """Add every stimulus the rig changed in the plot's time span."""
    units = {"cell_volts": "V", "temperature_celsius": "degC", "current_amps": "A"}
    for series in rig.store:
        if not series.name.startswith("stimulus."):
            continue
        if not series.samples(spec.start, spec.end):
            continue
        kind = series.name.removeprefix("stimulus.").split("[", 1)[0]
        spec.stimuli.append((series.name, units.get(kind, "")))


def write_csv(path: Path, rig: Rig, spec: PlotSpec) -> None:
    """The plotted data, long format: time (s from t0), series, value."""
    names = [n for n, _, _ in spec.signals] + [n for n, _ in spec.stimuli]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["t_seconds", "epoch_seconds", "series", "value"])
        for name in names:
            for sample in rig.store.series(name).samples(spec.start, spec.end):
                writer.writerow([f"{sample.time - spec.t0:.6f}", f"{sample.time:.6f}", name,
                                 f"{sample.value:.9g}"])


def evidence(item: pytest.Item, report: pytest.TestReport, rig: Rig) -> None:
    """Plot, CSV and measurement table for one finished test, into the report objects."""
    spec = item.stash.get(PLOT_KEY, None) or scenario_plot(item)
    config = item.config
    extras = list(getattr(report, "extras", []))
    measures = measurements_of(item)
    html_path = getattr(config.option, "htmlpath", None)
    log_dir = Path(config.getoption("hil_log_dir"))
    def path(suffix: str) -> Path:
        return evidence_path(log_dir, item.nodeid, suffix)

    try:
        from pytest_html import extras as html_extras
    except ImportError:  # pragma: no cover - pytest-html is a dependency
        html_extras = None
    if spec is not None:
        attach_stimuli(spec, rig)
        log_dir.mkdir(parents=True, exist_ok=True)
        png = render_png(rig.store, spec, item.name)
        csv_path = path(".csv")
        write_csv(csv_path, rig, spec)
        if png is not None:
            png_path = path(".png")
            png_path.write_bytes(png)
            # GitLab's JUnit attachment convention, in system-out (teardown collects it)
            item.add_report_section("call", "stdout", f"[[ATTACHMENT|{png_path.resolve()}]]\n")
            if html_extras is not None:
                extras.append(html_extras.png(base64.b64encode(png).decode(), "plot"))
        if html_extras is not None and html_path:
            where = Path(html_path).resolve().parent
            for suffix, label in ((".blf", "CAN log (BLF)"), (".csv", "signal data (CSV)")):
                target = path(suffix)
                if target.exists():
                    extras.append(html_extras.url(os.path.relpath(target.resolve(), where),
                                                  label))
    if measures and html_extras is not None:
        extras.append(html_extras.html(measurement_table(measures)))
    report.extras = extras


def measurement_table(measures: list[Measurement]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m.name)}</td><td>{'' if m.value is None else f'{m.value:.4g}'}"
        f" {html.escape(m.unit)}</td><td>{html.escape(m.limit_text())}</td>"
        f"<td>{'pass' if m.passed else 'FAIL'}</td></tr>" for m in measures)
    return ("<table class='hil-measurements'><tr><th>measurement</th><th>value</th>"
            f"<th>limit</th><th></th></tr>{rows}</table>")


def junit_properties(item: pytest.Item) -> None:
    for m in measurements_of(item):
        label = f"{m.name} [{m.unit}]" if m.unit else m.name
        item.user_properties.append((label, "" if m.value is None else f"{m.value:.6g}"))
        item.user_properties.append((f"{label} limit", m.limit_text()))


# --- per run --------------------------------------------------------------------------------
def finish_run(config: pytest.Config, session: RigSession) -> None:
    """Manifest from the open rig, CAN integrity, JUnit suite properties, the history row."""
    report = config.stash.get(REPORTING_KEY, None)
    rig = session.opened
    if report is None or rig is None:
        return
    report.used_rig = True
    assert rig.profile is not None and rig.decoder is not None and rig.can is not None
    source = getattr(rig.can, "timestamp_source", "unknown")
    report.manifest.update(live_manifest(rig.profile, rig.store, rig.profile.database.sources,
                                         source))
    report.manifest["finished"] = now_utc()
    report.trustworthy, report.integrity = integrity_summary(rig.decoder.integrity,
                                                             rig.lost_reason)
    report.manifest["can_integrity"] = ("trustworthy" if report.trustworthy
                                        else "NOT TRUSTWORTHY") + ": " + report.integrity
    _junit_suite_properties(config, report.manifest)
    _append_history(config, report)


def _junit_suite_properties(config: pytest.Config, manifest: dict[str, str]) -> None:
    try:
        from _pytest.junitxml import xml_key  # the junitxml plugin object, when active
    except ImportError:  # pragma: no cover
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    for name, value in manifest.items():
        xml.add_global_property(f"hil.{name}", value)


def _append_history(config: pytest.Config, report: RunReport) -> None:
    path = config.getoption("hil_history")
    if not path or path == "none":
        return
    stamp = report.started.replace(":", "").replace("-", "")
    run_id = f"{stamp}-{os.getpid()}-{time.time_ns() % 10**6:06d}"
    try:
        History(Path(path)).add_run(RunRecord(
            run_id=run_id, started=report.started,
            finished=report.manifest.get("finished", now_utc()),
            manifest=dict(report.manifest), tests=report.tests))
    except (HilError, OSError) as err:  # the run's own reports must still be written
        print(f"\nhil: the results history was not written: {err}", file=sys.stderr)


def record_test(config: pytest.Config, item: pytest.Item, report: pytest.TestReport) -> None:
    """Keep each test's verdict and measurements for the history (one record per test)."""
    run = config.stash.get(REPORTING_KEY, None)
    if run is None:
        return
    outcome = report.outcome
    if report.when != "call" and report.outcome == "failed":
        outcome = "error"
    run.tests.append(TestRecord(test_id=item.nodeid, outcome=outcome,
                                duration_seconds=report.duration,
                                measurements=[] if report.when == "teardown"  # kept at call
                                else list(measurements_of(item))))


def summary_html(report: RunReport) -> list[str]:
    """Manifest and CAN integrity for the top of the HTML report."""
    if not report.used_rig:
        return []
    warning = "" if report.trustworthy else (
        "<p style='color:#b00;font-weight:bold'>The CAN path of this run was NOT "
        "trustworthy: verdicts may be wrong.</p>")
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in report.manifest.items())
    return [f"{warning}<h3>Run manifest</h3><table>{rows}</table>"
            f"<h3>CAN integrity</h3><p>{html.escape(report.integrity)}</p>"]
