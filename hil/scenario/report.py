"""Failure text for a scenario run: every check's verdict, then the timeline around them.

What an engineer needs without opening a trace tool: what was expected, what was seen, when,
in one block, with times relative to the start of the timeline.
"""

from __future__ import annotations

from hil.scenario.engine import RunResult


def render(result: RunResult) -> str:
    scenario = result.scenario
    lines = []
    failed = [o for o in result.outcomes if not o.passed]
    if result.error:
        lines.append(f"Scenario '{scenario.title}' could not run: {result.error}")
    elif failed:
        lines.append(f"Scenario '{scenario.title}': {len(failed)} of {len(result.outcomes)} "
                     "checks failed")
    elif not result.timing_ok:
        lines.append(f"Scenario '{scenario.title}': timing untrustworthy, verdict withheld "
                     f"({result.lateness}; tolerance {result.tolerance * 1e3:.1f} ms)")
    else:
        lines.append(f"Scenario '{scenario.title}': all {len(result.outcomes)} checks passed")
    never_ran = [o for o in result.outcomes if o.seen == "the step never ran"]
    if never_ran:
        lines.append(f"NOT JUDGED  {len(never_ran)} checks of steps that never ran "
                     f"(from {never_ran[0].step})")
    for outcome in result.outcomes:
        if outcome in never_ran:
            continue
        mark = "PASS" if outcome.passed else "FAIL"
        where = f"  [{scenario.path.name}:{outcome.line}]" if outcome.line else ""
        lines.append(f"{mark}  {outcome.check}{where}")
        if not outcome.passed:
            lines.append(f"      expected: {outcome.expected}")
            lines.append(f"      seen:     {outcome.seen}")
        for m in outcome.measurements:
            lines.append(f"      measured: {m}")
    if result.timeline:
        lines.append("Timeline (t=0 is the start of the timeline):")
        t0 = result.t0 or result.timeline[0].time
        for event in result.timeline:
            lines.append(f"  {event.time - t0:9.3f} s  {event.text}")
    if result.lateness is not None:
        verdict = "ok" if result.timing_ok else "TOO LATE"
        lines.append(f"Step timing: {result.lateness} (tolerance "
                     f"{result.tolerance * 1e3:.1f} ms: {verdict})")
    return "\n".join(lines)
