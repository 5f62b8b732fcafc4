"""Worksheet XML: set single cells in a user's sheet, and build a whole sheet the tool owns.

:func:`apply_cell_writes` edits ``<sheetData>`` in place and leaves everything else in the
worksheet (extLst with sparklines and x14 conditional formats, mc:AlternateContent, data
validations, namespaces, the XML declaration) exactly as it was.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable

from lxml import etree

from ..core.cells import a1, col_letter, parse_a1
from ..core.changes import Cell, CellWrite, PageLayout, SheetContent, Value
from .names import NS_MAIN, NS_R, q
from .package import local, parse_xml, serialize_xml

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# XML-illegal characters and their _xHHHH_ escapes (a str.translate table: the same class as a
# regular expression costs about 0.8 ms to compile, because of U+FFFE and U+FFFF)
_ILLEGAL = {code: f"_x{code:04X}_" for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)}
_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_CELL_ORDER = ("f", "v", "is", "extLst")
_V, _IS, _T = q("v"), q("is"), q("t")  # the tags of every cell, named once


# --- text and numbers ---------------------------------------------------------------------


def ooxml_text(text: str) -> str:
    """Escape text for an OOXML string: literal ``_xHHHH_`` and XML-illegal characters."""
    text = _ESCAPE_LIKE.sub(lambda m: "_x005F" + m.group(0), text)
    return text.translate(_ILLEGAL)


def number_text(value: float) -> str:
    """A number as stored in ``<v>``: ints plainly, floats with round-trip repr."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _needs_preserve(text: str) -> bool:
    return text != text.strip() or "\n" in text or "\t" in text or "  " in text


def _text_element(parent: etree._Element, text: str) -> etree._Element:
    t = etree.SubElement(parent, _T)
    t.text = ooxml_text(text)
    if _needs_preserve(text):
        t.set(XML_SPACE, "preserve")
    return t


def _text_xml(text: str) -> str:
    """:func:`_text_element` as serialised text: ``<t>`` of ``text`` in an inline string."""
    escaped = _escape_text(ooxml_text(text))
    return f'<t xml:space="preserve">{escaped}</t>' if _needs_preserve(text) else f"<t>{escaped}</t>"


def _escape_text(text: str) -> str:
    """Element text escaped exactly as lxml (libxml2) serialises it to UTF-8: ``&``, ``<``,
    ``>`` and the carriage return (which a parser would otherwise read as a newline) become
    references; everything else, tabs, newlines, quotes, Swedish letters and characters
    outside the BMP included, stays literal. ``text`` must hold only XML characters (as
    :func:`ooxml_text` leaves it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


# --- cell content -------------------------------------------------------------------------


def _clear_cell(c: etree._Element) -> None:
    for child in list(c):
        if local(child) in ("f", "v", "is"):
            c.remove(child)
    for attr in ("t", "cm", "vm"):
        c.attrib.pop(attr, None)


def _insert_child(c: etree._Element, child: etree._Element) -> None:
    """Insert a child of ``<c>`` in schema order (f, v, is, extLst)."""
    if not len(c):  # a new or cleared cell: no order to keep
        c.append(child)
        return
    rank = _CELL_ORDER.index(local(child))
    for i, existing in enumerate(c):
        if local(existing) in _CELL_ORDER and _CELL_ORDER.index(local(existing)) > rank:
            c.insert(i, child)
            return
    c.append(child)


def _value_form(value: Value, *, cached: bool) -> tuple[str | None, str, str] | None:
    """How a cell holds ``value`` (None: it holds nothing): its ``t`` attribute (None for a
    number), the child element ("v", or "is" for an inline string) and that child's text, for
    "v" as written, for "is" the string before :func:`ooxml_text`. A cached formula result
    when ``cached``, else a constant. Both the element writer (:func:`_set_value`) and the text
    writer of owned cells (:func:`_owned_cell_xml`) take their decisions from here."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b", "v", "1" if value else "0"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "e", "v", "#NUM!"
        return None, "v", number_text(value)
    if isinstance(value, str):
        return ("str", "v", ooxml_text(value)) if cached else ("inlineStr", "is", value)
    raise TypeError(f"unsupported cell value {value!r}")


