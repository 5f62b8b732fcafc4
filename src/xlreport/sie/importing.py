"""``xlreport import-sie``: a SIE file into a workbook on disk, written as ``refresh`` writes.

The SIE file is read first (a large file must not hold the workbook's lock), then, under the
workbook's lock from reading to writing: the workbook's grids are read, the import is planned
(:func:`~xlreport.sie.plan.plan_import`) and, only when the import has no errors, its cells are
written into a temporary file beside the target through the package layer (every other part
copied byte for byte), the result is refreshed there (deviations, Rapport, Kontroller, exactly
as ``xlreport refresh``) and renamed over the target in one step. An error of the import leaves
the workbook as it was; rule errors of the workbook after the import are the refresh's findings.
"""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import (
    FINDINGS,
    OK,
    UNPROCESSABLE,
    DepartmentError,
    NotAWorkbook,
    StructureError,
    XlreportError,
)
from ..core.findings import Counted, Finding, error_findings
from ..core.swedish import fmt_number
from ..records import Record, field
from .checks import SIE_FIL, SieError, SieFinding
from .mapping import AccountMap, UnitMap
from .parser import SieFile, _kr, start_reading

if TYPE_CHECKING:  # the planner (and the engine) are imported while the SIE file is being read
    from .plan import ImportPlan


class ImportResult(Counted, Record):
    """What an import did; ``status`` is the exit code (0, 1 or 2)."""

    sie_file: str
    workbook: str
    status: int = OK
    findings: list[Finding] = field(default_factory=list)  # everything to show, in order
    sie: SieFile | None = None
    plan: ImportPlan | None = None
    refresh: object | None = None  # doors.file.FileResult of the refresh
    written: Path | None = None
    seconds: float = 0.0

    # --- output ---------------------------------------------------------------------------------
    def where(self, f: Finding) -> str:
        """ "huvudbok.se: rad 12" or "rapport.xlsx: Resultaträkning!C5"."""
        if isinstance(f, SieFinding):
            file = f.source or self.sie_file
            return f"{file}: rad {f.line}" if f.line is not None else file
        loc = f.location()
        return f"{self.workbook}: {loc}" if loc else self.workbook

    def lines(self) -> list[str]:
        out = [f"{self.where(f)}: {'fel' if f.is_error else 'varning'}: {f.message} [{f.rule}]"
               for f in self.findings]
        sie = self.sie
        if sie is not None:
            what = [f"SIE typ {sie.sietyp}" if sie.sietyp else "SIE", sie.encoding_sv]
            if sie.program:
                what.append(f"från {sie.program_text()}" + (f" {sie.generated()}" if sie.gen else ""))
            if sie.fnamn:
                what.append(sie.fnamn)
            counts = f"{fmt_number(sie.vouchers, 0)} verifikationer, {fmt_number(sie.transactions, 0)} transaktioner"
            out.append(f"Läste {self.sie_file} ({', '.join(what)}): {fmt_number(sie.lines, 0)} rader, {counts}.")
        plan = self.plan
        if plan is not None and plan.sources:
            out.append(f"Perioder: {plan.provenance.periods}." if plan.provenance else
                       "Perioder: " + "; ".join(f"{s.column} {s.span()} ({s.record})" for s in plan.sources) + ".")
        if plan is not None and plan.reconciliation:
            out += _reconciliation_table(plan)
        out.append(self.summary())
        return out

    def summary(self) -> str:
        head = f"{self.workbook}: {self.errors} fel, {self.warnings} {'varning' if self.warnings == 1 else 'varningar'}"
        if self.status == UNPROCESSABLE:
            return head + "; filen kunde inte behandlas och arbetsboken har inte ändrats."
        if self.written is None:
            return head + "; inget skrevs: rätta felen ovan och kör igen."
        plan = self.plan
        sheets = [*plan.sheets, *(s.name for s in plan.changes.sheets)]
        refreshed = list(self.refresh.sheets_written) if self.refresh is not None else []
        parts = f"{plan.cells} celler ({', '.join(sheets)})"
        if refreshed:
            return head + f"; skrev {parts}, avvikelserna och bladen {' och '.join(refreshed)} till {self.written}."
        return head + (f"; skrev {parts} till {self.written}. Arbetsboken har fel efter importen, så avvikelserna "
                       f"och bladet Rapport skrevs inte: rätta felen ovan och kör xlreport refresh.")

    def to_dict(self) -> dict:
        sie, plan = self.sie, self.plan
        doc: dict = {"sie": None, "workbook": self.workbook, "output": str(self.written) if self.written else None,
                     "status": self.status, "errors": self.errors, "warnings": self.warnings}
        if sie is not None:
            doc["sie"] = {"file": self.sie_file, "sha256": sie.sha256, "size": sie.size, "sietyp": sie.sietyp,
                          "program": sie.program_text(), "generated": sie.generated(), "company": sie.fnamn,
                          "encoding": sie.encoding, "lines": sie.lines, "vouchers": sie.vouchers,
                          "transactions": sie.transactions}
        if plan is not None:
            doc["decimals"] = plan.decimals
            doc["periods"] = {s.column: {"record": s.record, "first": s.periods[0], "last": s.periods[-1]}
                              for s in plan.sources}
            doc["reconciliation"] = [r.to_dict() for r in plan.reconciliation]
            doc["provenance"] = plan.provenance.to_dict() if plan.provenance else None
            doc["cells_written"] = plan.cells if self.written else 0
        doc["findings"] = [f.to_dict(self.sie_file if isinstance(f, SieFinding) else self.workbook)
                           for f in self.findings]
        return doc


