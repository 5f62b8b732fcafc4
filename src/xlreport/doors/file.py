"""The file door: run the engine on a workbook on disk and write the result back losslessly."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from ..core.config import DEFAULT, Config
from ..core.engine import ACTIONS, SHEETS, Outcome, run
from ..core.errors import StructureError, XlreportError
from ..core.findings import ERROR, Counted, Finding

OK, FINDINGS, UNPROCESSABLE = 0, 1, 2


@dataclass
class FileResult(Counted):
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


def load(path: str | Path, config: Config = DEFAULT, actions: Collection[str] = ACTIONS) -> Outcome:
    """Read a workbook and run the engine on it; raises XlreportError for a file it cannot use."""
    from ..ooxml.xlsx import read_grids  # the file adapter, imported only by the file door

    names, grids = read_grids(path, SHEETS)
    try:
        return run(grids, names, actions=actions, config=config)
    except StructureError as exc:
        exc.file = str(path)
        raise


def process(path: str | Path, actions: Collection[str] = ACTIONS, *, out: str | Path | None = None,
            write: bool = True, config: Config = DEFAULT) -> FileResult:
    """Check ``path`` and, when it has no errors and ``write`` is set, apply ``actions``.

    Never raises for a user error: an unusable file gives status 2 and a finding that says why.
    """
    started = time.perf_counter()
    result = FileResult(str(path))
    try:
        # Writing runs hold the workbook's lock from reading to writing, so two xlreport
        # processes on the same file never interleave (the second waits, then refuses).
        with _write_lock(Path(out) if out is not None else Path(path), write):
            outcome = load(path, config, actions)
            result.outcome = outcome
            result.findings = outcome.findings
            result.status = FINDINGS if outcome.errors else OK
            if write and outcome.changes and not outcome.errors:
                from ..ooxml.xlsx import apply_changes

                target = Path(out) if out is not None else Path(path)
                summary = apply_changes(path, outcome.changes, out=target)
                result.written = target
                result.cells_written = len(outcome.changes.writes)
                result.sheets_written = [s.name for s in outcome.changes.sheets]
                result.dependent_formulas = summary.dependent_formulas
    except StructureError as exc:
        result.status = UNPROCESSABLE
        result.findings = exc.findings or [_as_finding(exc)]
    except XlreportError as exc:
        result.status = UNPROCESSABLE
        result.findings = [_as_finding(exc)]
    result.seconds = time.perf_counter() - started
    return result


def _write_lock(target: Path, write: bool):
    if not write:
        return contextlib.nullcontext()
    from ..ooxml.xlsx import workbook_lock

    return workbook_lock(target)


def _as_finding(exc: XlreportError) -> Finding:
    return Finding(exc.rule, ERROR, exc.message, exc.sheet, exc.cell)
