"""The file door: the engine on a workbook on disk, the result written back losslessly."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from ..core import engine
from ..core.cells import Grid, a1
from ..core.changes import ChangeSet
from ..core.config import DEFAULT, Config
from ..core.engine import ACTIONS, Outcome
from ..core.errors import FINDINGS, OK, UNPROCESSABLE, NotAWorkbook, StructureError, XlreportError
from ..core.findings import Counted, Finding, error_findings
from ..core.layout import norm
from ..records import Record, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:  # imported when a previous report is given (--previous)
    from ..core.movement import Movement, Previous


class FileResult(Counted, Record):
    """What happened to one file; ``status`` is its exit code (0, 1 or 2)."""

    file: str
    findings: list[Finding] = field(default_factory=list)
    status: int = OK
    written: Path | None = None
    cells_written: int = 0
    sheets_written: list[str] = field(default_factory=list)
    dependent_formulas: int = 0  # formulas that read a written cell; Excel recalculates them on open
    seconds: float = 0.0
    outcome: Outcome | None = None
    movement: Movement | None = None  # the prognosis movement, with ``previous``


class FileDoor:
    """The engine's door to a workbook on disk: calamine reads, the package layer writes.

    Unattended: with errors the engine gives it nothing to write, so the file stays as it was.
    ``write=False`` (validate) never writes; ``out`` writes the result to another file.
    """

    interactive = False

    def __init__(self, path: str | Path, out: str | Path | None = None, *, write: bool = True):
        self.path = Path(path)
        self.target = Path(out) if out is not None else self.path
        self.write = write
        self.calc_mode: str | None = None  # the workbook's calcPr calcMode, once read

    def read(self, sheets):
        names, grids, self.calc_mode = read_workbook(self.path, sheets)
        return names, grids

    def apply(self, changes: ChangeSet):
        if not self.write:
            return None
        from ..ooxml.apply import apply_changes

        return apply_changes(self.path, changes, out=self.target)


def load(path: str | Path, config: Config = DEFAULT, actions: Collection[str] = ACTIONS, *,
         previous: str | Path | None = None) -> Outcome:
    """Read a workbook and run the engine on it (nothing is written); raises XlreportError for
    a file it cannot use. ``previous``: the previous report's workbook to compare the prognosis with."""
    return _process(FileDoor(path, write=False), actions, config, read_previous(previous, path))


def read_previous(path: str | Path | None, current: str | Path) -> Previous | None:
    """The previous report's workbook (``--previous``), read with the same reader and checked by
    the same engine, for the engine to compare with; only read, never written. A workbook that
    cannot be read is a :class:`Previous` without a report (the engine refuses it)."""
    if path is None:
        return None
    from ..core.movement import Previous

    previous = Previous(str(path), str(current))
    try:
        outcome = load(path, actions=())
    except StructureError as exc:
        first = exc.findings[0] if exc.findings else None
        where = f"{first.location()}: " if first is not None and first.location() else ""
        previous.problem = f"den följer inte mallen ({where}{first.message if first else exc.message})"
    except XlreportError as exc:
        previous.problem = exc.message
    else:
        previous.report, previous.findings = outcome.report, outcome.findings
    return previous


def _process(door: FileDoor, actions: Collection[str], config: Config, previous: Previous | None = None) -> Outcome:
    try:
        return engine.process(door, actions=actions, config=config, previous=previous)
    except StructureError as exc:
        exc.file = str(door.path)
        raise


