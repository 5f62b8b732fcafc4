"""Plan an import: a SIE file's figures as cell writes into the report workbook, on sheet grids.

:func:`plan_import` works on the grids any door reads (the file door, the open workbook in
Excel) and returns an :class:`ImportPlan`: the :class:`~xlreport.core.changes.ChangeSet` to
apply, the findings, the provenance entry and the reconciliation. Nothing is written here.

What goes where (the columns of Resultaträkning and of the unit rows of Driftredovisning):

* **Utfall ack**: #PSALDO of year 0, January up to the report's Månad; a file with vouchers and
  no period balances: the #TRANS of the vouchers dated in those months; a file with only
  year balances (type 1) when Månad is 12: #RES;
* **Utfall ack fg år**: the same for year -1 (only Resultaträkning has the column);
* **Budget ack** / **Budget helår**: #PBUDGET of year 0, January up to Månad / all twelve months;
* **Avvikelse ack fg år** (the unit rows): Utfall − Budget of year -1, when the file has both.

A column the file has nothing for is left as it is (a warning says so); Prognos helår is not in
a ledger and never touched. Amounts: the template shows revenue positive and costs negative,
SIE credit (revenue) negative, so every amount changes sign; kronor become mnkr rounded half up
to ``decimals`` (default: one more than the printed decimal, as the template asks input figures
"typed with full precision", e.g. 110,27). Sums are exact (Decimal) until that rounding.

The reconciliation, to the öre before rounding, in every column: the mapped accounts, the rows
Intäkter + Kostnader and the units add up to the same amount. Only input cells are written; the
template's formulas (Resultat, the Summa row) get their new cached values. Any error of the import
(the files, the mapping, the reconciliation, the period) leaves the change set empty. The checks
of the workbook itself are the refresh's, run after the figures are in (as ``consolidate`` does):
an explanation or a forecast that no longer fits the new figures is the user's next step, not a
reason to keep the ledger's figures out.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from ..core import layout as L
from ..core.cells import CellRef, Grid, a1
from ..core.changes import Cell, CellWrite, ChangeSet, SheetContent
from ..core.config import DEFAULT, Config
from ..core.engine import SHEETS, run
from ..core.findings import ERROR, Counted, Finding
from ..core.generate import row_heights
from ..core.model import Report
from ..core.swedish import round_half_up
from ..core.template import part_rows, result_formula, total_formula
from ..departments.common import find_label, month_of_period, utc_now
from ..departments.consolidation import SHEET_SOURCES
from ..records import Record, field
from .checks import (
    SIE_AR,
    SIE_AVSTAMNING,
    SIE_KALLOR,
    SIE_KONTO,
    SIE_OBJEKT,
    SIE_PERIOD,
    SIE_PLATS,
    SIE_RAR,
    SIE_SAKNAS,
    SieError,
    SieFinding,
)
from .mapping import EXCLUDED, AccountMap, UnitMap
from .parser import SieFile, _kr, read_sie

#: The sheets a door reads for an import: the engine's, and Källor for the provenance.
SIE_SHEETS: tuple[str, ...] = (*SHEETS, SHEET_SOURCES)

MILLION = Decimal(1_000_000)
#: Last year's budget for the period: not a column of the template, but Avvikelse ack fg år of a
#: unit is Utfall ack fg år − this.
BUDGET_FG = "Budget ack fg år"
_LISTED = 20  # accounts or objects named in one finding at most

# The provenance table on Källor (a section of its own below anything already there).
SOURCES_TITLE = "Import från SIE-fil"
SOURCES_HEADER = ("SIE-fil", "Storlek (byte)", "SHA-256", "Program (#PROGRAM)", "Skapad (#GEN)",
                  "Företag (#FNAMN)", "SIE-typ", "Perioder", "Importerad (UTC)")


class Source(Record):
    """One column's amounts from the file, in kronor and SIE's sign."""

    column: str
    record: str  # "#PSALDO", "#TRANS", "#RES", "#PBUDGET"
    periods: list[str]
    totals: dict[str, Decimal] = field(default_factory=dict)  # account -> amount
    by_object: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (account, unit object)
    has_objects: bool = False  # the file has amounts on the unit dimension for this column

    def span(self) -> str:
        first, last = self.periods[0], self.periods[-1]
        return f"{first[:4]}-{first[4:]}–{last[:4]}-{last[4:]}" if first != last else f"{first[:4]}-{first[4:]}"


class Reconciliation(Record):
    """One column: the exact sums (kronor, the template's sign) and what was written (mnkr)."""

    column: str
    accounts: Decimal  # the mapped accounts
    rows: Decimal  # Intäkter + Kostnader
    units: Decimal | None  # the units (None: the unit table was not filled in this column)
    result_mnkr: float  # Resultat as written: Intäkter + Kostnader, each rounded
    units_mnkr: float | None  # Summa of the unit table as written

    def rounding_kr(self, mnkr: float | None) -> Decimal | None:
        """What rounding to mnkr changed the total by, in kronor (written − exact)."""
        return None if mnkr is None else (Decimal(repr(mnkr)) * MILLION - self.accounts).quantize(Decimal("0.01"))

    def to_dict(self) -> dict:
        return {"column": self.column, "accounts": str(self.accounts), "rows": str(self.rows),
                "units": None if self.units is None else str(self.units), "result_mnkr": self.result_mnkr,
                "units_mnkr": self.units_mnkr, "rounding_result_kr": _str(self.rounding_kr(self.result_mnkr)),
                "rounding_units_kr": _str(self.rounding_kr(self.units_mnkr))}


def _str(v) -> str | None:
    return None if v is None else str(v)


class Provenance(Record, frozen=True):
    """The entry on Källor: which file, exactly (SHA-256), from which program, which periods."""

    file: str
    size: int
    sha256: str
    program: str
    generated: str
    company: str
    sietyp: str
    periods: str
    imported: str  # UTC, ISO 8601

    def values(self) -> tuple:
        return (self.file, self.size, self.sha256, self.program, self.generated, self.company, self.sietyp,
                self.periods, self.imported)

    def to_dict(self) -> dict:
        return dict(zip(("file", "size", "sha256", "program", "generated", "company", "sietyp", "periods",
                         "imported"), self.values()))


class ImportPlan(Counted, Record):
    """What an import would do. ``changes`` is empty when there are errors (nothing is written)."""

    sie: SieFile
    changes: ChangeSet = field(default_factory=ChangeSet)
    findings: list[Finding] = field(default_factory=list)
    provenance: Provenance | None = None
    reconciliation: list[Reconciliation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    report: Report | None = None
    cells: int = 0  # input cells written
    sheets: list[str] = field(default_factory=list)  # sheets with written cells
    decimals: int = 2



def plan_import(sie: SieFile | str | Path, grids: Mapping[str, Grid], names: list[str] | None = None, *,
                accounts: AccountMap | str | Path | None = None, units: UnitMap | str | Path | None = None,
                dimension: str = "1", decimals: int | None = None, config: Config = DEFAULT,
                imported_at: str | None = None) -> ImportPlan:
    """Plan the import of ``sie`` (a path or a read file) into the workbook of ``grids``.

    ``grids`` are the sheets of :data:`SIE_SHEETS` that exist (as a door reads them), ``names``
    every sheet name in workbook order. Raises :class:`~xlreport.sie.checks.SieError` for a SIE
    or mapping file that cannot be used and :class:`~xlreport.core.errors.StructureError` for a
    workbook without the template's structure; every other problem is a finding of the plan.
    """
    sie = sie if isinstance(sie, SieFile) else read_sie(sie)
    accounts, units = AccountMap.load(accounts), UnitMap.load(units)
    decimals = config.decimals + 1 if decimals is None else decimals
    grids = {name: _copy(g) for name, g in grids.items()}
    report = run(grids, names, actions=(), config=config).report
    return _Planner(sie, grids, names, report, accounts, units, str(dimension), decimals, config,
                    imported_at).plan()


def _copy(g: Grid) -> Grid:
    return Grid(g.name, [list(r) for r in g.values], g.top, g.left, dict(g.formulas), dict(g.formats))


class _Planner:
    def __init__(self, sie: SieFile, grids: dict[str, Grid], names, report: Report, accounts: AccountMap,
                 units: UnitMap, dimension: str, decimals: int, config: Config, imported_at: str | None):
        self.sie, self.grids, self.names, self.report = sie, grids, names, report
        self.accounts, self.units, self.dim, self.decimals, self.config = accounts, units, dimension, decimals, config
        self.imported_at = imported_at
        self.avv_fg = False  # the units' Avvikelse ack fg år is written
        self.out = ImportPlan(sie=sie, report=report, decimals=decimals)
        self.findings = self.out.findings

    def note(self, finding: Finding) -> None:
        self.findings.append(finding)

    def mnkr(self, kr: Decimal) -> float:
        return round_half_up(float(kr / MILLION), self.decimals)

    # --- the whole plan -----------------------------------------------------------------------
    def plan(self) -> ImportPlan:
        period = self.period()
        if period is None:
            return self.out
        year, month = period
        sources = self.sources(year, month)
        if sources is None:
            return self.out
        self.out.sources = [s for s in sources.values() if s is not None]
        if not self.check_accounts():
            return self.out
        writes = self.figures(sources)
        if writes is None or any(f.severity == ERROR for f in self.findings):
            return self.out
        self.out.provenance = self.provenance()
        changes = ChangeSet(writes=writes)
        self.sources_sheet(changes)
        if not self.out.errors:
            self.out.changes = changes
        return self.out

    # --- the period ---------------------------------------------------------------------------
    def period(self) -> tuple[int, int] | None:
        meta = self.report.meta
        year = meta.ar
        month = meta.manad if meta.manad is not None else month_of_period(meta.period)
        for value, attr, label, why in ((year, "ar", L.META_AR, "räkenskapsåret"),
                                        (month, "manad", L.META_MANAD, "periodens sista månad (1–12)")):
            if value is None or (attr == "manad" and not 1 <= value <= 12):
                ref = meta.cells.get(attr)
                self.note(SIE_PERIOD.at(ref or CellRef(L.SHEET_META, 0, 0),
                                        f"Uppgiften '{label}' saknas eller är fel på bladet {L.SHEET_META}; importen "
                                        f"behöver den för att veta {why}."))
        if self.findings:
            return None
        y0 = self.sie.years.get(0)
        if y0 is None:
            raise SieError("SIE-filen saknar #RAR 0 (räkenskapsåret), så perioderna kan inte bestämmas.",
                           file=self.sie.path, findings=[SieFinding(SIE_RAR, "SIE-filen saknar #RAR 0 "
                                                         "(räkenskapsåret), så perioderna kan inte bestämmas.")])
        ar_cell = meta.cells.get("ar")
        where = f" ({ar_cell.sheet}!{ar_cell.a1})" if ar_cell else ""
        span = f"{y0.start.isoformat()}–{y0.end.isoformat()}"
        if y0.start.year != year:
            self.note(SieFinding(SIE_AR, f"SIE-filen gäller räkenskapsåret {span} (#RAR 0), men rapportens År är "
                                         f"{year}{where}. Exportera räkenskapsåret {year} ur bokföringen, eller "
                                         f"rätta År.", y0.line))
        elif (y0.start.month, y0.start.day, y0.end.month, y0.end.day, y0.end.year) != (1, 1, 12, 31, year):
            self.note(SieFinding(SIE_AR, f"SIE-filens räkenskapsår {span} (#RAR 0) är inte kalenderåret {year}; "
                                         f"rapportens perioder räknas från januari (Månad {month}).", y0.line))
        return None if self.findings else (year, month)

    # --- what each column comes from ----------------------------------------------------------
    def sources(self, year: int, month: int) -> dict[str, Source | None] | None:
        sie = self.sie
        ack = [f"{year}{m:02d}" for m in range(1, month + 1)]
        fg = [f"{year - 1}{m:02d}" for m in range(1, month + 1)]
        whole = [f"{year}{m:02d}" for m in range(1, 13)]
        utfall = self.actual(L.COL_UTFALL, 0, year, ack, month)
        if utfall is None:
            what = ("bara årssaldon (#RES, SIE typ 1), inga periodsaldon: utfallet till och med "
                    f"{L.MONTHS[month - 1]} går inte att räkna fram. Exportera SIE typ 2, 3 eller 4."
                    if any(y == 0 for y, _ in sie.res) else
                    f"inga saldon eller verifikationer för {year} (#PSALDO, #VER/#TRANS eller #RES).")
            self.note(SieFinding(SIE_PERIOD, f"SIE-filen har {what}", sie.years[0].line))
            return None
        if not utfall.totals:
            self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har inga belopp för {utfall.span()} ({utfall.record}): "
                                             f"{L.COL_UTFALL} blir tom."))
        out: dict[str, Source | None] = {L.COL_UTFALL: utfall}
        out[L.COL_UTFALL_FG] = self.actual(L.COL_UTFALL_FG, -1, year - 1, fg, month)
        if out[L.COL_UTFALL_FG] is None:
            self.missing(L.COL_UTFALL_FG, f"inga saldon eller verifikationer för {year - 1}")
        has_budget = any(k[0] == 0 for k in sie.pbudget)
        out[L.COL_BUDGET] = self.balances(L.COL_BUDGET, "#PBUDGET", sie.pbudget, 0, ack) if has_budget else None
        out[L.COL_BUDGET_HELAR] = self.balances(L.COL_BUDGET_HELAR, "#PBUDGET", sie.pbudget, 0, whole) \
            if has_budget else None
        if not has_budget:
            self.missing(f"{L.COL_BUDGET} och {L.COL_BUDGET_HELAR}", "ingen budget (#PBUDGET) för år 0")
        has_budget_fg = any(k[0] == -1 for k in sie.pbudget)
        out[BUDGET_FG] = self.balances(BUDGET_FG, "#PBUDGET", sie.pbudget, -1, fg) if has_budget_fg else None
        return out

    def missing(self, what: str, why: str) -> None:
        self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har {why}: {what} lämnas som {'de' if ' och ' in what else 'den'} "
                                         f"är i arbetsboken."))

    def actual(self, column: str, index: int, year: int, periods: list[str], month: int) -> Source | None:
        sie = self.sie
        if any(k[0] == index for k in sie.psaldo):
            return self.balances(column, "#PSALDO", sie.psaldo, index, periods)
        months = {f"{year}{m:02d}" for m in range(1, 13)}
        if any(k[0] in months for k in sie.trans):
            return self.vouchers(column, periods)
        if month == 12 and any(y == index for y, _ in sie.res):
            return Source(column, "#RES", periods, {a: v for (y, a), v in sie.res.items() if y == index})
        return None

    def balances(self, column: str, record: str, store, index: int, periods: list[str]) -> Source:
        src = Source(column, record, periods)
        wanted = set(periods)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        by_object: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        has_total = False
        for (y, period, account, objects), amount in store.items():
            if y != index:
                continue
            if not objects:
                has_total = True
            elif len(objects) == 1 and objects[0][0] == self.dim:
                src.has_objects = True
            else:
                continue  # another dimension, or a combination: a breakdown the report does not use
            if period not in wanted:
                continue
            if objects:
                by_object[(account, objects[0][1])] += amount
            else:
                totals[account] += amount
        if not has_total:  # only per object: the account totals are their sums
            for (account, _obj), amount in by_object.items():
                totals[account] += amount
        src.totals, src.by_object = dict(totals), dict(by_object)
        return src

    def vouchers(self, column: str, periods: list[str]) -> Source:
        src = Source(column, "#TRANS", periods)
        wanted = set(periods)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        by_object: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for (period, account, objects), amount in self.sie.trans.items():
            obj = next((o for d, o in objects if d == self.dim), None)
            if obj is not None:
                src.has_objects = True
            if period not in wanted:
                continue
            totals[account] += amount
            if obj is not None:
                by_object[(account, obj)] += amount
        src.totals, src.by_object = dict(totals), dict(by_object)
        return src

    # --- accounts -----------------------------------------------------------------------------
    def check_accounts(self) -> bool:
        used: set[str] = set()
        for src in self.out.sources:
            used.update(a for a, v in src.totals.items() if v)
        unmapped = sorted(a for a in used if self.accounts.place(a).row is None)
        for account in unmapped[:_LISTED]:
            name = self.sie.accounts.get(account)
            self.note(SieFinding(SIE_KONTO, f"Konto {account}{' ' + repr(name) if name else ''} har belopp men hör "
                                            f"inte till någon rad i {L.SHEET_INCOME}. Ange raden i en mappningsfil "
                                            f"(--map konton.csv, t.ex. '{account[:2]};{L.ROW_KOSTNADER}') eller '-' "
                                            f"om kontot inte hör till resultaträkningen.",
                                 self.sie.account_lines.get(account)))
        if len(unmapped) > _LISTED:
            self.note(SieFinding(SIE_KONTO, f"Ytterligare {len(unmapped) - _LISTED} konton utan rad: "
                                            f"{', '.join(unmapped[_LISTED:_LISTED + 40])}"
                                            f"{' …' if len(unmapped) > _LISTED + 40 else ''}."))
        return not unmapped

    # --- the figures --------------------------------------------------------------------------
    def figures(self, sources: dict[str, Source | None]) -> list[CellWrite] | None:
        inc, table = self.report.income, self.report.units
        columns = [c for c in (L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR)
                   if sources.get(c) is not None]
        utfall = sources[L.COL_UTFALL]
        unit_columns = [c for c in (L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR)
                        if c in columns and c in table.columns]
        if not utfall.has_objects:
            name = self.sie.dims.get(self.dim)
            self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har inga belopp per objekt i dimension {self.dim}"
                                             f"{' (' + name + ')' if name else ''}: {L.SHEET_UNITS} fylls inte i. "
                                             f"Exportera SIE typ 3 eller 4 med objekt, eller ange en annan "
                                             f"dimension (--dimension)."))
            unit_columns = []
        for c in list(unit_columns):
            if not sources[c].has_objects:
                self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har {sources[c].record} bara per konto, inte per objekt "
                                                 f"i dimension {self.dim}: {L.SHEET_UNITS} / {c} lämnas som den är."))
                unit_columns.remove(c)
        rows: dict[str, dict[str, Decimal]] = {c: defaultdict(Decimal) for c in columns}
        seen: dict[str, set[str]] = {c: set() for c in columns}
        mapped_total: dict[str, Decimal] = {}
        for c in columns:
            total = Decimal(0)
            for account, amount in sources[c].totals.items():
                place = self.accounts.place(account)
                if place.row in (None, EXCLUDED):
                    continue
                v = -amount  # SIE: credit (revenue) negative; the template: revenue positive
                total += v
                rows[c][place.row] += v
                seen[c].add(place.row)
                if place.part is not None:
                    rows[c][place.part] += v
                    seen[c].add(place.part)
            mapped_total[c] = total
        unit_values = self.unit_amounts(sources, unit_columns)
        if unit_values is None:
            return None
        writes: list[CellWrite] = []
        written: dict[tuple[str, int, int], float | None] = {}

        def put(sheet: str, row: int, col: int, value) -> None:
            writes.append(CellWrite(sheet, row, col, value))
            written[(sheet, row, col)] = value if not isinstance(value, str) else None

        results: dict[str, float] = {}
        for c in columns:
            if c not in inc.columns:
                continue
            for row in inc.rows:
                if row.key == L.ROW_RESULTAT:
                    continue
                value = self.mnkr(rows[c][row.key]) if row.key in seen[c] else None
                put(inc.sheet, row.row, inc.columns[c], value)
            i_row, k_row = inc.get(L.ROW_INTAKTER), inc.get(L.ROW_KOSTNADER)
            results[c] = (written.get((inc.sheet, i_row.row, inc.columns[c])) or 0.0) + \
                (written.get((inc.sheet, k_row.row, inc.columns[c])) or 0.0)
        summa = self.unit_writes(unit_values, unit_columns, put) if unit_columns else {}
        if summa is None:
            return None
        self.out.cells = len(writes)
        for c, value in results.items():
            if (w := result_formula(inc, c, value)) is not None:
                writes.append(w)
        for c, value in summa.items():
            if (w := total_formula(table, c, value)) is not None:
                writes.append(w)
        self.reconcile(columns, sources, rows, mapped_total, unit_values, results, summa)
        self.out.sheets = sorted({w.sheet for w in writes}, key=[inc.sheet, table.sheet].index)
        return writes

    def unit_amounts(self, sources: dict[str, Source | None], unit_columns: list[str]
                     ) -> dict[str, dict[str, Decimal]] | None:
        """{column: {unit: kronor, template sign}} for the unit columns (and Avvikelse ack fg år)."""
        listed = self.report.meta.units or [r.key for r in self.report.units.rows]
        by_norm = {L.norm(u): u for u in listed}
        out: dict[str, dict[str, Decimal]] = {}
        unknown: dict[str, Decimal] = defaultdict(Decimal)
        bad_csv: list[tuple[str, str, int]] = []
        columns = list(unit_columns)
        fg, bfg = sources.get(L.COL_UTFALL_FG), sources.get(BUDGET_FG)
        if unit_columns and L.COL_AVV_FG in self.report.units.columns and fg is not None and bfg is not None \
                and fg.has_objects and bfg.has_objects:
            columns += [L.COL_UTFALL_FG, BUDGET_FG]
        for c in columns:
            values: dict[str, Decimal] = defaultdict(Decimal)
            for (account, obj), amount in sources[c].by_object.items():
                place = self.accounts.place(account)
                if place.row in (None, EXCLUDED) or not amount:
                    continue
                unit, csv_line = self.units.unit_of(obj, self.sie.objects.get((self.dim, obj)), by_norm)
                if unit is None:
                    if csv_line is not None:
                        bad_csv.append((obj, self.units.by_code[obj][0], csv_line))
                    else:
                        unknown[obj] += amount
                    continue
                values[unit] -= amount
            out[c] = dict(values)
        where = f"listan '{L.META_UNITS_HEADER}' på bladet {L.SHEET_META}" if self.report.meta.units \
            else f"tabellen {L.SHEET_UNITS}"
        for obj, unit, line in sorted(set(bad_csv)):
            self.note(SieFinding(SIE_OBJEKT, f"Enheten '{unit}' (för objekt {obj}) finns inte i {where}.", line,
                                 source=self.units.source))
        for obj in sorted(unknown)[:_LISTED]:
            name = self.sie.objects.get((self.dim, obj))
            close = difflib.get_close_matches(name or obj, listed, n=1, cutoff=0.6)
            hint = f" Menade du '{close[0]}'?" if close else ""
            line = min((n for (a, o), n in self.sie.object_lines.items() if any(d == self.dim and x == obj
                                                                                  for d, x in o)), default=None)
            self.note(SieFinding(SIE_OBJEKT, f"Objekt {obj}{' ' + repr(name) if name else ''} i dimension {self.dim} "
                                             f"har belopp men är ingen enhet i {where}.{hint} Lägg till enheten, "
                                             f"eller ange vilken enhet objektet hör till i en fil med --enheter "
                                             f"(Objekt;Enhet).", line))
        if len(unknown) > _LISTED:
            self.note(SieFinding(SIE_OBJEKT, f"Ytterligare {len(unknown) - _LISTED} objekt är inga enheter: "
                                             f"{', '.join(sorted(unknown)[_LISTED:_LISTED + 40])}."))
        return None if unknown or bad_csv else out

    def unit_writes(self, values: dict[str, dict[str, Decimal]], unit_columns: list[str], put
                    ) -> dict[str, float] | None:
        """Write the unit rows; returns {column: the Summa row's value} for the columns written."""
        t = self.report.units
        rows = {L.norm(r.key): r.row for r in t.rows}
        units_with_amounts = sorted({u for c in values for u in values[c]}, key=L.norm)
        new = [u for u in units_with_amounts if L.norm(u) not in rows]
        used = set(rows.values())
        free = [r for r in part_rows(t) if r not in used and self._label(t.sheet, r, t.label_col) is None]
        if len(new) > len(free):
            summa = a1(t.total.row, t.label_col)
            self.note(SIE_PLATS.at(CellRef(t.sheet, t.total.row, t.label_col),
                                   f"{L.SHEET_UNITS} har inte plats för enheterna {', '.join(new[len(free):])}: infoga "
                                   f"{len(new) - len(free)} rader ovanför Summa-raden ({summa}) och kör igen."))
            return None
        for u, r in zip(new, free):
            put(t.sheet, r, t.label_col, u)
            rows[L.norm(u)] = r
        name_of = {r.row: r.key for r in t.rows} | {rows[L.norm(u)]: u for u in new}
        summa: dict[str, float] = {}
        columns = list(unit_columns)
        self.avv_fg = L.COL_UTFALL_FG in values and BUDGET_FG in values
        if self.avv_fg:
            columns.append(L.COL_AVV_FG)
        for c in columns:
            total = 0.0
            for r in sorted(set(rows.values())):
                unit = name_of[r]
                if c == L.COL_AVV_FG:
                    fg, bfg = values[L.COL_UTFALL_FG], values[BUDGET_FG]
                    has = unit in fg or unit in bfg
                    value = self.mnkr(fg.get(unit, Decimal(0)) - bfg.get(unit, Decimal(0))) if has else None
                else:
                    value = self.mnkr(values[c][unit]) if unit in values[c] else None
                put(t.sheet, r, t.columns[c], value)
                total += value or 0.0
            summa[c] = total
        return summa

    def _label(self, sheet: str, row: int, col: int):
        v = self.grids[sheet].get(row, col)
        return v if v is not None and str(v).strip() else None

    # --- the reconciliation -------------------------------------------------------------------
    def reconcile(self, columns, sources, rows, mapped_total, unit_values, results, summa) -> None:
        for c in (L.COL_UTFALL_FG, BUDGET_FG) if self.avv_fg else ():  # the two sides of Avvikelse ack fg år
            accounts = sum((-v for a, v in sources[c].totals.items()
                            if self.accounts.place(a).row not in (None, EXCLUDED)), Decimal(0))
            units = sum(unit_values[c].values(), Decimal(0))
            if units != accounts:
                self.note(SieFinding(SIE_AVSTAMNING, f"{c} (för {L.COL_AVV_FG}): enheterna summerar till {_kr(units)} kr "
                                                     f"men kontona till {_kr(accounts)} kr (skillnad "
                                                     f"{_kr(units - accounts)} kr).{self.differences(sources[c])}"))
        for c in columns:
            accounts = mapped_total[c]
            both = rows[c][L.ROW_INTAKTER] + rows[c][L.ROW_KOSTNADER]
            units = sum(unit_values[c].values(), Decimal(0)) if c in unit_values and c in summa else None
            self.out.reconciliation.append(Reconciliation(c, accounts, both, units, results.get(c, 0.0),
                                                          summa.get(c)))
            if both != accounts:
                self.note(SieFinding(SIE_AVSTAMNING, f"{c}: Intäkter + Kostnader är {_kr(both)} kr men de mappade "
                                                     f"kontona summerar till {_kr(accounts)} kr."))
            if units is not None and units != accounts:
                self.note(SieFinding(SIE_AVSTAMNING, f"{c}: enheterna summerar till {_kr(units)} kr men kontona till "
                                                     f"{_kr(accounts)} kr (skillnad {_kr(units - accounts)} kr)."
                                                     f"{self.differences(sources[c])}"))

    def differences(self, src: Source) -> str:
        """The accounts whose objects do not add up to their total, largest first."""
        per_object: dict[str, Decimal] = defaultdict(Decimal)
        for (account, _obj), amount in src.by_object.items():
            per_object[account] += amount
        diffs = []
        for account, total in src.totals.items():
            if self.accounts.place(account).row in (None, EXCLUDED):
                continue
            d = total - per_object.get(account, Decimal(0))
            if d:
                diffs.append((abs(d), account, d))
        if not diffs:
            return ""
        diffs.sort(reverse=True)
        parts = []
        for _abs, account, d in diffs[:5]:
            line = self.sie.account_lines.get(account)
            parts.append(f"konto {account} {_kr(-d)} kr{f' (t.ex. rad {line})' if line else ''}")
        return (f" Belopp som inte är fördelade på objekt i dimension {self.dim}: {'; '.join(parts)}"
                f"{' …' if len(diffs) > 5 else ''}.")

    # --- provenance -------------------------------------------------------------------------
    def provenance(self) -> Provenance:
        sie = self.sie
        parts = [f"{s.column} {s.span()} ({s.record})" for s in self.out.sources
                 if s.column != BUDGET_FG or self.avv_fg]
        return Provenance(str(sie.path), sie.size, sie.sha256, sie.program_text(), sie.generated(), sie.fnamn or "",
                          sie.sietyp or "", "; ".join(parts), self.imported_at or utc_now())

    def sources_sheet(self, changes: ChangeSet) -> None:
        """The provenance entry on Källor: a new sheet, or a row added to its SIE table."""
        prov = self.out.provenance
        grid = next((g for name, g in self.grids.items() if L.norm(name) == L.norm(SHEET_SOURCES)), None)
        if grid is None:
            sheet = SheetContent(SHEET_SOURCES, col_widths={0: 40, 1: 14, 2: 66, 3: 24, 4: 16, 5: 28, 6: 8, 7: 60,
                                                            8: 22})
            sheet.add(Cell(SHEET_SOURCES, "title"))
            sheet.add(Cell("Skapas av xlreport. SHA-256 identifierar exakt den fil som lästes.", "text"))
            sheet.blank()
            self._sources_rows(sheet)
            sheet.row_heights = row_heights(sheet)
            changes.sheets.append(sheet)
            return
        at = find_label(grid, SOURCES_HEADER[0])
        if at is not None:
            r0, c0 = at
            cols = {L.norm(grid.get(r0, c)): c for c in range(c0, grid.n_cols)}
            sha_c, when_c = cols.get(L.norm(SOURCES_HEADER[2])), cols.get(L.norm(SOURCES_HEADER[8]))
            per_c = cols.get(L.norm(SOURCES_HEADER[7]))
            r = r0 + 1
            while grid.get(r, c0) is not None:
                same = sha_c is not None and per_c is not None and grid.get(r, sha_c) == prov.sha256 and \
                    grid.get(r, per_c) == prov.periods
                if same:
                    when = grid.get(r, when_c) if when_c is not None else None
                    if isinstance(when, str):  # the same file for the same periods: already listed
                        self.out.provenance = Provenance(*prov.values()[:-1], when)
                    return
                r += 1
            start = r
        else:
            start = grid.n_rows + 1 if grid.values else 0
            c0 = grid.left if grid.values else 0
            changes.writes += [CellWrite(grid.name, start, c0, SOURCES_TITLE)]
            changes.writes += [CellWrite(grid.name, start + 1, c0 + i, h) for i, h in enumerate(SOURCES_HEADER)]
            start += 2
        busy = [a1(start, c0 + i) for i in range(len(SOURCES_HEADER)) if grid.get(start, c0 + i) is not None]
        if busy:
            self.note(SIE_KALLOR.at(CellRef(grid.name, start, c0),
                                    f"Bladet {grid.name} har redan värden i {', '.join(busy)}, där importens rad ska "
                                    f"stå. Flytta dem och kör igen."))
            return
        changes.writes += [CellWrite(grid.name, start, c0 + i, v) for i, v in enumerate(prov.values())]

    def _sources_rows(self, sheet: SheetContent) -> None:
        sheet.add(Cell(SOURCES_TITLE, "heading"))
        sheet.add(*(Cell(h, "header") for h in SOURCES_HEADER))
        prov = self.out.provenance
        sheet.add(*(Cell(v, "integer" if isinstance(v, int) else "text") for v in prov.values()))
