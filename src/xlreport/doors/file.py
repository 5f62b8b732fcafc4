"""The file door: the engine on a workbook on disk, the result written back losslessly."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from ..core import engine
from ..core.changes import ChangeSet
from ..core.config import DEFAULT, Config
from ..core.engine import ACTIONS, Outcome
from ..core.errors import FINDINGS, OK, UNPROCESSABLE, StructureError, XlreportError
from ..core.findings import ERROR, Counted, Finding


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

    def read(self, sheets):
        from ..ooxml.xlsx import read_grids  # imported only by the file door

        return read_grids(self.path, sheets)

    def apply(self, changes: ChangeSet):
        if not self.write:
            return None
        from ..ooxml.xlsx import apply_changes

        return apply_changes(self.path, changes, out=self.target)


def load(path: str | Path, config: Config = DEFAULT, actions: Collection[str] = ACTIONS) -> Outcome:
    """Read a workbook and run the engine on it (nothing is written); raises XlreportError for
    a file it cannot use."""
    return _process(FileDoor(path, write=False), actions, config)


def _process(door: FileDoor, actions: Collection[str], config: Config) -> Outcome:
    try:
        return engine.process(door, actions=actions, config=config)
    except StructureError as exc:
        exc.file = str(door.path)
        raise


def process(path: str | Path, actions: Collection[str] = ACTIONS, *, out: str | Path | None = None,
            write: bool = True, config: Config = DEFAULT) -> FileResult:
    """Check ``path`` and, when it has no errors and ``write`` is set, apply ``actions``.

    Never raises for a user error: an unusable file gives status 2 and a finding that says why.
    """
    started = time.perf_counter()
    result = FileResult(str(path))
    door = FileDoor(path, out, write=write)
    try:
        # Writing runs hold the workbook's lock from reading to writing, so two xlreport
        # processes on the same file never interleave (the second waits, then refuses).
        with _write_lock(door.target, write):
            outcome = _process(door, actions, config)
            result.outcome = outcome
            result.findings = outcome.findings
            result.status = FINDINGS if outcome.errors else OK
            if outcome.applied is not None:
                result.written = door.target
                result.cells_written = len(outcome.changes.writes)
                result.sheets_written = [s.name for s in outcome.changes.sheets]
                result.dependent_formulas = outcome.applied.dependent_formulas
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
