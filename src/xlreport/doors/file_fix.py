"""``xlreport fix``: the safe conversions of :mod:`xlreport.core.fixes` on a workbook on disk.

Under the workbook's lock, from reading to writing: every sheet is read (so the formulas on any
sheet that read a fixed cell get their new cached values), the fixes are planned, and — unless
``dry_run`` — the fixed cells and those cached values are written through the package layer as
``refresh`` writes (atomically, every other part copied byte for byte, refused while Excel has
the workbook open). A text cell that becomes a number becomes a number cell with its style.
Afterwards the fixed workbook is checked as ``validate`` would check it: the exit code says
whether errors are left.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from ..core import layout as L
from ..core.config import DEFAULT, Config
from ..core.errors import FINDINGS, OK, UNPROCESSABLE, StructureError, XlreportError
from ..core.findings import Counted, Finding, error_findings
from ..core.fixes import Fix
from ..records import Record, field


class FixResult(Counted, Record):
    """What ``fix`` did to one file; ``findings`` are what the workbook still has after the fixes."""

    file: str
    dry_run: bool = False
    status: int = OK
    fixes: list[Fix] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # what was not fixed, and why
    findings: list[Finding] = field(default_factory=list)
    cached_values: int = 0  # formulas whose cached value was recomputed and written
    dependent_formulas: int = 0  # formulas that read a fixed cell; Excel recalculates them on open
    written: Path | None = None
    output: Path | None = None  # -o: the file to write instead of the workbook
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"{self.file}: {f.line()}" for f in self.fixes]
        for n in self.notes:
            out.append(f"{self.file}: {n.location()}: rättas inte: {n.message} [{n.rule}]")
        if self.status == UNPROCESSABLE:
            out += [f"{self.file}: {(f.location() + ': ') if f.location() else ''}fel: {f.message} [{f.rule}]"
                    for f in self.findings]
        out.append(self.summary())
        return out

    def summary(self) -> str:
        if self.status == UNPROCESSABLE:
            return f"{self.file}: filen kunde inte behandlas och har inte ändrats."
        n = len(self.fixes)
        cells = f"{n} {'cell' if n == 1 else 'celler'}"
        left = (f"Kvar efter rättningen: {self.errors} fel, {self.warnings} "
                f"{'varning' if self.warnings == 1 else 'varningar'}")
        left += (f"; kör xlreport validate {self.written or self.file} för att se dem." if self.findings else ".")
        if not n:
            unwritten = f" och {self.output} skrevs inte" if self.output is not None else ""
            return f"{self.file}: inget att rätta; arbetsboken har inte ändrats{unwritten}. {left}"
        if self.dry_run:
            return f"{self.file}: {cells} skulle rättas (provkörning: inget skrevs). {left}"
        done = f"{self.file}: rättade {cells} och skrev {self.written}"
        if self.cached_values:
            done += (f" ({self.cached_values} {'formel' if self.cached_values == 1 else 'formler'} som läser "
                     f"cellerna fick nya beräknade värden)")
        return f"{done}. {left}"

    def to_dict(self) -> dict:
        return {"file": self.file, "output": str(self.written) if self.written else None, "dry_run": self.dry_run,
                "status": self.status, "errors": self.errors, "warnings": self.warnings,
                "changes": [{**f.to_dict(), "line": f.line()} for f in self.fixes],
                "cached_values": self.cached_values, "dependent_formulas": self.dependent_formulas,
                "not_fixed": [n.to_dict(self.file) for n in self.notes],
                "findings": [f.to_dict(self.file) for f in self.findings]}


def fix_file(path: str | Path, out: str | Path | None = None, *, dry_run: bool = False,
             config: Config = DEFAULT) -> FixResult:
    """Fix ``path`` in place (or into ``out``); with ``dry_run`` only say what would change.
    Never raises for a user error: an unusable file gives status 2 and a finding that says why."""
    started = time.perf_counter()
    path = Path(path)
    target = Path(out) if out is not None else path
    result = FixResult(str(path), dry_run=dry_run, output=Path(out) if out is not None else None)
    try:
        if not dry_run:
            from ..ooxml.atomic import refuse_unwritable

            refuse_unwritable(target)
        with _lock(target, dry_run):
            _fix(result, path, target, dry_run, config)
    except XlreportError as exc:  # a structure error brings its own findings
        result.status = UNPROCESSABLE
        result.findings = error_findings(exc)
    result.seconds = time.perf_counter() - started
    return result


def _lock(target: Path, dry_run: bool):
    if dry_run:
        return contextlib.nullcontext()
    from ..ooxml.atomic import workbook_lock

    return workbook_lock(target)


def _fix(result: FixResult, path: Path, target: Path, dry_run: bool, config: Config) -> None:
    from ..core import engine
    from ..core.fixes import plan_fixes
    from .file import read_workbook

    if not path.is_file():
        from ..core.errors import NotAWorkbook

        raise NotAWorkbook("Arbetsboken finns inte.", file=path)
    from ..ooxml.package import open_package

    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
    owned = {L.norm(s) for s in L.OWNED_SHEETS}  # rewritten whole by refresh: never read here
    wanted = [n for n in names if L.norm(n) not in owned]
    names, grids, calc_mode = read_workbook(path, wanted)
    try:
        plan = plan_fixes(grids, names, untouchable=array_formula_cells(path, engine.SHEETS), config=config)
        after = engine.run(plan.grids, names, actions=(), config=config, calc_mode=calc_mode)
    except StructureError as exc:
        exc.file = str(path)
        raise
    result.fixes, result.notes, result.findings = plan.fixes, plan.notes, after.findings
    result.status = FINDINGS if result.errors else OK
    if dry_run or not plan.fixes:
        return
    from ..ooxml.apply import apply_changes

    changes = plan.changes()
    summary = apply_changes(path, changes, out=target)
    result.written = target
    result.cached_values = len(changes.writes) - len(plan.fixes)
    result.dependent_formulas = summary.dependent_formulas


class CellRanges:
    """Rectangles of cells, 0-based and inclusive: ``(row, col) in ranges``."""

    def __init__(self) -> None:
        self.rects: list[tuple[int, int, int, int]] = []

    def __contains__(self, cell: object) -> bool:
        r, c = cell  # type: ignore[misc]
        return any(r0 <= r <= r1 and c0 <= c <= c1 for r0, c0, r1, c1 in self.rects)

    def __bool__(self) -> bool:
        return bool(self.rects)


def array_formula_cells(path: str | Path, sheets) -> dict[str, CellRanges]:
    """Per sheet, the cells of array formulas and data tables (the master cell's ``ref``): the
    grids know only each formula's own cell, and none of these cells may be written."""
    from ..core.cells import parse_a1
    from ..ooxml.names import q
    from ..ooxml.package import open_package, part_chunks, pull_parser

    f_tag, row_tag = q("f"), q("row")
    out: dict[str, CellRanges] = {}
    with open_package(path) as pkg:
        for name in sheets:
            info = pkg.sheet(name)
            if info is None or info.kind != "worksheet" or not info.part or not pkg.has(info.part):
                continue
            cells = CellRanges()
            parser = pull_parser(events=("end",))
            for chunk in part_chunks(pkg, info.part, pkg.limits):
                parser.feed(chunk)
                for _, el in parser.read_events():
                    if el.tag == f_tag and el.get("t") in ("array", "dataTable") and el.get("ref"):
                        first, _, last = el.get("ref").partition(":")
                        (r0, c0), (r1, c1) = parse_a1(first), parse_a1(last or first)
                        cells.rects.append((r0, c0, r1, c1))
                    elif el.tag == row_tag:
                        el.clear(keep_tail=False)
            parser.close()
            if cells:
                out[info.name] = cells
    return out
