"""The Excel door lays Rapport and Kontroller out for print as the file door does.

On xlwings' remote engine (the real object model, see test_excel.py): the merged paragraphs,
the two native charts over Rapport's own cells, the print area; and the page setup the door
sets through Excel's PageSetup object on Windows is the one the file door writes into the
sheet's XML, property by property.
"""

from __future__ import annotations

import pytest
from lxml import etree

import xlreport.doors.excel as door
from support.excel_payload import example_payload, payload, read_sheets, remote_book
from support.memory import example_grids
from xlreport.core import engine
from xlreport.core.cells import a1
from xlreport.doors.excel_layout import chart_source, merge_runs, page_setup_properties, print_area
from xlreport.ooxml.sheetxml import build_owned_sheet

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(scope="module")
def contents():
    out = engine.run(*reversed(example_grids()))
    return {s.name: s for s in out.changes.sheets}


def actions(book, func: str, sheet: str) -> list[dict]:
    i = [s.name for s in book.sheets].index(sheet)
    return [a for a in book.json()["actions"] if a["func"] == func and a["sheet_position"] == i]


def address(a: dict) -> str:
    top, left = a["start_row"], a["start_column"]
    first, last = a1(top, left), a1(top + a["row_count"] - 1, left + a["column_count"] - 1)
    return first if first == last else f"{first}:{last}"


def test_merges_cover_exactly_the_paragraphs_in_few_calls(contents):
    book = remote_book(example_payload())
    door.skapa_rapport(book=book)
    report = contents["Rapport"]
    calls = actions(book, "rangeMerge", "Rapport")
    merged = set()
    for a in calls:
        assert a["args"] in (True, [True])  # across: each row of the block on its own
        merged |= {(a["start_row"] + r, a["start_column"], a["start_column"] + a["column_count"] - 1)
                   for r in range(a["row_count"])}
    assert merged == {(m.top, m.left, m.right) for m in report.merges}
    assert len(calls) == len(merge_runs(report)) < len(report.merges)  # the list items merge in one call


def test_the_charts_plot_the_same_cells_as_the_file_doors(contents):
    book = remote_book(example_payload())
    door.skapa_rapport(book=book)
    report = contents["Rapport"]
    added = actions(book, "addChart", "Rapport")
    assert len(added) == len(report.charts) == 2
    for a, chart in zip(added, report.charts):
        _name, chart_type, sheet, source, _left, top, width, height, *_ = a["args"]
        src = chart_source(chart)
        assert sheet == "Rapport" and source.replace("$", "") == f"{a1(src.top, src.left)}:{a1(src.bottom, src.right)}"
        assert chart_type == ("BarClustered" if chart.horizontal else "ColumnClustered")
        assert top > 0 and width > 300 and height >= 180
    lines = actions(book, "setChartSeries", "Rapport")
    from xlwings.pro import _xlremote

    if hasattr(_xlremote, "ChartSeries"):  # xlwings >= 0.37.8: the target is a line over the bars
        assert [(a["args"][0], a["args"][1], a["args"][2]) for a in lines] == [(1, 2, {"chart_type": "Line"})]
    else:  # an older remote engine has no chart series: the chart is made all the same, the target as bars
        assert lines == []


def test_a_second_click_replaces_the_last_runs_charts():
    sheets = read_sheets()
    data = payload(sheets)
    rapport = next(s for s in data["sheets"] if s["name"] == "Rapport")
    rapport["charts"] = [{"name": "Diagram 1", "chart_type": "BarClustered", "left": 0, "top": 0, "width": 100,
                          "height": 100}]
    book = remote_book(data)
    door.skapa_rapport(book=book)
    deleted = actions(book, "deleteChart", "Rapport")
    assert len(deleted) == 1
    assert book.json()["actions"].index(deleted[0]) < book.json()["actions"].index(
        actions(book, "addChart", "Rapport")[0])


def test_the_print_area_is_the_sheets_content(contents):
    book = remote_book(example_payload())
    door.skapa_rapport(book=book)
    for name in ("Rapport", "Kontroller"):
        (a,) = actions(book, "setPrintArea", name)
        assert a["args"] == [print_area(contents[name])]
    assert print_area(contents["Rapport"]) == f"$A$1:$H${len(contents['Rapport'].rows)}"


def test_a_legacy_client_gets_no_merges_or_charts():
    book = remote_book(dict(example_payload(), client="VBA"))
    result = door.skapa_rapport(book=book)
    assert not result.failed
    sent = {a["func"] for a in book.json()["actions"]}
    assert not sent & {"rangeMerge", "addChart", "setChartSeries", "deleteChart", "setPrintArea"}


def test_the_page_setup_is_the_file_doors(contents):
    """Each PageSetup property the Excel door sets equals what the sheet's XML says."""
    for content in contents.values():
        root = etree.fromstring(build_owned_sheet(content, {}))
        props = page_setup_properties(content)
        margins = root.find("m:pageMargins", NS)
        for side in ("left", "right", "top", "bottom"):
            assert props[side.capitalize() + "Margin"] == pytest.approx(float(margins.get(side)) * 72, abs=0.01)
        assert props["HeaderMargin"] == pytest.approx(float(margins.get("header")) * 72, abs=0.01)
        setup = root.find("m:pageSetup", NS)
        assert (props["Orientation"], props["PaperSize"]) == ({"portrait": 1, "landscape": 2}[setup.get("orientation")],
                                                              int(setup.get("paperSize")))
        assert root.find("m:sheetPr/m:pageSetUpPr", NS).get("fitToPage") == "1"
        assert (props["FitToPagesWide"], props["FitToPagesTall"], props["Zoom"]) == \
            (int(setup.get("fitToWidth")), bool(int(setup.get("fitToHeight"))), False)
        header = "".join(f"&{p}{props[w + 'Header']}" for p, w in zip("LCR", ("Left", "Center", "Right"))
                         if props[w + "Header"])
        footer = "".join(f"&{p}{props[w + 'Footer']}" for p, w in zip("LCR", ("Left", "Center", "Right"))
                         if props[w + "Footer"])
        assert root.findtext("m:headerFooter/m:oddHeader", namespaces=NS) == header
        assert root.findtext("m:headerFooter/m:oddFooter", namespaces=NS) == footer
        breaks = [int(b.get("id")) for b in root.iterfind("m:rowBreaks/m:brk", NS)]
        assert breaks == content.row_breaks
    assert page_setup_properties(contents["Kontroller"])["PrintTitleRows"] == ""  # no findings: no table
    assert page_setup_properties(contents["Rapport"])["CenterFooter"] == ""
