"""The checks, each a small named rule; every rule runs and every finding is kept.

A rule is a function of the report (and the settings) that yields findings, registered with
its id, its group and a Swedish description (listed by ``xlreport rules``). Rules never stop at
the first problem, and a rule skips a comparison when a figure it needs is missing or
unreadable (that cell already has its own finding).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import layout as L
from .cells import CellRef
from .config import DEFAULT, Config
from .findings import ERROR, WARNING, Finding
from .model import Report, Row, Table
from .swedish import fmt_int, fmt_number, fmt_percent

Check = Callable[[Report, Config], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    group: str  # "ekonomi", "personal", "mall"
    description: str
    check: Check


RULES: list[Rule] = []


def rule(id: str, group: str, description: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        RULES.append(Rule(id, group, description, fn))
        return fn
    return register


def run_rules(report: Report, config: Config = DEFAULT, groups: Iterable[str] | None = None) -> list[Finding]:
    wanted = set(groups) if groups is not None else None
    out: list[Finding] = []
    for r in RULES:
        if wanted is None or r.group in wanted:
            out.extend(r.check(report, config))
    return out


def validate(report: Report, config: Config = DEFAULT) -> list[Finding]:
    """Operation 1: the finance checks (template, signs, sums, ties, explanation)."""
    return run_rules(report, config, ("mall", "ekonomi", "ataganden"))


def check_staff(report: Report, config: Config = DEFAULT) -> list[Finding]:
    """Operation 3: the staffing and sick-leave checks."""
    return run_rules(report, config, ("personal",))


# --- helpers ------------------------------------------------------------------------------

def _mn(v: float | None) -> str:
    return f"{fmt_number(v, 1)} mnkr"


def _sum_check(rule_id: str, table: Table, total: Row, parts: list[Row], column: str, tol: float,
               what: str, fmt: Callable[[float | None], str] = _mn, severity=ERROR) -> Iterator[Finding]:
    """total[column] == Σ parts[column] within tol; skipped when the total is empty/unreadable."""
    if column not in table.columns or column in total.invalid:
        return
    t = total.num(column)
    if t is None or any(column in p.invalid for p in parts):
        return
    s = sum(p.num(column) or 0.0 for p in parts)
    if abs(t - s) > tol:
        yield Finding.at(table.ref(total, column), rule_id, severity,
                         f"{what}: {column} är {fmt(t)} men summan är {fmt(s)} "
                         f"(skillnad {fmt(t - s)}).", expected=round(s, 6), actual=t)


# --- template -----------------------------------------------------------------------------

@rule("mallversion", "mall", "Arbetsboken är gjord från mallens nuvarande version")
def _version(report: Report, config: Config) -> Iterator[Finding]:
    v = report.meta.version
    if v is not None and v.strip() != L.TEMPLATE_VERSION:
        yield Finding.at(report.meta.cells.get("version"), "mallversion", ERROR,
                         L.version_advice(v.strip()), expected=L.TEMPLATE_VERSION, actual=v)


_META_NEEDED = (("namnd", L.META_NAMND), ("rapport", L.META_RAPPORT), ("ar", L.META_AR),
                ("period", L.META_PERIOD))


@rule("uppgift-saknas", "mall", "Uppgifterna som rapporttexten behöver är ifyllda")
def _meta(report: Report, config: Config) -> Iterator[Finding]:
    for attr, label in _META_NEEDED:
        if getattr(report.meta, attr) is None:
            ref = report.meta.cells.get(attr) or CellRef(L.SHEET_META, 0, 0)
            yield Finding.at(ref, "uppgift-saknas", WARNING,
                             f"Uppgiften '{label}' är inte ifylld på bladet {L.SHEET_META}; rapporttexten "
                             f"blir ofullständig.")
    m = report.meta.manad
    if m is not None and not 1 <= m <= 12:
        yield Finding.at(report.meta.cells.get("manad"), "uppgift-saknas", ERROR,
                         f"'{L.META_MANAD}' ska vara 1–12, inte {m}.", actual=m)


# --- units --------------------------------------------------------------------------------

@rule("enhet-okand", "mall", "Enheterna i Driftredovisning är nämndens enheter enligt Uppgifter")
def _units_known(report: Report, config: Config) -> Iterator[Finding]:
    listed = report.meta.units
    if not listed:
        return
    by_norm = {L.norm(u): u for u in listed}
    present = set()
    for row in report.units.rows:
        n = L.norm(row.label)
        if n in by_norm:
            present.add(n)
            continue
        close = difflib.get_close_matches(row.label, listed, n=1, cutoff=0.6)
        hint = f" Menade du '{close[0]}'? En omdöpt enhet måste också döpas om i listan." if close else ""
        yield Finding.at(report.units.ref(row), "enhet-okand", ERROR,
                         f"Enheten '{row.label}' finns inte i listan '{L.META_UNITS_HEADER}' på bladet "
                         f"{L.SHEET_META}.{hint}", expected=close[0] if close else None, actual=row.label)
    for n, unit in by_norm.items():
        if n not in present:
            yield Finding.at(report.units.header_ref(), "enhet-saknas", ERROR,
                             f"Enheten '{unit}' finns i listan på bladet {L.SHEET_META} men saknar rad i "
                             f"tabellen {report.units.name}.", expected=unit)


# --- income statement ---------------------------------------------------------------------

_INPUTS = (L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_PROGNOS)


@rule("tecken", "ekonomi", "Intäkter är positiva och kostnader negativa")
def _signs(report: Report, config: Config) -> Iterator[Finding]:
    t = report.income
    for row in t.rows:
        if row.key == L.ROW_INTAKTER:
            bad, word = (lambda v: v < 0), "positiva (utan minustecken)"
        elif row.key == L.ROW_KOSTNADER or row.key in L.VARAV_ROWS:
            bad, word = (lambda v: v > 0), "negativa (med minustecken)"
        else:
            continue
        for col in _INPUTS:
            v = row.num(col)
            if col in t.columns and v is not None and bad(v):
                yield Finding.at(t.ref(row, col), "tecken", ERROR,
                                 f"{row.label} / {col}: {_mn(v)} har fel tecken; "
                                 f"{'intäkter' if row.key == L.ROW_INTAKTER else 'kostnader'} anges {word}.",
                                 expected=-v, actual=v)


@rule("resultat-summa", "ekonomi", "Resultat = Intäkter + Kostnader i varje kolumn")
def _result(report: Report, config: Config) -> Iterator[Finding]:
    t = report.income
    res, inc, cost = t.get(L.ROW_RESULTAT), t.get(L.ROW_INTAKTER), t.get(L.ROW_KOSTNADER)
    if not (res and inc and cost):
        return
    for col in _INPUTS:
        yield from _sum_check("resultat-summa", t, res, [inc, cost], col, config.tolerance(3),
                              f"{res.label} ska vara Intäkter + Kostnader")


@rule("varav", "ekonomi", "varav-raderna ryms i Kostnader")
def _varav(report: Report, config: Config) -> Iterator[Finding]:
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
                yield Finding.at(t.ref(row, col), "varav", ERROR,
                                 f"{row.label} / {col}: {_mn(v)} är större än hela Kostnader ({_mn(p)}).",
                                 actual=v)
        if parts and abs(total) > abs(p) + config.tolerance(len(parts) + 1):
            yield Finding.at(t.ref(parent, col), "varav", ERROR,
                             f"Kostnader / {col}: varav-raderna är tillsammans {_mn(total)}, mer än "
                             f"Kostnader ({_mn(p)}).", actual=total)


def _deviation_rows(report: Report) -> Iterator[tuple[Table, Row]]:
    for table in (report.income, report.units):
        for row in table.all_rows():
            yield table, row


@rule("avvikelse-handskriven", "ekonomi", "En ifylld avvikelse stämmer med Utfall − Budget")
def _typed_deviation(report: Report, config: Config) -> Iterator[Finding]:
    for table, row in _deviation_rows(report):
        for col, value in ((L.COL_AVV, report.deviation_ack(row)), (L.COL_AVV_HELAR, report.deviation_year(row))):
            typed = row.num(col)
            if col not in table.columns or typed is None or value is None:
                continue
            if abs(typed - value) > 10 ** -(config.decimals + 2):
                base = "Utfall ack − Budget ack" if col == L.COL_AVV else "Prognos helår − Budget helår"
                yield Finding.at(table.ref(row, col), "avvikelse-handskriven", WARNING,
                                 f"{row.label} / {col}: cellen visar {_mn(typed)} men {base} är {_mn(value)}. "
                                 f"Cellen ersätts med en formel.", expected=value, actual=typed)


# --- unit table ---------------------------------------------------------------------------

@rule("summa-enheter", "ekonomi", "Summa = summan av enheterna i varje kolumn")
def _unit_sums(report: Report, config: Config) -> Iterator[Finding]:
    t = report.units
    if t.total is None:
        return
    tol = config.tolerance(len(t.rows) + 1)
    for col in (L.COL_AVV_FG, *_INPUTS):
        yield from _sum_check("summa-enheter", t, t.total, t.rows, col, tol,
                              f"{t.total.label} ska vara summan av enheterna")


@rule("avstamning", "ekonomi", "Driftredovisningens Summa stämmer med Resultat (avvikelse ack och helår)")
def _tie(report: Report, config: Config) -> Iterator[Finding]:
    res, total = report.resultat(), report.units.total
    if res is None or total is None:
        return
    for col, fn in ((L.COL_AVV, report.deviation_ack), (L.COL_AVV_HELAR, report.deviation_year)):
        a, b = fn(total), fn(res)
        if a is None or b is None:
            continue
        if abs(a - b) > config.tolerance(2):
            yield Finding.at(report.units.ref(total, col), "avstamning", ERROR,
                             f"{total.label} / {col} är {_mn(a)} men Resultat / {col} i "
                             f"{L.SHEET_INCOME} är {_mn(b)}; tabellerna ska stämma med varandra.",
                             expected=round(b, 6), actual=round(a, 6))


# --- explanation --------------------------------------------------------------------------

@rule("forklaring", "ekonomi", "Avvikelseförklaringens poster summerar till Avvikelse helår")
def _explanation(report: Report, config: Config) -> Iterator[Finding]:
    t = report.explanation
    items = [r for r in t.rows if r.num(L.COL_BELOPP) is not None]
    if any(L.COL_BELOPP in r.invalid for r in t.rows):
        return
    s = sum(r.num(L.COL_BELOPP) for r in items)
    if t.total is not None:
        yield from _sum_check("forklaring", t, t.total, t.rows, L.COL_BELOPP, config.tolerance(len(items) + 1),
                              f"{t.total.label} ska vara summan av posterna")
    res = report.resultat()
    target = report.deviation_year(res) if res is not None else None
    if target is None:
        return
    ref = t.ref(t.total, L.COL_BELOPP) if t.total is not None else t.header_ref()
    if not items:
        if abs(target) > config.tolerance(1):
            yield Finding.at(ref, "forklaring", WARNING,
                             f"Avvikelse helår är {_mn(target)} men ingen förklaring är ifylld i tabellen "
                             f"{t.name}.", expected=round(target, 6))
        return
    if abs(s - target) > config.tolerance(len(items) + 1):
        yield Finding.at(ref, "forklaring", ERROR,
                         f"Posterna i {t.name} summerar till {_mn(s)} men Resultat / Avvikelse helår är "
                         f"{_mn(target)} (skillnad {_mn(s - target)}).", expected=round(target, 6),
                         actual=round(s, 6))


# --- commitments --------------------------------------------------------------------------

@rule("ataganden-status", "ataganden", "Varje åtagande har en status ur mallens lista")
def _commitments(report: Report, config: Config) -> Iterator[Finding]:
    t = report.commitments
    statuses = {L.norm(s): s for s in L.STATUSES}
    answers = {L.norm(L.YES), L.norm(L.NO)}
    for row in t.rows:
        status = row.text(L.COL_STATUS)
        if status is None:
            yield Finding.at(t.ref(row, L.COL_STATUS), "ataganden-status", WARNING,
                             f"Åtagandet '{row.label}' saknar status.")
        elif L.norm(status) not in statuses:
            yield Finding.at(t.ref(row, L.COL_STATUS), "ataganden-status", ERROR,
                             f"Åtagandet '{row.label}' har status '{status}'; välj en av "
                             f"{', '.join(L.STATUSES)}.", actual=status)
        answer = row.text(L.COL_BEDOMNING) if L.COL_BEDOMNING in t.columns else None
        if answer is not None and L.norm(answer) not in answers:
            yield Finding.at(t.ref(row, L.COL_BEDOMNING), "ataganden-status", ERROR,
                             f"'{L.COL_BEDOMNING}' för '{row.label}' ska vara {L.YES} eller {L.NO}, "
                             f"inte '{answer}'.", actual=answer)


# --- staff --------------------------------------------------------------------------------

@rule("personal-heltal", "personal", "Antal anställda är hela, icke-negativa tal")
def _staff_ints(report: Report, config: Config) -> Iterator[Finding]:
    for t in filter(None, (report.staff, report.leavers)):
        counts = [c for c in t.columns if c != L.COL_FORANDRING]
        for row in t.all_rows():
            for col in counts:
                v = row.num(col)
                if v is not None and (v < 0 or not float(v).is_integer()):
                    yield Finding.at(t.ref(row, col), "personal-heltal", ERROR,
                                     f"{row.label} / {col}: {fmt_number(v, 2)} är inget antal personer "
                                     f"(ska vara ett heltal ≥ 0).", actual=v)


@rule("personal-kon", "personal", "Kvinnor + Män = Totalt på varje rad")
def _staff_gender(report: Report, config: Config) -> Iterator[Finding]:
    t = report.staff
    for row in t.all_rows():
        k, m, tot = row.num(L.COL_KVINNOR), row.num(L.COL_MAN), row.num(L.COL_TOTALT)
        if tot is None or (k is None and m is None):
            continue
        if abs((k or 0) + (m or 0) - tot) > 1e-9:
            yield Finding.at(t.ref(row, L.COL_TOTALT), "personal-kon", ERROR,
                             f"{row.label}: Kvinnor ({fmt_int(k)}) + Män ({fmt_int(m)}) = {fmt_int((k or 0) + (m or 0))}, "
                             f"men Totalt är {fmt_int(tot)}.", expected=(k or 0) + (m or 0), actual=tot)


@rule("personal-summa", "personal", "Summa = summan av anställningsformerna i varje kolumn")
def _staff_sum(report: Report, config: Config) -> Iterator[Finding]:
    for t in filter(None, (report.staff, report.leavers)):
        if t.total is None:
            continue
        for col in t.columns:
            yield from _sum_check("personal-summa", t, t.total, t.rows, col, 1e-9,
                                  f"{t.name}: {t.total.label} ska vara summan av raderna", fmt=fmt_int)


@rule("personal-forandring", "personal", "Förändring = Totalt − Totalt fg år")
def _staff_change(report: Report, config: Config) -> Iterator[Finding]:
    t = report.staff
    if not (t.has(L.COL_FORANDRING) and t.has(L.COL_TOTALT_FG)):
        return
    for row in t.all_rows():
        now, before, change = row.num(L.COL_TOTALT), row.num(L.COL_TOTALT_FG), row.num(L.COL_FORANDRING)
        if None in (now, before, change):
            continue
        if abs(now - before - change) > 1e-9:
            yield Finding.at(t.ref(row, L.COL_FORANDRING), "personal-forandring", ERROR,
                             f"{row.label}: Förändring är {fmt_int(change)} men Totalt − Totalt fg år är "
                             f"{fmt_int(now - before)} ({fmt_int(now)} − {fmt_int(before)}).", expected=now - before,
                             actual=change)


_SICK_ROW_COLUMNS = ((L.COL_KVINNOR, L.COL_MAN, L.COL_TOTALT), (L.COL_KVINNOR_FG, L.COL_MAN_FG, L.COL_TOTALT_FGP))


@rule("sjuk-kort-lang", "personal", "Kort + Lång sjukfrånvaro = Total sjukfrånvaro i varje kolumn")
def _sick_parts(report: Report, config: Config) -> Iterator[Finding]:
    t = report.sick
    total, short, long_ = t.get(L.ROW_SJUK_TOTAL), t.get(L.ROW_SJUK_KORT), t.get(L.ROW_SJUK_LANG)
    if not (total and short and long_):
        return
    tol = config.tolerance(3, percent=True)
    for col in L.SICK_PERCENT_COLUMNS:
        tot, s, lg = total.num(col), short.num(col), long_.num(col)
        if col not in t.columns or tot is None or (s is None and lg is None):
            continue
        if any(col in r.invalid for r in (short, long_)):
            continue
        if abs((s or 0) + (lg or 0) - tot) > tol:
            yield Finding.at(t.ref(total, col), "sjuk-kort-lang", ERROR,
                             f"Sjukfrånvaro / {col}: Kort ({fmt_percent(s)}) + Lång ({fmt_percent(lg)}) = "
                             f"{fmt_percent((s or 0) + (lg or 0))}, men Total sjukfrånvaro är {fmt_percent(tot)}.",
                             expected=round((s or 0) + (lg or 0), 6), actual=tot)


@rule("sjuk-forandring", "personal", "Förändring = Totalt − Totalt fg period")
def _sick_change(report: Report, config: Config) -> Iterator[Finding]:
    t = report.sick
    if not t.has(L.COL_FORANDRING) or not t.has(L.COL_TOTALT_FGP):
        return
    tol = config.tolerance(3, percent=True)
    for row in t.rows:
        now, before, change = row.num(L.COL_TOTALT), row.num(L.COL_TOTALT_FGP), row.num(L.COL_FORANDRING)
        if None in (now, before, change):
            continue
        if abs(now - before - change) > tol:
            yield Finding.at(t.ref(row, L.COL_FORANDRING), "sjuk-forandring", ERROR,
                             f"{row.label}: Förändring är {fmt_number(change, 1)} men Totalt − Totalt fg period "
                             f"är {fmt_number(now - before, 1)} procentenheter.", expected=round(now - before, 6),
                             actual=change)


@rule("sjuk-procent", "personal", "Sjukfrånvaro i procent ligger mellan 0 och 100")
def _sick_range(report: Report, config: Config) -> Iterator[Finding]:
    t = report.sick
    for row in t.rows:
        for col in L.SICK_PERCENT_COLUMNS:
            v = row.num(col)
            if v is not None and not 0 <= v <= 100:
                yield Finding.at(t.ref(row, col), "sjuk-procent", ERROR,
                                 f"{row.label} / {col}: {fmt_percent(v)} är ingen andel av arbetstiden "
                                 f"(ska vara 0–100 %).", actual=v)
        change = row.num(L.COL_FORANDRING)
        if change is not None and not -100 <= change <= 100:
            yield Finding.at(t.ref(row, L.COL_FORANDRING), "sjuk-procent", ERROR,
                             f"{row.label} / Förändring: {fmt_number(change, 1)} procentenheter är orimligt.",
                             actual=change)


@rule("sjuk-totalt-mellan", "personal", "Totalt ligger mellan Kvinnor och Män")
def _sick_between(report: Report, config: Config) -> Iterator[Finding]:
    t = report.sick
    tol = config.tolerance(1, percent=True)
    for row in t.rows:
        for k_col, m_col, t_col in _SICK_ROW_COLUMNS:
            k, m, tot = row.num(k_col), row.num(m_col), row.num(t_col)
            if tot is None or (k is None and m is None):
                continue
            lo, hi = min(k or 0, m or 0), max(k or 0, m or 0)
            if not lo - tol <= tot <= hi + tol:
                yield Finding.at(t.ref(row, t_col), "sjuk-totalt-mellan", WARNING,
                                 f"{row.label} / {t_col}: {fmt_percent(tot)} ligger inte mellan kvinnors "
                                 f"({fmt_percent(k)}) och mäns ({fmt_percent(m)}) sjukfrånvaro.", actual=tot)


@rule("sjuk-mal", "personal", "Total sjukfrånvaro jämförs med målnivån")
def _sick_target(report: Report, config: Config) -> Iterator[Finding]:
    t = report.sick
    total = t.get(L.ROW_SJUK_TOTAL)
    value = total.num(L.COL_TOTALT) if total else None
    target = report.meta.sjukmal
    if value is None:
        return
    if target is None:
        yield Finding.at(report.meta.cells.get("sjukmal") or CellRef(L.SHEET_META, 0, 0), "sjuk-mal", WARNING,
                         f"'{L.META_SJUKMAL}' är inte ifylld; sjukfrånvaron kan inte jämföras med målet.")
    elif value > target:
        yield Finding.at(t.ref(total, L.COL_TOTALT), "sjuk-mal", WARNING,
                         f"Total sjukfrånvaro {fmt_percent(value)} är över målnivån {fmt_percent(target)}.",
                         expected=target, actual=value)
