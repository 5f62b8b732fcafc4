"""What ``xlreport fix`` puts right by itself: the conversions that can only mean one thing.

:func:`plan_fixes` takes the sheet grids (as a door reads them) and returns each cell to change
with its value before and after and the reason in Swedish, the cached values of the formulas
that read a changed cell, and the findings about what it would not change (each says why).
Only cells of the template's tables and of ``Uppgifter`` are changed, never a formula cell:

* **numbers stored as text** in a numeric column, or in a numeric field of ``Uppgifter``: the
  reading of :func:`~xlreport.core.swedish.read_number_text` (decimal comma, spaces and
  non-breaking spaces as thousands separators, U+2212 and trailing minus, parentheses), the same
  reading the ``tal-som-text`` finding suggests. Not converted: a text whose separator could be a
  decimal or a thousands separator ("1.234", "12,500"), a text with another unit than its column
  ("3 tkr" in a table in mnkr, "2 %" among amounts), and a formula that gives text. In a
  percentage cell with a percent format the text gets the number Excel stores when it is typed
  into the cell ("2,5" and "0,025" both 0.025, shown 2,5 %); a text that may mean either (from
  0,2 up to 1, or below 1 in Förändring) is not converted;
* **invisible and stray characters** in names: row labels, the table and column headers, the
  list of units, the column Enhet of Avvikelseförklaring and the text fields of ``Uppgifter``
  (:func:`~xlreport.core.chars.clean`: soft hyphens, zero-width spaces, non-breaking spaces,
  spaces at the ends and doubled). Every place that names a unit is cleaned the same way, so the
  unit table, the list and the explanation rows agree afterwards;
  what a cell shows does not change;
* **sick leave stored as a fraction** (0,025 where the table is in percent, 2,5) only where its
  column proves it: Kort + Lång = Total in that column does not hold as the cells are, and holds
  (within the rule's rounding tolerance) when exactly one set of the suspect cells is read ×100 —
  a suspect cell being a typed number between 0 and 0,2 without a percent format (or one with a
  percent format showing more than 100 %, read ÷100), and at least one cell of the equation
  being a percentage that is not suspect. The fix must not break Förändring = Totalt − Totalt fg
  period, or another check of the table (:data:`_SICK_CHECKS`), where that held; and the figures
  the proof rests on must not fail one of those checks themselves (a Total typed 11 for 1,1
  "proves" Kort 0,1 to be 10). Anything less is left as the ``sjuk-procent-andel`` finding.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Container, Iterable, Mapping
from decimal import Decimal
from itertools import combinations
from typing import Any

from ..records import Record, field, replace
from . import layout as L
from .cells import CellRef, Grid, a1, is_number
from .changes import CellWrite, ChangeSet
from .chars import clean, shown_text, what_changed
from .config import DEFAULT, Config
from .errors import StructureError
from .findings import WARNING, Finding, declare
from .model import Report, Row, Table
from .reader import META_FIELDS, Uncalculated, _is_percent, read_report
from .recalc import recalculate
from .rules import PLAUSIBLE_PERCENT, RULES, Hit, Rule
from .swedish import NumberText, fmt_number, fmt_percent, read_number_text

RATTNING_TAL = declare("rattning-tal-oklart", "rattning", WARNING,
                       "Ett tal sparat som text rättas bara när det kan läsas på ett enda sätt")
RATTNING_ENHET = declare("rattning-tal-enhet", "rattning", WARNING,
                         "Ett tal sparat som text rättas bara när det har kolumnens enhet (mnkr, %)")
RATTNING_FORMEL = declare("rattning-formel", "rattning", WARNING,
                          "En formel som ger ett tal som text rättas inte (formler ändras aldrig)")
RATTNING_PROCENT = declare("rattning-procent-oklart", "rattning", WARNING,
                           "En sjukfrånvaro sparad som andel (0,025) rättas bara när kolumnens Kort + Lång = "
                           "Total visar att den menar procent")

#: Kinds of fix.
NUMBER, TEXT, PERCENT = "tal", "text", "procent"

REASON_NUMBER = "tal sparat som text"

_EXCEL_ERRORS = ("#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                 "#GETTING_DATA")


class Fix(Record, frozen=True):
    """One cell to change: ``before`` as the cell holds it, ``after`` as it is written."""

    sheet: str
    row: int  # 0-based
    col: int  # 0-based
    before: Any
    after: float | str
    kind: str  # NUMBER, TEXT or PERCENT
    reasons: tuple[str, ...]
    shown_after: str  # how ``after`` is shown to the user ("113,7", "2,5 %", "'KLK HR'")

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)

    @property
    def ref(self) -> CellRef:
        return CellRef(self.sheet, self.row, self.col)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def write(self) -> CellWrite:
        return CellWrite(self.sheet, self.row, self.col, self.after)

    def line(self) -> str:
        """ "Resultaträkning!C5: '113,7' → 113,7 (tal sparat som text)"."""
        return f"{self.sheet}!{self.a1}: {shown_value(self.before)} → {self.shown_after} ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "cell": self.a1, "kind": self.kind, "before": self.before, "after": self.after,
                "reason": self.reason}


class FixPlan(Record):
    fixes: list[Fix] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # what was not fixed, and why
    #: formulas whose cached value changes with the fixes (recomputed, to be written with them)
    refreshed: list[CellWrite] = field(default_factory=list)
    #: the read sheets as they are after the fixes, every formula recomputed
    grids: dict[str, Grid] = field(default_factory=dict)

    def changes(self, *, cached_values: bool = True) -> ChangeSet:
        """The writes: the fixed cells and (``cached_values``) the recomputed formulas."""
        writes = [f.write() for f in self.fixes]
        if cached_values:
            fixed = {(f.sheet, f.row, f.col) for f in self.fixes}
            writes += [w for w in self.refreshed if (w.sheet, w.row, w.col) not in fixed]
        return ChangeSet(writes=writes)


def shown_value(value: Any) -> str:
    """A cell value as a fix line shows it: text quoted (invisible characters made visible),
    numbers the Swedish way with the decimals they have."""
    if isinstance(value, str):
        return shown_text(value)
    if is_number(value):
        return shown_number(float(value))
    return "tom" if value is None else str(value)


def shown_number(value: float) -> str:
    for d in range(7):
        if math.isclose(round(value, d), value, rel_tol=0, abs_tol=1e-9):
            return fmt_number(value, d)
    return fmt_number(value, 6)


def _scaled(value: float, factor: int) -> float:
    """``value`` × ``factor`` (or ÷ for a negative factor) in decimal, so 0.017 × 100 is 1.7."""
    d = Decimal(repr(float(value)))
    return float(d * factor if factor > 0 else d / -factor)


# --- the plan -----------------------------------------------------------------------------

def plan_fixes(grids: Mapping[str, Grid], sheet_names: list[str] | None = None, *,
               untouchable: Mapping[str, Container[tuple[int, int]]] | None = None,
               config: Config = DEFAULT) -> FixPlan:
    """The fixes of a workbook read as ``grids`` (not changed); see the module docstring.

    ``untouchable``: per sheet, more cells never to change than the grids' formula cells (the
    file door adds the cells of array formulas). Raises
    :class:`~xlreport.core.errors.StructureError` when the template's structure is missing
    even with the names cleaned.
    """
    names = list(sheet_names) if sheet_names is not None else list(grids)
    protected = {name: _Blocked(g.formulas, (untouchable or {}).get(name, ())) for name, g in grids.items()}
    reading = {name: copy.deepcopy(g) for name, g in grids.items()}
    cleaned = _clean_names(reading, protected)
    recalculate(reading)
    report, _ = read_report(reading, names)
    plan = FixPlan()
    found: dict[tuple[str, int, int], Fix] = {}

    for sheet, row, col in _name_cells(report, reading):
        before = cleaned.get((sheet, row, col))
        if before is not None:
            after = reading[sheet].get(row, col)
            found[(sheet, row, col)] = Fix(sheet, row, col, before, after, TEXT, tuple(what_changed(before, after)),
                                           shown_text(after))
    for table, row, column, units in _number_cells(report):
        _number_fix(grids, table.sheet, row, table.columns[column], f"{row.label} / {column}", units,
                    table is report.sick, protected, found, plan.notes, points=column == L.COL_FORANDRING)
    for attr, label, units in _meta_numbers():
        ref = report.meta.cells.get(attr)
        if ref is not None:
            _number_fix(grids, ref.sheet, None, ref.col, label, units, attr == "sjukmal", protected, found, plan.notes,
                        row_index=ref.row, integer=META_FIELDS[label][1] is int)

    fixed = _patched(grids, found.values())
    refreshed = {(w.sheet, w.row, w.col): w for w in recalculate(fixed).refreshed}
    try:
        after_report, _ = read_report(fixed, names)
    except StructureError:
        after_report = None
    if after_report is not None:
        more = _percent_fixes(after_report, fixed, protected, config, plan.notes)
        if more:
            for f in more:
                key = (f.sheet, f.row, f.col)
                first = found.get(key)
                found[key] = f if first is None else Fix(f.sheet, f.row, f.col, first.before, f.after, PERCENT,
                                                         first.reasons + f.reasons, f.shown_after)
                fixed[f.sheet].set(f.row, f.col, f.after)
            refreshed.update({(w.sheet, w.row, w.col): w for w in recalculate(fixed).refreshed})
    order = {L.norm(n): i for i, n in enumerate(names)}
    plan.fixes = sorted(found.values(), key=lambda f: (order.get(L.norm(f.sheet), len(order)), f.row, f.col))
    plan.refreshed = list(refreshed.values())
    plan.grids = fixed
    return plan


class _Blocked:
    """The cells never to change on one sheet: in any of the given containers."""

    def __init__(self, *containers: Container[tuple[int, int]]):
        self.containers = containers

    def __contains__(self, cell: object) -> bool:
        return any(cell in c for c in self.containers)


def _patched(grids: Mapping[str, Grid], fixes: Iterable[Fix]) -> dict[str, Grid]:
    out = {name: copy.deepcopy(g) for name, g in grids.items()}
    for f in fixes:
        out[f.sheet].set(f.row, f.col, f.after)
    return out


# --- names --------------------------------------------------------------------------------

def _clean_names(grids: dict[str, Grid], protected: Mapping[str, _Blocked]) -> dict[tuple[str, int, int], str]:
    """Clean every text cell of the template's sheets in place (so the structure is found
    whatever a header or label carries); returns the original text of each cleaned cell."""
    wanted = {L.norm(s) for s in L.REQUIRED_SHEETS}
    out = {}
    for name, g in grids.items():
        if L.norm(name) not in wanted:
            continue
        for r, c, v in list(g.cells()):
            if not isinstance(v, str) or isinstance(v, Uncalculated) or (r, c) in protected.get(name, ()):
                continue
            new = clean(v)
            if new != v and new:
                g.set(r, c, new)
                out[(name, r, c)] = v
    return out


def _tables(report: Report) -> list[Table]:
    return [t for t in (report.income, report.units, report.explanation, report.staff, report.leavers,
                        report.sick, report.commitments) if t is not None]


def _name_cells(report: Report, grids: Mapping[str, Grid]) -> list[tuple[str, int, int]]:
    """Every cell of the template's tables and of Uppgifter that holds a name: the table and
    column headers (the text columns' too), the row labels (a unit's name), the unit each row of
    Avvikelseförklaring belongs to (its column Enhet), the text columns of Åtaganden, the labels
    and text values of Uppgifter and its list of units. Not the free text of a Kommentar."""
    out: list[tuple[str, int, int]] = []
    for t in _tables(report):
        out.append((t.sheet, t.header_row, t.label_col))
        out += [(t.sheet, t.header_row, c) for c in (*t.columns.values(), *t.text_columns.values())]
        unit_col = t.text_columns.get(L.COL_ENHET) if t is report.explanation else None
        for row in t.all_rows():
            out.append((t.sheet, row.row, t.label_col))
            if t is report.commitments:
                out += [(t.sheet, row.row, c) for c in t.columns.values()]
            if unit_col is not None:
                out.append((t.sheet, row.row, unit_col))
    meta = report.meta
    for attr, kind in META_FIELDS.values():
        ref = meta.cells.get(attr)
        if ref is None:
            continue
        out.append((ref.sheet, ref.row, ref.col - 1))  # the label
        if kind is str:
            out.append((ref.sheet, ref.row, ref.col))
    if meta.units_header is not None:
        h = meta.units_header
        out.append((h.sheet, h.row, h.col))
        g = grids[h.sheet]
        r = h.row + 1
        while (v := g.get(r, h.col)) is not None and str(v).strip():
            out.append((h.sheet, r, h.col))
            r += 1
    return out


# --- numbers stored as text ---------------------------------------------------------------

_MNKR = frozenset({None, "mnkr"})
_PERCENT = frozenset({None, "%"})
_COUNT = frozenset({None})


def _number_cells(report: Report):
    """(table, row, column, the units its text may carry) of every numeric cell of the tables."""
    units = {id(report.income): _MNKR, id(report.units): _MNKR, id(report.explanation): _MNKR,
             id(report.staff): _COUNT, id(report.sick): _PERCENT}
    if report.leavers is not None:
        units[id(report.leavers)] = _COUNT
    for t in _tables(report):
        if id(t) not in units:
            continue  # Åtaganden: text
        for row in t.all_rows():
            for column in t.columns:
                yield t, row, column, units[id(t)]


def _meta_numbers():
    allowed = {"ar": _COUNT, "manad": _COUNT, "sjukmal": _PERCENT, "driftram": _MNKR, "vasentlighet": _MNKR}
    for label, (attr, kind) in META_FIELDS.items():
        if kind in (int, float):
            yield attr, label, allowed.get(attr, _COUNT)


def _number_fix(grids: Mapping[str, Grid], sheet: str, row: Row | None, col: int, what: str,
                units: frozenset, percent_table: bool, protected: Mapping[str, _Blocked],
                found: dict[tuple[str, int, int], Fix], notes: list[Finding], *, row_index: int | None = None,
                integer: bool = False, points: bool = False) -> None:
    """The fix of one numeric cell holding text, or a note why it is left. ``percent_table``: the
    cell is a percentage (sick leave, the target), ``points`` one in procentenheter (Förändring)."""
    r = row.row if row is not None else row_index
    g = grids[sheet]
    raw = g.get(r, col)
    if not isinstance(raw, str) or isinstance(raw, Uncalculated):
        return
    text = raw.strip()
    if text in L.NO_VALUE_MARKS or text.upper() in _EXCEL_ERRORS:
        return
    number = read_number_text(raw)
    if number is None:
        return  # not a number at all: the inte-tal finding stays
    ref = CellRef(sheet, r, col)
    if (r, col) in protected.get(sheet, ()):
        notes.append(RATTNING_FORMEL.at(ref, f"{what}: formeln i cellen ger texten '{text}', inte ett tal. xlreport "
                                             f"ändrar aldrig en formel; ändra formeln så att den ger ett tal.",
                                        actual=raw))
        return
    if number.unit not in units:
        want = " eller ".join(sorted(u for u in units if u))
        where = "kolumnen" if row is not None else "uppgiften"
        is_in = f"{where} är i {want}" if want else f"{where} ska vara ett tal utan enhet"
        notes.append(RATTNING_ENHET.at(ref, f"{what}: texten '{text}' anger enheten {number.unit}, men {is_in}. "
                                            f"Räkna om och skriv in talet för hand.",
                                       actual=raw))
        return
    if number.grouping_unclear or (integer and not float(number.value).is_integer()):
        alt = fmt_number(number.value * 10 ** number.decimals, 0)
        meant = (f"{fmt_number(number.value, number.decimals)} eller {alt}" if number.grouping_unclear
                 else fmt_number(number.value, number.decimals))
        notes.append(RATTNING_TAL.at(ref, f"{what}: texten '{text}' kan betyda {meant}; skriv in talet "
                                          f"för hand.", actual=raw))
        return
    value = number.value
    shown = fmt_number(value, number.decimals)
    if percent_table and _is_percent(g.formats.get((r, col))):
        # The number Excel stores when the text is typed into the cell (automatic percent entry):
        # '2,5' and '2,5 %' become 0,025, shown 2,5 %; a number below 1 is kept, so '0,025' is
        # 0,025, shown 2,5 % too. The reader reads the cell × 100, as it shows.
        if number.unit is None and 0 < abs(value) < 1:
            if points or not 0 < value < PLAUSIBLE_PERCENT:
                typed, as_excel = fmt_number(value, number.decimals), shown_number(_scaled(value, 100))
                unit = "procentenheter" if points else "%"
                notes.append(RATTNING_TAL.at(ref, f"{what}: texten '{text}' i en cell med procentformat kan betyda "
                                                  f"{typed} {unit} eller {as_excel} {unit} (så visar Excel talet "
                                                  f"{typed} i cellen); skriv in talet för hand.", actual=raw))
                return
            shown = f"{shown} (visas {shown_number(_scaled(value, 100))} %, cellen har procentformat)"
        else:
            value = _scaled(value, -100)  # a percent format shows the value × 100: 2,5 % is 0.025
            shown = f"{fmt_number(number.value, number.decimals)} % (cellen har procentformat)"
    if integer:
        value = float(int(value))
    found[(sheet, r, col)] = Fix(sheet, r, col, raw, value, NUMBER, (_number_reason(raw, number),), shown)


def _number_reason(raw: str, number: NumberText) -> str:
    details = []
    s = raw.strip()
    if any(ch in raw for ch in ("\u00a0", "\u202f", "\u2009", "\u2007")):
        details.append("hårda mellanslag som tusentalsavgränsare")
    if "\u2212" in raw:
        details.append("minustecknet U+2212")
    if s.startswith("(") and s.endswith(")"):
        details.append("parentes för negativt tal")
    elif s.rstrip("−-").strip() != s and not s.startswith(("-", "−", "+")):
        details.append("minustecken efter talet")
    if number.unit:
        details.append(f"enheten {number.unit} borttagen")
    if clean(raw) != raw.strip() and not details:
        details.append("osynliga tecken")
    return ", ".join([REASON_NUMBER, *details])


# --- sick leave stored as a fraction ------------------------------------------------------

class _Cell(Record, frozen=True):
    row: Row
    col: int
    value: float  # as the table reads it (percent)
    alt: float | None  # the reading the other way round, when the cell is suspect
    write: float | None  # what the cell gets for ``alt``


def _percent_fixes(report: Report, grids: Mapping[str, Grid], protected: Mapping[str, _Blocked], config: Config,
                   notes: list[Finding]) -> list[Fix]:
    t = report.sick
    rows = [t.get(k) for k in L.SICK_ROWS]  # total, short, long
    if any(r is None for r in rows):
        return []
    g = grids[t.sheet]
    tol = config.tolerance(3, percent=True)
    out: list[Fix] = []
    by_column = {column: [_sick_cell(g, r, t.columns[column], column, protected.get(t.sheet, ())) for r in rows]
                 for column in L.SICK_PERCENT_COLUMNS
                 if column in t.columns and not any(column in r.invalid for r in rows)}
    every_suspect = {(x.row.row, x.col) for cells in by_column.values() for x in cells if x is not None and x.alt is not None}
    failing: _Failures | None = None  # the sick-leave checks that fail as the cells are, once a proof needs them
    for column, cells in by_column.items():
        if cells[0] is None:
            continue  # no total: nothing to prove with
        suspects = [i for i, x in enumerate(cells) if x is not None and x.alt is not None]
        if not suspects:
            continue
        anchors = [x for i, x in enumerate(cells) if x is not None and i not in suspects and x.value != 0]

        def holds(swap: tuple[int, ...], cells: list[_Cell | None] = cells) -> bool:
            v = [0.0 if x is None else (x.alt if i in swap else x.value) for i, x in enumerate(cells)]
            return abs(v[1] + v[2] - v[0]) <= tol

        if holds(()):
            _note_unproven(notes, t, cells, suspects, column, "Kort + Lång = Total stämmer redan som cellerna är")
            continue
        proofs = [s for n in range(1, len(suspects) + 1) for s in combinations(suspects, n) if holds(s)]
        if len(proofs) != 1 or not anchors:
            why = ("ingen annan cell i kolumnen är ett procenttal att jämföra med" if not anchors else
                   "Kort + Lång = Total stämmer inte heller efter ×100" if not proofs else
                   "Kort + Lång = Total kan fås att stämma på mer än ett sätt")
            _note_unproven(notes, t, cells, suspects, column, why)
            continue
        swap = proofs[0]
        if not _change_still_holds(t, {cells[i].row.key: cells[i].alt for i in swap}, column, tol):
            _note_unproven(notes, t, cells, swap, column,
                           f"då stämmer inte längre Förändring = {L.COL_TOTALT} − {L.COL_TOTALT_FGP}")
            continue
        if failing is None:
            failing = _sick_failures(report, {}, config)
        why = _proof_undermined(report, failing, cells, swap, every_suspect, config)
        if why:
            _note_unproven(notes, t, cells, swap, column, why)
            continue
        parts = [cells[i].alt if i in swap else cells[i].value if cells[i] else 0.0 for i in range(3)]
        proof = (f"Kort + Lång = Total i kolumnen {column} stämmer först så: {shown_number(parts[1])} + "
                 f"{shown_number(parts[2])} = {shown_number(parts[0])}")
        for i in swap:
            x = cells[i]
            kind = "andel sparad i stället för procent" if x.alt > x.value else "procentformat på ett procenttal"
            out.append(Fix(t.sheet, x.row.row, x.col, g.get(x.row.row, x.col), x.write, PERCENT,
                           (f"{kind}; {proof}",), _percent_shown(x)))
    return out


def _percent_shown(x: _Cell) -> str:
    return f"{shown_number(x.write)}" if x.write == x.alt else f"{shown_number(x.write)} (visas {shown_number(x.alt)} %)"


def _sick_cell(g: Grid, row: Row, col: int, column: str, protected: Container) -> _Cell | None:
    value = row.num(column)
    if value is None:
        return None
    raw = g.get(row.row, col)
    alt = write = None
    if is_number(raw) and (row.row, col) not in protected:
        if column not in row.percent_formatted and 0 < value < PLAUSIBLE_PERCENT:
            alt = write = _scaled(value, 100)
        elif column in row.percent_formatted and 100 < value <= 10_000:
            alt, write = _scaled(value, -100), _scaled(float(raw), -100)
    return _Cell(row, col, value, alt, write)


def _change_still_holds(t: Table, alts: dict[str, float], column: str, tol: float) -> bool:
    """Förändring = Totalt − Totalt fg period, on each row whose Totalt or Totalt fg period is
    fixed: still true after the fix, or already untrue before it."""
    if column not in (L.COL_TOTALT, L.COL_TOTALT_FGP) or not (t.has(L.COL_FORANDRING) and t.has(L.COL_TOTALT_FGP)):
        return True
    for row in t.rows:
        if row.key not in alts:
            continue
        now, before, change = row.num(L.COL_TOTALT), row.num(L.COL_TOTALT_FGP), row.num(L.COL_FORANDRING)
        if None in (now, before, change):
            continue
        held = abs(now - before - change) <= tol
        if column == L.COL_TOTALT:
            now = alts[row.key]
        else:
            before = alts[row.key]
        if held and abs(now - before - change) > tol:
            return False
    return True


#: The sick-leave checks that tie the figures of the table together: a ×100 fix must not break one
#: that held, and a proof built on a figure that fails one of them proves nothing.
_SICK_CHECKS = ("sjuk-kort-lang", "sjuk-forandring", "sjuk-procent", "sjuk-totalt-mellan")
#: Kvinnor, Män and the Totalt that lies between them (the rule sjuk-totalt-mellan).
_SICK_BETWEEN = ((L.COL_KVINNOR, L.COL_MAN, L.COL_TOTALT), (L.COL_KVINNOR_FG, L.COL_MAN_FG, L.COL_TOTALT_FGP))

#: (rule, row, col) of a hit -> the rule, the hit and the cells (row, col) it compares
_Failures = dict[tuple[str, int, int], tuple[Rule, Hit, frozenset[tuple[int, int]]]]


def _sick_failures(report: Report, alts: Mapping[tuple[int, int], float], config: Config) -> _Failures:
    """The hits of the sick-leave checks with the cells (row, col) each one compares, keyed by
    rule and cell; with ``alts`` (row, col) -> value, as the table would read after those fixes."""
    t = report.sick
    if alts:
        t = copy.deepcopy(t)
        for row in t.all_rows():
            for column, c in t.columns.items():
                if (row.row, c) in alts:
                    row.values[column] = alts[(row.row, c)]
        report = replace(report, sick=t)
    out: _Failures = {}
    for rule in RULES:
        if rule.id in _SICK_CHECKS:
            for hit in rule.check(report, config):
                if hit.ref is not None:
                    out[(rule.id, hit.ref.row, hit.ref.col)] = (rule, hit, _compared(t, rule.id, hit.ref))
    return out


def _compared(t: Table, rule_id: str, ref: CellRef) -> frozenset[tuple[int, int]]:
    """The cells a sick-leave check's hit at ``ref`` compares."""
    column = next((name for name, c in t.columns.items() if c == ref.col), None)
    row = next((x for x in t.all_rows() if x.row == ref.row), None)
    if rule_id == "sjuk-kort-lang":
        pairs = [(t.get(k), column) for k in L.SICK_ROWS]
    elif rule_id == "sjuk-forandring":
        pairs = [(row, c) for c in (L.COL_TOTALT, L.COL_TOTALT_FGP, L.COL_FORANDRING)]
    elif rule_id == "sjuk-totalt-mellan":
        pairs = [(row, c) for cols in _SICK_BETWEEN if cols[2] == column for c in cols]
    else:
        pairs = [(row, column)]
    return frozenset((x.row, t.columns[c]) for x, c in pairs if x is not None and c in t.columns)


