"""What got worse between two runs: verdict changes, new and removed tests, measurement
regressions, and the tests that flip on their own (flaky), as data and as one HTML page.

A measurement regresses when it moves the bad way by more than ``tolerance`` relative to the
baseline value, or when it leaves its limits. The bad way follows from the limits the
candidate run applied:

- only ``high``: bigger is worse (a reaction time);
- only ``low``: smaller is worse (an insulation resistance);
- both: closer to the nearer limit is worse (a cell voltage inside its window);
- none: no direction; a move beyond the tolerance is reported as "changed", not "regressed".

Noise floor: differences of at most 1 % of the largest limit magnitude (1e-6 when there is no
non-zero limit) are never reported, so a 0.001 s jitter on a 0.002 s reaction time against a
0.5 s limit is not a "+50 %" regression. Leaving the limits is always reported.

A test can report the same measurement name twice (one check per step on the same role); the
second is compared as ``name #2``, the third ``name #3``, in the order they were recorded.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TypeVar

from hil.outcome import Measurement
from hil.report.history import History, RunRecord

NOISE_FRACTION_OF_LIMIT = 0.01
NOISE_FLOOR = 1e-6
FAILING = ("failed", "error")
MIN_FLIPS = 2  # passed -> failed -> passed (or the reverse) within the window
T = TypeVar("T")

# Manifest keys shown first on the page, in this order; the rest follow alphabetically.
MANIFEST_ORDER = ("rig", "firmware_version", "framework_version", "git_sha", "defects",
                  "calibration", "profile", "dbc_sha256", "rig_sha256", "host")


@dataclass(frozen=True)
class VerdictChange:
    """A test whose outcome differs between the two runs."""

    test_id: str
    baseline: str
    candidate: str

    @property
    def worse(self) -> bool:
        """Passed (or skipped) before, failing now."""
        return self.candidate in FAILING and self.baseline not in FAILING

    def __str__(self) -> str:
        return f"{self.test_id}: {self.baseline} → {self.candidate}"


@dataclass(frozen=True)
class MeasurementChange:
    """One measurement that moved beyond the tolerance (or left its limits)."""

    test_id: str
    name: str
    unit: str
    baseline: float | None
    candidate: float | None
    low: float | None        # the candidate's limits, which judged the direction
    high: float | None
    kind: str                # "regressed" or "changed" (no limits, so no direction)
    relative: float | None   # (candidate - baseline) / |baseline|; None when baseline is 0
    left_limits: bool = False
    baseline_limit: str = ""  # the baseline's limit text when it differs from the candidate's

    @property
    def limit_text(self) -> str:
        return Measurement(self.name, self.candidate, self.unit, self.low, self.high).limit_text()

    def change_text(self) -> str:
        if self.candidate is None:
            return "not measured"
        if self.relative is None:
            return "from 0"
        return f"{self.relative * 100:+.1f} %"

    def __str__(self) -> str:
        return (f"{self.test_id}: {self.name} {_number(self.baseline, self.unit)} → "
                f"{_number(self.candidate, self.unit)} ({self.change_text()}, limit "
                f"{self.limit_text})")


@dataclass
class Comparison:
    """Everything that differs between a baseline run and a candidate run."""

    baseline: RunRecord
    candidate: RunRecord
    tolerance: float
    verdict_changes: list[VerdictChange] = field(default_factory=list)
    new_tests: list[str] = field(default_factory=list)
    removed_tests: list[str] = field(default_factory=list)
    measurement_changes: list[MeasurementChange] = field(default_factory=list)

    @property
    def regressions(self) -> list[MeasurementChange]:
        return [c for c in self.measurement_changes if c.kind == "regressed"]

    @property
    def changed(self) -> list[MeasurementChange]:
        return [c for c in self.measurement_changes if c.kind == "changed"]

    def summary(self) -> str:
        """One line: "2 regressions, 1 verdict change (1 now failing), 1 new test"."""
        worse = sum(1 for v in self.verdict_changes if v.worse)
        verdicts = _count(len(self.verdict_changes), "verdict change")
        if worse:
            verdicts += f" ({worse} now failing)"
        parts = [_count(len(self.regressions), "regression"), verdicts]
        for number, noun in ((len(self.changed), "changed measurement"),
                             (len(self.new_tests), "new test"),
                             (len(self.removed_tests), "removed test")):
            if number:
                parts.append(_count(number, noun))
        return ", ".join(parts)


@dataclass(frozen=True)
class FlakyTest:
    """A test that both passed and failed among recent runs of one rig and firmware version."""

    test_id: str
    rig: str
    firmware_version: str
    outcomes: str  # oldest first, one letter per run: P passed, F failed, E error, S skipped, -
    flips: int     # changes between passing and failing (at least 2), skipped runs left out

    @property
    def runs(self) -> int:
        return len(self.outcomes)


def compare(baseline: RunRecord, candidate: RunRecord, tolerance: float = 0.2) -> Comparison:
    """Judge ``candidate`` against ``baseline``; both need their tests (``History.find``)."""
    if tolerance < 0 or math.isnan(tolerance):
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    before = {t.test_id: t for t in baseline.tests}
    after = {t.test_id: t for t in candidate.tests}
    result = Comparison(baseline, candidate, tolerance,
                        new_tests=[t for t in after if t not in before],
                        removed_tests=[t for t in before if t not in after])
    for test_id, test in after.items():
        old = before.get(test_id)
        if old is None:
            continue
        if old.outcome != test.outcome:
            result.verdict_changes.append(VerdictChange(test_id, old.outcome, test.outcome))
        old_by_name = _by_name(old.measurements)
        for name, new in _by_name(test.measurements).items():
            if name in old_by_name:
                change = judge(test_id, name, old_by_name[name], new, tolerance)
                if change is not None:
                    result.measurement_changes.append(change)
    result.verdict_changes.sort(key=lambda v: (not v.worse, v.test_id))
    result.measurement_changes.sort(key=_severity)
    return result


def judge(test_id: str, name: str, old: Measurement, new: Measurement, tolerance: float
          ) -> MeasurementChange | None:
    """The change of one measurement worth reporting, or None (see the module docstring)."""
    left = old.passed and not new.passed
    if old.value is None or (new.value is None and not left):
        return None
    baseline_limit = old.limit_text() if old.limit_text() != new.limit_text() else ""
    if new.value is None:
        return MeasurementChange(test_id, name, new.unit, old.value, None, new.low, new.high,
                                 "regressed", None, True, baseline_limit)
    delta = new.value - old.value
    relative = delta / abs(old.value) if old.value != 0 else None
    beyond = abs(delta) > noise_floor(new) and (relative is None or abs(relative) > tolerance)
    if new.low is None and new.high is None:
        kind = "changed" if beyond else None
    else:
        kind = "regressed" if left or (beyond and _worse(old.value, new.value, new)) else None
    if kind is None:
        return None
    return MeasurementChange(test_id, name, new.unit, old.value, new.value, new.low, new.high,
                             kind, relative, left, baseline_limit)


def noise_floor(m: Measurement) -> float:
    """Absolute differences at or below this are noise: 1 % of the largest limit, or 1e-6."""
    limits = [abs(x) for x in (m.low, m.high) if x is not None]
    return max(NOISE_FLOOR, NOISE_FRACTION_OF_LIMIT * max(limits, default=0.0))


def _worse(old: float, new: float, limits: Measurement) -> bool:
    low, high = limits.low, limits.high
    if low is not None and high is not None:
        return min(new - low, high - new) < min(old - low, high - old)
    if high is not None:
        return new > old
    return new < old


def _by_name(measurements: Iterable[Measurement]) -> dict[str, Measurement]:
    """Measurements by name, repeated names numbered "#2", "#3" in recorded order."""
    seen: dict[str, int] = {}
    named: dict[str, Measurement] = {}
    for m in measurements:
        seen[m.name] = seen.get(m.name, 0) + 1
        named[m.name if seen[m.name] == 1 else f"{m.name} #{seen[m.name]}"] = m
    return named


def _severity(c: MeasurementChange) -> tuple[int, int, float, str, str]:
    size = math.inf if c.relative is None else abs(c.relative)
    return (c.kind != "regressed", not c.left_limits, -size, c.test_id, c.name)


# -- flaky tests ---------------------------------------------------------------------------

def flaky(history: History, last: int = 10) -> list[FlakyTest]:
    """Tests that flipped between passing and failing within the last ``last`` runs of the same
    rig and firmware version: nothing under test changed, so the test (or the rig) is unsure.

    A flip means going both ways (pass, fail, pass or fail, pass, fail; skipped runs left out):
    a single change from passing to failing is what a regression looks like, and belongs in
    the comparison, not here. A firmware version that never changes ("dev") makes real
    regressions that come and go look flaky too.
    """
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in history.runs():
        groups.setdefault((run.rig, run.firmware_version), []).append(run)
    found: list[FlakyTest] = []
    for (rig, firmware), runs in groups.items():
        recent = history.with_tests(runs[-last:]) if last > 0 else []
        if len(recent) < 2:
            continue
        outcomes: dict[str, list[str]] = {}
        for index, run in enumerate(recent):
            for test in run.tests:
                outcomes.setdefault(test.test_id, ["-"] * len(recent))[index] = test.outcome
        for test_id, sequence in outcomes.items():
            verdicts = [o in FAILING for o in sequence if o in ("passed", *FAILING)]
            flips = sum(1 for a, b in pairwise(verdicts) if a != b)
            if flips >= MIN_FLIPS:
                letters = "".join(_LETTER.get(o, "-") for o in sequence)
                found.append(FlakyTest(test_id, rig, firmware, letters, flips))
    found.sort(key=lambda f: (-f.flips, f.rig, f.firmware_version, f.test_id))
    return found


_LETTER = {"passed": "P", "failed": "F", "error": "E", "skipped": "S"}


# -- the page ------------------------------------------------------------------------------

PAGE_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.diff td { background: #fff3c4; }
.bad { color: #b00020; font-weight: bold; } .good { color: #1b7f2a; } .muted { color: #777; }
code, .id { font-family: ui-monospace, monospace; font-size: .92em; }
.summary { font-size: 1.1em; padding: .5em .8em; background: #f6f6f6; border-left: 4px solid #888; }
"""