def process(path: str | Path, actions: Collection[str] = ACTIONS, *, out: str | Path | None = None,
            write: bool = True, config: Config = DEFAULT, previous: str | Path | None = None) -> FileResult:
    """Check ``path`` and, when it has no errors and ``write`` is set, apply ``actions``.

    Never raises for a user error: an unusable file gives status 2 and a finding that says why.
    ``previous`` (``--previous``): the previous report's workbook, only read; Rapport gets the
    prognosis movement since it, and a previous workbook that is refused gives status 2 and
    nothing written.
    """
    started = time.perf_counter()
    result = FileResult(str(path))
    door = FileDoor(path, out, write=write)
    if previous is not None and write and _same_file(previous, door.target):
        from ..core.movement import PREVIOUS_IS_TARGET

        result.status = UNPROCESSABLE
        result.findings = [PREVIOUS_IS_TARGET.at(None, f"Förra rapporten {previous} läses bara och skrivs aldrig över: "
                                                       f"välj en annan fil för resultatet (-o); inget har skrivits.")]
        return result
    try:
        # Writing runs hold the workbook's lock from reading to writing, so two xlreport
        # processes on the same file never interleave (the second waits, then refuses).
        with _write_lock(door.target, write):
            outcome = _process(door, actions, config, read_previous(previous, path))
            result.outcome = outcome
            result.findings = outcome.findings
            result.status = FINDINGS if outcome.errors else OK
            result.movement = outcome.movement
            if previous is not None:
                from ..core.movement import refused

                if refused(outcome.findings):
                    result.status = UNPROCESSABLE
            if outcome.applied is not None:
                result.written = door.target
                result.cells_written = len(outcome.changes.writes)
                result.sheets_written = [s.name for s in outcome.changes.sheets]
                result.dependent_formulas = outcome.applied.dependent_formulas
                if outcome.applied.findings:  # e.g. a sheet the dependent-formula count could not read
                    result.findings = [*result.findings, *outcome.applied.findings]
    except XlreportError as exc:  # a structure error brings its own findings
        result.status = UNPROCESSABLE
        result.findings = error_findings(exc)
    result.seconds = time.perf_counter() - started
    return result


def _same_file(a: str | Path, b: str | Path) -> bool:
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _write_lock(target: Path, write: bool):
    if not write:
        return contextlib.nullcontext()
    from ..ooxml.atomic import workbook_lock

    return workbook_lock(target)


# --- reading ------------------------------------------------------------------------------


def read_grids(path: str | Path, sheet_names: Iterable[str] | None = None) -> tuple[list[str], dict[str, Grid]]:
    """All sheet names in workbook order, and a Grid per requested sheet that exists.

    ``sheet_names=None`` reads every sheet. The package is checked for safety first, and every
    part calamine reads is checked (size, XML declarations, extent) before calamine sees it.
    Error values (``#N/A``) appear in the grid as their text, and a formula without a cached
    value as an :class:`~xlreport.core.reader.Uncalculated` string holding the formula; every
    formula and every number format other than General is in the grid's ``formulas`` and
    ``formats``.
    """
    names, grids, _calc_mode = read_workbook(path, sheet_names)
    return names, grids


def read_workbook(path: str | Path, sheet_names: Iterable[str] | None = None
                  ) -> tuple[list[str], dict[str, Grid], str | None]:
    """:func:`read_grids`, and the workbook's calculation mode (``calcPr/@calcMode``).

    One pass over each wanted sheet: the scan that checks a sheet's XML also takes its values
    when every cell is one it reads exactly as calamine would (numbers in formats that are
    certainly not dates, plain and rich shared strings, booleans, text results of formulas), in
    order. Any other cell, in any wanted sheet, and calamine reads the workbook as before.
    """
    from ..ooxml.package import open_package
    from ..ooxml.scan import (
        calculation_mode,
        cell_formats,
        cell_reading,
        format_codes,
        guard_for_reader,
        number_formats,
    )

    path = Path(path)
    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
        wanted = names if sheet_names is None else _matching_sheets(names, sheet_names)
        styles = cell_formats(pkg)
        reading = cell_reading(pkg, styles)
        try:
            scans = guard_for_reader(pkg, wanted, reading, codes=format_codes(number_formats(pkg, styles)),
                                     all_or_none=True)
        finally:
            reading.close()
        calc_mode = calculation_mode(pkg)
    grids: dict[str, Grid] = {}
    for name in wanted:
        if (grid := _grid_of_scan(name, scans[name]) if name in scans else None) is None:
            grids = _calamine_grids(path, wanted)
            break
        grids[name] = grid
    else:
        if _CHECK_READER:
            _check_against_calamine(path, wanted, grids)
    for name, grid in grids.items():
        if name in scans:
            _mark_cells(grid, scans[name])
            grid.formulas = scans[name].formulas
            grid.formats = scans[name].formats
    return names, grids, calc_mode


