"""Upgrade: move a workbook made from an older template version into the current template.

The user's data is found by name, as the reader finds it (sheet, table header, column header,
row label), with the older versions' header spellings known as aliases. Moved are: the values of
the input cells (the Uppgifter values and the unit list, every input cell of every table; a
formula a user typed in an input cell arrives as its value, and is reported), the notes
(comments) on the user's cells, re-created at the cells' new addresses, and the user's own
sheets, copied part by part with their formats, notes and drawings. Formulas on the user's own
sheets that point into the template's sheets are re-pointed to the moved cells.

The deviation columns and the Rapport/Kontroller sheets are not moved: ``xlreport refresh``
recomputes them.
"""

from __future__ import annotations

from pathlib import Path

from ..core import layout as L
from ..core.cells import CellRef, Grid, a1
from ..core.changes import CellWrite, ChangeSet
from ..core.errors import StructureError
from ..core.model import Report, Table
from ..core.template import template_formulas
from ..records import Record, field
from .common import DepartmentError, default_template, version_of

#: Header texts of older template versions -> the current header (by version, for the record;
#: all of them are accepted whatever version a workbook claims).
LEGACY_HEADERS: dict[str, dict[str, str]] = {
    "0.9": {"Årsbudget": L.COL_BUDGET_HELAR},
}
_COMPUTED = (L.COL_AVV, L.COL_AVV_HELAR)
_VARIABLE = ("units", "explanation", "commitments")
_FIXED = ("income", "staff", "leavers", "sick")


class UpgradeResult(Record):
    source: Path
    out: Path | None
    old_version: str | None
    new_version: str
    moved: dict[str, int] = field(default_factory=dict)  # sheet -> values moved
    comments: int = 0
    sheets: list[str] = field(default_factory=list)  # the user's own sheets kept
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.out is None:
            return [f"{self.source}: mallversion {self.old_version} är redan den nuvarande; inget att göra."]
        out = [f"{self.source}: flyttade från mallversion {self.old_version} till {self.new_version} -> {self.out}"]
        for sheet, n in self.moved.items():
            out.append(f"  {sheet}: {n} värden")
        out.append(f"  kommentarer: {self.comments}")
        out.append(f"  egna blad: {', '.join(self.sheets) if self.sheets else 'inga'}")
        out += [f"  obs: {n}" for n in self.notes]
        out.append(f"Kör nu: xlreport refresh \"{self.out}\" (fyller avvikelserna och rapportbladen).")
        return out


def _aliased(grids: dict[str, Grid]) -> dict[str, Grid]:
    """The grids with older header spellings replaced by the current ones."""
    aliases = {L.norm(old): new for table in LEGACY_HEADERS.values() for old, new in table.items()}
    out = {}
    for name, g in grids.items():
        rows = [[aliases.get(L.norm(v), v) if isinstance(v, str) else v for v in row] for row in g.values]
        out[name] = Grid(g.name, rows, g.top, g.left)
    return out


def _tables(rep: Report) -> dict[str, Table | None]:
    return {"income": rep.income, "units": rep.units, "explanation": rep.explanation, "staff": rep.staff,
            "leavers": rep.leavers, "sick": rep.sick, "commitments": rep.commitments}


def _capacity(t: Table) -> int | None:
    return None if t.total is None else t.total.row - t.header_row - 1


