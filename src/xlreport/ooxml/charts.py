"""Native Excel charts on a sheet the tool owns: a chart part per chart, one drawing, their links.

A chart (``c:chartSpace`` with a ``c:barChart``, and a ``c:lineChart`` for a target) refers to
the sheet's own cells with ``c:strRef``/``c:numRef`` and carries their values as its cache, so
Excel and LibreOffice draw it at once and redraw it from the cells. The parts hang off the
owned sheet only: its relationships part, one ``xl/drawings/drawingN.xml`` with a
``twoCellAnchor`` per chart, and ``xl/charts/chartN.xml``. Every other part of the package is
left as it was. A run that writes the same charts again writes the same bytes under the same
names, so the package does not change at all.
"""

from __future__ import annotations

import re

from ..core.changes import Area, Chart, ChartSeries, SheetContent
from .edit import PackageEdit
from .names import CONTENT_TYPES, NS_PKG_RELS, NS_R, is_rel
from .package import DECLARATION, local, relative_target, rels_part
from .sheetxml import number_text, xml_attr, xml_text

NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
REL_DRAWING = NS_R + "/drawing"
REL_CHART = NS_R + "/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

# Bars in the report's blue, the earlier period lighter, a target in red.
SERIES_COLOURS = ("2F5597", "9DC3E6", "A5A5A5")
TARGET_COLOUR = "C00000"
CAT_AXIS, VAL_AXIS = "50010", "50020"


# --- XML text -----------------------------------------------------------------------------
# The parts are built as text, byte for byte what lxml writes for the same elements (the tests
# compare the two): building them as elements was most of the cost of a chart. Text and
# attribute values are escaped, and refused, as lxml does (sheetxml.xml_text, sheetxml.xml_attr).


def _val(tag: str, value) -> str:
    """``<c:tag val="value"/>``"""
    return f'<c:{tag} val="{xml_attr(str(value))}"/>'


def _part(body: str) -> bytes:
    """A whole part: the declaration :func:`~xlreport.ooxml.package.serialize_xml` gives a new tree."""
    return DECLARATION + body.encode("utf-8")


# --- the chart part -----------------------------------------------------------------------


def _rich(text: str, size: int, bold: bool) -> str:
    """A ``c:tx/c:rich`` text body holding ``text``."""
    b = "1" if bold else "0"
    return (f'<c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}" b="{b}"/></a:pPr>'
            f'<a:r><a:rPr lang="sv-SE" sz="{size}" b="{b}"/><a:t>{xml_text(text)}</a:t></a:r></a:p></c:rich></c:tx>')


def _title(text: str, size: int = 1200, bold: bool = True) -> str:
    return f'<c:title>{_rich(text, size, bold)}<c:overlay val="0"/></c:title>'


def _text_props(size: int) -> str:
    return (f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}"/></a:pPr>'
            '<a:endParaRPr lang="sv-SE"/></a:p></c:txPr>')


def _fill(colour: str, line: bool = False) -> str:
    fill = f'<a:solidFill><a:srgbClr val="{xml_attr(colour)}"/></a:solidFill>'
    if line:
        return f'<c:spPr><a:ln w="28575" cap="rnd">{fill}<a:prstDash val="dash"/></a:ln></c:spPr>'
    return f"<c:spPr>{fill}</c:spPr>"


def _str_ref(ref: str, texts: list[str]) -> str:
    points = "".join([f'<c:pt idx="{i}"><c:v>{xml_text(text)}</c:v></c:pt>' for i, text in enumerate(texts)])
    return (f'<c:strRef><c:f>{xml_text(ref)}</c:f><c:strCache><c:ptCount val="{len(texts)}"/>{points}'
            "</c:strCache></c:strRef>")


def _num_ref(ref: str, values: list, number_format: str) -> str:
    points = "".join([f'<c:pt idx="{i}"><c:v>{number_text(float(v))}</c:v></c:pt>' for i, v in enumerate(values)
                      if isinstance(v, (int, float)) and not isinstance(v, bool)])
    return (f"<c:numRef><c:f>{xml_text(ref)}</c:f><c:numCache><c:formatCode>{xml_text(number_format)}</c:formatCode>"
            f'<c:ptCount val="{len(values)}"/>{points}</c:numCache></c:numRef>')


def _data_labels(number_format: str, position: str | None) -> str:
    return (f'<c:dLbls><c:numFmt formatCode="{xml_attr(number_format)}" sourceLinked="0"/><c:spPr><a:noFill/></c:spPr>'
            + _text_props(800) + (_val("dLblPos", position) if position else "")
            + '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/><c:showSerName val="0"/>'
            '<c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>')


