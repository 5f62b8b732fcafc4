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
from ..core.chars import ascii_digits
from ..core.errors import NotAWorkbook, UnsafeWorkbook
from ..records import Record, field
from . import xmlread, xmltext
from .names import REL_SHARED_STRINGS, REL_STYLES, is_rel, q, rel_part
from .package import _CHUNK, Limits, Package, check_part, part_chunks, raw_chunks
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
    # the number format code of every cell whose format is not General (given the codes: scan_sheet)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    shared: dict[str, tuple[int, int, str]] = field(default_factory=dict, repr=False)  # si -> master
    # (row, col, value) of every cell with a value, as calamine would give it, when the scan was
    # given a CellReading and every cell was one it reads exactly; None otherwise (calamine reads)
    values: list[tuple[int, int, object]] | None = field(default=None, repr=False)
    reading: CellReading | None = field(default=None, repr=False)
    codes: dict[bytes, str] = field(default_factory=dict, repr=False)  # s attribute -> format code

    @property
    def area(self) -> int:
        if self.top is None or self.left is None:
            return 0
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)


# One pass over the raw XML: a row start tag, or a whole cell (empty or with its children),
# first as Excel writes a cell (r, then s and t, in that order), else in any form. The part is
# also fed to expat (xmlread.Checker), which refuses malformed XML; the cells are picked out by these
# patterns, with no Python object per XML element. The first branch is the cell nearly every sheet
# is made of, a plain value (no formula, not an error): its place, style and value's text, and
# matching it whole with a character class costs the regular-expression engine a third less
# than the general branch's search for the end tag. A cell that branch does not take whole is
# taken by the next ones, as before it existed. Its quantifiers are possessive (``+``): what
# follows each can never be what it took, so the engine keeps no way back. The two branches for
# cells as Excel writes them take an ``s`` without leading zeros (the cell format's index as Excel
# writes it, the key of the format codes); any other ``s`` is a cell in another form.
_ITEM = re.compile(
    rb'<c r="([A-Z]{1,3}+)([0-9]{1,7}+)"(?: s="(0|[1-9][0-9]*+)")?+(?: t="((?!e")[a-zA-Z]++)")?+><v>([^<]*+)</v></c>'  # 1 col,
    # 2 row, 3 s, 4 t, 5 the value's text
    rb'|<row r="([0-9]{1,7}+)"[^>]*+>'  # 6 a row as Excel writes it: its number
    rb"|<((?:[\w.-]+:)?row)\b([^>]*)>"  # 7 tag, 8 attributes
    rb'|<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="(0|[1-9][0-9]*)")?(?: t="([a-zA-Z]+)")?'  # 9 col, 10 row, 11 s, 12 t
    rb'(?:\s+(?:cm|vm|ph)="[^"<>]*")*\s*(?:/>|>(.*?)</c>)'  # 13 children
    rb"|<((?:[\w.-]+:)?)c\b([^>]*?)(?:/>|>(.*?)</\14c\s*>)",  # 14 prefix, 15 attributes, 16 children
    re.DOTALL)
_F_EL = re.compile(rb"<(?:[\w.-]+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?f\s*>)", re.DOTALL)
_V_EL = re.compile(rb"<(?:[\w.-]+:)?v\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v\s*>)", re.DOTALL)
_IS_EL = re.compile(rb"<(?:[\w.-]+:)?is\b")
# an inline string of plain text, all the cell holds (as xlreport's writer and openpyxl write one)
_PLAIN_INLINE = re.compile(rb'<is><t( xml:space="preserve")?>([^<]*)</t></is>')
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


def scan_sheet(pkg: Package, part: str, sheet: str, limits: Limits | None = None,
               reading: CellReading | None = None, codes: dict[bytes, str] | None = None) -> SheetScan:
    """Stream a worksheet part: its extent, error cells and formulas without a cached value.

    calamine allocates the whole rectangle between the first and the last cell of a sheet, so
    a single cell at XFD1048576 would ask for hundreds of GB: the extent is checked here first
    (the ``<dimension>`` element is not trusted, the cells are counted). With a ``reading``, the
    scan also takes each cell's value (:attr:`SheetScan.values`) while every cell is one it reads
    exactly as calamine would. With ``codes`` (:func:`format_codes`), it notes the number format
    of every cell whose format is not General (:attr:`SheetScan.formats`).
    """
    limits = limits or pkg.limits
    scan = SheetScan()
    scan.codes = codes if codes is not None else {}
    if reading is not None:
        scan.values, scan.reading = [], reading
    # expat checks the XML as it streams past (as hardened as parse_xml, nesting limit included)
    checker = xmlread.Checker()
    # the current row and the last column (0-based), for rows and cells without r=; and the row's r
    state = [-1, -1, None]
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


