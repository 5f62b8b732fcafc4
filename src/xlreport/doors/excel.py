"""The Excel door: one function per ribbon button, run by the add-in through xlwings.

Each button gets the calling workbook (``xw.Book.caller()``; tests pass ``book=``), reads every
sheet in :data:`xlreport.core.engine.SHEETS` with one range read, runs the engine, and applies the
result with a number of calls to Excel that does not grow with the number of rows or units:

* deviation formulas: one ``.formula`` write per run of consecutive cells in a column;
* the owned sheets (``Rapport``, ``Kontroller``): cleared, then one ``.formula`` write for the
  whole block (a cell with a link becomes a ``HYPERLINK`` formula, so links cost no extra
  call), then one call per format attribute and rectangle of cells that share it, one per
  run of columns of the same width, one to give every row back its automatic height, and one
  per run of neighbouring rows of the same height (the rows of wrapped text that need more
  than one line: the table headers, and on Kontroller the long messages);
* highlights: one ``set_colors`` call per sheet that has or had marked cells, and one defined
  name per sheet and previous fill (see below).

The workbook is never saved or closed. When the workbook has errors, nothing is filled in and
no Rapport is written, but the Kontroller sheet and the highlights are, so the user sees why.
Kontroller and the highlights always show every finding, whichever button was clicked
("Kontrollera personal" only words its message around the staff sheets).

**Highlights keep the fills they cover.** Before a cell is coloured, its own fill (the
template's yellow input or grey formula fill, or the user's colour) is remembered in the
workbook: a sheet-scoped defined name per previous fill, ``_xlreport_fyllning_FFF2CC`` (or
``_xlreport_fyllning_ingen`` for no fill), refers to the marked cells that had it. Excel keeps
the names pointing at the same cells when rows are inserted or deleted. When a finding is gone,
its cell gets that fill back; cells the tool never marked are never touched. The previous fill
is read from the cell where the engine can read fills (desktop Excel); where it cannot (the
remote engine: its payload carries no formats) it is the template's fill for the same place
(the same row label and column header in the template that ships with the package).

**One click, one handshake.** The ribbon calls :func:`klick` with the button and the versions
of the add-in and of its xlwings VBA module; a click from an add-in that does not belong to
this Python package gets one Swedish message with the fix, and nothing else happens.

**Every client.** On the remote engine the door sends only the actions the calling xlwings
client implements (:data:`LEGACY_CLIENT_ACTIONS` for the VBA, Office Scripts and Google Apps
Script clients that ship with xlwings; everything for Office.js and the desktop engines), and
every message is a message box, never the status bar alone (some clients have none).
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.cells import CellRef, Grid, col_letter, parse_a1, quote_sheet
from ..core.changes import Cell, CellWrite, Mark, SheetContent
from ..core.findings import ERROR, WARNING, Counted, Finding, error_findings
from ..core.styles import SPECS, StyleSpec
from ..records import Record, field
from .excel_chase import forklaringar_att_begara
from .excel_fix import ratta_det_som_gar
from .excel_prognos import jamfor_prognos
from .excel_text import kontrollera_text

TITLE = "Delårsrapport"
MARK_NAME = "_xlreport_markerade"  # versions before the fill memory: the marked cells, fill unknown
FILL_NAME = "_xlreport_fyllning_"  # + RRGGBB or NO_FILL: marked cells that had that fill before
NO_FILL = "ingen"
MAX_MARKS_PER_SHEET = 250  # keeps each defined name's formula well under Excel's 8192 characters
FILL = {ERROR: "#FFC7CE", WARNING: "#FFEB9C"}  # Excel's "Bad" and "Neutral" fills
LOG_FILE = Path(tempfile.gettempdir()) / "xlreport-excel-fel.log"
SET_COLORS_MAX_CELLS = 10_000  # xlwings' limit for one Range.set_colors call

# The style specification (core.styles) as attributes set on ranges. xlwings has no font
# underline on every engine, so a link is told by its colour alone here.
EXCEL_UNRENDERED = frozenset({"underline"})


def excel_attributes(spec: StyleSpec) -> dict[str, Any]:
    """The xlwings range attributes that render ``spec``."""
    out: dict[str, Any] = {}
    if spec.number_format:
        out["number_format"] = spec.number_format
    if spec.bold:
        out["bold"] = True
    if spec.size:
        out["size"] = spec.size
    if spec.color:
        out["font_color"] = "#" + spec.color[-6:]
    if spec.bottom_border:
        out["bottom_border"] = True
    if spec.wrap:
        out["wrap"] = True
    return out


STYLE_ATTRIBUTES: dict[str, dict[str, Any]] = {name: excel_attributes(spec) for name, spec in SPECS.items()}


# --- the buttons --------------------------------------------------------------------------

class Button(Record, frozen=True):
    name: str
    actions: tuple[str, ...]  # engine actions: "fill", "generate"
    focus: str | None = None  # the findings the message is about: None (all) or engine.STAFF
    shows_findings: bool = False  # ends on the Kontroller sheet


class ClickResult(Counted, Record):
    """What one click did; returned for tests and benchmarks (RunPython ignores it)."""

    button: str
    findings: list[Finding] = field(default_factory=list)
    cells_written: int = 0
    sheets_written: list[str] = field(default_factory=list)
    cells_marked: int = 0
    message: str = ""
    seconds: float = 0.0
    failed: bool = False


KONTROLLERA = Button("kontrollera", (), shows_findings=True)
BERAKNA = Button("berakna_avvikelser", ("fill",))
PERSONAL = Button("kontrollera_personal", (), focus="personal", shows_findings=True)
RAPPORT = Button("skapa_rapport", ("generate",))
ALLT = Button("uppdatera_allt", ("fill", "generate"))


def klick(button: str, addin: str | None = None, xlwings_vba: str | None = None, book=None, *,
          fil: str | None = None, sie: str | None = None) -> ClickResult:
    """What every ribbon button calls: ``button`` is the name of the door function, ``addin``
    and ``xlwings_vba`` the versions of the add-in and of its xlwings VBA module; ``fil`` the
    file the user picked in the button's file dialog (the buttons in :data:`FILE_BUTTONS`), ``""``
    when the dialog was closed. ``sie`` is the same, as add-ins before 0.3 send it."""
    book = _caller(book)
    if button == "om_xlreport":
        return om_xlreport(book, addin=addin, xlwings_vba=xlwings_vba)
    problem = handshake(addin, xlwings_vba)
    entry = ENTRY_POINTS.get(button)
    if problem is None and entry is None:  # a button this Python does not know: the add-in is newer
        problem = mismatch_message(addin or "okänd", [f"Knappen '{button}' finns inte i den här versionen."])
    if problem is not None:
        result = ClickResult(button, message=problem, failed=True)
        _alert(book, problem, critical=True)
        return result
    if button in FILE_BUTTONS:
        return entry(fil if fil is not None else sie, book=book)
    return entry(book=book)


def handshake(addin: str | None, xlwings_vba: str | None) -> str | None:
    """None when the add-in and its xlwings VBA module belong to this Python package; else the
    one Swedish message that says so and how to fix it. (None for a version not sent.)"""
    from .. import __version__

    notes = []
    if addin is not None and addin != __version__:
        notes.append(f"Tillägget är version {addin} men xlreport i Python är version {__version__}.")
    if xlwings_vba is not None:
        import xlwings

        if xlwings_vba != xlwings.__version__:
            notes.append(f"Tilläggets xlwings-modul är version {xlwings_vba} men xlwings i Python är "
                         f"version {xlwings.__version__}.")
    return mismatch_message(addin or "okänd", notes) if notes else None


def mismatch_message(addin: str, notes: list[str]) -> str:
    return ("Tillägget Delårsrapport och xlreport i Python hör inte ihop. " + " ".join(notes) + "\n\n"
            "Så rättar du det: kör install.cmd i installationsmappen från IT igen, eller skriv "
            "xlreport addin install i ett kommandofönster. Starta sedan om Excel.\n"
            "Inget i arbetsboken har ändrats.")


def kontrollera(book=None) -> ClickResult:
    """Kontrollera: run every check, list the findings on Kontroller and mark their cells."""
    return click(KONTROLLERA, book)


def berakna_avvikelser(book=None) -> ClickResult:
    """Beräkna avvikelser: fill the deviation columns with formulas (when there are no errors)."""
    return click(BERAKNA, book)


def kontrollera_personal(book=None) -> ClickResult:
    """Kontrollera personal: every check (Kontroller and the marks show all findings), the
    message about the staff and sick-leave sheets."""
    return click(PERSONAL, book)


def skapa_rapport(book=None) -> ClickResult:
    """Skapa rapport: write the Rapport and Kontroller sheets (when there are no errors)."""
    return click(RAPPORT, book)


def uppdatera_allt(book=None) -> ClickResult:
    """Uppdatera allt: check, fill the deviations and write both report sheets."""
    return click(ALLT, book)


@contextlib.contextmanager
def _button(book, result: ClickResult, *, give_back_status: bool = True):
    """The frame of every button: any failure ends in a Swedish message (never a traceback),
    the status bar is given back (unless the button leaves its message there), and the click
    is timed."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure ends in a Swedish message, never a traceback
        _report_failure(book, result, exc)
    finally:
        if give_back_status:
            _status(book, False)
        result.seconds = time.perf_counter() - started


