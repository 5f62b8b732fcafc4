"""The checks, each a small named rule; every rule runs and every finding is kept.

A rule is a function of the report (and the settings) that yields :class:`Hit` s, registered
with :func:`rule`, which declares its id, group, severity and Swedish description once in the
catalogue (:func:`xlreport.core.findings.declare`, listed by ``xlreport rules``); the registry
stamps the id and the severity on each hit. Rules never stop at the first problem, and a rule
skips a comparison when a figure it needs is missing or unreadable (that cell already has its
own finding).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..records import Record
from . import layout as L
from .cells import CellRef
from .chars import INVISIBLE  # characters that do not show in a cell
from .chars import visible as _visible  # the text without them (one str.translate)
from .commentary import unit_key
from .config import DEFAULT, Config, typed_decimals
from .findings import ERROR, WARNING, Finding, RuleSpec, declare

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any

    from .findings import Severity
from .model import Report, Row, Table
from .swedish import fmt_int, fmt_number, fmt_percent, held_text, round_half_up


class Hit(Record, frozen=True):
    """What a rule found: a cell and a message; the registry makes it a finding of the rule."""

    ref: CellRef | None
    message: str
    expected: Any = None
    actual: Any = None


Check = Callable[[Report, Config], Iterable[Hit]]


class Rule(Record, frozen=True):
    spec: RuleSpec
    check: Check

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def group(self) -> str:  # "mall", "ekonomi", "ataganden", "personal"
        return self.spec.group

    @property
    def severity(self) -> Severity:
        return self.spec.severity

    @property
    def description(self) -> str:
        return self.spec.description

    def findings(self, report: Report, config: Config = DEFAULT) -> Iterator[Finding]:
        for hit in self.check(report, config):
            yield self.spec.at(hit.ref, hit.message, expected=hit.expected, actual=hit.actual)


RULES: list[Rule] = []


def rule(id: str, group: str, severity: Severity, description: str) -> Callable[[Check], Check]:
    """Declare the rule ``id`` and register the decorated function as its check."""
    spec = declare(id, group, severity, description)

    def register(fn: Check) -> Check:
        RULES.append(Rule(spec, fn))
        return fn
    return register


def run_rules(report: Report, config: Config = DEFAULT, groups: Iterable[str] | None = None) -> list[Finding]:
    wanted = set(groups) if groups is not None else None
    out: list[Finding] = []
    for r in RULES:
        if wanted is None or r.group in wanted:
            out.extend(r.findings(report, config))
    return out


def validate(report: Report, config: Config = DEFAULT) -> list[Finding]:
    """Operation 1: the finance checks (template, signs, sums, ties, explanation)."""
    return run_rules(report, config, ("mall", "ekonomi", "ataganden"))


def check_staff(report: Report, config: Config = DEFAULT) -> list[Finding]:
    """Operation 3: the staffing and sick-leave checks."""
    return run_rules(report, config, ("personal",))


# --- reusable checks ----------------------------------------------------------------------

def _mn(v: float | None) -> str:
    return f"{fmt_number(v, 1)} mnkr"


def _sum_check(table: Table, total: Row, parts: list[Row], column: str, tol: float, what: str,
               fmt: Callable[[float | None], str] = _mn) -> Iterator[Hit]:
    """total[column] == Σ parts[column] within tol; skipped when the total is empty/unreadable."""
    if column not in table.columns or column in total.invalid:
        return
    t = total.num(column)
    if t is None or any(column in p.invalid for p in parts):
        return
    s = sum(p.num(column) or 0.0 for p in parts)
    if abs(t - s) > tol:
        yield Hit(table.ref(total, column), f"{what}: {column} är {fmt(t)} men summan är {fmt(s)} "
                                            f"(skillnad {fmt(t - s)}).", expected=round(s, 6), actual=t)


def _parts_sum_off(total: float | None, parts: Sequence[float | None], tol: float) -> float | None:
    """Σ parts when it is not ``total`` within tol (an empty part counts as 0); None when it is,
    or when the total or every part is empty."""
    if total is None or all(p is None for p in parts):
        return None
    s = sum(p or 0 for p in parts)
    return s if abs(s - total) > tol else None


def _fixed_rows(t: Table, *keys: str) -> list[Row] | None:
    """The template's fixed rows ``keys`` of ``t``; None when one of them is missing."""
    rows = [t.get(k) for k in keys]
    return None if any(r is None for r in rows) else rows


def _outside(v: float | None, lo: float, hi: float) -> bool:
    return v is not None and not lo <= v <= hi


def _range_check(t: Table, row: Row, columns: Iterable[str], lo: float, hi: float,
                 message: Callable[[Row, str, float], str]) -> Iterator[Hit]:
    """Each of ``columns`` of ``row`` within lo..hi; ``message(row, column, value)`` for one that is not."""
    for col in columns:
        v = row.num(col)
        if _outside(v, lo, hi):
            yield Hit(t.ref(row, col), message(row, col, v), actual=v)


def _change_check(t: Table, rows: Iterable[Row], before_col: str, tol: Callable[[Sequence[float]], float],
                  fmt: Callable[[float], str], tail: Callable[[float, float], str], *,
                  rounded: bool = False) -> Iterator[Hit]:
    """Förändring = Totalt − ``before_col`` (the change against last year) on each row within
    ``tol(figures)``; skipped where a figure is empty. The message shows the figures with ``fmt``
    and ends with ``tail(now, before)``."""
    if not (t.has(L.COL_FORANDRING) and t.has(before_col)):
        return
    for row in rows:
        now, before, change = row.num(L.COL_TOTALT), row.num(before_col), row.num(L.COL_FORANDRING)
        if now is None or before is None or change is None:
            continue
        if abs(now - before - change) > tol((now, before, change)):
            diff = now - before
            yield Hit(t.ref(row, L.COL_FORANDRING), f"{row.label}: Förändring är {fmt(change)} men Totalt − "
                                                    f"{before_col} är {fmt(diff)}{tail(now, before)}.",
                      expected=round(diff, 6) if rounded else diff, actual=change)


