"""A streaming pass over the parts a reader will parse, before it parses them.

calamine allocates the whole rectangle between the first and the last cell of a sheet and
parses every part it opens; :func:`guard_for_reader` checks each of those parts against the
safety limits first and scans the wanted sheets for what calamine does not show (error values,
formulas without a cached value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..core.cells import a1, col_index, parse_a1
from ..core.errors import NotAWorkbook, UnsafeWorkbook
from ..records import Record, field
from . import xmlread, xmltext
from .names import REL_SHARED_STRINGS, REL_STYLES, is_rel, q, rel_part
from .package import Limits, Package, check_part, part_chunks
from .refs import translate


class SheetScan(Record):
    """What a streaming pass over one worksheet part found, before calamine reads it."""

    cells: int = 0
    top: int | None = None
    left: int | None = None
    bottom: int = -1
    right: int = -1
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # error values (#N/A ...)
    uncalculated: dict[tuple[int, int], str] = field(default_factory=dict)  # formula text, no <v>
    # every formula cell's own formula text (a shared formula's cells get theirs translated)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    styles: dict[tuple[int, int], int] = field(default_factory=dict)  # cellXfs index, when not 0
    shared: dict[str, tuple[int, int, str]] = field(default_factory=dict, repr=False)  # si -> master

    @property
    def area(self) -> int:
        if self.top is None or self.left is None:
            return 0
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)


# One pass over the raw XML: a row start tag, or a whole cell (empty or with its children),
# first as Excel writes a cell (r, then s and t, in that order), else in any form. The part is
# also fed to expat (xmlread.Checker), which refuses malformed XML; the cells are picked out by these
# patterns, with no Python object per XML element. The first branch is the cell nearly every sheet
# is made of, a plain value (no formula, not an error): only its place and style are kept, and
# matching it whole with a character class costs the regular-expression engine a third less
# than the general branch's search for the end tag. A cell that branch does not take whole is
# taken by the next ones, as before it existed.
_ITEM = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]+)")?(?: t="(?!e")[a-zA-Z]+")?><v>[^<]*</v></c>'  # 1 col, 2 row, 3 s
    rb'|<row r="([0-9]{1,7})"[^>]*>'  # 4 a row as Excel writes it: its number
    rb"|<((?:[\w.-]+:)?row)\b([^>]*)>"  # 5 tag, 6 attributes
    rb'|<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'  # 7 col, 8 row, 9 s, 10 t
    rb'(?:\s+(?:cm|vm|ph)="[^"<>]*")*\s*(?:/>|>(.*?)</c>)'  # 11 children
    rb"|<((?:[\w.-]+:)?)c\b([^>]*?)(?:/>|>(.*?)</\12c\s*>)",  # 12 prefix, 13 attributes, 14 children
    re.DOTALL)
_F_EL = re.compile(rb"<(?:[\w.-]+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?f\s*>)", re.DOTALL)
_V_EL = re.compile(rb"<(?:[\w.-]+:)?v\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v\s*>)", re.DOTALL)
_IS_EL = re.compile(rb"<(?:[\w.-]+:)?is\b")
_ROW_START = re.compile(rb"<(?:[\w.-]+:)?(?:row|c)\b")
_PREFIXED_START = re.compile(rb"<[\w.-]+:(?:row|c)\b")
_COLUMNS: dict[bytes, int] = {}  # column letters -> 0-based index, as met


def _attr(attrs: bytes, name: bytes) -> str | None:
    """The value of attribute ``name`` (without a prefix) in a start tag's attribute text."""
    i = attrs.find(name + b"=")
    while i >= 0:
        if i == 0 or attrs[i - 1:i] in (b" ", b"\t", b"\n", b"\r"):
            quote = attrs[i + len(name) + 1:i + len(name) + 2]
            end = attrs.find(quote, i + len(name) + 2)
            if quote in (b'"', b"'") and end > 0:
                return _text(attrs[i + len(name) + 2:end])
        i = attrs.find(name + b"=", i + 1)
    return None


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return xmltext.unescape(text) if "&" in text else text


