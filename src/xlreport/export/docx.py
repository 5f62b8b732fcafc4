"""The report as a Word document (python-docx), laid out like the published interim report.

Title and the details of the report, then each section of the :class:`ReportDocument`: its
paragraphs, its lists as bullets, its tables as real Word tables (numbers right-aligned with a
decimal comma and a minus sign, totals bold, a header row repeated on every page) and its
charts as images. With ``template`` (the municipality's own .docx or .dotx) the document
starts from that file: its styles, header, footer, page size and first page are kept and the
report follows what the template's body already holds.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..core.generate import (
    PAGE_COUNT,
    PAGE_NUMBER,
    ChartFigure,
    Items,
    Paragraph,
    ReportDocument,
    ReportTable,
)
from . import ExportError

CT_DOTX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
CT_DOCX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
TABLE_FONT_PT = 9
LABEL_SHARE = 0.34  # of the text width for a table's label column


def _open_template(template: str | Path | None):
    """A python-docx Document: python-docx's own blank one, or a copy of ``template``."""
    from docx import Document

    if template is None:
        doc = Document()
        _a4(doc)
        return doc, False
    path = Path(template)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"Word-mallen kan inte läsas ({exc.strerror or exc})", file=path) from None
    try:
        data = _as_document(data)
        return Document(io.BytesIO(data)), True
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExportError("Word-mallen är inget Word-dokument (.docx eller .dotx); spara den i Word som "
                          "Word-dokument och försök igen", file=path) from exc


def _as_document(data: bytes) -> bytes:
    """A .dotx template's package as a .docx (only its main content type differs)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        types = zin.read("[Content_Types].xml")
        if CT_DOTX not in types:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                body = zin.read(info)
                zout.writestr(info, body.replace(CT_DOTX, CT_DOCX) if info.filename == "[Content_Types].xml" else body)
        return out.getvalue()


BODY_FONT = "Calibri"  # as the workbook; LibreOffice draws it with Carlito, which has the same metrics


def _a4(doc) -> None:
    """python-docx's blank document set up as a Swedish report: A4, margins, Calibri."""
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Cm

    for section in doc.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
        section.header_distance = section.footer_distance = Cm(1.0)
    width = _text_width(doc)
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Caption", "Header", "Footer"):
        style = _style(doc, name, None)
        if style is None:
            continue
        style.font.name = BODY_FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        if name in ("Header", "Footer"):  # left, centre and right of the text width
            stops = style.paragraph_format.tab_stops
            stops.clear_all()
            stops.add_tab_stop(width // 2, WD_TAB_ALIGNMENT.CENTER)
            stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)


def _style(doc, name: str, fallback: str | None = "Normal"):
    """The document's style ``name``, or ``fallback`` when a template does not have it."""
    try:
        return doc.styles[name]
    except KeyError:
        return doc.styles[fallback] if fallback else None


def _text_width(doc):
    section = doc.sections[-1]
    return section.page_width - section.left_margin - section.right_margin


# --- fields, borders ----------------------------------------------------------------------

def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) at the end of ``paragraph``, with a placeholder result."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instruction)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    run._r.addnext(fld)


def _text_with_fields(paragraph, text: str) -> None:
    """``text`` with the page fields of a page layout (PAGE_NUMBER, PAGE_COUNT) as Word fields."""
    rest = text
    while rest:
        at = [(rest.find(code), code) for code in (PAGE_NUMBER, PAGE_COUNT) if code in rest]
        if not at:
            paragraph.add_run(rest)
            break
        i, code = min(at)
        if i:
            paragraph.add_run(rest[:i])
        _field(paragraph, "PAGE" if code == PAGE_NUMBER else "NUMPAGES")
        rest = rest[i + len(code):]


def _border(cell, side: str, size: int = 6) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:color"), "595959")
    borders.append(el)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        tr_pr.append(OxmlElement(tag))


