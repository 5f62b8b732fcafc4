"""A streaming pass over the parts a reader will parse, before it parses them.

calamine allocates the whole rectangle between the first and the last cell of a sheet and
parses every part it opens; :func:`guard_for_reader` checks each of those parts against the
safety limits first and scans the wanted sheets for what calamine does not show (error values,
formulas without a cached value).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from ..core.cells import a1, parse_a1
from ..core.errors import NotAWorkbook, UnsafeWorkbook
from .names import REL_SHARED_STRINGS, REL_STYLES, is_rel, q
from .package import Limits, Package, check_part, part_chunks, pull_parser
from .refs import translate


@dataclass
class SheetScan:
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


_C, _ROW, _F, _V, _IS = q("c"), q("row"), q("f"), q("v"), q("is")


def scan_sheet(pkg: Package, part: str, sheet: str, limits: Limits | None = None) -> SheetScan:
    """Stream a worksheet part: its extent, error cells and formulas without a cached value.

    calamine allocates the whole rectangle between the first and the last cell of a sheet, so
    a single cell at XFD1048576 would ask for hundreds of GB: the extent is checked here first
    (the ``<dimension>`` element is not trusted, the cells are counted).
    """
    limits = limits or pkg.limits
    scan = SheetScan()
    parser = pull_parser(events=("start", "end"))
    row_no, col_no = 0, -1
    try:
        for chunk in part_chunks(pkg, part, limits):
            parser.feed(chunk)
            for event, el in parser.read_events():
                tag = el.tag
                if event == "start":
                    if tag == _ROW:
                        r = el.get("r")
                        row_no = int(r) - 1 if r and r.isdigit() else row_no + 1
                        col_no = -1
                    continue
                if tag == _C:
                    ref = el.get("r")
                    try:
                        row, col = parse_a1(ref) if ref else (row_no, col_no + 1)
                    except ValueError:
                        row, col = row_no, col_no + 1
                    col_no = col
                    _note_cell(scan, el, row, col)
                    if scan.area > limits.max_sheet_cells:
                        far = a1(max(row, scan.bottom), max(col, scan.right))
                        most = f"{limits.max_sheet_cells:,}".replace(",", " ")
                        raise UnsafeWorkbook(
                            f"Bladet '{sheet}' sträcker sig ända till cell {far}, fler celler än de {most} "
                            "som läses: ta bort innehållet längst ut på bladet och försök igen",
                            file=pkg.path, sheet=sheet, cell=a1(row, col))
                    el.clear(keep_tail=False)
                elif tag == _ROW:
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:
                        del el.getparent()[0]
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise NotAWorkbook(f"Bladet '{sheet}' är skadat (ogiltig XML i {part}: {exc})", file=pkg.path,
                           sheet=sheet) from exc
    return scan


def _note_cell(scan: SheetScan, el: etree._Element, row: int, col: int) -> None:
    f = el.find(_F)
    v = el.find(_V)
    has_value = v is not None or el.find(_IS) is not None
    if not has_value and f is None:
        return  # a formatted empty cell: calamine does not count it
    scan.cells += 1
    scan.top = row if scan.top is None else min(scan.top, row)
    scan.left = col if scan.left is None else min(scan.left, col)
    scan.bottom, scan.right = max(scan.bottom, row), max(scan.right, col)
    s = el.get("s")
    if s and s != "0" and s.isdigit():
        scan.styles[(row, col)] = int(s)
    if f is not None:
        text = _formula_text(scan, f, row, col)
        if f.get("t") not in ("array", "dataTable"):  # those keep Excel's values: never rewritten
            scan.formulas[(row, col)] = text
        if not has_value:
            scan.uncalculated[(row, col)] = text
    if el.get("t") == "e" and v is not None and v.text:
        scan.errors[(row, col)] = v.text.strip()


def _formula_text(scan: SheetScan, f: etree._Element, row: int, col: int) -> str:
    """The formula of one cell; a shared formula's other cells have none written of their own."""
    text = f.text or ""
    if f.get("t") != "shared" or f.get("si") is None:
        return text
    si = f.get("si")
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


def styles_part(pkg: Package) -> bytes | None:
    """styles.xml of the package (already checked by :func:`guard_for_reader`), or None."""
    part = next((r["part"] for r in pkg.relationships(pkg.workbook_part)
                 if is_rel(r.get("Type"), REL_STYLES) and "part" in r), None)
    return pkg.read(part) if part is not None and pkg.has(part) else None


def calculation_mode(pkg: Package) -> str | None:
    """``calcPr/@calcMode`` of the workbook: "manual", "autoNoTable", "auto" or None (auto)."""
    calc = pkg.xml(pkg.workbook_part).getroot().find(q("calcPr"))
    return calc.get("calcMode") if calc is not None else None