def scan_sheet(pkg: Package, part: str, sheet: str, limits: Limits | None = None) -> SheetScan:
    """Stream a worksheet part: its extent, error cells and formulas without a cached value.

    calamine allocates the whole rectangle between the first and the last cell of a sheet, so
    a single cell at XFD1048576 would ask for hundreds of GB: the extent is checked here first
    (the ``<dimension>`` element is not trusted, the cells are counted).
    """
    limits = limits or pkg.limits
    scan = SheetScan()
    # expat checks the XML as it streams past (as hardened as parse_xml, nesting limit included)
    checker = xmlread.Checker()
    state = [-1, -1]  # the current row and the last column (0-based), for rows and cells without r=
    carry = b""
    pending = None  # the pattern that can end the row or cell the carry starts with, while it has not ended
    try:
        for chunk in part_chunks(pkg, part, limits):
            checker.feed(chunk)
            if pending is not None:  # only the new bytes can end it: a long cell is not searched again
                data = carry + chunk
                if not pending.search(data, max(len(carry) - 16, 0)):
                    carry = data
                    if len(carry) > _ITEM_MAX:
                        _too_large(pkg, sheet, carry)
                    continue
            else:
                data = carry + chunk if carry else chunk
            cut = _last_item_start(data)
            pending = None
            if cut or _ROW_START.match(data):
                whole = _ITEM.match(data, cut)  # the last row or cell start, and its end if it has come
                if whole is None:  # not yet: it goes on in the next chunk
                    _scan_piece(scan, data[:cut], state, pkg, sheet, limits)
                    carry = data[cut:]
                    # a cell whose start tag has ended (not with "/>": it would have matched) ends with
                    # its end tag; a row or cell whose start tag has not ended, with the tag's ">"
                    pending = _TAG_END if _ROW_TAG.match(carry) or not xmlread.WHOLE_TAG.match(carry) else _CELL_CLOSE
                    if len(carry) > _ITEM_MAX:
                        _too_large(pkg, sheet, carry)
                    continue
                cut = whole.end()
                _scan_piece(scan, data[:cut], state, pkg, sheet, limits)
            # no row or cell starts after ``cut``: only the start of a tag that goes on is carried
            at = data.rfind(b"<", cut)
            carry = data[at:] if at >= 0 else b""
        checker.close()
        _scan_piece(scan, carry, state, pkg, sheet, limits)
        if checker.needs_exact:  # a comment or the like in the sheet: its depth counted element by element
            checker = xmlread.Checker(exact=True)
            for chunk in part_chunks(pkg, part, limits):
                checker.feed(chunk)
            checker.close()
    except xmlread.XMLError as exc:
        raise NotAWorkbook(f"Bladet '{sheet}' är skadat (ogiltig XML i {part}: {exc})", file=pkg.path,
                           sheet=sheet) from exc
    except UnicodeDecodeError as exc:
        raise NotAWorkbook(f"Bladet '{sheet}' är skadat (ogiltig XML i {part}: {exc})", file=pkg.path,
                           sheet=sheet) from exc
    return scan


_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row\b")
_TAG_END = re.compile(rb">")  # what may end a start tag
_CELL_CLOSE = re.compile(rb"</(?:[\w.-]+:)?c\s*>")  # a cell's end tag
_ITEM_MAX = 1 << 24  # a row or cell start with this much after it and no end is refused: its bytes are
# held until it ends, and no cell Excel writes comes near it (a cell holds at most 32,767 characters)


def _too_large(pkg: Package, sheet: str, carry: bytes) -> None:
    m = re.match(rb'<(?:[\w.-]+:)?(c|row)\b[^>]*?\br="([A-Za-z]{0,3}[0-9]{1,7})"', carry)
    what = ("cellen" if m.group(1) == b"c" else "raden") + f" {m.group(2).decode()}" if m else "en rad eller cell"
    raise UnsafeWorkbook(f"Bladet '{sheet}' har {what} med mer än {_ITEM_MAX >> 20} MiB innehåll: ingen cell som "
                         "Excel skriver är så stor, så filen behandlas inte", file=pkg.path, sheet=sheet,
                         cell=m.group(2).decode() if m and m.group(1) == b"c" else None)