def _set_value(c: etree._Element, value: Value, *, cached: bool) -> None:
    """Put ``value`` in ``c``: as a cached formula result when ``cached``, else as a constant."""
    form = _value_form(value, cached=cached)
    if form is None:
        return
    t, child, text = form
    if t is not None:
        c.set("t", t)
    if child == "is":
        is_ = etree.Element(_IS)
        _text_element(is_, text)
        _insert_child(c, is_)
    else:
        v = etree.Element(_V)
        v.text = text
        _insert_child(c, v)


def _write_cell(c: etree._Element, write: CellWrite) -> None:
    _clear_cell(c)
    if write.formula is not None:
        f = etree.Element(q("f"))
        f.text = write.formula.removeprefix("=")
        _insert_child(c, f)
        _set_value(c, write.value, cached=True)
    else:
        _set_value(c, write.value, cached=False)


# --- locating rows and cells --------------------------------------------------------------


def _normalise_refs(sheet_data: etree._Element) -> None:
    """Give every row and cell an explicit ``r`` (the schema allows omitting them)."""
    row_no = 0
    for row in sheet_data.iterchildren(q("row")):
        row_no = int(row.get("r")) if row.get("r") else row_no + 1
        row.set("r", str(row_no))
        col = -1
        for c in row.iterchildren(q("c")):
            col = parse_a1(c.get("r"))[1] if c.get("r") else col + 1
            if not c.get("r"):
                c.set("r", f"{col_letter(col)}{row_no}")


class _Children:
    """The children of ``parent`` with one tag, indexed once by their position key.

    Finding or inserting a row (or a cell) is then a dictionary look-up and a binary search,
    not a walk over every sibling: writing a deviation into each of N unit rows is linear in N.
    """

    def __init__(self, parent: etree._Element, tag: str, key_of: Callable[[etree._Element], int]):
        self.parent = parent
        self.by_key = {key_of(child): child for child in parent.iterchildren(tag)}
        self.keys = sorted(self.by_key)

    def get(self, key: int, make: Callable[[], etree._Element]) -> etree._Element:
        el = self.by_key.get(key)
        if el is not None:
            return el
        el = make()
        i = bisect.bisect_left(self.keys, key)
        if i < len(self.keys):
            self.by_key[self.keys[i]].addprevious(el)
        elif self.keys:
            self.by_key[self.keys[-1]].addnext(el)
        else:
            self.parent.insert(0, el)
        self.keys.insert(i, key)
        self.by_key[key] = el
        return el


class _SheetIndex:
    """Rows of a ``sheetData`` and, when first asked for, the cells of a row."""

    def __init__(self, sheet_data: etree._Element):
        self.rows = _Children(sheet_data, q("row"), lambda el: int(el.get("r")))
        self.cells: dict[int, _Children] = {}

    def cell(self, row: int, col: int) -> etree._Element:
        def make_row():
            el = etree.Element(q("row"))
            el.set("r", str(row + 1))
            return el

        def make_cell():
            el = etree.Element(q("c"))
            el.set("r", a1(row, col))
            return el

        row_el = self.rows.get(row + 1, make_row)
        if row not in self.cells:
            self.cells[row] = _Children(row_el, q("c"), lambda el: parse_a1(el.get("r"))[1])
        c = self.cells[row].get(col, make_cell)
        _widen_spans(row_el, col)
        return c


def _widen_spans(row_el: etree._Element, col: int) -> None:
    spans = row_el.get("spans")
    if not spans or " " in spans or ":" not in spans:
        return
    lo, hi = (int(x) for x in spans.split(":"))
    row_el.set("spans", f"{min(lo, col + 1)}:{max(hi, col + 1)}")


def _expand_dimension(root: etree._Element, cells: Iterable[tuple[int, int]]) -> None:
    dim = root.find(q("dimension"))
    cells = list(cells)
    if dim is None or not cells:
        return
    ref = dim.get("ref", "A1")
    parts = ref.split(":")
    try:
        (r1, c1), (r2, c2) = parse_a1(parts[0]), parse_a1(parts[-1])
    except ValueError:
        return
    if ref == "A1" and len(parts) == 1:  # "A1" is also what an empty sheet says
        r1 = r2 = c1 = c2 = None
    rows = [r for r, _ in cells] + ([r1, r2] if r1 is not None else [])
    cols = [c for _, c in cells] + ([c1, c2] if c1 is not None else [])
    new = f"{a1(min(rows), min(cols))}:{a1(max(rows), max(cols))}"
    if new != ref:
        dim.set("ref", new)


# --- shared formulas ----------------------------------------------------------------------