def _series(i: int, s: ChartSeries, chart: Chart, sheet: str, cells) -> str:
    name = _str_ref(_name_ref(chart, s, sheet), [s.name])
    out = [f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/><c:tx>{name}</c:tx>',
           _fill(TARGET_COLOUR if s.line else SERIES_COLOURS[i % len(SERIES_COLOURS)], line=s.line)]
    if s.line:
        out.append('<c:marker><c:symbol val="none"/></c:marker>')
    else:
        out.append('<c:invertIfNegative val="0"/>' + _data_labels(chart.number_format, "outEnd"))
    categories = [str(cells(r, c) if cells(r, c) is not None else "") for r, c in chart.categories.cells()]
    out.append(f"<c:cat>{_str_ref(chart.categories.absolute(sheet), categories)}</c:cat>")
    values = [cells(r, c) for r, c in s.values.cells()]
    out.append(f"<c:val>{_num_ref(s.values.absolute(sheet), values, chart.number_format)}</c:val>")
    if s.line:
        out.append('<c:smooth val="0"/>')
    out.append("</c:ser>")
    return "".join(out)


def _name_ref(chart: Chart, s: ChartSeries, sheet: str) -> str:
    """The header cell above a series' values holds its name."""
    return Area(s.values.top - 1, s.values.left, s.values.top - 1, s.values.left).absolute(sheet)


def _axes(chart: Chart) -> str:
    horizontal = chart.horizontal
    # horizontal bars: the first category at the top, as the table above the chart lists them
    cat = (f'<c:catAx>{_val("axId", CAT_AXIS)}<c:scaling>{_val("orientation", "maxMin" if horizontal else "minMax")}'
           f'</c:scaling><c:delete val="0"/>{_val("axPos", "l" if horizontal else "b")}'
           '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
           '<c:minorTickMark val="none"/><c:tickLblPos val="low"/>' + _text_props(900)
           + f'{_val("crossAx", VAL_AXIS)}<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
           '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>')
    val = (f'<c:valAx>{_val("axId", VAL_AXIS)}<c:scaling><c:orientation val="minMax"/></c:scaling>'
           f'<c:delete val="0"/>{_val("axPos", "b" if horizontal else "l")}<c:majorGridlines><c:spPr>'
           '<a:ln w="6350"><a:solidFill><a:srgbClr val="D9D9D9"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>'
           + (_title(chart.axis_title, 900, False) if chart.axis_title else "")
           + f'<c:numFmt formatCode="{xml_attr(chart.number_format)}" sourceLinked="0"/><c:majorTickMark val="out"/>'
           '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>' + _text_props(900)
           # the value axis below the last bar
           + f'{_val("crossAx", CAT_AXIS)}{_val("crosses", "max" if horizontal else "autoZero")}'
           '<c:crossBetween val="between"/></c:valAx>')
    return cat + val


def chart_xml(chart: Chart, sheet: str, cells) -> bytes:
    """The chart part of ``chart`` on ``sheet``; ``cells(row, col)`` is a cell's value (its cache)."""
    bars = [s for s in chart.series if not s.line]
    lines = [s for s in chart.series if s.line]
    head = (f'<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_R}"><c:date1904 val="0"/>'
            f'<c:lang val="sv-SE"/><c:roundedCorners val="0"/><c:chart>{_title(chart.title)}'
            '<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/><c:barChart>'
            f'{_val("barDir", "bar" if chart.horizontal else "col")}<c:grouping val="clustered"/>'
            '<c:varyColors val="0"/>')
    out = [head]
    out += [_series(i, s, chart, sheet, cells) for i, s in enumerate(bars)]
    out.append(f'<c:gapWidth val="60"/>{_val("axId", CAT_AXIS)}{_val("axId", VAL_AXIS)}</c:barChart>')
    if lines:
        out.append('<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>')
        out += [_series(i, s, chart, sheet, cells) for i, s in enumerate(lines, start=len(bars))]
        out.append(f'<c:marker val="1"/>{_val("axId", CAT_AXIS)}{_val("axId", VAL_AXIS)}</c:lineChart>')
    out.append(_axes(chart) + "</c:plotArea>")
    if len(chart.series) > 1:
        out.append('<c:legend><c:legendPos val="b"/><c:overlay val="0"/>' + _text_props(900) + "</c:legend>")
    out.append('<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart><c:spPr><a:solidFill>'
               '<a:srgbClr val="FFFFFF"/></a:solidFill><a:ln><a:noFill/></a:ln></c:spPr>' + _text_props(900)
               + "</c:chartSpace>")
    return _part("".join(out))


# --- the drawing --------------------------------------------------------------------------


