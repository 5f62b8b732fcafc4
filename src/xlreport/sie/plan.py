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
    SIE_FORMEL,
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
    #: Rows to insert before the changes are applied, ``(sheet, before, n, style_from)`` as
    #: :func:`~xlreport.ooxml.rows.insert_rows` takes them: on Källor, below the SIE table, when its
    #: new entry would land on (or right above) what is under the table. Only with ``insert_rows``.
    inserts: list[tuple[str, int, int, int]] = field(default_factory=list)
    #: What the import is when :attr:`inserts` cannot be made (a sheet with drawings, comments or
    #: tables): the finding that refuses it, or None when the entry fits without them.
    without_inserts: Finding | None = None



def plan_import(sie: SieFile | str | Path, grids: Mapping[str, Grid], names: list[str] | None = None, *,
                accounts: AccountMap | str | Path | None = None, units: UnitMap | str | Path | None = None,
                dimension: str = "1", decimals: int | None = None, config: Config = DEFAULT,
                imported_at: str | None = None, insert_rows: bool = False) -> ImportPlan:
    """Plan the import of ``sie`` (a path or a read file) into the workbook of ``grids``.

    ``grids`` are the sheets of :data:`SIE_SHEETS` that exist (as a door reads them), ``names``
    every sheet name in workbook order. Raises :class:`~xlreport.sie.checks.SieError` for a SIE
    or mapping file that cannot be used and :class:`~xlreport.core.errors.StructureError` for a
    workbook without the template's structure; every other problem is a finding of the plan.

    With ``insert_rows`` (a door that can insert rows: the file door) the provenance entry that
    would land on what is below the SIE table on Källor (a consolidation's block, a note) gets
    rows inserted for it (:attr:`ImportPlan.inserts`); without, such an entry is refused.
    """
    sie = sie if isinstance(sie, SieFile) else read_sie(sie)
    accounts, units = AccountMap.load(accounts), UnitMap.load(units)
    decimals = config.decimals + 1 if decimals is None else decimals
    grids = {name: _copy(g) for name, g in grids.items()}
    report = run(grids, names, actions=(), config=config).report
    return _Planner(sie, grids, names, report, accounts, units, str(dimension), decimals, config,
                    imported_at, insert_rows).plan()


def _copy(g: Grid) -> Grid:
    return Grid(g.name, [list(r) for r in g.values], g.top, g.left, dict(g.formulas), dict(g.formats))


