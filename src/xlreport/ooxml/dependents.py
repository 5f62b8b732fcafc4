"""How many of the user's formulas read what the tool writes (Excel recalculates them on open).

A conservative text scan of the worksheet parts, never a parse of the whole workbook: cell and
range references (with or without a sheet name) are compared with the written cells and the
owned sheets; names and INDIRECT are not resolved.
"""

from __future__ import annotations

import bisect
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable

from ..core.cells import a1
from ..core.changes import ChangeSet
from ..core.findings import WARNING, Finding
from ..records import Record, field
from . import xmltext
from .checks import FORMELSOK
from .package import KEEP_PART_MAX, Package, raw_chunks
from .refs import STRING_LITERAL, reference_box, reference_sheet, references

_F_ELEMENT = re.compile(rb"<(?!xm:)(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_SI = re.compile(rb'\bsi="(\d+)"')
_REF_ATTR = re.compile(rb'\bref="')


class WrittenCells:
    """The cells a change set writes, per sheet and column, for range look-ups in log time."""

    def __init__(self, cells: Iterable[tuple[str, int, int]] = ()):
        self._cols: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for sheet, row, col in cells:
            self._cols[sheet][col].append(row)
        for cols in self._cols.values():
            for rows in cols.values():
                rows.sort()

    def __contains__(self, sheet: str) -> bool:
        return sheet in self._cols

    def __bool__(self) -> bool:
        return bool(self._cols)

    def sheets(self) -> list[str]:
        return list(self._cols)

    def cells(self, sheet: str) -> set[tuple[int, int]]:
        return {(r, c) for c, rows in self._cols.get(sheet, {}).items() for r in rows}

    def any_in(self, sheet: str, top: int | None, left: int, bottom: int | None, right: int) -> bool:
        """Whether a written cell lies in the rectangle (``top`` None: whole columns)."""
        for col, rows in self._cols.get(sheet, {}).items():
            if left <= col <= right:
                if top is None:
                    return True
                i = bisect.bisect_left(rows, top)
                if i < len(rows) and rows[i] <= bottom:
                    return True
        return False


def formula_depends(formula: str, sheet: str, written: WrittenCells, owned: set[str]) -> bool:
    """Whether a formula on ``sheet`` reads a written cell or any cell of an owned sheet.

    A conservative text heuristic: cell and range references (with or without a sheet name)
    are compared with the written cells; names and INDIRECT are not resolved.
    """
    for m in references(STRING_LITERAL.sub('""', formula)):
        ref_sheet = reference_sheet(m) or sheet
        if ref_sheet in owned:
            return True
        if ref_sheet in written and (box := reference_box(m)) is not None and written.any_in(ref_sheet, *box):
            return True
    return False


class DependentScan(Record):
    """What :func:`scan_dependent_formulas` found."""

    count: int = 0  # formulas in the user's sheets that read a written cell or an owned sheet
    unscanned: list[tuple[str, str]] = field(default_factory=list)  # (sheet, why) it could not read


def count_dependent_formulas(pkg: Package, changes: ChangeSet) -> int:
    """How many formulas in the user's worksheets depend on the cells or sheets the tool writes
    (see :func:`scan_dependent_formulas`)."""
    return scan_dependent_formulas(pkg, changes).count


def scan_dependent_formulas(pkg: Package, changes: ChangeSet) -> DependentScan:
    """Count the formulas in the user's worksheets that depend on the cells or sheets the tool
    writes: Excel recalculates them on the next open (``fullCalcOnLoad``).

    Formulas the tool writes itself are not counted; a shared formula counts once per cell.
    Every worksheet is searched whatever its size, in one streaming pass that holds at most one
    chunk and one cell of it (a ledger is never inflated whole; a part the package keeps, of up
    to ``KEEP_PART_MAX`` bytes, is searched as one chunk); a sheet whose data cannot be
    read is named in ``unscanned`` (the caller reports it), never silently left out. Counting
    never stops a write.
    """
    result = DependentScan()
    written = WrittenCells((w.sheet, w.row, w.col) for w in changes.writes)
    owned = {(info.name if (info := pkg.sheet(s.name)) else s.name) for s in changes.sheets}
    if not written and not owned:
        return result
    needles = tuple({xmltext.escape(n.replace("'", "''") if quoted else n).encode()
                     for n in (*written.sheets(), *owned) for quoted in (False, True)})
    for info in pkg.sheets():
        if info.kind != "worksheet" or not info.part or info.name in owned or not pkg.has(info.part):
            continue
        try:
            result.count += _count_in_part(pkg, info.part, info.name, written, owned,
                                           None if info.name in written else needles)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            result.unscanned.append((info.name, str(exc) or type(exc).__name__))
    return result


def unscanned_findings(scan: DependentScan) -> list[Finding]:
    """A warning for each sheet :func:`scan_dependent_formulas` could not read."""
    return [Finding(FORMELSOK.id, WARNING,
                    f"Bladet '{sheet}' kunde inte sökas igenom efter formler som läser de skrivna cellerna "
                    f"({why}): de räknas inte med, men Excel räknar om alla formler när arbetsboken öppnas. "
                    "Bladets data i filen kan vara skadad; kontrollera det i Excel", sheet, None)
            for sheet, why in scan.unscanned]


_CELL_START = re.compile(rb"<(?:\w+:)?c[\s/>]")
_CARRY_MAX = 1 << 22  # a tail with no cell start this long (no Excel cell is) is cut at its last tag


def _raw_chunks(pkg: Package, part: str):
    """The inflated bytes of ``part`` in chunks, however large the part is (the package's total
    size and compression ratio were checked when it was opened). A small part comes whole, as
    the package keeps it: the write that follows reads the written sheets again."""
    return raw_chunks(pkg, pkg.zf.getinfo(part), whole_up_to=KEEP_PART_MAX)


def _count_in_part(pkg: Package, part: str, sheet: str, written: WrittenCells, owned: set[str],
                   needles: tuple[bytes, ...] | None) -> int:
    """The dependent formulas of one worksheet part, streamed: the text is searched a piece at
    a time, each piece ending just before a cell's start tag, so every ``<f>`` is seen whole
    with its ``<c>``. ``needles`` (the written and owned sheet names as the XML spells them):
    a formula that names none of them cannot read them (None: the sheet is itself written)."""
    own_cells = {a1(r, c) for r, c in written.cells(sheet)}
    masters: dict[bytes, bool] = {}
    total = 0
    carry = b""
    for chunk in _raw_chunks(pkg, part):
        data = carry + chunk
        # no formula here: most pieces of a ledger have no "f" byte at all, which memchr finds at
        # memory speed; the two-byte searches cost about 1 ns a byte (30 ms on 50,000 rows)
        if b"f" not in data or (b"<f" not in data and b":f" not in data):
            carry = data[_last_cell_start(data):]
            continue
        cut = _last_cell_start(data)
        if cut == 0 and len(data) > _CARRY_MAX:
            cut = data.rfind(b">") + 1
        total += _count_formulas(data[:cut], sheet, written, owned, needles, own_cells, masters)
        carry = data[cut:]
    total += _count_formulas(carry, sheet, written, owned, needles, own_cells, masters)
    return total


_AFTER_C = frozenset(b" >\t\n\r/")


def _last_cell_start(data: bytes) -> int:
    """The offset of the last ``<c`` start tag in ``data``, or 0. (One backward search for
    ``<c``, skipping ``<col``, ``<cfRule`` …: searching for each spelling of the tag separately
    scanned the whole chunk for the spellings that never occur, a third of a large sheet's scan.)"""
    last, end = 0, len(data)
    while (i := data.rfind(b"<c", 0, end)) >= 0:
        if i + 2 < len(data) and data[i + 2] in _AFTER_C:
            last = i
            break
        end = i
    if data.find(b":c", last) >= 0:  # a prefixed cell (<x:c ...>) after it: rare, so the regex only then
        for m in _CELL_START.finditer(data, last):
            last = m.start()
    return last


def _count_formulas(data: bytes, sheet: str, written: WrittenCells, owned: set[str],
                    needles: tuple[bytes, ...] | None, own_cells: set[str], masters: dict[bytes, bool]) -> int:
    total = 0
    for m in _F_ELEMENT.finditer(data):
        attrs, body = m.group(1), m.group(2)
        si = _SI.search(attrs)
        if body:
            if needles is not None and not any(n in body for n in needles):
                dep = False  # names no written or owned sheet: reads only its own sheet's cells
            else:
                cell_ref = _cell_ref_before(data, m.start())
                if cell_ref in own_cells:
                    continue
                dep = formula_depends(xmltext.unescape(body.decode("utf-8", "replace")), sheet, written, owned)
            if si and _REF_ATTR.search(attrs):
                masters[si.group(1)] = dep
        else:
            dep = bool(si) and masters.get(si.group(1), False)
            if dep and _cell_ref_before(data, m.start()) in own_cells:
                continue
        total += dep
    return total


_C_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+\d+)"')


def _cell_ref_before(data: bytes, pos: int) -> str | None:
    """The r attribute of the ``<c>`` element that contains the ``<f>`` at ``pos``."""
    start = data.rfind(b"<", max(0, pos - 4096), pos)
    m = _C_OPEN.match(data, start) if start >= 0 else None
    return m.group(1).decode() if m else None