def nasta_fynd(book=None) -> ClickResult:
    """Nästa fynd: select the next cell with a finding after the current selection, and say
    what it is (a message box: the status bar alone is missing on some clients)."""
    book = _caller(book)
    result = ClickResult("nasta_fynd")
    with _button(book, result, give_back_status=False):  # the finding stays on the status bar
        result.findings = _findings(book)
        target = next_finding(result.findings, _sheet_order(book), _selected(book))
        if target is None:
            result.message = "Inga fynd att visa: arbetsboken har inga fel och inga varningar."
        else:
            finding, ref = target
            sheet = book.sheets[ref.sheet]
            sheet.activate()
            sheet.range(ref.a1).select()
            kind = "Fel" if finding.is_error else "Varning"
            result.message = f"{kind} i {finding.location()}: {finding.message}"
            _status(book, result.message)
        _alert(book, result.message)
    return result


def exportera_rapport(book=None) -> ClickResult:
    """Exportera rapport: the report as a Word file beside the workbook, made from the open
    workbook (unsaved edits included) by the export of ``xlreport export``; the workbook is
    not changed."""
    from ..core import engine
    from ..export import export_report

    book = _caller(book)
    result = ClickResult("exportera_rapport")
    with _button(book, result):
        _status(book, "Delårsrapport: skriver Word-filen …")
        names, grids = read_grids(book)
        outcome = engine.run(grids, names, actions=())
        result.findings = outcome.findings
        if result.errors:
            result.message = (findings_summary(result.errors, result.warnings) + "\nIngen rapport skrevs, eftersom "
                              "arbetsboken har fel. Klicka på Kontrollera för att se dem, rätta dem och klicka igen.")
        else:
            target = export_target(book)
            export_report(outcome.report, outcome.findings, docx=target)
            result.message = f"Rapporten är sparad som Word-fil:\n{target}"
        _alert(book, result.message)
    return result


def export_target(book) -> Path:
    """Where "Exportera rapport" writes: the workbook's name with .docx, in its folder (the
    home folder for a workbook that has never been saved)."""
    full = Path(book.fullname)
    folder = full.parent if full.parent != Path(".") and full.parent.is_dir() else Path.home()
    return folder / (full.stem + ".docx")


def om_xlreport(book=None, *, addin: str | None = None, xlwings_vba: str | None = None) -> ClickResult:
    """Om xlreport: the Python in use, the versions of xlreport, the add-in and xlwings, and the
    workbook's template version; a mismatch is named with its fix."""
    book = _caller(book)
    result = ClickResult("om_xlreport")
    try:
        result.message = about_text(book, addin, xlwings_vba)
        _alert(book, result.message)
    except Exception as exc:  # noqa: BLE001 - every failure ends in a Swedish message, never a traceback
        _report_failure(book, result, exc)
    return result


def about_text(book, addin: str | None, xlwings_vba: str | None) -> str:
    import platform

    import xlwings

    from .. import __version__
    from ..departments.common import version_of

    _, grids = read_grids(book, [L.SHEET_META])
    template = version_of(next(iter(grids.values()), None))
    lines = [f"xlreport {__version__}",
             f"Tillägget: version {addin or 'okänd'}",
             f"xlwings: {xlwings.__version__} (tilläggets VBA-modul: {xlwings_vba or 'okänd'})",
             f"Python {platform.python_version()}: {sys.executable}",
             (f"Arbetsboken {book.name}: mallversion {template or 'saknas'} "
              f"(den här versionen av xlreport skriver mallversion {L.TEMPLATE_VERSION}).")]
    problem = handshake(addin, xlwings_vba)
    return "\n".join(lines) + ("\n\n" + problem if problem else "")