class _Planner:
    def __init__(self, sie: SieFile, grids: dict[str, Grid], names, report: Report, accounts: AccountMap,
                 units: UnitMap, dimension: str, decimals: int, config: Config, imported_at: str | None,
                 insert_rows: bool = False):
        self.sie, self.grids, self.names, self.report = sie, grids, names, report
        self.accounts, self.units, self.dim, self.decimals, self.config = accounts, units, dimension, decimals, config
        self.accounts = accounts.for_statement({r.key for r in report.income.rows})
        self.imported_at = imported_at
        self.insert_rows = insert_rows
        self.avv_fg = False  # the units' Avvikelse ack fg år is written
        self.lost_reported: set[tuple[str, int, str]] = set()  # (record, year, account) reported
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
        if not any(v for a, v in utfall.totals.items() if self.result_account(a)):
            self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har inga belopp för {utfall.span()} ({utfall.record}): "
                                             f"{L.COL_UTFALL} blir tom."))
        out: dict[str, Source | None] = {L.COL_UTFALL: utfall}
        out[L.COL_UTFALL_FG] = self.actual(L.COL_UTFALL_FG, -1, year - 1, fg, month)
        if out[L.COL_UTFALL_FG] is None:
            self.missing(L.COL_UTFALL_FG, f"inga saldon eller verifikationer för {year - 1}")
        has_budget = any(k[0] == 0 and self.result_account(k[2]) for k in sie.pbudget)
        out[L.COL_BUDGET] = self.balances(L.COL_BUDGET, "#PBUDGET", sie.pbudget, 0, ack) if has_budget else None
        out[L.COL_BUDGET_HELAR] = self.balances(L.COL_BUDGET_HELAR, "#PBUDGET", sie.pbudget, 0, whole) \
            if has_budget else None
        if not has_budget:
            self.missing(f"{L.COL_BUDGET} och {L.COL_BUDGET_HELAR}", "ingen budget (#PBUDGET) för år 0")
        has_budget_fg = any(k[0] == -1 and self.result_account(k[2]) for k in sie.pbudget)
        out[BUDGET_FG] = self.balances(BUDGET_FG, "#PBUDGET", sie.pbudget, -1, fg) if has_budget_fg else None
        return out

    def missing(self, what: str, why: str) -> None:
        self.note(SieFinding(SIE_SAKNAS, f"SIE-filen har {why}: {what} lämnas som {'de' if ' och ' in what else 'den'} "
                                         f"är i arbetsboken."))

    def result_account(self, account: str) -> bool:
        """An account of the income statement: every one the mapping does not leave out (by default
        classes 3–9; 1–2 are the balance sheet)."""
        return self.accounts.place(account).row != EXCLUDED

    def actual(self, column: str, index: int, year: int, periods: list[str], month: int) -> Source | None:
        """The year's outcome: from the period balances when the file has them for a result
        account, else from the vouchers, else (a whole year) from #RES. A file with #PSALDO only
        for the balance sheet (the bank) and vouchers for everything is a file of vouchers."""
        sie = self.sie
        if any(k[0] == index and self.result_account(k[2]) for k in sie.psaldo):
            return self.balances(column, "#PSALDO", sie.psaldo, index, periods)
        months = {f"{year}{m:02d}" for m in range(1, 13)}
        if any(k[0] in months for k in sie.trans):
            return self.vouchers(column, periods)
        if month == 12 and any(y == index for y, _ in sie.res):
            return Source(column, "#RES", periods, {a: v for (y, a), v in sie.res.items() if y == index})
        if any(k[0] == index for k in sie.psaldo):  # balances of the balance sheet only: an empty column
            return self.balances(column, "#PSALDO", sie.psaldo, index, periods)
        return None

    def balances(self, column: str, record: str, store, index: int, periods: list[str]) -> Source:
        """One column from period balances. An account's amount for a period is its total line
        (``{}``) when the file has one for that account and period, else the sum of its lines
        per object of the unit dimension: decided per account and period, never for the whole
        file (a file may give the bank a total line and the result accounts only objects)."""
        src = Source(column, record, periods)
        wanted = set(periods)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        by_object: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        total_of: dict[tuple[str, str], Decimal] = {}  # (account, period) -> its {} line
        objects_of: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (account, period) -> sum of objects
        elsewhere: dict[tuple[str, str], str] = {}  # (account, period) -> another dimension it has lines in
        for (y, period, account, objects), amount in store.items():
            if y != index:
                continue
            if objects and len(objects) == 1 and objects[0][0] == self.dim:
                src.has_objects = True
            elif objects:
                if period in wanted and amount:
                    elsewhere.setdefault((account, period), objects[0][0])
                continue  # another dimension, or a combination: a breakdown the report does not use
            if period not in wanted:
                continue
            if objects:
                by_object[(account, objects[0][1])] += amount
                objects_of[(account, period)] += amount
            else:
                total_of[(account, period)] = amount
        for (account, _period), amount in total_of.items():
            totals[account] += amount
        for key, amount in objects_of.items():
            if key not in total_of:  # only per object: the account's total is their sum
                totals[key[0]] += amount
        lost: dict[str, tuple[str, list[str]]] = {}  # account -> (the other dimension, its periods)
        for (account, period), dim in sorted(elsewhere.items()):
            if (account, period) not in total_of and (account, period) not in objects_of \
                    and self.accounts.place(account).row != EXCLUDED:
                lost.setdefault(account, (dim, []))[1].append(period)
        for account, (dim, months) in list(lost.items())[:_LISTED]:
            if (record, index, account) in self.lost_reported:
                continue
            self.lost_reported.add((record, index, account))
            self.note(SieFinding(SIE_AVSTAMNING, f"Konto {account} har {record} år {index} (period "
                                                 f"{', '.join(months)}) bara per objekt i dimension {dim}, varken som "
                                                 f"totalsaldo ({{}}) eller per objekt i dimension {self.dim}, så "
                                                 f"kontots belopp går inte att räkna fram. Exportera med totalsaldon "
                                                 f"eller med objekt i dimension {self.dim}.",
                                 self._line_of(account, dim)))
        src.totals, src.by_object = dict(totals), dict(by_object)
        return src

    def _line_of(self, account: str, dim: str | None = None) -> int | None:
        """The first line with an amount on ``account`` (on an object of ``dim``, when given)."""
        if dim is None:
            return self.sie.account_lines.get(account)
        return min((n for (a, objs), n in self.sie.object_lines.items() if a == account and objs
                    and objs[0][0] == dim), default=self.sie.account_lines.get(account))

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
            # an account whose total nets to zero still has amounts when its objects do not (an
            # internal allocation moving money between units): they belong to no row either
            used.update(a for (a, _obj), v in src.by_object.items() if v)
        unmapped = sorted(a for a in used if self.accounts.place(a).row is None)
        for account in unmapped[:_LISTED]:
            name = self.sie.accounts.get(account)
            self.note(SieFinding(SIE_KONTO, f"Konto {account}{' ' + repr(name) if name else ''} har belopp"
                                            f"{self.netted(account)} men hör "
                                            f"inte till någon rad i {L.SHEET_INCOME}. Ange raden i en mappningsfil "
                                            f"(--map konton.csv, t.ex. '{account[:2]};{L.ROW_KOSTNADER}') eller '-' "
                                            f"om kontot inte hör till resultaträkningen.",
                                 self.sie.account_lines.get(account)))
        if len(unmapped) > _LISTED:
            self.note(SieFinding(SIE_KONTO, f"Ytterligare {len(unmapped) - _LISTED} konton utan rad: "
                                            f"{', '.join(unmapped[_LISTED:_LISTED + 40])}"
                                            f"{' …' if len(unmapped) > _LISTED + 40 else ''}."))
        return not unmapped

    def netted(self, account: str) -> str:
        """For an account whose total nets to zero in every column: its amounts per object."""
        if any(src.totals.get(account) for src in self.out.sources):
            return ""
        src = next(s for s in self.out.sources if any(a == account and v for (a, _o), v in s.by_object.items()))
        parts = [f"objekt {obj} {_kr(v)} kr" for (a, obj), v in sorted(src.by_object.items()) if a == account and v]
        return (f" ({src.column}: kontot summerar till 0 men har {', '.join(parts[:5])}{' …' if len(parts) > 5 else ''}"
                f" i dimension {self.dim})")

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
        top = {L.ROW_INTAKTER, L.ROW_KOSTNADER}  # the rows that add up to the result (not the varav rows)
        for c in columns:
            total = Decimal(0)
            for account, amount in sources[c].totals.items():
                main, also = self.place(account)
                if main in (None, EXCLUDED):
                    continue
                v = -amount  # SIE: credit (revenue) negative; the template: revenue positive
                total += v
                rows[c][main] += v
                seen[c].add(main)
                top.add(main)
                for part in also:
                    rows[c][part] += v
                    seen[c].add(part)
            mapped_total[c] = total
        if not self.check_rows(sources, columns):
            return None
        unit_values = self.unit_amounts(sources, unit_columns)
        if unit_values is None:
            return None
        writes: list[CellWrite] = []
        written: dict[tuple[str, int, int], float | None] = {}
        blocked: list[CellRef] = []  # cells the import would fill that hold a formula

        def put(sheet: str, row: int, col: int, value) -> None:
            if (row, col) in self.grids[sheet].formulas:
                blocked.append(CellRef(sheet, row, col))
                return
            writes.append(CellWrite(sheet, row, col, value))
            written[(sheet, row, col)] = value if not isinstance(value, str) else None

        filled = self.filled_rows(seen)
        results: dict[str, float] = {}  # the bottom line as written: the top rows, each rounded
        both: dict[str, float] = {}  # Intäkter + Kostnader as written (the template's Resultat)
        for c in columns:
            if c not in inc.columns:
                continue
            col = inc.columns[c]
            for row in inc.rows:
                if row.key not in filled:
                    continue  # a result row, or a row the file has no amounts for: left as it is
                if row.key == L.ROW_FIN_POSTER and row.key not in self.accounts.targets() \
                        and (row.row, col) in self.grids[inc.sheet].formulas:
                    continue  # Finansiella poster as the formula of its two parts
                value = self.mnkr(rows[c][row.key]) if row.key in seen[c] else None
                put(inc.sheet, row.row, col, value)
            results[c] = sum((written.get((inc.sheet, r.row, col)) or 0.0 for r in inc.rows if r.key in top), 0.0)
            both[c] = sum((written.get((inc.sheet, r.row, col)) or 0.0 for r in inc.rows
                           if r.key in (L.ROW_INTAKTER, L.ROW_KOSTNADER)), 0.0)
        self.left_rows(columns, filled)
        summa = self.unit_writes(unit_values, unit_columns, put) if unit_columns else {}
        if blocked:
            self.formula_cells(blocked)
            return None
        if summa is None:
            return None
        self.out.cells = len(writes)
        if self.template_result():
            for c, value in both.items():
                if (w := result_formula(inc, c, value)) is not None:
                    writes.append(w)
        for c, value in summa.items():
            if (w := total_formula(table, c, value)) is not None:
                writes.append(w)
        writes += self.cached_values(writes)
        self.reconcile(columns, sources, rows, top, mapped_total, unit_values, results, summa)
        self.out.sheets = sorted({w.sheet for w in writes}, key=[inc.sheet, table.sheet].index)
        return writes

    def place(self, account: str) -> tuple[str | None, tuple[str, ...]]:
        """The row ``account`` adds to (None: no rule; EXCLUDED) and the rows it also counts in:
        the varav row it is part of, or Finansiella poster when the statement has it above its
        two parts."""
        p = self.accounts.place(account)
        if p.row in (None, EXCLUDED):
            return p.row, ()
        if p.part is not None:
            return p.row, (p.part,)
        if p.row in (L.ROW_FIN_INTAKTER, L.ROW_FIN_KOSTNADER) and self.report.income.get(L.ROW_FIN_POSTER):
            return p.row, (L.ROW_FIN_POSTER,)
        return p.row, ()

    def filled_rows(self, seen: dict[str, set[str]]) -> set[str]:
        """The rows of Resultaträkning the import fills: the template's input rows (Intäkter,
        Kostnader and the varav rows, which every account of the file is sorted into or out of)
        and every other row the file has amounts for (a financial row of the municipal shape);
        never a result row, whose formula adds up the rows above it."""
        out = {L.ROW_INTAKTER, L.ROW_KOSTNADER, *L.VARAV_ROWS}
        for keys in seen.values():
            out |= keys
        return out - set(L.RESULT_ROWS)

    def check_rows(self, sources: dict[str, Source | None], columns: list[str]) -> bool:
        """Every row an account with amounts goes to is a row of the workbook's Resultaträkning."""
        present = {r.key for r in self.report.income.rows}
        missing: dict[str, list[str]] = defaultdict(list)
        for c in columns:
            for account, amount in sources[c].totals.items():
                main, _also = self.place(account)
                if amount and main not in (None, EXCLUDED) and main not in present and account not in missing[main]:
                    missing[main].append(account)
        for row, accounts in missing.items():
            rule = self.accounts.place(accounts[0]).rule
            where = rule.origin if rule is not None else "mappningen"
            self.note(SieFinding(SIE_KONTO, f"Konto {', '.join(sorted(accounts)[:_LISTED])} hör till raden '{row}' "
                                            f"({where}), men {L.SHEET_INCOME} har ingen sådan rad. Lägg till raden "
                                            f"eller ange en annan rad för kontona i mappningsfilen.",
                                 self._line_of(min(accounts))))
        return not missing

    def left_rows(self, columns: list[str], filled: set[str]) -> None:
        """A warning for each row of Resultaträkning that has figures in the columns the import
        fills but no amounts in the file: it is left as it is (a result row is computed)."""
        inc = self.report.income
        cols = [c for c in columns if c in inc.columns]
        for row in inc.rows:
            if row.key in filled or row.key in L.RESULT_ROWS:
                continue
            cells = [a1(row.row, inc.columns[c]) for c in cols if row.values.get(c) is not None]
            if not cells:
                continue
            spans = [r.first if r.first == r.last else f"{r.first}-{r.last}"
                     for r in (*self.accounts.rules, *self.accounts.defaults) if r.row == row.key]
            which = f"kontona {', '.join(spans)}, som hör till raden" if spans else "konton som hör till raden"
            self.note(SIE_SAKNAS.at(inc.ref(row, cols[0]), f"Raden '{row.label}' (rad {row.row + 1}) på bladet "
                                    f"{inc.sheet} har värden ({', '.join(cells)}) men SIE-filen har inga belopp "
                                    f"på {which}, så importen lämnar dem som de är. Bokförs radens belopp på "
                                    f"andra konton, ange dem i mappningsfilen (--map, t.ex. '8710;{row.key}'); "
                                    f"annars kontrollera att värdena stämmer."))

    def formula_cells(self, cells: list[CellRef]) -> None:
        """An error per sheet: the import would have to write over formulas."""
        by_sheet: dict[str, list[CellRef]] = defaultdict(list)
        for ref in cells:
            by_sheet[ref.sheet].append(ref)
        for sheet, refs in by_sheet.items():
            grid = self.grids[sheet]
            first = refs[0]
            shown = ", ".join(f"{r.a1} (={grid.formulas[(r.row, r.col)]})" for r in refs[:6])
            self.note(SIE_FORMEL.at(first, f"Bladet {sheet} har formler där importen ska skriva siffror: {shown}"
                                           f"{' …' if len(refs) > 6 else ''}. Importen skriver inte över formler. "
                                           f"Skriv in värden i cellerna (eller töm dem) och kör igen."))

    def template_result(self) -> bool:
        """Whether Resultat is the template's: Intäkter + Kostnader, with no result row above it."""
        for res, parts in self.report.result_parts():
            if res.key == L.ROW_RESULTAT:
                return sorted(p.key for p in parts) == sorted((L.ROW_INTAKTER, L.ROW_KOSTNADER))
        return False

    def cached_values(self, writes: list[CellWrite]) -> list[CellWrite]:
        """The formulas of Resultaträkning and Driftredovisning with the values they have after
        ``writes`` (a result row of the municipal shape, the user's own sums), so that every
        cached value in the workbook is right even when the refresh after the import stops at
        an error. The formulas themselves are kept as they are."""
        from ..core.recalc import recalculate

        sheets = {self.report.income.sheet, self.report.units.sheet}
        grids = {name: _copy(g) for name, g in self.grids.items()}
        for w in writes:
            if w.sheet in sheets:
                grids[w.sheet].set(w.row, w.col, w.value)
                if w.formula is not None:
                    grids[w.sheet].formulas[(w.row, w.col)] = w.formula
        done = {(w.sheet, w.row, w.col) for w in writes}
        return [w for w in recalculate(grids).refreshed if w.sheet in sheets and (w.sheet, w.row, w.col) not in done]

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
    def reconcile(self, columns, sources, rows, top, mapped_total, unit_values, results, summa) -> None:
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
            both = sum((rows[c][r] for r in top), Decimal(0))
            units = sum(unit_values[c].values(), Decimal(0)) if c in unit_values and c in summa else None
            self.out.reconciliation.append(Reconciliation(c, accounts, both, units, results.get(c, 0.0),
                                                          summa.get(c)))
            if both != accounts:
                what = " + ".join(r for r in L.INCOME_ROWS if r in top)
                self.note(SieFinding(SIE_AVSTAMNING, f"{c}: {what} är {_kr(both)} kr men de mappade "
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
            # an entry has its SHA-256: a row without (a consolidation's title right below) ends the table
            while grid.get(r, c0) is not None and (sha_c is None or grid.get(r, sha_c) is not None):
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
        columns = range(c0, c0 + len(SOURCES_HEADER))
        busy = [a1(start, c) for c in columns if grid.get(start, c) is not None or (start, c) in grid.formulas]
        refusal = SIE_KALLOR.at(CellRef(grid.name, start, c0),
                                f"Bladet {grid.name} har redan värden i {', '.join(busy)}, där importens rad ska "
                                f"stå. Flytta dem och kör igen.") if busy else None
        # what is below the table (within its columns) starts right at the entry or one row below:
        # rows are inserted so that it moves down, one blank row below the entry
        used = {(r, c) for r, c, _v in grid.cells()} | set(grid.formulas)
        limit = min((r for r, c in used if r >= start and c in columns), default=None)
        if self.insert_rows and limit is not None and limit <= start + 1:
            self.out.inserts.append((grid.name, limit, start + 2 - limit, limit - 1))
            self.out.without_inserts = refusal
        elif refusal is not None:
            self.note(refusal)
            return
        changes.writes += [CellWrite(grid.name, start, c0 + i, v) for i, v in enumerate(prov.values())]

    def _sources_rows(self, sheet: SheetContent) -> None:
        sheet.add(Cell(SOURCES_TITLE, "heading"))
        sheet.add(*(Cell(h, "header") for h in SOURCES_HEADER))
        prov = self.out.provenance
        sheet.add(*(Cell(v, "integer" if isinstance(v, int) else "text") for v in prov.values()))