def _keep_rows_together(table) -> None:
    """Every paragraph but the last row's keeps with the next: Word moves a short table whole."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


# --- the parts of the document ------------------------------------------------------------

def _header_footer(doc, report: ReportDocument) -> None:
    section = doc.sections[0]
    for part, texts in ((section.header, report.header), (section.footer, report.footer)):
        p = part.paragraphs[0] if part.paragraphs else part.add_paragraph()
        _text_with_fields(p, "\t".join(texts))
        for run in p.runs:
            run.font.size = _pt(8)


def _pt(n: float):
    from docx.shared import Pt

    return Pt(n)


def _title_block(doc, report: ReportDocument) -> None:
    from docx.shared import RGBColor

    doc.add_paragraph(report.title, style=_style(doc, "Title"))
    doc.add_paragraph(report.subtitle, style=_style(doc, "Subtitle"))
    table = doc.add_table(rows=0, cols=2)
    for label, value in report.details:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
        cells[0].paragraphs[0].runs[0].bold = True
    _widths(doc, table, [0.25, 0.75])
    if report.notice:
        run = doc.add_paragraph().add_run(report.notice)
        run.bold = True
        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)


def _widths(doc, table, shares: list[float]) -> None:
    """Column widths as shares of the text width: the table grid (LibreOffice) and every cell (Word)."""
    width = _text_width(doc)
    table.autofit = False
    for column, share in zip(table.columns, shares):
        column.width = int(width * share)
    for row in table.rows:
        for cell, share in zip(row.cells, shares):
            cell.width = int(width * share)


def _paragraph(doc, block: Paragraph) -> None:
    doc.add_paragraph(block.text)


def _items(doc, block: Items) -> None:
    doc.add_paragraph(block.lead).paragraph_format.keep_with_next = True
    bullet = _style(doc, "List Bullet", None)
    for item in block.items:
        if bullet is not None:
            doc.add_paragraph(item, style=bullet)
        else:
            doc.add_paragraph(f"– {item}")


def _cell_text(cell, text: str, *, bold: bool = False, right: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = cell.paragraphs[0]
    p.paragraph_format.space_after = _pt(0)
    p.paragraph_format.space_before = _pt(0)
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if text:
        run = p.add_run(text)
        run.bold = bold
        run.font.size = _pt(TABLE_FONT_PT)


def _table(doc, t: ReportTable) -> None:
    n = len(t.columns) + 1
    table = doc.add_table(rows=0, cols=n)
    grid = _style(doc, "Table Grid", None)
    if grid is not None:
        table.style = grid
    if t.groups:
        cells = table.add_row().cells
        col = 1
        for title, span in t.groups:
            merged = cells[col].merge(cells[col + span - 1]) if span > 1 else cells[col]
            _cell_text(merged, title, bold=True)
            col += span
        _repeat_header(table.rows[-1])
    cells = table.add_row().cells
    _repeat_header(table.rows[-1])
    for i, title in enumerate((t.head, *t.columns)):
        _cell_text(cells[i], title, bold=True, right=i > 0)
        _border(cells[i], "bottom", 8)
    for row in t.rows:
        cells = table.add_row().cells
        _cell_text(cells[0], row.label, bold=row.total)
        for i, v in enumerate(row.values, start=1):
            _cell_text(cells[i], t.text(v), bold=row.total, right=True)
        if row.total:
            for cell in cells:
                _border(cell, "top", 6)
    label = 0.27 if n >= 7 else LABEL_SHARE if n > 3 else 0.6  # wide tables: room for the value columns
    # each value column in proportion to its longest word or figure, so no header breaks mid-word
    need = [max(5, *(len(w) for w in title.split()), *(len(t.text(r.values[i])) for r in t.rows))
            for i, title in enumerate(t.columns)]
    _widths(doc, table, [label] + [(1 - label) * k / sum(need) for k in need])
    _keep_rows_together(table)
    doc.add_paragraph()


def _chart(doc, fig: ChartFigure) -> None:
    from docx.shared import Cm

    from .charts import WIDTH_CM, chart_png

    caption = doc.add_paragraph(style=_style(doc, "Caption"))
    caption.add_run(fig.title).bold = True
    caption.paragraph_format.keep_with_next = True
    doc.add_picture(io.BytesIO(chart_png(fig)), width=Cm(min(WIDTH_CM, _text_width(doc) / 360000)))
    shape = doc.inline_shapes[-1]
    shape._inline.docPr.set("descr", fig.title)  # the chart's alternative text
    shape._inline.docPr.set("title", fig.title)


RENDER = {Paragraph: _paragraph, Items: _items, ReportTable: _table, ChartFigure: _chart}


def build_docx(report: ReportDocument, template: str | Path | None = None):
    """The python-docx Document of ``report`` (not saved)."""
    doc, from_template = _open_template(template)
    if not from_template:
        _header_footer(doc, report)
    _title_block(doc, report)
    for section in report.sections:
        heading = doc.add_paragraph(section.heading, style=_style(doc, f"Heading {section.level}"))
        heading.paragraph_format.keep_with_next = True
        for block in section.blocks:
            RENDER[type(block)](doc, block)
    doc.core_properties.title = report.title
    doc.core_properties.author = "xlreport"
    doc.core_properties.language = "sv-SE"
    return doc


def write_docx(report: ReportDocument, target: str | Path, template: str | Path | None = None) -> Path:
    """Write ``report`` to ``target`` (.docx) atomically; returns the path."""
    from ..ooxml.atomic import atomic_output, refuse_unwritable

    target = Path(target)
    if target.suffix.lower() != ".docx":
        raise ExportError("Word-filen ska ha filändelsen .docx", file=target)
    doc = build_docx(report, template)
    refuse_unwritable(target)
    with atomic_output(target) as tmp:
        doc.save(str(tmp))
    return target
