"""The Excel door on xlwings' remote engine: the real xlwings object model, without Excel.

Each test builds the payload Excel's client would send from our real workbook files, calls the
same entry point a ribbon button calls, and checks the actions xlwings would send back to Excel.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xlreport.doors.excel as door
from support.excel_payload import example_payload, mark_name, payload, read_sheets, remote_book, times_units
from support.workbooks import EXAMPLE
from xlreport.core import engine
from xlreport.core.cells import CellRef, parse_a1
from xlreport.core.changes import Cell
from xlreport.core.findings import ERROR, WARNING, Finding
from xlreport.core.generate import findings_sheet
from xlreport.doors.file import load

assert os.environ["XLWINGS_LICENSE_KEY"]  # set by support.excel_payload before xlwings is imported

BUTTONS = ["kontrollera", "berakna_avvikelser", "kontrollera_personal", "skapa_rapport", "uppdatera_allt"]
USER_SHEETS = engine.SHEETS
HYPERLINK = re.compile(r'^=HYPERLINK\("#(?P<target>(?:[^"]|"")*)",(?P<label>.*)\)$')


# --- helpers ------------------------------------------------------------------------------

def actions(book) -> list[dict]:
    return book.json()["actions"]


def sheet_index(book, name: str) -> int:
    return [s.name for s in book.sheets].index(name)


def on_sheet(book, name: str, func: str | None = None) -> list[dict]:
    i = sheet_index(book, name)
    return [a for a in actions(book) if a["sheet_position"] == i and (func is None or a["func"] == func)]


def written_cells(book, name: str) -> dict[tuple[int, int], object]:
    """Every cell written with setFormula on sheet ``name``: (row, col) -> formula or value."""
    out = {}
    for a in on_sheet(book, name, "setFormula"):
        for r, row in enumerate(a["values"]):
            for c, v in enumerate(row):
                out[(a["start_row"] + r, a["start_column"] + c)] = v
    return out


def coloured_cells(book, name: str) -> dict[tuple[int, int], str | None]:
    """Every cell given a fill (or None: no fill) with set_colors on sheet ``name``."""
    out = {}
    for a in on_sheet(book, name, "setRangeColors"):
        for r, row in enumerate(a["args"][0]):
            for c, v in enumerate(row):
                if v != "keep":
                    out[(a["start_row"] + r, a["start_column"] + c)] = v
    return out


def shown(value):
    """What a written owned-sheet cell shows: the label of a HYPERLINK, else the value."""
    m = HYPERLINK.match(value) if isinstance(value, str) else None
    if not m:
        return value.removeprefix("'") if isinstance(value, str) else value
    label = m.group("label")
    return label[1:-1].replace('""', '"') if label.startswith('"') else float(label)


def expected_block(rows: list[list[Cell | None]]) -> list[list]:
    width = max(len(r) for r in rows)
    return [[("" if c is None or c.value is None else c.value) for c in r] + [""] * (width - len(r)) for r in rows]


def alert_text(book) -> str:
    alerts = [a for a in actions(book) if a["func"] == "alert"]
    assert len(alerts) == 1
    return alerts[0]["args"][0]


INPUT_FILL = "#fff2cc"  # the template's yellow input fill (workbooks/build.py)


def file_fills(path: Path, sheet: str) -> dict[tuple[int, int], str | None]:
    """Each cell's solid fill in the file, as openpyxl reads it (independent of the door)."""
    import openpyxl

    ws = openpyxl.load_workbook(path)[sheet]
    out = {}
    for row in ws.iter_rows():
        for cell in row:
            fill = cell.fill
            rgb = fill.fgColor.rgb if fill is not None and fill.fill_type == "solid" else None
            out[(cell.row - 1, cell.column - 1)] = "#" + rgb[-6:].lower() if isinstance(rgb, str) else None
    return out


def fill_name(sheet_index: int, sheet_name: str, key: str, refers_to: str) -> dict:
    """The sheet-scoped name that remembers marked cells whose fill was ``key``."""
    return dict(mark_name(sheet_index, sheet_name, refers_to), name=door.FILL_NAME + key)


def names_after(book) -> list[dict]:
    """The workbook's names after a click, as Excel's client would send them with the next one."""
    sheets = [s.name for s in book.sheets]
    out = []
    for name in book.names:
        sheet, local = name.name.rsplit("!", 1)
        sheet = sheet.strip("'")
        out.append(dict(mark_name(sheets.index(sheet), sheet, name.refers_to), name=local))
    return sorted(out, key=lambda n: (n["name"], n["refers_to"]))