# --- template -----------------------------------------------------------------------------

@rule("mallversion", "mall", ERROR, "Arbetsboken är gjord från mallens nuvarande version")
def _version(report: Report, config: Config) -> Iterator[Hit]:
    v = report.meta.version
    if v is not None and v.strip() != L.TEMPLATE_VERSION:
        yield Hit(report.meta.cells.get("version"), L.version_advice(v.strip()), expected=L.TEMPLATE_VERSION,
                  actual=v)


_META_NEEDED = (("namnd", L.META_NAMND), ("rapport", L.META_RAPPORT), ("ar", L.META_AR),
                ("period", L.META_PERIOD))


@rule("uppgift-saknas", "mall", WARNING, "Uppgifterna som rapporttexten behöver är ifyllda")
def _meta(report: Report, config: Config) -> Iterator[Hit]:
    for attr, label in _META_NEEDED:
        if getattr(report.meta, attr) is None and attr not in report.meta.invalid:
            ref = report.meta.cells.get(attr) or CellRef(L.SHEET_META, 0, 0)
            yield Hit(ref, f"Uppgiften '{label}' är inte ifylld på bladet {L.SHEET_META}; rapporttexten "
                           f"blir ofullständig.")


@rule("uppgift-manad", "mall", ERROR, f"Uppgiften {L.META_MANAD} är 1–12")
def _month(report: Report, config: Config) -> Iterator[Hit]:
    m = report.meta.manad
    if _outside(m, 1, 12):
        yield Hit(report.meta.cells.get("manad"), f"'{L.META_MANAD}' ska vara 1–12, inte {m}.", actual=m)


# --- units --------------------------------------------------------------------------------

@rule("enhet-okand", "mall", ERROR, "Enheterna i Driftredovisning är nämndens enheter enligt Uppgifter")
def _units_known(report: Report, config: Config) -> Iterator[Hit]:
    listed = report.meta.units
    if not listed:
        return
    known = {L.norm(u) for u in listed}
    visible = {L.norm(_visible(u)): u for u in listed}
    for row in report.units.rows:
        n = L.norm(row.label)
        if n in known:
            continue
        where = f"i listan '{L.META_UNITS_HEADER}' på bladet {L.SHEET_META}"
        twin = visible.get(L.norm(_visible(row.label)))
        if twin is not None:
            odd = _invisible(row.label) or _invisible(twin)
            yield Hit(report.units.ref(row), f"Enheten '{_visible(row.label)}' stämmer inte med '{_visible(twin)}' "
                                             f"{where}: ett av namnen innehåller {odd}. Skriv om namnet på båda "
                                             f"ställena.", expected=_visible(twin), actual=row.label)
            continue
        if n in report.meta.units_after_blank:
            cell = report.meta.units_after_blank[n]
            yield Hit(report.units.ref(row), f"Enheten '{row.label}' står {where} ({cell.a1}), men efter en tom "
                                             f"cell: listan slutar vid den tomma cellen. Ta bort den tomma raden i "
                                             f"listan.", expected=row.label, actual=row.label)
            continue
        import difflib  # only for a unit the list does not have

        close = difflib.get_close_matches(row.label, listed, n=1, cutoff=0.6)
        hint = f" Menade du '{close[0]}'? En omdöpt enhet måste också döpas om i listan." if close else ""
        yield Hit(report.units.ref(row), f"Enheten '{row.label}' finns inte {where}.{hint}",
                  expected=close[0] if close else None, actual=row.label)


def _invisible(text: str) -> str | None:
    """"ett osynligt tecken (mjukt bindestreck, U+00AD)" for the first one in ``text``, else None."""
    ch = next((ch for ch in text if ch in INVISIBLE), None)
    return None if ch is None else f"ett osynligt tecken ({INVISIBLE[ch]}, U+{ord(ch):04X})"


@rule("enhet-saknas", "mall", ERROR, "Varje enhet i Uppgifters lista har en rad i Driftredovisning")
def _units_missing(report: Report, config: Config) -> Iterator[Hit]:
    present = {L.norm(row.label) for row in report.units.rows}
    by_norm = {L.norm(u): u for u in report.meta.units}
    present_visible = {L.norm(_visible(p)) for p in present}
    for n, unit in by_norm.items():
        if n in present or L.norm(_visible(unit)) in present_visible:
            continue  # a row whose name differs only invisibly is reported by enhet-okand
        below = report.units.after_total.get(n)
        if below is not None:
            yield Hit(CellRef(report.units.sheet, below, report.units.label_col),
                      f"Enheten '{unit}' står på rad {below + 1}, under Summa-raden i tabellen {report.units.name}, "
                      f"och räknas inte med. Flytta den ovanför Summa-raden (infoga en rad direkt ovanför Summa).",
                      expected=unit)
            continue
        yield Hit(report.units.header_ref(), f"Enheten '{unit}' finns i listan på bladet {L.SHEET_META} men "
                                             f"saknar rad i tabellen {report.units.name}.", expected=unit)


# --- income statement ---------------------------------------------------------------------

_INPUTS = (L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_PROGNOS)


