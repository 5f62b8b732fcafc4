"""Worksheet XML: set single cells in a user's sheet, and build a whole sheet the tool owns.

:func:`apply_cell_writes` edits ``<sheetData>`` in place and leaves everything else in the
worksheet (extLst with sparklines and x14 conditional formats, mc:AlternateContent, data
validations, namespaces, the XML declaration) exactly as it was.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
from collections.abc import Callable, Iterable

from lxml import etree

from ..core.cells import a1, col_letter, parse_a1
from ..core.changes import Cell, CellWrite, PageLayout, SheetContent, Value
from ..core.chars import ascii_digits
from .names import NS_MAIN, NS_R, q
from .package import DECLARATION, local, parse_xml, serialize_xml

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# XML-illegal characters and their _xHHHH_ escapes (a str.translate table: the same class as a
# regular expression costs about 0.8 ms to compile, because of U+FFFE and U+FFFF)
_ILLEGAL = {code: f"_x{code:04X}_" for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)}
_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_CELL_ORDER = ("f", "v", "is", "extLst")
_V, _IS, _T = q("v"), q("is"), q("t")  # the tags of every cell, named once
_ROW, _C, _F = q("row"), q("c"), q("f")


# --- text and numbers ---------------------------------------------------------------------


def ooxml_text(text: str) -> str:
    """Escape text for an OOXML string: literal ``_xHHHH_`` and XML-illegal characters."""
    if "_x" in text:  # what every escape starts with
        text = _ESCAPE_LIKE.sub(lambda m: "_x005F" + m.group(0), text)
    # every XML-illegal character is unprintable (Cc, or the noncharacters U+FFFE, U+FFFF)
    return text if text.isprintable() else text.translate(_ILLEGAL)


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


@functools.lru_cache(maxsize=4096)  # an owned sheet's labels and headings recur, in a sheet and in a batch
def _text_xml(text: str) -> str:
    """:func:`_text_element` as serialised text: ``<t>`` of ``text`` in an inline string."""
    escaped = _escape_text(ooxml_text(text))
    return f'<t xml:space="preserve">{escaped}</t>' if _needs_preserve(text) else f"<t>{escaped}</t>"


# the characters lxml refuses in element text and attribute values (ValueError), besides surrogates
_NOT_XML = frozenset([*map(chr, range(0x09)), "\x0b", "\x0c", *map(chr, range(0x0E, 0x20)), "\ufffe", "\uffff"])


def _refuse_non_xml(text: str) -> str:
    """``text``, refused as lxml refuses it (a surrogate fails where the part is encoded)."""
    if not text.isprintable() and not _NOT_XML.isdisjoint(text):
        raise ValueError("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")
    return text


def xml_text(text: str) -> str:
    """Element text as lxml writes it (see :func:`_escape_text`), refusing what lxml refuses."""
    if text.isalnum():  # letters and digits: nothing to escape or refuse
        return text
    return _escape_text(_refuse_non_xml(text))


def xml_attr(text: str) -> str:
    """An attribute value as lxml (libxml2) writes it: also the quote, newline and tab become
    references. Refuses what lxml refuses."""
    if text.isalnum():  # letters and digits: nothing to escape or refuse
        return text
    return (_refuse_non_xml(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _escape_text(text: str) -> str:
    """Element text escaped exactly as lxml (libxml2) serialises it to UTF-8: ``&``, ``<``,
    ``>`` and the carriage return (which a parser would otherwise read as a newline) become
    references; everything else, tabs, newlines, quotes, Swedish letters and characters
    outside the BMP included, stays literal. ``text`` must hold only XML characters (as
    :func:`ooxml_text` leaves it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


# --- cell content -------------------------------------------------------------------------


def _clear_cell(c: etree._Element) -> None:
    if len(c):
        for child in list(c):
            if local(child) in ("f", "v", "is"):
                c.remove(child)
    attrib = c.attrib
    for attr in ("t", "cm", "vm"):
        attrib.pop(attr, None)


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
    if not len(c):  # nothing left to keep in order (the usual case): the children go in as they come
        if write.formula is not None:
            etree.SubElement(c, _F).text = write.formula.removeprefix("=")
        form = _value_form(write.value, cached=write.formula is not None)
        if form is not None:
            t, child, text = form
            if t is not None:
                c.set("t", t)
            if child == "is":
                _text_element(etree.SubElement(c, _IS), text)
            else:
                etree.SubElement(c, _V).text = text
        return
    if write.formula is not None:
        f = etree.Element(_F)
        f.text = write.formula.removeprefix("=")
        _insert_child(c, f)
        _set_value(c, write.value, cached=True)
    else:
        _set_value(c, write.value, cached=False)


# --- locating rows and cells --------------------------------------------------------------


# Every cell's r, and the number of cells: one XPath evaluation each, not a Python step per cell.
_CELL_REFS = etree.XPath("m:row/m:c/@r", namespaces={"m": NS_MAIN}, smart_strings=False)
_CELL_COUNT = etree.XPath("count(m:row/m:c)", namespaces={"m": NS_MAIN})
# NUL-terminated references, each one that parse_a1 reads (NUL is in no XML attribute value;
# \s is what str.strip removes)
_REF_LIST = re.compile(r"(?:\s*\$?[A-Za-z]{1,3}\$?[0-9]{1,7}\s*\0)*")


def _normalise_refs(sheet_data: etree._Element) -> dict[int, etree._Element]:
    """Give every row and cell an explicit ``r`` (the schema allows omitting them); returns
    the rows by number (the last of rows with the same number). A row or cell reference that
    does not read is refused (ValueError), the first one in the document, as
    :func:`_normalise_one_by_one` refuses it."""
    rows: dict[int, etree._Element] = {}
    row_no = 0
    try:
        for row in sheet_data.iterchildren(_ROW):
            r = row.get("r")
            row_no = int(r) if r else row_no + 1
            text = str(row_no)
            if r != text:
                row.set("r", text)
            rows[row_no] = row
    except ValueError:
        return _normalise_one_by_one(sheet_data)  # raises at the first reference that does not read
    refs = _CELL_REFS(sheet_data)
    if len(refs) == _CELL_COUNT(sheet_data) and _REF_LIST.fullmatch("\0".join(refs) + "\0" if refs else ""):
        return rows  # every cell has a reference, and each one reads
    return _normalise_one_by_one(sheet_data)


def _normalise_one_by_one(sheet_data: etree._Element) -> dict[int, etree._Element]:
    """:func:`_normalise_refs` a row and a cell at a time."""
    rows: dict[int, etree._Element] = {}
    row_no = 0
    for row in sheet_data.iterchildren(_ROW):
        row_no = int(row.get("r")) if row.get("r") else row_no + 1
        row.set("r", str(row_no))
        rows[row_no] = row
        col = -1
        for c in row.iterchildren(_C):
            col = parse_a1(c.get("r"))[1] if c.get("r") else col + 1
            if not c.get("r"):
                c.set("r", f"{col_letter(col)}{row_no}")
    return rows


_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}  # the column of a reference's letters, in capitals without "$", once worked out