def with_error(sheets: dict) -> dict:
    """The example with one unit's Utfall ack changed, so Summa no longer adds up (an error)."""
    units = sheets["Driftredovisning"]
    row = next(r for r in units if r and r[0] == "KLK Ledning")
    row[2] -= 10
    return sheets


@pytest.fixture(scope="module")
def file_outcome():
    """What the file door computes for the example workbook."""
    return load(EXAMPLE)


# --- reading ------------------------------------------------------------------------------

def test_import_is_light():
    code = "import sys, xlreport.doors.excel; print('xlwings' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_reads_the_same_grids_as_the_file_door(file_outcome):
    book = remote_book(example_payload())
    names, grids = door.read_grids(book)
    assert names == [s.name for s in book.sheets]
    assert set(grids) == set(USER_SHEETS)
    outcome = engine.run(grids, names)
    assert outcome.findings == file_outcome.findings
    assert outcome.changes.writes == file_outcome.changes.writes
    assert actions(book) == []  # reading sends nothing to Excel


def test_read_grid_keeps_the_used_range_offset():
    book = remote_book(payload({"Blad": [[None, None], [None, None], [None, 5.0, "x"]]}))
    grid = door.read_grid(book.sheets[0], "Blad")
    assert (grid.top, grid.left) == (2, 1)
    assert grid.values == [[5.0, "x"]]
    single = remote_book(payload({"Blad": [[None], [None, 7.0]]}))
    assert door.read_grid(single.sheets[0], "Blad").values == [[7.0]]  # one cell is still 2-D


# --- writing ------------------------------------------------------------------------------

def test_uppdatera_allt_writes_the_engines_formulas(file_outcome):
    book = remote_book(example_payload())
    result = door.uppdatera_allt(book=book)
    assert not result.failed and result.errors == 0
    written = {}
    for name in USER_SHEETS:
        written.update({(name, *cell): v for cell, v in written_cells(book, name).items()})
    expected = {(w.sheet, w.row, w.col): "=" + w.formula for w in file_outcome.changes.writes}
    assert written == expected
    assert result.cells_written == len(expected) == 28


def test_owned_sheets_are_written_whole_in_one_block(file_outcome):
    book = remote_book(example_payload())
    door.uppdatera_allt(book=book)
    for content in file_outcome.changes.sheets:
        writes = on_sheet(book, content.name, "setFormula")
        assert len(writes) == 1
        block = writes[0]
        assert (block["start_row"], block["start_column"]) == (0, 0)
        # an empty cell is "" (xlwings 0.37.8) or None (0.37.5): both leave the cleared cell empty
        assert [[("" if v is None else shown(v)) for v in row] for row in block["values"]] == \
            expected_block(content.rows)
        clear = on_sheet(book, content.name, "sheetClear")
        assert len(clear) == 1 and actions(book).index(clear[0]) < actions(book).index(block)


def test_links_become_hyperlink_formulas():
    assert door.cell_formula(Cell("E5", "link", link="'Resultaträkning'!E5")) == \
        '=HYPERLINK("#\'Resultaträkning\'!E5","E5")'
    assert door.cell_formula(Cell(-2.5, "mnkr", link="'Blad \"x\"'!C3")) == '=HYPERLINK("#\'Blad ""x""\'!C3",-2.5)'


def test_text_that_excel_would_parse_keeps_a_quote_prefix():
    assert door.constant("2020") == "'2020"
    assert door.constant("=SUM(A1)") == "'=SUM(A1)"
    assert door.constant("-3,5") == "'-3,5"
    assert door.constant("Sant") == "'Sant"
    assert door.constant("KLK HR") == "KLK HR"
    assert door.constant("januari–mars 2020") == "januari–mars 2020"
    assert door.constant(2.5) == 2.5


def test_styles_are_applied_per_rectangle(file_outcome):
    book = remote_book(example_payload())
    door.skapa_rapport(book=book)
    report = next(s for s in file_outcome.changes.sheets if s.name == "Rapport")
    formatted = {}
    for a in on_sheet(book, "Rapport", "setNumberFormat"):
        for r in range(a["start_row"], a["start_row"] + a["row_count"]):
            for c in range(a["start_column"], a["start_column"] + a["column_count"]):
                formatted[(r, c)] = a["args"][0]
    expected = {(r, c): door.STYLE_ATTRIBUTES[cell.style]["number_format"]
                for r, row in enumerate(report.rows) for c, cell in enumerate(row)
                if cell is not None and "number_format" in door.STYLE_ATTRIBUTES[cell.style]}
    assert formatted == expected


