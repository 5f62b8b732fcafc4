"""Prognosis movement: how the full-year prognosis changed since the previous report (``--previous``).

Given this report's model and the model of the previous report of the same nämnd and year
(the last månadsrapport or delårsrapport), :func:`compute` gives the change of the bottom line
(:meth:`~xlreport.core.model.Report.resultat`) and of every unit of Driftredovisning (matched by
their normalised names; units that appear or disappear are listed), and
:meth:`Movement.sentence` / :meth:`Movement.section` say it in Swedish for the report:
*"Prognosen har förbättrats med 1,2 mnkr sedan februari, främst inom KLK HR (+0,8 mnkr)."*

**What "the change" is.** The sentence states the change of *Avvikelse helår* (Prognos helår −
Budget helår): whether the prognosis got better or worse against the budget. While Budget helår
is unchanged that is exactly the change of Prognos helår; when the budget was changed between
the reports (a tilläggsbudget, a budget moved between units) the prognosis in kronor moves with
it without anything getting better or worse, so the report says so and the table gets the
columns Budgetändring and Förändring mot budget.

:func:`refusals` is the check that the previous workbook can be compared at all: readable,
without errors, the same kommun, nämnd and enhet, the same year and an earlier period. The
engine (:func:`xlreport.core.engine.run`) runs it and, when it refuses, writes nothing.
No I/O here: a door reads the previous workbook into a :class:`Previous`.
"""

from __future__ import annotations

from typing import Any

from ..records import Record, field
from . import layout as L
from .findings import ERROR, Finding, declare
from .model import Report, Row
from .swedish import fmt_mnkr, round_half_up

# --- the checks (group "prognos") ---------------------------------------------------------

PREVIOUS_UNREADABLE = declare("prognos-olasbar", "prognos", ERROR,
                              "Förra rapportens arbetsbok (--previous) går att läsa och följer mallen")
PREVIOUS_ERRORS = declare("prognos-fel", "prognos", ERROR, "Förra rapportens arbetsbok har inga fel")
OTHER_NAMND = declare("prognos-namnd", "prognos", ERROR, "Förra rapporten gäller samma kommun och nämnd")
OTHER_ENHET = declare("prognos-enhet", "prognos", ERROR, "Förra rapporten gäller samma enhet")
OTHER_YEAR = declare("prognos-ar", "prognos", ERROR, "Förra rapporten gäller samma år")
NOT_EARLIER = declare("prognos-period", "prognos", ERROR,
                      "Förra rapporten gäller en tidigare period (Månad) samma år")

PREVIOUS_IS_TARGET = declare("prognos-skrivs-over", "prognos", ERROR,
                             "Resultatet skrivs inte över förra rapportens arbetsbok (den läses bara)")

#: The rule ids that refuse a previous workbook (the command then writes nothing).
REFUSALS = frozenset(s.id for s in (PREVIOUS_UNREADABLE, PREVIOUS_ERRORS, OTHER_NAMND, OTHER_ENHET, OTHER_YEAR,
                                    NOT_EARLIER, PREVIOUS_IS_TARGET))

#: A change smaller than this is no change (float noise of recomputed formulas), in mnkr.
EPSILON = 1e-6


class Previous(Record):
    """What a door read of the previous report's workbook, for the engine to compare with.

    ``report`` is None when the workbook could not be read (``problem`` says why); ``findings``
    are the previous workbook's own findings; ``file`` and ``current`` are how the two workbooks
    are named in messages (the previous file as the user gave it, and this workbook)."""

    file: str
    current: str
    report: Report | None = None
    findings: list[Finding] = field(default_factory=list)
    problem: str | None = None


def refused(findings: list[Finding]) -> bool:
    """The previous workbook was refused (one of :data:`REFUSALS` is among ``findings``)."""
    return any(f.rule in REFUSALS for f in findings)


# --- the comparison -----------------------------------------------------------------------

