"""`hil report compare` and `hil report trend`: pages from the results history.

`hil/cli.py` calls ``add_parser(sub)`` with its subparsers object; each handler takes the
argparse Namespace and returns an exit code. A comparison with regressions still exits 0 (it is
a report, not a gate); user mistakes raise HilError, which the CLI prints as one line, exit 2.
``main()`` runs the same commands without the rest of the CLI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hil.errors import HilError
from hil.report.history import DEFAULT_HISTORY, History

DEFAULT_COMPARE_OUTPUT = Path("reports/compare.html")
DEFAULT_TREND_OUTPUT = Path("reports/trend.html")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``report`` (with ``compare`` and ``trend``) on a subparsers object."""
    report = subparsers.add_parser(
        "report", help="compare runs and plot trends from the results history",
        description="Pages from the results history that every test run appends to.")
    report.set_defaults(handler=lambda _args: _usage(report))
    sub = report.add_subparsers(metavar="WHAT")

    compare = sub.add_parser(
        "compare", help="what got worse between two runs (default: the last two)",
        description="Verdict changes, new and removed tests, measurement regressions and flaky "
                    "tests between two runs, as one HTML page. A run is named by its id, a "
                    "unique prefix of it, or its position from the end (-1 is the last run).")
    compare.add_argument("baseline", nargs="?", default=None, metavar="BASELINE",
                         help="the older run (default -2, the run before the last)")
    compare.add_argument("candidate", nargs="?", default=None, metavar="CANDIDATE",
                         help="the newer run (default -1)")
    _history_option(compare)
    compare.add_argument("--output", type=Path, default=DEFAULT_COMPARE_OUTPUT, metavar="PATH",
                         help=f"HTML page to write (default {DEFAULT_COMPARE_OUTPUT})")
    compare.add_argument("--tolerance", type=float, default=0.2, metavar="FRACTION",
                         help="relative change a measurement may make before it is reported "
                              "(default 0.2, i.e. 20 %%)")
    compare.set_defaults(handler=run_compare)

    trend = sub.add_parser(
        "trend", help="each measurement plotted over the last runs",
        description="One small plot per measurement over the last runs, x axis labelled by "
                    "firmware version, limits drawn, as one HTML page.")
    _history_option(trend)
    trend.add_argument("--output", type=Path, default=DEFAULT_TREND_OUTPUT, metavar="PATH",
                       help=f"HTML page to write (default {DEFAULT_TREND_OUTPUT})")
    trend.add_argument("--rig", default=None, metavar="NAME",
                       help="only runs on this rig (default: every rig)")
    trend.add_argument("--last", type=int, default=30, metavar="N",
                       help="how many of the latest runs (default 30)")
    trend.set_defaults(handler=run_trend)
    return report


def run_compare(args: argparse.Namespace) -> int:
    from hil.report.compare import compare, flaky, render_compare_html

    if not args.tolerance >= 0:  # also refuses nan
        raise HilError(f"--tolerance: expected a fraction >= 0 such as 0.2, got {args.tolerance}")
    history = History(args.history)
    baseline_ref, candidate_ref = args.baseline, args.candidate
    if baseline_ref is None:
        runs = history.runs()
        if len(runs) < 2:
            raise HilError(f"compare: history {history.path} has {len(runs)} run"
                           f"{'s' if len(runs) != 1 else ''}; two are needed")
        baseline_ref, candidate_ref = "-2", "-1"
    baseline = history.find(baseline_ref)
    candidate = history.find(candidate_ref or "-1")
    comparison = compare(baseline, candidate, args.tolerance)
    page = render_compare_html(comparison, flaky(history))
    output = _write(args.output, page)
    print(f"{baseline.label()} -> {candidate.label()}: {comparison.summary()}")
    print(f"compare report: {output}")
    return 0


def run_trend(args: argparse.Namespace) -> int:
    from hil.report.trend import collect, render_trend_page

    trend = collect(History(args.history), args.rig, args.last)
    note = f" ({len(trend.over_cap)} over the cap, not plotted)" if trend.over_cap else ""
    # Said before plotting: 200 plots take half a minute on a small machine.
    print(f"{len(trend.plotted)} plots over {len(trend.runs)} runs{note}", flush=True)
    output = _write(args.output, render_trend_page(trend, args.rig))
    print(f"trend report: {output}")
    return 0


def _history_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, metavar="PATH",
                        help=f"results history file (default {DEFAULT_HISTORY})")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise HilError(f"--output: cannot write {path}: {err.strerror or err}") from err
    return path.resolve()