def _column(ref: str) -> int:
    """The 0-based column of a cell reference :func:`_normalise_refs` accepted."""
    letters = ref.rstrip(_DIGITS)
    col = _COLUMNS.get(letters)
    if col is None:
        col = parse_a1(ref)[1]
        if letters.isupper() and letters.isalpha() and letters.isascii() and len(letters) <= 3:
            _COLUMNS[letters] = col
    return col


class _Children:
    """The children of ``parent`` with one tag, indexed once by their position key.

    Finding or inserting a row (or a cell) is then a dictionary look-up and a binary search,
    not a walk over every sibling: writing a deviation into each of N unit rows is linear in N.
    """

    def __init__(self, parent: etree._Element, by_key: dict[int, etree._Element]):
        """``by_key``: the children by key (of children with the same key, the last)."""
        self.parent = parent
        self.by_key = by_key
        self.keys = sorted(by_key)

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

    def __init__(self, sheet_data: etree._Element, rows: dict[int, etree._Element]):
        """``rows``: the rows by number, as :func:`_normalise_refs` returns them."""
        self.rows = _Children(sheet_data, rows)
        self.cells: dict[int, _Children] = {}

    def cell(self, row: int, col: int) -> etree._Element:
        def make_row():
            el = etree.Element(_ROW)
            el.set("r", str(row + 1))
            return el

        def make_cell():
            el = etree.Element(_C)
            el.set("r", a1(row, col))
            return el

        row_el = self.rows.get(row + 1, make_row)
        cells = self.cells.get(row)
        if cells is None:
            by_col = {}
            for el in row_el.iterchildren(_C):
                by_col[_column(el.get("r"))] = el
            cells = self.cells[row] = _Children(row_el, by_col)
        c = cells.get(col, make_cell)
        _widen_spans(row_el, col)
        return c