def test_rectangles_cover_exactly():
    cells = {(0, 0), (1, 0), (0, 1), (1, 1), (3, 1), (5, 4), (6, 4)}
    rects = door.rectangles(cells)
    covered = [(r, c) for t, lft, b, rgt in rects for r in range(t, b + 1) for c in range(lft, rgt + 1)]
    assert sorted(covered) == sorted(cells)
    assert rects == [(0, 0, 1, 1), (3, 1, 3, 1), (5, 4, 6, 4)]


def test_kontrollera_writes_kontroller_only(file_outcome):
    book = remote_book(example_payload())
    result = door.kontrollera(book=book)
    assert result.sheets_written == ["Kontroller"]
    for name in (*USER_SHEETS, "Rapport"):
        assert on_sheet(book, name, "setFormula") == []
    assert "Inga fel och inga varningar." in alert_text(book)


def test_a_missing_owned_sheet_is_added():
    sheets = read_sheets()
    del sheets["Kontroller"], sheets["Rapport"]
    book = remote_book(payload(sheets))
    door.uppdatera_allt(book=book)
    added = [a["args"][1] for a in actions(book) if a["func"] == "addSheet"]
    assert added == ["Rapport", "Kontroller"]
    assert [s.name for s in book.sheets][-2:] == ["Rapport", "Kontroller"]


def row_heights_set(book, name: str) -> dict[int, float]:
    """Row -> height of every setRowHeight on sheet ``name``, in order (a later call wins)."""
    out = {}
    for a in on_sheet(book, name, "setRowHeight"):
        assert a["column_count"] == 16384  # whole rows
        out.update(dict.fromkeys(range(a["start_row"], a["start_row"] + a["row_count"]), a["args"][0]))
    return out


def test_wrapped_rows_get_their_heights_after_every_row_is_reset(file_outcome):
    book = remote_book(example_payload())
    door.skapa_rapport(book=book)
    for content in file_outcome.changes.sheets:
        reset = on_sheet(book, content.name, "setAutofit")
        assert [a["args"] for a in reset] == [["rows"]]
        assert reset[0]["start_row"] == 0 and reset[0]["row_count"] >= len(content.rows)
        heights = on_sheet(book, content.name, "setRowHeight")
        assert all(actions(book).index(reset[0]) < actions(book).index(h) for h in heights)
        assert row_heights_set(book, content.name) == content.row_heights
        assert len(heights) == len(door.runs(content.row_heights))
    report = next(c for c in file_outcome.changes.sheets if c.name == "Rapport")
    header = next(r for r, row in enumerate(report.rows)
                  if [c.value for c in row][:2] == ["Enhet", "Avvikelse ack fg år"])
    assert row_heights_set(book, "Rapport")[header] == 30.0
    wrapped = {(a["start_row"], a["start_column"]) for a in on_sheet(book, "Rapport", "setWrapText")}
    assert (header, 0) in wrapped  # the header is wrapped in Excel too, as in the file


def test_rows_the_last_run_made_tall_are_reset():
    sheets = read_sheets()
    sheets["Kontroller"] = [["Kontroller"]] + [[None]] * 38 + [["gammalt meddelande"]]  # 40 rows used
    book = remote_book(payload(sheets))
    door.kontrollera(book=book)
    reset = on_sheet(book, "Kontroller", "setAutofit")
    assert (reset[0]["start_row"], reset[0]["row_count"]) == (0, 40)


def test_long_warnings_on_kontroller_get_their_heights():
    sheets = read_sheets()
    units = sheets["Driftredovisning"]
    for row in units[4:12]:
        row[4] = 9.9  # a hand-typed Avvikelse ack that is wrong: a warning each
    commitments = sheets["Åtaganden"]
    commitments[4][2] = commitments[5][2] = None  # long titles without a status
    book = remote_book(payload(sheets))
    result = door.kontrollera(book=book)
    assert result.warnings == 10 and not result.errors
    content = findings_sheet(result.findings, "Kommunstyrelsen")
    messages = {r for r, row in enumerate(content.rows) if len(row) > 4 and row[4] is not None
                and row[4].style == "wrap"}
    assert len(messages) == 10
    tall = row_heights_set(book, "Kontroller")
    assert tall == content.row_heights and set(tall) & messages
    assert len(on_sheet(book, "Kontroller", "setRowHeight")) == len(door.runs(tall))


