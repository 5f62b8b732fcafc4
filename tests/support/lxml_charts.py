"""The chart, drawing and relationships parts as the package layer built them with lxml
elements, before it wrote them as text: the reference the text-built parts must equal byte for
byte (see test_charts_text)."""

from __future__ import annotations

from lxml import etree

from xlreport.core.changes import Area, Chart, ChartSeries
from xlreport.ooxml.charts import (
    CAT_AXIS,
    NS_A,
    NS_C,
    NS_XDR,
    SERIES_COLOURS,
    TARGET_COLOUR,
    VAL_AXIS,
)
from xlreport.ooxml.names import NS_PKG_RELS, NS_R
from xlreport.ooxml.package import serialize_xml
from xlreport.ooxml.sheetxml import number_text


def _c(tag: str) -> str:
    return f"{{{NS_C}}}{tag}"


def _a(tag: str) -> str:
    return f"{{{NS_A}}}{tag}"


def _x(tag: str) -> str:
    return f"{{{NS_XDR}}}{tag}"


def _val(parent: etree._Element, tag: str, value) -> etree._Element:
    return etree.SubElement(parent, _c(tag), val=str(value))


# --- the chart part -----------------------------------------------------------------------


def _rich(parent: etree._Element, text: str, size: int, bold: bool) -> None:
    """A ``c:tx/c:rich`` text body holding ``text``."""
    rich = etree.SubElement(etree.SubElement(parent, _c("tx")), _c("rich"))
    etree.SubElement(rich, _a("bodyPr"))
    etree.SubElement(rich, _a("lstStyle"))
    p = etree.SubElement(rich, _a("p"))
    etree.SubElement(etree.SubElement(p, _a("pPr")), _a("defRPr"), sz=str(size), b="1" if bold else "0")
    r = etree.SubElement(p, _a("r"))
    etree.SubElement(r, _a("rPr"), lang="sv-SE", sz=str(size), b="1" if bold else "0")
    etree.SubElement(r, _a("t")).text = text


def _title(parent: etree._Element, text: str, size: int = 1200, bold: bool = True) -> None:
    title = etree.SubElement(parent, _c("title"))
    _rich(title, text, size, bold)
    _val(title, "overlay", 0)


def _text_props(parent: etree._Element, size: int) -> None:
    tx = etree.SubElement(parent, _c("txPr"))
    etree.SubElement(tx, _a("bodyPr"))
    etree.SubElement(tx, _a("lstStyle"))
    p = etree.SubElement(tx, _a("p"))
    etree.SubElement(etree.SubElement(p, _a("pPr")), _a("defRPr"), sz=str(size))
    etree.SubElement(p, _a("endParaRPr"), lang="sv-SE")


def _fill(parent: etree._Element, colour: str, line: bool = False) -> None:
    sp = etree.SubElement(parent, _c("spPr"))
    if line:
        ln = etree.SubElement(sp, _a("ln"), w="28575", cap="rnd")
        etree.SubElement(etree.SubElement(ln, _a("solidFill")), _a("srgbClr"), val=colour)
        etree.SubElement(ln, _a("prstDash"), val="dash")
    else:
        etree.SubElement(etree.SubElement(sp, _a("solidFill")), _a("srgbClr"), val=colour)


def _str_ref(parent: etree._Element, ref: str, texts: list[str]) -> None:
    sref = etree.SubElement(parent, _c("strRef"))
    etree.SubElement(sref, _c("f")).text = ref
    cache = etree.SubElement(sref, _c("strCache"))
    _val(cache, "ptCount", len(texts))
    for i, text in enumerate(texts):
        etree.SubElement(etree.SubElement(cache, _c("pt"), idx=str(i)), _c("v")).text = text


def _num_ref(parent: etree._Element, ref: str, values: list, number_format: str) -> None:
    nref = etree.SubElement(parent, _c("numRef"))
    etree.SubElement(nref, _c("f")).text = ref
    cache = etree.SubElement(nref, _c("numCache"))
    etree.SubElement(cache, _c("formatCode")).text = number_format
    _val(cache, "ptCount", len(values))
    for i, v in enumerate(values):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            etree.SubElement(etree.SubElement(cache, _c("pt"), idx=str(i)), _c("v")).text = number_text(float(v))