@rule("tecken", "ekonomi", ERROR, "Intäkter är positiva och kostnader negativa")
def _signs(report: Report, config: Config) -> Iterator[Hit]:
    t = report.income
    for row in t.rows:
        if row.key in _REVENUE_ROWS:
            bad, what, word = (lambda v: v < 0), "intäkter", "positiva (utan minustecken)"
        elif row.key in _COST_ROWS:
            bad, what, word = (lambda v: v > 0), "kostnader", "negativa (med minustecken)"
        else:
            continue
        for col in _INPUTS:
            v = row.num(col)
            if col in t.columns and v is not None and bad(v):
                yield Hit(t.ref(row, col), f"{row.label} / {col}: {_mn(v)} har fel tecken; {what} anges {word}.",
                          expected=-v, actual=v)


_REVENUE_ROWS = (L.ROW_INTAKTER, L.ROW_FIN_INTAKTER)
_COST_ROWS = (L.ROW_KOSTNADER, *L.VARAV_ROWS, L.ROW_FIN_KOSTNADER)


@rule("resultat-summa", "ekonomi", ERROR,
      "Resultat = Intäkter + Kostnader (och finansiella poster) i varje kolumn, för varje resultatrad")
def _result(report: Report, config: Config) -> Iterator[Hit]:
    t = report.income
    for total, parts in [*report.result_parts(), *report.financial_parts()]:
        for col in _INPUTS if parts else ():
            yield from _sum_check(t, total, parts, col, config.tolerance(len(parts) + 1),
                                  f"{total.label} ska vara {' + '.join(p.label for p in parts)}")


@rule("varav", "ekonomi", ERROR, "varav-raderna ryms i Kostnader")
def _varav(report: Report, config: Config) -> Iterator[Hit]:
    t = report.income
    parent = t.get(L.ROW_KOSTNADER)
    if parent is None:
        return
    parts = [r for r in t.rows if r.key in L.VARAV_ROWS]
    for col in _INPUTS:
        p = parent.num(col)
        if col not in t.columns or p is None:
            continue
        total = 0.0
        for row in parts:
            v = row.num(col)
            if v is None:
                continue
            total += v
            if abs(v) > abs(p) + config.tolerance(2):
                yield Hit(t.ref(row, col), f"{row.label} / {col}: {_mn(v)} är större än hela Kostnader ({_mn(p)}).",
                          actual=v)
        if parts and abs(total) > abs(p) + config.tolerance(len(parts) + 1):
            yield Hit(t.ref(parent, col), f"Kostnader / {col}: varav-raderna är tillsammans {_mn(total)}, mer än "
                                          f"Kostnader ({_mn(p)}).", actual=total)


def _deviation_rows(report: Report) -> Iterator[tuple[Table, Row]]:
    for table in (report.income, report.units):
        for row in table.all_rows():
            yield table, row


@rule("avvikelse-handskriven", "ekonomi", WARNING, "En ifylld avvikelse stämmer med Utfall − Budget")
def _typed_deviation(report: Report, config: Config) -> Iterator[Hit]:
    tol = 10 ** -(config.decimals + 2)
    for table, row in _deviation_rows(report):
        for col, value in ((L.COL_AVV, report.deviation_ack(row)), (L.COL_AVV_HELAR, report.deviation_year(row))):
            typed = row.num(col)
            if col not in table.columns or typed is None or value is None:
                continue
            if abs(typed - value) > tol:
                base = "Utfall ack − Budget ack" if col == L.COL_AVV else "Prognos helår − Budget helår"
                yield Hit(table.ref(row, col), f"{row.label} / {col}: cellen visar {_mn(typed)} men {base} är "
                                               f"{_mn(value)}. Cellen ersätts med en formel.", expected=value,
                          actual=typed)


@rule("avvikelse-tom-sida", "ekonomi", WARNING,
      "En rad med budget har också utfall och prognos (annars blir avvikelsen hela budgeten)")
def _one_side_empty(report: Report, config: Config) -> Iterator[Hit]:
    """Budget helår filled and Prognos helår empty gives a deviation of the whole budget, as
    Excel's =G−F does: a unit that forgot its prognosis reports a surplus of its budget. An empty
    budget beside an outcome is the template's own case (costs spread over the units later)."""
    for table in (report.income, report.units):
        pairs = [(col, filled, empty) for col, filled, empty in ((L.COL_AVV, L.COL_BUDGET, L.COL_UTFALL),
                                                                 (L.COL_AVV_HELAR, L.COL_BUDGET_HELAR, L.COL_PROGNOS))
                 if col in table.columns and empty in table.columns]
        for row, (col, filled, empty) in ((row, p) for row in table.all_rows() for p in pairs):
            values = row.values
            b = values.get(filled)
            if not b or values.get(empty) is not None or empty in row.invalid or not isinstance(b, float):
                continue
            yield Hit(table.ref(row, empty), f"{row.label} / {empty} är tom men {filled} är {_mn(b)}: {col} blir "
                                             f"{_mn(-b)}, hela budgeten. Fyll i {empty} (0 om det är rätt).",
                      actual=None)


# --- unit table ---------------------------------------------------------------------------

@rule("summa-enheter", "ekonomi", ERROR, "Summa = summan av enheterna i varje kolumn")
def _unit_sums(report: Report, config: Config) -> Iterator[Hit]:
    t = report.units
    if t.total is None:
        return
    tol = config.tolerance(len(t.rows) + 1)
    for col in (L.COL_AVV_FG, *_INPUTS):
        yield from _sum_check(t, t.total, t.rows, col, tol, f"{t.total.label} ska vara summan av enheterna")