def hamta_sie(sie: str | None = None, book=None) -> ClickResult:
    """Hämta från SIE-fil: the ledger's figures into the open workbook (the import of
    ``xlreport import-sie``, planned on the open workbook's values), then Uppdatera allt.

    ``konton.csv`` and ``enheter.csv`` beside the workbook are used as the mapping files when
    they are there. With an import error nothing is written but Kontroller and the marks."""
    from ..core import engine
    from ..core.changes import ChangeSet
    from ..core.engine import marks
    from ..core.generate import findings_sheet
    from ..sie.checks import SieError
    from ..sie.plan import SIE_SHEETS, plan_import
    from .memory import MemoryDoor

    book = _caller(book)
    result = ClickResult("hamta_sie")
    if not sie:  # the user closed the file dialog: nothing to do
        return result
    with _button(book, result):
        _status(book, "Delårsrapport: läser SIE-filen …")
        folder = export_target(book).parent
        names, grids = read_grids(book, SIE_SHEETS)
        try:
            plan = plan_import(sie, grids, names, accounts=_beside(folder, "konton.csv"),
                               units=_beside(folder, "enheter.csv"))
        except SieError as exc:  # the file and the line it is about, and nothing written
            result.failed, result.message = True, f"{exc}\nInget hämtades; arbetsboken är oförändrad."
            _alert(book, result.message, critical=True)
            return result
        result.findings = list(plan.findings)
        door = ExcelDoor(book, result)
        if plan.errors:
            with _screen_paused(book, door.client):
                door.apply(ChangeSet(sheets=[findings_sheet(plan.findings, None)], marks=marks(plan.findings)))
                book.sheets[L.SHEET_FINDINGS].activate()
            result.message = (findings_summary(result.errors, result.warnings) + f"\nInget hämtades från "
                              f"{Path(sie).name}. Felen står på bladet Kontroller, med raden i SIE-filen.")
        else:
            # The refresh runs on the imported values in memory: an engine that sends its writes
            # back to Excel only when the call ends (the remote one) would not show them to a
            # second read. Excel then gets the import and the refresh in one apply.
            imported = MemoryDoor(grids, names, interactive=True)
            imported.apply(plan.changes)
            outcome = engine.process(imported, actions=ALLT.actions)
            changes = ChangeSet()
            changes.extend(plan.changes)
            changes.extend(outcome.changes)
            with _screen_paused(book, door.client):
                door.apply(changes)
                result.findings = outcome.findings
                book.sheets[_final_sheet(ALLT, result, door.active)].activate()
            result.message = (f"Utfall och budget är hämtade från {Path(sie).name}.\n"
                              + outcome_message(ALLT, result, outcome.structure_error is None))
        _alert(book, result.message)
    return result


def _beside(folder: Path, name: str) -> Path | None:
    return folder / name if (folder / name).is_file() else None


def click(button: Button, book=None) -> ClickResult:
    """Run one button on ``book`` (the calling workbook when None)."""
    from ..core import engine

    book = _caller(book)
    result = ClickResult(button.name)
    with _button(book, result):
        _status(book, "Delårsrapport: läser arbetsboken …")
        door = ExcelDoor(book, result)
        with _screen_paused(book, door.client):
            outcome = engine.process(door, actions=button.actions)
            result.findings = outcome.findings
            book.sheets[_final_sheet(button, result, door.active)].activate()
        result.message = outcome_message(button, result, outcome.structure_error is None)
        _alert(book, result.message)
    return result


class ExcelDoor:
    """The engine's door to an open workbook: one range read per sheet, bulk writes.

    Interactive: the engine gives it Kontroller and the cells to mark even when the workbook
    has errors (but then nothing else), so the user sees why."""

    interactive = True

    def __init__(self, book, result: ClickResult | None = None):
        self.book = book
        self.result = result if result is not None else ClickResult("")
        self.active = _active_sheet_name(book)
        self.client = Client.of(book)
        self.grids: dict[str, Grid] = {}

    def read(self, sheets):
        names, self.grids = read_grids(self.book, sheets)
        return names, self.grids

    def apply(self, changes) -> ClickResult:
        _status(self.book, "Delårsrapport: skriver resultatet …")
        if changes.writes:
            write_deviations(self.book, changes.writes, self.client)
        self.result.cells_written = len(changes.writes)
        for content in changes.sheets:
            write_owned_sheet(self.book, content, self.client)
        self.result.sheets_written = [s.name for s in changes.sheets]
        if changes.marks is not None:
            self.result.cells_marked = mark_findings(self.book, changes.marks, self.client, self.grids)
        return self.result


# --- what the calling client can do -----------------------------------------------------

#: The actions the VBA client (``xlwings/addin/Remote.bas``), the Office Scripts client
#: (``xlwings/js/xlwings.ts``) and the Google Apps Script client (``xlwings/js/xlwings.js``)
#: implement, as shipped with xlwings (tests/test_excel.py checks this against their sources).
LEGACY_CLIENT_ACTIONS = frozenset({
    "setValues", "rangeClearContents", "rangeClearFormats", "rangeClear", "addSheet", "setSheetName",
    "setAutofit", "setRangeColor", "activateSheet", "addHyperlink", "setNumberFormat", "setPictureName",
    "setPictureHeight", "setPictureWidth", "deletePicture", "addPicture", "updatePicture", "alert",
    "setRangeName", "namesAdd", "nameDelete", "runMacro", "rangeDelete", "rangeInsert", "rangeSelect",
    "addTable", "setTableName", "resizeTable", "showAutofilterTable", "showHeadersTable", "showTotalsTable",
    "setTableStyle", "copyRange", "sheetDelete", "sheetClear", "sheetClearContents", "sheetClearFormats",
})
#: The payload's ``client`` of those three clients.
LEGACY_CLIENTS = ("VBA", "Microsoft Office Scripts", "Google Apps Script")


class Client(Record, frozen=True):
    """Which actions the door may send: None means all (desktop engines, and Office.js, the
    client xlwings' remote engine is made for); otherwise only those in ``actions``."""

    name: str
    actions: frozenset[str] | None = None

    @classmethod
    def of(cls, book) -> Client:
        engine = getattr(getattr(book.app, "engine", None), "name", "")
        if engine != "remote":
            return cls(engine or "desktop")
        name = str((getattr(book, "api", None) or {}).get("client", ""))
        return cls(name, None if name == "Office.js" else LEGACY_CLIENT_ACTIONS)

    def can(self, action: str) -> bool:
        return self.actions is None or action in self.actions


EVERYTHING = Client("desktop")


# --- reading and checking -----------------------------------------------------------------