def _plain_text(raw: bytes, preserve: bytes = b"") -> bool:
    """Text the scan takes as calamine does: not empty; without an ``_xHHHH_`` escape (which readers
    expand or not) or a carriage return (which XML parsers normalise, and calamine may not); and,
    unless its element has ``xml:space="preserve"``, without white space at either end (which
    calamine trims there)."""
    if not raw or raw.find(b"_x") >= 0 or raw.find(b"\r") >= 0:
        return False
    return bool(preserve) or (raw[:1] not in _XML_SPACE and raw[-1:] not in _XML_SPACE)


_XML_SPACE = (b" ", b"\t", b"\n", b"\r")
_XML_WHITE = b"".join(_XML_SPACE)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

_NOT_READ = object()  # CellReading.value: a cell the scan does not read (calamine reads the workbook)
_NUMBER_CHARS = b"0123456789.+-eE"


class CellReading:
    """What the scan needs to take a cell's value exactly as calamine gives it.

    ``strings`` are the shared strings (:class:`SharedStrings`); ``number_styles`` the ``s``
    attributes (as bytes, ``b""`` for none) of the cell formats whose number format is certainly
    not a date or a time: calamine
    turns a number in a date format into a date, which this reading leaves to calamine. Any cell
    it is not sure of gives ``_NOT_READ``, and calamine reads the workbook as before.
    """

    __slots__ = ("number_styles", "strings")

    def __init__(self, strings: SharedStrings, number_styles: frozenset[bytes]):
        self.strings = strings
        self.number_styles = number_styles

    def close(self) -> None:
        self.strings.close()

    def value(self, kind: bytes, style: bytes, text: bytes) -> object:
        """The value of a cell with type ``kind`` (``t``), style ``style`` (``s``) and ``<v>`` text."""
        if not text:  # an empty <v>: not read here
            return _NOT_READ
        if kind == b"s":
            if text.isdigit():
                i = int(text)
                items = self.strings.items
                found = items[i] if i < len(items) else self.strings.get(i)
                if found is not None:
                    return found
            return _NOT_READ
        if not kind or kind == b"n":
            # digits, sign, point and exponent only: float() also takes "inf", "1_0" and spaces
            if style in self.number_styles and not text.translate(None, _NUMBER_CHARS):
                try:
                    return float(text)
                except ValueError:
                    return _NOT_READ
            return _NOT_READ
        if kind == b"str":
            return _text(text) if _plain_text(text) else _NOT_READ
        if kind == b"b":
            return True if text == b"1" else False if text == b"0" else _NOT_READ
        return _NOT_READ  # a date (t="d") or a type calamine may read otherwise


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
    formats, codes = scan.formats, scan.codes
    columns = _COLUMNS
    values = scan.values  # appended to while every cell is one the reading takes exactly
    reading = scan.reading
    if reading is not None:  # the two kinds of value nearly every cell holds are read right here
        numbers, strings = reading.number_styles, reading.strings.items
    row_now, last_col, row_digits = state  # row_digits: the row's r as written, which its cells repeat
    cells = 0  # this piece's plain values (the others _note_cell counts), and their extent:
    top = left = 1 << 30
    bottom = right = -1
    far = None  # the cell that last moved an edge of the extent out, for the message
    for (plain_letters, plain_digits, style, kind, text, row_r, row_tag, row_attrs, letters, digits,
         style_, kind_, inner, _prefix, attrs, inner2) in _ITEM.findall(data):
        if plain_letters:  # a plain value, as the first branch takes it
            row = row_now if plain_digits == row_digits else int(plain_digits) - 1
            col = columns.get(plain_letters)
            if col is None:
                col = columns[plain_letters] = col_index(plain_letters.decode())
            last_col = col
            if values is not None:  # what CellReading.value gives, its two commonest cases first
                if not kind and style in numbers and not text.translate(None, _NUMBER_CHARS):
                    try:  # an empty text too is a ValueError
                        values.append((row, col, float(text)))
                    except ValueError:
                        values = scan.values = None
                elif kind == b"s" and text.isdigit() and (i := int(text)) < len(strings) and \
                        (found := strings[i]) is not None:
                    values.append((row, col, found))
                elif (value := reading.value(kind, style, text)) is _NOT_READ:
                    values = scan.values = None
                else:
                    values.append((row, col, value))
        elif row_r:  # a row as Excel writes it
            row_now, last_col, row_digits = int(row_r) - 1, -1, row_r
            continue
        elif row_tag:
            r = _attr(row_attrs, b"r")
            if r and not ascii_digits(r):  # calamine refuses such a workbook too
                raise NotAWorkbook(f"Bladet '{sheet}' är skadat: en rad har radnumret '{r}', som inte är ett "
                                   "tal", file=pkg.path, sheet=sheet)
            row_now = int(r) - 1 if r else row_now + 1
            last_col, row_digits = -1, None
            continue
        elif not letters:  # a cell not as Excel writes it
            ref = _attr(attrs, b"r")
            try:
                row, col = parse_a1(ref) if ref else (row_now, last_col + 1)
            except ValueError:
                row, col = row_now, last_col + 1
            last_col = col
            if inner2:
                values = scan.values = None  # calamine reads the sheet: its values are not taken here
                if _note_cell(scan, attrs, inner2, row, col):
                    far = (row, col)
            continue
        else:  # a cell as Excel writes it, with children
            row = int(digits) - 1
            col = columns.get(letters)
            if col is None:
                col = columns[letters] = col_index(letters.decode())
            last_col = col
            if not inner:
                continue  # an empty or formatted empty cell: calamine does not count it
            # a formula, an error or an inline string (find, not "in": bytes' "in" first tries its
            # operand as an integer and formats a TypeError for it, which cost more than the search)
            if inner.find(b"<f") >= 0 or inner.find(b"<v") < 0 or kind_ == b"e":
                if _note_cell(scan, b'r="" s="%s" t="%s"' % (style_ or b"0", kind_), inner, row, col):
                    far = (row, col)
                values = scan.values
                continue
            values = scan.values = None  # a plain value in another form (attributes, <v> with its own)
            style = style_
        cells += 1  # a plain value: only extent and format
        if row < top:
            top, far = row, (row, col)
        if row > bottom:
            bottom, far = row, (row, col)
        if col < left:
            left, far = col, (row, col)
        if col > right:
            right, far = col, (row, col)
        if (code := codes.get(style)) is not None:
            formats[(row, col)] = code
    state[0], state[1], state[2] = row_now, last_col, row_digits
    if cells:
        scan.cells += cells
        scan.top = top if scan.top is None else min(scan.top, top)
        scan.left = left if scan.left is None else min(scan.left, left)
        scan.bottom, scan.right = max(scan.bottom, bottom), max(scan.right, right)
    if scan.top is not None and scan.top < 0:  # a cell in row 0 ("A0", or a row r="0"), as calamine refuses it
        raise NotAWorkbook(f"Bladet '{sheet}' är skadat: det har en cell på rad 0, som inte finns i ett kalkylblad",
                           file=pkg.path, sheet=sheet)
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
    inline = v is None and _IS_EL.search(inner) is not None
    has_value = v is not None or inline
    if not has_value and f is None:
        return False  # a formatted empty cell: calamine does not count it
    scan.cells += 1
    moved = scan.top is None or row < scan.top or row > scan.bottom or col < scan.left or col > scan.right
    scan.top = row if scan.top is None else min(scan.top, row)
    scan.left = col if scan.left is None else min(scan.left, col)
    scan.bottom, scan.right = max(scan.bottom, row), max(scan.right, col)
    s = _attr(attrs, b"s")
    if (code := scan.codes.get(b"%d" % int(s) if s and ascii_digits(s) else b"")) is not None:
        scan.formats[(row, col)] = code
    if f is not None:
        f_attrs = f.group(1)
        kind = _attr(f_attrs, b"t")
        text = _formula_text(scan, _text(f.group(2) or b""), kind, _attr(f_attrs, b"si"), row, col)
        if kind not in ("array", "dataTable"):  # those keep Excel's values: never rewritten
            scan.formulas[(row, col)] = text
        if not has_value:
            scan.uncalculated[(row, col)] = text
    cell_kind = _attr(attrs, b"t")
    if v is not None and v.group(1) and cell_kind == "e":
        scan.errors[(row, col)] = _text(v.group(1)).strip()
        if scan.values is not None:  # calamine has the error in the sheet's area, shown as empty
            scan.values.append((row, col, ""))
    elif scan.values is not None and has_value:  # a formula's cached value, or an inline string
        if inline:
            m = _PLAIN_INLINE.fullmatch(inner) if cell_kind == "inlineStr" else None
            value = _text(m.group(2)) if m and _plain_text(m.group(2), m.group(1)) else _NOT_READ
        elif cell_kind == "e":
            value = _NOT_READ
        else:
            value = scan.reading.value((cell_kind or "").encode(), (s or "").encode(), v.group(1) or b"")
        if value is _NOT_READ:
            scan.values = None
        else:
            scan.values.append((row, col, value))
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