class Line(Record, frozen=True):
    """One row compared: Prognos helår and Budget helår in the previous report and in this one
    (None where the row is missing from that report or its cell is empty)."""

    label: str
    before: float | None
    now: float | None
    budget_before: float | None = None
    budget_now: float | None = None
    total: bool = False  # a total row (the units' Summa, the bottom line)

    @property
    def new(self) -> bool:  # a unit only in this report
        return self.before is None and self.budget_before is None and not self.total

    @property
    def gone(self) -> bool:  # a unit only in the previous report
        return self.now is None and self.budget_now is None and not self.total

    @property
    def change(self) -> float | None:
        """Prognos helår now − before."""
        return None if self.before is None or self.now is None else self.now - self.before

    @property
    def budget_change(self) -> float | None:
        if self.budget_before is None and self.budget_now is None:
            return 0.0 if self.change is not None else None
        return (self.budget_now or 0.0) - (self.budget_before or 0.0)

    @property
    def deviation_change(self) -> float | None:
        """The change of Avvikelse helår (Prognos − Budget): better (+) or worse (−) against budget."""
        change, budget = self.change, self.budget_change
        return None if change is None or budget is None else change - budget

    def to_dict(self) -> dict[str, Any]:
        """The figures in mnkr (to 6 decimals: no float noise such as 6.600000000000023)."""
        figures = {"prognos_before": self.before, "prognos_now": self.now, "change": self.change,
                   "budget_before": self.budget_before, "budget_now": self.budget_now,
                   "budget_change": self.budget_change, "deviation_change": self.deviation_change}
        return {"label": self.label, **{k: None if v is None else round(v, 6) + 0.0 for k, v in figures.items()},
                "new": self.new, "gone": self.gone}


