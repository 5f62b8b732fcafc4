"""The Excel door's print layout of an owned sheet: merged paragraphs, charts, page setup.

The same :class:`~xlreport.core.changes.SheetContent` fields the file door writes into the
sheet's XML (``merges``, ``charts``, ``page``, ``row_breaks``), set through xlwings with a
number of calls that does not grow with the number of units: one ``merge(across=True)`` per
run of neighbouring one-row merges, three or four calls per chart, one per PageSetup property.
"""

from __future__ import annotations

import sys
from typing import Any

from ..core.cells import col_letter
from ..core.changes import Area, SheetContent

# Excel's PageSetup constants
XL_PORTRAIT, XL_LANDSCAPE, XL_PAPER_A4 = 1, 2, 9
POINTS_PER_CM = 72 / 2.54


def merge_runs(content: SheetContent) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) blocks of one-row merges over the same columns on
    neighbouring rows: ``merge(across=True)`` on a block merges each of its rows on its own."""
    out: list[list[int]] = []
    for m in sorted(content.merges, key=lambda m: (m.top, m.left)):
        last = out[-1] if out else None
        if m.top == m.bottom and last is not None and last[4] and last[2] == m.top - 1 \
                and (last[1], last[3]) == (m.left, m.right):
            last[2] = m.top
        else:
            out.append([m.top, m.left, m.bottom, m.right, m.top == m.bottom])
    return [(t, lft, b, r) for t, lft, b, r, _ in out]


def page_setup_properties(content: SheetContent) -> dict[str, Any]:
    """The page layout of ``content`` as properties of Excel's PageSetup object: the values the
    file door writes into the sheet's XML (:func:`xlreport.ooxml.sheetxml.build_owned_sheet`)."""
    page = content.page
    if page is None:
        return {}
    left, right, top, bottom = (round(cm * POINTS_PER_CM, 2) for cm in page.margins_cm)
    margin = round(page.header_cm * POINTS_PER_CM, 2)
    props: dict[str, Any] = {
        "Orientation": XL_PORTRAIT if page.portrait else XL_LANDSCAPE, "PaperSize": XL_PAPER_A4,
        "LeftMargin": left, "RightMargin": right, "TopMargin": top, "BottomMargin": bottom,
        "HeaderMargin": margin, "FooterMargin": margin,
    }
    if page.fit_to_width:
        props.update({"Zoom": False, "FitToPagesWide": 1, "FitToPagesTall": False})
    for where, texts in (("Header", page.header), ("Footer", page.footer)):
        for pos, text in zip(("Left", "Center", "Right"), texts):
            props[pos + where] = text
    rows = page.title_rows
    props["PrintTitleRows"] = f"${rows[0] + 1}:${rows[1] + 1}" if rows else ""
    return props


def chart_box(content: SheetContent, area: Area) -> tuple[float, float, float, float]:
    """(left, top, width, height) in points of the cells of ``area``."""
    from ..core.generate import DEFAULT_COL_WIDTH, column_points, row_height

    def x(col: int) -> float:
        return sum(column_points(content.col_widths.get(c, DEFAULT_COL_WIDTH)) for c in range(col))

    def y(row: int) -> float:
        return sum(row_height(content, r) for r in range(row))

    return x(area.left), y(area.top), x(area.right + 1) - x(area.left), y(area.bottom + 1) - y(area.top)


def chart_source(chart) -> Area:
    """The cells a chart is made from: its header row (the series names) and data rows."""
    return Area(chart.categories.top - 1, chart.categories.left, chart.categories.bottom,
                max(s.values.right for s in chart.series))


def print_area(content: SheetContent) -> str:
    width = max([len(r) for r in content.rows] + [max(content.col_widths, default=0) + 1])
    return f"$A$1:${col_letter(width - 1)}${max(len(content.rows), 1)}"


def write_print_layout(book, sheet, content: SheetContent, client) -> None:
    """Merges, charts and page setup of an owned sheet already written (see the module docstring).

    Merges and charts go through xlwings on every engine whose client has them. Excel's
    PageSetup object (paper, margins, fit to width, header and footer, print titles, page
    breaks) is reached through the native API on Windows; the other engines get the print area,
    the page setting xlwings has everywhere.
    """
    if client.can("rangeMerge"):
        for top, left, bottom, right in merge_runs(content):
            sheet.range((top + 1, left + 1), (bottom + 1, right + 1)).merge(across=True)
    if client.can("addChart"):
        for old in list(sheet.charts):  # the charts of the last run
            old.delete()
        for chart in content.charts:
            _add_chart(sheet, content, chart)
    if content.page is None:
        return
    if client.can("setPrintArea"):
        sheet.page_setup.print_area = print_area(content)
    if getattr(book.app.engine, "name", "") == "excel" and sys.platform == "win32":
        _windows_page_setup(book, sheet, content)


def _add_chart(sheet, content: SheetContent, chart) -> None:
    left, top, width, height = chart_box(content, chart.anchor)
    src = chart_source(chart)
    added = sheet.charts.add(left, top, width, height,
                             chart_type="bar_clustered" if chart.horizontal else "column_clustered",
                             source=sheet.range((src.top + 1, src.left + 1), (src.bottom + 1, src.right + 1)))
    for i, series in enumerate(chart.series):
        if series.line:
            _line_series(added, i, len(chart.series))


def _line_series(chart, i: int, count: int) -> None:
    """Draw series ``i`` (0-based) of ``chart`` as a line (the target across the bars)."""
    try:
        chart.series[i].chart_type = "line"
        return
    except NotImplementedError:  # the remote engine cannot count a new chart's series itself: we can
        pass
    except (AttributeError, IndexError, KeyError, TypeError):
        return  # an engine without chart series: the target stays a bar
    impl = chart.impl
    try:
        collection = type(impl.series)(impl, count=count)
        collection(i + 1).chart_type = "line"
    except (AttributeError, TypeError, KeyError, NotImplementedError):
        pass


def _windows_page_setup(book, sheet, content: SheetContent) -> None:
    app = book.app.api
    app.PrintCommunication = False  # one round trip to the printer driver, not one per property
    try:
        setup = sheet.api.PageSetup
        for name, value in page_setup_properties(content).items():
            setattr(setup, name, value)
    finally:
        app.PrintCommunication = True
    sheet.api.ResetAllPageBreaks()
    for r in content.row_breaks:
        sheet.api.HPageBreaks.Add(Before=sheet.api.Rows(r + 1))