def guard_for_reader(pkg: Package, wanted: Iterable[str], reading: CellReading | None = None, *,
                     codes: dict[bytes, str] | None = None, all_or_none: bool = False) -> dict[str, SheetScan]:
    """Check every part calamine will read before it reads it; scan the wanted sheets (with a
    ``reading``, taking their values where the scan can: :attr:`SheetScan.values`; with ``codes``,
    noting the cells' number formats: :attr:`SheetScan.formats`).

    ``all_or_none``: the caller uses the values only if every wanted sheet has them, so once one
    sheet cannot be read (or is not a worksheet) the others are scanned without taking values.
    """
    for part in _reader_parts(pkg):
        check_part(pkg, part)
    scans = {}
    for name in wanted:
        info = pkg.sheet(name)
        if info is None or info.kind != "worksheet":
            reading = None if all_or_none else reading
            continue
        if not info.part or not pkg.has(info.part):
            raise NotAWorkbook(f"Bladet '{name}' saknar sitt innehåll ({info.part or 'ingen del'} finns inte i "
                               "arkivet): arbetsboken är skadad", file=pkg.path, sheet=name)
        scans[name] = scan = scan_sheet(pkg, info.part, name, reading=reading, codes=codes)
        if all_or_none and scan.values is None:
            reading = None
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