@rule("avstamning", "ekonomi", ERROR, "Driftredovisningens Summa stämmer med Resultat (avvikelse ack och helår)")
def _tie(report: Report, config: Config) -> Iterator[Hit]:
    res, total = report.resultat(), report.units.total
    if res is None or total is None:
        return
    for col, fn, inputs in ((L.COL_AVV, report.deviation_ack, (L.COL_UTFALL, L.COL_BUDGET)),
                            (L.COL_AVV_HELAR, report.deviation_year, (L.COL_PROGNOS, L.COL_BUDGET_HELAR))):
        a, b = fn(total), fn(res)
        units_filled = any(not _empty(r, inputs) for r in report.units.rows)
        income_filled = any(not _empty(r, inputs) for r in report.income.rows if r.key not in L.RESULT_ROWS)
        if units_filled and not income_filled:
            # the unit table filled and the income statement empty: its formulas give 0, so the two
            # tie or are not compared, and a consolidation takes the unit's empty Resultat for its
            # figures (the other way round, the income statement is the unit's figures: no harm)
            filled, empty = (report.units, total), (report.income, res)
            shown = a
            yield Hit(empty[0].ref(empty[1], col),
                      f"{empty[1].label} / {col} i {empty[0].sheet}: {' och '.join(inputs)} är tomma på alla rader, "
                      f"men {filled[0].sheet} har belopp ({filled[1].label} / {col} "
                      f"{_mn(shown) if shown is not None else 'kan inte räknas'}). Fyll i båda tabellerna; de ska "
                      f"stämma med varandra.", expected=None if shown is None else round(shown, 6))
            continue
        if a is None or b is None:
            continue
        if abs(a - b) > config.tolerance(2):
            yield Hit(report.units.ref(total, col), f"{total.label} / {col} är {_mn(a)} men Resultat / {col} i "
                                                    f"{L.SHEET_INCOME} är {_mn(b)}; tabellerna ska stämma med "
                                                    f"varandra.", expected=round(b, 6), actual=round(a, 6))


def _empty(row: Row, columns: tuple[str, ...]) -> bool:
    """Whether the row's cells in ``columns`` are all empty (not unreadable: that has its finding)."""
    return row.invalid.isdisjoint(columns) and all(row.num(c) is None for c in columns)


# Sweden's largest municipality spends some 60 000 mnkr a year: a nämnd's figure above this is
# not in mnkr (a table typed in tkr or kronor reads as a thousand or a million times too much)
_IMPLAUSIBLE_MNKR = 100_000.0


def _largest(table: Table, rows: list[Row]) -> tuple[Row | None, str | None, float]:
    """The largest input figure of ``rows`` of ``table``: its row, column and value (None, None,
    0.0 when they are empty)."""
    cols = [c for c in _INPUTS if c in table.columns]
    row = col = None
    v = 0.0
    for r in rows:
        values = r.values
        for c in cols:
            x = values.get(c)
            if isinstance(x, float) and abs(x) > abs(v):
                row, col, v = r, c, x
    return row, col, v


# tkr read as mnkr is a thousand times too much; the unit table's Summa, the nämnd's net cost, is
# of the frame's size, even for a nämnd financed by fees
_FRAME_MULTIPLE = 500


@rule("belopp-enhet", "ekonomi", ERROR, "Driftredovisningens belopp är i mnkr (inte tkr eller kronor): de ligger "
                                        "i driftramens storleksordning")
def _amount_unit(report: Report, config: Config) -> Iterator[Hit]:
    """The Summa of the unit table is the nämnd's net cost, the frame's size: in tkr it is a
    thousand times the Driftram (a single unit can be a small part of it, so only the total)."""
    ram, total = report.meta.driftram, report.units.total
    if total is None:
        return
    row, col, v = _largest(report.units, [total])
    if row is not None and ram and abs(ram) >= 1 and abs(v) > _FRAME_MULTIPLE * abs(ram):
        yield Hit(report.units.ref(row, col), f"{row.label} / {col}: {_mn(v)} är mer än {_FRAME_MULTIPLE} gånger "
                                              f"driftramen i {L.SHEET_META} ({_mn(ram)}). Beloppen i "
                                              f"{report.units.sheet} ser ut att vara i tkr eller kronor; tabellerna "
                                              f"ska vara i mnkr.", actual=v)


@rule("belopp-storlek", "ekonomi", WARNING, "Inget belopp är större än en kommunal nämnds budget "
                                            "(100 000 mnkr): tabellerna är i mnkr, inte tkr eller kronor")
def _amount_size(report: Report, config: Config) -> Iterator[Hit]:
    for table in (report.income, report.units):
        row, col, v = _largest(table, table.all_rows())
        if row is not None and abs(v) >= _IMPLAUSIBLE_MNKR:
            yield Hit(table.ref(row, col), f"{row.label} / {col}: {_mn(v)} är mer än någon kommunal nämnds budget. "
                                           f"Beloppen i {table.sheet} ser ut att vara i tkr eller kronor; tabellerna "
                                           f"ska vara i mnkr.", actual=v)


# --- explanation --------------------------------------------------------------------------

def _explained(report: Report) -> tuple[list[Row], float | None, CellRef]:
    """The explanation's items (rows with an amount), the deviation they explain (Resultat /
    Avvikelse helår; None when it is empty or an amount is unreadable) and the cell a finding on
    them points at."""
    t = report.explanation
    items = [r for r in t.rows if r.num(L.COL_BELOPP) is not None]
    res = report.resultat()
    unreadable = any(L.COL_BELOPP in r.invalid for r in t.rows)
    target = report.deviation_year(res) if res is not None and not unreadable else None
    ref = t.ref(t.total, L.COL_BELOPP) if t.total is not None else t.header_ref()
    return items, target, ref