class Movement(Record, frozen=True):
    """The prognosis movement since the previous report."""

    previous_file: str
    month: int | None  # the previous report's Månad
    total: Line  # the bottom line (Resultat, or Resultat efter finansiella poster)
    units: tuple[Line, ...]  # the units of Driftredovisning: this report's order, then those gone
    units_total: Line | None = None  # the units' Summa row, when both reports have one

    @property
    def since(self) -> str:
        """"februari": the previous report's month, as the text says it."""
        return L.MONTHS[self.month - 1] if self.month and 1 <= self.month <= 12 else "förra rapporten"

    @property
    def budget_changed(self) -> bool:
        lines = [self.total, *self.units, *([self.units_total] if self.units_total else [])]
        return any(abs(line.budget_change or 0.0) > EPSILON for line in lines if not (line.new or line.gone))

    @property
    def new_units(self) -> list[Line]:
        return [u for u in self.units if u.new]

    @property
    def gone_units(self) -> list[Line]:
        return [u for u in self.units if u.gone]

    # --- the text -----------------------------------------------------------------------

    def sentence(self) -> str:
        """The one sentence: how the prognosis moved against budget in total, and where most."""
        since = self.since
        d = self.total.deviation_change
        if d is None:
            return (f"Prognosen för helåret kan inte jämföras med {since}: Prognos helår för "
                    f"{self.total.label} saknas i {'förra' if self.total.before is None else 'den här'} rapporten.")
        shown = round_half_up(d, 1)
        if shown == 0:
            s = f"Prognosen är oförändrad sedan {since}"
            up, down = self._largest(1), self._largest(-1)
            moved = []
            if up is not None:
                moved.append(f"förbättrats inom {up.label} ({fmt_mnkr(up.deviation_change, sign=True)})")
            if down is not None:
                moved.append(f"försämrats inom {down.label} ({fmt_mnkr(down.deviation_change, sign=True)})")
            if moved:
                s += ", men den har " + " och ".join(moved)
            return s + "."
        word = "förbättrats" if shown > 0 else "försämrats"
        s = f"Prognosen har {word} med {fmt_mnkr(abs(d))} sedan {since}"
        main = self._largest(1 if shown > 0 else -1)
        if main is not None:
            s += f", främst inom {main.label} ({fmt_mnkr(main.deviation_change, sign=True)})"
        return s + "."

    def _largest(self, sign: int) -> Line | None:
        """The unit whose prognosis moved most in direction ``sign``, if it moved visibly."""
        moved = [u for u in self.units if u.deviation_change is not None
                 and round_half_up(u.deviation_change * sign, 1) > 0]
        return max(moved, key=lambda u: u.deviation_change * sign, default=None)

    def notes(self) -> list[str]:
        """The sentences after the main one: a budget change, new and removed units."""
        out = []
        since = self.since
        if self.budget_changed:
            budget, change = self.total.budget_change, self.total.change
            if budget is not None and abs(budget) > EPSILON and change is not None:
                out.append(f"Budget helår för {self.total.label} har ändrats med {fmt_mnkr(budget, sign=True)} "
                           f"sedan {since}, så förändringen räknas mot budget: Prognos helår har ändrats med "
                           f"{fmt_mnkr(change, sign=True)}.")
            else:
                out.append(f"Budget helår har flyttats mellan enheterna sedan {since}; enheternas förändring "
                           f"räknas mot budget (kolumnen Förändring mot budget).")
        new, gone = self.new_units, self.gone_units
        if new:
            out.append(f"{'Ny enhet' if len(new) == 1 else 'Nya enheter'} sedan {since}: "
                       f"{_join([u.label for u in new])}.")
        if gone:
            out.append(f"{'Enheten' if len(gone) == 1 else 'Enheterna'} {_join([u.label for u in gone])} "
                       f"fanns med i {since} men inte i den här rapporten.")
        return out

    def text(self) -> str:
        return " ".join([self.sentence(), *self.notes()])

    def lines(self) -> list[Line]:
        """The table's rows: the units, their Summa, the bottom line."""
        return [*self.units, *([self.units_total] if self.units_total else []), self.total]

    def columns(self) -> tuple[str, ...]:
        cols = ("Prognos förra", "Prognos nu", "Förändring")
        return cols + ("Budgetändring", "Förändring mot budget") if self.budget_changed else cols

    def rows(self) -> list[tuple[str, tuple[float | None, ...], bool]]:
        """(label, values, total) per table row, in :meth:`columns` order (unrounded)."""
        out = []
        for line in self.lines():
            values: tuple[float | None, ...] = (line.before, line.now, line.change)
            if self.budget_changed:
                values += (None if line.new or line.gone else line.budget_change, line.deviation_change)
            out.append((line.label, values, line.total))
        return out

    def section(self):
        """The report's section: the sentence (and notes) and the table, as every output renders it."""
        from .generate import Paragraph, ReportTable, Section, TableRow, printed

        rows = tuple(TableRow(label, tuple(printed(v, "mnkr") for v in values), total)
                     for label, values, total in self.rows())
        table = ReportTable(L.HEAD_UNITS, self.columns(), rows, "mnkr")
        return Section(f"Prognosens förändring sedan {self.since} (mnkr)", [Paragraph(self.text()), table], level=2)

    def to_dict(self) -> dict[str, Any]:
        return {"previous": self.previous_file, "since": self.since, "previous_month": self.month,
                "sentence": self.sentence(), "notes": self.notes(), "budget_changed": self.budget_changed,
                "total": self.total.to_dict(),
                "units_total": self.units_total.to_dict() if self.units_total else None,
                "units": [u.to_dict() for u in self.units],
                "new_units": [u.label for u in self.new_units], "gone_units": [u.label for u in self.gone_units]}


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def _figures(row: Row | None) -> tuple[float | None, float | None]:
    if row is None:
        return None, None
    return row.num(L.COL_PROGNOS), row.num(L.COL_BUDGET_HELAR)


def _line(label: str, before: Row | None, now: Row | None, total: bool = False) -> Line:
    (p0, b0), (p1, b1) = _figures(before), _figures(now)
    return Line(label, p0, p1, b0, b1, total)


def compute(report: Report, previous: Report, previous_file: str = "") -> Movement:
    """The movement from ``previous`` to ``report`` (the caller has checked :func:`refusals`)."""
    now_res, before_res = report.resultat(), previous.resultat()
    total = _line((now_res or before_res).label if (now_res or before_res) else L.ROW_RESULTAT,
                  before_res, now_res, total=True)
    before_units = {L.norm(r.key): r for r in previous.units.rows}
    now_keys = {L.norm(r.key) for r in report.units.rows}
    units = [_line(r.label, before_units.get(L.norm(r.key)), r) for r in report.units.rows]
    units += [_line(r.label, r, None) for r in previous.units.rows if L.norm(r.key) not in now_keys]
    summa = None
    if report.units.total is not None and previous.units.total is not None:
        summa = _line(report.units.total.label, previous.units.total, report.units.total, total=True)
    return Movement(previous_file, previous.meta.manad, total, tuple(units), summa)


