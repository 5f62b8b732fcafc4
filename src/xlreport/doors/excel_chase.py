"""The button "Förklaringar att begära": the chase list of the open workbook.

Every check runs on the open workbook (unsaved edits included), as with Kontrollera; the sheet
Kontroller gets the findings and, below them, the section *Förklaringar att begära* (each unit
and income-statement row whose material deviation lacks an explanation, or whose explanations do
not add up), and the cells are marked. When the workbook has been saved in a folder, the same
list is also written as CSV for Excel beside it (``<arbetsbok>_förklaringar.csv``, as
``xlreport chase --csv`` writes it), ready to send to the units. Nothing else is written.

Nothing from :mod:`xlreport.doors.excel` is imported at the top, so that module can register
this button in its ``ENTRY_POINTS`` without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

BUTTON = "forklaringar_att_begara"
CSV_SUFFIX = "_förklaringar.csv"


def csv_target(book) -> Path | None:
    """Where the CSV goes: beside the workbook; None for a workbook never saved in a folder."""
    full = Path(book.fullname)
    if full.parent == Path(".") or not full.parent.is_dir():
        return None
    return full.with_name(full.stem + CSV_SUFFIX)


def forklaringar_att_begara(book=None):
    """Förklaringar att begära: Kontroller with the chase list, the marks, and the CSV beside the workbook."""
    from ..commentary.chase import ChaseResult, write_csv
    from ..core import engine
    from ..core import layout as L
    from ..core.commentary import chase_items
    from ..core.errors import XlreportError
    from .excel import KONTROLLERA, ClickResult, ExcelDoor, _alert, _button, _caller, _screen_paused, _status

    book = _caller(book)
    result = ClickResult(BUTTON)
    with _button(book, result):
        _status(book, "Delårsrapport: letar efter avvikelser som saknar förklaring …")
        door = ExcelDoor(book, result)
        with _screen_paused(book, door.client):
            outcome = engine.process(door, actions=KONTROLLERA.actions)
            result.findings = outcome.findings
            book.sheets[L.SHEET_FINDINGS].activate()
        if outcome.structure_error is not None:
            result.failed = True
            result.message = (f"{outcome.structure_error.message}\nListan kan inte göras; se bladet "
                              f"{L.SHEET_FINDINGS}.")
            _alert(book, result.message, critical=True)
            return result
        items = chase_items(outcome.findings)
        listed = ChaseResult(book.name, status=1 if items else 0, items=items, findings=outcome.findings,
                             owner=outcome.report.meta.enhet or outcome.report.meta.namnd)
        if not items:
            result.message = "Alla väsentliga avvikelser har en förklaring: inget att begära."
            _alert(book, result.message)
            return result
        n = len(items)
        lines = [(f"{n} {'enhet eller rad' if n == 1 else 'enheter eller rader'} med väsentlig avvikelse saknar "
                  f"förklaring eller har förklaringar som inte summerar."),
                 f"Listan står på bladet {L.SHEET_FINDINGS}, under rubriken Förklaringar att begära."]
        target = csv_target(book)
        if target is not None:
            try:
                write_csv([listed], target)
                lines.append(f"Den är också sparad som CSV-fil för Excel:\n{target}")
            except XlreportError as exc:
                lines.append(f"CSV-filen kunde inte skrivas: {exc.message}")
        else:
            lines.append("Spara arbetsboken i en mapp för att också få listan som CSV-fil.")
        result.message = "\n".join(lines)
        _alert(book, result.message)
    return result