@rule("forklaring", "ekonomi", ERROR, "Avvikelseförklaringens poster summerar till Summa och till Avvikelse helår")
def _explanation(report: Report, config: Config) -> Iterator[Hit]:
    t = report.explanation
    items, target, ref = _explained(report)
    if t.total is not None:  # skipped, like the rest, when an amount is unreadable
        yield from _sum_check(t, t.total, t.rows, L.COL_BELOPP, config.tolerance(len(items) + 1),
                              f"{t.total.label} ska vara summan av posterna")
    if target is None or not items or all(unit_key(report, r) for r in items):
        return  # rows keyed to units only explain those units (forklaring-enhet-summa), not the whole
    s = sum(r.num(L.COL_BELOPP) for r in items)
    if abs(s - target) > config.tolerance(len(items) + 1):
        yield Hit(ref, f"Posterna i {t.name} summerar till {_mn(s)} men Resultat / Avvikelse helår är "
                       f"{_mn(target)} (skillnad {_mn(s - target)}).", expected=round(target, 6), actual=round(s, 6))


@rule("forklaring-saknas", "ekonomi", WARNING, "En avvikelse helår har en förklaring i Avvikelseförklaring")
def _explanation_missing(report: Report, config: Config) -> Iterator[Hit]:
    items, target, ref = _explained(report)
    if target is not None and not items and abs(target) > config.tolerance(1):
        yield Hit(ref, f"Avvikelse helår är {_mn(target)} men ingen förklaring är ifylld i tabellen "
                       f"{report.explanation.name}.", expected=round(target, 6))


# --- commitments --------------------------------------------------------------------------

@rule("ataganden-status", "ataganden", ERROR,
      f"Åtagandenas {L.COL_STATUS} och {L.COL_BEDOMNING} är värden ur mallens listor")
def _commitments(report: Report, config: Config) -> Iterator[Hit]:
    t = report.commitments
    statuses = {L.norm(s) for s in L.STATUSES}
    answers = {L.norm(L.YES), L.norm(L.NO)}
    for row in t.rows:
        status = row.text(L.COL_STATUS)
        if status is not None and L.norm(status) not in statuses:
            yield Hit(t.ref(row, L.COL_STATUS), f"Åtagandet '{row.label}' har status '{status}'; välj en av "
                                                f"{', '.join(L.STATUSES)}.", actual=status)
        answer = row.text(L.COL_BEDOMNING) if L.COL_BEDOMNING in t.columns else None
        if answer is not None and L.norm(answer) not in answers:
            yield Hit(t.ref(row, L.COL_BEDOMNING), f"'{L.COL_BEDOMNING}' för '{row.label}' ska vara {L.YES} eller "
                                                   f"{L.NO}, inte '{answer}'.", actual=answer)


@rule("ataganden-status-saknas", "ataganden", WARNING, "Varje åtagande har en status")
def _commitments_without_status(report: Report, config: Config) -> Iterator[Hit]:
    t = report.commitments
    for row in t.rows:
        if row.text(L.COL_STATUS) is None:
            yield Hit(t.ref(row, L.COL_STATUS), f"Åtagandet '{row.label}' saknar status.")


# --- staff --------------------------------------------------------------------------------

def _as_held(v: float) -> float:
    """``v`` as Excel holds and shows it, at 15 significant digits: =0,57*100 is 57, not the
    57.00000000000001 binary arithmetic gives."""
    return v if v.is_integer() else float(held_text(v))  # a whole number is held as it is


def _count_text(v: float) -> str:
    """A count as a message quotes it: "−3", "4,5", "0,25" (its own decimals, at most six)."""
    return fmt_number(v, min(typed_decimals(v), 6))


@rule("personal-heltal", "personal", ERROR, "Antal anställda är hela, icke-negativa tal, och Förändring ett heltal")
def _staff_ints(report: Report, config: Config) -> Iterator[Hit]:
    for t in filter(None, (report.staff, report.leavers)):
        for row in t.all_rows():
            for col in t.columns:
                v = row.num(col)
                if v is None:
                    continue
                held = _as_held(v)
                if col == L.COL_FORANDRING:  # a change in headcount: whole, of either sign
                    if not held.is_integer():
                        yield Hit(t.ref(row, col), f"{row.label} / {col}: {_count_text(held)} är ingen förändring "
                                                   f"av ett antal personer (ska vara ett heltal).", actual=v)
                elif held < 0 or not held.is_integer():
                    yield Hit(t.ref(row, col), f"{row.label} / {col}: {_count_text(held)} är inget antal personer "
                                               f"(ska vara ett heltal ≥ 0).", actual=v)


@rule("personal-kon", "personal", ERROR, "Kvinnor + Män = Totalt på varje rad")
def _staff_gender(report: Report, config: Config) -> Iterator[Hit]:
    t = report.staff
    for row in t.all_rows():
        k, m, tot = row.num(L.COL_KVINNOR), row.num(L.COL_MAN), row.num(L.COL_TOTALT)
        s = _parts_sum_off(tot, (k, m), 1e-9)
        if s is not None:
            yield Hit(t.ref(row, L.COL_TOTALT), f"{row.label}: Kvinnor ({fmt_int(k)}) + Män ({fmt_int(m)}) = "
                                                f"{fmt_int(s)}, men Totalt är {fmt_int(tot)}.", expected=s, actual=tot)


@rule("personal-summa", "personal", ERROR, "Summa = summan av anställningsformerna i varje kolumn")
def _staff_sum(report: Report, config: Config) -> Iterator[Hit]:
    for t in filter(None, (report.staff, report.leavers)):
        if t.total is None:
            continue
        for col in t.columns:
            if _all_empty(t.rows, col):
                continue  # the forms' figures not given ("–"), only their sum: nothing to add up
            yield from _sum_check(t, t.total, t.rows, col, 1e-9, f"{t.name}: {t.total.label} ska vara summan av raderna",
                                  fmt=fmt_int)


def _all_empty(rows: Iterable[Row], column: str) -> bool:
    """Whether ``column`` is empty (no value, "–") on every one of ``rows``; an unreadable cell
    is not empty (it has its own finding, and the sum it is part of is skipped)."""
    return all(r.num(column) is None and column not in r.invalid for r in rows)


