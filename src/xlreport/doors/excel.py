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
* highlights: one ``set_colors`` call per sheet that has or had marked cells.

The workbook is never saved or closed. When the workbook has errors, nothing is filled in and
no Rapport is written, but the Kontroller sheet and the highlights are, so the user sees why.

Highlights are remembered in the workbook itself: a sheet-scoped defined name
``_xlreport_markerade`` on each marked sheet refers to exactly the cells the tool coloured
(Excel keeps it pointing at the same cells when rows are inserted or deleted). The next run
clears those cells, and only those, before colouring the new findings; a user's own colours
elsewhere are never touched.
"""

from __future__ import annotations

import re
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.cells import CellRef, Grid, col_letter, parse_a1, quote_sheet
from ..core.changes import Cell, CellWrite, Mark, SheetContent
from ..core.findings import ERROR, WARNING, Counted, Finding
from ..core.styles import SPECS, StyleSpec

TITLE = "Delårsrapport"
MARK_NAME = "_xlreport_markerade"
MAX_MARKS_PER_SHEET = 250  # keeps the defined name's formula well under Excel's 8192 characters
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

@dataclass(frozen=True)
class Button:
    name: str
    actions: tuple[str, ...]  # engine actions: "fill", "generate"
    scope: str | None = None  # engine finding scope: None (all) or "personal"
    shows_findings: bool = False  # ends on the Kontroller sheet


@dataclass
class ClickResult(Counted):
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
PERSONAL = Button("kontrollera_personal", (), scope="personal", shows_findings=True)
RAPPORT = Button("skapa_rapport", ("generate",))
ALLT = Button("uppdatera_allt", ("fill", "generate"))


def kontrollera(book=None) -> ClickResult:
    """Kontrollera: run every check, list the findings on Kontroller and mark their cells."""
    return click(KONTROLLERA, book)


def berakna_avvikelser(book=None) -> ClickResult:
    """Beräkna avvikelser: fill the deviation columns with formulas (when there are no errors)."""
    return click(BERAKNA, book)


def kontrollera_personal(book=None) -> ClickResult:
    """Kontrollera personal: only the staff and sick-leave checks."""
    return click(PERSONAL, book)


def skapa_rapport(book=None) -> ClickResult:
    """Skapa rapport: write the Rapport and Kontroller sheets (when there are no errors)."""
    return click(RAPPORT, book)


def uppdatera_allt(book=None) -> ClickResult:
    """Uppdatera allt: check, fill the deviations and write both report sheets."""
    return click(ALLT, book)


def nasta_fynd(book=None) -> ClickResult:
    """Nästa fynd: select the next cell with a finding after the current selection."""
    book = _caller(book)
    result = ClickResult("nasta_fynd")
    started = time.perf_counter()
    try:
        result.findings = _findings(book)
        target = next_finding(result.findings, _sheet_order(book), _selected(book))
        if target is None:
            result.message = "Inga fynd att visa: arbetsboken har inga fel och inga varningar."
            _alert(book, result.message)
        else:
            finding, ref = target
            sheet = book.sheets[ref.sheet]
            sheet.activate()
            sheet.range(ref.a1).select()
            result.message = f"{finding.location()}: {finding.message}"
            _status(book, result.message)
    except Exception as exc:  # noqa: BLE001 - every failure ends in a Swedish message, never a traceback
        _report_failure(book, result, exc)
    result.seconds = time.perf_counter() - started
    return result


def click(button: Button, book=None) -> ClickResult:
    """Run one button on ``book`` (the calling workbook when None)."""
    from ..core import engine

    book = _caller(book)
    result = ClickResult(button.name)
    started = time.perf_counter()
    try:
        _status(book, "Delårsrapport: läser arbetsboken …")
        door = ExcelDoor(book, result)
        with _screen_paused(book):
            outcome = engine.process(door, actions=button.actions, scope=button.scope)
            result.findings = outcome.findings
            book.sheets[_final_sheet(button, result, door.active)].activate()
        result.message = outcome_message(button, result, outcome.structure_error is None)
        _alert(book, result.message)
    except Exception as exc:  # noqa: BLE001 - every failure ends in a Swedish message, never a traceback
        _report_failure(book, result, exc)
    finally:
        _status(book, False)
    result.seconds = time.perf_counter() - started
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

    def read(self, sheets):
        return read_grids(self.book, sheets)

    def apply(self, changes) -> ClickResult:
        _status(self.book, "Delårsrapport: skriver resultatet …")
        if changes.writes:
            write_deviations(self.book, changes.writes)
        self.result.cells_written = len(changes.writes)
        for content in changes.sheets:
            write_owned_sheet(self.book, content)
        self.result.sheets_written = [s.name for s in changes.sheets]
        if changes.marks is not None:
            self.result.cells_marked = mark_findings(self.book, changes.marks)
        return self.result


# --- reading and checking -----------------------------------------------------------------

def read_grids(book, sheets: Iterable[str] | None = None) -> tuple[list[str], dict[str, Grid]]:
    """All sheet names in order, and a Grid for every sheet the engine needs (one read each)."""
    from ..core.engine import SHEETS
    from ..core.layout import norm

    wanted = {norm(s) for s in (SHEETS if sheets is None else sheets)}  # as the file door: case and spaces do not matter
    names, grids = [], {}
    for sheet in book.sheets:
        name = sheet.name
        names.append(name)
        if norm(name) in wanted and not any(norm(n) == norm(name) for n in grids):
            grids[name] = read_grid(sheet, name)
    return names, grids


def read_grid(sheet, name: str) -> Grid:
    """The sheet's used range as a Grid: one range read, errors as text (e.g. "#DIV/0!")."""
    used = sheet.used_range
    values = used.options(ndim=2, err_to_str=True).value
    return Grid(name=name, values=[list(row) for row in values], top=used.row - 1, left=used.column - 1)


