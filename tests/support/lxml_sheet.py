"""An owned sheet's worksheet part as the package layer built it around its text-built
``<sheetData>`` with lxml elements, before it wrote the whole part as text: the reference the
text-built part must equal byte for byte (see test_sheetxml)."""

from __future__ import annotations

from lxml import etree

from xlreport.core.cells import a1
from xlreport.core.changes import SheetContent
from xlreport.ooxml.names import NS_MAIN, NS_R, q
from xlreport.ooxml.package import serialize_xml
from xlreport.ooxml.sheetxml import (
    PAPER_SIZES,
    _display,
    _sheet_data_xml,
    number_text,
    ooxml_text,
    page_margins,
)


def build_owned_sheet(content: SheetContent, style_ids: dict[str, int], drawing_rid: str | None = None) -> bytes:
    """A complete worksheet part for a sheet the tool owns; ``drawing_rid`` is the relationship
    of the drawing that holds its charts (see :mod:`xlreport.ooxml.charts`)."""
    nsmap = {None: NS_MAIN, "r": NS_R}
    root = etree.Element(q("worksheet"), nsmap=nsmap)
    if content.page is not None and content.page.fit_to_width:
        etree.SubElement(etree.SubElement(root, q("sheetPr")), q("pageSetUpPr")).set("fitToPage", "1")
    n_cols = max((len(r) for r in content.rows), default=0)
    dim = etree.SubElement(root, q("dimension"))
    dim.set("ref", f"A1:{a1(max(len(content.rows), 1) - 1, max(n_cols, 1) - 1)}" if content.rows else "A1")
    views = etree.SubElement(etree.SubElement(root, q("sheetViews")), q("sheetView"))
    views.set("workbookViewId", "0")
    etree.SubElement(root, q("sheetFormatPr")).set("defaultRowHeight", "15")
    _add_cols(root, content.col_widths)
    etree.SubElement(root, q("sheetData"))  # a placeholder for the rows, which are built as text
    sheet_data, links = _sheet_data_xml(content, style_ids, n_cols)
    sheet_data = sheet_data.encode("utf-8")
    if content.merges:
        merged = etree.SubElement(root, q("mergeCells"), count=str(len(content.merges)))
        for area in content.merges:
            etree.SubElement(merged, q("mergeCell"), ref=area.a1)
    if links:
        hl = etree.SubElement(root, q("hyperlinks"))
        for ref, cell in links:
            h = etree.SubElement(hl, q("hyperlink"))
            h.set("ref", ref)
            h.set("location", cell.link.lstrip("#"))
            h.set("display", ooxml_text(_display(cell.value)))
    _add_page_setup(root, content)
    if drawing_rid is not None:
        etree.SubElement(root, q("drawing")).set(q("id", NS_R), drawing_rid)
    # Nothing before <sheetData> holds text, so the first "<sheetData/>" is the placeholder.
    before, placeholder, after = serialize_xml(etree.ElementTree(root)).partition(b"<sheetData/>")
    if not placeholder:
        raise RuntimeError("the sheetData placeholder is missing from the serialised worksheet")
    return before + sheet_data + after


def _add_page_setup(root: etree._Element, content: SheetContent) -> None:
    """printOptions, pageMargins, pageSetup, headerFooter and rowBreaks, in schema order."""
    page = content.page
    margins = etree.SubElement(root, q("pageMargins"))
    for k, v in page_margins(page).items():
        margins.set(k, v)
    if page is None:
        return
    setup = etree.SubElement(root, q("pageSetup"), paperSize=PAPER_SIZES[page.paper],
                             orientation="portrait" if page.portrait else "landscape")
    if page.fit_to_width:
        setup.set("fitToWidth", "1")
        setup.set("fitToHeight", "0")
    header, footer = page.codes(page.header), page.codes(page.footer)
    if header or footer:
        hf = etree.SubElement(root, q("headerFooter"))
        if header:
            etree.SubElement(hf, q("oddHeader")).text = ooxml_text(header)
        if footer:
            etree.SubElement(hf, q("oddFooter")).text = ooxml_text(footer)
    if content.row_breaks:
        breaks = etree.SubElement(root, q("rowBreaks"), count=str(len(content.row_breaks)),
                                  manualBreakCount=str(len(content.row_breaks)))
        for r in content.row_breaks:  # a break after row r (1-based) starts the page with 0-based row r
            etree.SubElement(breaks, q("brk"), id=str(r), max="16383", man="1")


def _add_cols(root: etree._Element, widths: dict[int, float]) -> None:
    if not widths:
        return
    cols = etree.SubElement(root, q("cols"))
    for col in sorted(widths):
        el = etree.SubElement(cols, q("col"))
        el.set("min", str(col + 1))
        el.set("max", str(col + 1))
        el.set("width", number_text(float(widths[col])))
        el.set("customWidth", "1")
