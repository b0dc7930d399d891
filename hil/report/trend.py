"""Each measurement over the last runs, as one self-contained HTML page of small plots.

A slow drift (a reaction time creeping towards its limit over five firmware versions) is
invisible when comparing two neighbouring runs; a plot per measurement shows it. The x axis is
the run, labelled by firmware version and start time; firmware changes are drawn as faint
vertical lines, limits as red dashed steps (they may change between runs), values outside
their limits as red points.

The page stays small: measurements with a single value are listed, not plotted, and at most
``MAX_PLOTS`` plots are drawn (the page says how many were left out).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hil.errors import HilError
from hil.report.compare import _e, page_html
from hil.report.history import History, RunRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_PLOTS = 200
FIGURE_INCHES = (6.0, 2.5)
DPI = 100  # 600 x 250 px
MAX_TICK_LABELS = 8


@dataclass
class Series:
    """One measurement of one test across the selected runs (None where it was not measured)."""

    test_id: str
    name: str
    unit: str
    values: list[float | None]
    lows: list[float | None]
    highs: list[float | None]

    @property
    def points(self) -> int:
        return sum(v is not None for v in self.values)


@dataclass
class Trend:
    """What the page shows: the runs, the series worth a plot, and what was left out."""

    runs: list[RunRecord]
    plotted: list[Series] = field(default_factory=list)
    single_point: list[Series] = field(default_factory=list)
    over_cap: list[Series] = field(default_factory=list)


def collect(history: History, rig: str | None = None, last: int = 30) -> Trend:
    """The last ``last`` runs (of ``rig``, if given) and each measurement's series over them."""
    if last < 1:
        raise HilError(f"--last: expected at least 1 run, got {last}")
    runs = history.latest(last, rig)
    if rig is not None and not runs:
        rigs = sorted({r.rig for r in history.runs()})
        raise HilError(f"--rig: no runs of rig {rig!r} in history {history.path}; rigs there: "
                       f"{', '.join(map(repr, rigs)) or 'none'}")
    runs = history.with_tests(runs)
    series: dict[tuple[str, str], Series] = {}
    for index, run in enumerate(runs):
        for test in run.tests:
            repeats: dict[str, int] = {}
            for m in test.measurements:
                repeats[m.name] = repeats.get(m.name, 0) + 1
                name = m.name if repeats[m.name] == 1 else f"{m.name} #{repeats[m.name]}"
                s = series.get((test.test_id, name))
                if s is None:
                    s = series[test.test_id, name] = Series(
                        test.test_id, name, m.unit, *([None] * len(runs) for _ in range(3)))
                s.unit = m.unit or s.unit
                s.values[index], s.lows[index], s.highs[index] = m.value, m.low, m.high
    trend = Trend(runs)
    for s in sorted(series.values(), key=lambda s: s.test_id):  # stable: names in run order
        if s.points < 2:
            trend.single_point.append(s)
        elif len(trend.plotted) < MAX_PLOTS:
            trend.plotted.append(s)
        else:
            trend.over_cap.append(s)
    return trend


def render_trend_html(history: History, rig: str | None = None, last: int = 30) -> str:
    """The trend page: one PNG (embedded as a data URI) per measurement with two or more
    values, grouped by test."""
    return render_trend_page(collect(history, rig, last), rig)


