"""The button "Rätta det som går": the fixes of ``xlreport fix`` on the open workbook.

The same plan as the command (:func:`xlreport.core.fixes.plan_fixes`) on the open workbook's
values (unsaved edits included): the fixed cells are written in bulk through the Excel door
(numbers as numbers, keeping each cell's format), and Kontroller and the marks are written from
the fixed values, so a fixed cell loses its mark at once. Excel recalculates the formulas that
read the fixed cells itself. A message lists what was changed (the first lines and the count)
and what could not be fixed, and why. The workbook is never saved.

Where the door cannot see the cells' formulas (xlwings' remote engine: Excel on the web) a plan
that cleans names is only shown, not written: a unit name that is a formula (=Uppgifter!A18)
would otherwise be replaced by its text.

Nothing from :mod:`xlreport.doors.excel` is imported at the top, so that module can register
this button in its ``ENTRY_POINTS`` without an import cycle.
"""

from __future__ import annotations

BUTTON = "ratta_det_som_gar"
#: How many changes (and how many things not fixed) the message lists by name.
SHOWN = 12


def ratta_det_som_gar(book=None):
    """Rätta det som går: numbers stored as text, invisible characters in names, sick leave
    stored as a fraction where its column proves it; never a formula."""
    from ..core import engine
    from ..core.changes import ChangeSet
    from ..core.errors import StructureError
    from ..core.fixes import TEXT, plan_fixes
    from .excel import ClickResult, ExcelDoor, _alert, _button, _caller, _screen_paused, _status, read_grids

    book = _caller(book)
    result = ClickResult(BUTTON)
    with _button(book, result):
        _status(book, "Delårsrapport: rättar …")
        names, grids = read_grids(book)
        _text_cell_formats(book, grids)
        try:
            plan = plan_fixes(grids, names)
        except StructureError as exc:
            result.failed = True
            result.message = (f"Arbetsboken följer inte mallen och kunde inte läsas: {exc.message}\n"
                              "Inget har ändrats. Klicka på Kontrollera för att se vad som saknas.")
            _alert(book, result.message, critical=True)
            return result
        if book.app.engine.name == "remote" and any(f.kind == TEXT for f in plan.fixes):
            # This engine cannot see the cells' formulas: a name that is a formula (=Uppgifter!A18)
            # would be replaced by its text. Numbers stored as text are errors either way.
            result.message = names_unseen_message(plan)
            _alert(book, result.message)
            return result
        door = ExcelDoor(book, result)
        outcome = engine.run(plan.grids, names, actions=(), interactive=True)  # Kontroller and marks, fixed
        changes = ChangeSet(writes=[f.write() for f in plan.fixes])
        changes.extend(outcome.changes)
        with _screen_paused(book, door.client):
            door.apply(changes)
            result.cells_written = len(plan.fixes)
            result.findings = outcome.findings
            book.sheets[door.active].activate()
        result.message = fix_message(plan, result)
        _alert(book, result.message)
    return result


def names_unseen_message(plan) -> str:
    """The message when the names would be cleaned where the cells' formulas cannot be seen."""
    n = len(plan.fixes)
    lines = [(f"Det finns {n} {'cell' if n == 1 else 'celler'} att rätta, bland dem namn med osynliga tecken "
              "eller extra mellanslag:")]
    lines += [f"• {f.line()}" for f in plan.fixes[:SHOWN]]
    if n > SHOWN:
        lines.append(f"… och {n - SHOWN} till.")
    lines += ["", ("Här (Excel på webben) kan tillägget inte se cellernas formler, och ett namn som är en formel "
                   "skulle ersättas av sin text. Inget har ändrats. Klicka på knappen i Excel på datorn, eller kör "
                   "xlreport fix på den sparade arbetsboken.")]
    return "\n".join(lines)


def fix_message(plan, result) -> str:
    """The message box text: what was changed, what could not be, and what is left."""
    from .excel import findings_summary

    n = len(plan.fixes)
    if n:
        lines = [f"Rättade {n} {'cell' if n == 1 else 'celler'}:"]
        lines += [f"• {f.line()}" for f in plan.fixes[:SHOWN]]
        if n > SHOWN:
            lines.append(f"… och {n - SHOWN} till.")
    else:
        lines = [("Inget att rätta: inga tal sparade som text, osynliga tecken i namnen eller andelar i stället "
                  "för procent.")]
    if plan.notes:
        k = len(plan.notes)
        lines += ["", f"Kunde inte rättas ({k}):"]
        lines += [f"• {note.location()}: {note.message}" for note in plan.notes[:SHOWN]]
        if k > SHOWN:
            lines.append(f"… och {k - SHOWN} till.")
    lines += ["", "Nu: " + findings_summary(result.errors, result.warnings)]
    if result.findings:
        lines.append("Det som är kvar är markerat och listat på bladet Kontroller.")
    if n:
        lines.append("Excels Ångra kan inte ta tillbaka det som tillägget skrev.")
    lines.append("Arbetsboken är inte sparad; spara den när du är nöjd.")
    return "\n".join(lines)


def _text_cell_formats(book, grids) -> None:
    """The number formats of the text cells on Sjukfrånvaro (the door reads those of its numbers
    only): a text '2,5' in a percent-formatted cell is written as 0.025, so that it shows 2,5 %."""
    from ..core import layout as L
    from .excel import _number_formats

    for name, grid in grids.items():
        if L.norm(name) != L.norm(L.SHEET_SICK):
            continue
        cells = [(r, c) for r, c, v in grid.cells() if isinstance(v, str)]
        if cells:
            grid.formats.update(_number_formats(book.sheets[name], cells))
