"""Findings: one per problem, each pointing at a sheet and a cell of the user's workbook.

Every rule id a finding can carry is declared once, in the catalogue (:func:`declare`), with
its group, its severity and a Swedish description; ``xlreport rules`` lists the catalogue.
Code that makes a finding takes the id and the severity from the declaration
(:meth:`RuleSpec.at`): the checks in :mod:`xlreport.core.rules`, the reader's cell and structure
checks in :mod:`xlreport.core.reader`, and, below, the ids of the errors that stop a file and of
the departments' commands.
"""

from __future__ import annotations

from ..records import Record, asdict
from .cells import CellRef

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any, Literal

    Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

SEVERITY_SV = {ERROR: "Fel", WARNING: "Varning"}


class Finding(Record, frozen=True):
    """A problem found in the workbook.

    ``rule`` is a stable id (e.g. ``"summa-enheter"``) that scripts can filter on; ``message``
    is Swedish and complete on its own; ``expected``/``actual`` are the compared values when
    the rule compares values.
    """

    rule: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1, e.g. "E5"
    expected: Any = None
    actual: Any = None

    @classmethod
    def at(cls, ref: CellRef | None, rule: str, severity: Severity, message: str, *,
           expected: Any = None, actual: Any = None) -> Finding:
        return cls(rule, severity, message, ref.sheet if ref else None, ref.a1 if ref else None,
                   expected, actual)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        d = {"file": file, **asdict(self)}
        return {k: d[k] for k in ("file", "sheet", "cell", "rule", "severity", "message", "expected", "actual")}


def error_findings(exc) -> list[Finding]:
    """The findings a user error (:class:`~xlreport.core.errors.XlreportError`) stands for: a
    structure error's own findings, else one error finding with its message and cell."""
    found = getattr(exc, "findings", None)
    return list(found) if found else [Finding(exc.rule, ERROR, exc.message, exc.sheet, exc.cell)]


class RuleSpec(Record, frozen=True):
    """One entry of the catalogue: a rule id, its group, its severity and what it checks."""

    id: str
    group: str
    severity: Severity
    description: str  # Swedish, listed by ``xlreport rules``

    def at(self, ref: CellRef | None, message: str, *, expected: Any = None, actual: Any = None) -> Finding:
        """A finding of this rule at ``ref`` (its id and severity from the declaration)."""
        return Finding.at(ref, self.id, self.severity, message, expected=expected, actual=actual)

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "group": self.group, "severity": self.severity, "description": self.description}


#: The groups, in the order ``xlreport rules`` lists them, with what they are about.
GROUPS = {
    "mall": "arbetsboken följer mallen",
    "ekonomi": "resultaträkning, driftredovisning och avvikelser",
    "ataganden": "åtagandena",
    "personal": "personal och sjukfrånvaro",
    "text": "rapportens text mot tabellerna (xlreport check-text)",
    "forklaringar": "förklaringar av väsentliga avvikelser (xlreport chase)",
    "prognos": "prognosens förändring sedan förra rapporten (--previous)",
    "rattning": "det som xlreport fix kan rätta",
    "celler": "cellernas värden",
    "struktur": "mallens struktur (blad, tabeller, kolumner, rader)",
    "fil": "filen kan inte behandlas",
    "konsolidering": "sammanställningen av enheternas arbetsböcker",
}

#: Every declared rule id (``declare`` adds to it).
CATALOGUE: dict[str, RuleSpec] = {}


def declare(id: str, group: str, severity: Severity, description: str) -> RuleSpec:
    """Declare a rule id once; a second declaration of the same id is a bug."""
    if id in CATALOGUE:
        raise ValueError(f"rule id {id!r} is declared twice")
    if group not in GROUPS or severity not in SEVERITY_SV or not description.strip():
        raise ValueError(f"rule {id!r}: unknown group {group!r}, bad severity {severity!r} or no description")
    spec = CATALOGUE[id] = RuleSpec(id, group, severity, description)
    return spec