def _grid_of_scan(name: str, scan) -> Grid | None:
    """The sheet's values as calamine gives them: the rectangle from the first to the last cell
    with a value, "" for every empty cell in it. None (calamine reads the workbook) if the scan did
    not take the values, or if its cells are not in order, row by row and left to right, each
    once, as every writer puts them: which of two cells at one place a reader keeps is its own."""
    cells = scan.values
    if cells is None:
        return None
    if not cells:
        return Grid(name=name, values=[], top=0, left=0)
    if scan.uncalculated:  # a formula without a value is in the scan's extent, not in calamine's
        rows_of, cols = [r for r, _c, _v in cells], [c for _r, c, _v in cells]
        top, left, bottom, right = min(rows_of), min(cols), max(rows_of), max(cols)
    else:  # every other cell the scan counts has a value
        top, left, bottom, right = scan.top, scan.left, scan.bottom, scan.right
    width = right - left + 1
    rows = [[""] * width for _ in range(bottom - top + 1)]
    last_row = last_col = -1
    line = rows[0]
    for r, c, v in cells:
        if r != last_row:
            if r < last_row:
                return None
            line, last_row = rows[r - top], r
        elif c <= last_col:
            return None
        line[c - left] = v
        last_col = c
    return Grid(name=name, values=rows, top=top, left=left)


def _calamine_grids(path: Path, wanted: list[str]) -> dict[str, Grid]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        grids = {}
        readable = set(wb.sheet_names)
        for name in wanted:
            if name not in readable:  # e.g. a chart sheet
                continue
            sheet = wb.get_sheet_by_name(name)
            start = sheet.start or (0, 0)
            grids[name] = Grid(name=name, values=sheet.to_python(), top=start[0], left=start[1])
    except (CalamineError, ValueError, OSError) as exc:
        raise NotAWorkbook(f"Arbetsboken kunde inte läsas ({exc})", file=path) from exc
    return grids


# Set XLREPORT_CHECK_READER=1 (the test suite does) and every workbook the scan reads is read by
# calamine too: a value, a type or a sheet's area that differs raises AssertionError.
_CHECK_READER = os.environ.get("XLREPORT_CHECK_READER") == "1"


def _check_against_calamine(path: Path, wanted: list[str], grids: dict[str, Grid]) -> None:
    try:
        theirs = _calamine_grids(path, wanted)
    except NotAWorkbook as exc:
        raise AssertionError(f"{path}: the scan read a workbook calamine refuses ({exc.message})") from exc
    for name in wanted:
        ours, other = grids.get(name), theirs.get(name)
        if other is None or ours is None:
            raise AssertionError(f"{path}: sheet {name!r} read by {'calamine' if other else 'the scan'} only")
        if not other.values and not ours.values:
            continue
        if (ours.top, ours.left, len(ours.values)) != (other.top, other.left, len(other.values)):
            raise AssertionError(f"{path}: sheet {name!r}: the scan's area starts at {ours.top, ours.left} with "
                                 f"{len(ours.values)} rows, calamine's at {other.top, other.left} with "
                                 f"{len(other.values)}")
        for r, (a, b) in enumerate(zip(ours.values, other.values), ours.top):
            if a != b or any(type(x) is not type(y) for x, y in zip(a, b)):
                c = next((c for c, (x, y) in enumerate(zip(a, b)) if x != y or type(x) is not type(y)), len(a))
                got = a[c] if c < len(a) else "(end of row)"
                want = b[c] if c < len(b) else "(end of row)"
                raise AssertionError(f"{path}: sheet {name!r} cell {a1(r, ours.left + c)}: the scan read "
                                     f"{str(got)[:80]!r}, calamine {str(want)[:80]!r}")


def _matching_sheets(names: list[str], wanted: Iterable[str]) -> list[str]:
    """The workbook's own names of the ``wanted`` sheets that exist.

    A name matches exactly or, as the engine matches sheet names, after :func:`layout.norm`
    (case and white space), so a sheet the user retyped as "personal" is still read.
    """

    out = []
    for want in wanted:
        found = want if want in names else next((n for n in names if norm(n) == norm(want)), None)
        if found is not None and found not in out:
            out.append(found)
    return out


def _mark_cells(grid: Grid, scan) -> None:
    """Show error values and uncalculated formulas in the grid, where calamine shows nothing."""
    from ..core.reader import Uncalculated

    marks = {**scan.errors, **{k: Uncalculated(v) for k, v in scan.uncalculated.items()}}
    for (row, col), value in marks.items():
        grid.set(row, col, value, only_if_empty=True)