def _data_labels(parent: etree._Element, number_format: str, position: str | None) -> None:
    d = etree.SubElement(parent, _c("dLbls"))
    etree.SubElement(d, _c("numFmt"), formatCode=number_format, sourceLinked="0")
    etree.SubElement(d, _c("spPr")).append(etree.Element(_a("noFill")))
    _text_props(d, 800)
    if position:
        _val(d, "dLblPos", position)
    for tag, on in (("showLegendKey", 0), ("showVal", 1), ("showCatName", 0), ("showSerName", 0),
                    ("showPercent", 0), ("showBubbleSize", 0)):
        _val(d, tag, on)


def _series(parent: etree._Element, i: int, s: ChartSeries, chart: Chart, sheet: str, cells) -> None:
    ser = etree.SubElement(parent, _c("ser"))
    _val(ser, "idx", i)
    _val(ser, "order", i)
    _str_ref(etree.SubElement(ser, _c("tx")), _name_ref(chart, s, sheet), [s.name])
    _fill(ser, TARGET_COLOUR if s.line else SERIES_COLOURS[i % len(SERIES_COLOURS)], line=s.line)
    if s.line:
        etree.SubElement(ser, _c("marker")).append(_symbol_none())
    else:
        _val(ser, "invertIfNegative", 0)
        _data_labels(ser, chart.number_format, "outEnd")
    _str_ref(etree.SubElement(ser, _c("cat")), chart.categories.absolute(sheet),
             [str(cells(r, c) if cells(r, c) is not None else "") for r, c in chart.categories.cells()])
    _num_ref(etree.SubElement(ser, _c("val")), s.values.absolute(sheet), [cells(r, c) for r, c in s.values.cells()],
             chart.number_format)
    if s.line:
        _val(ser, "smooth", 0)


def _symbol_none() -> etree._Element:
    el = etree.Element(_c("symbol"), val="none")
    return el


def _name_ref(chart: Chart, s: ChartSeries, sheet: str) -> str:
    """The header cell above a series' values holds its name."""
    return Area(s.values.top - 1, s.values.left, s.values.top - 1, s.values.left).absolute(sheet)


def _axes(plot: etree._Element, chart: Chart) -> None:
    cat = etree.SubElement(plot, _c("catAx"))
    _val(cat, "axId", CAT_AXIS)
    # horizontal bars: the first category at the top, as the table above the chart lists them
    _val(etree.SubElement(cat, _c("scaling")), "orientation", "maxMin" if chart.horizontal else "minMax")
    _val(cat, "delete", 0)
    _val(cat, "axPos", "l" if chart.horizontal else "b")
    etree.SubElement(cat, _c("numFmt"), formatCode="General", sourceLinked="0")
    _val(cat, "majorTickMark", "none")
    _val(cat, "minorTickMark", "none")
    _val(cat, "tickLblPos", "low")
    _text_props(cat, 900)
    _val(cat, "crossAx", VAL_AXIS)
    _val(cat, "crosses", "autoZero")
    _val(cat, "auto", 1)
    _val(cat, "lblAlgn", "ctr")
    _val(cat, "lblOffset", 100)
    _val(cat, "noMultiLvlLbl", 0)
    val = etree.SubElement(plot, _c("valAx"))
    _val(val, "axId", VAL_AXIS)
    _val(etree.SubElement(val, _c("scaling")), "orientation", "minMax")
    _val(val, "delete", 0)
    _val(val, "axPos", "b" if chart.horizontal else "l")
    grid = etree.SubElement(val, _c("majorGridlines"))
    ln = etree.SubElement(etree.SubElement(grid, _c("spPr")), _a("ln"), w="6350")
    etree.SubElement(etree.SubElement(ln, _a("solidFill")), _a("srgbClr"), val="D9D9D9")
    if chart.axis_title:
        _title(val, chart.axis_title, 900, False)
    etree.SubElement(val, _c("numFmt"), formatCode=chart.number_format, sourceLinked="0")
    _val(val, "majorTickMark", "out")
    _val(val, "minorTickMark", "none")
    _val(val, "tickLblPos", "nextTo")
    _text_props(val, 900)
    _val(val, "crossAx", CAT_AXIS)
    _val(val, "crosses", "max" if chart.horizontal else "autoZero")  # the value axis below the last bar
    _val(val, "crossBetween", "between")