@rule("personal-summa-tom", "personal", WARNING, "Totalt och Summa är ifyllda när delarna de summerar är det")
def _staff_total_empty(report: Report, config: Config) -> Iterator[Hit]:
    """A total left empty (or "–") beside its filled parts: to the report it is no value, so the
    sentence that states it is left out without a word; the user meant to type it."""
    seen: set[CellRef] = set()
    t = report.staff
    for row in t.all_rows():
        k, m = row.num(L.COL_KVINNOR), row.num(L.COL_MAN)
        if t.has(L.COL_TOTALT) and row.num(L.COL_TOTALT) is None and L.COL_TOTALT not in row.invalid \
                and (k is not None or m is not None):
            seen.add(ref := t.ref(row, L.COL_TOTALT))
            yield Hit(ref, f"{row.label} / {L.COL_TOTALT} är tom, men Kvinnor ({fmt_int(k)}) och Män ({fmt_int(m)}) "
                           f"är ifyllda. Fyll i {L.COL_TOTALT}: en tom cell är inget värde, och rapporten utelämnar "
                           f"det.", expected=(k or 0.0) + (m or 0.0))
    for t in filter(None, (report.staff, report.leavers)):
        total = t.total
        if total is None:
            continue
        for col in t.columns:
            if total.num(col) is not None or col in total.invalid or _all_empty(t.rows, col) \
                    or any(col in r.invalid for r in t.rows) or (ref := t.ref(total, col)) in seen:
                continue
            s = sum(r.num(col) or 0.0 for r in t.rows)
            yield Hit(ref, f"{t.name}: {total.label} / {col} är tom, men raderna ovanför summerar till {fmt_int(s)}. "
                           f"Fyll i summan: en tom cell är inget värde, och rapporten utelämnar det.", expected=s)


@rule("personal-rad-under-summa", "personal", ERROR,
      "Anställningsformerna och avgångarna står ovanför raden Summa i sina tabeller")
def _staff_below_total(report: Report, config: Config) -> Iterator[Hit]:
    """A row of the template (Timanställda, Externa avgångar) typed below its table's Summa row is
    not part of the table: the report would leave it out of the figures, so say so."""
    for t, labels in ((report.staff, L.STAFF_FORMS), (report.leavers, L.LEAVER_ROWS)):
        if t is None or t.total is None:
            continue
        present = {L.norm(r.label) for r in t.rows} | {L.norm(r.key) for r in t.rows}
        for label in labels:
            below = t.after_total.get(L.norm(label))
            if below is None or L.norm(label) in present:
                continue
            yield Hit(CellRef(t.sheet, below, t.label_col),
                      f"Raden '{label}' står på rad {below + 1}, under raden '{t.total.label}' (rad {t.total.row + 1}) "
                      f"i tabellen {t.name}, och räknas inte med. Flytta den ovanför Summa-raden och ta med den i "
                      f"summan.", expected=label)


@rule("personal-forandring", "personal", ERROR, f"Förändring = Totalt − {L.COL_TOTALT_FG}")
def _staff_change(report: Report, config: Config) -> Iterator[Hit]:
    t = report.staff
    yield from _change_check(t, t.all_rows(), L.COL_TOTALT_FG, lambda figures: 1e-9, fmt_int,
                             lambda now, before: f" ({fmt_int(now)} − {fmt_int(before)})")


_SICK_ROW_COLUMNS = ((L.COL_KVINNOR, L.COL_MAN, L.COL_TOTALT), (L.COL_KVINNOR_FG, L.COL_MAN_FG, L.COL_TOTALT_FGP))


def _sick_tolerance(config: Config) -> Callable[[Sequence[float | None]], float]:
    """The rounding a sick-leave equation may be off by, from the decimals its figures carry
    (``Config.tolerance_of``): 0,05 for each figure of one decimal, 0,005 for one of two."""
    return lambda figures: config.tolerance_of(figures, percent=True)


def _shown_percent(v: float, config: Config) -> float:
    """A percentage as the tables and the report print it (``percent_decimals``, halves away from zero)."""
    return round_half_up(v, config.percent_decimals)


@rule("sjuk-kort-lang", "personal", ERROR, "Kort + Lång sjukfrånvaro = Total sjukfrånvaro i varje kolumn")
def _sick_parts(report: Report, config: Config) -> Iterator[Hit]:
    t = report.sick
    rows = _fixed_rows(t, L.ROW_SJUK_TOTAL, L.ROW_SJUK_KORT, L.ROW_SJUK_LANG)
    if rows is None:
        return
    total, short, long_ = rows
    for col in L.SICK_PERCENT_COLUMNS:
        if col not in t.columns or any(col in r.invalid for r in (short, long_)):
            continue
        tot, s, lg = total.num(col), short.num(col), long_.num(col)
        parts = _parts_sum_off(tot, (s, lg), config.tolerance_of((tot, s, lg), percent=True))
        if parts is not None:
            yield Hit(t.ref(total, col), f"Sjukfrånvaro / {col}: Kort ({fmt_percent(s)}) + Lång ({fmt_percent(lg)}) "
                                         f"= {fmt_percent(parts)}, men Total sjukfrånvaro är {fmt_percent(tot)}"
                                         f"{_typed_detail((tot, s, lg))}.",
                      expected=round(parts, 6), actual=tot)


def _typed_detail(figures: Sequence[float | None]) -> str:
    """" (inskrivet 0,85 + 1,75 = 2,60 mot 2,5)" when a figure carries more decimals than the
    report prints, so the message shows what is compared; else ""."""
    if all(v is None or typed_decimals(v) <= 1 for v in figures):
        return ""
    d = min(max(typed_decimals(v) for v in figures if v is not None), 6)
    tot, s, lg = figures
    return (f" (inskrivet {fmt_number(s, d)} + {fmt_number(lg, d)} = {fmt_number((s or 0) + (lg or 0), d)} mot "
            f"{fmt_number(tot, d)})")