def _widen_spans(row_el: etree._Element, col: int) -> None:
    spans = row_el.get("spans")
    if not spans or " " in spans or ":" not in spans:
        return
    lo, _, hi = spans.partition(":")
    if not (ascii_digits(lo) and ascii_digits(hi)):  # a hint no reader can use ("1:²"): dropped, not guessed
        del row_el.attrib["spans"]
        return
    lo, hi = int(lo), int(hi)
    wider = f"{min(lo, col + 1)}:{max(hi, col + 1)}"
    if wider != spans:
        row_el.set("spans", wider)


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
        raise ValueError("delen har inget sheetData-element i SpreadsheetML:s namnrymd")
    rows = _normalise_refs(sheet_data)
    refs = [w.a1 for w in writes]
    _relocate_shared_masters(sheet_data, set(refs))
    index = _SheetIndex(sheet_data, rows)
    for w in writes:
        _write_cell(index.cell(w.row, w.col), w)
    _drop_empty_cells(sheet_data, {ref for ref, w in zip(refs, writes) if w.value is None and w.formula is None})
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
    of the drawing that holds its charts (see :mod:`xlreport.ooxml.charts`).

    Built as text, byte for byte what lxml writes for the same elements (the tests compare the
    part with the element build)."""
    out = [f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">']
    page = content.page
    if page is not None and page.fit_to_width:
        out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
    n_cols = max((len(r) for r in content.rows), default=0)
    ref = f"A1:{a1(max(len(content.rows), 1) - 1, max(n_cols, 1) - 1)}" if content.rows else "A1"
    out.append(f'<dimension ref="{ref}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
               '<sheetFormatPr defaultRowHeight="15"/>')
    out.append(_cols_xml(content.col_widths))
    sheet_data, links = _sheet_data_xml(content, style_ids, n_cols)
    out.append(sheet_data)
    if content.merges:
        out.append(f'<mergeCells count="{len(content.merges)}">'
                   + "".join([f'<mergeCell ref="{area.a1}"/>' for area in content.merges]) + "</mergeCells>")
    if links:
        out.append("<hyperlinks>" + "".join(
            [f'<hyperlink ref="{ref}" location="{xml_attr(cell.link.lstrip("#"))}" '
             f'display="{xml_attr(ooxml_text(_display(cell.value)))}"/>' for ref, cell in links]) + "</hyperlinks>")
    out.append(_page_setup_xml(content))
    if drawing_rid is not None:
        out.append(f'<drawing r:id="{xml_attr(drawing_rid)}"/>')
    out.append("</worksheet>")
    return DECLARATION + "".join(out).encode("utf-8")


def _sheet_data_xml(content: SheetContent, style_ids: dict[str, int],
                    n_cols: int) -> tuple[str, list[tuple[str, Cell]]]:
    """The ``<sheetData>`` of an owned sheet as XML text, and its linked cells as (ref, cell).

    Built as text rather than as lxml elements (creating them was most of the cost of an owned
    sheet), byte for byte what lxml writes for the same elements: the tests compare the two.
    Row and cell attributes are references, numbers and fixed names, with nothing to escape.
    The cells of the usual kinds (a finite float, a text, an int, nothing) are written here,
    as :func:`_owned_cell_xml` writes them; the others through it.
    """
    parts: list[str] = []
    links: list[tuple[str, Cell]] = []
    letters = [col_letter(c) for c in range(n_cols)]
    style_attrs: dict[str, str] = {}  # style -> its s="..." attribute ("" for the default style)
    heights = content.row_heights
    isfinite = math.isfinite
    for r, line in enumerate(content.rows):
        height = heights.get(r)
        row_no = str(r + 1)
        row = f'<row r="{row_no}"' if height is None else \
            f'<row r="{row_no}" ht="{number_text(float(height))}" customHeight="1"'
        mark = len(parts)
        parts.append(row + ">")
        for c, cell in enumerate(line):
            if cell is None:
                continue
            ref = letters[c] + row_no  # a1(r, c)
            style = style_attrs.get(cell.style)
            if style is None:
                sid = style_ids.get(cell.style, 0)
                style = style_attrs[cell.style] = f' s="{sid}"' if sid else ""
            value = cell.value
            kind = type(value)
            if kind is float and isfinite(value):  # number_text
                number = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
                parts.append(f'<c r="{ref}"{style}><v>{number}</v></c>')
            elif kind is str:
                parts.append(f'<c r="{ref}"{style} t="inlineStr"><is>{_text_xml(value)}</is></c>')
            elif value is None:
                parts.append(f'<c r="{ref}"{style}/>')
            elif kind is int:
                parts.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
            else:
                parts.append(_owned_cell_xml(ref, cell, style_ids))
            if cell.link:
                links.append((ref, cell))
        if len(parts) > mark + 1:
            parts.append("</row>")
        elif height is not None:
            parts[mark] = row + "/>"
        else:
            parts.pop()
    if not parts:
        return "<sheetData/>", links
    return "<sheetData>" + "".join(parts) + "</sheetData>", links


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


def _page_setup_xml(content: SheetContent) -> str:
    """printOptions, pageMargins, pageSetup, headerFooter and rowBreaks, in schema order."""
    page = content.page
    out = ["<pageMargins" + "".join([f' {k}="{v}"' for k, v in page_margins(page).items()]) + "/>"]
    if page is None:
        return out[0]
    fit = ' fitToWidth="1" fitToHeight="0"' if page.fit_to_width else ""
    out.append(f'<pageSetup paperSize="{PAPER_SIZES[page.paper]}" '
               f'orientation="{"portrait" if page.portrait else "landscape"}"{fit}/>')
    header, footer = page.codes(page.header), page.codes(page.footer)
    if header or footer:
        out.append("<headerFooter>")
        if header:
            out.append(f"<oddHeader>{xml_text(ooxml_text(header))}</oddHeader>")
        if footer:
            out.append(f"<oddFooter>{xml_text(ooxml_text(footer))}</oddFooter>")
        out.append("</headerFooter>")
    if content.row_breaks:
        n = len(content.row_breaks)
        # a break after row r (1-based) starts the page with 0-based row r
        out.append(f'<rowBreaks count="{n}" manualBreakCount="{n}">'
                   + "".join([f'<brk id="{r}" max="16383" man="1"/>' for r in content.row_breaks]) + "</rowBreaks>")
    return "".join(out)


def _display(value: Value) -> str:
    return "" if value is None else (number_text(value) if isinstance(value, (int, float)) and
                                     not isinstance(value, bool) else str(value))


def _cols_xml(widths: dict[int, float]) -> str:
    if not widths:
        return ""
    return "<cols>" + "".join([f'<col min="{col + 1}" max="{col + 1}" width="{number_text(float(widths[col]))}" '
                               'customWidth="1"/>' for col in sorted(widths)]) + "</cols>"


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
