"""The report's charts as PNG images for the Word document, drawn with matplotlib.

matplotlib is imported here only, when a report is exported: it is heavy (with numpy it costs
about half a second), and the CLI's and the ribbon's other commands never need it. The
figures are those of :class:`xlreport.core.generate.ChartFigure`, the same the native chart on
Rapport plots; numbers are printed the Swedish way (decimal comma, U+2212 minus).
"""

from __future__ import annotations

import io
import math

from ..core.generate import DECIMALS, ChartFigure
from ..core.swedish import fmt_number

WIDTH_CM = 16.0
COLOURS = ("#2F5597", "#9DC3E6", "#A5A5A5")
TARGET_COLOUR = "#C00000"
DPI = 200


def _values(values) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def chart_png(fig: ChartFigure) -> bytes:
    """The chart as a PNG image, :data:`WIDTH_CM` wide."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    decimals = DECIMALS[fig.kind]
    n = len(fig.categories)
    height_cm = max(6.0, 1.5 + 0.75 * n * len(fig.series)) if fig.horizontal else 7.5
    figure = Figure(figsize=(WIDTH_CM / 2.54, height_cm / 2.54), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    label = FuncFormatter(lambda v, _pos: fmt_number(float(v), decimals))
    width = 0.8 / len(fig.series)
    positions = list(range(n))
    for i, (name, values) in enumerate(fig.series):
        offset = [p - 0.4 + width * (i + 0.5) for p in positions]
        colour = COLOURS[i % len(COLOURS)]
        if fig.horizontal:
            bars = ax.barh(offset, _values(values), height=width, color=colour, label=name)
        else:
            bars = ax.bar(offset, _values(values), width=width, color=colour, label=name)
        ax.bar_label(bars, labels=[fmt_number(v, decimals) if v is not None else "" for v in values],
                     padding=2, fontsize=7)
    if fig.target is not None:
        name, value = fig.target
        line = ax.axvline if fig.horizontal else ax.axhline
        line(value, color=TARGET_COLOUR, linestyle="--", linewidth=1.5, label=name)
    if fig.horizontal:
        ax.set_yticks(positions, fig.categories, fontsize=8)
        ax.invert_yaxis()  # the first category at the top, as in the table
        ax.xaxis.set_major_formatter(label)
        ax.axvline(0, color="#595959", linewidth=0.8)
        ax.grid(axis="x", color="#D9D9D9", linewidth=0.6)
        ax.set_xlabel(fig.axis_title, fontsize=8)
        ax.margins(x=0.12)
    else:
        ax.set_xticks(positions, fig.categories, fontsize=8)
        ax.yaxis.set_major_formatter(label)
        ax.grid(axis="y", color="#D9D9D9", linewidth=0.6)
        ax.set_ylabel(fig.axis_title, fontsize=8)
        ax.margins(y=0.15)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8, length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if len(fig.series) > 1 or fig.target is not None:
        ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                  ncol=len(fig.series) + (fig.target is not None))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
