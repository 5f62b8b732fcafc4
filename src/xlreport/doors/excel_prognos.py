"""The button "Jämför med förra prognosen": Uppdatera allt, with the prognosis movement since the
previous report's workbook (the file the user picks) on the sheet Rapport.

The same as ``xlreport refresh --previous FÖRRA.xlsx`` on the open workbook (unsaved edits
included): the previous workbook is read from disk by the file door's reader and only read; the
engine compares it (:mod:`xlreport.core.movement`) and refuses one of another nämnd, year or a
later period, or one with errors: then nothing is filled in and no Rapport is written, the
refusal is shown in a message box and on Kontroller.

Nothing from :mod:`xlreport.doors.excel` is imported at the top, so that module can register
this button in its ``ENTRY_POINTS`` without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

BUTTON = "jamfor_prognos"


def jamfor_prognos(fil: str | None = None, book=None):
    """Jämför med förra prognosen: ``fil`` is the previous report's workbook (from the file
    dialog; empty when the user closed it: nothing happens)."""
    from ..core import engine
    from ..core.movement import refused
    from .excel import (
        ALLT,
        ClickResult,
        ExcelDoor,
        _alert,
        _button,
        _caller,
        _final_sheet,
        _screen_paused,
        _status,
        outcome_message,
    )
    from .file import read_previous

    book = _caller(book)
    result = ClickResult(BUTTON)
    if not fil:
        return result
    with _button(book, result):
        _status(book, f"Delårsrapport: läser {Path(fil).name} …")
        previous = read_previous(fil, book.name)
        door = ExcelDoor(book, result)
        with _screen_paused(book, door.client):
            outcome = engine.process(door, actions=ALLT.actions, previous=previous)
            result.findings = outcome.findings
            book.sheets[_final_sheet(ALLT, result, door.active)].activate()
        refusal = next((f for f in outcome.findings if refused([f])), None)
        if refusal is not None:
            result.failed = True
            result.message = (f"{refusal.message}\nInget fylldes i och ingen rapport skrevs; "
                              "meddelandet står också på bladet Kontroller.")
            _alert(book, result.message, critical=True)
            return result
        result.message = outcome_message(ALLT, result, outcome.structure_error is None)
        if outcome.movement is not None:
            result.message = outcome.movement.text() + "\n" + result.message
        _alert(book, result.message)
    return result
