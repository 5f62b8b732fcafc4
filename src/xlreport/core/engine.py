"""The engine: sheet grids in, findings and a change set out. No files, no Excel.

Every door (the CLI's file adapter, the xlwings add-in, batch and consolidation) does the same
three things: read the sheets named by :data:`SHEETS` into :class:`~xlreport.core.cells.Grid`
objects, call :func:`run`, and apply ``outcome.changes`` (unless ``outcome.errors``).

The policy that protects the user's data lives here, once: when any check finds an *error*,
the change set is empty, so no door writes over a workbook it could not fully read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from . import layout as L
from .cells import Grid
from .changes import ChangeSet
from .config import DEFAULT, Config
from .deviations import fill_deviations
from .findings import Counted, Finding
from .generate import generate_report
from .model import Report
from .reader import read_report
from .rules import check_staff, validate

FILL = "fill"
GENERATE = "generate"
ACTIONS = (FILL, GENERATE)

#: The sheets an adapter must read (owned sheets are never read).
SHEETS: tuple[str, ...] = L.REQUIRED_SHEETS


@dataclass
class Outcome(Counted):
    report: Report
    findings: list[Finding] = field(default_factory=list)
    changes: ChangeSet = field(default_factory=ChangeSet)


def check(report: Report, read_findings: list[Finding], config: Config = DEFAULT) -> list[Finding]:
    """All checks: what the reader found in the cells, the finance rules, the staff rules."""
    return [*read_findings, *validate(report, config), *check_staff(report, config)]


def run(grids: Mapping[str, Grid], sheet_names: list[str] | None = None, *,
        actions: Collection[str] = ACTIONS, config: Config = DEFAULT) -> Outcome:
    """Read, check, and (when there are no errors) compute the changes for ``actions``.

    Raises :class:`~xlreport.core.errors.StructureError` when the template structure is missing.
    """
    report, read_findings = read_report(grids, sheet_names)
    outcome = Outcome(report, check(report, read_findings, config))
    if outcome.errors:
        return outcome
    if FILL in actions:
        outcome.changes.writes.extend(fill_deviations(report))
    if GENERATE in actions:
        outcome.changes.sheets.extend(generate_report(report, outcome.findings))
    return outcome
