"""Stamping: a copy of the template for one unit, with kommun, nämnd, unit, period and version.

The template file itself is never changed: each copy is written by the lossless package writer
(``apply_changes(template, ..., out=copy)``), so everything in the template (formats, data
validations, the owned sheets) arrives untouched in the copy.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core import layout as L
from ..core.cells import Grid
from ..core.changes import CellWrite, ChangeSet
from ..core.errors import os_error_sv
from ..records import Record
from .common import (
    DepartmentError,
    decode_text,
    default_template,
    find_label,
    parse_period,
    safe_stem,
    unique_names,
    unit_list,
    version_of,
)

#: Names that are workbooks, not folders: ``new_many`` refuses to make a folder so named.
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


class StampResult(Record):
    unit: str
    path: Path
    version: str


class _Plan(Record):
    """Where the stamp goes in a template (found by label, read once for many units)."""

    template: Path
    version: str
    meta: Grid
    units: Grid


def _plan(template: str | Path | None) -> _Plan:
    from ..doors.file import read_grids

    path = Path(template) if template is not None else default_template()
    _names, grids = read_grids(path, [L.SHEET_META, L.SHEET_UNITS])
    if L.SHEET_META not in grids or L.SHEET_UNITS not in grids:
        raise DepartmentError(f"Mallen saknar bladen {L.SHEET_META} och {L.SHEET_UNITS}.", file=path)
    version = version_of(grids[L.SHEET_META])
    if version is None:
        raise DepartmentError(f"Mallen har ingen {L.META_VERSION} på bladet {L.SHEET_META}; den är inte "
                              f"gjord från xlreports mall.", file=path)
    return _Plan(path, version, grids[L.SHEET_META], grids[L.SHEET_UNITS])


def _stamp_writes(plan: _Plan, unit: str, period: str | None, *, kommun: str | None = None,
                  namnd: str | None = None, rapport: str | None = None) -> list[CellWrite]:
    meta, writes = plan.meta, []

    def put(label: str, value) -> None:
        at = find_label(meta, label)
        if at is None:
            raise DepartmentError(f"Raden '{label}' saknas på bladet {L.SHEET_META} i mallen.", file=plan.template)
        writes.append(CellWrite(meta.name, at[0], at[1] + 1, value))

    put(L.META_ENHET, unit)
    if period is not None:
        year, month, text = parse_period(period)
        put(L.META_AR, year)
        put(L.META_MANAD, month)
        put(L.META_PERIOD, text)
    for label, value in ((L.META_KOMMUN, kommun), (L.META_NAMND, namnd), (L.META_RAPPORT, rapport)):
        if value is not None:
            put(label, value)
    put(L.META_VERSION, plan.version)
    head, listed = unit_list(meta)
    if head is not None:  # the unit's own workbook lists only the unit itself
        writes.append(CellWrite(meta.name, head[0] + 1, head[1], unit))
        writes += [CellWrite(meta.name, head[0] + 1 + i, head[1], None) for i in range(1, len(listed))]
    table = find_label(plan.units, L.HEAD_UNITS)
    if table is not None:
        r, c = table
        first = True
        for row in range(r + 1, plan.units.n_rows + 1):
            label = plan.units.get(row, c)
            if isinstance(label, str) and L.norm(label).startswith("summa"):
                break
            if first:
                writes.append(CellWrite(plan.units.name, row, c, unit))
                first = False
            elif label is not None:
                writes.append(CellWrite(plan.units.name, row, c, None))
    return writes


def _write(plan: _Plan, writes: list[CellWrite], out: Path, force: bool) -> None:
    from ..ooxml.apply import apply_changes
    from ..ooxml.atomic import workbook_lock

    if out.exists() and not force:
        raise DepartmentError("Filen finns redan; välj ett annat namn eller använd --force.", file=out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with workbook_lock(out):  # a second run stamping the same name waits, then finds the file
        if out.exists() and not force:
            raise DepartmentError("Filen finns redan; välj ett annat namn eller använd --force.", file=out)
        apply_changes(plan.template, ChangeSet(writes=writes), out=out)


def new(unit: str, period: str | None, template: str | Path | None = None, out: str | Path | None = None, *,
        kommun: str | None = None, namnd: str | None = None, rapport: str | None = None,
        force: bool = False) -> StampResult:
    """Write a copy of ``template`` stamped for ``unit`` to ``out`` (default: a safe name in cwd)."""
    unit = unit.strip()
    if not unit:
        raise DepartmentError("Enhetens namn är tomt.")
    plan = _plan(template)
    target = Path(out) if out is not None else Path(safe_stem(unit) + ".xlsx")
    if target.is_dir():
        target = target / (safe_stem(unit) + ".xlsx")
    _write(plan, _stamp_writes(plan, unit, period, kommun=kommun, namnd=namnd, rapport=rapport), target, force)
    return StampResult(unit, target, plan.version)


def new_many(units: list[str], period: str | None, template: str | Path | None = None,
             out_dir: str | Path = ".", *, kommun: str | None = None, namnd: str | None = None,
             rapport: str | None = None, force: bool = False) -> list[StampResult]:
    """One stamped copy per unit in ``out_dir``, with safe, unique ASCII file names.

    Nothing is written when a unit is listed twice or (without ``force``) a file exists.
    """
    units = [u.strip() for u in units if u and u.strip()]
    if not units:
        raise DepartmentError("Listan innehåller inga enheter.")
    seen: dict[str, str] = {}
    for u in units:
        if L.norm(u) in seen:
            raise DepartmentError(f"Enheten '{u}' finns två gånger i listan.")
        seen[L.norm(u)] = u
    folder = Path(out_dir)
    if folder.suffix.lower() in _WORKBOOK_SUFFIXES:  # -o namnd.xlsx would become a folder of that name
        many = f"{len(units)} enheter skrivs" if len(units) > 1 else f"Enheten '{units[0]}' skrivs"
        raise DepartmentError(f"{folder.name} ser ut som en arbetsbok, men {many} som en fil var i en mapp: "
                              f"ange en mapp med -o (t.ex. {folder.with_suffix('').name}). Inget skrevs.",
                              file=folder)
    plan = _plan(template)
    targets = [folder / n for n in unique_names([safe_stem(u) for u in units])]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise DepartmentError(f"{len(existing)} filer finns redan (t.ex. {existing[0]}); använd --force för att "
                              f"skriva över dem.", file=folder)
    plans = [(u, t, _stamp_writes(plan, u, period, kommun=kommun, namnd=namnd, rapport=rapport))
             for u, t in zip(units, targets)]
    out = []
    for unit, target, writes in plans:
        _write(plan, writes, target, True)
        out.append(StampResult(unit, target, plan.version))
    return out


# --- unit lists ---------------------------------------------------------------------------

def read_unit_list(path: str | Path, sheet: str | None = None) -> list[str]:
    """Unit names from a text file (one per line, ``#`` comments), a CSV file (column ``Enhet``,
    else the first column) or a workbook (``sheet``; by default the Enheter list on Uppgifter,
    which must not be empty in an xlreport workbook, else the first sheet's ``Enhet`` column or
    first column)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _units_from_workbook(path, sheet)
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise DepartmentError(f"Listan kunde inte läsas ({os_error_sv(exc)}).", file=path) from exc
    if path.suffix.lower() == ".csv":
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
        except csv.Error:
            dialect = csv.excel
        rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(x.strip() for x in r)]
        if not rows:
            return []
        header = [L.norm(x) for x in rows[0]]
        if L.norm(L.HEAD_UNITS) in header:
            i = header.index(L.norm(L.HEAD_UNITS))
            return [r[i].strip() for r in rows[1:] if len(r) > i and r[i].strip()]
        return [r[0].strip() for r in rows if r and r[0].strip()]
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _units_from_workbook(path: Path, sheet: str | None) -> list[str]:
    from ..doors.file import read_grids

    names, grids = read_grids(path, None)
    if sheet is None and L.SHEET_META in grids:
        meta = grids[L.SHEET_META]
        head, listed = unit_list(meta)
        if listed:
            return listed
        # An xlreport workbook (its Enheter list, or its Mallversion, says so): the list is the
        # only place its units are. Its first sheet is Uppgifter itself, whose label "Enhet" has
        # the labels Rapport, År, Period ... below it, which are no units.
        if head is not None or version_of(meta) is not None:
            raise DepartmentError(f"Listan över enheter i {path.name} är tom: fyll i {L.META_UNITS_HEADER} på "
                                  f"bladet {L.SHEET_META} eller ange enheterna med --unit/--units.", file=path,
                                  sheet=L.SHEET_META)
    name = sheet or (names[0] if names else None)
    if name not in grids:
        raise DepartmentError(f"Bladet '{name}' finns inte i listan.", file=path)
    g = grids[name]
    at = find_label(g, L.HEAD_UNITS)
    col, start = (at[1], at[0] + 1) if at else (g.left, g.top)
    out = []
    for r in range(start, g.n_rows):
        v = g.get(r, col)
        if v is not None and str(v).strip():
            out.append(str(v).strip() if not isinstance(v, float) else repr(v))
    return out
