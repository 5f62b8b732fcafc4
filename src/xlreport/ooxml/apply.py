"""Apply the engine's change set to a workbook package, losslessly and atomically.

Only the parts that must change are edited (the written worksheets, the owned sheets,
styles.xml, workbook.xml and its relationships, [Content_Types].xml, calcChain.xml); every
other part is copied raw.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..core.changes import CellWrite, ChangeSet, SheetContent
from ..core.errors import WriteFailed
from ..records import Record, field
from .atomic import refuse_unwritable, write_atomically
from .dependents import scan_dependent_formulas, unscanned_findings
from .edit import PackageEdit
from .names import CONTENT_TYPES, REL_STYLES, SUFFIX_OF_MAIN, rel_part
from .package import Package, content_type_override, open_package
from .sheetxml import apply_cell_writes, build_owned_sheet, set_print_titles
from .styles import ensure_styles
from .workbook import add_sheet, new_worksheet_part, prune_calc_chain, set_full_calc_on_load, worksheet_part


class WriteSummary(Record):
    path: Path
    changed: list[str] = field(default_factory=list)  # zip names of replaced parts
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dependent_formulas: int = 0  # formulas elsewhere that read a written cell or an owned sheet
    findings: list = field(default_factory=list)  # warnings of the write (a sheet the count could not read)


def apply_changes(path: str | Path, changes: ChangeSet, out: str | Path | None = None) -> WriteSummary:
    """Apply ``changes`` to the workbook at ``path``, writing ``out`` (default: in place) atomically."""
    path = Path(path)
    target = Path(out) if out is not None else path
    refuse_unwritable(target)
    with open_package(path) as pkg:
        _refuse_wrong_suffix(pkg, path, target)
        dependent = scan_dependent_formulas(pkg, changes)
        edit = PackageEdit(pkg)
        _apply_writes(edit, changes.writes)
        if changes.sheets:
            style_ids = _ensure_styles(edit)
            for content in changes.sheets:
                _put_owned_sheet(edit, content, style_ids)
        if changes.writes:
            set_full_calc_on_load(edit)
        _prune_calc_chain(edit, changes)
        write_atomically(edit, target)
    return WriteSummary(path=target, changed=sorted(edit.replace), added=sorted(edit.add),
                        removed=sorted(edit.remove), dependent_formulas=dependent.count,
                        findings=unscanned_findings(dependent))


def _refuse_wrong_suffix(pkg: Package, source: Path, target: Path) -> None:
    """Refuse ``-o ut.xlsx`` for an .xlsm (or the reverse): Excel will not open the result at all."""
    if target.suffix.lower() == source.suffix.lower():
        return
    name = content_type_override(pkg.workbook_part)
    expected = next((SUFFIX_OF_MAIN.get(o.get("ContentType", ""))
                     for o in pkg.xml(CONTENT_TYPES).getroot() if o.get("PartName", "").lower() == name.lower()),
                    None)
    if expected is not None and target.suffix.lower() != expected:
        raise WriteFailed(f"Arbetsboken är en {expected}-fil och kan inte skrivas som {target.name}: Excel öppnar "
                          f"inte en {expected}-arbetsbok med filändelsen {target.suffix or '(ingen)'}. Skriv till en "
                          f"fil som slutar på {expected}; originalet är oförändrat", file=target)


def _apply_writes(edit: PackageEdit, writes: list[CellWrite]) -> None:
    by_sheet: dict[str, list[CellWrite]] = defaultdict(list)
    for w in writes:
        by_sheet[w.sheet].append(w)
    for name, sheet_writes in by_sheet.items():
        part = worksheet_part(edit, name)
        try:
            data = apply_cell_writes(edit.read(part), sheet_writes)
        except ValueError as exc:  # a sheet the reader could read but no writer of the format can change
            raise WriteFailed(f"Bladet '{name}' kan inte skrivas: {exc} ({part}). Arbetsboken är oförändrad; "
                              f"öppna den i Excel, spara den och kör igen.", file=edit.path, sheet=name) from exc
        edit.put(part, data)


def _ensure_styles(edit: PackageEdit) -> dict[str, int]:
    part = rel_part(edit.relationships(edit.workbook_part), REL_STYLES)
    if part is None or not edit.has(part):
        return {}
    new_xml, ids = ensure_styles(edit.read(part))
    if new_xml is not None:
        edit.put(part, new_xml)
    return ids


def _put_owned_sheet(edit: PackageEdit, content: SheetContent, style_ids: dict[str, int]) -> None:
    from .charts import put_charts

    exists = edit.sheet(content.name) is not None
    part = worksheet_part(edit, content.name) if exists else new_worksheet_part(edit)
    data = build_owned_sheet(content, style_ids, put_charts(edit, part, content))
    if exists:
        edit.put(part, data)
    else:
        add_sheet(edit, content.name, part, data)
    _print_titles(edit, content)


def _print_titles(edit: PackageEdit, content: SheetContent) -> None:
    """The owned sheet's rows repeated on every printed page (a defined name in workbook.xml)."""
    names = [s.name for s in edit.sheets()]
    entry = edit.sheet(content.name)
    wb = edit.read_tree(edit.workbook_part).getroot()
    rows = content.page.title_rows if content.page is not None else None
    if set_print_titles(wb, names.index(entry.name), entry.name, rows):
        edit.tree(edit.workbook_part)  # changed: what was read from workbook.xml goes
        edit.touch(edit.workbook_part)


def _prune_calc_chain(edit: PackageEdit, changes: ChangeSet) -> None:
    """Sheets replaced whole, and written cells that no longer hold a formula, leave the chain."""
    whole = {entry.sheet_id for c in changes.sheets if (entry := edit.sheet(c.name)) is not None}
    ids = {name: edit.sheet(name).sheet_id for name in {w.sheet for w in changes.writes if w.formula is None}}
    cells = {(ids[w.sheet], w.a1) for w in changes.writes if w.formula is None}
    prune_calc_chain(edit, whole, cells)