def catalogue() -> list[RuleSpec]:
    """Every rule id the tool can put on a finding, by group (in :data:`GROUPS` order).

    Rule ids are declared in the modules of :mod:`xlreport.core` (the checks, the reader, ...)
    and in a package's ``checks`` module (``xlreport/<package>/checks.py``), so those are
    imported first: none of them imports a workbook library.
    """
    import importlib
    from pathlib import Path

    core = Path(__file__).parent
    top = __package__.rpartition(".")[0]
    names = [f"{__package__}.{p.stem}" for p in sorted(core.glob("*.py")) if not p.stem.startswith("_")]
    names += [f"{top}.{p.parent.name}.checks" for p in sorted(core.parent.glob("*/checks.py"))]
    for name in names:
        importlib.import_module(name)
    from .rules import RULES

    checks = [r.spec for r in RULES]  # the rules first in their groups, as they run
    specs = checks + [s for s in CATALOGUE.values() if s not in checks]
    order = list(GROUPS)
    return sorted(specs, key=lambda s: order.index(s.group))


# --- ids emitted outside the checks -------------------------------------------------------
# The errors that stop one file (each XlreportError subclass carries its id as ``rule``; the
# doors turn them into findings), the batch's, and the consolidation's notes about unit files.

declare("fil", "fil", ERROR, "Filen kunde inte behandlas")
declare("ej-arbetsbok", "fil", ERROR, "Filen finns och är en Excel-arbetsbok (Office Open XML) som går att läsa")
declare("osaker-fil", "fil", ERROR, "Filen håller sig inom säkerhetsgränserna (storlek, packning, entiteter)")
declare("last", "fil", ERROR, "Arbetsboken är inte öppen i Excel och skrivs inte av en annan körning")
declare("skrivfel", "fil", ERROR, "Resultatet går att skriva (behörighet, diskutrymme); originalet är oförändrat")
declare("programfel", "fil", ERROR, "Ett oväntat fel i xlreport; filen har inte ändrats")
declare("avdelning", "fil", ERROR, "new, upgrade eller consolidate kan inte göras; inget har skrivits")
declare("export", "fil", ERROR, "Rapporten kan exporteras till Word och PDF (mall, LibreOffice)")
declare("struktur", "struktur", ERROR, "Mallens struktur finns i arbetsboken (blad, tabeller, kolumner, rader)")

declare("konsolidering", "konsolidering", WARNING, "Ett meddelande från sammanställningen")
declare("konsolidering-mallversion", "konsolidering", ERROR,
        "Enhetens fil är gjord från samma mallversion som nämndens arbetsbok")
declare("konsolidering-namnd", "konsolidering", ERROR, "Enhetens fil gäller nämndens nämnd")
declare("konsolidering-period", "konsolidering", ERROR,
        "Enhetens fil har År och Månad ifyllda och gäller samma period som de andra")
declare("konsolidering-enhet", "konsolidering", ERROR, "Enhetens fil anger sin enhet")
declare("konsolidering-dubblett", "konsolidering", ERROR, "Varje enhet har bara en fil")
declare("konsolidering-enhet-okand", "konsolidering", ERROR, "Filens enhet finns i nämndens lista över enheter")
declare("konsolidering-tom", "konsolidering", WARNING, "En fil med bara tomma tabeller är inte med")
declare("konsolidering-utelamnad", "konsolidering", WARNING,
        "En fil som inte kan läsas eller har fel är inte med")
declare("konsolidering-lista", "konsolidering", WARNING, "Nämndens arbetsbok har en lista över enheterna")
declare("konsolidering-enhet-saknas", "konsolidering", WARNING, "Varje enhet i nämndens lista har en godkänd fil")
declare("konsolidering-rad-saknas", "konsolidering", WARNING,
        "Enhetens rader i Resultaträkning finns i nämndens tabell och räknas med")
declare("konsolidering-resultat", "konsolidering", ERROR,
        "Nämndens resultat räknar med samma rader som enheternas (finansiella poster)")


def count(findings, severity: Severity) -> int:
    return sum(1 for f in findings if f.severity == severity)


class Counted:
    """Mixin for results that carry ``findings``: their error and warning counts."""

    findings: list[Finding]

    @property
    def errors(self) -> int:
        return count(self.findings, ERROR)

    @property
    def warnings(self) -> int:
        return count(self.findings, WARNING)