def read_grids(book, sheets: Iterable[str] | None = None) -> tuple[list[str], dict[str, Grid]]:
    """All sheet names in order, and a Grid for every sheet the engine needs (one read each)."""
    from ..core.engine import SHEETS
    from ..core.layout import norm

    wanted = {norm(s) for s in (SHEETS if sheets is None else sheets)}  # as the file door: case and spaces do not matter
    names, grids = [], {}
    calculate_if_manual(book)
    for sheet in book.sheets:
        name = sheet.name
        names.append(name)
        if norm(name) in wanted and not any(norm(n) == norm(name) for n in grids):
            grids[name] = read_grid(sheet, name)
    return names, grids


def read_grid(sheet, name: str) -> Grid:
    """The sheet's used range as a Grid: one range read for the values (errors as text, e.g.
    "#DIV/0!") and one for the formulas; where a number format changes what a value means (the
    sick-leave figures, the target, the amounts), the formats of those cells, one read per run of
    cells down a column."""
    used = sheet.used_range
    values = used.options(ndim=2, err_to_str=True).value
    top, left = used.row - 1, used.column - 1
    grid = Grid(name=name, values=[list(row) for row in values], top=top, left=left)
    grid.formulas = _formulas(used, top, left)
    cells = _format_cells(grid)
    if cells:
        grid.formats = _number_formats(sheet, cells)
    return grid


_FORMATTED_SHEETS = tuple(L.norm(n) for n in (L.SHEET_SICK, L.SHEET_INCOME, L.SHEET_UNITS, L.SHEET_EXPLANATION))