def upgrade(path: str | Path, out: str | Path | None = None, *, template: str | Path | None = None) -> UpgradeResult:
    """Move the data of ``path`` into a fresh copy of the current template, written to ``out``
    (default: replace ``path``; the original stays untouched until the new file is complete).

    As every write of the file door: ``out`` is refused while Excel has it open or when it is
    read-only, the run holds its xlreport lock from reading to writing, the result is built in
    temporary files beside it (removed by the next run if this one is killed) and renamed over it
    in one step, keeping its owner and permission bits. A workbook made from a *newer* template
    than ``template`` is refused: a downgrade would drop what the newer template has.
    """
    from ..ooxml.atomic import refuse_unwritable, workbook_lock

    source = Path(path)
    target = Path(out) if out is not None else source
    tpl = Path(template) if template is not None else default_template()
    refuse_unwritable(target)
    if target.suffix.lower() != tpl.suffix.lower():
        raise DepartmentError(f"Den nya mallen är en {tpl.suffix}-arbetsbok; resultatet kan inte heta "
                              f"{target.name}. Ange -o NAMN{tpl.suffix}.", file=target)
    with workbook_lock(target):
        return _upgrade(source, target, tpl)


def _upgrade(source: Path, target: Path, tpl: Path) -> UpgradeResult:
    from ..core.engine import SHEETS, run
    from ..doors.file import read_grids
    from ..ooxml.apply import apply_changes
    from ..ooxml.atomic import atomic_output, temp_beside
    from ..ooxml.rows import copy_with_rows_inserted

    # the template's sheets only, as refresh reads them: a user's own sheet (a ledger of 100,000
    # rows) is copied as XML in step 3, never needed as values
    names, grids = read_grids(source, SHEETS)
    old_version = version_of(grids.get(L.SHEET_META))
    t_names, t_grids = read_grids(tpl, SHEETS)
    new_version = version_of(t_grids.get(L.SHEET_META)) or L.TEMPLATE_VERSION
    if old_version is None:
        raise DepartmentError(f"Arbetsboken har ingen {L.META_VERSION} på bladet {L.SHEET_META}; den är inte gjord "
                              f"från mallen och kan inte uppgraderas.", file=source)
    old_key, new_key = L.version_key(old_version), L.version_key(new_version)
    if old_key is None:
        raise DepartmentError(f"{L.META_VERSION} '{old_version}' på bladet {L.SHEET_META} är inget versionsnummer "
                              f"(som {new_version}); arbetsboken kan inte uppgraderas.", file=source,
                              sheet=L.SHEET_META)
    result = UpgradeResult(source, None, old_version, new_version)
    if old_version == new_version:
        return result
    if new_key is not None and old_key > new_key:
        raise DepartmentError(f"Arbetsboken är gjord från mallversion {old_version}, som är nyare än mallens "
                              f"version {new_version} ({tpl}). Den flyttas inte till en äldre mall: det som bara "
                              f"finns i den nyare mallen skulle gå förlorat. Använd en nyare xlreport, eller "
                              f"mallen med version {old_version} (--template).", file=source, sheet=L.SHEET_META)
    try:
        old = run(_aliased(grids), names, actions=()).report
    except StructureError as exc:
        raise DepartmentError(f"Arbetsbokens tabeller hittas inte, inte ens med mallversion {old_version}s "
                              f"rubriker: {exc.message}", file=source) from exc
    new = run(t_grids, t_names, actions=()).report

    with atomic_output(target, tpl.suffix) as final:
        rows = temp_beside(target, tpl.suffix)  # the template with room for the user's rows
        values = temp_beside(target, tpl.suffix)  # ... and with the user's values
        try:
            # 1. room for the user's rows in the variable tables
            base = tpl
            old_t, new_t = _tables(old), _tables(new)
            inserts = []
            for key in ("units", "explanation"):
                cap, need = _capacity(new_t[key]), len(old_t[key].rows)
                if cap is not None and need > cap:
                    inserts.append((new_t[key], need - cap))
            if inserts:
                copy_with_rows_inserted(tpl, rows, [(t.sheet, t.total.row - 1, n, t.total.row - 1)
                                                    for t, n in inserts])
                base = rows
                t_names, t_grids = read_grids(base, SHEETS)
                new = run(t_grids, t_names, actions=()).report
                new_t = _tables(new)
            # 2. the values
            cell_map: dict[tuple[str, int, int], CellRef] = {}
            # the old sheets' formulas, as the reader's scan found them (each cell's own text, a shared
            # formula's cells included; a cell without r at the place it follows)
            formulas = {name: g.formulas for name, g in grids.items()}
            writes = _value_writes(old, new, grids, cell_map, formulas, result)
            apply_changes(base, ChangeSet(writes=writes), out=values)
            # 3. comments and the user's own sheets
            _comments_and_sheets(source, values, final, names, cell_map, result)
        finally:
            rows.unlink(missing_ok=True)
            values.unlink(missing_ok=True)
    result.out = target
    return result