# --- the refusals -------------------------------------------------------------------------

def _cell(report: Report, name: str) -> str:
    """Where a metadata value was found ("Uppgifter!B5"), or the sheet when it was not."""
    ref = report.meta.cells.get(name)
    return str(ref) if ref is not None else L.SHEET_META


def _value(name: str, v: object) -> str:
    if v is None or v == "":
        return "inget ifyllt"
    if name == "manad" and isinstance(v, int) and 1 <= v <= 12:
        return f"{v} ({L.MONTHS[v - 1]})"
    return f"'{v}'" if isinstance(v, str) else str(v)


_TAIL = " Välj förra rapportens arbetsbok och kör igen; inget har skrivits."


def refusals(report: Report, previous: Previous) -> list[Finding]:
    """Why ``previous`` cannot be compared with ``report``: an empty list when it can.

    Refused: a workbook that could not be read or has errors, of another kommun, nämnd or enhet,
    of another year, or of the same or a later period (Månad). Each message names both files,
    the cells and the values."""
    prev = previous.file
    if previous.report is None:
        why = (previous.problem or "den kunde inte läsas").rstrip(".")
        return [PREVIOUS_UNREADABLE.at(None, f"Förra rapporten {prev} kan inte användas för jämförelsen: {why}.{_TAIL}")]
    errors = [f for f in previous.findings if f.is_error]
    if errors:
        first = errors[0]
        where = f"{first.location()}: " if first.location() else ""
        return [PREVIOUS_ERRORS.at(None, f"Förra rapporten {prev} har {len(errors)} fel, så dess prognos går inte "
                                         f"att jämföra med (det första: {where}{first.message.rstrip('.')}). Rätta "
                                         f"den eller välj en annan fil; inget har skrivits.", actual=len(errors))]
    a, b = previous.report, report

    def refuse(rule, name: str, label: str, why: str) -> Finding:
        x, y = getattr(a.meta, name), getattr(b.meta, name)
        return rule.at(None, f"Förra rapporten {prev} ({_cell(a, name)}) gäller {label} {_value(name, x)}, men "
                             f"{previous.current} ({_cell(b, name)}) gäller {_value(name, y)}: {why}.{_TAIL}",
                       expected=y, actual=x)

    out = []
    for name, label, rule in (("kommun", "kommunen", OTHER_NAMND), ("namnd", "nämnden", OTHER_NAMND),
                              ("enhet", "enheten", OTHER_ENHET)):
        x, y = getattr(a.meta, name), getattr(b.meta, name)
        if name != "namnd" and (not x or not y):
            continue  # an empty Kommun or Enhet on one side says nothing
        if not x or not y or L.norm(x) != L.norm(y):
            what = "samma nämnds" if name != "enhet" else "samma enhets"
            out.append(refuse(rule, name, label, f"prognosen kan bara jämföras med {what} förra rapport"))
            if rule is OTHER_NAMND:
                break  # another kommun is another nämnd: one message
    x, y = a.meta.ar, b.meta.ar
    if x is None or y is None or x != y:
        out.append(refuse(OTHER_YEAR, "ar", "året", "förra rapporten ska vara från samma år"))
    elif a.meta.manad is None or b.meta.manad is None:
        out.append(refuse(NOT_EARLIER, "manad", "månad", "Månad behövs i båda arbetsböckerna"))
    elif a.meta.manad >= b.meta.manad:
        same = a.meta.manad == b.meta.manad
        out.append(refuse(NOT_EARLIER, "manad", "månad", f"förra rapporten ska gälla en tidigare månad än den här"
                                                         f"{' (samma period är ingen förra rapport)' if same else ''}"))
    return out