@rule("sjuk-total-tom", "personal", WARNING, "Total sjukfrånvaro och Totalt är ifyllda när delarna är det")
def _sick_total_empty(report: Report, config: Config) -> Iterator[Hit]:
    """A total left empty (or "–") while its parts are filled: to the report it is no value, and
    the sentence on sick leave (and the comparison with the target) is left out without a word."""
    t = report.sick
    seen: set[CellRef] = set()
    rows = _fixed_rows(t, L.ROW_SJUK_TOTAL, L.ROW_SJUK_KORT, L.ROW_SJUK_LANG)
    if rows is not None:
        total, short, long_ = rows
        for col in L.SICK_PERCENT_COLUMNS:
            if col not in t.columns or total.num(col) is not None or col in total.invalid:
                continue
            s, lg = short.num(col), long_.num(col)
            if s is None and lg is None:
                continue
            seen.add(ref := t.ref(total, col))
            yield Hit(ref, f"{total.label} / {col} är tom, men Kort ({fmt_percent(s)}) och Lång ({fmt_percent(lg)}) "
                           f"sjukfrånvaro är ifyllda. Fyll i {total.label}: en tom cell är inget värde, och rapporten "
                           f"utelämnar det.", expected=round((s or 0.0) + (lg or 0.0), 6))
    for row in t.rows:
        for k_col, m_col, t_col in _SICK_ROW_COLUMNS:
            if t_col not in t.columns or row.num(t_col) is not None or t_col in row.invalid:
                continue
            k, m = row.num(k_col), row.num(m_col)
            if (k is None and m is None) or (ref := t.ref(row, t_col)) in seen:
                continue
            yield Hit(ref, f"{row.label} / {t_col} är tom, men kvinnors ({fmt_percent(k)}) och mäns "
                           f"({fmt_percent(m)}) sjukfrånvaro är ifylld. Fyll i {t_col}: en tom cell är inget värde, och "
                           f"rapporten utelämnar det.")


@rule("sjuk-forandring", "personal", ERROR, f"Förändring = Totalt − {L.COL_TOTALT_FGP}")
def _sick_change(report: Report, config: Config) -> Iterator[Hit]:
    t = report.sick
    yield from _change_check(t, t.rows, L.COL_TOTALT_FGP, _sick_tolerance(config),
                             lambda v: fmt_number(v, 1), lambda now, before: " procentenheter", rounded=True)


@rule("sjuk-procent", "personal", ERROR, "Sjukfrånvaro och målnivån i procent ligger mellan 0 och 100")
def _sick_range(report: Report, config: Config) -> Iterator[Hit]:
    t = report.sick
    for row in t.rows:
        yield from _range_check(t, row, L.SICK_PERCENT_COLUMNS, 0, 100, lambda r, col, v: (
            f"{r.label} / {col}: {fmt_percent(v)} är ingen andel av arbetstiden (ska vara 0–100 %)."))
        yield from _range_check(t, row, (L.COL_FORANDRING,), -100, 100, lambda r, col, v: (
            f"{r.label} / {col}: {fmt_number(v, 1)} procentenheter är orimligt."))
    target = report.meta.sjukmal
    if _outside(target, 0, 100):
        hint = ""
        if 100 < target <= 10_000:  # 3 in a cell formatted as percent shows (and is read as) 300 %
            hint = (f" Om cellen är formaterad som procent visar den {fmt_number(target / 100, 1)} som "
                    f"{fmt_percent(target)}: skriv {fmt_number(target / 100, 1)} % i cellen, eller "
                    f"{fmt_number(target / 100, 1)} utan procentformat.")
        yield Hit(report.meta.cells.get("sjukmal"), f"{L.META_SJUKMAL}: {fmt_percent(target)} är ingen andel av "
                                                    f"arbetstiden (ska vara 0–100 %).{hint}", actual=target)


#: Below this, a sick-leave percentage is most likely a fraction typed without a percent format.
PLAUSIBLE_PERCENT = 0.2


def _suspect(row: Row, col: str) -> bool:
    """A typed percentage that looks like a fraction (0,025 for 2,5 %)."""
    v = row.num(col)
    return v is not None and 0 < v < PLAUSIBLE_PERCENT and col not in row.percent_formatted


def _column_proves_percent(t: Table, col: str, config: Config) -> bool:
    """Whether Kort + Lång = Total holds in ``col`` as typed, with a percentage in the equation
    that does not look like a fraction: then a small figure of it is a percentage (Kort 0,5 +
    Lång 0,1 = 0,6), as ``xlreport fix`` reads the column before it changes a cell."""
    rows = _fixed_rows(t, L.ROW_SJUK_TOTAL, L.ROW_SJUK_KORT, L.ROW_SJUK_LANG)
    if rows is None or col not in t.columns or any(col in r.invalid for r in rows):
        return False
    tot, s, lg = (r.num(col) for r in rows)
    if tot is None or not any(r.num(col) and not _suspect(r, col) for r in rows):
        return False
    return _parts_sum_off(tot, (s, lg), config.tolerance_of((tot, s, lg), percent=True)) is None


