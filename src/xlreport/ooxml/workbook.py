"""Edits of the workbook part: sheet entries, the calculation settings and the calc chain."""

from __future__ import annotations

from lxml import etree

from ..core.chars import ascii_digits
from ..core.errors import StructureError
from .edit import PackageEdit
from .names import CT_WORKSHEET, NS_R, REL_CALC_CHAIN, REL_WORKSHEET, is_rel, q
from .package import local, sheet_id

_MAX_SHEET_ID = 0xFFFFFFFF  # sheetId is an xsd:unsignedInt

# workbook.xml children that come after <calcPr> in schema order.
_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


def worksheet_part(edit: PackageEdit, name: str) -> str:
    """The part of the worksheet called ``name`` (case does not matter, as in Excel)."""
    entry = edit.sheet(name)
    if entry is None:
        raise StructureError(f"Bladet '{name}' finns inte i arbetsboken", file=edit.path, sheet=name)
    rel = next((r for r in edit.relationships(edit.workbook_part) if r.get("Id") == entry.rid), {})
    if not is_rel(rel.get("Type"), REL_WORKSHEET) or not entry.part or not edit.has(entry.part):
        raise StructureError(f"Bladet '{name}' är inget vanligt kalkylblad och kan inte skrivas",
                             file=edit.path, sheet=name)
    return entry.part


def new_worksheet_part(edit: PackageEdit) -> str:
    """A free ``.../worksheets/sheetN.xml`` beside the workbook part."""
    wb = edit.workbook_part
    folder = wb.rsplit("/", 1)[0] + "/worksheets" if "/" in wb else "worksheets"
    return edit.free_name(folder + "/sheet{n}.xml")


def add_sheet(edit: PackageEdit, name: str, part: str, data: bytes, state: str = "visible") -> str:
    """Add ``data`` as worksheet ``part``, the workbook's last sheet called ``name``; returns
    the relationship id (the part, its relationship, its sheet entry and its content type)."""
    edit.put(part, data)
    rid = edit.add_relationship(edit.workbook_part, REL_WORKSHEET, part)
    wb = edit.tree(edit.workbook_part).getroot()
    sheets = wb.find(q("sheets"))
    # above every readable id: one that is not a number ("x") can equal no number. Excel's ids are
    # unsigned 32-bit: past the largest, the smallest free one
    taken = {i for s in sheets if (i := sheet_id(s.get("sheetId"))) is not None}
    next_id = max(taken, default=0) + 1
    if next_id > _MAX_SHEET_ID:
        next_id = next(i for i in range(1, _MAX_SHEET_ID + 1) if i not in taken)
    el = etree.SubElement(sheets, q("sheet"), name=name, sheetId=str(next_id))
    if state != "visible":
        el.set("state", state)
    el.set(f"{{{NS_R}}}id", rid)
    edit.touch(edit.workbook_part)
    edit.add_override(part, CT_WORKSHEET)
    return rid


def set_full_calc_on_load(edit: PackageEdit) -> None:
    """Ask Excel and LibreOffice to recalculate every formula when the workbook is opened."""
    wb = edit.tree(edit.workbook_part).getroot()
    calc = wb.find(q("calcPr"))
    if calc is None:
        calc = etree.Element(q("calcPr"))
        after = next((i for i, c in enumerate(wb) if local(c) in _AFTER_CALCPR), None)
        wb.insert(len(wb) if after is None else after, calc)
    if calc.get("fullCalcOnLoad") not in ("1", "true"):
        calc.set("fullCalcOnLoad", "1")
    edit.touch(edit.workbook_part)


# --- the calc chain -----------------------------------------------------------------------


def _calc_chain_rel(edit: PackageEdit) -> dict[str, str] | None:
    return next((r for r in edit.relationships(edit.workbook_part)
                 if is_rel(r.get("Type"), REL_CALC_CHAIN) and "part" in r), None)


def prune_calc_chain(edit: PackageEdit, whole_sheets: set[int | None], cells: set[tuple[int | None, str]]) -> None:
    """Drop calc-chain entries of sheets replaced whole (by sheet id) and of cells that no longer
    hold a formula ((sheet id, A1)); an emptied calc chain is removed.

    When an entry's sheet (``i``) is not a number, or a changed sheet has no readable id (None),
    which entries to drop is unknown, and one left for a cell without a formula makes Excel repair
    the file: the whole chain goes, as when rows are inserted. It is only a cache Excel rebuilds.
    """
    rel = _calc_chain_rel(edit)
    if rel is None or not edit.has(rel["part"]) or (not whole_sheets and not cells):
        return
    part = rel["part"]
    root = edit.read_tree(part).getroot()
    if None in whole_sheets or any(s is None for s, _ in cells) or \
            any(i is not None and not ascii_digits(i) for i in (c.get("i") for c in root)):
        _remove_calc_chain(edit, part, rel["Id"])
        return
    root = edit.tree(part).getroot()
    chain_id, dropped_before = None, False
    for c in list(root):
        if c.get("i") is not None:
            chain_id = int(c.get("i"))
        if chain_id in whole_sheets or (chain_id, c.get("r")) in cells:
            root.remove(c)
            dropped_before = True
            continue
        if dropped_before and c.get("i") is None and chain_id is not None:
            c.set("i", str(chain_id))  # the previous entry carried it implicitly
        dropped_before = False
    if len(root):
        edit.touch(part)
    else:
        _remove_calc_chain(edit, part, rel["Id"])


def drop_calc_chain(edit: PackageEdit) -> None:
    """Formulas moved: remove the calc chain (part, relationship, content type); Excel rebuilds it."""
    rel = _calc_chain_rel(edit)
    if rel is not None:
        _remove_calc_chain(edit, rel["part"], rel["Id"])


def _remove_calc_chain(edit: PackageEdit, part: str, rid: str) -> None:
    edit.remove_part(part)
    edit.remove_relationship(edit.workbook_part, rid)
    edit.remove_override(part)