def _value_writes(old: Report, new: Report, grids: dict[str, Grid], cell_map, formulas, result) -> list[CellWrite]:
    writes: list[CellWrite] = []

    def move(src: CellRef, dst: CellRef, *, value: bool = True, what: str = "") -> None:
        cell_map[(src.sheet, src.row, src.col)] = dst
        if not value:
            return
        v = grids[src.sheet].get(src.row, src.col)
        f = formulas.get(src.sheet, {}).get((src.row, src.col))
        if f:
            result.notes.append(f"{src.sheet}!{src.a1} hade formeln ={f}; flyttad som värdet {v!r} till "
                                f"{dst.sheet}!{dst.a1}")
        if v is None:
            return
        if isinstance(v, float) and v.is_integer() and what == "int":
            v = int(v)
        writes.append(CellWrite(dst.sheet, dst.row, dst.col, v if not hasattr(v, "isoformat") else str(v)))
        result.moved[dst.sheet] = result.moved.get(dst.sheet, 0) + 1

    # Uppgifter: label/value pairs and the unit list
    om, nm = old.meta, new.meta
    for attr, ref in om.cells.items():
        dst = nm.cells.get(attr)
        if dst is None:
            result.notes.append(f"{ref.sheet}!{ref.a1}: uppgiften finns inte i den nya mallen och flyttades inte")
            continue
        cell_map[(ref.sheet, ref.row, ref.col - 1)] = CellRef(dst.sheet, dst.row, dst.col - 1)
        move(ref, dst, value=attr != "version")
    if om.units_header is not None and nm.units_header is not None:
        oh, nh = om.units_header, nm.units_header
        cell_map[(oh.sheet, oh.row, oh.col)] = nh
        for i in range(len(om.units)):
            move(CellRef(oh.sheet, oh.row + 1 + i, oh.col), CellRef(nh.sheet, nh.row + 1 + i, nh.col))

    old_t, new_t = _tables(old), _tables(new)
    for key, ot in old_t.items():
        nt = new_t[key]
        if ot is None or nt is None:
            continue
        cell_map[(ot.sheet, ot.header_row, ot.label_col)] = nt.header_ref()
        for col, c in ot.columns.items():
            if col in nt.columns:
                cell_map[(ot.sheet, ot.header_row, c)] = CellRef(nt.sheet, nt.header_row, nt.columns[col])
        if key in _VARIABLE:
            pairs = [(row, nt.header_row + 1 + i) for i, row in enumerate(ot.rows)]
        else:
            pairs = [(row, nt.get(row.key).row) for row in ot.rows if nt.get(row.key) is not None]
            missing = [row.label for row in ot.rows if nt.get(row.key) is None]
            if missing:
                result.notes.append(f"{ot.sheet}: raderna {', '.join(missing)} finns inte i den nya mallen")
        if ot.total is not None and nt.total is not None:
            pairs.append((ot.total, nt.total.row))
        for row, new_row in pairs:
            is_total = row is ot.total
            move(CellRef(ot.sheet, row.row, ot.label_col), CellRef(nt.sheet, new_row, nt.label_col),
                 value=key in _VARIABLE or (is_total and key in _VARIABLE))
            for col, c in ot.columns.items():
                if col not in nt.columns:
                    result.notes.append(f"{ot.sheet}: kolumnen {col} finns inte i den nya mallen")
                    continue
                computed = col in _COMPUTED or (is_total and key in ("units", "explanation")) or \
                    (key == "income" and row.key == L.ROW_RESULTAT)
                move(CellRef(ot.sheet, row.row, c), CellRef(nt.sheet, new_row, nt.columns[col]), value=not computed,
                     what="int" if key in ("staff", "leavers") else "")
    writes += _formula_writes(new, grids, old, cell_map)
    return writes