@rule("sjuk-procent-andel", "personal", WARNING, "Procenttalen ser ut som procent, inte som andelar (0,025 för 2,5 %)")
def _percent_plausible(report: Report, config: Config) -> Iterator[Hit]:
    def hint(v: float) -> str:
        return (f"{fmt_percent(v)} är orimligt lite. Om cellen menar {fmt_percent(v * 100)}, skriv "
                f"{fmt_number(v * 100, 1)} eller formatera cellen som procent.")

    t = report.sick
    proven: dict[str, bool] = {}
    for row in t.rows:
        for col in L.SICK_PERCENT_COLUMNS:
            if not _suspect(row, col):
                continue
            if col not in proven:
                proven[col] = _column_proves_percent(t, col, config)
            if not proven[col]:
                yield Hit(t.ref(row, col), f"{row.label} / {col}: {hint(row.num(col))}", actual=row.num(col))
    target = report.meta.sjukmal
    if target is not None and 0 < target < PLAUSIBLE_PERCENT:
        yield Hit(report.meta.cells.get("sjukmal"), f"{L.META_SJUKMAL}: {hint(target)}", actual=target)


@rule("sjuk-totalt-mellan", "personal", WARNING, "Totalt ligger mellan Kvinnor och Män")
def _sick_between(report: Report, config: Config) -> Iterator[Hit]:
    """Compared as the table prints the figures: rounding keeps the order of figures, so a Totalt
    between Kvinnor and Män is between them printed too (3,45 printed 3,5 above Kvinnor 3,4 is not)."""
    t = report.sick
    for row in t.rows:
        for k_col, m_col, t_col in _SICK_ROW_COLUMNS:
            k, m, tot = row.num(k_col), row.num(m_col), row.num(t_col)
            if tot is None or (k is None and m is None):
                continue
            low, high = (_shown_percent(v, config) for v in (min(k or 0, m or 0), max(k or 0, m or 0)))
            if _outside(_shown_percent(tot, config), low, high):
                yield Hit(t.ref(row, t_col), f"{row.label} / {t_col}: {fmt_percent(tot)} ligger inte mellan kvinnors "
                                             f"({fmt_percent(k)}) och mäns ({fmt_percent(m)}) sjukfrånvaro.",
                          actual=tot)


@rule("sjuk-mal", "personal", WARNING, "Total sjukfrånvaro jämförs med målnivån")
def _sick_target(report: Report, config: Config) -> Iterator[Hit]:
    """Compared as printed, as the report's sentence compares them: 3,04 (printed 3,0) is in
    line with the target 3,0, not above it."""
    t = report.sick
    total = t.get(L.ROW_SJUK_TOTAL)
    value = total.num(L.COL_TOTALT) if total else None
    target = report.meta.sjukmal
    if value is None:
        return
    if target is None:
        yield Hit(report.meta.cells.get("sjukmal") or CellRef(L.SHEET_META, 0, 0),
                  f"'{L.META_SJUKMAL}' är inte ifylld; sjukfrånvaron kan inte jämföras med målet.")
    elif _shown_percent(value, config) > _shown_percent(target, config):
        yield Hit(t.ref(total, L.COL_TOTALT), f"Total sjukfrånvaro {fmt_percent(value)} är över målnivån "
                                              f"{fmt_percent(target)}.", expected=target, actual=value)


def _month_of(word: str) -> int | None:
    """1–12 for a Swedish month name or its abbreviation of three letters or more ("feb",
    "sept", "okt."), else None."""
    w = word.casefold().rstrip(".")
    if len(w) < 3:
        return None
    found = [i for i, name in enumerate(L.MONTHS, 1) if name.startswith(w)]
    return found[0] if len(found) == 1 else None


def _period_months(text: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """A period as written on Uppgifter ("mars 2019–feb 2020", "mars 2019–februari 2020"): its
    first and last month as (year, month); None when it does not read as month-and-year names."""
    if not text:
        return None
    found = []
    for word, year in re.findall(r"([^\W\d_]+)\.?\s*(\d{4})", text):
        month = _month_of(word)
        if month is None:
            return None
        found.append((int(year), month))
    if len(found) not in (1, 2):
        return None
    return found[0], found[-1]


def _month_text(ym: tuple[int, int]) -> str:
    return f"{L.MONTHS[ym[1] - 1]} {ym[0]}"


@rule("sjuk-period", "personal", WARNING, "Sjukfrånvarons period och jämförelseperiod är olika, i rätt ordning och "
                                          "inte efter rapportens period")
def _sick_periods(report: Report, config: Config) -> Iterator[Hit]:
    """The periods of the sick-leave table's two column groups (Uppgifter): the comparison period
    before the period, and the period not ending after the report's month (År, Månad). A period
    that does not read as month names is not judged."""
    m = report.meta
    now_text, fg_text = m.sjuk_period, m.sjuk_period_fg
    now, fg = _period_months(now_text), _period_months(fg_text)
    now_ref, fg_ref = m.cells.get("sjuk_period"), m.cells.get("sjuk_period_fg")
    if now_text and fg_text and (L.norm(now_text) == L.norm(fg_text) or (now is not None and now == fg)):
        yield Hit(fg_ref, f"'{L.META_SJUK_PERIOD_FG}' är samma period som '{L.META_SJUK_PERIOD}' ({now_text}); "
                          f"jämförelseperioden ska ligga före (oftast ett år tidigare).", actual=fg_text)
    elif now is not None and fg is not None and fg[1] >= now[1]:
        yield Hit(fg_ref, f"'{L.META_SJUK_PERIOD_FG}' ({fg_text}) slutar inte före '{L.META_SJUK_PERIOD}' "
                          f"({now_text}); jämförelseperioden ska ligga före. Är perioderna omkastade?", actual=fg_text)
    if now is not None and m.ar is not None and m.manad is not None and 1 <= m.manad <= 12 \
            and now[1] > (m.ar, m.manad):
        yield Hit(now_ref, f"'{L.META_SJUK_PERIOD}' ({now_text}) slutar i {_month_text(now[1])}, efter rapportens "
                           f"period, som slutar i {_month_text((m.ar, m.manad))} ({L.META_AR} och {L.META_MANAD} på "
                           f"bladet {L.SHEET_META}).", actual=now_text)