def _shared_groups(sheet_data: etree._Element) -> dict[str, list[etree._Element]]:
    """si -> the ``<c>`` elements of that shared formula, in document (row-major) order."""
    groups: dict[str, list[etree._Element]] = {}
    for f in sheet_data.iter(q("f")):
        if f.get("t") == "shared" and f.get("si") is not None:
            groups.setdefault(f.get("si"), []).append(f.getparent())
    return groups


def _bounding_ref(cells: list[etree._Element]) -> str:
    pos = [parse_a1(c.get("r")) for c in cells]
    top, left = min(r for r, _ in pos), min(c for _, c in pos)
    bottom, right = max(r for r, _ in pos), max(c for _, c in pos)
    first, last = a1(top, left), a1(bottom, right)
    return first if first == last else f"{first}:{last}"


def _relocate_shared_masters(sheet_data: etree._Element, targets: set[str]) -> None:
    """Move a shared formula's master away from a cell about to be overwritten.

    The first dependent that is not itself overwritten becomes the master, with the formula
    translated to its position and ``ref`` narrowed to the remaining cells. That is only valid
    when the new master is the top-left cell of the remaining range (a column or a row of
    cells, as Excel's fill makes them); for any other shape (a 2-D block whose top-left cell
    was written) every remaining cell gets its own formula instead.
    """
    for cells in _shared_groups(sheet_data).values():
        master = next((c for c in cells if c.find(q("f")).get("ref") is not None), None)
        if master is None or master.get("r") not in targets:
            continue
        remaining = [c for c in cells if c is not master and c.get("r") not in targets]
        if not remaining:
            continue
        old_f = master.find(q("f"))
        new_master = remaining[0]
        ref = _bounding_ref(remaining)
        if ref.split(":")[0] != new_master.get("r"):
            for c in remaining:
                f = c.find(q("f"))
                text = _translated(old_f.text, master.get("r"), c.get("r"))
                f.attrib.clear()
                f.attrib.update({k: v for k, v in old_f.attrib.items() if k not in ("t", "ref", "si")})
                f.text = text
            continue
        new_f = new_master.find(q("f"))
        new_f.text = _translated(old_f.text, master.get("r"), new_master.get("r"))
        for attr, val in old_f.attrib.items():
            if attr not in ("ref",):
                new_f.set(attr, val)
        new_f.set("ref", ref)


def _translated(formula: str | None, origin: str, to: str) -> str:
    """``formula`` as written in cell ``origin``, moved to cell ``to`` (relative refs shift)."""
    # openpyxl is imported only here: it pulls in numpy and would triple the start-up time
    from openpyxl.formula.translate import Translator

    return Translator("=" + (formula or ""), origin=origin).translate_formula(to)[1:]


# --- public -------------------------------------------------------------------------------


def apply_cell_writes(sheet_xml: bytes, writes: list[CellWrite]) -> bytes:
    """Set the cells of ``writes`` in a worksheet part; keep every cell's style and all else."""
    if not writes:
        return sheet_xml
    tree = parse_xml(sheet_xml, part="worksheet")
    root = tree.getroot()
    sheet_data = root.find(q("sheetData"))
    if sheet_data is None:
        raise ValueError("worksheet has no sheetData")
    _normalise_refs(sheet_data)
    _relocate_shared_masters(sheet_data, {w.a1 for w in writes})
    index = _SheetIndex(sheet_data)
    for w in writes:
        _write_cell(index.cell(w.row, w.col), w)
    _drop_empty_cells(sheet_data, {w.a1 for w in writes if w.value is None and w.formula is None})
    _expand_dimension(root, [(w.row, w.col) for w in writes])
    return serialize_xml(tree, sheet_xml)


def _drop_empty_cells(sheet_data: etree._Element, refs: set[str]) -> None:
    """Remove cleared cells that carry nothing else (no style); the row stays."""
    if not refs:
        return
    for row in sheet_data.iterchildren(q("row")):
        for c in list(row.iterchildren(q("c"))):
            if c.get("r") in refs and not c.get("s") and len(c) == 0:
                row.remove(c)


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