def _formula_writes(new: Report, grids, old: Report, cell_map) -> list[CellWrite]:
    """The template's formulas (Resultat, the Summa rows) with cached values of the moved data."""
    values: dict[tuple[str, int, int], float] = {}
    for (sheet, r, c), dst in cell_map.items():
        v = grids[sheet].get(r, c)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            values[(dst.sheet, dst.row, dst.col)] = float(v)
    return template_formulas(new, lambda sheet, r, c: values.get((sheet, r, c)), skip=_COMPUTED)


def _comments_and_sheets(source: Path, work: Path, dest: Path, names: list[str], cell_map,
                         result: UpgradeResult) -> None:
    from ..core.cells import parse_a1
    from ..ooxml.comments import add_comments, read_comments
    from ..ooxml.edit import PackageEdit
    from ..ooxml.refs import rewrite_refs
    from ..ooxml.sheetcopy import copy_sheet, finish_styles, merge_styles_part, shared_strings
    from ..ooxml.workbook import worksheet_part

    with PackageEdit.opened(work) as edit, PackageEdit.opened(source) as src:
        block = 1
        for name in L.REQUIRED_SHEETS:
            info = src.pkg.sheet(name)
            if info is None or not info.part:
                continue
            moved = []
            for ref, author, text in read_comments(src, info.part):
                try:
                    r, c = parse_a1(ref or "")
                except ValueError:  # no cell to hang it on, in the old workbook or the new
                    result.notes.append(f"en kommentar på bladet {name} har adressen '{ref or ''}', som inte är "
                                        f"en cell; den följde inte med")
                    continue
                dst = cell_map.get((name, r, c))
                if dst is None:
                    result.notes.append(f"kommentaren i {name}!{ref} hör inte till någon flyttad cell; den ligger "
                                        f"kvar på samma adress")
                    dst = CellRef(name, r, c)
                moved.append((dst.a1, author, text))
            if moved:
                add_comments(edit, worksheet_part(edit, name), moved, block)
                block += 1
                result.comments += len(moved)
        extra = [n for n in names if n not in L.REQUIRED_SHEETS and n not in L.OWNED_SHEETS]
        if extra:
            merger = merge_styles_part(edit, src.pkg)
            strings = shared_strings(src.pkg)
            template_sheets = set(L.REQUIRED_SHEETS)

            def remap(formula: str) -> str:
                def fn(sheet, r, c):
                    if sheet not in template_sheets:
                        return None
                    dst = cell_map.get((sheet, r, c))
                    if dst is None:
                        result.notes.append(f"en formel pekar på {sheet}!{a1(r, c)}, som inte flyttades")
                        return None
                    return dst.row, dst.col
                return rewrite_refs(formula, fn)

            for name in extra:
                result.notes += copy_sheet(edit, src.pkg, name, merger, strings, remap)
                result.sheets.append(name)
            finish_styles(edit, merger)
            wb = src.pkg.xml(src.pkg.workbook_part).getroot()
            if any(el.text and any(n in el.text for n in extra) for el in wb.iter() if el.tag.endswith("definedName")):
                result.notes.append("namngivna områden (definierade namn) på de egna bladen följde inte med")
        if any(n.lower().endswith("vbaproject.bin") for n in src.pkg.names):
            result.notes.append("arbetsbokens makron (VBA) följer inte med till den nya mallen; de finns kvar i "
                                f"{source.name}")
        edit.write(dest)