def test_runs_join_neighbours_of_the_same_size():
    assert door.runs({}) == []
    assert door.runs({0: 44, 1: 14, 2: 14, 3: 14, 5: 14}) == [(0, 0, 44), (1, 3, 14), (5, 5, 14)]
    assert door.runs({7: 30.0, 3: 30.0, 4: 45.0, 5: 30.0}) == [(3, 3, 30.0), (4, 4, 45.0), (5, 5, 30.0),
                                                               (7, 7, 30.0)]


# --- errors: findings shown, nothing filled -------------------------------------------------

def test_a_workbook_with_errors_gets_highlights_and_kontroller_but_no_writes():
    book = remote_book(payload(with_error(read_sheets())))
    result = door.uppdatera_allt(book=book)
    assert result.errors == 1 and not result.failed
    finding = next(f for f in result.findings if f.is_error)
    for name in USER_SHEETS:
        assert written_cells(book, name) == {}
    assert on_sheet(book, "Rapport") == []
    assert coloured_cells(book, finding.sheet) == {parse_a1(finding.cell): door.FILL[ERROR].lower()}
    kontroller = written_cells(book, "Kontroller")
    links = [shown(v) for v in kontroller.values() if isinstance(v, str) and v.startswith("=HYPERLINK")]
    assert links == [finding.cell]
    marks = [a for a in actions(book) if a["func"] == "namesAdd"]
    # the Summa cell had the template's grey formula fill: remembered under that fill
    assert [m["args"] for m in marks] == [["_xlreport_fyllning_D9D9D9", f"='{finding.sheet}'!$C$13"]]
    assert actions(book)[-3]["func"] == "activateSheet"
    assert actions(book)[-3]["args"] == [sheet_index(book, "Kontroller")]
    assert "Inget fylldes i" in alert_text(book)


def test_marks_of_an_older_version_get_the_templates_fills_back_and_nothing_else():
    """An older version remembered only which cells it marked: they get the template's fill
    for their place (B2 none, the input cells C5:C6 yellow), and the old name goes."""
    previous = "='Resultaträkning'!$B$2,'Resultaträkning'!$C$5:$C$6"
    book = remote_book(example_payload(names=[mark_name(1, "Resultaträkning", previous)]))
    door.kontrollera(book=book)
    fills = file_fills(EXAMPLE, "Resultaträkning")
    assert fills[(4, 2)] == fills[(5, 2)] == INPUT_FILL
    assert coloured_cells(book, "Resultaträkning") == {(1, 1): None, (4, 2): INPUT_FILL, (5, 2): INPUT_FILL}
    assert [a["func"] for a in actions(book) if "ame" in a["func"]] == ["nameDelete"]
    for name in USER_SHEETS:
        if name != "Resultaträkning":
            assert coloured_cells(book, name) == {}


def test_marks_move_from_old_to_new_cells_in_one_call_per_sheet():
    previous = [fill_name(2, "Driftredovisning", "FFF2CC", "='Driftredovisning'!$B$5")]
    book = remote_book(payload(with_error(read_sheets()), names=previous))
    door.kontrollera(book=book)
    assert coloured_cells(book, "Driftredovisning") == {(4, 1): INPUT_FILL, (12, 2): door.FILL[ERROR].lower()}
    assert len(on_sheet(book, "Driftredovisning", "setRangeColors")) == 1
    assert [a["args"][1] for a in actions(book) if a["func"] == "namesAdd"] == ["='Driftredovisning'!$C$13"]
    assert [a["args"][2] for a in actions(book) if a["func"] == "nameDelete"] == ["_xlreport_fyllning_FFF2CC"]


