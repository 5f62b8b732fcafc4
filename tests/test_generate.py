"""The report text: Swedish number formats, and sentences that follow the figures they quote."""

from __future__ import annotations

import pytest

from test_engine import example_grids
from xlreport.core import engine
from xlreport.core.changes import Cell, SheetContent
from xlreport.core.findings import WARNING, Finding
from xlreport.core.generate import (
    LINE_HEIGHT,
    MAX_ROW_HEIGHT,
    findings_sheet,
    row_heights,
    summary_sentences,
    wrapped_lines,
)
from xlreport.core.swedish import MINUS, fmt_mnkr, fmt_number, fmt_percent, parse_number_text


@pytest.mark.parametrize("value, text", [
    (7.8, "7,8"), (-1.1, f"{MINUS}1,1"), (1234.56, "1 234,6"), (-0.04, "0,0"), (0.05, "0,1"),
    (2.25, "2,3"), (-2.25, f"{MINUS}2,3"), (16.370000000000005, "16,4"), (None, "–"),
])
def test_fmt_number(value, text):
    assert fmt_number(value, 1) == text


def test_units_and_signs():
    assert fmt_mnkr(7.8, sign=True) == "+7,8 mnkr"
    assert fmt_mnkr(-3.2, sign=True) == f"{MINUS}3,2 mnkr"
    assert fmt_mnkr(0.0, sign=True) == "0,0 mnkr"
    assert fmt_percent(2.5) == "2,5 %"


@pytest.mark.parametrize("text, value", [
    ("12,9", 12.9), ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5), ("1\u202f234,5", 1234.5),
    (f"{MINUS}3,2", -3.2), ("-3,2", -3.2), ("(3,2)", -3.2), ("3,2 mnkr", 3.2), ("12.9", 12.9),
    ("2,5 %", 2.5), ("+4,0", 4.0), ("abc", None), ("", None), ("1,2,3", None), ("12,9 kr/st", None),
])
def test_parse_number_text(text, value):
    assert parse_number_text(text) == value


def _run(edit):
    names, grids = example_grids()
    edit(grids)
    out = engine.run(grids, names)
    return out, " ".join(summary_sentences(out.report))


def test_negative_result_gets_a_minus_sign():
    def edit(g):  # Intäkter below budget; Resultat (a formula in the workbook) follows
        rows = g["Resultaträkning"].values
        rows[4][2], rows[9][2] = 95.0, 95.0 - 96.6  # Utfall ack
        rows[4][6], rows[9][6] = 430.0, 430.0 - 433.2  # Prognos helår

    _, text = _run(edit)
    assert (f"uppgår till {MINUS}1,6 mnkr att jämföra med budgeterat resultat 0,7 mnkr, en avvikelse på "
            f"{MINUS}2,3 mnkr") in text
    assert (f"Prognosen för helåret uppgår till {MINUS}3,2 mnkr att jämföra med budget 0,0 mnkr, en avvikelse "
            f"på {MINUS}3,2 mnkr") in text


def test_sick_leave_above_target_and_fewer_staff():
    def edit(g):
        g["Uppgifter"].values[10][1] = 2.0  # Mål sjukfrånvaro (%)
        staff = g["Personal"].values
        staff[7][4] = 109  # Summa, Totalt fg år
        staff[7][5] = -1  # Förändring

    out, text = _run(edit)
    assert "Sjukfrånvaron uppgår till 2,5 % vilket är över målnivån på 2,0 %" in text
    assert "Det är en minskning med 1 person jämfört med föregående år." in text
    assert {f.rule for f in out.findings} >= {"sjuk-mal", "personal-summa"}


# --- row heights --------------------------------------------------------------------------

@pytest.mark.parametrize("text, width, lines", [
    ("Konto", 14, 1),
    ("Budget helår", 14, 1),
    ("Avvikelse helår", 14, 2),  # 15 characters do not fit in 13 (14 less the margins)
    ("Avvikelse ack fg år", 14, 2),  # "Avvikelse ack" | "fg år": at the space, not mid-word
    ("Kvinnor mars 2019–feb 2020", 14, 2),
    ("Förändring (procentenheter)", 14, 3),  # a word longer than a line is broken across lines
    ("a\nb", 40, 2),  # a line break starts a new line
    ("", 14, 1),
    ("ord " * 30, 90, 2),  # 119 characters with spaces, 89 to a line
    ("x" * 40, 10, 5),  # one long word: ceil(40 / 9)
    ("ab cd", 0.5, 4),  # no room at all: one character a line, never zero
])
def test_wrapped_lines(text, width, lines):
    assert wrapped_lines(text, width) == lines


def test_row_heights_only_for_wrapping_rows_that_need_more_than_a_line():
    sheet = SheetContent("Rapport", col_widths={0: 44, 1: 14})
    sheet.add(Cell("Enhet", "header"), Cell("Avvikelse ack fg år", "header"))  # 2 lines in B
    sheet.add(Cell("En lång text som inte bryts eftersom stilen inte radbryts alls", "text"), Cell("x" * 30))
    sheet.add(Cell("Konto", "header"), Cell("Utfall", "header"))  # fits: no entry
    sheet.blank()
    sheet.add(None, Cell("a b c d e f g h i j k l m n o p q r s t u v w x y z", "wrap"))  # 51 in 13: 4 lines
    sheet.add(Cell(123456789012345678, "header"), Cell(None, "wrap"))  # numbers and blanks do not wrap
    sheet.add(Cell("x" * 60, "wrap"))  # column A is 44 wide: 2 lines
    sheet.add(None, None, Cell("x" * 20, "wrap"))  # column C has no width: Excel's default, 8.43
    assert row_heights(sheet) == {0: 2 * LINE_HEIGHT, 4: 4 * LINE_HEIGHT, 6: 2 * LINE_HEIGHT,
                                  7: 3 * LINE_HEIGHT}


def test_row_heights_stop_at_excels_largest_height():
    sheet = SheetContent("Kontroller", col_widths={0: 10})
    sheet.add(Cell("ord " * 500, "wrap"))
    assert row_heights(sheet) == {0: MAX_ROW_HEIGHT}


def test_the_example_report_gives_its_wrapped_table_headers_their_height():
    out = engine.run(*reversed(example_grids()))
    report = next(s for s in out.changes.sheets if s.name == "Rapport")
    assert report.row_heights == row_heights(report)
    header = next(r for r, row in enumerate(report.rows)
                  if row and row[0] is not None and row[0].value == "Enhet")
    assert [c.value for c in report.rows[header]][1] == "Avvikelse ack fg år"
    assert report.row_heights[header] == 2 * LINE_HEIGHT
    assert all(report.rows[r][0].style == "header" for r in report.row_heights)  # headers only
    assert header + 1 not in report.row_heights


def test_long_finding_messages_get_their_height():
    short = Finding("r", WARNING, "Kort meddelande.", "Driftredovisning", "E5")
    long = Finding("r", WARNING, "Lång " * 40, "Driftredovisning", "E6")  # 200 characters in 90
    sheet = findings_sheet([short, long])
    rows = {row[2].value: r for r, row in enumerate(sheet.rows) if len(row) > 2 and row[2] is not None}
    assert sheet.row_heights[rows["E6"]] == 3 * LINE_HEIGHT
    assert rows["E5"] not in sheet.row_heights
    assert findings_sheet([]).row_heights == {}
