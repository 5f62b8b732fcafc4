"""Inserting rows into a worksheet the way Excel does: cells, formulas and ranges move down.

Used by ``upgrade`` and ``consolidate`` when a unit table needs more rows than the template has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ..core.cells import a1, col_letter, parse_a1
from ..core.chars import ascii_digits
from ..core.errors import DepartmentError, NotAWorkbook
from .edit import PackageEdit
from .names import REL_WORKSHEET, is_rel, q
from .refs import rewrite_refs, shift_range_list
from .workbook import drop_calc_chain, worksheet_part

_ANCHORED = ("drawing", "legacyDrawing", "tableParts")


def copy_with_rows_inserted(source: Path, dest: Path, inserts: list[tuple[str, int, int, int]]) -> None:
    """Write ``source`` to ``dest`` with rows inserted: ``(sheet, before, n, style_from)`` each,
    as :func:`insert_rows` takes them (at most one insert per sheet: later ones are not shifted)."""
    with PackageEdit.opened(source) as edit:
        for sheet, before, n, style_from in inserts:
            insert_rows(edit, sheet, before, n, style_from)
        edit.write(dest)


def insert_rows(edit: PackageEdit, sheet: str, before: int, n: int, style_from: int) -> None:
    """Insert ``n`` rows above the 0-based row ``before`` of ``sheet``, formatted like ``style_from``.

    Cells, formulas (on every sheet, in defined names, conditional formats and data validations),
    merged ranges, conditional formats, data validations and hyperlinks at or below ``before``
    move down. Sheets with drawings,
    comments or tables are refused: their anchors would need moving too.
    """
    if n <= 0:
        return

    def shift(target_sheet: str | None, row: int, col: int, *, own: bool) -> tuple[int, int] | None:
        mine = target_sheet == sheet if target_sheet is not None else own
        return (row + n, col) if mine and row >= before else None

    part = worksheet_part(edit, sheet)
    tree = edit.xml(part)
    root = tree.getroot()
    for tag in _ANCHORED:
        if root.find(q(tag)) is not None:
            raise DepartmentError(f"Bladet {sheet} har bilder, kommentarer eller tabellobjekt; xlreport kan inte "
                                  f"infoga rader där. Infoga {n} tomma rader ovanför rad {before + 1} i Excel och kör igen.",
                                  file=edit.path, sheet=sheet)
    ext = root.find(q("extLst"))
    if ext is not None and b"sqref" in etree.tostring(ext):
        raise DepartmentError(f"Bladet {sheet} har utökad villkorsstyrd formatering; infoga {n} tomma rader "
                              f"ovanför rad {before + 1} i Excel och kör igen.", file=edit.path, sheet=sheet)
    own = lambda s, r, c: shift(s, r, c, own=True)
    data = root.find(q("sheetData"))
    template_row = template_cols = None
    first_after = None
    for row_el, r in _rows(data, edit, sheet, part):
        if r == style_from:
            template_row, template_cols = row_el, [col for _c, _r, col in _cells(row_el, r, edit, sheet, part)]
        if r >= before:
            if first_after is None:
                first_after = row_el
            # every moved row and cell gets its r written out: one left out would follow a new row
            row_el.set("r", str(r + n + 1))
            for c, row, col in _cells(row_el, r, edit, sheet, part):
                c.set("r", a1(row + n, col))
    for f in root.iter(q("f")):
        if f.text:
            f.text = rewrite_refs(f.text, own)
        if f.get("ref"):
            f.set("ref", rewrite_refs(f.get("ref"), own))
    new_rows = []
    for i in range(n):
        r = before + i
        if template_row is not None:
            el = etree.Element(q("row"), {k: v for k, v in template_row.attrib.items()})
            for c, col in zip(template_row.iterchildren(q("c")), template_cols):
                attrs = {"r": f"{col_letter(col)}{r + 1}"}
                if c.get("s"):
                    attrs["s"] = c.get("s")
                etree.SubElement(el, q("c"), attrs)
        else:
            el = etree.Element(q("row"))
        el.set("r", str(r + 1))
        new_rows.append(el)
    if first_after is not None:
        idx = list(data).index(first_after)
        for i, el in enumerate(new_rows):
            data.insert(idx + i, el)
    else:
        data.extend(new_rows)
    for tag, attr in (("dimension", "ref"), ("mergeCell", "ref"), ("conditionalFormatting", "sqref"),
                      ("dataValidation", "sqref"), ("hyperlink", "ref"), ("selection", "sqref")):
        for el in root.iter(q(tag)):
            if el.get(attr):
                el.set(attr, shift_range_list(el.get(attr), own))
    # the formulas of conditional formats and data validations move with the cells, as in Excel
    for tag in ("formula", "formula1", "formula2"):
        for el in root.iter(q(tag)):
            if el.text:
                el.text = rewrite_refs(el.text, own)
    edit.put_xml(part, tree)
    # other sheets and defined names that point into the shifted rows
    other = lambda s, r, c: shift(s, r, c, own=False)
    wb = edit.workbook_part
    for p in (r["part"] for r in edit.relationships(wb) if is_rel(r.get("Type"), REL_WORKSHEET) and "part" in r):
        if p == part or not edit.has(p):
            continue
        if b"<f" not in edit.read(p):
            continue
        t = edit.xml(p)
        if _rewrite_texts(t.getroot().iter(q("f")), other):
            edit.put_xml(p, t)
    wbt = edit.xml(wb)
    if _rewrite_texts(wbt.getroot().iter(q("definedName")), other):
        edit.put_xml(wb, wbt)
    drop_calc_chain(edit)


def _rows(data: etree._Element, edit: PackageEdit, sheet: str, part: str) -> Iterator[tuple[etree._Element, int]]:
    """Each row of ``sheetData`` with its 0-based number: a row without ``r`` (the schema allows
    leaving it out) is the one after the row before it, as calamine reads it."""
    r = -1
    for row_el in data.iterchildren(q("row")):
        given = row_el.get("r")
        if given and not ascii_digits(given):  # the reader refuses such a sheet too (scan.py)
            raise NotAWorkbook(f"Bladet '{sheet}' är skadat: en rad har radnumret '{given}', som inte är ett tal "
                               f"({part})", file=edit.path, sheet=sheet)
        r = int(given) - 1 if given else r + 1
        yield row_el, r


def _cells(row_el: etree._Element, r: int, edit: PackageEdit, sheet: str,
           part: str) -> Iterator[tuple[etree._Element, int, int]]:
    """Each cell of the row ``r`` with its 0-based (row, col): a cell without ``r`` is the one
    after the cell before it (the first in column A), as calamine reads it."""
    col = -1
    for c in row_el.iterchildren(q("c")):
        given = c.get("r")
        if given:
            try:
                row, col = parse_a1(given)
            except ValueError:  # calamine cannot read such a sheet either
                raise NotAWorkbook(f"Bladet '{sheet}' är skadat: en cell har adressen '{given}', som inte är "
                                   f"en celladress ({part})", file=edit.path, sheet=sheet) from None
        else:
            row, col = r, col + 1
        yield c, row, col


def _rewrite_texts(elements, rewrite) -> bool:
    """Rewrite the references in each element's text (formulas, defined names); True when one changed."""
    changed = False
    for el in elements:
        if el.text:
            new = rewrite_refs(el.text, rewrite)
            changed |= new != el.text
            el.text = new
    return changed