def _last_item_start(data: bytes) -> int:
    """Where the last ``<row`` or ``<c`` start tag in ``data`` begins (0 if none): the piece
    before it holds only whole cells and rows' start tags."""
    at = max(data.rfind(b"<c"), data.rfind(b"<row"))
    while at > 0 and not _ROW_START.match(data, at):  # <cols>, <cfRule ...>: not a cell
        at = max(data.rfind(b"<c", 0, at), data.rfind(b"<row", 0, at))
    at = max(at, 0)
    if data.find(b":c", at) >= 0 or data.find(b":row", at) >= 0:  # a prefixed one after it (<x:c ...>): rare
        for m in _PREFIXED_START.finditer(data, at):
            at = m.start()
    return at


def _scan_piece(scan: SheetScan, data: bytes, state: list[int], pkg: Package, sheet: str, limits: Limits) -> None:
    styles = scan.styles
    columns = _COLUMNS
    row_now, last_col = state
    cells = 0  # this piece's plain values (the others _note_cell counts), and their extent:
    top = left = 1 << 30
    bottom = right = -1
    far = None  # the cell that last moved an edge of the extent out, for the message
    for (plain_letters, plain_digits, plain_style, row_r, row_tag, row_attrs, letters, digits, style, kind, inner,
         _prefix, attrs, inner2) in _ITEM.findall(data):
        if plain_letters:  # a plain value, as the first branch takes it
            letters, digits, style = plain_letters, plain_digits, plain_style
        elif row_r:  # a row as Excel writes it
            row_now, last_col = int(row_r) - 1, -1
            continue
        elif row_tag:
            r = _attr(row_attrs, b"r")
            row_now = int(r) - 1 if r and r.isdigit() else row_now + 1
            last_col = -1
            continue
        elif not letters:  # a cell not as Excel writes it
            ref = _attr(attrs, b"r")
            try:
                row, col = parse_a1(ref) if ref else (row_now, last_col + 1)
            except ValueError:
                row, col = row_now, last_col + 1
            last_col = col
            if inner2 and _note_cell(scan, attrs, inner2, row, col):
                far = (row, col)
            continue
        row = int(digits) - 1  # a cell as Excel writes it
        col = columns.get(letters)
        if col is None:
            col = columns[letters] = col_index(letters.decode())
        last_col = col
        if not plain_letters:
            if not inner:
                continue  # an empty or formatted empty cell: calamine does not count it
            # a formula, an error or an inline string (find, not "in": bytes' "in" first tries its
            # operand as an integer and formats a TypeError for it, which cost more than the search)
            if inner.find(b"<f") >= 0 or inner.find(b"<v") < 0 or kind == b"e":
                if _note_cell(scan, b'r="" s="%s" t="%s"' % (style or b"0", kind), inner, row, col):
                    far = (row, col)
                continue
        cells += 1  # a plain value: only extent and style
        if row < top:
            top, far = row, (row, col)
        if row > bottom:
            bottom, far = row, (row, col)
        if col < left:
            left, far = col, (row, col)
        if col > right:
            right, far = col, (row, col)
        if style and style != b"0":
            styles[(row, col)] = int(style)
    state[0], state[1] = row_now, last_col
    if cells:
        scan.cells += cells
        scan.top = top if scan.top is None else min(scan.top, top)
        scan.left = left if scan.left is None else min(scan.left, left)
        scan.bottom, scan.right = max(scan.bottom, bottom), max(scan.right, right)
    if scan.area > limits.max_sheet_cells:
        most = f"{limits.max_sheet_cells:,}".replace(",", " ")
        raise UnsafeWorkbook(
            f"Bladet '{sheet}' sträcker sig ända till cell {a1(scan.bottom, scan.right)}, fler celler än de "
            f"{most} som läses: ta bort innehållet längst ut på bladet och försök igen",
            file=pkg.path, sheet=sheet, cell=a1(*far) if far else None)