def test_mark_fix_clear_leaves_the_templates_fills():
    """Mark -> fix -> clear: every cell ends with the fill it had in the file, the template's."""
    broken = with_error(read_sheets())
    staff = broken["Personal"]
    row = next(r for r in staff if r and r[0] == "Tillsvidareanställda")
    row[1] += 1  # Kvinnor (an input cell) + Män no longer equals Totalt (a formula cell)
    first = remote_book(payload(broken))
    marked = door.kontrollera(book=first)
    cells = {(f.sheet, parse_a1(f.cell)) for f in marked.findings if f.cell}
    assert {s for s, _ in cells} >= {"Driftredovisning", "Personal"}
    # Excel now has the marks and the names the click made; the user fixes the figures
    fixed = remote_book(payload(read_sheets(), names=names_after(first)))
    result = door.kontrollera(book=fixed)
    assert result.findings == [] and not result.failed
    for sheet in {s for s, _ in cells}:
        fills = file_fills(EXAMPLE, sheet)
        restored = coloured_cells(fixed, sheet)
        assert restored == {cell: fills.get(cell) for s, cell in cells if s == sheet}, sheet
        assert set(restored.values()) - {None} and None not in restored.values()  # real fills, not "no fill"
    assert names_after(fixed) == []  # nothing left to remember
    assert [a for a in actions(fixed) if a["func"] == "namesAdd"] == []


def test_kontrollera_personal_after_kontrollera_keeps_the_finance_marks_and_findings():
    sheets = with_error(read_sheets())
    staff = sheets["Personal"]
    row = next(r for r in staff if r and r[0] == "Tillsvidareanställda")
    row[1] += 1
    first = remote_book(payload(sheets))
    checked = door.kontrollera(book=first)
    finance = next(f for f in checked.findings if f.sheet == "Driftredovisning")
    second = remote_book(payload(sheets, names=names_after(first)))
    result = door.kontrollera_personal(book=second)
    assert finance in result.findings and result.findings == checked.findings
    assert coloured_cells(second, "Driftredovisning") == {(12, 2): door.FILL[ERROR].lower()}  # still marked
    assert names_after(second) == names_after(first)
    kontroller = [shown(v) for v in written_cells(second, "Kontroller").values()]
    assert finance.cell in kontroller and "Inga fel och inga varningar." not in kontroller
    staff = engine.in_scope(result.findings, engine.STAFF)
    message = alert_text(second)
    assert message.startswith(f"Personal och sjukfrånvaro: {len(staff)} fel.") and "Övriga blad: 1 fel." in message


def test_mark_references_round_trip():
    cells = {(4, 2), (5, 2), (6, 2), (1, 1)}
    ref = door.reference("Resultaträkning", cells)
    assert ref == "='Resultaträkning'!$B$2,'Resultaträkning'!$C$5:$C$7"
    assert door.cells_of(ref) == cells
    assert door.cells_of("=#REF!,'Blad'!$A$1") == {(0, 0)}


def test_a_missing_sheet_is_reported_on_kontroller_without_a_traceback():
    sheets = read_sheets()
    del sheets["Personal"]
    book = remote_book(payload(sheets))
    result = door.uppdatera_allt(book=book)
    assert not result.failed and result.errors >= 1
    assert any("Personal" in f.message for f in result.findings)
    assert written_cells(book, "Kontroller")
    assert all(written_cells(book, n) == {} for n in USER_SHEETS if n != "Personal")
    text = alert_text(book)
    assert "följer inte mallen" in text and "Traceback" not in text


def test_an_unexpected_error_names_the_log_file(monkeypatch, tmp_path):
    log = tmp_path / "fel.log"
    monkeypatch.setattr(door, "LOG_FILE", log)

    def broken(*args, **kw):
        raise RuntimeError("programfel")

    monkeypatch.setattr(engine, "run", broken)
    book = remote_book(example_payload())
    result = door.uppdatera_allt(book=book)
    assert result.failed
    assert str(log) in alert_text(book) and "Traceback" not in alert_text(book)
    assert "RuntimeError: programfel" in log.read_text(encoding="utf-8")
    assert next(a for a in actions(book) if a["func"] == "alert")["args"][3] == "critical"


def test_a_click_without_a_calling_workbook_exits_with_a_short_message(monkeypatch, tmp_path, capsys):
    """Run outside Excel, xw.Book.caller() fails; the user sees one Swedish line, not a traceback."""
    log = tmp_path / "fel.log"
    monkeypatch.setattr(door, "LOG_FILE", log)
    for entry in (door.uppdatera_allt, door.nasta_fynd):
        with pytest.raises(SystemExit) as exit_:
            entry()
        message = str(exit_.value.code)
        assert message.startswith("Delårsrapport: kunde inte nå arbetsboken") and str(log) in message
        assert "Traceback" not in message
    assert "Traceback" in log.read_text(encoding="utf-8")


