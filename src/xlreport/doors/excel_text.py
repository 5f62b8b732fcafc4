"""The ribbon button "Kontrollera texten": the text the user wrote in the workbook (the sheet
Text or Förvaltningsberättelse, one paragraph per cell) against its tables.

The same check as ``xlreport check-text``, on the open workbook (unsaved edits included): every
check of Kontrollera runs as well, and Kontroller lists both, so the sheet and the marks never
disagree with the last click. The text's contradictions are marked in the text sheet's cells.
Nothing but Kontroller and the marks is written. (Nothing of :mod:`xlreport.doors.excel` is
imported at the top, so that module can register the button without an import cycle.)
"""

from __future__ import annotations


def kontrollera_text(book=None):
    """Kontrollera texten: check the figures of the workbook's text sheet against its tables."""
    from ..core import engine
    from ..core import layout as L
    from ..core.changes import ChangeSet
    from ..core.generate import findings_sheet
    from ..core.narrative import check
    from ..narrative import TEXT_SHEETS, find_text_sheet, grid_paragraphs
    from .excel import (
        ClickResult,
        ExcelDoor,
        _alert,
        _button,
        _caller,
        _screen_paused,
        _status,
        findings_summary,
    )

    book = _caller(book)
    result = ClickResult("kontrollera_texten")
    with _button(book, result):
        _status(book, "Delårsrapport: kontrollerar texten …")
        names = [s.name for s in book.sheets]
        sheet = find_text_sheet(names)
        if sheet is None:
            result.message = (f"Arbetsboken har inget blad med rapportens text ({', '.join(TEXT_SHEETS[:2])}).\n"
                              f"Lägg till bladet {TEXT_SHEETS[0]} och skriv texten där, ett stycke per cell "
                              "(rubriker går bra), och klicka igen.")
            _alert(book, result.message)
            return result
        door = ExcelDoor(book, result)
        names, grids = door.read([*engine.SHEETS, sheet])
        outcome = engine.run(grids, names, actions=())
        text = check(outcome.report, grid_paragraphs(sheet, grids[sheet]))
        result.findings = [*outcome.findings, *text.findings()]
        changes = ChangeSet(sheets=[findings_sheet(result.findings, outcome.report.meta.namnd)],
                            marks=engine.marks(result.findings))
        with _screen_paused(book, door.client):
            door.apply(changes)
            book.sheets[L.SHEET_FINDINGS].activate()
        checked, bad = len(text.checks), len(text.contradictions)
        lines = [f"Texten på bladet {sheet}: {checked} {'siffra' if checked == 1 else 'siffror'} jämfördes med "
                 f"tabellerna; " + ("alla stämmer." if not bad else f"{bad} stämmer inte.")]
        if bad:
            lines.append("De står på bladet Kontroller och cellerna är markerade.")
        if outcome.errors:
            lines.append(f"Tabellerna själva har {findings_summary(outcome.errors, 0).rstrip('.').lower()}, så deras "
                         "siffror kan vara fel: se Kontroller.")
        result.message = "\n".join(lines)
        _alert(book, result.message)
    return result
