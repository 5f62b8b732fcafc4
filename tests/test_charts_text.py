"""The chart, drawing and relationships parts, built as text, are byte for byte what the lxml
element build (tests/support/lxml_charts.py) writes, and refuse what lxml refuses."""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from support import lxml_charts
from xlreport.core.changes import Area, Chart, ChartSeries
from xlreport.ooxml import charts
from xlreport.ooxml.names import NS_R

# XML's own characters, whitespace attributes must escape, Swedish letters, characters outside the BMP
TEXTS = ["", " ", "Avvikelse helår", "&<>\"'", "a & b < c > d", "]]>", "tab\there", "ny\nrad", "vagn\rretur",
         "crlf\r\n", "åäö ÅÄÖ é ü ß", "😀 𝄞 𠜎", "x\u00a0y", "\x7f\x85\u2028\u2029", "&amp; &#13; &lt;"]
VALUES = [None, 0, 1, -1, 2.3, -1.0, 0.1 + 0.2, 1e16, -0.0, 5e-324, 10**20, True, False, "text", float("inf"),
          float("-inf"), float("nan")]
FORMATS = ["0.0", '0.0 "mnkr"', "#,##0;[Red]-#,##0", "0%", "&<>\"'\t\n"]
SHEETS = ["Rapport", "Bolagets 'egna'", "Å & Ö"]


def cells_of(grid: dict[tuple[int, int], object]):
    return lambda r, c: grid.get((r, c))


def grid(seed: int) -> dict[tuple[int, int], object]:
    """Categories in column A (texts and values), series values in columns B..D."""
    out: dict[tuple[int, int], object] = {}
    pool = [*TEXTS, *VALUES]
    for r in range(2, 12):
        out[(r, 0)] = pool[(r * 7 + seed) % len(pool)]
        for c in range(1, 4):
            out[(r, c)] = VALUES[(r * 3 + c + seed) % len(VALUES)]
    return out


def every_chart() -> list[Chart]:
    out = []
    for i, (horizontal, n_bars, line, axis_title) in enumerate(
            itertools.product((True, False), (0, 1, 2), (False, True), ("", "mnkr", "a & <b>"))):
        series = [ChartSeries(TEXTS[(i + k) % len(TEXTS)], Area(2, 1 + k, 11, 1 + k)) for k in range(n_bars)]
        if line:
            series.append(ChartSeries("Mål", Area(2, 3, 11, 3), line=True))
        out.append(Chart(TEXTS[i % len(TEXTS)], Area(2, 0, 11 - i % 5, 0), tuple(series),
                         Area(12 + i, i % 3, 20 + i, 4 + i % 3), horizontal=horizontal,
                         number_format=FORMATS[i % len(FORMATS)], axis_title=axis_title))
    out.append(Chart("En cell", Area(2, 0, 2, 0), (ChartSeries("Ett värde", Area(2, 1, 2, 1)),), Area(0, 0, 0, 0)))
    return out


@pytest.mark.parametrize("sheet", SHEETS)
def test_every_chart_is_byte_identical_to_the_lxml_build(sheet):
    for seed, chart in enumerate(every_chart()):
        cells = cells_of(grid(seed))
        text = charts.chart_xml(chart, sheet, cells)
        assert text == lxml_charts.chart_xml(chart, sheet, cells), chart
        etree.fromstring(text)  # well-formed


def test_drawings_and_relationships_are_byte_identical_to_the_lxml_build():
    every = every_chart()
    for n in (0, 1, 2, len(every)):
        rids = [f"rId{i + 1}" for i in range(n)]
        assert charts.drawing_xml(every[:n], rids) == lxml_charts.drawing_xml(every[:n], rids)
        targets = [(rid, charts.REL_CHART, f"../charts/chart{i + 1}.xml") for i, rid in enumerate(rids)]
        assert charts._rels_xml(targets) == lxml_charts._rels_xml(targets)
    odd = [("rId&1", NS_R + '/a"b', "../x y/<z>\t\n\r.xml")]
    assert charts._rels_xml(odd) == lxml_charts._rels_xml(odd)


@pytest.mark.parametrize("bad", ["a\x01b", "\x00", "\x0b", "\x1f", "\ufffe", "x\uffff", "\ud800"])
def test_text_lxml_refuses_is_refused(bad):
    """A control character, U+FFFE, U+FFFF or a lone surrogate fails the part as lxml failed it."""
    cats, values = Area(2, 0, 3, 0), ChartSeries("Värde", Area(2, 1, 3, 1))
    cases = [(Chart(bad, cats, (values,), Area(5, 0, 9, 2)), {}),
             (Chart("T", cats, (values,), Area(5, 0, 9, 2), number_format=bad), {}),
             (Chart("T", cats, (values,), Area(5, 0, 9, 2), axis_title=bad), {}),
             (Chart("T", cats, (ChartSeries(bad, Area(2, 1, 3, 1)),), Area(5, 0, 9, 2)), {}),
             (Chart("T", cats, (values,), Area(5, 0, 9, 2)), {(3, 0): bad})]
    for chart, values_at in cases:
        cells = cells_of(values_at)
        for build in (charts.chart_xml, lxml_charts.chart_xml):
            with pytest.raises(ValueError):
                build(chart, "Rapport", cells)
        for build in (charts.drawing_xml, lxml_charts.drawing_xml):
            if chart.title == bad:
                with pytest.raises(ValueError):
                    build([chart], ["rId1"])