def test_sheet_names_are_matched_as_in_the_file_door():
    """A required sheet retyped in lower case is read in Excel as on the command line."""
    sheets = read_sheets()
    sheets = {("personal" if name == "Personal" else name): rows for name, rows in sheets.items()}
    book = remote_book(payload(sheets))
    result = door.uppdatera_allt(book=book)
    assert not result.failed and result.errors == 0, [f.message for f in result.findings]


def test_an_owned_sheet_in_other_case_is_reused_not_duplicated():
    """Excel refuses a second sheet named "Rapport" beside "RAPPORT": the existing one is written."""
    sheets = {("RAPPORT" if name == "Rapport" else name): rows for name, rows in read_sheets().items()}
    sheets["RAPPORT"] = [["gammal text"]]
    book = remote_book(payload(sheets))
    result = door.uppdatera_allt(book=book)
    assert not result.failed
    assert not [a for a in actions(book) if a["func"] == "addSheet"]
    assert shown(written_cells(book, "RAPPORT")[(0, 0)]).startswith("Delårsrapport 1 2020")


def test_kontrollera_personal_marks_every_finding_and_words_the_message_for_staff():
    sheets = with_error(read_sheets())
    staff = sheets["Personal"]
    row = next(r for r in staff if r and r[0] == "Tillsvidareanställda")
    row[1] += 1  # Kvinnor + Män no longer equals Totalt
    book = remote_book(payload(sheets))
    result = door.kontrollera_personal(book=book)
    assert {f.sheet for f in result.findings} == {"Personal", "Driftredovisning"}
    assert coloured_cells(book, "Driftredovisning") and coloured_cells(book, "Personal")
    staff = engine.in_scope(result.findings, engine.STAFF)
    assert staff and all(f.sheet == "Personal" for f in staff)
    assert alert_text(book).startswith(f"Personal och sjukfrånvaro: {len(staff)} fel.")


# --- the number of calls to Excel ---------------------------------------------------------

@pytest.mark.parametrize("button", [*BUTTONS, "nasta_fynd"])
@pytest.mark.parametrize("variant", ["ok", "error"])
def test_calls_do_not_grow_with_units(button, variant):
    counts = []
    for factor in (1, 10):
        sheets = read_sheets() if factor == 1 else times_units(read_sheets(), factor)
        if variant == "error":
            _break_summa(sheets, "KLK Ledning" if factor == 1 else "KLK Ledning del 1")
        book = remote_book(payload(sheets))
        result = door.ENTRY_POINTS[button](book=book)
        assert not result.failed
        counts.append(len(actions(book)))
    assert counts[0] == counts[1], counts


def _break_summa(sheets: dict, unit: str) -> dict:
    units = sheets["Driftredovisning"]
    row = next(r for r in units if r and r[0] == unit)
    row[2] -= 10
    return sheets


def test_the_ten_times_variant_has_ten_times_the_units_and_no_findings():
    sheets = times_units(read_sheets(), 10)
    book = remote_book(payload(sheets))
    result = door.berakna_avvikelser(book=book)
    assert result.findings == []
    assert result.cells_written == 10 + 2 * (8 * 10 + 1)  # income statement + units and Summa


# --- next finding ------------------------------------------------------------------------

def test_nasta_fynd_selects_the_next_finding_and_wraps():
    findings = [Finding("r", WARNING, "b", "Driftredovisning", "C5"), Finding("r", ERROR, "a", "Resultaträkning", "E5")]
    order = ["Uppgifter", "Resultaträkning", "Driftredovisning"]
    assert door.next_finding(findings, order, None)[1] == CellRef("Resultaträkning", 4, 4)
    assert door.next_finding(findings, order, CellRef("Resultaträkning", 4, 4))[1] == CellRef("Driftredovisning", 4, 2)
    assert door.next_finding(findings, order, CellRef("Driftredovisning", 9, 0))[1] == CellRef("Resultaträkning", 4, 4)
    assert door.next_finding([], order, None) is None


def test_nasta_fynd_in_excel():
    book = remote_book(payload(with_error(read_sheets()), active=0, selection="A1"))
    result = door.nasta_fynd(book=book)
    assert not result.failed
    select = [a for a in actions(book) if a["func"] == "rangeSelect"]
    assert len(select) == 1
    assert (select[0]["sheet_position"], select[0]["start_row"], select[0]["start_column"]) == (2, 12, 2)
    assert "C13" in result.message


def test_nasta_fynd_without_findings_says_so():
    book = remote_book(example_payload())
    door.nasta_fynd(book=book)
    assert "Inga fynd" in alert_text(book)


