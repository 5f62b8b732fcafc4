"""The engine on the worked example in memory: read once, varied per test, no file written.

The example is read once a session by the file door's own reader, so the grids hold exactly
what the file door hands the engine (values, formulas, number formats, and the workbook's
calculation mode). A variant types values into copies of those grids the way
:func:`support.workbooks.variant` types them into a copy of the file, and presents them as the
file door reads them back: a number as a float, True/False as a boolean, any text as its text
(an error value typed as text, "#REF!", is that text, as the file door also shows a real error
value), None as an empty cell; a value typed over a formula replaces the formula, the cell's
format stays. The engine then runs through the in-memory door.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from support.workbooks import EXAMPLE
from xlreport.core import engine
from xlreport.core.cells import Grid, a1, parse_a1
from xlreport.core.errors import FINDINGS, OK, UNPROCESSABLE, StructureError
from xlreport.core.findings import ERROR, Finding
from xlreport.doors.file import FileDoor
from xlreport.doors.memory import MemoryDoor
from xlreport.records import replace

Cells = Mapping[str, Any]  # {"Sheet!A1": value}; None empties the cell


@functools.cache
def _example() -> tuple[tuple[str, ...], dict[str, Grid], str | None]:
    door = FileDoor(EXAMPLE, write=False)
    names, grids = door.read(engine.SHEETS)
    return tuple(names), grids, getattr(door, "calc_mode", None)  # as the engine asks a door for it


def example_grids() -> tuple[list[str], dict[str, Grid]]:
    """The example's sheet names and the grids of the sheets the engine reads (a fresh copy)."""
    names, grids, _ = _example()
    return list(names), copy.deepcopy(grids)


def formula_cells() -> set[str]:
    """Every "Sheet!A1" of the example that holds a formula."""
    return {f"{name}!{a1(row, col)}" for name, grid in _example()[1].items() for row, col in grid.formulas}


def as_read(value: Any) -> Any:
    """``value`` as the file door reads it back after :func:`support.workbooks.variant` typed it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def example_door(cells: Cells | None = None, *, renamed: Mapping[str, str] | None = None) -> MemoryDoor:
    """The example in a memory door, with ``cells`` typed in and sheets ``renamed`` ({old: new})."""
    names, grids = example_grids()
    for old, new in (renamed or {}).items():
        names[names.index(old)] = new
        grids[new] = replace(grids.pop(old), name=new)
    for ref, value in (cells or {}).items():
        sheet, addr = ref.rsplit("!", 1)
        row, col = parse_a1(addr)
        grids[sheet].set(row, col, as_read(value))
        grids[sheet].formulas.pop((row, col), None)  # typed over a formula: a constant now
    door = MemoryDoor(grids, names)
    door.calc_mode = _example()[2]
    return door


@dataclass
class Result:
    """What the file door's ``process`` reports (status 0, 1 or 2 and the findings), in memory."""

    status: int
    findings: list[Finding] = field(default_factory=list)
    outcome: engine.Outcome | None = None  # None when the template structure is missing


def result_with(cells: Cells | None = None, *, renamed: Mapping[str, str] | None = None,
                actions: Collection[str] = ()) -> Result:
    """Run the engine on the example with ``cells`` typed in, as ``process(path, actions)`` does."""
    try:
        outcome = engine.process(example_door(cells, renamed=renamed), actions=actions)
    except StructureError as exc:
        return Result(UNPROCESSABLE, exc.findings or [Finding(exc.rule, ERROR, exc.message, exc.sheet, exc.cell)])
    return Result(FINDINGS if outcome.errors else OK, outcome.findings, outcome)


def outcome_with(cells: Cells | None = None, *, actions: Collection[str] = engine.ACTIONS) -> engine.Outcome:
    """The engine's outcome for the example with ``cells`` typed in, as the file door's ``load``
    gives it (a missing template structure raises StructureError)."""
    return engine.process(example_door(cells), actions=actions)


def located(findings: list[Finding]) -> set[tuple[str, str, str]]:
    """Each finding as (rule, severity, "Sheet!Cell")."""
    return {(f.rule, f.severity, f"{f.sheet}!{f.cell}") for f in findings}


def findings_with(cells: Cells | None = None, **kw) -> set[tuple[str, str, str]]:
    """The findings for the example with ``cells`` typed in, as (rule, severity, "Sheet!Cell")."""
    return located(result_with(cells, **kw).findings)