def cell_formats(pkg: Package) -> list[tuple[int, str | None]]:
    """Each cell format's (``cellXfs`` index's) ``numFmtId`` and its custom format code, if any."""
    part = rel_part(pkg.relationships(pkg.workbook_part), REL_STYLES)
    if part is None or not pkg.has(part):
        return []
    root = pkg.read_xml(part)
    custom = {int(nf.get("numFmtId", "-1")): nf.get("formatCode", "")
              for nf in root.iterfind(f"{q('numFmts')}/{q('numFmt')}") if ascii_digits(nf.get("numFmtId", ""))}
    xfs = root.find(q("cellXfs"))
    out = []
    for xf in (xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0")) if ascii_digits(xf.get("numFmtId", "0")) else 0
        out.append((fmt_id, custom.get(fmt_id)))
    return out


def number_formats(pkg: Package, formats: list[tuple[int, str | None]] | None = None) -> list[str]:
    """The number format code of each cell format (``cellXfs`` index); "General" when unknown."""
    formats = cell_formats(pkg) if formats is None else formats
    return [code or BUILTIN_FORMATS.get(fmt_id) or "General" for fmt_id, code in formats]


def format_codes(formats: list[str]) -> dict[bytes, str]:
    """The number format code of each cell format that is not General, keyed by the ``s``
    attribute of the cells that use it (``b""``, no attribute, is cell format 0)."""
    codes = {b"%d" % i: code for i, code in enumerate(formats) if code != "General"}
    if b"0" in codes:
        codes[b""] = codes[b"0"]
    return codes


# Built-in formats that are numbers, not dates or times (ECMA-376 Part 1, 18.8.30): General, 0,
# 0.00, #,##0, #,##0.00, percentages, scientific, fractions, accounting, ##0.0E+0 and @. Every
# other built-in id is a date or a time, or one whose meaning depends on the locale.
_NUMBER_BUILTINS = frozenset([*range(14), *range(37, 41), 48, 49])
_DATE_LETTERS = frozenset("dmhysDMHYSaApPbBeEgG[")
_ESCAPES = ("\\", "_")


def certainly_not_date(fmt_id: int, code: str | None) -> bool:
    """Whether a number in this format is certainly a plain number to calamine, not a date or time.

    Conservative: a built-in id outside the number formats, an id without a code, a code with any
    letter a date or time format uses (or a ``[``: elapsed time, a locale) outside quoted text, or
    an escape (``\\``, ``_``) next to a quote, where readers could disagree on where the quoted
    text ends, is "maybe a date". Only quoted text is skipped.
    """
    if code is None:
        return fmt_id in _NUMBER_BUILTINS
    if fmt_id < 164 and fmt_id not in _NUMBER_BUILTINS:
        return False
    if code == "General":
        return True
    quoted, prev = False, ""
    for ch in code:
        if quoted:
            if ch in _ESCAPES:
                return False
            quoted = ch != '"'
        elif ch == '"':
            if prev in _ESCAPES:
                return False
            quoted = True
        elif ch in _DATE_LETTERS:
            return False
        prev = ch
    return True


# A shared string as Excel, LibreOffice and XlsxWriter write one: plain text (1), or rich text (2):
# runs of text, each with its run properties (self-closing elements only).
_PLAIN_SI = re.compile(
    rb'<si>(?:<t( xml:space="preserve")?>([^<]*+)</t>|<t(?: xml:space="preserve")?/>'
    rb'|((?:<r>(?:<rPr>(?:<[^<>]*/>)*</rPr>)?<t(?: xml:space="preserve")?>[^<]*+</t></r>)+))</si>')
_RUN_TEXT = re.compile(rb'<t( xml:space="preserve")?>([^<]*+)</t>')
_PREFIXED_TAG = re.compile(rb"</?[A-Za-z_][\w.-]*+:")


class SharedStrings:
    """The shared strings, read from the part as far as the cells ask for them.

    A workbook's shared strings hold every text of every sheet, a ledger's too (a million at
    500,000 ledger rows), while the sheets the tool reads use the first few hundred: the part is
    streamed and parsed a chunk at a time, only up to the highest index asked for. A string not
    in the form :data:`_PLAIN_SI` reads (a phonetic guide, a prefixed element), or whose text is
    empty or has an ``_xHHHH_`` escape or a carriage return, is None: calamine reads that workbook.
    """

    __slots__ = ("_buffer", "_chunks", "_done", "items")

    def __init__(self, pkg: Package | None, part: str | None):
        self.items: list[str | None] = []
        self._buffer = b""
        self._done = pkg is None or part is None
        self._chunks = None if self._done else raw_chunks(pkg, pkg.zf.getinfo(part), whole_up_to=_CHUNK)

    def get(self, index: int) -> str | None:
        items = self.items
        while index >= len(items):
            if self._done:
                return None
            self._parse_next()
        return items[index]

    def _parse_next(self) -> None:
        chunk = next(self._chunks, None)
        if chunk is None:
            self._done = True
            if self._buffer.find(b"<si") >= 0:  # a string that never ended: not read here
                self.items.append(None)
            self.close()
            return
        data = self._buffer + chunk if self._buffer else chunk
        end = data.rfind(b"</si>") + 5 if data.rfind(b"</si>") >= 0 else 0
        region, self._buffer = data[:end], data[end:]
        if not region:
            return
        found = _PLAIN_SI.findall(region)
        if len(found) != region.count(b"<si") or _PREFIXED_TAG.search(region):
            # a string in another form: the strings before it are read, it and every later one not
            found, at, pos = [], 0, region.find(b"<si")
            while pos >= 0 and (m := _PLAIN_SI.match(region, pos)) and not _PREFIXED_TAG.search(region, at, pos):
                found.append(m.groups())
                at, pos = m.end(), region.find(b"<si", m.end())
            self._done = True
            self.close()
        items = self.items
        # a region without escapes, carriage returns or entity references, in UTF-8 (nearly every
        # one): a plain string's text is then its bytes decoded, taken unless white space ends it
        clean = region.find(b"_x") < 0 and region.find(b"\r") < 0 and region.find(b"&") < 0 and _utf8(region)
        for preserve, plain, runs in found:
            if clean and not runs:
                items.append(plain.decode() if plain and (preserve or len(plain.strip(_XML_WHITE)) == len(plain))
                             else None)
                continue
            if runs:
                parts = _RUN_TEXT.findall(runs)
                ok = all(_plain_text(text, keep) for keep, text in parts)
                raw = b"".join(text for _keep, text in parts)
            else:
                ok, raw = _plain_text(plain, preserve), plain  # "" too is calamine's to read
            try:
                self.items.append(_text(raw) if ok else None)
            except UnicodeDecodeError:
                self.items.append(None)

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()
            self._chunks = None


def shared_strings(pkg: Package) -> SharedStrings:
    """The workbook's shared strings, read as far as they are asked for (none without the part)."""
    part = rel_part(pkg.relationships(pkg.workbook_part), REL_SHARED_STRINGS)
    return SharedStrings(pkg, part if part is not None and pkg.has(part) else None)


def cell_reading(pkg: Package, formats: list[tuple[int, str | None]]) -> CellReading:
    """What the scan needs to read the cells' values itself (:class:`CellReading`); its shared
    strings stream from the open package: :meth:`CellReading.close` before the package closes."""
    number = {b"%d" % i for i, (fmt_id, code) in enumerate(formats) if certainly_not_date(fmt_id, code)}
    if not formats or b"0" in number:  # no s attribute: cell format 0 (none listed: General)
        number.add(b"")
    return CellReading(shared_strings(pkg), frozenset(number))
