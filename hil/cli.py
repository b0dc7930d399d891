"""The `hil` command: run scenarios with reports, inspect rigs, list the reference BMS's defects.

`hil run` is pytest underneath (the same items, fixtures and options as `pytest`), with the
report options filled in. Mistakes in arguments or files print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hil.errors import HilError
from hil.report import commands as report_commands

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
    except BrokenPipeError:  # `hil ... | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0


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
                     help="where report.html, junit.xml, logs/ and history.sqlite go "
                          "(default reports)")
    run.add_argument("-k", dest="keyword", default=None, help="only tests matching (as pytest -k)")
    run.set_defaults(handler=_run)

    bms = sub.add_parser("bms", help="the reference BMS")
    bms_sub = bms.add_subparsers(metavar="WHAT")
    defects = bms_sub.add_parser("defects", help="list the defects --bms-defect can inject")
    defects.add_argument("--check", action="store_true",
                         help="run each defect's scenarios with it and show which are caught")
    defects.add_argument("--rig", default=DEFAULT_RIG)
    defects.add_argument("names", nargs="*", metavar="NAME", help="only these defects")
    defects.set_defaults(handler=_defects)

    rig = sub.add_parser("rig", help="rig files")
    rig_sub = rig.add_subparsers(metavar="WHAT")
    show = rig_sub.add_parser("show", help="check a rig file and summarise it")
    show.add_argument("--rig", default=DEFAULT_RIG)
    show.set_defaults(handler=_rig_show)
    check = rig_sub.add_parser("check", help="self-test: every chip answers, every channel "
                                             "reads back what was set")
    check.add_argument("--rig", default=DEFAULT_RIG)
    check.add_argument("--points", type=_positive_int, default=3,
                       help="test voltages per channel")
    check.set_defaults(handler=_rig_check)
    init = rig_sub.add_parser("init", help="store the safe state in the DACs' EEPROMs, so a "
                                           "power cycle of the HAT comes up safe")
    init.add_argument("--rig", default=DEFAULT_RIG)
    init.set_defaults(handler=_rig_init)

    report_commands.add_parser(sub)

    plant = sub.add_parser("plant", help="list the plant's pack presets, vehicles, speed cycles "
                                         "and cell sets")
    plant.set_defaults(handler=_plant)

    cal = sub.add_parser("calibrate", help="fit gain and offset of every cell channel")
    cal.add_argument("--rig", default=DEFAULT_RIG)
    cal.add_argument("--points", type=_positive_int, default=5,
                     help="voltages per channel (>= 2)")
    cal.add_argument("--manual", action="store_true",
                     help="type in multimeter readings instead of using the read-back ADC")
    cal.add_argument("--output", type=Path, default=None,
                     help="calibration file to write (default: the one the rig file names)")
    cal.set_defaults(handler=_calibrate)
    return parser


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse prints the one-line error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _plant(args: argparse.Namespace) -> int:
    from hil.plant.catalog import catalog

    print(catalog())
    return 0


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
                   "-o", "junit_family=xunit1", "-o", "junit_logging=system-out",
                   # hil is imported before pytest starts, so pytest cannot rewrite it: expected
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if args.rig:
        pytest_args += ["--rig", args.rig]
    for defect in args.bms_defect:
        pytest_args += ["--bms-defect", defect]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if not any(a == "--hil-history" or a.startswith("--hil-history=") for a in args.pytest_args):
        pytest_args += ["--hil-history", str(report_dir / "history.sqlite")]  # with the rest
    code = int(pytest.main([*pytest_args, *args.pytest_args]))
    print(f"\nhil: HTML report: {html.resolve()}")
    print(f"hil: JUnit XML:   {junit.resolve()}")
    print(f"hil: CAN logs:    {(report_dir / 'logs').resolve()}")
    return code


def _defects(args: argparse.Namespace) -> int:
    from hil.sim.bms.defects import DEFECTS, resolve

    try:
        resolve(args.names)
    except KeyError as err:
        raise HilError(str(err.args[0])) from None
    width = max(len(name) for name in DEFECTS)
    if not args.check:
        for name, defect in sorted(DEFECTS.items()):
            if args.names and name not in args.names:
                continue
            caught = ", ".join(Path(p).stem for p in getattr(defect, "caught_by", ()))
            print(f"{name:<{width}}  {defect.summary}" + (f"  [caught by: {caught}]"
                                                         if caught else ""))
        return 0
    from hil.rig.rig import Rig
    from hil.sim.bms.matrix import check_defects

    def show(row) -> None:
        verdict = "caught" if row.caught else "NOT CAUGHT"
        print(f"{row.defect:<{width}}  {verdict:<10}  {row.scenario}  ({row.seconds:.0f} s)  "
              f"{row.detail}", flush=True)

    with Rig.load(args.rig, log_dir=Path("reports/logs")) as rig:
        rows = check_defects(rig, Path.cwd(), args.names or None, show)
    missed = sorted({r.defect for r in rows if not r.caught})
    print(f"{len(rows)} checks; defects not caught: {', '.join(missed) or 'none'}")
    return 1 if missed else 0


def _rig_show(args: argparse.Namespace) -> int:
    from hil.profile import Profile
    from hil.rig.config import load_rig_config

    config = load_rig_config(args.rig)
    profile = Profile.load(config.resolve(config.file.dut.profile))
    print(f"rig {config.name!r} ({config.path}): {config.file.description}")
    print(f"  DUT profile: {profile.name} ({profile.path}), DBC: "
          f"{', '.join(p.name for p in profile.database.sources)}")
    for kind, (cls, section) in config.drivers.items():
        print(f"  {kind:<13} {cls.driver_name:<12} {_summary(section)}")
    for name, rng in config.ranges().items():
        print(f"  limit {name}: {rng.low:g} .. {rng.high:g} {rng.unit}")
    safe = config.file.safe_state
    print(f"  safe state: cells {safe.cell_volts:g} V, temperatures "
          f"{safe.temperature_celsius:g} degC, current {safe.current_amps:g} A")
    return 0


def _summary(section: object) -> str:
    """Scalar options as they are; lists and mappings as counts; chip addresses in hex."""
    parts = []
    for name, value in section.model_dump(exclude={"driver"}).items():  # type: ignore[attr-defined]
        if value in (None, [], {}):
            continue
        if name == "chips":
            where = ", ".join(f"0x{c['address']:02X}" for c in value)
            parts.append(f"{len(value)} chips ({where})")
        elif isinstance(value, list | dict):
            parts.append(f"{name}: {len(value)}")
        else:
            parts.append(f"{name}={value}")
    return ", ".join(parts)


def _open_for_tools(path: str, use_calibration: bool = True):
    from hil.rig.rig import Rig

    return Rig.load(path, power_dut=False, use_calibration=use_calibration)


def _rig_check(args: argparse.Namespace) -> int:
    from hil.rig.tools import self_test

    with _open_for_tools(args.rig) as rig:
        report = self_test(rig, args.points)
    for chip in report.missing:
        print(f"MISSING  {chip} (no ACK)")
    for error in report.errors:
        print(f"ERROR    {error}")
    if not report.channels:
        print("no read-back channels: only chip presence was checked")
    else:
        print(f"calibration: {report.calibration}")
        print(f"{'cell':>4}  {'set V':>7}  {'read V':>7}  {'error mV':>9}")
        for c in report.channels:
            bad = report.tolerance_volts is not None and abs(c.error_volts) > \
                report.tolerance_volts
            print(f"{c.cell:>4}  {c.set_volts:7.3f}  {c.read_volts:7.4f}  "
                  f"{c.error_volts * 1e3:9.2f}{'  FAIL' if bad else ''}")
        worst = max(abs(c.error_volts) for c in report.channels)
        limit = f" (tolerance {report.tolerance_volts * 1e3:g} mV)" \
            if report.tolerance_volts else ""
        print(f"worst error {worst * 1e3:.2f} mV{limit}")
    print("rig check: PASS" if report.passed else "rig check: FAIL")
    return 0 if report.passed else 1


def _rig_init(args: argparse.Namespace) -> int:
    from hil.rig.tools import write_safe_power_on_values

    with _open_for_tools(args.rig) as rig:
        for line in write_safe_power_on_values(rig):
            print(line)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from hil.rig.config import load_rig_config
    from hil.rig.tools import calibrate_cells, save_cell_calibration

    if args.points < 2:
        raise HilError(f"--points: need at least 2 points to fit gain and offset, got "
                       f"{args.points}")
    config = load_rig_config(args.rig)
    named = config.file.cells.get("calibration")
    output: Path | None = args.output or (config.resolve(named) if named else None)
    if output is None:
        raise HilError("--output: the rig file names no calibration file; give one")
    measure = None
    method = "read-back ADC"
    if args.manual:
        method = "multimeter (typed in)"

        def measure(cell: int, volts: float) -> float:
            while True:
                text = input(f"cell {cell} set to {volts:.4f} V: measured volts? ")
                try:
                    return float(text)
                except ValueError:
                    print(f"  {text!r} is not a number; type the meter reading, e.g. 3.7012")

    with _open_for_tools(args.rig, use_calibration=False) as rig:
        fits = calibrate_cells(rig, args.points, measure)
    output.parent.mkdir(parents=True, exist_ok=True)
    save_cell_calibration(output, fits, method)
    print(f"{'cell':>4}  {'gain':>9}  {'offset mV':>9}  {'max error before':>16}  "
          f"{'after (mV)':>10}")
    for cell, (fit, before, after) in sorted(fits.items()):
        print(f"{cell:>4}  {fit.gain:9.5f}  {fit.offset * 1e3:9.2f}  {before * 1e3:16.2f}  "
              f"{after * 1e3:10.2f}")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