def test_nasta_fynd_says_what_it_found_in_a_message_box():
    """The status bar is missing on the remote engine's clients: the message is an alert."""
    book = remote_book(payload(with_error(read_sheets()), active=0, selection="A1"))
    result = door.nasta_fynd(book=book)
    assert alert_text(book) == result.message
    assert result.message.startswith("Fel i Driftredovisning!C13: ")


def test_every_ribbon_function_exists():
    for name in BUTTONS + ["nasta_fynd", "om_xlreport"]:
        assert callable(getattr(door, name))
        assert door.ENTRY_POINTS[name] is getattr(door, name)


# --- the handshake and "Om xlreport" -----------------------------------------------------

def test_a_click_from_a_matching_addin_runs_the_button():
    import xlwings

    from xlreport import __version__

    book = remote_book(example_payload())
    result = door.klick("kontrollera", __version__, xlwings.__version__, book=book)
    assert not result.failed and result.sheets_written == ["Kontroller"]


@pytest.mark.parametrize("addin, xlwings_vba, says", [
    ("0.0.1", None, "Tillägget är version 0.0.1 men xlreport i Python är version"),
    (None, "0.30.0", "Tilläggets xlwings-modul är version 0.30.0 men xlwings i Python är version"),
])
def test_a_click_from_a_mismatched_addin_gets_one_message_with_the_fix(addin, xlwings_vba, says):
    book = remote_book(payload(with_error(read_sheets())))
    result = door.klick("uppdatera_allt", addin, xlwings_vba, book=book)
    assert result.failed
    assert [a["func"] for a in actions(book)] == ["alert"]  # nothing else is touched
    text = alert_text(book)
    assert says in text and "xlreport addin install" in text and "install.cmd" in text
    assert next(a for a in actions(book) if a["func"] == "alert")["args"][3] == "critical"


def test_a_button_this_python_does_not_know_is_a_mismatch():
    from xlreport import __version__

    book = remote_book(example_payload())
    result = door.klick("exportera_allt_till_mars", __version__, None, book=book)
    assert result.failed and "hör inte ihop" in alert_text(book)


def test_om_xlreport_names_python_the_versions_and_the_template_version():
    import platform

    import xlwings

    from xlreport import __version__

    book = remote_book(example_payload())
    result = door.klick("om_xlreport", "0.0.1", xlwings.__version__, book=book)
    text = alert_text(book)
    assert text == result.message
    assert f"xlreport {__version__}" in text and "Tillägget: version 0.0.1" in text
    assert f"xlwings: {xlwings.__version__}" in text and sys.executable in text
    assert platform.python_version() in text
    assert "mallversion 1.0" in text
    assert "hör inte ihop" in text  # the mismatch is named too, with its fix
    assert [a["func"] for a in actions(book)] == ["alert"]


# --- Microsoft 365: the actions each xlwings client implements ----------------------------


def xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent


