"""The report's charts as PNG images for the Word document, drawn with Pillow.

The figures are those of :class:`xlreport.core.generate.ChartFigure`, the same the native chart
on Rapport plots; numbers are printed the Swedish way (decimal comma, U+2212 minus). Pillow
rather than a plotting library: xlwings imports matplotlib at start-up whenever it is installed,
which would add a second to every click of the ribbon, while two bar charts need only
rectangles, lines and text. The text is set in Calibri or a metric twin (Carlito) where the
machine has one, else DejaVu Sans or Arial, else Pillow's own font.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from ..core.generate import DECIMALS, ChartFigure
from ..core.swedish import MINUS, fmt_number, round_half_up

WIDTH_CM = 16.0
DPI = 200
COLOURS = ("#2F5597", "#9DC3E6", "#A5A5A5")
TARGET_COLOUR = "#C00000"
GRID, AXIS, TEXT = "#D9D9D9", "#595959", "#262626"
FONT_PT = 8

_FONT_FILES = (
    "Carlito-Regular.ttf", "calibri.ttf", "Calibri.ttf", "DejaVuSans.ttf", "arial.ttf", "Arial.ttf",
    "LiberationSans-Regular.ttf",
)
_FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"),
    os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"), "/Library/Fonts", "/System/Library/Fonts",
)


def _px(cm: float) -> int:
    return round(cm / 2.54 * DPI)


def _font_file() -> str | None:
    for folder in _FONT_DIRS:
        if not os.path.isdir(folder):
            continue
        for root, _dirs, files in os.walk(folder):
            for name in _FONT_FILES:
                if name in files:
                    return os.path.join(root, name)
    return None


class _Pen:
    """Text in one font; a font without U+2212 gets the hyphen-minus instead."""

    def __init__(self, size_pt: float):
        from PIL import ImageFont

        size = round(size_pt / 72 * DPI)
        path = _font_file()
        self.font = ImageFont.truetype(path, size) if path else ImageFont.load_default(size)
        self.minus = MINUS if path else "-"

    def text(self, s: str) -> str:
        return s.replace(MINUS, self.minus)

    def size(self, s: str) -> tuple[int, int]:
        left, top, right, bottom = self.font.getbbox(self.text(s))
        return right - left, bottom - top


def _ticks(lo: float, hi: float, want: int = 5, decimals: int = 1) -> list[float]:
    """Round tick values that cover lo..hi (1, 2 or 5 times a power of ten apart, and never
    closer than the ``decimals`` the labels print, so no two labels read the same): at least
    two, the first below or at ``lo`` and the last above or at ``hi``."""
    span = hi - lo or abs(hi) or 1.0
    raw = span / want
    power = 10 ** math.floor(math.log10(raw))
    step = max(next(m * power for m in (1, 2, 5, 10) if m * power >= raw), 10.0 ** -decimals)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(max(math.ceil((hi - first) / step), 1) + 1)]


def axis(fig: ChartFigure) -> list[float]:
    """The value axis's ticks: from the lowest value (or 0) to the highest (or 0), the target
    included. A chart whose values are all 0,0 (every unit on budget, as early in the year), or
    that has none, gets an axis one unit around the zero line: −1..1 for amounts, which may go
    either way, 0..1 for percentages, which cannot be negative."""
    values = [v for _name, vs in fig.series for v in vs if v is not None and math.isfinite(v)]
    if fig.target is not None and math.isfinite(fig.target[1]):
        values.append(fig.target[1])
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if hi - lo <= 0:
        lo, hi = (0.0, 1.0) if fig.kind == "percent" else (-1.0, 1.0)
    return _ticks(lo, hi, decimals=DECIMALS[fig.kind])


def chart_png(fig: ChartFigure) -> bytes:
    """The chart as a PNG image, :data:`WIDTH_CM` wide."""
    from PIL import Image, ImageDraw

    decimals = DECIMALS[fig.kind]
    pen = _Pen(FONT_PT)
    values = [v for _name, vs in fig.series for v in vs if v is not None]
    ticks = axis(fig)
    lo, hi = ticks[0], ticks[-1]
    # room for the labels of negative bars: left of the bars (horizontal) or below them (columns),
    # off the category names even when the lowest value is the axis's end
    negative = [fmt_number(v, decimals) for v in values if round_half_up(v, decimals) < 0]
    n, k = len(fig.categories), max(len(fig.series), 1)
    legend = [(name, COLOURS[i % len(COLOURS)]) for i, (name, _v) in enumerate(fig.series)] \
        if len(fig.series) > 1 or fig.target is not None else []
    if fig.target is not None:
        legend.append((fig.target[0], TARGET_COLOUR))
    line_h = pen.size("Åg")[1] + 6
    width = _px(WIDTH_CM)
    pad = 12
    legend_h = line_h + 2 * pad if legend else 0
    axis_title_h = line_h + pad if fig.axis_title else 0
    if fig.horizontal:
        slot = max(round(line_h * 1.1 * k), line_h + 8)
        plot_h = slot * n
        height = pad + plot_h + line_h + pad + axis_title_h + legend_h
        label_w = max((pen.size(c)[0] for c in fig.categories), default=0) + pad
        value_w = max(pen.size(fmt_number(v, decimals))[0] for v in [*values, lo, hi]) + pad
        negative_w = max((pen.size(t)[0] + 4 for t in negative), default=0)
        left, right, top = label_w + pad + negative_w, width - value_w - pad, pad
    else:
        plot_h = _px(5.0)
        under = line_h if negative else 0  # the labels of negative columns, above the categories
        height = pad + plot_h + under + 2 * line_h + pad + axis_title_h + legend_h
        tick_w = max(pen.size(fmt_number(t, decimals))[0] for t in ticks) + pad
        left, right, top = tick_w + pad, width - pad, pad + line_h
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def write(xy, s, anchor, fill=TEXT):
        draw.text(xy, pen.text(s), font=pen.font, fill=fill, anchor=anchor)

    if fig.horizontal:
        def x(v: float) -> float:
            return left + (v - lo) / (hi - lo) * (right - left)

        for t in ticks:
            draw.line([(x(t), top), (x(t), top + plot_h)], fill=GRID, width=1)
            write((x(t), top + plot_h + 4), fmt_number(t, decimals), "mt")
        bar = (slot - 8) / k
        for j, category in enumerate(fig.categories):
            y0 = top + j * slot + 4
            write((left - pad - negative_w, y0 + (slot - 8) / 2), category, "rm")
            for i, (_name, vs) in enumerate(fig.series):
                v = vs[j]
                if v is None:
                    continue
                a, b = sorted((x(0.0), x(v)))
                draw.rectangle([a, y0 + i * bar, b, y0 + (i + 1) * bar - 2], fill=COLOURS[i % len(COLOURS)])
                write((b + 4, y0 + (i + 0.5) * bar) if v >= 0 else (a - 4, y0 + (i + 0.5) * bar),
                      fmt_number(v, decimals), "lm" if v >= 0 else "rm")
        draw.line([(x(0.0), top), (x(0.0), top + plot_h)], fill=AXIS, width=2)
        if fig.target is not None:
            _dashed(draw, (x(fig.target[1]), top), (x(fig.target[1]), top + plot_h))
        below = top + plot_h + line_h + pad
        if fig.axis_title:
            write(((left + right) / 2, below), fig.axis_title, "mt")
    else:
        def y(v: float) -> float:
            return top + plot_h - (v - lo) / (hi - lo) * plot_h

        for t in ticks:
            draw.line([(left, y(t)), (right, y(t))], fill=GRID, width=1)
            write((left - 6, y(t)), fmt_number(t, decimals), "rm")
        slot = (right - left) / max(n, 1)
        bar = slot * 0.8 / k
        for j, category in enumerate(fig.categories):
            x0 = left + j * slot + slot * 0.1
            write((left + (j + 0.5) * slot, top + plot_h + under + 6), category, "mt")
            for i, (_name, vs) in enumerate(fig.series):
                v = vs[j]
                if v is None:
                    continue
                a, b = sorted((y(0.0), y(v)))
                draw.rectangle([x0 + i * bar, a, x0 + (i + 1) * bar - 2, b], fill=COLOURS[i % len(COLOURS)])
                write((x0 + (i + 0.5) * bar, a - 4 if v >= 0 else b + 4), fmt_number(v, decimals),
                      "mb" if v >= 0 else "mt")
        draw.line([(left, y(0.0)), (right, y(0.0))], fill=AXIS, width=2)
        if fig.target is not None:
            _dashed(draw, (left, y(fig.target[1])), (right, y(fig.target[1])))
        below = top + plot_h + under + line_h + 2 * pad
        if fig.axis_title:
            write(((left + right) / 2, below), fig.axis_title, "mt")
    if legend:
        _legend(draw, pen, legend, width, height - legend_h + pad, line_h, write)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def _dashed(draw, start: tuple[float, float], end: tuple[float, float], dash: int = 14, gap: int = 8) -> None:
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    steps = int(length // (dash + gap)) + 1
    for s in range(steps):
        a, b = s * (dash + gap) / length, min(1.0, (s * (dash + gap) + dash) / length)
        draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                  fill=TARGET_COLOUR, width=4)


def _legend(draw, pen: _Pen, items, width: int, y: float, line_h: int, write) -> None:
    """The series (and the target) in one centred row below the chart."""
    box = line_h - 8
    widths = [box + 8 + pen.size(name)[0] + 28 for name, _c in items]
    x = (width - sum(widths)) / 2
    for (name, colour), w in zip(items, widths):
        draw.rectangle([x, y + 4, x + box, y + 4 + box], fill=colour)
        write((x + box + 8, y + line_h / 2), name, "lm")
        x += w