def _findings(book) -> list[Finding]:
    """Every finding in the open workbook (nothing is written)."""
    from ..core.engine import run
    from ..core.errors import StructureError

    names, grids = read_grids(book)
    try:
        return run(grids, names, actions=()).findings
    except StructureError as exc:
        return exc.findings or [Finding(exc.rule, ERROR, exc.message, exc.sheet, exc.cell)]


def _final_sheet(button: Button, result: ClickResult, active: str) -> str:
    if result.errors or button.shows_findings:
        return L.SHEET_FINDINGS
    if L.SHEET_REPORT in result.sheets_written:
        return L.SHEET_REPORT
    return active


def write_deviations(book, writes: list[CellWrite]) -> int:
    """Write the formulas, one call per run of consecutive rows in a column; returns the calls."""
    calls = 0
    for (sheet_name, col), run in _column_runs(writes):
        sheet = book.sheets[sheet_name]
        first, last = run[0].row, run[-1].row
        sheet.range((first + 1, col + 1), (last + 1, col + 1)).formula = [[_write_formula(w)] for w in run]
        calls += 1
    return calls


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


def write_owned_sheet(book, content: SheetContent) -> None:
    """Replace a sheet the tool owns with ``content``: clear, one block write, formats, widths,
    row heights."""
    sheet = _owned_sheet(book, content.name)
    last_row = sheet.used_range.last_cell.row  # rows with a height of their own are used too
    sheet.clear()
    width = max((len(r) for r in content.rows), default=0)
    if content.rows and width:
        block = [[cell_formula(c) for c in row] + [None] * (width - len(row)) for row in content.rows]
        sheet.range((1, 1), (len(block), width)).formula = block
    for (attribute, value), cells in format_groups(content).items():
        for top, left, bottom, right in rectangles(cells):
            _set_attribute(sheet.range((top + 1, left + 1), (bottom + 1, right + 1)), attribute, value)
    for first, last, chars in runs(content.col_widths):
        sheet.range(f"{col_letter(first)}:{col_letter(last)}").column_width = _width(book, chars)
    # Clearing keeps row heights: give the rows, old and new, their automatic height back, then
    # set the rows that need more. (A multi-area range such as "3:3,7:7" would set all rows of a
    # height in one call, but xlwings takes one only on Windows: not on the Mac nor the remote
    # engine. The rows that need more are the table headers, a fixed number whatever the number
    # of units, and on Kontroller the long messages.)
    sheet.range(f"1:{max(last_row, len(content.rows), 1)}").rows.autofit()
    for first, last, points in runs(content.row_heights):
        sheet.range(f"{first + 1}:{last + 1}").row_height = points


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


def mark_findings(book, marks: Iterable[Mark]) -> int:
    """Clear the cells the tool marked last time, colour the marked cells, remember them."""
    sheets = {s.name: s for s in book.sheets}
    previous = remembered_marks(book)
    wanted = wanted_marks(marks, sheets)
    for name in sorted(set(previous) | set(wanted), key=list(sheets).index):
        colours: dict[tuple[int, int], str | None] = dict.fromkeys(previous.get(name, ()))
        colours.update(wanted.get(name, {}))
        paint(sheets[name], colours)
        remember(sheets[name], name, set(wanted.get(name, {})))
    return sum(len(m) for m in wanted.values())


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


def remembered_marks(book) -> dict[str, set[tuple[int, int]]]:
    """The cells the tool marked, per sheet, read from the sheet-scoped names."""
    marks: dict[str, set[tuple[int, int]]] = {}
    for name in book.names:
        full = name.name
        if "!" not in full or full.rsplit("!", 1)[1].casefold() != MARK_NAME.casefold():
            continue
        sheet = _unquote(full.rsplit("!", 1)[0])
        marks[sheet] = cells_of(name.refers_to or "")
    return marks


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


def remember(sheet, sheet_name: str, cells: set[tuple[int, int]]) -> None:
    """Point the sheet's mark name at ``cells``; delete it when there are none."""
    existing = _mark_name(sheet)
    if existing is not None and cells:
        existing.refers_to = reference(sheet_name, cells)
    elif existing is not None:
        existing.delete()
    elif cells:
        sheet.names.add(MARK_NAME, reference(sheet_name, cells))


def _mark_name(sheet):
    for name in sheet.names:
        if name.name.rsplit("!", 1)[-1].casefold() == MARK_NAME.casefold():
            return name
    return None


def _unquote(sheet: str) -> str:
    if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
        return sheet[1:-1].replace("''", "'")
    return sheet


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
    lines.append("Arbetsboken är inte sparad; spara den när du är nöjd.")
    return "\n".join(lines)


def _alert(book, message: str, critical: bool = False) -> None:
    book.app.alert(message, title=TITLE, mode="critical" if critical else "info")


def _status(book, text) -> None:
    """Show ``text`` on Excel's status bar (False gives it back); some engines have none."""
    try:
        book.app.status_bar = text
    except NotImplementedError:
        pass


class _screen_paused:
    """Pause Excel's screen updating while writing; always turned back on."""

    def __init__(self, book):
        self.app = book.app

    def __enter__(self):
        self.app.screen_updating = False
        return self

    def __exit__(self, *exc):
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
}

