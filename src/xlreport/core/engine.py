"""The engine: sheet grids in, findings and a change set out. No files, no Excel.

Every door (the file door, the Excel door, the in-memory door of the tests) implements the
:class:`Door` contract: it reads the sheets the engine asks for into
:class:`~xlreport.core.cells.Grid` objects and applies a :class:`~xlreport.core.changes.ChangeSet`.
:func:`process` owns the sequence (read, check, compute, apply) and :func:`run` owns the whole
policy of what is written, once for every door:

* **no errors**: the deviation formulas (``fill``) and the owned sheets Rapport and Kontroller
  (``generate``) that were asked for and, with either, the Summa formulas extended to every row
  of their table (:mod:`~xlreport.core.coverage`) and the recomputed cached values of formulas
  whose saved value was missing or stale (:mod:`~xlreport.core.recalc`);
* **errors** (or a template structure that is missing): nothing over the user's data, ever.
  A door that a person is looking at (``interactive``: the Excel door) still gets the
  Kontroller sheet and the cells to mark, so the user sees why; a door that runs unattended
  (the file door) gets an empty change set, so the file is left byte for byte as it was and
  the findings are reported on the console.

Without errors an interactive door always gets Kontroller and the marks too, whatever the
actions, so the sheet and the colours never disagree with the last click.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ..records import Record, field
from . import layout as L
from .cells import Grid
from .changes import ChangeSet, Mark
from .commentary import check_explanations
from .config import DEFAULT, Config
from .coverage import check_totals
from .deviations import derived_from_deviation, fill_deviations
from .errors import StructureError
from .findings import ERROR, Counted, Finding, error_findings
from .model import Report
from .reader import read_report
from .recalc import recalculate
from .rules import RULES, check_staff, validate

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # Door is a typing.Protocol to type checkers, a plain class at run time
if TYPE_CHECKING:  # the movement is imported when a previous report is given (--previous)
    from .movement import Movement, Previous

FILL = "fill"
GENERATE = "generate"
ACTIONS = (FILL, GENERATE)

#: The finding scope of "Kontrollera personal": the staff rules and anything on the staff sheets.
STAFF = "personal"

#: The sheets a door must read (owned sheets are never read).
SHEETS: tuple[str, ...] = L.REQUIRED_SHEETS


class Door(Protocol):
    """What the engine needs of a workbook, wherever it lives (a file, Excel, memory)."""

    #: A person looks at the workbook while the tool runs (findings are shown in it).
    interactive: bool

    def read(self, sheets: Sequence[str]) -> tuple[list[str], dict[str, Grid]]:
        """Every sheet name in workbook order, and a Grid for each of ``sheets`` that exists
        (matched as Excel does: case and spaces do not matter)."""

    def apply(self, changes: ChangeSet) -> Any:
        """Write ``changes`` into the workbook; called only with a non-empty change set."""


class Outcome(Counted, Record):
    report: Report | None  # None when the template structure was missing
    findings: list[Finding] = field(default_factory=list)
    changes: ChangeSet = field(default_factory=ChangeSet)
    structure_error: StructureError | None = None
    applied: Any = None  # what the door's apply returned
    movement: Movement | None = None  # the prognosis movement since the previous report (``previous``)


def check(report: Report, read_findings: list[Finding], config: Config = DEFAULT) -> list[Finding]:
    """All checks: what the reader found in the cells, the finance rules, the staff rules, and
    whether the material deviations are explained (:mod:`~xlreport.core.commentary`)."""
    return [*read_findings, *validate(report, config), *check_staff(report, config),
            *check_explanations(report, config)]


def in_scope(findings: list[Finding], scope: str | None) -> list[Finding]:
    """The findings a button shows: all, or (``scope="personal"``) the staff rules' findings and
    any finding on the staff and sick-leave sheets."""
    if scope is None:
        return findings
    if scope != STAFF:
        raise ValueError(scope)
    sheets = {L.SHEET_STAFF, L.SHEET_SICK}
    staff_rules = {r.id for r in RULES if r.group == STAFF}
    return [f for f in findings if f.rule in staff_rules or f.sheet in sheets]


def run(grids: Mapping[str, Grid], sheet_names: list[str] | None = None, *,
        actions: Collection[str] = ACTIONS, config: Config = DEFAULT, scope: str | None = None,
        interactive: bool = False, calc_mode: str | None = None, previous: Previous | None = None) -> Outcome:
    """Recompute, read, check, and decide what is written (the policy in the module docstring).

    ``grids`` get the recomputed values of their formulas (:mod:`xlreport.core.recalc`).
    ``calc_mode`` is the workbook's calculation mode, when the door knows it ("manual" warns).
    ``previous`` is the previous report's workbook (``--previous``): a refusal of it
    (:func:`~xlreport.core.movement.refusals`) is an error, so nothing is written; otherwise the
    outcome has its :class:`~xlreport.core.movement.Movement` and Rapport states it.
    Raises :class:`~xlreport.core.errors.StructureError` when the template structure is missing.
    """
    recalc = recalculate(grids, calc_mode)
    report, read_findings = read_report(grids, sheet_names)
    totals = check_totals(report, grids)
    keep, derived = derived_from_deviation(report, grids)
    found = [*recalc.findings, *read_findings, *totals.findings, *derived]
    outcome = Outcome(report, in_scope(check(report, found, config), scope))
    if previous is not None:
        from .movement import compute, refusals

        outcome.findings.extend(refusals(report, previous))
        if not outcome.errors:
            outcome.movement = compute(report, previous.report, previous.file)
    if not outcome.errors:
        if FILL in actions:
            outcome.changes.writes.extend(fill_deviations(report, keep))
        if GENERATE in actions:
            from .generate import generate_report  # imported when asked for: validate never needs it

            outcome.changes.sheets.extend(generate_report(report, outcome.findings, outcome.movement))
        if actions:  # a write: extended totals, and the recomputed values as the formulas' cached values
            written = {(w.sheet, w.row, w.col) for w in outcome.changes.writes}
            for w in [*totals.fixes, *recalc.refreshed]:
                if (w.sheet, w.row, w.col) not in written:
                    outcome.changes.writes.append(w)
                    written.add((w.sheet, w.row, w.col))
    if interactive:
        _show_findings(outcome, report.meta.namnd)
    return outcome


def _show_findings(outcome: Outcome, namnd: str | None) -> None:
    """An interactive door shows every finding: on Kontroller and as marked cells."""
    changes = outcome.changes
    if not any(s.name == L.SHEET_FINDINGS for s in changes.sheets):
        from .generate import findings_sheet

        changes.sheets.append(findings_sheet(outcome.findings, namnd))
    changes.marks = marks(outcome.findings)


def marks(findings: list[Finding]) -> list[Mark]:
    """The finding cells to colour, errors first; cells on the owned sheets are never marked."""
    out = []
    for f in sorted(findings, key=lambda f: f.severity != ERROR):
        if f.sheet and f.cell and f.sheet not in L.OWNED_SHEETS:
            out.append(Mark(f.sheet, f.cell, f.severity))
    return out


def process(door: Door, *, actions: Collection[str] = ACTIONS, config: Config = DEFAULT,
            scope: str | None = None, previous: Previous | None = None) -> Outcome:
    """The whole sequence for one workbook: read through ``door``, run, apply what :func:`run`
    decided. A missing template structure is a :class:`StructureError` for an unattended door;
    an interactive door gets an outcome with the structure findings shown on Kontroller."""
    names, grids = door.read(SHEETS)
    try:
        outcome = run(grids, names, actions=actions, config=config, scope=scope, interactive=door.interactive,
                      calc_mode=getattr(door, "calc_mode", None), previous=previous)
    except StructureError as exc:
        if not door.interactive:
            raise
        findings = error_findings(exc)
        outcome = Outcome(None, findings, structure_error=exc)
        _show_findings(outcome, None)
    if outcome.changes:
        outcome.applied = door.apply(outcome.changes)
    return outcome