def _reconciliation_table(plan: ImportPlan) -> list[str]:
    d = plan.decimals
    rows = [("Kolumn", "Konton (kr)", "Intäkter+Kostnader", "Enheter (kr)", "Resultat (mnkr)", "Avrundning (kr)",
             "Summa enheter (mnkr)", "Avrundning (kr)")]
    for r in plan.reconciliation:
        rows.append((r.column, _kr(r.accounts), _kr(r.rows), "–" if r.units is None else _kr(r.units),
                     fmt_number(r.result_mnkr, d), _signed(r.rounding_kr(r.result_mnkr)),
                     "–" if r.units_mnkr is None else fmt_number(r.units_mnkr, d),
                     _signed(r.rounding_kr(r.units_mnkr))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = [f"Avstämning före avrundning (kronor, på öret) och efter avrundning till mnkr med {d} decimaler:"]
    for row in rows:
        text.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                                     enumerate(zip(row, widths))).rstrip())
    return text


def _signed(v: Decimal | None) -> str:
    if v is None:
        return "–"
    return ("+" if v > 0 else "") + _kr(v)


def import_sie(sie_path: str | Path, workbook: str | Path, out: str | Path | None = None, *,
               accounts: AccountMap | str | Path | None = None, units: UnitMap | str | Path | None = None,
               dimension: str = "1", decimals: int | None = None) -> ImportResult:
    """Import ``sie_path`` into ``workbook`` (or write the result to ``out``); never raises for a
    user error: an unusable file gives status 2 and a finding that says why."""
    from ..ooxml.atomic import refuse_unwritable, workbook_lock

    started = time.perf_counter()
    workbook, sie_path = Path(workbook), Path(sie_path)
    target = Path(out) if out is not None else workbook
    result = ImportResult(str(sie_path), str(workbook))
    reading = None
    try:
        refuse_unwritable(target)
        if not workbook.is_file():
            raise NotAWorkbook("Arbetsboken finns inte.", file=workbook)
        reading = start_reading(sie_path)  # a large file: worker processes read it from here on
        accounts, units = AccountMap.load(accounts), UnitMap.load(units)
        from ..doors import file  # noqa: F401
        from ..ooxml import apply  # noqa: F401
        from . import plan  # noqa: F401 - the engine and the package layer, imported meanwhile

        result.sie = reading.result()
        with workbook_lock(target):
            _import(result, workbook, target, accounts, units, dimension, decimals)
    except SieError as exc:
        result.status = UNPROCESSABLE
        result.findings = exc.findings or [SieFinding(SIE_FIL, exc.message)]
    except XlreportError as exc:  # a structure error brings its own findings
        result.status = UNPROCESSABLE
        result.findings = error_findings(exc)
    finally:
        if reading is not None:
            reading.close()
    result.seconds = time.perf_counter() - started
    return result


def _import(result: ImportResult, workbook: Path, target: Path, accounts, units, dimension, decimals) -> None:
    from ..core.changes import ChangeSet
    from ..core.engine import ACTIONS
    from ..doors.file import process, read_grids
    from ..ooxml.apply import apply_changes
    from ..ooxml.atomic import atomic_output
    from .plan import SIE_SHEETS, plan_import

    names, grids = read_grids(workbook, SIE_SHEETS)
    try:
        plan = plan_import(result.sie, grids, names, accounts=accounts, units=units, dimension=dimension,
                           decimals=decimals, insert_rows=True)
    except StructureError as exc:
        exc.file = str(workbook)
        raise
    result.plan = plan
    result.findings = list(plan.findings)
    if plan.errors:
        result.status = FINDINGS
        return
    with contextlib.ExitStack() as stack:
        edit = _rows_inserted(stack, workbook, plan)
        if edit is None and plan.without_inserts is not None:  # no rows for the entry: refused as without them
            plan.findings.append(plan.without_inserts)
            plan.changes = ChangeSet()
            result.findings.append(plan.without_inserts)
            result.status = FINDINGS
            return
        with atomic_output(target, target.suffix or ".xlsx") as tmp:
            if edit is not None:
                edit.write(tmp)
            apply_changes(tmp if edit is not None else workbook, plan.changes, out=tmp)
            refreshed = process(tmp, ACTIONS, write=True)
            refreshed.file = str(target)
            if refreshed.status == UNPROCESSABLE:  # what was just written cannot be read: keep the original
                raise XlreportError(f"Resultatet kunde inte kontrolleras ({refreshed.findings[0].message}); "
                                    f"arbetsboken har inte ändrats.", file=target)
    result.refresh = refreshed
    result.findings += refreshed.findings
    result.status = refreshed.status
    result.written = target


def _rows_inserted(stack: contextlib.ExitStack, workbook: Path, plan: ImportPlan):
    """The workbook opened for an edit with :attr:`ImportPlan.inserts` made (kept open on
    ``stack``), or None when there are none or a sheet refuses them (drawings, comments, tables)."""
    from ..ooxml.edit import PackageEdit
    from ..ooxml.rows import insert_rows

    if not plan.inserts:
        return None
    edit = stack.enter_context(PackageEdit.opened(workbook))
    try:
        for sheet, before, n, style_from in plan.inserts:
            insert_rows(edit, sheet, before, n, style_from)
    except DepartmentError:
        return None
    return edit
