"""Small PNG plots of a test's evidence: what the rig did, what the BMS said, and the checks.

One panel per unit (volts, degrees, amps, states and flags), stimuli dashed and decoded signals
solid, check thresholds as horizontal lines, check windows shaded, decisive moments marked.
Kept small (about 15-30 kB) so a report of a hundred tests stays a few megabytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from hil.signals import SignalStore

MAX_SERIES = 10
MAX_PANELS = 4


@dataclass
class PlotSpec:
    """What to draw for one test (times are epoch seconds; t0 is shown as 0)."""

    t0: float
    start: float
    end: float
    signals: list[tuple[str, str, float]] = field(default_factory=list)  # series, unit, factor
    stimuli: list[tuple[str, str]] = field(default_factory=list)          # series, unit
    thresholds: list[tuple[str, float, str]] = field(default_factory=list)  # unit, value, label
    windows: list[tuple[float, float, bool]] = field(default_factory=list)  # start, end, passed
    markers: list[tuple[float, str]] = field(default_factory=list)          # time, label


def render_png(store: SignalStore, spec: PlotSpec, title: str = "") -> bytes | None:
    """The plot as PNG bytes, or None when there is nothing to draw."""
    lines: dict[str, list[tuple[str, list[float], list[float], bool]]] = {}
    for name, unit, factor in spec.signals[:MAX_SERIES]:
        times, values = store.series(name).arrays(spec.start, spec.end)
        if len(times):
            lines.setdefault(unit or "state", []).append(
                (_short(name), list(times - spec.t0), list(values * factor), False))
    for name, unit in spec.stimuli[:MAX_SERIES]:
        series = store.series(name)
        times, values = series.arrays(spec.start, spec.end)
        before = series.value_at(spec.start)
        t = ([spec.start] if before else []) + list(times) + [spec.end]
        v = ([before.value] if before else []) + list(values)
        if not v:
            continue
        v = [*v, v[-1]]
        lines.setdefault(unit or "state", []).append(
            (name.removeprefix("stimulus."), [x - spec.t0 for x in t], v, True))
    if not lines:
        return None
    units = list(lines)[:MAX_PANELS]
    fig, axes = plt.subplots(len(units), 1, sharex=True, squeeze=False,
                             figsize=(6.4, 1.1 + 1.0 * len(units)), dpi=72)
    for ax, unit in zip(axes[:, 0], units, strict=True):
        for label, t, v, stimulus in lines[unit]:
            if stimulus:
                ax.step(t, v, where="post", linestyle="--", linewidth=1.2, label=label)
            else:
                ax.plot(t, v, marker=".", markersize=2, linewidth=1.0, label=label)
        for th_unit, value, label in spec.thresholds:
            if th_unit == unit or (unit == "state" and not th_unit):
                ax.axhline(value, color="red", linewidth=0.8, linestyle=":")
                ax.annotate(label, (0, value), xycoords=("axes fraction", "data"), fontsize=6,
                            color="red", va="bottom")
        for start, end, passed in spec.windows:
            ax.axvspan(start - spec.t0, end - spec.t0, color="green" if passed else "red",
                       alpha=0.08)
        for time, _label in spec.markers:
            ax.axvline(time - spec.t0, color="black", linewidth=0.6, linestyle="-.")
        ax.set_ylabel(unit, fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5, loc="upper left", ncol=3, frameon=False)
        ax.grid(True, linewidth=0.3)
    axes[-1, 0].set_xlabel("t [s] (0 = start of the timeline)", fontsize=7)
    if title:
        fig.suptitle(title[:110], fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"optimize": True})
    plt.close(fig)
    return buffer.getvalue()


def _short(series: str) -> str:
    message, _, signal = series.partition(".")
    return signal or message
