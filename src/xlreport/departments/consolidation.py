"""Consolidation: the units' workbooks into the nämnd's unit table and income statement.

Each unit workbook is read and checked by the engine. A unit's row in the central
Driftredovisning is its own *Resultat* row (Utfall ack, Budget ack, Budget helår, Prognos helår)
plus *Avvikelse ack fg år* from the Summa row of its own Driftredovisning; the central
Resultaträkning is the sum of the units' Resultaträkning rows, with the financial rows of the
municipal shape added when the units' results count them (so that its result is the sum of the
units'). The central workbook is a fresh copy of the template (or ``into``), refreshed (fill +
generate) after the figures are in, with a provenance sheet *Källor* (in ``into``, only the block
consolidation wrote there is replaced).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
from collections import Counter
from pathlib import Path

from ..core import layout as L
from ..core.cells import Grid, a1, parse_a1
from ..core.changes import Cell, CellWrite, ChangeSet, SheetContent
from ..core.chars import ascii_digits
from ..core.errors import StructureError, XlreportError, os_error_sv
from ..core.findings import ERROR, WARNING, Counted, Finding, error_findings
from ..core.generate import row_heights
from ..core.model import Report
from ..core.template import total_formula
from ..records import Record, field
from .common import (
    DepartmentError,
    changed_entries,
    default_template,
    find_label,
    meta_value,
    month_of_period,
    period_text,
    unit_list,
    utc_now,
    version_of,
)

SHEET_SOURCES = "Källor"
#: Input columns of the unit table and where a unit's figure comes from.
_FROM_RESULT = (L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_PROGNOS)
_INCOME_INPUTS = (L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_PROGNOS)
_COMPUTED = (L.COL_AVV, L.COL_AVV_HELAR)
_SOURCE_HEADER = ("Enhet", "Fil", "Storlek (byte)", "SHA-256", "Läst (UTC)", "Filen ändrad (UTC)", "Fel",
                  "Varningar", "Med i sammanställningen")
_SOURCES_TITLE = "Källor till sammanställningen"
_SOURCES_TEXT = "Skapas av xlreport consolidate."
_COMMENTARY_TITLE = "Enheternas förklaringar (Kommentar och Avvikelseförklaring)"
_COMMENTARY_HEADER = ("Enhet", "Fil", "Cell", "Förklaring", "Belopp (mnkr)")
#: What a consolidated workbook with errors lacks, and what to do (the summary, the finding, Rapport).
_NOT_FINISHED = ("siffrorna är sammanställda, men avvikelsekolumnerna och bladet Rapport skrevs inte på grund "
                 "av felen (de står på bladet Kontroller). Rätta felen och kör xlreport refresh")


class UnitSource(Counted, Record):
    """One unit workbook as read for the consolidation."""

    path: Path
    size: int = 0
    sha256: str = ""
    mtime: float = 0.0
    status: int = 0
    findings: list[Finding] = field(default_factory=list)
    readable: bool = False  # the tables could be read (figures below are valid)
    result: dict[str, float | None] = field(default_factory=dict)  # the unit's Resultat row
    avv_fg: float | None = None  # Avvikelse ack fg år from its Driftredovisning's Summa
    income: dict[str, dict[str, float | None]] = field(default_factory=dict)  # row key -> column -> mnkr
    income_sheet: str = L.SHEET_INCOME  # the sheet's name in this workbook
    income_labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # row key -> (label cell, label)
    income_unknown: list[tuple[str, str]] = field(default_factory=list)  # (label cell, label) of rows not in the
    # template: the unit's own check leaves them out of its Resultat, the nämnd's table cannot hold them
    income_bottom: list[str] = field(default_factory=list)  # row keys its bottom line adds up (Intäkter,
    # Kostnader and, in the municipal shape, the financial items), as the engine checks it
    empty: bool = False  # no value in any input cell of any table (a template sent back unfilled)
    version: str | None = None
    unit: str | None = None
    namnd: str | None = None
    kommun: str | None = None
    rapport: str | None = None
    year: int | None = None
    month: int | None = None
    period: str | None = None
    included: bool = False
    read_at: str = ""
    # the unit's commentary: (cell "Blad!A1", row label, text, table) of each Kommentar, and
    # (cell, Post, Belopp) of each row of its Avvikelseförklaring
    comments: list[tuple[str, str, str, str]] = field(default_factory=list)
    explanations: list[tuple[str, str, float | None]] = field(default_factory=list)

    def comment(self) -> str | None:
        """The unit's Kommentar text for the nämnd's Driftredovisning, with its source file."""
        parts = []
        for _cell, label, text, table in self.comments:
            own = table == L.SHEET_UNITS and self.unit is not None and L.norm(label) == L.norm(self.unit)
            text = text if text.endswith((".", "!", "?")) else text + "."
            parts.append(text if own else f"{label}: {text}")
        return f"{' '.join(parts)} (källa: {self.path.name})" if parts else None

    def period_label(self) -> str:
        return _period_label(self.year, self.month, self.period)


def _period_label(year: int | None, month: int | None, text: str | None = None) -> str:
    """ "januari–mars 2020"; the parts that are not known are left out."""
    parts = [period_text(month) if month is not None and 1 <= month <= 12
             else (f"månad {month}" if month is not None else text)]
    parts.append(str(year) if year is not None else None)
    return " ".join(p for p in parts if p) or "okänd period"


class ConsolidationResult(Record):
    out: Path | None
    status: int = 0
    sources: list[UnitSource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # consolidation-level (file = the unit file)
    notes: list[tuple[str | None, Finding]] = field(default_factory=list)
    central: object | None = None  # files.FileResult of the refresh
    units: list[str] = field(default_factory=list)

    def add(self, file: str | None, severity, message: str, rule: str = "konsolidering", sheet: str | None = None,
            cell: str | None = None) -> None:
        self.notes.append((file, Finding(rule, severity, message, sheet, cell)))

    @property
    def finished(self) -> bool:
        """Whether ``out`` was written and refreshed: its deviations, Rapport and Kontroller are written."""
        return self.out is not None and self.central is not None and self.central.written is not None

    def summary(self) -> str:
        """The last line of the command: what was written, and whether the workbook is done."""
        if self.out is None:
            return "Inget skrevs: rätta filerna ovan och kör igen."
        used = sum(1 for s in self.sources if s.included)
        done = f"Sammanställde {used} av {len(self.sources)} filer ({len(self.units)} enheter i listan) till {self.out}"
        if self.finished:
            return done + "."
        return f"{done}, men arbetsboken är inte klar: {_NOT_FINISHED} \"{self.out}\"."


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp()


def _as_int(v) -> int | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and ascii_digits(v.strip()):
        return int(v.strip())
    return None


def _as_text(v) -> str | None:
    if v is None:
        return None
    return (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).strip() or None


def read_unit(path: Path) -> UnitSource:
    """Read, hash and check one unit workbook; never raises for a user error."""
    from ..core.engine import SHEETS, run
    from ..doors.file import read_grids

    src = UnitSource(path=path)
    try:
        data = path.read_bytes()
        st = path.stat()
    except OSError as exc:
        src.status = 2
        src.findings = [Finding("ej-arbetsbok", ERROR, f"Filen kunde inte läsas ({os_error_sv(exc)}).")]
        return src
    src.size, src.sha256, src.mtime = len(data), hashlib.sha256(data).hexdigest(), st.st_mtime
    try:
        names, grids = read_grids(path, SHEETS)
    except XlreportError as exc:
        src.status = 2
        src.findings = error_findings(exc)
        return src
    meta = grids.get(L.SHEET_META)
    src.version = version_of(meta)
    src.unit = _as_text(meta_value(meta, L.META_ENHET))
    src.namnd = _as_text(meta_value(meta, L.META_NAMND))
    src.kommun = _as_text(meta_value(meta, L.META_KOMMUN))
    src.rapport = _as_text(meta_value(meta, L.META_RAPPORT))
    src.year = _as_int(meta_value(meta, L.META_AR))
    src.month = _as_int(meta_value(meta, L.META_MANAD))
    src.period = _as_text(meta_value(meta, L.META_PERIOD))
    try:
        outcome = run(grids, names, actions=())
    except StructureError as exc:
        src.status = 2
        src.findings = error_findings(exc)
        return src
    rep = outcome.report
    src.readable = True
    res = rep.resultat()
    src.result = {c: _num(res, c) for c in _FROM_RESULT}
    src.avv_fg = _num(rep.units.total, L.COL_AVV_FG)
    src.income = {row.key: {c: row.num(c) for c in _INCOME_INPUTS} for row in rep.income.rows}
    src.income_sheet = rep.income.sheet
    src.income_labels = {row.key: (a1(row.row, rep.income.label_col), row.label) for row in rep.income.rows}
    src.income_bottom = _bottom_keys(rep)
    income_grid = grids.get(rep.income.sheet)
    for f in outcome.findings:  # rows the reader did not take: "not a row of the template"
        if f.rule == "okand-rad" and f.sheet == rep.income.sheet and f.cell and income_grid is not None:
            label = income_grid.get(*parse_a1(f.cell))
            src.income_unknown.append((f.cell, "" if label is None else str(label).strip()))
    src.empty = _all_tables_empty(rep)
    src.comments, src.explanations = _commentary(rep)
    src.findings = outcome.findings
    src.status = 1 if outcome.errors else 0
    return src


def _bottom_keys(rep: Report) -> list[str]:
    """The rows the income statement's bottom line adds up, through the result rows above it:
    Intäkter and Kostnader, and in the municipal shape the financial items (engine's order)."""
    parts = {res.row: rows for res, rows in rep.result_parts()}
    bottom = rep.resultat()
    keys: list[str] = []
    todo = [bottom] if bottom is not None else []
    while todo:
        for p in parts.get(todo.pop().row, []):
            if p.key in L.RESULT_ROWS:
                todo.append(p)
            else:
                keys.append(p.key)
    return keys


def _commentary(rep: Report) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, float | None]]]:
    """A unit workbook's Kommentar cells (its unit rows, then its income statement) and the rows of
    its Avvikelseförklaring, each with the cell it was read from."""
    comments = []
    for t in (rep.units, rep.income):
        if L.COL_KOMMENTAR not in t.text_columns:
            continue
        for row in t.rows:
            text = row.texts.get(L.COL_KOMMENTAR)
            if text:
                ref = t.ref(row, L.COL_KOMMENTAR)
                comments.append((f"{ref.sheet}!{ref.a1}", row.label, text, t.name))
    e = rep.explanation
    explanations = [(f"{e.sheet}!{a1(r.row, e.label_col)}", r.label, r.num(L.COL_BELOPP)) for r in e.rows]
    return comments, explanations


