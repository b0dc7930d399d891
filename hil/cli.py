"""The `hil` command: run scenarios with reports, inspect rigs, list the reference BMS's defects.

`hil run` is pytest underneath (the same items, fixtures and options as `pytest`), with the
report options filled in. Mistakes in arguments or files print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hil.errors import HilError

DEFAULT_RIG = "rigs/sim.yaml"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # everything after -- goes to pytest untouched
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = _parser()
    args = parser.parse_args(argv)
    args.pytest_args = extra
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except HilError as err:
        print(f"hil: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hil: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hil", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario files and tests, write HTML and JUnit reports",
                         epilog="Arguments after -- go to pytest unchanged.")
    run.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    run.add_argument("--rig", default=None, help=f"rig file (default {DEFAULT_RIG})")
    run.add_argument("--bms-defect", action="append", default=[], metavar="NAME",
                     help="build the reference BMS with this defect (repeatable)")
    run.add_argument("--report-dir", default="reports", type=Path,
                     help="where report.html, junit.xml and logs/ go (default reports)")
    run.add_argument("-k", dest="keyword", default=None, help="only tests matching (as pytest -k)")
    run.set_defaults(handler=_run)

    bms = sub.add_parser("bms", help="the reference BMS")
    bms_sub = bms.add_subparsers(metavar="WHAT")
    defects = bms_sub.add_parser("defects", help="list the defects --bms-defect can inject")
    defects.set_defaults(handler=_defects)

    rig = sub.add_parser("rig", help="rig files")
    rig_sub = rig.add_subparsers(metavar="WHAT")
    show = rig_sub.add_parser("show", help="check a rig file and summarise it")
    show.add_argument("--rig", default=DEFAULT_RIG)
    show.set_defaults(handler=_rig_show)
    return parser


def _run(args: argparse.Namespace) -> int:
    import pytest

    for path in args.paths:
        if not Path(path).exists():
            raise HilError(f"run: {path}: no such file or folder")
    report_dir: Path = args.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    html = report_dir / "report.html"
    junit = report_dir / "junit.xml"
    pytest_args = [*args.paths, "--html", str(html), "--self-contained-html",
                   "--junitxml", str(junit), "--hil-log-dir", str(report_dir / "logs"),
                   "-o", "junit_family=xunit1",
                   # hil is imported before pytest starts, so pytest cannot rewrite it: expected
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if args.rig:
        pytest_args += ["--rig", args.rig]
    for defect in args.bms_defect:
        pytest_args += ["--bms-defect", defect]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    code = int(pytest.main([*pytest_args, *args.pytest_args]))
    print(f"\nhil: HTML report: {html.resolve()}")
    print(f"hil: JUnit XML:   {junit.resolve()}")
    print(f"hil: CAN logs:    {(report_dir / 'logs').resolve()}")
    return code


def _defects(_args: argparse.Namespace) -> int:
    from hil.sim.bms.defects import DEFECTS

    width = max(len(name) for name in DEFECTS)
    for name, defect in sorted(DEFECTS.items()):
        print(f"{name:<{width}}  {defect.summary}")
    return 0


def _rig_show(args: argparse.Namespace) -> int:
    from hil.profile import Profile
    from hil.rig.config import load_rig_config

    config = load_rig_config(args.rig)
    profile = Profile.load(config.resolve(config.file.dut.profile))
    print(f"rig {config.name!r} ({config.path}): {config.file.description}")
    print(f"  DUT profile: {profile.name} ({profile.path}), DBC: "
          f"{', '.join(p.name for p in profile.database.sources)}")
    for kind, (cls, section) in config.drivers.items():
        options = section.model_dump(exclude={"driver"})
        shown = ", ".join(f"{k}={v}" for k, v in options.items() if v not in (None, [], {}))
        print(f"  {kind:<13} {cls.driver_name:<12} {shown}")
    for name, rng in config.ranges().items():
        print(f"  limit {name}: {rng.low:g} .. {rng.high:g} {rng.unit}")
    safe = config.file.safe_state
    print(f"  safe state: cells {safe.cell_volts:g} V, temperatures "
          f"{safe.temperature_celsius:g} degC, current {safe.current_amps:g} A")
    return 0


if __name__ == "__main__":
    sys.exit(main())
