"""The report text: Swedish number formats, and sentences that follow the figures they quote."""

from __future__ import annotations

import itertools

import pytest

from support.memory import example_grids
from xlreport.core import engine
from xlreport.core.changes import Area, Cell, PageLayout, SheetContent
from xlreport.core.findings import WARNING, Finding
from xlreport.core.generate import (
    LINE_HEIGHT,
    MAX_ROW_HEIGHT,
    PAGE_TEXT,
    ChartFigure,
    Items,
    Paragraph,
    ReportDocument,
    ReportTable,
    build_document,
    findings_sheet,
    page_breaks,
    page_room,
    print_scale,
    printed,
    report_page,
    row_height,
    row_heights,
    summary_paragraphs,
    summary_sentences,
    text_width,
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


def _sick(now: float, before: float, target: float | None = 3.0):
    """The example with sick leave ``now`` (Totalt), ``before`` (Totalt fg period) and the
    target, as HR systems export them: with two decimals."""
    def edit(g):
        g["Uppgifter"].values[10][1] = target  # Mål sjukfrånvaro (%)
        total = g["Sjukfrånvaro"].values[4]  # Total sjukfrånvaro
        total[3], total[6], total[7] = now, before, round(now - before, 2)  # Totalt, Totalt fg period, Förändring
    out, _ = _run(edit)
    return out.report, next(s for s in summary_sentences(out.report) if s.startswith("Sjukfrånvaron"))


@pytest.mark.parametrize("now, before, target, first, second", [
    # the tester's cases: 2,96 prints as the target 3,0; 2,54 and 2,46 print as the same 2,5
    (2.96, 2.16, 3.0, "3,0 % vilket är i nivå med målnivån på 3,0 %", "Det är en ökning"),
    (2.54, 2.46, 3.0, "2,5 % vilket är under målnivån på 3,0 %", "Sjukfrånvaron är oförändrad"),
    (3.04, 3.0, 3.0, "3,0 % vilket är i nivå med målnivån på 3,0 %", "Sjukfrånvaron är oförändrad"),
    (2.94, 2.96, 2.96, "2,9 % vilket är under målnivån på 3,0 %", "Det är en minskning"),
    (3.05, 2.95, 3.0, "3,1 % vilket är över målnivån på 3,0 %", "Det är en ökning"),  # halves away from zero
    (2.5, 2.6, None, "2,5 %", "Det är en minskning"),
])
def test_sick_leave_words_compare_the_percentages_as_printed(now, before, target, first, second):
    _, sentence = _sick(now, before, target)
    assert sentence == (f"Sjukfrånvaron uppgår till {first}. {second} jämfört med föregående period "
                        f"({fmt_percent(before)}).")


@pytest.mark.parametrize("now, before", [(2.54, 2.46), (2.96, 2.16), (2.44, 2.45), (2.45, 2.44), (0.04, 0.0),
                                         (1.95, 2.04), (2.0, 2.0)])
def test_the_sick_leave_sentence_agrees_with_the_table_as_printed(now, before):
    """The word (ökning, minskning, oförändrad) is the order of the two figures the sick-leave
    table prints, and so is under/över/i nivå med for the target."""
    report, sentence = _sick(now, before, target=2.45)
    doc = build_document(report)
    table = next(b for b in doc.blocks() if isinstance(b, ReportTable) and b.head == "Sjukfrånvaro")
    row = next(r for r in table.rows if r.label == "Total sjukfrånvaro")
    shown = dict(zip(table.columns[:3] + ("Totalt fg",), (*row.values[:3], row.values[5])))
    printed_now, printed_before = shown["Totalt"], shown["Totalt fg"]
    assert f"uppgår till {fmt_percent(printed_now)}" in sentence and f"({fmt_percent(printed_before)})" in sentence
    word = ("oförändrad" if printed_now == printed_before else "en ökning" if printed_now > printed_before
            else "en minskning")
    assert word in sentence
    assert sum(w in sentence for w in ("oförändrad", "en ökning", "en minskning")) == 1
    target = printed(2.45, "percent")  # 2,5
    rel = "i nivå med" if printed_now == target else "under" if printed_now < target else "över"
    assert f"vilket är {rel} målnivån på 2,5 %" in sentence


@pytest.mark.parametrize("change, shown, expected", [
    (0.5, 1, "Det är en ökning med 1 person jämfört med föregående år."),  # the table prints 1, not 0
    (2.5, 3, "Det är en ökning med 3 personer jämfört med föregående år."),
    (-0.4, 0, "Antalet är oförändrat jämfört med föregående år."),
    (-1.5, -2, "Det är en minskning med 2 personer jämfört med föregående år."),
])
def test_the_staff_change_is_the_one_the_table_prints(change, shown, expected):
    def edit(g):
        g["Personal"].values[7][5] = change  # Summa, Förändring

    out, text = _run(edit)
    assert expected in text
    staff = next(b for b in build_document(out.report).blocks()
                 if isinstance(b, ReportTable) and b.head == "Anställningsform")
    assert staff.rows[-1].label == "Summa" and staff.rows[-1].values[-1] == shown


def test_without_a_change_column_the_staff_change_is_of_the_printed_counts():
    def edit(g):
        staff = g["Personal"].values[7]  # Summa
        staff[3], staff[4], staff[5] = 108.4, 107.6, None  # Totalt, Totalt fg år (both print 108), no Förändring

    _, text = _run(edit)
    assert "Totalt antal anställda är 108" in text
    assert "Antalet är oförändrat jämfört med föregående år." in text


def test_the_leavers_sentence_stands_without_the_staff_total():
    """Avgångar is a table of its own: an empty staff Summa (its own warning) no longer takes the
    complete leavers' sentence with it."""
    def edit(g):
        g["Personal"].values[7][3] = None  # Summa, Totalt

    _, text = _run(edit)
    assert "Totalt antal anställda" not in text
    assert "Under perioden var det 3 avgångar" in text


# --- row heights --------------------------------------------------------------------------

@pytest.mark.parametrize("text, width, lines", [
    ("Konto", 14, 1),
    ("Budget helår", 14, 1),
    ("Avvikelse helår", 14, 1),  # 12,5 digits of Calibri fit in 13 (14 less the margins)
    ("Avvikelse helår", 13, 2),  # ... but not in 12: at the space, not mid-word
    ("Avvikelse ack fg år", 10, 2),  # "Avvikelse" | "ack fg år"
    ("KLK Miljö och samhällsbyggnad", 28, 1),  # 29 characters, 26 digits wide: narrow letters count less
    ("KLK Kommunikation, IT och digitalisering", 28, 2),
    ("Förändring (procentenheter)", 14, 3),  # a word longer than a line is broken across lines
    ("a\nb", 40, 2),  # a line break starts a new line
    ("", 14, 1),
    ("ord " * 30, 90, 2),  # 119 characters, 105 digits wide, 89 to a line
    ("x" * 40, 10, 4),  # one long word, 35 digits wide: ceil(35 / 9)
    ("m" * 20, 10, 4),  # wide letters: 33 digits
    ("ab cd", 0.5, 5),  # no room at all: about a character a line, never zero
])
def test_wrapped_lines(text, width, lines):
    assert wrapped_lines(text, width) == lines


def test_text_width_counts_each_character_as_calibri_draws_it():
    assert text_width("0123456789") == pytest.approx(10 * 1.04)  # digits are the unit
    assert text_width("il") < text_width("mw") / 2
    assert text_width("Summa", bold=True) > text_width("Summa")
    assert wrapped_lines("Avvikelse ack fg år", 10, bold=True) == 2


def test_row_heights_only_for_wrapping_rows_that_need_more_than_a_line():
    sheet = SheetContent("Rapport", col_widths={0: 44, 1: 14})
    sheet.add(Cell("Enhet", "header"), Cell("Avvikelse ack fg år", "header"))  # 2 lines in B
    sheet.add(Cell("En lång text som inte bryts eftersom stilen inte radbryts alls", "text"), Cell("x" * 30))
    sheet.add(Cell("Konto", "header"), Cell("Utfall", "header"))  # fits: no entry
    sheet.blank()
    sheet.add(None, Cell("a b c d e f g h i j k l m n o p q r s t u v w x y z", "wrap"))  # 3 lines in 13
    sheet.add(Cell(123456789012345678, "header"), Cell(None, "wrap"))  # numbers and blanks do not wrap
    sheet.add(Cell("x" * 60, "wrap"))  # column A is 44 wide: 2 lines
    sheet.add(None, None, Cell("x" * 20, "wrap"))  # column C has no width: Excel's default, 8.43
    assert row_heights(sheet) == {0: 2 * LINE_HEIGHT, 4: 3 * LINE_HEIGHT, 6: 2 * LINE_HEIGHT,
                                  7: 3 * LINE_HEIGHT}


def test_a_merged_cell_wraps_within_all_its_columns():
    sheet = SheetContent("Rapport", col_widths={0: 20, 1: 20, 2: 20})
    text = "ord " * 25  # 100 characters, 87 digits wide
    sheet.add(Cell(text, "wrap"))
    sheet.add(Cell(text, "wrap"))
    sheet.merges.append(Area(1, 0, 1, 2))
    assert row_heights(sheet) == {0: 5 * LINE_HEIGHT, 1: 2 * LINE_HEIGHT}
    assert row_heights(sheet, merged_width=30) == {0: 5 * LINE_HEIGHT, 1: 4 * LINE_HEIGHT}


def test_row_heights_stop_at_excels_largest_height():
    sheet = SheetContent("Kontroller", col_widths={0: 10})
    sheet.add(Cell("ord " * 500, "wrap"))
    assert row_heights(sheet) == {0: MAX_ROW_HEIGHT}


def example_report():
    out = engine.run(*reversed(example_grids()))
    return out, next(s for s in out.changes.sheets if s.name == "Rapport")


def test_the_example_report_gives_its_wrapped_rows_their_height():
    _, report = example_report()
    header = next(r for r, row in enumerate(report.rows)
                  if row and row[0] is not None and row[0].value == "Enhet")
    assert [c.value for c in report.rows[header]][1] == "Avvikelse ack fg år"
    assert report.row_heights[header] == 2 * LINE_HEIGHT
    assert header + 1 not in report.row_heights  # the label column fits the longest unit
    merged = {m.top for m in report.merges}
    for r in report.row_heights:  # headers, and paragraphs over the page's width
        assert report.rows[r][0].style == "header" or r in merged, report.rows[r]


def test_long_finding_messages_get_their_height():
    short = Finding("r", WARNING, "Kort meddelande.", "Driftredovisning", "E5")
    long = Finding("r", WARNING, "Lång " * 40, "Driftredovisning", "E6")  # 200 characters in 44
    sheet = findings_sheet([short, long])
    rows = {row[2].value: r for r, row in enumerate(sheet.rows) if len(row) > 2 and row[2] is not None}
    assert sheet.row_heights[rows["E6"]] == 5 * LINE_HEIGHT
    assert rows["E5"] not in sheet.row_heights
    assert findings_sheet([]).row_heights == {}


# --- the report document ----------------------------------------------------------------

def test_the_document_has_the_published_reports_sections():
    out, _ = example_report()
    doc = build_document(out.report)
    assert doc.title == "Delårsrapport 1 2020 – Kommunstyrelsen"
    assert doc.details == [("Kommun", "Eskilstuna kommun"), ("Nämnd", "Kommunstyrelsen"),
                           ("Enhet", "Kommunledningskontoret"), ("Rapport", "Delårsrapport 1 2020"),
                           ("Period", "januari–mars 2020")]
    assert [s.heading for s in doc.sections] == [
        "Sammanfattning", "Ekonomi", "Resultaträkning (mnkr)", "Driftredovisning för underliggande enheter (mnkr)",
        "Personal (antal anställda)", "Sjukfrånvaro (% av ordinarie arbetstid)", "Status åtaganden"]
    summary = doc.sections[0].blocks
    assert [b.text for b in summary] == [" ".join(p) for p in summary_paragraphs(out.report)]
    assert " ".join(b.text for b in summary) == " ".join(summary_sentences(out.report))
    charts = [b for b in doc.blocks() if isinstance(b, ChartFigure)]
    assert [c.title for c in charts] == ["Avvikelse helår per enhet (mnkr)",
                                         "Total sjukfrånvaro mot föregående period och målet (%)"]
    units = charts[0]
    assert units.categories[0] == "KLK Ledning" and units.series[0][1][0] == 2.3
    assert list(units.series[0][1]) == sorted(units.series[0][1], reverse=True)
    assert charts[1].target == ("Mål 3,0 %", 3.0)
    assert charts[1].series[0][1] == (3.4, 0.6, 2.5)


def test_table_figures_are_stated_at_their_printed_precision():
    out, _ = example_report()
    doc = build_document(out.report)
    income = next(b for b in doc.blocks() if isinstance(b, ReportTable) and b.head == "Konto")
    kostnader = next(r for r in income.rows if r.label == "Kostnader")
    assert kostnader.values == (-99.3, -96.6, -109.5, 12.9, -441.0, -433.2, 7.8)
    assert income.text(kostnader.values[1]) == f"{MINUS}96,6"
    assert printed(-0.04, "mnkr") == 0.0 and str(printed(-0.04, "mnkr")) == "0.0"  # never "−0,0"
    assert printed(2.25, "mnkr") == 2.3 and printed(108.0, "integer") == 108.0
    sick = next(b for b in doc.blocks() if isinstance(b, ReportTable) and b.head == "Sjukfrånvaro")
    assert sick.groups == (("mars 2019–feb 2020", 3), ("mars 2018–feb 2019", 3), ("", 1))
    assert sick.text(None) == "–" and income.text(None) == ""


def test_the_sheet_and_the_document_say_the_same():
    """Every text and figure on Rapport is one of the document's: nothing typed twice."""
    out, sheet = example_report()
    doc = build_document(out.report)
    texts = {doc.title, doc.subtitle}
    figures = set()
    for section in doc.sections:
        texts.add(section.heading)
        for b in section.blocks:
            if isinstance(b, Paragraph):
                texts.add(b.text)
            elif isinstance(b, Items):
                texts |= {b.lead, *(f"– {i}" for i in b.items)}
            else:
                table = b.table() if isinstance(b, ChartFigure) else b
                texts |= {table.head, *table.columns, *(r.label for r in table.rows), *(g for g, _ in table.groups)}
                figures |= {v for r in table.rows for v in r.values}
                if isinstance(b, ChartFigure):
                    texts.add(b.title)
    for row in sheet.rows:
        for cell in row:
            if cell is None or cell.value in (None, "–"):
                continue
            assert cell.value in (figures if isinstance(cell.value, (int, float)) else texts), cell


# --- print layout -------------------------------------------------------------------------

def test_rapport_prints_portrait_a4_one_page_wide_with_header_and_footer():
    _, sheet = example_report()
    page = sheet.page
    assert (page.portrait, page.paper, page.fit_to_width) == (True, "A4", True)
    assert page.header == ("Eskilstuna kommun", "Kommunstyrelsen · Kommunledningskontoret", "Delårsrapport 1 2020")
    assert page.footer == ("januari–mars 2020", "", "Sida &P av &N")
    assert page.codes(page.footer) == "&Ljanuari–mars 2020&RSida &P av &N"
    assert sheet.col_widths[0] == 35  # "KLK Kommunikation, IT och digitalisering" on one line
    assert 0.8 <= print_scale(sheet) <= 0.9
    assert all(m.left == 0 and m.right == 7 for m in sheet.merges if m.top < 20)  # paragraphs: the whole width
    assert len(sheet.charts) == 2


def test_page_breaks_keep_each_table_on_one_page():
    _, sheet = example_report()
    room = page_room(sheet)
    starts = [0, *sheet.row_breaks, len(sheet.rows)]
    for first, end in itertools.pairwise(starts):
        assert sum(row_height(sheet, r) for r in range(first, end)) <= room
    for b in sheet.row_breaks:  # a page starts with a heading, never inside a table
        assert sheet.rows[b][0].style == "heading", sheet.rows[b]
    heads = [r for r, row in enumerate(sheet.rows) if row and row[0] is not None and row[0].style == "header"]
    for r in heads:
        end = next((i for i in range(r, len(sheet.rows)) if not sheet.rows[i]), len(sheet.rows))
        assert not any(r < b < end for b in sheet.row_breaks)


def test_page_breaks_move_a_block_that_does_not_fit_to_the_next_page():
    sheet = SheetContent("Rapport", col_widths={0: 30}, page=PageLayout())
    for _ in range(40):
        sheet.add(Cell("rad"))
    for _ in range(20):
        sheet.add(Cell("tabell"))
    assert page_breaks(sheet, [(40, 59)]) == [40]  # 60 rows of 15 points: 48 fit on a page
    assert page_breaks(sheet, []) == [int(page_room(sheet) // LINE_HEIGHT)]


def test_header_and_footer_text_escapes_the_ampersand():
    doc = ReportDocument("T", "", [], [], header=("Kalix & Co", "", ""), footer=("", "", PAGE_TEXT))
    page = report_page(doc)
    assert page.header[0] == "Kalix && Co" and page.footer[2] == "Sida &P av &N"


def test_kontroller_prints_with_its_header_row_on_every_page():
    f = Finding("r", WARNING, "Meddelande", "Driftredovisning", "E5", expected="ett långt förväntat värde")
    sheet = findings_sheet([f], "Kommunstyrelsen")
    assert sheet.page.title_rows == (3, 3) and sheet.rows[3][0].value == "Allvarlighet"
    assert sheet.page.header == ("Kontroller", "Kommunstyrelsen", "")
    assert print_scale(sheet) >= 0.75  # the message column is on the page, at a readable size
    assert sheet.rows[4][5].style == "wrap"  # text in Förväntat wraps, it does not run off the page
    assert findings_sheet([]).page.title_rows is None