def _all_tables_empty(rep: Report) -> bool:
    """Whether no input cell of any table holds anything: labels, the formula rows (Resultat,
    Summa) and the deviation columns the tool fills do not count."""
    for table in (rep.income, rep.units, rep.explanation, rep.staff, rep.leavers, rep.sick, rep.commitments):
        if table is None:
            continue
        for row in table.rows:
            if table is rep.income and row.key == L.ROW_RESULTAT:
                continue
            if row.invalid or any(v is not None for col, v in row.values.items() if col not in _COMPUTED):
                return False
    return True


def read_units(files: list[Path], jobs: int | None = None) -> list[UnitSource]:
    """:func:`read_unit` for every file; in ``jobs`` parallel processes when asked and there are many.

    The default is one process: reading a unit's tables takes ~12 ms, so starting workers only
    pays off for hundreds of files on an idle machine (see benchmarks/README.md).
    """
    jobs = max(1, min(jobs or 1, len(files)))
    if jobs == 1 or len(files) < 16:
        return [read_unit(p) for p in files]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(read_unit, files, chunksize=max(1, len(files) // (jobs * 4))))


# --- checks -------------------------------------------------------------------------------

def _majority(values: list, preferred=None):
    if preferred is not None:
        return preferred
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in values if counts.get(v) == best)


def _refusals(result: ConsolidationResult, sources: list[UnitSource], base_meta: dict, listed: list[str]) -> None:
    def refuse(src: UnitSource, message: str, rule: str) -> None:
        result.add(str(src.path), ERROR, message, rule)

    version = base_meta["version"]
    for s in sources:
        if s.version is None or s.version == version:
            continue
        newer = L.version_key(s.version) is not None and L.version_key(version) is not None and \
            L.version_key(s.version) > L.version_key(version)
        if newer:
            refuse(s, f"Filen är gjord från mallversion {s.version}, som är nyare än nämndens arbetsboks "
                      f"mallversion {version}. Sammanställ med den nyare mallen (--template eller --into).",
                   "konsolidering-mallversion")
        else:
            refuse(s, f"Filen är gjord från mallversion {s.version}, men nämndens arbetsbok har mallversion "
                      f"{version}. Flytta över den till den nya mallen först: xlreport upgrade \"{s.path}\".",
                   "konsolidering-mallversion")
    # A file whose Mallversion is blank is not "another version", but its period, nämnd and unit
    # must still be checked: otherwise it would be included unchecked. Unreadable files (no
    # metadata) are left out with a warning later.
    readable = [s for s in sources if s.version == version or (s.version is None and s.readable)]
    namnd = _majority([L.norm(s.namnd) if s.namnd else None for s in readable],
                      L.norm(base_meta["namnd"]) if base_meta["namnd"] else None)
    for s in readable:
        if s.namnd and namnd and L.norm(s.namnd) != namnd:
            refuse(s, f"Filen gäller nämnden '{s.namnd}', inte '{base_meta['namnd'] or namnd}'.",
                   "konsolidering-namnd")
    # The period is År and Månad. What the nämnd's workbook says (either, or both) is the
    # reference; what it leaves blank is taken from the most common period of the files.
    by, bm = base_meta["year"], base_meta["month"]
    keys = [(s.year, s.month) for s in readable if s.year is not None and s.month is not None]
    fits = [k for k in keys if (by is None or k[0] == by) and (bm is None or k[1] == bm)]
    want = _majority(fits) or (by if by is not None else _majority([k[0] for k in keys]),
                               bm if bm is not None else _majority([k[1] for k in keys]))
    if by is not None or bm is not None:
        want_label = f"nämndens arbetsbok gäller {_period_label(by, bm)}"
    else:
        want_label = f"de andra gäller {_period_label(*want)}"
    for s in readable:
        if s.year is None:
            refuse(s, f"Uppgiften '{L.META_AR}' saknas på bladet {L.SHEET_META}; filens period är okänd.",
                   "konsolidering-period")
        elif s.month is None:
            refuse(s, f"Uppgiften '{L.META_MANAD}' saknas på bladet {L.SHEET_META}; filens period är okänd "
                      f"(Månad är periodens sista månad, t.ex. 3 för januari–mars).", "konsolidering-period")
        elif (want[0] is not None and s.year != want[0]) or (want[1] is not None and s.month != want[1]):
            what = "år" if want[0] is not None and s.year != want[0] else "period"
            refuse(s, f"Filen gäller {s.period_label()}, men {want_label}: olika {what} "
                      f"kan inte sammanställas.", "konsolidering-period")
    by_unit: dict[str, list[UnitSource]] = {}
    for s in readable:
        if not s.unit:
            refuse(s, f"Uppgiften '{L.META_ENHET}' saknas på bladet {L.SHEET_META}; filen hör inte till någon "
                      f"enhet.", "konsolidering-enhet")
            continue
        by_unit.setdefault(L.norm(s.unit), []).append(s)
    for group in by_unit.values():
        if len(group) > 1:
            for s in group:
                others = ", ".join(str(o.path) for o in group if o is not s)
                refuse(s, f"Enheten '{s.unit}' finns i flera filer (också i {others}); bara en fil per enhet.",
                       "konsolidering-dubblett")
    if listed:
        norms = {L.norm(u) for u in listed}
        for s in readable:
            if s.unit and L.norm(s.unit) not in norms:
                close = difflib.get_close_matches(s.unit, listed, n=1, cutoff=0.6)
                hint = f" Menade du '{close[0]}'?" if close else ""
                refuse(s, f"Enheten '{s.unit}' finns inte i nämndens lista '{L.META_UNITS_HEADER}' på bladet "
                          f"{L.SHEET_META}.{hint}", "konsolidering-enhet-okand")


def _refuse_duplicate_units(listed: list[str], workbook: Path | None) -> None:
    """A unit listed twice would get two rows in the unit table and be counted twice in Summa."""
    seen: set[str] = set()
    for u in listed:
        if L.norm(u) in seen:
            where = (f"listan '{L.META_UNITS_HEADER}' på bladet {L.SHEET_META}" if workbook is not None
                     else "listan över nämndens enheter (--units)")
            raise DepartmentError(f"Enheten '{u}' finns två gånger i {where}; den skulle räknas två gånger. "
                                  f"Ta bort dubbletten och kör igen.", file=workbook,
                                  sheet=L.SHEET_META if workbook is not None else None)
        seen.add(L.norm(u))


# --- the central workbook -----------------------------------------------------------------

def _previous_reads(path: Path | None) -> dict[tuple[str, str], str]:
    """(file, sha256) -> Läst from an earlier Källor sheet, so a re-run keeps the bytes."""
    if path is None or not path.is_file():
        return {}
    from ..doors.file import read_grids

    try:
        _names, grids = read_grids(path, [SHEET_SOURCES])
    except XlreportError:
        return {}
    g = grids.get(SHEET_SOURCES)
    if g is None:
        return {}
    at = find_label(g, _SOURCE_HEADER[1])
    if at is None:
        return {}
    r0, c0 = at
    cols = {L.norm(g.get(r0, c)): c for c in range(g.left, g.n_cols)}
    sha_c, read_c = cols.get(L.norm(_SOURCE_HEADER[3])), cols.get(L.norm(_SOURCE_HEADER[4]))
    if sha_c is None or read_c is None:
        return {}
    out = {}
    for r in range(r0 + 1, g.n_rows):
        f, s, t = g.get(r, c0), g.get(r, sha_c), g.get(r, read_c)
        if isinstance(f, str) and isinstance(s, str) and isinstance(t, str):
            out[(f, s)] = t
    return out


def _sources_sheet(result: ConsolidationResult, namnd: str | None) -> SheetContent:
    sheet = SheetContent(SHEET_SOURCES, col_widths={0: 36, 1: 48, 2: 16, 3: 66, 4: 22, 5: 22, 6: 6, 7: 11, 8: 25})
    sheet.add(Cell(f"{_SOURCES_TITLE}{' – ' + namnd if namnd else ''}", "title"))
    sheet.add(Cell(f"{_SOURCES_TEXT} Varje rad är en enhets arbetsbok; SHA-256 identifierar "
                   "exakt den fil som lästes. Läst = när xlreport först läste just det innehållet.", "text"))
    sheet.blank()
    sheet.add(*(Cell(h, "header") for h in _SOURCE_HEADER))
    for s in result.sources:
        sheet.add(Cell(s.unit or "", "text"), Cell(str(s.path), "text"), Cell(s.size, "integer"),
                  Cell(s.sha256, "text"), Cell(s.read_at, "text"), Cell(_iso(s.mtime) if s.mtime else "", "text"),
                  Cell(s.errors, "integer"), Cell(s.warnings, "integer"), Cell("Ja" if s.included else "Nej", "text"))
    carried = _commentary_rows(result.sources)
    if carried:  # the units' commentary, each text with the file and the cell it was read from
        sheet.blank()
        sheet.add(Cell(_COMMENTARY_TITLE, "heading"))
        sheet.add(*(Cell(h, "header") for h in _COMMENTARY_HEADER))
        for unit, file, cell, text, amount in carried:
            sheet.add(Cell(unit, "text"), Cell(file, "text"), Cell(cell, "text"), Cell(text, "wrap"),
                      Cell(amount, "mnkr") if amount is not None else Cell(None))
    sheet.row_heights = row_heights(sheet)  # headers such as "Med i sammanställningen" wrap
    return sheet


def _sources_changes(result: ConsolidationResult, namnd: str | None, grid: Grid | None
                     ) -> tuple[list[SheetContent], list[CellWrite], list[tuple[str, int, int, int]]]:
    """Källor: the whole sheet, or, when the nämnd's workbook already has one with content that
    consolidation did not write (an import-sie provenance table, the nämnd's own notes), cell
    writes that replace only the block an earlier consolidation wrote there (or add the block
    below everything, one blank row between, as import-sie adds its table), keeping the rest.

    Returns (sheets replaced whole, cell writes, row inserts): rows are inserted below the block
    when it grows into content under it, so that content moves down rather than being
    overwritten.
    """
    sheet = _sources_sheet(result, namnd)
    if grid is None:
        return [sheet], [], []
    sheet.name = grid.name
    own = _own_sources_cells(grid)
    used = {(r, c) for r, c, _v in grid.cells()} | set(grid.formulas)
    foreign = used - own
    if not foreign:  # consolidation's alone: rewritten whole, with its styles
        return [sheet], [], []
    if own:
        start, c0 = min(own)  # the title
    else:
        start, c0 = max(r for r, _c in used) + 2, min(c for _r, c in used)
    width = max(len(row) for row in sheet.rows)
    below = [r for r, c in foreign if r >= start and c0 <= c < c0 + width]
    limit = min(below, default=None)
    inserts, shift = [], 0
    if limit is not None and start + len(sheet.rows) >= limit:  # keep one blank row above what follows
        shift = start + len(sheet.rows) + 1 - limit
        inserts.append((grid.name, limit, shift, limit - 1))
    values: dict[tuple[int, int], object] = {}
    for r, c in own:  # the earlier block goes (what the new one does not overwrite is cleared)
        values[(r + shift if limit is not None and r >= limit else r, c)] = None
    for i, row in enumerate(sheet.rows):
        for j, cell in enumerate(row):
            if cell is not None and (cell.value is not None or (start + i, c0 + j) in values):
                values[(start + i, c0 + j)] = cell.value
    return [], [CellWrite(grid.name, r, c, v) for (r, c), v in sorted(values.items())], inserts


def _own_sources_cells(g: Grid) -> set[tuple[int, int]]:
    """The cells of the block an earlier consolidation wrote on Källor (:func:`_sources_sheet`):
    its title and text, the table of unit files and the table of the units' commentary; empty when
    there is none. Everything else on the sheet is someone else's and stays."""
    at = next(((r, c) for r, c, v in g.cells() if L.norm(v).startswith(L.norm(_SOURCES_TITLE))), None)
    if at is None:
        return set()
    t, c0 = at
    own = {(t, c0)}
    if L.norm(g.get(t + 1, c0)).startswith(L.norm(_SOURCES_TEXT)):
        own.add((t + 1, c0))

    def table(head: int, header: tuple[str, ...]) -> int | None:
        """Add the table whose header row is ``head``; the row after its last (each names its file)."""
        if [L.norm(g.get(head, c0 + i)) for i in range(len(header))] != [L.norm(h) for h in header]:
            return None
        r = head
        while r == head or g.get(r, c0 + 1) is not None:
            own.update((r, c0 + i) for i in range(len(header)))
            r += 1
        return r

    end = table(t + 3, _SOURCE_HEADER)
    if end is not None and L.norm(g.get(end + 1, c0)) == L.norm(_COMMENTARY_TITLE) and \
            table(end + 2, _COMMENTARY_HEADER) is not None:
        own.add((end + 1, c0))
    return own


def _num(row, column: str) -> float | None:
    return row.num(column) if row is not None else None


def _sum(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def consolidate(paths, out: str | Path, into: str | Path | None = None, *, template: str | Path | None = None,
                units: list[str] | None = None, include_errors: bool = False,
                jobs: int | None = None) -> ConsolidationResult:
    """Consolidate the unit workbooks in ``paths`` (files, folders, globs) into ``out``.

    Refusals (different versions, periods, nämnder, a unit twice, a unit not in the list) write
    nothing and give status 1. A unit file with errors is left out with a warning (unless
    ``include_errors`` and it could be read), so is a file whose tables are all empty; a listed
    unit without a file, and a row of a unit's Resultaträkning that the nämnd's table does not
    have, give a warning. When the consolidated workbook has errors, it is written with the figures
    but not refreshed (status 1): Kontroller lists the errors and Rapport says it is not written
    (:attr:`ConsolidationResult.finished` is False; :meth:`ConsolidationResult.summary` says so).

    ``out`` is written as the file door writes: refused while open in Excel or read-only, under
    its xlreport lock from reading to writing, built in a temporary file beside it (removed by
    the next run if this one is killed) and renamed over it, keeping its owner and permissions.
    """
    from ..ooxml.atomic import refuse_unwritable, workbook_lock

    out = Path(out)
    refuse_unwritable(out)
    with contextlib.ExitStack() as stack:
        # In a folder that does not exist yet there is nothing to lock (and a refusal must not
        # create it): the lock is then taken when the folder is made, just before writing.
        locked = out.parent.is_dir()
        if locked:
            stack.enter_context(workbook_lock(out))

        def lock_for_writing() -> None:
            if not locked:
                out.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(workbook_lock(out))

        return _consolidate(paths, out, into, template, units, include_errors, jobs, lock_for_writing)


def _consolidate(paths, out: Path, into, template, units, include_errors: bool, jobs,
                 lock_for_writing) -> ConsolidationResult:
    from ..batch import expand
    from ..core.engine import SHEETS, run
    from ..doors.file import process, read_grids
    from ..ooxml.apply import apply_changes
    from ..ooxml.atomic import atomic_output
    from ..ooxml.package import set_entry_times
    from ..ooxml.rows import copy_with_rows_inserted

    base = Path(into) if into is not None else Path(template) if template is not None else default_template()
    result = ConsolidationResult(out=None)
    files = [p for p in expand(paths) if p.resolve() not in {out.resolve(), base.resolve()}]
    if not files:
        raise DepartmentError("Inga arbetsböcker att sammanställa hittades.")
    names, grids = read_grids(base, SHEETS)
    try:
        central = run(grids, names, actions=()).report
    except StructureError as exc:
        exc.file = str(base)
        raise
    sources_name = next((n for n in names if L.norm(n) == L.norm(SHEET_SOURCES)), None)
    sources_grid = read_grids(base, [sources_name])[1].get(sources_name) if sources_name else None
    base_meta = {"version": version_of(grids[L.SHEET_META]) or L.TEMPLATE_VERSION,
                 "namnd": central.meta.namnd, "year": central.meta.ar,
                 "month": central.meta.manad if central.meta.manad is not None else month_of_period(central.meta.period)}
    listed = list(units) if units else list(central.meta.units)
    _refuse_duplicate_units(listed, None if units else base)
    sources = read_units(files, jobs)
    result.sources = sources
    _refusals(result, sources, base_meta, listed)
    if any(f.severity == ERROR for _file, f in result.notes):
        result.status = 1
        return result

    previous = _previous_reads(out if out.is_file() else (Path(into) if into else None))
    now = utc_now()
    for s in sources:
        s.read_at = previous.get((str(s.path), s.sha256), now)
        usable = s.readable and (s.status == 0 or (include_errors and s.status == 1))
        if usable and s.empty:
            result.add(str(s.path), WARNING, "Filen har inga ifyllda värden: alla tabeller är tomma (en mall som inte "
                       "fyllts i?). Den är inte med i sammanställningen; be enheten fylla i den och skicka den igen.",
                       "konsolidering-tom")
            usable = False
        elif not usable:
            why = "kunde inte läsas" if s.status == 2 else f"har {s.errors} fel"
            result.add(str(s.path), WARNING, f"Filen {why} och är inte med i sammanställningen"
                       f"{'' if s.status == 2 else ' (rätta felen, eller använd --include-errors)'}.",
                       "konsolidering-utelamnad")
        s.included = usable
    included = {L.norm(s.unit): s for s in sources if s.included}
    if not listed:
        listed = sorted((s.unit for s in sources if s.included), key=L.norm)
        result.add(None, WARNING, f"Nämndens arbetsbok har ingen lista '{L.META_UNITS_HEADER}'; enheterna tas från "
                                  f"filerna ({len(listed)} st).", "konsolidering-lista")
    for u in listed:
        if L.norm(u) not in included:
            result.add(None, WARNING, f"Enheten '{u}' finns i nämndens lista men ingen godkänd fil för den ingår; "
                                      f"dess rad lämnas utan siffror.", "konsolidering-enhet-saknas")
    in_order = [included[L.norm(u)] for u in listed if L.norm(u) in included]
    financial = _financial_rows(result, central, in_order)
    if any(f.severity == ERROR for _file, f in result.notes):
        result.status = 1
        return result
    _warn_rows_not_consolidated(result, central, [s for s in sources if s.included], financial)
    result.units = listed
    ref = next((s for s in sources if s.included), None) or next((s for s in sources if s.readable), None)

    lock_for_writing()
    with atomic_output(out, out.suffix or ".xlsx") as tmp:
        t = central.units
        summa = t.total.row
        capacity = summa - t.header_row - 1
        work = base
        extra = len(listed) - capacity
        inserts = []
        if extra > 0:
            last = summa - 1 if capacity > 0 else summa
            inserts.append((t.sheet, last, extra, last if capacity > 0 else t.header_row + 1))
        carried = _carried_explanations(result, central, in_order)
        rewrite = _stale_rows(result, central, carried, included)
        if carried:
            inserts.extend(_rows_needed(central.explanation, len(carried)))
        result.sources = sources
        sources_sheets, sources_writes, sources_inserts = _sources_changes(
            result, central.meta.namnd or (ref and ref.namnd), sources_grid)
        inserts += sources_inserts
        labels = []
        if financial:  # below the bottom line, formatted like Kostnader, then like the bottom line
            inc, bottom = central.income, central.resultat().row
            cost = inc.get(L.ROW_KOSTNADER).row
            inserts += [(inc.sheet, bottom + 1, len(financial), cost), (inc.sheet, bottom + 1 + len(financial), 1, bottom)]
            labels = [CellWrite(inc.sheet, bottom + 1 + i, inc.label_col, label)
                      for i, label in enumerate([*financial, L.ROW_RESULTAT_EFTER])]
        if inserts:
            copy_with_rows_inserted(base, tmp, inserts)
            work = tmp
            if labels:  # the new rows' labels first: the reader finds its rows by them
                apply_changes(tmp, ChangeSet(writes=labels), out=tmp)
            names, grids = read_grids(work, SHEETS)
            central = run(grids, names, actions=()).report
            t = central.units
            summa = t.total.row
        writes = _meta_writes(grids[L.SHEET_META], central, ref, listed)
        writes += _unit_table_writes(central, listed, included, central.meta.namnd or (ref and ref.namnd))
        writes += _income_writes(central, in_order)
        writes += _comment_writes(result, central, listed, included)
        if rewrite:
            writes += _explanation_writes(central, carried)
        changes = ChangeSet(writes=writes + sources_writes, sheets=sources_sheets)
        apply_changes(work, changes, out=tmp)
        refreshed = process(tmp, ("fill", "generate"), write=True)
        refreshed.file = str(out)
        if refreshed.written:
            refreshed.written = out
        else:
            _show_unfinished(tmp, out, refreshed, central.meta.namnd or (ref and ref.namnd))
        result.central = refreshed
        epoch = max(_epoch(s.read_at) for s in sources)
        set_entry_times(tmp, changed_entries(base, tmp), epoch)
    result.out = out
    worst_unit = max((s.status for s in sources), default=0)
    result.status = max(min(worst_unit, 1), refreshed.status)
    return result


def _show_unfinished(tmp: Path, out: Path, refreshed, namnd: str | None) -> None:
    """The refresh found errors, so it wrote nothing: the figures are in, the deviation columns
    are blank (and the formulas the figures feed would keep their old saved values). The
    workbook must not look done: Kontroller gets the findings (as the Excel door shows them) and
    Rapport, which would still describe the figures of before, says why it is not written. Both
    are the tool's own sheets; nothing of the user's is touched. The command's findings end with
    one that says so, next to the errors it is about (a warning of the rule ``konsolidering``:
    the errors themselves are the refresh's)."""
    from ..core.engine import SHEETS
    from ..core.generate import findings_sheet
    from ..core.recalc import recalculate
    from ..doors.file import read_grids
    from ..ooxml.apply import apply_changes

    # the formulas the consolidation's figures feed (the Summa row's deviations, the explanation's
    # Summa) get their recomputed values, as a refresh saves them: no reader sees the old totals
    stale = recalculate(read_grids(tmp, SHEETS)[1]).refreshed
    report = SheetContent(L.SHEET_REPORT, col_widths={0: 100})
    report.add(Cell(f"Rapport{' – ' + namnd if namnd else ''}", "title"))
    report.add(Cell("Rapporten är inte skriven: den sammanställda arbetsboken har fel, som står på bladet "
                    "Kontroller. Enheternas siffror är inskrivna, men avvikelsekolumnerna och rapporten skrivs "
                    "först när felen är rättade. Rätta dem och kör xlreport refresh på arbetsboken.", "wrap"))
    report.row_heights = row_heights(report)
    apply_changes(tmp, ChangeSet(writes=stale, sheets=[report, findings_sheet(refreshed.findings, namnd)]), out=tmp)
    refreshed.findings = [*refreshed.findings, Finding(
        "konsolidering", WARNING, f"Arbetsboken är inte klar: {_NOT_FINISHED} \"{out}\".")]


def _warn_rows_not_consolidated(result: ConsolidationResult, central: Report, units: list[UnitSource],
                                added: list[str] = ()) -> None:
    """A row of a unit's Resultaträkning that the nämnd's table does not have is not summed: say so.

    It never changes the nämnd's Intäkter, Kostnader or Resultat: a row the unit's bottom line
    adds up is in the nämnd's table (the reader requires Intäkter and Kostnader, and
    :func:`_financial_rows` adds the financial items, ``added``, or refuses), so such a row is a
    *varav* row (a part of Kostnader) the nämnd's workbook lacks, a financial row the unit's own
    result does not count, or a row that is not in the template at all, which the unit's own
    result does not count either. A result row is not summed but computed from the nämnd's own
    rows, so it is not named.
    """
    t = central.income
    for s in units:
        for key, values in s.income.items():
            if key in L.RESULT_ROWS or t.get(key) is not None or key in added or \
                    all(v is None for v in values.values()):
                continue
            cell, label = s.income_labels.get(key, (None, key))
            result.add(str(s.path), WARNING, f"Raden '{label}' finns inte i nämndens {t.name} och räknas inte med "
                       f"där (Intäkter, Kostnader och Resultat påverkas inte). Lägg till raden i nämndens "
                       f"arbetsbok (--into) om den ska med.", "konsolidering-rad-saknas", s.income_sheet, cell)
        for cell, label in s.income_unknown:
            result.add(str(s.path), WARNING, f"Raden '{label}' är inte en rad i mallen och räknas inte med i "
                       f"nämndens {t.name} (inte heller i enhetens Resultat). Flytta beloppet till en rad i mallen "
                       f"om det ska med.", "konsolidering-rad-saknas", s.income_sheet, cell)


def _meta_writes(meta_grid, central: Report, ref: UnitSource | None, listed: list[str]) -> list[CellWrite]:
    writes = []
    m = central.meta
    if ref is not None:
        wanted = {"kommun": ref.kommun, "namnd": ref.namnd, "rapport": ref.rapport, "ar": ref.year,
                  "manad": ref.month, "period": ref.period}
        for attr, value in wanted.items():
            cell = m.cells.get(attr)
            if cell is not None and value is not None and getattr(m, attr) is None:
                writes.append(CellWrite(cell.sheet, cell.row, cell.col, value))
    head, current = unit_list(meta_grid)
    if head is None:
        raise DepartmentError(f"Nämndens arbetsbok saknar listan '{L.META_UNITS_HEADER}' på bladet {L.SHEET_META}.")
    r0, c = head[0] + 1, head[1]
    for i in range(len(current), len(listed)):  # the list grows into cells that must be free
        if meta_grid.get(r0 + i, c) is not None:
            raise DepartmentError(f"Listan '{L.META_UNITS_HEADER}' behöver {len(listed)} rader men cellen "
                                  f"{a1(r0 + i, c)} på bladet {L.SHEET_META} används till annat.")
    for i in range(max(len(current), len(listed))):
        value = listed[i] if i < len(listed) else None
        old = current[i] if i < len(current) else None
        if value != old:
            writes.append(CellWrite(meta_grid.name, r0 + i, c, value))
    return writes


def _unit_table_writes(central: Report, listed: list[str], included: dict[str, UnitSource],
                       namnd: str | None) -> list[CellWrite]:
    t = central.units
    summa = t.total.row
    first, last = t.header_row + 1, summa - 1
    writes = []
    totals: dict[str, list[float | None]] = {c: [] for c in t.columns}
    for i, r in enumerate(range(first, last + 1)):
        unit = listed[i] if i < len(listed) else None
        writes.append(CellWrite(t.sheet, r, t.label_col, unit))
        src = included.get(L.norm(unit)) if unit else None
        values: dict[str, float | None] = {}
        if src is not None:
            values.update(src.result)
            values[L.COL_AVV_FG] = src.avv_fg
        for col, c in t.columns.items():
            if col in _COMPUTED or col in values or col in L.UNIT_COLUMNS:
                v = values.get(col) if col not in _COMPUTED else None
                writes.append(CellWrite(t.sheet, r, c, v))
                totals[col].append(v)
    if L.norm(t.total.label) == L.norm(L.ROW_SUMMA) and namnd:
        writes.append(CellWrite(t.sheet, summa, t.label_col, f"{L.ROW_SUMMA} {namnd}"))
    for col, c in t.columns.items():
        if col in _COMPUTED or col not in L.UNIT_COLUMNS:
            continue
        value = 0.0
        for v in totals[col]:
            value += v or 0.0
        writes.append(total_formula(t, col, value))
    return writes


# --- the units' commentary -----------------------------------------------------------------

def _comment_writes(result: ConsolidationResult, central: Report, listed: list[str],
                    included: dict[str, UnitSource]) -> list[CellWrite]:
    """Each unit's Kommentar (its own, and its income statement's, with the source file) on its row
    of the nämnd's Driftredovisning. A comment the nämnd wrote itself on the same unit's row is
    kept when the unit's file has none; one carried from an earlier run is cleared.

    A listed unit without a file in this run gets an empty row: a comment carried from its file
    by an earlier run is cleared (the text is the unit's, still in its file), the nämnd's own is
    kept (it is the user's text) but may explain figures no longer there; either way a warning
    at the cell says so."""
    t = central.units
    commented = [s for s in included.values() if s.comments]
    if L.COL_KOMMENTAR not in t.text_columns:
        if commented:
            result.add(None, WARNING, f"Nämndens {t.name} har ingen kolumn '{L.COL_KOMMENTAR}'; enheternas kommentarer "
                                      f"({len(commented)} {'enhet' if len(commented) == 1 else 'enheter'}) står på bladet {SHEET_SOURCES}. Lägg till kolumnen "
                                      f"i rubrikraden (rad {t.header_row + 1}) och kör igen för att få dem på "
                                      f"enheternas rader.", "konsolidering", t.sheet)
        return []
    col = t.text_columns[L.COL_KOMMENTAR]
    old = {r.row: r for r in t.rows}
    writes = []
    for i, r in enumerate(range(t.header_row + 1, t.total.row)):
        unit = listed[i] if i < len(listed) else None
        src = included.get(L.norm(unit)) if unit else None
        text = src.comment() if src is not None else None
        before = old.get(r)
        mine = before.texts.get(L.COL_KOMMENTAR) if before is not None else None
        same_unit = unit is not None and before is not None and L.norm(before.label) == L.norm(unit)
        if text is None and mine and same_unit and "(källa: " not in mine:
            if src is None:
                result.add(None, WARNING, f"Enheten '{unit}' är inte med i sammanställningen, så dess rad har inga "
                                          f"siffror, men nämndens egen {L.COL_KOMMENTAR} på raden står kvar. Den kan "
                                          f"gälla siffror som inte längre finns där: ändra eller ta bort den.",
                           "konsolidering-enhet-saknas", t.sheet, a1(r, col))
            continue  # the nämnd's own comment on this unit
        if text != mine:
            writes.append(CellWrite(t.sheet, r, col, text))
            if src is None and mine and same_unit:
                result.add(None, WARNING, f"Enheten '{unit}' är inte med i sammanställningen: den {L.COL_KOMMENTAR} "
                                          f"som en tidigare sammanställning hämtade från dess fil togs bort från "
                                          f"raden, som nu är tom.", "konsolidering-enhet-saknas", t.sheet, a1(r, col))
    return writes


def _carried_explanations(result: ConsolidationResult, central: Report,
                          units: list[UnitSource]) -> list[tuple[str, float | None, str]]:
    """The rows of the units' Avvikelseförklaring for the nämnd's, each keyed to its unit: (Post,
    Belopp, Enhet). Empty (with a warning) when the nämnd's table cannot take them: no Enhet
    column, no Summa row, or rows of the nämnd's own that would be counted twice."""
    rows = [(post, amount, s.unit) for s in units for _cell, post, amount in s.explanations]
    if not rows:
        return []
    e = central.explanation
    own = [r for r in e.rows if r.texts.get(L.COL_ENHET) is None and
           (r.num(L.COL_BELOPP) is not None or L.COL_BELOPP in r.invalid)]
    why = None
    if L.COL_ENHET not in e.text_columns:
        why = (f"nämndens {e.name} har ingen kolumn '{L.COL_ENHET}' (lägg till den i rubrikraden, rad "
               f"{e.header_row + 1}, och kör igen)")
    elif e.total is None:
        why = f"nämndens {e.name} har ingen rad Summa"
    elif own:
        why = (f"nämndens {e.name} har egna rader utan {L.COL_ENHET} ({', '.join(r.label for r in own[:3])}), som "
               f"enheternas rader skulle räknas två gånger med; ta bort dem om enheternas rader ska in")
    if why is not None:
        result.add(None, WARNING, f"Enheternas rader i {e.name} ({len(rows)} st) fördes inte över: {why}. De står på "
                                  f"bladet {SHEET_SOURCES}.", "konsolidering", e.sheet)
        return []
    return rows


def _stale_rows(result: ConsolidationResult, central: Report, carried: list[tuple[str, float | None, str]],
                included: dict[str, UnitSource]) -> bool:
    """Whether the nämnd's Avvikelseförklaring is rewritten with ``carried``: when there is
    something to carry, or when it holds only rows an earlier run carried (each with its Enhet),
    which would otherwise stay although their units' files no longer have them. A unit whose rows
    go and that is not in this run gets a warning (its rows are still in its own file)."""
    e = central.explanation
    if L.COL_ENHET not in e.text_columns or e.total is None:
        return bool(carried)
    keyed = [r for r in e.rows if r.texts.get(L.COL_ENHET)]
    own = [r for r in e.rows if not r.texts.get(L.COL_ENHET) and (r.label or r.num(L.COL_BELOPP) is not None)]
    if not keyed or (own and not carried):
        return bool(carried)
    gone: dict[str, str] = {}
    for r in keyed:
        unit = str(r.texts[L.COL_ENHET]).strip()
        if L.norm(unit) not in included:
            gone.setdefault(L.norm(unit), unit)
    for unit in gone.values():
        result.add(None, WARNING, f"Enheten '{unit}' är inte med i sammanställningen: dess rader i nämndens {e.name} "
                                  f"(från en tidigare sammanställning) togs bort.", "konsolidering-enhet-saknas", e.sheet)
    return True


def _rows_needed(e, n: int) -> list[tuple[str, int, int, int]]:
    """The row insert that gives the explanation table room for ``n`` rows above its Summa row."""
    capacity = e.total.row - e.header_row - 1
    if n <= capacity:
        return []
    last = e.total.row - 1 if capacity > 0 else e.total.row
    return [(e.sheet, last, n - capacity, last if capacity > 0 else e.header_row + 1)]


def _explanation_writes(central: Report, carried: list[tuple[str, float | None, str]]) -> list[CellWrite]:
    e = central.explanation
    bc, uc = e.columns[L.COL_BELOPP], e.text_columns[L.COL_ENHET]
    writes = []
    for i, r in enumerate(range(e.header_row + 1, e.total.row)):
        post, amount, unit = carried[i] if i < len(carried) else (None, None, None)
        writes += [CellWrite(e.sheet, r, e.label_col, post), CellWrite(e.sheet, r, bc, amount),
                   CellWrite(e.sheet, r, uc, unit)]
    writes.append(total_formula(e, L.COL_BELOPP, sum(a or 0.0 for _p, a, _u in carried)))
    return writes


def _commentary_rows(sources: list[UnitSource]) -> list[tuple[str, str, str, str, float | None]]:
    """(Enhet, Fil, Cell, text, Belopp) of every comment and explanation row of the included units."""
    out = []
    for s in sources:
        if not s.included:
            continue
        for cell, label, text, _table in s.comments:
            out.append((s.unit or "", str(s.path), cell, f"{label}: {text}", None))
        for cell, post, amount in s.explanations:
            out.append((s.unit or "", str(s.path), cell, post, amount))
    return out


def _financial_rows(result: ConsolidationResult, central: Report, units: list[UnitSource]) -> list[str]:
    """The financial rows (Finansiella intäkter, … Jämförelsestörande poster) that the units'
    bottom lines add up but the nämnd's Resultaträkning lacks, in the template's order.

    They are added below the nämnd's bottom line, with *Resultat efter finansiella poster* under
    them, so that the nämnd's result is the sum of the units' (the unit table holds each unit's
    bottom line). A unit whose bottom line the nämnd's table could still not reproduce (the rows
    cannot be added, or the two count different rows) gets an error note: nothing is written.
    """
    t = central.income
    have = {r.key for r in t.rows}

    def used(s: UnitSource, key: str) -> bool:
        return any(v is not None for v in s.income.get(key, {}).values())

    wanted = {k for s in units for k in s.income_bottom if k in L.FINANCIAL_ROWS and k not in have and used(s, k)}
    if L.ROW_FIN_POSTER in wanted:  # its two parts with it, when the units have them
        wanted |= {k for k in (L.ROW_FIN_INTAKTER, L.ROW_FIN_KOSTNADER) if k not in have
                   and any(used(s, k) for s in units)}
    bottom = central.resultat()
    why = None
    if wanted:
        there = [r.label for r in t.rows if r.key in (*L.FINANCIAL_ROWS, L.ROW_RESULTAT_EFTER)]
        if there:
            why = "den har redan raderna " + ", ".join(f"'{x}'" for x in there)
        elif bottom is None or any(r.row > bottom.row for r in t.rows):
            why = "den har rader under sitt resultat"
        elif shared := [o.name for o in (central.units, central.explanation) if o.sheet == t.sheet]:
            why = f"bladet {t.sheet} har också nämndens {shared[0]}"  # rows inserted there would move it
    financial = [] if why is not None else [k for k in L.FINANCIAL_ROWS if k in wanted]
    added = set(_bottom_keys(central)) | set(financial)
    if L.ROW_FIN_POSTER in financial:
        added -= {L.ROW_FIN_INTAKTER, L.ROW_FIN_KOSTNADER}
    counted = ", ".join(f"'{k}'" for k in [*(r.key for r in sorted(t.rows, key=lambda r: r.row)), *financial]
                        if k in added)
    for s in units:
        own = set(s.income_bottom)
        differs = own != added and any(
            abs(sum(s.income.get(k, {}).get(c) or 0.0 for k in own) - sum(s.income.get(k, {}).get(c) or 0.0
                                                                          for k in added)) > 1e-9
            for c in _INCOME_INPUTS)
        if not differs:
            continue
        rows = [k for k in s.income_bottom if k not in added and used(s, k)]
        rows += [k for k in sorted(added - own) if used(s, k)]
        for key in rows or [None]:
            cell, label = s.income_labels.get(key, (None, key))
            if key is None:
                what = f"Enhetens resultat räknar inte med samma rader som nämndens {t.name} ({counted})"
            elif key not in own:
                what = f"Raden '{label}' räknas med i nämndens {t.name} men inte i enhetens resultat"
            elif key in have:
                what = (f"Raden '{label}' räknas med i enhetens resultat men inte i nämndens {t.name}, som räknar "
                        f"med {counted}")
            else:
                what = (f"Raden '{label}' räknas med i enhetens resultat, men nämndens {t.name} saknar raden"
                        f"{f' och den kan inte läggas till där ({why})' if why else ''}")
            result.add(str(s.path), ERROR, f"{what}: nämndens resultat skulle inte bli summan av enheternas. Ge "
                       f"nämndens arbetsbok samma rader i {t.name} som enheterna och sammanställ med --into.",
                       "konsolidering-resultat", s.income_sheet, cell)
    return financial


def _income_writes(central: Report, units: list[UnitSource]) -> list[CellWrite]:
    """Each row of the nämnd's Resultaträkning the sum of the units' rows; each result row a formula
    adding up its parts (Resultat = Intäkter + Kostnader; in the municipal shape, Resultat efter
    finansiella poster = the result above it + the financial items), as the engine checks them."""
    t = central.income
    writes = []
    sums: dict[tuple[str, str], float | None] = {}
    for row in t.rows:
        if row.key in L.RESULT_ROWS:
            continue
        for col in _INCOME_INPUTS:
            if col not in t.columns:
                continue
            v = _sum(u.income.get(row.key, {}).get(col) for u in units)
            sums[(row.key, col)] = v
            writes.append(CellWrite(t.sheet, row.row, t.columns[col], v))
        for col in _COMPUTED:
            if col in t.columns:
                writes.append(CellWrite(t.sheet, row.row, t.columns[col], None))
    for res, parts in central.result_parts():  # in row order: a result row's parts are computed first
        if not parts:
            continue
        for col in _INCOME_INPUTS:
            if col not in t.columns:
                continue
            c = t.columns[col]
            value = 0.0
            for p in parts:
                value += sums.get((p.key, col)) or 0.0
            sums[(res.key, col)] = value
            writes.append(CellWrite(t.sheet, res.row, c, value, "+".join(a1(p.row, c) for p in parts)))
        for col in _COMPUTED:
            if col in t.columns:
                writes.append(CellWrite(t.sheet, res.row, t.columns[col], None))
    return writes