def page_html(title: str, body: str) -> str:
    """A self-contained page (inline CSS, no scripts, nothing fetched) around ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head>\n"
            f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def render_compare_html(comparison: Comparison, flaky: list[FlakyTest]) -> str:
    """The comparison as one static HTML page that opens from a file."""
    c = comparison
    known_flaky = {f.test_id for f in flaky if f.rig == c.candidate.rig}
    parts = [
        f"<p class=\"summary\">{_e(c.summary())} "
        f"<span class=\"muted\">(tolerance {c.tolerance * 100:g} %)</span></p>",
        _manifest_table(c.baseline, c.candidate),
        _section("Verdict changes", c.verdict_changes, ["Test", "Baseline", "Candidate", ""],
                 lambda v: [_id(v.test_id), _e(v.baseline), _outcome(v.candidate),
                            "known flaky" if v.test_id in known_flaky else ""]),
        _section("Measurement regressions", c.regressions, _CHANGE_HEADS, _change_row),
        _section("Changed measurements without limits", c.changed, _CHANGE_HEADS, _change_row),
        _section("New tests", c.new_tests, ["Test", "Outcome"],
                 lambda t: [_id(t), _outcome(_outcome_in(c.candidate, t))]),
        _section("Removed tests", c.removed_tests, ["Test", "Last outcome"],
                 lambda t: [_id(t), _e(_outcome_in(c.baseline, t))]),
        _section("Flaky tests (same rig and firmware, recent runs)", flaky,
                 ["Test", "Rig", "Firmware", "Outcomes (oldest first)", "Flips"],
                 lambda f: [_id(f.test_id), _e(f.rig), _e(f.firmware_version),
                            f"<code>{_e(f.outcomes)}</code>", str(f.flips)]),
    ]
    title = f"Compare {c.baseline.run_id} → {c.candidate.run_id}"
    return page_html(title, "\n".join(parts))


_CHANGE_HEADS = ["Test", "Measurement", "Baseline", "Candidate", "Change", "Limit"]


def _change_row(c: MeasurementChange) -> list[str]:
    limit = _e(c.limit_text)
    if c.baseline_limit:
        limit += f" <span class=\"muted\">(was {_e(c.baseline_limit)})</span>"
    change = _e(c.change_text())
    if c.left_limits:
        change += " <span class=\"bad\">outside limit</span>"
    return [_id(c.test_id), _e(c.name), _num(c.baseline, c.unit), _num(c.candidate, c.unit),
            change, limit]


def _manifest_table(baseline: RunRecord, candidate: RunRecord) -> str:
    def counts(run: RunRecord) -> str:
        tally: dict[str, int] = {}
        for t in run.tests:
            tally[t.outcome] = tally.get(t.outcome, 0) + 1
        return ", ".join(f"{n} {o}" for o, n in sorted(tally.items())) or "no tests"

    # Run id and times always differ: only what was tested, and with what, is highlighted.
    rows = [("run", baseline.run_id, candidate.run_id, False),
            ("started", baseline.started, candidate.started, False),
            ("finished", baseline.finished, candidate.finished, False),
            ("tests", counts(baseline), counts(candidate), True)]
    keys = (set(baseline.manifest) | set(candidate.manifest)) - {"started", "finished"}
    ordered = [k for k in MANIFEST_ORDER if k in keys] + sorted(keys - set(MANIFEST_ORDER))
    rows += [(k, baseline.manifest.get(k, "—"), candidate.manifest.get(k, "—"), True)
             for k in ordered]
    diff = ' class="diff"'
    body = "".join(f"<tr{diff if marked and a != b else ''}><th>{_e(k)}</th>"
                   f"<td>{_e(a)}</td><td>{_e(b)}</td></tr>" for k, a, b, marked in rows)
    return ("<h2>Runs</h2><p class=\"muted\">Highlighted rows differ.</p>"
            "<table><tr><th></th><th>Baseline</th><th>Candidate</th></tr>" + body + "</table>")


def _section(title: str, items: Sequence[T], heads: list[str], row: Callable[[T], list[str]]
             ) -> str:
    head = f"<h2>{_e(title)} ({len(items)})</h2>"
    if not items:
        return head + "<p class=\"muted\">None.</p>"
    cells = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row(item)) + "</tr>"
                    for item in items)
    heading = "".join(f"<th>{_e(h)}</th>" for h in heads)
    return f"{head}<table><tr>{heading}</tr>{cells}</table>"


def _outcome_in(run: RunRecord, test_id: str) -> str:
    return next((t.outcome for t in run.tests if t.test_id == test_id), "")


def _outcome(outcome: str) -> str:
    css = "bad" if outcome in FAILING else "good" if outcome == "passed" else ""
    return f"<span class=\"{css}\">{_e(outcome)}</span>"


def _id(test_id: str) -> str:
    return f"<span class=\"id\">{_e(test_id)}</span>"


def _num(value: float | None, unit: str) -> str:
    return _e(_number(value, unit))


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    return f"{value:.6g}" + (f" {unit}" if unit else "")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