def render_trend_page(trend: Trend, rig: str | None = None) -> str:
    """The page for an already collected trend."""
    runs = trend.runs
    rigs = sorted({r.rig or "unknown" for r in runs})
    firmware = list(dict.fromkeys(r.firmware_version or "unknown" for r in runs))
    parts = [f"<p class=\"summary\">{len(runs)} run{'s' if len(runs) != 1 else ''} "
             f"(rig {_e(', '.join(rigs) or 'none')}; firmware {_e(' → '.join(firmware) or '—')})"
             f": {len(trend.plotted)} plot{'s' if len(trend.plotted) != 1 else ''}.</p>"]
    if not runs:
        parts.append("<p class=\"muted\">The history has no runs yet.</p>")
    if trend.over_cap:
        more = len(trend.over_cap)
        parts.append(f"<p class=\"bad\">{more} more measurement{'s' if more != 1 else ''} not "
                     f"plotted: at most {MAX_PLOTS} plots per page (narrow with --rig or "
                     "--last).</p>")
    test_id = None
    for s in trend.plotted:
        if s.test_id != test_id:
            test_id = s.test_id
            parts.append(f"<h2 class=\"id\">{_e(test_id)}</h2>")
        png = base64.b64encode(plot_png(s, runs)).decode("ascii")
        alt = f"{s.name} over {s.points} runs"
        parts.append(f"<figure><img src=\"data:image/png;base64,{png}\" width=\"600\" "
                     f"height=\"250\" alt=\"{_e(alt)}\"></figure>")
    if trend.single_point:
        items = "".join(f"<li><span class=\"id\">{_e(s.test_id)}</span>: {_e(s.name)}</li>"
                        for s in trend.single_point)
        parts.append(f"<h2>Measured in one run only ({len(trend.single_point)})</h2>"
                     f"<ul class=\"muted\">{items}</ul>")
    parts.append(_runs_table(runs))
    title = "Measurement trends" + (f": rig {rig}" if rig else "")
    return page_html(title, "\n".join(parts))


def plot_png(series: Series, runs: list[RunRecord]) -> bytes:
    """One ~600x250 px PNG: the values, the limits, firmware changes."""
    from matplotlib.figure import Figure  # imported here: the CLI starts faster without it

    x = list(range(len(runs)))
    y = [math.nan if v is None else v for v in series.values]
    fig = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.2)
    ax = fig.subplots()
    ax.plot(x, y, marker="o", markersize=3.5, linewidth=1.2, color="#1f5fa8")
    outside = [(i, v) for i, v in enumerate(series.values) if v is not None and not _inside(
        v, series.lows[i], series.highs[i])]
    if outside:
        ax.plot(*zip(*outside, strict=True), "o", color="#c00020", markersize=5,
                label="outside limit")
    for limits, label in ((series.highs, "high"), (series.lows, "low")):
        if any(v is not None for v in limits):
            ax.step(x, [math.nan if v is None else v for v in limits], where="mid",
                    color="#c00020", linestyle="--", linewidth=0.9, label=f"{label} limit")
    for i in range(1, len(runs)):
        if runs[i].firmware_version != runs[i - 1].firmware_version:
            ax.axvline(i - 0.5, color="#999", linewidth=0.6, linestyle=":")
    step = max(1, math.ceil(len(runs) / MAX_TICK_LABELS))
    ticks = sorted(set(range(len(runs) - 1, -1, -step)))  # always label the newest run
    ax.set_xticks(ticks, [_tick_label(runs[i]) for i in ticks], fontsize=6)
    ax.set_xlim(-0.5, len(runs) - 0.5)
    ax.set_title(series.name, fontsize=8, loc="left")
    ax.set_ylabel(series.unit or "value", fontsize=7)
    ax.tick_params(axis="y", labelsize=6)
    ax.grid(True, linewidth=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left", frameon=False)  # "best" costs a search per plot
    return _png(fig)


def _png(fig: Figure) -> bytes:
    """The figure as a 64-colour palette PNG: a third of the bytes of full colour, same look."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image  # a dependency of matplotlib

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    buffer = io.BytesIO()
    image.convert("RGB").quantize(64, method=Image.Quantize.FASTOCTREE).save(buffer, "PNG")
    return buffer.getvalue()


def _inside(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _tick_label(run: RunRecord) -> str:
    return f"{run.firmware_version or '?'}\n{_short_time(run.started)}"


def _short_time(stamp: str) -> str:
    try:
        when = _dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC)
    return when.strftime("%m-%d %H:%M")


def _runs_table(runs: list[RunRecord]) -> str:
    rows = "".join(f"<tr><td class=\"id\">{_e(r.run_id)}</td><td>{_e(r.started)}</td>"
                   f"<td>{_e(r.rig)}</td><td>{_e(r.firmware_version)}</td>"
                   f"<td class=\"id\">{_e(r.manifest.get('git_sha', ''))}</td></tr>"
                   for r in runs)
    return ("<h2>Runs (oldest first)</h2><table><tr><th>Run</th><th>Started</th><th>Rig</th>"
            f"<th>Firmware</th><th>Framework commit</th></tr>{rows}</table>")