def _note_cell(scan: SheetScan, attrs: bytes, inner: bytes, row: int, col: int) -> bool:
    """Note a cell with a formula, an error or an inline string; True if it moved an edge of the
    sheet's extent out."""
    f = _F_EL.search(inner)
    v = _V_EL.search(inner)
    has_value = v is not None or _IS_EL.search(inner) is not None
    if not has_value and f is None:
        return False  # a formatted empty cell: calamine does not count it
    scan.cells += 1
    moved = scan.top is None or row < scan.top or row > scan.bottom or col < scan.left or col > scan.right
    scan.top = row if scan.top is None else min(scan.top, row)
    scan.left = col if scan.left is None else min(scan.left, col)
    scan.bottom, scan.right = max(scan.bottom, row), max(scan.right, col)
    s = _attr(attrs, b"s")
    if s and s != "0" and s.isdigit():
        scan.styles[(row, col)] = int(s)
    if f is not None:
        f_attrs = f.group(1)
        kind = _attr(f_attrs, b"t")
        text = _formula_text(scan, _text(f.group(2) or b""), kind, _attr(f_attrs, b"si"), row, col)
        if kind not in ("array", "dataTable"):  # those keep Excel's values: never rewritten
            scan.formulas[(row, col)] = text
        if not has_value:
            scan.uncalculated[(row, col)] = text
    if v is not None and v.group(1) and _attr(attrs, b"t") == "e":
        scan.errors[(row, col)] = _text(v.group(1)).strip()
    return moved


def _formula_text(scan: SheetScan, text: str, kind: str | None, si: str | None, row: int, col: int) -> str:
    """The formula of one cell; a shared formula's other cells have none written of their own."""
    if kind != "shared" or si is None:
        return text
    if text:
        scan.shared[si] = (row, col, text)
        return text
    master = scan.shared.get(si)
    if master is None:
        return ""  # the master comes later (not as Excel writes it): unknown here
    return translate(master[2], row - master[0], col - master[1])


def _reader_parts(pkg: Package) -> list[str]:
    """The non-sheet parts calamine parses when it opens a workbook."""
    parts = [pkg.workbook_part]
    for rel in pkg.relationships(pkg.workbook_part):
        kind = rel.get("Type")
        if (is_rel(kind, REL_SHARED_STRINGS) or is_rel(kind, REL_STYLES)) and "part" in rel and pkg.has(rel["part"]):
            parts.append(rel["part"])
    return parts


def guard_for_reader(pkg: Package, wanted: Iterable[str]) -> dict[str, SheetScan]:
    """Check every part calamine will read before it reads it; scan the wanted sheets."""
    for part in _reader_parts(pkg):
        check_part(pkg, part)
    scans = {}
    for name in wanted:
        info = pkg.sheet(name)
        if info is None or info.kind != "worksheet":
            continue
        if not info.part or not pkg.has(info.part):
            raise NotAWorkbook(f"Bladet '{name}' saknar sitt innehåll ({info.part or 'ingen del'} finns inte i "
                               "arkivet): arbetsboken är skadad", file=pkg.path, sheet=name)
        scans[name] = scan_sheet(pkg, info.part, name)
    return scans


def calculation_mode(pkg: Package) -> str | None:
    """``calcPr/@calcMode`` of the workbook: "manual", "autoNoTable", "auto" or None (auto)."""
    calc = pkg.read_xml(pkg.workbook_part).find(q("calcPr"))
    return calc.get("calcMode") if calc is not None else None


# Built-in number formats (ECMA-376 Part 1, 18.8.30) that change what a number means.
BUILTIN_FORMATS = {
    9: "0%", 10: "0.00%",
    14: "yyyy-mm-dd", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
    20: "h:mm", 21: "h:mm:ss", 22: "yyyy-mm-dd h:mm", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0",
}


def number_formats(pkg: Package) -> list[str]:
    """The number format code of each cell format (``cellXfs`` index); "General" when unknown."""
    part = rel_part(pkg.relationships(pkg.workbook_part), REL_STYLES)
    if part is None or not pkg.has(part):
        return []
    root = pkg.read_xml(part)
    custom = {int(nf.get("numFmtId", "-1")): nf.get("formatCode", "")
              for nf in root.iterfind(f"{q('numFmts')}/{q('numFmt')}") if nf.get("numFmtId", "").isdigit()}
    xfs = root.find(q("cellXfs"))
    out = []
    for xf in (xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0")) if xf.get("numFmtId", "0").isdigit() else 0
        out.append(custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id) or "General")
    return out