CLIENT_SOURCES = {  # payload "client" -> (source shipped with xlwings, how it declares an action)
    "VBA": ("addin/Remote.bas", re.compile(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)", re.MULTILINE)),
    "Microsoft Office Scripts": ("js/xlwings.ts", re.compile(r"^registerCallback\((\w+)\);", re.MULTILINE)),
    "Google Apps Script": ("js/xlwings.js", re.compile(r"^function (\w+)\(workbook, action\) \{$", re.MULTILINE)),
}


def client_actions(client: str) -> set[str]:
    source, pattern = CLIENT_SOURCES[client]
    return set(pattern.findall((xlwings_dir() / source).read_text(encoding="utf-8"))) - {"getRange"}  # a helper


def remote_engine_actions() -> set[str]:
    """Every action xlwings' remote engine can send (what the Office.js client is made for)."""
    text = (xlwings_dir() / "pro" / "_xlremote.py").read_text(encoding="utf-8")
    return set(re.findall(r'func="(\w+)"', text))


def every_click(client: str):
    """Each button on the example and on a broken variant, for ``client``; yields the books."""
    for sheets in (read_sheets(), with_error(read_sheets())):
        for button in door.ENTRY_POINTS:
            data = payload(sheets, names=[fill_name(2, "Driftredovisning", "FFF2CC", "='Driftredovisning'!$B$5")])
            data["client"] = client
            book = remote_book(data)
            result = door.ENTRY_POINTS[button](book=book)
            assert not result.failed, (client, button, result.message)
            yield button, book


def test_the_legacy_clients_implement_what_the_door_thinks():
    for client in door.LEGACY_CLIENTS:
        assert client_actions(client) == door.LEGACY_CLIENT_ACTIONS, client


@pytest.mark.parametrize("client", door.LEGACY_CLIENTS)
def test_the_door_sends_a_legacy_client_only_what_it_implements(client):
    implemented = client_actions(client)
    for button, book in every_click(client):
        sent = {a["func"] for a in actions(book)}
        assert sent <= implemented, (button, sent - implemented)
    # the essentials still arrive: the formulas (as values), Kontroller, the message
    book = remote_book(dict(payload(read_sheets()), client=client))
    door.uppdatera_allt(book=book)
    assert any(a["func"] == "setValues" for a in actions(book)) and alert_text(book)


def test_the_door_sends_office_js_only_actions_of_the_remote_engine():
    known = remote_engine_actions()
    sent = set()
    for _, book in every_click("Office.js"):
        sent |= {a["func"] for a in actions(book)}
    assert sent <= known, sent - known
    assert {"setFormula", "setRangeColors", "setFontProperty"} <= sent  # the full door, not the subset


def test_the_per_client_table_in_the_docs_names_every_action_the_door_sends():
    """docs/addin.md's table lists each action the door sends and which client has it."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "addin.md").read_text(encoding="utf-8")
    sent = set()
    for _, book in every_click("Office.js"):
        sent |= {a["func"] for a in actions(book)}
    for action in sent:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{action}` |")), None)
        assert row is not None, action
        has = "ja" if action in door.LEGACY_CLIENT_ACTIONS else "nej"
        assert row.split("|")[3].strip().startswith(has), row


# --- Hämta från SIE-fil ----------------------------------------------------------------------

def _sie_book(tmp_path):
    from test_sie_files import namnd_workbook

    workbook = namnd_workbook(tmp_path / "ks.xlsx", ["Ledning", "Förskola", "Äldreomsorg"])
    return remote_book(payload(read_sheets(workbook)))


def test_hamta_sie_writes_the_ledgers_figures_and_refreshes(tmp_path):
    from test_sie import ACTUAL, BUDGET, the_file
    from test_sie_files import ledger

    book = _sie_book(tmp_path)
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    result = door.klick("hamta_sie", book=book, sie=str(sie))
    assert not result.failed, result.message
    assert result.errors == 0, result.findings
    assert result.message.startswith("Utfall och budget är hämtade från huvudbok.se.")
    assert "Bladet Rapport är skrivet." in alert_text(book)
    income = written_cells(book, "Resultaträkning")
    assert income, "no figures were written into the income statement"
    assert any(isinstance(v, float) for v in income.values())


def test_hamta_sie_with_an_unbalanced_voucher_writes_nothing_but_the_message(tmp_path):
    book = _sie_book(tmp_path)
    bad = tmp_path / "trasig.se"
    bad.write_bytes(b'#FLAGGA 0\r\n#FORMAT PC8\r\n#SIETYP 4\r\n#RAR 0 20200101 20201231\r\n'
                    b'#KONTO 3010 "Intakter"\r\n#VER A 1 20200115\r\n{\r\n#TRANS 3010 {} -100.00\r\n}\r\n')
    result = door.klick("hamta_sie", book=book, sie=str(bad))
    assert result.failed and "trasig.se" in result.message
    assert written_cells(book, "Resultaträkning") == {}


def test_hamta_sie_without_a_file_does_nothing(tmp_path):
    book = _sie_book(tmp_path)
    result = door.klick("hamta_sie", book=book, sie="")
    assert not result.failed and result.message == "" and actions(book) == []


def test_the_door_reads_number_formats_only_where_they_change_a_figure():
    """The sick-leave numbers, the amounts (a scaled format) and the target's value cell: not
    every cell of Uppgifter, nor the staff counts."""
    from support.memory import example_grids

    _names, grids = example_grids()
    for name in ("Sjukfrånvaro", "Driftredovisning", "Resultaträkning", "Avvikelseförklaring"):
        cells = door._format_cells(grids[name])
        assert cells and all(isinstance(grids[name].get(r, c), float) for r, c in cells), name
    assert door._format_cells(grids["Uppgifter"]) == [(10, 1)]  # B11, beside "Mål sjukfrånvaro (%)"
    assert door._format_cells(grids["Personal"]) == []