def chart_xml(chart: Chart, sheet: str, cells) -> bytes:
    """The chart part of ``chart`` on ``sheet``; ``cells(row, col)`` is a cell's value (its cache)."""
    root = etree.Element(_c("chartSpace"), nsmap={"c": NS_C, "a": NS_A, "r": NS_R})
    _val(root, "date1904", 0)
    _val(root, "lang", "sv-SE")
    _val(root, "roundedCorners", 0)
    ch = etree.SubElement(root, _c("chart"))
    _title(ch, chart.title)
    _val(ch, "autoTitleDeleted", 0)
    plot = etree.SubElement(ch, _c("plotArea"))
    etree.SubElement(plot, _c("layout"))
    bars = [s for s in chart.series if not s.line]
    lines = [s for s in chart.series if s.line]
    bar = etree.SubElement(plot, _c("barChart"))
    _val(bar, "barDir", "bar" if chart.horizontal else "col")
    _val(bar, "grouping", "clustered")
    _val(bar, "varyColors", 0)
    for i, s in enumerate(bars):
        _series(bar, i, s, chart, sheet, cells)
    _val(bar, "gapWidth", 60)
    _val(bar, "axId", CAT_AXIS)
    _val(bar, "axId", VAL_AXIS)
    if lines:
        line = etree.SubElement(plot, _c("lineChart"))
        _val(line, "grouping", "standard")
        _val(line, "varyColors", 0)
        for i, s in enumerate(lines, start=len(bars)):
            _series(line, i, s, chart, sheet, cells)
        _val(line, "marker", 1)
        _val(line, "axId", CAT_AXIS)
        _val(line, "axId", VAL_AXIS)
    _axes(plot, chart)
    if len(chart.series) > 1:
        legend = etree.SubElement(ch, _c("legend"))
        _val(legend, "legendPos", "b")
        _val(legend, "overlay", 0)
        _text_props(legend, 900)
    _val(ch, "plotVisOnly", 1)
    _val(ch, "dispBlanksAs", "gap")
    sp = etree.SubElement(root, _c("spPr"))
    etree.SubElement(etree.SubElement(sp, _a("solidFill")), _a("srgbClr"), val="FFFFFF")
    etree.SubElement(etree.SubElement(sp, _a("ln")), _a("noFill"))
    _text_props(root, 900)
    return serialize_xml(etree.ElementTree(root))


# --- the drawing --------------------------------------------------------------------------


def drawing_xml(charts: list[Chart], rids: list[str]) -> bytes:
    """One ``twoCellAnchor`` per chart, from the top-left of its anchor area to past its bottom-right."""
    root = etree.Element(_x("wsDr"), nsmap={"xdr": NS_XDR, "a": NS_A})
    for i, (chart, rid) in enumerate(zip(charts, rids)):
        anchor = etree.SubElement(root, _x("twoCellAnchor"), editAs="oneCell")
        for tag, row, col in (("from", chart.anchor.top, chart.anchor.left),
                              ("to", chart.anchor.bottom + 1, chart.anchor.right + 1)):
            el = etree.SubElement(anchor, _x(tag))
            for name, value in (("col", col), ("colOff", 0), ("row", row), ("rowOff", 0)):
                etree.SubElement(el, _x(name)).text = str(value)
        frame = etree.SubElement(anchor, _x("graphicFrame"), macro="")
        nv = etree.SubElement(frame, _x("nvGraphicFramePr"))
        etree.SubElement(nv, _x("cNvPr"), id=str(i + 2), name=f"Diagram {i + 1}", descr=chart.title)
        etree.SubElement(nv, _x("cNvGraphicFramePr"))
        xfrm = etree.SubElement(frame, _x("xfrm"))
        etree.SubElement(xfrm, _a("off"), x="0", y="0")
        etree.SubElement(xfrm, _a("ext"), cx="0", cy="0")
        data = etree.SubElement(etree.SubElement(frame, _a("graphic")), _a("graphicData"), uri=NS_C)
        ref = etree.SubElement(data, _c("chart"), nsmap={"c": NS_C, "r": NS_R})
        ref.set(f"{{{NS_R}}}id", rid)
        etree.SubElement(anchor, _x("clientData"))
    return serialize_xml(etree.ElementTree(root))


def _rels_xml(targets: list[tuple[str, str, str]]) -> bytes:
    """A relationships part: (Id, Type, Target) each."""
    root = etree.Element(f"{{{NS_PKG_RELS}}}Relationships", nsmap={None: NS_PKG_RELS})
    for rid, rel_type, target in targets:
        etree.SubElement(root, f"{{{NS_PKG_RELS}}}Relationship", Id=rid, Type=rel_type, Target=target)
    return serialize_xml(etree.ElementTree(root))