def _sheet_data_xml(content: SheetContent, style_ids: dict[str, int],
                    n_cols: int) -> tuple[bytes, list[tuple[str, Cell]]]:
    """The ``<sheetData>`` of an owned sheet as UTF-8 XML, and its linked cells as (ref, cell).

    Built as text rather than as lxml elements (creating them was most of the cost of an owned
    sheet), byte for byte what lxml writes for the same elements: the tests compare the two.
    Row and cell attributes are references, numbers and fixed names, with nothing to escape.
    """
    parts: list[str] = []
    links: list[tuple[str, Cell]] = []
    letters = [col_letter(c) for c in range(n_cols)]
    for r, line in enumerate(content.rows):
        cells = [(c, cell) for c, cell in enumerate(line) if cell is not None]
        height = content.row_heights.get(r)
        if not cells and height is None:
            continue
        row_no = str(r + 1)
        row = f'<row r="{row_no}"'
        if height is not None:
            row += f' ht="{number_text(float(height))}" customHeight="1"'
        if not cells:
            parts.append(row + "/>")
            continue
        parts.append(row + ">")
        for c, cell in cells:
            ref = letters[c] + row_no  # a1(r, c)
            parts.append(_owned_cell_xml(ref, cell, style_ids))
            if cell.link:
                links.append((ref, cell))
        parts.append("</row>")
    if not parts:
        return b"<sheetData/>", links
    return ("<sheetData>" + "".join(parts) + "</sheetData>").encode("utf-8"), links


# --- print layout -------------------------------------------------------------------------

CM_PER_INCH = 2.54
PAPER_SIZES = {"A4": "9"}  # ECMA-376 paperSize codes


def inches(cm: float) -> str:
    return number_text(round(cm / CM_PER_INCH, 4))


def page_margins(page: PageLayout | None) -> dict[str, str]:
    """The ``pageMargins`` attributes (inches) of a page layout; Excel's defaults without one."""
    if page is None:
        return {"left": "0.7", "right": "0.7", "top": "0.75", "bottom": "0.75", "header": "0.3", "footer": "0.3"}
    left, right, top, bottom = page.margins_cm
    return {"left": inches(left), "right": inches(right), "top": inches(top), "bottom": inches(bottom),
            "header": inches(page.header_cm), "footer": inches(page.header_cm)}


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


def _display(value: Value) -> str:
    return "" if value is None else (number_text(value) if isinstance(value, (int, float)) and
                                     not isinstance(value, bool) else str(value))


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


def _owned_cell_xml(ref: str, cell: Cell, style_ids: dict[str, int]) -> str:
    """The ``<c>`` of an owned cell as XML text; its value as :func:`_set_value` would put it."""
    style = style_ids.get(cell.style, 0)
    head = f'<c r="{ref}" s="{style}"' if style else f'<c r="{ref}"'
    form = _value_form(cell.value, cached=False)
    if form is None:
        return head + "/>"
    t, child, text = form
    if t is not None:
        head += f' t="{t}"'
    if child == "is":
        return f"{head}><is>{_text_xml(text)}</is></c>"
    return f"{head}><v>{_escape_text(text)}</v></c>"


PRINT_TITLES = "_xlnm.Print_Titles"
# workbook.xml children that come after <definedNames> in schema order
_AFTER_DEFINED_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                        "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def set_print_titles(workbook: etree._Element, sheet_index: int, sheet_name: str,
                     rows: tuple[int, int] | None) -> bool:
    """Make the sheet at ``sheet_index`` print ``rows`` (0-based, first and last) at the top of
    every page, or no rows (None): the sheet-scoped defined name ``_xlnm.Print_Titles`` in
    workbook.xml. Returns whether workbook.xml changed."""
    from ..core.cells import quote_sheet

    names = workbook.find(q("definedNames"))
    current = None
    if names is not None:
        current = next((n for n in names.iterchildren(q("definedName"))
                        if n.get("name", "").casefold() == PRINT_TITLES.casefold()
                        and n.get("localSheetId") == str(sheet_index)), None)
    if rows is None:
        if current is None:
            return False
        names.remove(current)
        if not len(names):
            workbook.remove(names)
        return True
    text = f"{quote_sheet(sheet_name)}!${rows[0] + 1}:${rows[1] + 1}"
    if current is not None:
        if current.text == text:
            return False
        current.text = text
        return True
    if names is None:
        names = etree.Element(q("definedNames"))
        after = next((i for i, c in enumerate(workbook) if local(c) in _AFTER_DEFINED_NAMES), len(workbook))
        workbook.insert(after, names)
    el = etree.SubElement(names, q("definedName"), name=PRINT_TITLES, localSheetId=str(sheet_index))
    el.text = text
    return True