def _format_cells(grid: Grid) -> list[tuple[int, int]]:
    """The cells whose number format the reader needs: every number on Sjukfrånvaro (a percent
    format shows 0,025 as 2,5 %) and on the three sheets of amounts (a format such as
    ``#,##0.0,,`` shows kronor as mnkr), and the value of the sick-leave target on Uppgifter.
    A column of one format is one read, however many units it has."""
    name = L.norm(grid.name)
    if name in _FORMATTED_SHEETS:
        return [(r, c) for r, c, v in grid.cells() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if name == L.norm(L.SHEET_META):
        return [(r, c + 1) for r, c, v in grid.cells() if L.norm(v) == L.norm(L.META_SJUKMAL)][:1]
    return []


def _formulas(used, top: int, left: int) -> dict[tuple[int, int], str]:
    """{(row, col): formula without "="} of a used range, in one read (none where unsupported)."""
    try:
        block = used.options(ndim=2).formula
    except (NotImplementedError, AttributeError):
        return {}
    if not isinstance(block, (list, tuple)):
        block = [[block]]
    return {(top + r, left + c): f[1:] for r, line in enumerate(block) for c, f in enumerate(line)
            if isinstance(f, str) and f.startswith("=") and len(f) > 1}


def _number_formats(sheet, cells: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The number formats other than General of ``cells``: one read per run of neighbouring
    cells down a column, cell by cell only where a run mixes formats (none where unsupported)."""
    out: dict[tuple[int, int], str] = {}
    by_col: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_col[c].append(r)
    try:
        for c, rows in by_col.items():
            for first, last, _ in runs(dict.fromkeys(rows, 0)):
                code = sheet.range((first + 1, c + 1), (last + 1, c + 1)).number_format
                if code is None:  # mixed formats in the run
                    for r in range(first, last + 1):
                        one = sheet.range((r + 1, c + 1)).number_format
                        if one and one != "General":
                            out[(r, c)] = one
                elif code != "General":
                    out.update({(r, c): code for r in range(first, last + 1)})
    except (NotImplementedError, AttributeError):
        return {}
    return out


def calculate_if_manual(book) -> bool:
    """Make Excel calculate first when the user has set manual calculation (so the values read
    are current); returns whether it had to."""
    try:
        if book.app.calculation != "manual":
            return False
        book.app.calculate()
    except (NotImplementedError, AttributeError):
        return False
    return True


def _findings(book) -> list[Finding]:
    """Every finding in the open workbook (nothing is written)."""
    from ..core.engine import run
    from ..core.errors import StructureError

    names, grids = read_grids(book)
    try:
        return run(grids, names, actions=()).findings
    except StructureError as exc:
        return error_findings(exc)


def _final_sheet(button: Button, result: ClickResult, active: str) -> str:
    if result.errors or button.shows_findings:
        return L.SHEET_FINDINGS
    if L.SHEET_REPORT in result.sheets_written:
        return L.SHEET_REPORT
    return active


def write_deviations(book, writes: list[CellWrite], client: Client = EVERYTHING) -> int:
    """Write the formulas, one call per run of consecutive rows in a column; returns the calls."""
    calls = 0
    for (sheet_name, col), run in _column_runs(writes):
        sheet = book.sheets[sheet_name]
        first, last = run[0].row, run[-1].row
        _write_block(sheet.range((first + 1, col + 1), (last + 1, col + 1)), [[_write_formula(w)] for w in run],
                     client)
        calls += 1
    return calls


def _write_block(rng, block: list[list], client: Client) -> None:
    """Formulas and constants in one call: ``.formula``, or where the client has no such action
    ``.value``, which every client writes as typed (a leading "=" makes a formula there too)."""
    if client.can("setFormula"):
        rng.formula = block
    else:
        rng.value = block


def _column_runs(writes: Iterable[CellWrite]):
    """Yield ((sheet, col), [writes on consecutive rows]) in sheet/column/row order."""
    by_column: dict[tuple[str, int], list[CellWrite]] = defaultdict(list)
    for w in writes:
        by_column[(w.sheet, w.col)].append(w)
    for key, column in by_column.items():
        column.sort(key=lambda w: w.row)
        run = [column[0]]
        for w in column[1:]:
            if w.row == run[-1].row + 1:
                run.append(w)
            else:
                yield key, run
                run = [w]
        yield key, run


def _write_formula(w: CellWrite):
    return "=" + w.formula if w.formula else constant(w.value)


# Text Excel would read as something else when written to a cell (a number, date, formula).
_PARSED = re.compile(r"^[\s\d.,:/%+\-()$€]*\d[\s\d.,:/%+\-()$€e]*$|^(true|false|sant|falskt)$", re.IGNORECASE)


def constant(value):
    """A value as written with ``.formula``: text that Excel would parse keeps a quote prefix."""
    if isinstance(value, str) and (value[:1] in ("=", "+", "-", "@", "'") or _PARSED.match(value)):
        return "'" + value
    return value


def cell_formula(cell: Cell | None):
    """What one owned-sheet cell is written as: a value, or a HYPERLINK formula for a link."""
    if cell is None:
        return None
    if cell.link is None:
        return constant(cell.value)
    label = cell.value if cell.value is not None else cell.link
    return f'=HYPERLINK("#{_escape(cell.link)}",{_formula_literal(label)})'


def _formula_literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return f'"{_escape(str(value))}"'


def _escape(text: str) -> str:
    return text.replace('"', '""')


def write_owned_sheet(book, content: SheetContent, client: Client = EVERYTHING) -> None:
    """Replace a sheet the tool owns with ``content``: clear, one block write, formats, widths,
    row heights."""
    sheet = _owned_sheet(book, content.name)
    last_row = sheet.used_range.last_cell.row  # rows with a height of their own are used too
    sheet.clear()
    width = max((len(r) for r in content.rows), default=0)
    if content.rows and width:
        block = [[cell_formula(c) for c in row] + [None] * (width - len(row)) for row in content.rows]
        _write_block(sheet.range((1, 1), (len(block), width)), block, client)
    for (attribute, value), cells in format_groups(content).items():
        if not client.can(ATTRIBUTE_ACTIONS[attribute]):
            continue  # a client without it gets the plain sheet (see docs/addin.md, per client)
        for top, left, bottom, right in rectangles(cells):
            _set_attribute(sheet.range((top + 1, left + 1), (bottom + 1, right + 1)), attribute, value)
    if client.can("setColumnWidth"):
        for first, last, chars in runs(content.col_widths):
            sheet.range(f"{col_letter(first)}:{col_letter(last)}").column_width = _width(book, chars)
    # Clearing keeps row heights: give the rows, old and new, their automatic height back, then
    # set the rows that need more. (A multi-area range such as "3:3,7:7" would set all rows of a
    # height in one call, but xlwings takes one only on Windows: not on the Mac nor the remote
    # engine. The rows that need more are the table headers, a fixed number whatever the number
    # of units, and on Kontroller the long messages.)
    sheet.range(f"1:{max(last_row, len(content.rows), 1)}").rows.autofit()
    if client.can("setRowHeight"):
        for first, last, points in runs(content.row_heights):
            sheet.range(f"{first + 1}:{last + 1}").row_height = points
    from .excel_layout import write_print_layout  # merges, charts, page setup (as the file door)

    write_print_layout(book, sheet, content, client)


def _owned_sheet(book, name: str):
    """The owned sheet ``name``; as in Excel, case does not matter (a "RAPPORT" is reused)."""
    for sheet in book.sheets:
        if sheet.name.casefold() == name.casefold():
            return sheet
    return book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])


def format_groups(content: SheetContent) -> dict[tuple[str, Any], set[tuple[int, int]]]:
    """The cells of each (attribute, value) pair the styles of ``content`` ask for."""
    groups: dict[tuple[str, Any], set[tuple[int, int]]] = defaultdict(set)
    for r, row in enumerate(content.rows):
        for c, cell in enumerate(row):
            if cell is not None:
                for attribute, value in STYLE_ATTRIBUTES.get(cell.style, {}).items():
                    groups[(attribute, value)].add((r, c))
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))))


def rectangles(cells: set[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Cover ``cells`` exactly with rectangles (top, left, bottom, right): runs down each
    column, then neighbouring columns with the same run merged."""
    runs: dict[tuple[int, int], list[int]] = defaultdict(list)  # (top, bottom) -> columns
    by_col: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_col[c].append(r)
    for c, rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for r in rows[1:] + [None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            runs[(start, prev)].append(c)
            if r is not None:
                start = prev = r
    out = []
    for (top, bottom), cols in runs.items():
        cols.sort()
        left = prev = cols[0]
        for c in cols[1:] + [None]:
            if c is not None and c == prev + 1:
                prev = c
                continue
            out.append((top, left, bottom, prev))
            if c is not None:
                left = prev = c
    return sorted(out)


#: The remote engine's action behind each attribute (what a client must implement for it).
ATTRIBUTE_ACTIONS = {"number_format": "setNumberFormat", "bold": "setFontProperty", "size": "setFontProperty",
                     "font_color": "setFontProperty", "fill": "setRangeColor", "wrap": "setWrapText",
                     "bottom_border": "setBorderProperty"}


def _set_attribute(rng, attribute: str, value) -> None:
    if attribute == "number_format":
        rng.number_format = value
    elif attribute == "bold":
        rng.font.bold = value
    elif attribute == "size":
        rng.font.size = value
    elif attribute == "font_color":
        rng.font.color = value
    elif attribute == "fill":
        rng.color = value
    elif attribute == "wrap":
        rng.wrap_text = value
    elif attribute == "bottom_border":
        sides = ["edge_bottom", "inside_horizontal"] if rng.shape[0] > 1 else ["edge_bottom"]
        rng.borders.set(sides, line_style="continuous", weight="thin")
    else:
        raise ValueError(attribute)


def runs(sizes: dict[int, float]) -> list[tuple[int, int, float]]:
    """(first, last, size) for runs of neighbouring columns (or rows) with the same size."""
    out: list[list] = []
    for i in sorted(sizes):
        if out and out[-1][1] == i - 1 and out[-1][2] == sizes[i]:
            out[-1][1] = i
        else:
            out.append([i, i, sizes[i]])
    return [tuple(r) for r in out]


def _width(book, chars: float) -> float:
    """Column width in the unit the engine takes: characters on desktop, points for Office.js."""
    return round(chars * 5.25, 2) if book.app.engine.name == "remote" else chars


# --- highlights ---------------------------------------------------------------------------

UNKNOWN = "unknown"  # a marked cell whose previous fill was not remembered (an older version marked it)


def wanted_marks(marks: Iterable[Mark], sheet_names: Iterable[str]) -> dict[str, dict[tuple[int, int], str]]:
    """The fill for each marked cell, per sheet; the first mark of a cell wins (the engine
    gives errors first), at most :data:`MAX_MARKS_PER_SHEET` a sheet."""
    present = set(sheet_names)
    out: dict[str, dict[tuple[int, int], str]] = defaultdict(dict)
    for m in marks:
        if m.sheet in present:
            try:
                cell = parse_a1(m.cell)
            except ValueError:
                continue
            sheet_marks = out[m.sheet]
            if cell not in sheet_marks and len(sheet_marks) < MAX_MARKS_PER_SHEET:
                sheet_marks[cell] = FILL[m.severity]
    return dict(out)


def mark_findings(book, marks: Iterable[Mark], client: Client = EVERYTHING,
                  grids: dict[str, Grid] | None = None) -> int:
    """Give the cells whose findings are gone their own fill back, colour the new findings'
    cells (remembering the fill each had), and remember what is marked now; returns the number
    of cells marked.

    A client that cannot set several fills in one call (the legacy clients) cannot take a fill
    away either (their ``setRangeColor`` needs a colour): it gets no highlights at all, only
    Kontroller and its links."""
    if not client.can("setRangeColors"):
        return 0
    sheets = {s.name: s for s in book.sheets}
    memory = remembered_fills(book)
    wanted = wanted_marks(marks, sheets)
    template = TemplateFills()
    for name in sorted(set(memory) | set(wanted), key=list(sheets).index):
        sheet, grid = sheets[name], (grids or {}).get(name)
        before, now = memory.get(name, {}), wanted.get(name, {})
        prior = {cell: fill for cell, fill in before.items() if fill != UNKNOWN}
        prior.update(current_fills(sheet, [c for c in now if c not in before], name, grid, template))
        prior.update({c: template.fill(name, grid, c) for c, fill in before.items() if fill == UNKNOWN})
        colours: dict[tuple[int, int], str | None] = {c: prior[c] for c in before if c not in now}
        colours.update(now)
        paint(sheet, colours)
        remember(sheet, name, {c: prior[c] for c in now}, client)
    return sum(len(m) for m in wanted.values())


def current_fills(sheet, cells: list[tuple[int, int]], sheet_name: str, grid: Grid | None,
                  template: TemplateFills) -> dict[tuple[int, int], str | None]:
    """The fill each of ``cells`` has now, read from the cell (at most
    :data:`MAX_MARKS_PER_SHEET` reads a sheet, and only for cells not yet marked); the
    template's fill where the engine cannot read fills, or where the cell already shows a
    mark's colour (its memory was lost)."""
    out: dict[tuple[int, int], str | None] = {}
    for r, c in cells:
        try:
            colour = sheet.range((r + 1, c + 1)).color
        except NotImplementedError:  # the remote engine: no formats in its payload
            return {cell: template.fill(sheet_name, grid, cell) for cell in cells}
        fill = _hex(colour)
        out[(r, c)] = template.fill(sheet_name, grid, (r, c)) if fill in MARK_FILLS else fill
    return out


MARK_FILLS = frozenset(f.lower() for f in FILL.values())


def _hex(colour) -> str | None:
    """xlwings' colour (an RGB tuple, an int or "#rrggbb") as "#rrggbb"; None for no fill."""
    if colour is None:
        return None
    if isinstance(colour, str):
        return ("#" + colour.lstrip("#")).lower()
    if isinstance(colour, int):
        colour = (colour & 0xFF, (colour >> 8) & 0xFF, (colour >> 16) & 0xFF)  # Excel's BGR integer
    return "#" + "".join(f"{int(v):02x}" for v in colour[:3])


def paint(sheet, colours: dict[tuple[int, int], str | None]) -> None:
    """Set each cell's fill (None: no fill) with one set_colors call over the bounding box."""
    if not colours:
        return
    top = min(r for r, _ in colours)
    bottom = max(r for r, _ in colours)
    left = min(c for _, c in colours)
    right = max(c for _, c in colours)
    width = right - left + 1
    step = max(1, SET_COLORS_MAX_CELLS // width)
    for band_top in range(top, bottom + 1, step):
        band_bottom = min(bottom, band_top + step - 1)
        matrix = [[colours.get((r, c), ...) for c in range(left, right + 1)]
                  for r in range(band_top, band_bottom + 1)]
        sheet.range((band_top + 1, left + 1), (band_bottom + 1, right + 1)).set_colors(matrix)


def fill_key(fill: str | None) -> str:
    """The suffix of the name that remembers cells of ``fill``: "FFF2CC", or "ingen"."""
    return NO_FILL if fill is None else fill.lstrip("#").upper()


def fill_of_key(key: str) -> str | None:
    return None if key.casefold() == NO_FILL else "#" + key.lower()


def remembered_fills(book) -> dict[str, dict[tuple[int, int], str | None]]:
    """The cells the tool marked, per sheet, each with the fill it had before (:data:`UNKNOWN`
    for cells an older version marked), read from the sheet-scoped names."""
    memory: dict[str, dict[tuple[int, int], str | None]] = defaultdict(dict)
    for name in book.names:
        full = name.name
        if "!" not in full:
            continue
        sheet, local = _unquote(full.rsplit("!", 1)[0]), full.rsplit("!", 1)[1]
        if local.casefold().startswith(FILL_NAME.casefold()):
            fill = fill_of_key(local[len(FILL_NAME):])
        elif local.casefold() == MARK_NAME.casefold():
            fill = UNKNOWN
        else:
            continue
        for cell in cells_of(name.refers_to or ""):
            memory[sheet].setdefault(cell, fill)
    return dict(memory)


def remembered_marks(book) -> dict[str, set[tuple[int, int]]]:
    """The cells the tool marked, per sheet."""
    return {sheet: set(cells) for sheet, cells in remembered_fills(book).items()}


def cells_of(refers_to: str) -> set[tuple[int, int]]:
    """The cells of a reference like ``='Blad'!$E$5,'Blad'!$C$7:$C$9`` (0-based)."""
    cells = set()
    for part in refers_to.lstrip("=").split(","):
        corners = part.rsplit("!", 1)[-1].strip().split(":")
        try:
            (r1, c1), (r2, c2) = parse_a1(corners[0]), parse_a1(corners[-1])
        except ValueError:
            continue  # e.g. #REF! after the user deleted the cell
        if len(corners) > 2:
            continue
        cells.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    return cells


def reference(sheet_name: str, cells: set[tuple[int, int]]) -> str:
    """``='Blad'!$E$5:$E$7,'Blad'!$C$9``: the cells as a multi-area reference, runs merged."""
    prefix = quote_sheet(sheet_name) + "!"
    parts = []
    for top, left, bottom, right in rectangles(cells):
        start = f"${col_letter(left)}${top + 1}"
        end = f"${col_letter(right)}${bottom + 1}"
        parts.append(prefix + (start if start == end else f"{start}:{end}"))
    return "=" + ",".join(parts)


def remember(sheet, sheet_name: str, prior: dict[tuple[int, int], str | None], client: Client = EVERYTHING) -> None:
    """Point the sheet's fill names at the marked cells, one name per previous fill; delete the
    names no longer needed (and the name of an older version)."""
    groups: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for cell, fill in prior.items():
        groups[fill_key(fill)].add(cell)
    existing = _our_names(sheet)
    for key, name in existing.items():
        if key not in groups:
            name.delete()
    for key, cells in sorted(groups.items()):
        ref, name = reference(sheet_name, cells), existing.get(key)
        if name is not None and (name.refers_to or "") == ref:
            continue
        if name is not None and client.can("setNameRefersTo"):
            name.refers_to = ref
            continue
        if name is not None:
            name.delete()
        sheet.names.add(FILL_NAME + key, ref)


def _our_names(sheet) -> dict[str, Any]:
    """The sheet's names this tool owns, by fill key (the old mark name under its own name)."""
    out = {}
    for name in sheet.names:
        local = name.name.rsplit("!", 1)[-1]
        if local.casefold().startswith(FILL_NAME.casefold()):
            out[local[len(FILL_NAME):].upper() if local[len(FILL_NAME):].casefold() != NO_FILL else NO_FILL] = name
        elif local.casefold() == MARK_NAME.casefold():
            out[MARK_NAME] = name
    return out


def _unquote(sheet: str) -> str:
    if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
        return sheet[1:-1].replace("''", "'")
    return sheet


class TemplateFills:
    """The template's fills (the template that ships with the package), looked up by place:
    the same sheet, the row with the same label and the column with the same header; loaded
    on first use, so a click that never needs it never reads it."""

    TABLE_HEADS = (L.HEAD_INCOME, L.HEAD_UNITS, L.HEAD_EXPLANATION, L.HEAD_STAFF, L.HEAD_LEAVERS, L.HEAD_SICK,
                   L.HEAD_COMMITMENTS)

    def __init__(self, path: Path | None = None):
        self.path = path
        self._sheets: dict[str, tuple[Grid, dict[tuple[int, int], str | None]]] | None = None

    def fill(self, sheet: str, grid: Grid | None, cell: tuple[int, int]) -> str | None:
        """The template's fill for ``cell`` of the user's ``sheet`` (read as ``grid``)."""
        template = self._load().get(L.norm(sheet))
        if template is None:
            return None
        t_grid, fills = template
        row, col = cell
        if grid is not None:
            row, col = self._place(grid, t_grid, cell)
        return fills.get((row, col))

    def _place(self, grid: Grid, t_grid: Grid, cell: tuple[int, int]) -> tuple[int, int]:
        """The template cell at the same place: the same row label under the same table head,
        the same column header; each falls back to the same row or column number."""
        r, c = cell
        head = self._head_row(grid, r)
        label = _label(grid, r, c)
        t_head = self._find_head(t_grid, grid.get(head, _first_col(grid, head)) if head is not None else None)
        t_row = r
        if label is not None:
            rows = [tr for tr in range(t_head + 1 if t_head is not None else t_grid.top, t_grid.n_rows)
                    if L.norm(_label(t_grid, tr, t_grid.n_cols)) == L.norm(label)
                    or (str(label).startswith(L.ROW_SUMMA) and str(_label(t_grid, tr, t_grid.n_cols) or "")
                        .startswith(L.ROW_SUMMA))]
            t_row = rows[0] if rows else (t_head + 1 if t_head is not None and head is not None and r > head else r)
        t_col = c
        header = grid.get(head, c) if head is not None else None
        if isinstance(header, str) and t_head is not None:
            cols = [tc for tc in range(t_grid.left, t_grid.n_cols) if L.norm(t_grid.get(t_head, tc)) == L.norm(header)]
            t_col = cols[0] if cols else c
        return t_row, t_col

    def _head_row(self, grid: Grid, row: int) -> int | None:
        heads = {L.norm(h) for h in self.TABLE_HEADS}
        for r in range(row, grid.top - 1, -1):
            first = grid.get(r, _first_col(grid, r))
            if isinstance(first, str) and L.norm(first) in heads:
                return r
        return None

    def _find_head(self, grid: Grid, head) -> int | None:
        if not isinstance(head, str):
            return None
        return next((r for r in range(grid.top, grid.n_rows)
                     if L.norm(grid.get(r, _first_col(grid, r))) == L.norm(head)), None)

    def _load(self) -> dict[str, tuple[Grid, dict[tuple[int, int], str | None]]]:
        if self._sheets is None:
            self._sheets = {}
            path = self.path
            if path is None:
                from ..resources import packaged

                path = packaged("data/mall.xlsx")
            if path is not None and path.is_file():
                self._sheets = read_template_fills(path)
        return self._sheets


def _first_col(grid: Grid, row: int) -> int:
    """The column of the first non-empty cell of ``row`` (the table's label column)."""
    r = row - grid.top
    line = grid.values[r] if 0 <= r < len(grid.values) else []
    return grid.left + next((i for i, v in enumerate(line) if v not in (None, "")), 0)


def _label(grid: Grid, row: int, before_col: int):
    """The row's label: its first text cell left of ``before_col``."""
    r = row - grid.top
    line = grid.values[r] if 0 <= r < len(grid.values) else []
    for i, v in enumerate(line[:max(0, before_col - grid.left)]):
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def read_template_fills(path: Path) -> dict[str, tuple[Grid, dict[tuple[int, int], str | None]]]:
    """Every sheet of a workbook file: its values (calamine) and each styled cell's solid fill,
    keyed by the normalised sheet name."""
    import zipfile

    from lxml import etree
    from python_calamine import CalamineWorkbook

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    out: dict[str, tuple[Grid, dict[tuple[int, int], str | None]]] = {}
    book = CalamineWorkbook.from_path(str(path))
    with zipfile.ZipFile(path) as z:
        styles = etree.fromstring(z.read("xl/styles.xml"), parser)
        fills = []
        for fill in styles.findall("m:fills/m:fill", ns):
            colour = fill.find("m:patternFill[@patternType='solid']/m:fgColor", ns)
            rgb = colour.get("rgb") if colour is not None else None
            fills.append("#" + rgb[-6:].lower() if rgb else None)
        xf_fill = [fills[int(xf.get("fillId", 0))] if int(xf.get("fillId", 0)) < len(fills) else None
                   for xf in styles.findall("m:cellXfs/m:xf", ns)]
        workbook = etree.fromstring(z.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"), parser)
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        for sheet in workbook.findall("m:sheets/m:sheet", ns):
            name = sheet.get("name")
            target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            cells: dict[tuple[int, int], str | None] = {}
            for c in etree.fromstring(z.read(part), parser).iterfind(".//m:sheetData/m:row/m:c", ns):
                style = int(c.get("s", 0))
                if style < len(xf_fill) and xf_fill[style] is not None:
                    cells[parse_a1(c.get("r"))] = xf_fill[style]
            values = book.get_sheet_by_name(name)
            top, left = values.start or (0, 0)
            grid = Grid(name=name, values=[list(r) for r in values.to_python()], top=top, left=left)
            out[L.norm(name)] = (grid, cells)
    return out


# --- next finding -------------------------------------------------------------------------

def next_finding(findings: list[Finding], sheet_order: list[str],
                 selected: CellRef | None) -> tuple[Finding, CellRef] | None:
    """The first finding cell after ``selected`` in sheet, row, column order (wrapping round)."""
    order = {name: i for i, name in enumerate(sheet_order)}
    located = []
    for f in findings:
        if f.sheet in order and f.cell and f.sheet not in L.OWNED_SHEETS:
            try:
                row, col = parse_a1(f.cell)
            except ValueError:
                continue
            located.append(((order[f.sheet], row, col), f, CellRef(f.sheet, row, col)))
    if not located:
        return None
    located.sort(key=lambda x: x[0])
    here = (order[selected.sheet], selected.row, selected.col) if selected and selected.sheet in order else None
    for key, f, ref in located:
        if here is None or key > here:
            return f, ref
    return located[0][1], located[0][2]


def _sheet_order(book) -> list[str]:
    return [s.name for s in book.sheets]


def _selected(book) -> CellRef | None:
    try:
        sel = book.app.selection
        if sel is None:
            return None
        return CellRef(sel.sheet.name, sel.row - 1, sel.column - 1)
    except Exception:  # noqa: BLE001 - a shape or chart selected: start from the top
        return None


# --- talking to the user ------------------------------------------------------------------

def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def findings_summary(errors: int, warnings: int) -> str:
    if not errors and not warnings:
        return "Inga fel och inga varningar."
    found = [_plural(errors, "fel", "fel") if errors else "",
             _plural(warnings, "varning", "varningar") if warnings else ""]
    return " och ".join(p for p in found if p) + "."


def outcome_message(button: Button, result: ClickResult, structure_ok: bool = True) -> str:
    """The short Swedish message box text for one click."""
    lines = [findings_summary(result.errors, result.warnings)]
    if button.focus is not None and structure_ok:
        lines = focus_summary(button.focus, result.findings)
    if not structure_ok:
        first = next((f.message for f in result.findings if f.is_error), "")
        lines.append(f"Arbetsboken följer inte mallen och kunde inte läsas helt. {first} "
                     "Se bladet Kontroller.")
    elif result.errors and button.actions:
        lines.append("Inget fylldes i och ingen rapport skrevs, eftersom arbetsboken har fel. "
                     "Rätta de markerade cellerna (se bladet Kontroller) och klicka igen.")
    else:
        if result.cells_written:
            n = result.cells_written
            lines.append(f"{n} {'avvikelsecell ifylld' if n == 1 else 'avvikelseceller ifyllda'} med formler.")
        if L.SHEET_REPORT in result.sheets_written:
            lines.append("Bladet Rapport är skrivet.")
        if result.findings:
            lines.append("Cellerna är markerade och listade på bladet Kontroller.")
        if result.cells_written or result.sheets_written:
            lines.append("Excels Ångra kan inte ta tillbaka det som tillägget skrev.")
    lines.append("Arbetsboken är inte sparad; spara den när du är nöjd.")
    return "\n".join(lines)


def focus_summary(focus: str, findings: list[Finding]) -> list[str]:
    """"Kontrollera personal": the staff sheets' findings first, then what else Kontroller lists."""
    from ..core.engine import in_scope

    staff = in_scope(findings, focus)
    errors = sum(f.is_error for f in staff)
    lines = [f"Personal och sjukfrånvaro: {findings_summary(errors, len(staff) - errors)}"]
    other = [f for f in findings if f not in staff]
    if other:
        other_errors = sum(f.is_error for f in other)
        lines.append(f"Övriga blad: {findings_summary(other_errors, len(other) - other_errors)} "
                     "Bladet Kontroller listar alla fynd.")
    return lines


def _alert(book, message: str, critical: bool = False) -> None:
    book.app.alert(message, title=TITLE, mode="critical" if critical else "info")


def _status(book, text) -> None:
    """Show ``text`` on Excel's status bar (False gives it back); some engines have none."""
    try:
        book.app.status_bar = text
    except NotImplementedError:
        pass


class _screen_paused:
    """Pause Excel's screen updating while writing; always turned back on (where the client
    has the setting at all)."""

    def __init__(self, book, client: Client = EVERYTHING):
        self.app = book.app
        self.active = client.can("setScreenUpdating")

    def __enter__(self):
        if self.active:
            self.app.screen_updating = False
        return self

    def __exit__(self, *exc):
        if self.active:
            self.app.screen_updating = True
        return False


def _active_sheet_name(book) -> str:
    return book.sheets.active.name


def _report_failure(book, result: ClickResult, exc: Exception) -> None:
    """A user error gets its message; anything else a short message naming the log file."""
    from ..core.errors import XlreportError

    result.failed = True
    if isinstance(exc, XlreportError):
        result.message = exc.message
    else:
        result.message = ("Ett oväntat fel uppstod i xlreport (ett programfel, inte ditt fel)."
                          f"{_write_log()} Arbetsboken är inte sparad.")
    try:
        _alert(book, result.message, critical=True)
    except Exception:  # noqa: BLE001 - Excel itself is gone: keep the details in the log
        _write_log()


def _write_log() -> str:
    try:
        LOG_FILE.write_text(traceback.format_exc(), encoding="utf-8")
        return f" Detaljer finns i {LOG_FILE}."
    except OSError:
        return ""


def _caller(book):
    """The workbook whose button was clicked; a short Swedish message when there is none.

    Called from ``RunPython`` this cannot fail in practice; run any other way (or with a broken
    xlwings setup) it would otherwise end in a Python traceback in Excel's message box. The
    message goes to stderr, which ``RunPython`` shows; the details go to the log.
    """
    if book is not None:
        return book
    try:
        import xlwings as xw

        return xw.Book.caller()
    except Exception:  # noqa: BLE001 - no workbook means no message box: exit with the message
        raise SystemExit("Delårsrapport: kunde inte nå arbetsboken i Excel. Klicka på knappen igen i den "
                         "arbetsbok du vill uppdatera." + _write_log()) from None


ENTRY_POINTS: dict[str, Callable[..., ClickResult]] = {
    "kontrollera": kontrollera,
    "berakna_avvikelser": berakna_avvikelser,
    "kontrollera_personal": kontrollera_personal,
    "skapa_rapport": skapa_rapport,
    "uppdatera_allt": uppdatera_allt,
    "nasta_fynd": nasta_fynd,
    "om_xlreport": om_xlreport,
    "exportera_rapport": exportera_rapport,
    "hamta_sie": hamta_sie,
    "jamfor_prognos": jamfor_prognos,  # doors/excel_prognos.py
    "ratta_det_som_gar": ratta_det_som_gar,  # doors/excel_fix.py
    "forklaringar_att_begara": forklaringar_att_begara,  # doors/excel_chase.py
    "kontrollera_texten": kontrollera_text,  # doors/excel_text.py
}

#: The buttons that open a file dialog first; their entry point takes the chosen file.
FILE_BUTTONS = {"hamta_sie", "jamfor_prognos"}

