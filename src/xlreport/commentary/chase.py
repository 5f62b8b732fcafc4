"""``xlreport chase``: the list of explanations central finance asks the units for.

Each workbook (files, folders and globs, as ``validate`` takes them) is read and checked by the
engine, without writing anything; its chase list is the findings of the group ``forklaringar``
that concern a unit or an income-statement row (:mod:`xlreport.core.commentary`). The list is
printed, or written as CSV for Excel: semicolon separated, UTF-8 with a byte-order mark (so
Excel shows å, ä, ö), the decimal comma and the hyphen-minus, so Swedish Excel reads the
figures as numbers. A workbook that cannot be checked is a line of its own: it has to be
chased as a whole.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.commentary import STATUS_SV, ChaseItem, chase_items, csv_number, item_line
from ..core.errors import XlreportError
from ..core.findings import Counted, Finding, error_findings
from ..records import Record, field

CSV_HEADER = ("Fil", "Enhet", "Rad", "Cell", "Avvikelse helår (mnkr)", "Avvikelse ack (mnkr)", "Status",
              "Vad saknas")
NOT_CHECKED = "Kunde inte kontrolleras"


class ChaseResult(Counted, Record):
    """One workbook's chase list."""

    file: str
    status: int = 0  # 0 nothing to ask for, 1 explanations to ask for, 2 the file could not be checked
    owner: str | None = None  # Uppgifter's Enhet (or Nämnd): whose workbook it is
    items: list[ChaseItem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # every finding of the check
    problem: Finding | None = None  # why the file could not be checked

    def lines(self) -> list[tuple[str, str, str, str, float | None, float | None, str, str]]:
        """(file, unit, row, cell, helår, ack, status, what) for each line of the list."""
        if self.problem is not None:
            where = f"{self.problem.sheet}!{self.problem.cell}" if self.problem.sheet and self.problem.cell else ""
            return [(self.file, self.owner or "", "", where, None, None, NOT_CHECKED, self.problem.message)]
        out = []
        for item in self.items:
            unit_row = item.table == L.SHEET_UNITS
            unit = item.unit if unit_row else (self.owner or "")
            row = item.table if unit_row else f"{item.table}: {item.unit}"
            out.append((self.file, unit, row, f"{item.sheet}!{item.cell}", item.avvikelse_helar, item.avvikelse_ack,
                        STATUS_SV[item.status], item.missing))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "enhet": self.owner,
                "items": [i.to_dict() for i in self.items],
                "problem": self.problem.to_dict(self.file) if self.problem is not None else None}


def chase_file(path: str | Path) -> ChaseResult:
    """The chase list of one workbook; never raises for a user error (the file is only read)."""
    from ..core.engine import SHEETS, run
    from ..doors.file import read_grids

    result = ChaseResult(str(path))
    try:
        names, grids = read_grids(path, SHEETS)
        outcome = run(grids, names, actions=())
    except XlreportError as exc:
        result.status = 2
        result.problem = error_findings(exc)[0]
        result.findings = [result.problem]
        return result
    meta = outcome.report.meta
    result.owner = meta.enhet or meta.namnd
    result.findings = outcome.findings
    result.items = chase_items(outcome.findings)
    result.status = 1 if result.items else 0
    return result


def chase(paths) -> list[ChaseResult]:
    """:func:`chase_file` for every workbook of ``paths`` (files, folders, globs)."""
    from ..batch import expand

    return [chase_file(p) for p in expand(paths)]


def csv_text(results: list[ChaseResult]) -> str:
    """The chase list as CSV text (the header and one row per line; the BOM is the writer's)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(CSV_HEADER)
    for r in results:
        for file, unit, row, cell, helar, ack, status, what in r.lines():
            w.writerow((_text(file), _text(unit), _text(row), cell, csv_number(helar), csv_number(ack), status,
                        _text(what)))
    return buf.getvalue()


def _text(value: str) -> str:
    """A text field as Excel opens it: one that begins like a formula (a unit named "=1+1",
    "+46 ...", "@...") gets an apostrophe first, so Excel shows it instead of running it."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_csv(results: list[ChaseResult], target: str | Path) -> Path:
    """Write the CSV to ``target`` atomically (refused while Excel has it open)."""
    from ..ooxml.atomic import atomic_output, refuse_unwritable

    target = Path(target)
    refuse_unwritable(target)
    if not target.parent.is_dir():
        raise XlreportError(f"Mappen {target.parent} finns inte; CSV-filen skrevs inte.", file=target)
    with atomic_output(target, ".csv") as tmp:
        tmp.write_bytes(csv_text(results).encode("utf-8-sig"))
    return target


def text_lines(results: list[ChaseResult]) -> list[str]:
    """The list for the console: one line per unit or row, a file that could not be checked as one line."""
    out = []
    for r in results:
        if r.problem is not None:
            out.append(f"{r.file}: {NOT_CHECKED.lower()}: {r.problem.message}")
        for item in r.items:
            out.append(f"{r.file}: {item_line(item)}")
    return out


def summary(results: list[ChaseResult]) -> str:
    n = sum(len(r.items) for r in results)
    files = sum(1 for r in results if r.items)
    bad = sum(1 for r in results if r.status == 2)
    text = (f"{n} {'förklaring' if n == 1 else 'förklaringar'} att begära i {files} av {len(results)} "
            f"{'fil' if len(results) == 1 else 'filer'}")
    return text + (f"; {bad} {'fil' if bad == 1 else 'filer'} kunde inte kontrolleras." if bad else ".")