def _proof_undermined(report: Report, failing: _Failures, cells: list[_Cell | None], swap: tuple[int, ...],
                      every_suspect: set[tuple[int, int]], config: Config) -> str | None:
    """Why a proof of Kort + Lång = Total does not hold up against the table's other checks, or
    None: a figure it rests on (one not read ×100, most often the Total) fails a check that no
    suspect cell takes part in, so the figure itself may be the typo (11 for 1,1); or the fix
    breaks a check that held (one not waiting on another suspect cell of the table)."""
    alts = {(cells[i].row.row, cells[i].col): cells[i].alt for i in swap}
    basis = {(x.row.row, x.col): x for i, x in enumerate(cells) if x is not None and i not in swap}
    why = []
    for rule, hit, compared in failing.values():
        if compared & basis.keys() and not compared & every_suspect:
            x = basis[min(compared & basis.keys())]
            why.append(f"beviset bygger på {x.row.label} / {_column_of(report.sick, x.col)} "
                       f"({fmt_percent(x.value)}), som själv inte stämmer med kontrollen '{rule.description}' "
                       f"({hit.ref.sheet}!{hit.ref.a1}: {hit.message.rstrip('.')})")
            break
    waiting = every_suspect - alts.keys()
    for key, (rule, hit, compared) in _sick_failures(report, alts, config).items():
        if key not in failing and not compared & waiting:
            why.append(f"efter ×100 stämmer inte längre kontrollen '{rule.description}' ({hit.ref.sheet}!"
                       f"{hit.ref.a1}: {hit.message.rstrip('.')})")
            break
    return "; ".join(why) or None


def _column_of(t: Table, col: int) -> str:
    return next(name for name, c in t.columns.items() if c == col)


def _note_unproven(notes: list[Finding], t: Table, cells: list[_Cell | None], which: Iterable[int], column: str,
                   why: str) -> None:
    for i in which:
        x = cells[i]
        if x is None or x.alt is None or x.alt < x.value:
            continue  # a percent format over 100 % is the sjuk-procent error; nothing more to say
        notes.append(RATTNING_PROCENT.at(
            CellRef(t.sheet, x.row.row, x.col),
            f"{x.row.label} / {column}: {shown_number(x.value)} ser ut som en andel ({shown_number(x.alt)} %), "
            f"men rättas inte: {why}. Skriv in procenttalet för hand.", actual=x.value))