def drawing_xml(charts: list[Chart], rids: list[str]) -> bytes:
    """One ``twoCellAnchor`` per chart, from the top-left of its anchor area to past its bottom-right."""
    anchors = []
    for i, (chart, rid) in enumerate(zip(charts, rids)):
        corners = "".join(
            f"<xdr:{tag}><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}</xdr:row>"
            f"<xdr:rowOff>0</xdr:rowOff></xdr:{tag}>"
            for tag, row, col in (("from", chart.anchor.top, chart.anchor.left),
                                  ("to", chart.anchor.bottom + 1, chart.anchor.right + 1)))
        anchors.append(
            f'<xdr:twoCellAnchor editAs="oneCell">{corners}<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
            f'<xdr:cNvPr id="{i + 2}" name="Diagram {i + 1}" descr="{xml_attr(chart.title)}"/><xdr:cNvGraphicFramePr/>'
            '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
            f'<a:graphicData uri="{NS_C}"><c:chart xmlns:c="{NS_C}" xmlns:r="{NS_R}" r:id="{xml_attr(rid)}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>")
    head = f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}"'
    return _part(f"{head}>{''.join(anchors)}</xdr:wsDr>" if anchors else head + "/>")


def _rels_xml(targets: list[tuple[str, str, str]]) -> bytes:
    """A relationships part: (Id, Type, Target) each."""
    rels = "".join(f'<Relationship Id="{xml_attr(rid)}" Type="{xml_attr(rel_type)}" Target="{xml_attr(target)}"/>'
                   for rid, rel_type, target in targets)
    head = f'<Relationships xmlns="{NS_PKG_RELS}"'
    return _part(f"{head}>{rels}</Relationships>" if rels else head + "/>")


# --- the package --------------------------------------------------------------------------


def _number(part: str) -> int:
    m = re.search(r"(\d+)\.xml$", part)
    return int(m.group(1)) if m else 0


def _ensure_overrides(edit: PackageEdit, overrides: list[tuple[str, str]]) -> None:
    """Add the (part, content type) overrides [Content_Types].xml does not have yet."""
    root = edit.tree(CONTENT_TYPES).getroot()
    have = {o.get("PartName", "").casefold() for o in root if local(o) == "Override"}
    edit.add_overrides([(part, content_type) for part, content_type in overrides
                        if ("/" + part).casefold() not in have])


def _drop(edit: PackageEdit, part: str) -> None:
    """Remove ``part``, its relationships part and its content type."""
    edit.remove_part(part)
    if edit.has(rels_part(part)):
        edit.remove_part(rels_part(part))
    root = edit.tree(CONTENT_TYPES).getroot()
    if any(o.get("PartName", "").casefold() == ("/" + part).casefold() for o in root):
        edit.remove_override(part)


def _old_drawing(edit: PackageEdit, sheet_part: str) -> tuple[str | None, str | None, list[str]]:
    """The drawing the owned sheet had (relationship id, part) and the chart parts it held."""
    if not edit.has(sheet_part) or not edit.has(rels_part(sheet_part)):
        return None, None, []
    rel = next((r for r in edit.relationships(sheet_part)
                if is_rel(r.get("Type"), REL_DRAWING) and r.get("part") and edit.has(r["part"])), None)
    if rel is None:
        return None, None, []
    drawing = rel["part"]
    charts = [r["part"] for r in edit.relationships(drawing) if is_rel(r.get("Type"), REL_CHART) and r.get("part")
              and edit.has(r["part"])] if edit.has(rels_part(drawing)) else []
    return rel["Id"], drawing, sorted(set(charts), key=_number)


def put_charts(edit: PackageEdit, sheet_part: str, content: SheetContent) -> str | None:
    """Give the owned sheet ``sheet_part`` exactly the charts of ``content``; returns the id of
    the sheet's relationship to their drawing (None: no charts).

    The parts of the sheet's previous charts are reused under their names (the same charts
    give the same bytes: nothing changes) and the ones no longer needed are removed.
    """
    rid, drawing, old_charts = _old_drawing(edit, sheet_part)
    if not content.charts:
        if drawing is not None:
            for part in old_charts:
                _drop(edit, part)
            _drop(edit, drawing)
            edit.remove_relationship(sheet_part, rid)
            if not len(edit.rels(sheet_part)):
                edit.remove_part(rels_part(sheet_part))
        return None
    if drawing is None:
        drawing = edit.free_name("xl/drawings/drawing{n}.xml")
    parts = old_charts[:len(content.charts)]
    for part in old_charts[len(content.charts):]:
        _drop(edit, part)
    while len(parts) < len(content.charts):
        part = edit.free_name("xl/charts/chart{n}.xml")
        edit.put(part, b"")  # reserve the name
        parts.append(part)
    rows = content.rows

    def cell_value(r: int, c: int):
        cell = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
        return None if cell is None else cell.value

    for chart, part in zip(content.charts, parts):
        edit.put(part, chart_xml(chart, content.name, cell_value))
    rids = [f"rId{i + 1}" for i in range(len(parts))]
    edit.put(drawing, drawing_xml(content.charts, rids))
    edit.put(rels_part(drawing), _rels_xml([(rid_, REL_CHART, relative_target(drawing, part))
                                           for rid_, part in zip(rids, parts)]))
    _ensure_overrides(edit, [*((part, CT_CHART) for part in parts), (drawing, CT_DRAWING)])
    if rid is None:
        rid = edit.add_relationship(sheet_part, REL_DRAWING, drawing)
    return rid
