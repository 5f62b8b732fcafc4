"""How many of the user's formulas read what the tool writes (Excel recalculates them on open).

A conservative text scan of the worksheet parts, never a parse of the whole workbook: cell and
range references (with or without a sheet name) are compared with the written cells and the
owned sheets; names and INDIRECT are not resolved.
"""

from __future__ import annotations

import bisect
import html
import re
from collections import defaultdict
from collections.abc import Iterable

from ..core.cells import a1
from ..core.changes import ChangeSet
from ..core.errors import NotAWorkbook, UnsafeWorkbook
from .package import Package, part_chunks
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


def count_dependent_formulas(pkg: Package, changes: ChangeSet) -> int:
    """How many formulas in the user's worksheets depend on the cells or sheets the tool writes.

    Excel recalculates them on the next open (``fullCalcOnLoad``). Formulas the tool writes
    itself are not counted; a shared formula counts once per cell. Parts too big for the reader
    limits are skipped, and any problem gives a count of what could be read: counting never
    stops a write.
    """
    written = WrittenCells((w.sheet, w.row, w.col) for w in changes.writes)
    owned = {(info.name if (info := pkg.sheet(s.name)) else s.name) for s in changes.sheets}
    if not written and not owned:
        return 0
    needles = {html.escape(n.replace("'", "''") if quoted else n, quote=False).encode()
               for n in (*written.sheets(), *owned) for quoted in (False, True)}
    total = 0
    for info in pkg.sheets():
        if info.kind != "worksheet" or not info.part or info.name in owned or not pkg.has(info.part):
            continue
        try:
            data = _worth_scanning(pkg, info.part, needles if info.name not in written else None)
        except (NotAWorkbook, UnsafeWorkbook):
            continue
        if data is None:
            continue
        own_cells = {a1(r, c) for r, c in written.cells(info.name)}
        masters: dict[bytes, bool] = {}
        for m in _F_ELEMENT.finditer(data):
            attrs, body = m.group(1), m.group(2)
            cell_ref = _cell_ref_before(data, m.start())
            if cell_ref in own_cells:
                continue
            si = _SI.search(attrs)
            if body:
                text = html.unescape(body.decode("utf-8", "replace"))
                dep = formula_depends(text, info.name, written, owned)
                if si and _REF_ATTR.search(attrs):
                    masters[si.group(1)] = dep
            else:
                dep = bool(si) and masters.get(si.group(1), False)
            total += dep
    return total


def _worth_scanning(pkg: Package, part: str, needles: set[bytes] | None) -> bytes | None:
    """The part's XML from just before its first formula, when it has a formula that may read
    what we write; else None. One streaming pass: a sheet of values (a ledger) is never held
    whole in memory. ``needles`` (the written and owned sheet names) must occur somewhere too,
    unless None (the sheet is itself written)."""
    kept: list[bytes] = []
    previous, tail = b"", b""
    formula, named = False, needles is None
    for chunk in part_chunks(pkg, part):
        window = tail + chunk
        if not formula and b"<f" in window:
            formula, kept = True, [previous]  # the chunk before holds the start of its cell
        if formula:
            kept.append(chunk)
        named = named or any(n in window for n in needles)
        previous, tail = chunk, window[-256:]
    return b"".join(kept) if formula and named else None


_C_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+\d+)"')


def _cell_ref_before(data: bytes, pos: int) -> str | None:
    """The r attribute of the ``<c>`` element that contains the ``<f>`` at ``pos``."""
    start = data.rfind(b"<", max(0, pos - 4096), pos)
    m = _C_OPEN.match(data, start) if start >= 0 else None
    return m.group(1).decode() if m else None
