"""`xlreport check-text`: the figures of the report's text against the workbook's tables.

On real files: the reference report's own text against the worked example (it was published with
"108 tillsvidareanställda" where the table has 98 of 108), a Text sheet written into a copy of
the example, Word documents made by our export and edited with python-docx, the labelled
sentence sets of benchmarks/narrative/, and the button on xlwings' remote engine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import xlreport.doors.excel as door
from support.cli import xlreport
from support.excel_payload import payload, read_sheets, remote_book
from support.modules import script
from support.workbooks import EXAMPLE, sha
from xlreport.core.changes import ChangeSet, SheetContent
from xlreport.core.narrative import Paragraph, check
from xlreport.doors.file import load
from xlreport.ooxml.apply import apply_changes

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "000_f1d947dbb9d665cd.txt"
SETS = Path(__file__).resolve().parent.parent / "benchmarks" / "narrative"


@pytest.fixture(scope="module")
def example():
    return load(EXAMPLE).report


def with_text(dest: Path, paragraphs: list[str], sheet: str = "Text", src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` with a sheet ``sheet`` holding one paragraph per cell in column A."""
    shutil.copyfile(src, dest)
    content = SheetContent(sheet)
    for text in paragraphs:
        content.add(text)
    apply_changes(dest, ChangeSet(sheets=[content]), out=dest)
    return dest


def reference_report_lines() -> list[tuple[int, str]]:
    """The report's own text in the reference file (its top is a list of other documents' titles)."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, t in enumerate(lines) if t.startswith("Kommunstyrelsen Datum"))
    return [(i + 1, t) for i, t in enumerate(lines) if i >= start and t.strip()]


# --- the labelled sets ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["labelled.tsv", "heldout.tsv", "heldout2.tsv"])
def test_every_altered_figure_is_found_and_no_correct_sentence_is_flagged(example, name):
    bench = script("benchmarks/narrative.py")
    cases = bench.load_cases(SETS / name)
    assert len(cases) >= 60 and {c.label for c in cases} == {"ok", "fel"}
    score, notes = bench.evaluate(cases, example)
    assert notes == []
    assert (score.precision, score.recall) == (1.0, 1.0)
    assert score.claims > len(cases)  # most sentences state more than one figure


# --- the reference report ---------------------------------------------------------------------

def test_the_reference_text_has_exactly_its_three_contradictions(example):
    paragraphs = [Paragraph(t, number=n) for n, t in reference_report_lines()]
    result = check(example, paragraphs)
    found = sorted((c.claim.paragraph.number, c.claim.written, c.rule) for c in result.contradictions)
    assert found == [(203, "108 tillsvidareanställda", "text-antal"),  # the cover memo
                     (211, "108 tillsvidareanställda", "text-antal"),  # the summary
                     (211, "2019", "text-ar")]  # "KLK:s totala intäkter för 2019 budgeteras"
    bad = result.contradictions[0]
    assert "tabellen har 98" in bad.message and "Personal!D5" in bad.message
    assert "108 är Summa anställda, Totalt, Personal!D8" in bad.message
    # the staff section says it right, and is checked: 108 in total, of which 98 ...
    staff = [c for c in result.checks if c.claim.paragraph.number == 231 and c.ok]
    assert {c.claim.written for c in staff} >= {"108 stycken", "98 tillsvidareanställda", "9 visstidsanställda",
                                               "1 timanställd", "74 kvinnor", "34 män", "2,5 %", "2,6%"}
    assert len(result.checks) >= 50


def test_the_generated_report_agrees_with_its_own_tables(example):
    """Every sentence Rapport and the Word export state: tied, and right."""
    from xlreport.core.generate import build_document

    doc = build_document(example, [])
    texts = []
    for block in doc.blocks():
        if getattr(block, "text", None) and isinstance(block.text, str):
            texts.append(block.text)
        texts.extend(getattr(block, "items", ()) or ())
    result = check(example, [Paragraph(t, number=i + 1) for i, t in enumerate(texts)])
    assert result.contradictions == []
    assert len(result.checks) >= 30


# --- the command --------------------------------------------------------------------------------

def test_a_text_sheet_is_checked_and_the_workbook_is_not_changed(tmp_path):
    wb = with_text(tmp_path / "rapport.xlsx", [
        "Sammanfattning",
        "På KLK finns per mars 108 tillsvidareanställda medarbetare varav 74 kvinnor och 34 män.",
        "Sjukfrånvaron uppgår till 2,5 % vilket är under målnivån på 3,0 %.",
    ])
    before = sha(wb)
    run = xlreport("check-text", wb)
    assert run.returncode == 1, run.output
    assert "rapport.xlsx: Text!A2: fel: Texten säger ”108 tillsvidareanställda”, men tabellen har 98" in run.stdout
    assert "[text-antal]" in run.stdout
    assert "6 siffror i texten (bladet Text) jämfördes med tabellerna i rapport.xlsx: 1 stämmer inte." in run.stdout
    assert sha(wb) == before

    data = json.loads(xlreport("check-text", wb, "--format", "json").stdout)
    assert (data["checked"], data["contradictions"], data["sheet"]) == (6, 1, "Text")
    (finding,) = data["findings"]
    assert (finding["sheet"], finding["cell"], finding["rule"], finding["expected"], finding["actual"]) == \
        ("Text", "A2", "text-antal", 98.0, 108.0)
    assert {c["written"] for c in data["claims"] if c["ok"]} >= {"74 kvinnor", "34 män", "2,5 %", "3,0 %"}

    ok = xlreport("check-text", wb, "--alla")
    assert "Text!A3: stämmer: 2,5 % (Total sjukfrånvaro, Totalt, Sjukfrånvaro!D5)" in ok.stdout


def test_a_right_text_exits_0(tmp_path):
    text = ("Antalet åtaganden 2020 uppgår till 24 stycken. Av dessa bedöms 19 bli klara under 2020 och 5 bedöms "
            "inte bli klara 2020.")
    wb = with_text(tmp_path / "rätt.xlsx", [text], sheet="Förvaltningsberättelse")
    run = xlreport("check-text", wb)
    assert run.returncode == 0, run.output
    assert "(bladet Förvaltningsberättelse) jämfördes med tabellerna i rätt.xlsx: alla stämmer." in run.stdout


def test_a_word_document_is_checked_by_paragraph(tmp_path):
    import docx

    from xlreport.export import export_report

    outcome = load(EXAMPLE)
    target = tmp_path / "rapport.docx"
    export_report(outcome.report, outcome.findings, docx=target)
    run = xlreport("check-text", target, "--mot", EXAMPLE)
    assert run.returncode == 0, run.output
    assert "alla stämmer" in run.stdout

    document = docx.Document(target)
    edited = 0
    for number, p in enumerate([p for p in document.paragraphs if p.text.strip()], start=1):
        for r in p.runs:
            if "98 tillsvidareanställda" in r.text:
                r.text = r.text.replace("98 tillsvidareanställda", "96 tillsvidareanställda")
                edited = number
    assert edited
    document.save(target)
    run = xlreport("check-text", target, "--mot", EXAMPLE)
    assert run.returncode == 1, run.output
    assert f"rapport.docx: fel: Stycke {edited}: Texten säger ”96 tillsvidareanställda”, men tabellen har 98" in run.stdout


@pytest.mark.parametrize("case", ["no-sheet", "docx-without-workbook", "not-a-document", "missing"])
def test_text_that_cannot_be_read_gets_a_swedish_message(tmp_path, case):
    if case == "no-sheet":
        args, expect = [EXAMPLE], "Arbetsboken har inte ett blad med texten (Text, Förvaltningsberättelse)"
    elif case == "docx-without-workbook":
        (tmp_path / "r.docx").write_bytes(b"x")
        args, expect = [tmp_path / "r.docx"], "Ange arbetsboken vars tabeller texten ska stämma med"
    elif case == "not-a-document":
        (tmp_path / "r.docx").write_text("inte ett dokument", encoding="utf-8")
        args, expect = [tmp_path / "r.docx", "--mot", EXAMPLE], "r.docx: Filen är inte ett Word-dokument (.docx)"
    else:
        args, expect = [tmp_path / "borta.docx", "--mot", EXAMPLE], "borta.docx: Filen finns inte"
    run = xlreport("check-text", *args)
    assert run.returncode == 2, run.output
    assert expect in run.stderr


# --- the button ---------------------------------------------------------------------------------

def test_the_button_lists_the_texts_contradictions_on_kontroller_and_marks_the_cell(tmp_path):
    wb = with_text(tmp_path / "rapport.xlsx", [
        "Prognosen för helåret uppgår till 7,8 mnkr.",
        "Totalt anställda är 110 stycken, varav 98 tillsvidareanställda.",
    ])
    book = remote_book(payload(read_sheets(wb)))
    result = door.klick("kontrollera_texten", book=book)
    assert not result.failed, result.message
    text = [f for f in result.findings if f.rule.startswith("text-")]
    assert [(f.sheet, f.cell, f.rule) for f in text] == [("Text", "A2", "text-antal")]
    assert "110 stycken" in text[0].message and "tabellen har 108" in text[0].message
    assert result.message.startswith("Texten på bladet Text: 3 siffror jämfördes med tabellerna; 1 stämmer inte.")
    assert result.sheets_written == ["Kontroller"] and result.cells_marked == 1
    assert result.cells_written == 0  # no figure of the user's is changed


def test_the_button_without_a_text_sheet_says_where_to_write_it():
    book = remote_book(payload(read_sheets(EXAMPLE)))
    result = door.klick("kontrollera_texten", book=book)
    assert not result.failed
    assert result.message.startswith("Arbetsboken har inget blad med rapportens text (Text, Förvaltningsberättelse).")
    assert result.sheets_written == []


def test_explanations_keyed_to_units_are_named_with_their_unit_and_agree(tmp_path):
    """Rows of Avvikelseförklaring keyed to units explain those units: the report does not call
    them what the whole deviation "består av", names each row's unit, and check-text ties each
    amount to its own row (not to the unit's deviation)."""
    from support.workbooks import variant
    from xlreport.core.generate import Items, build_document

    keyed = variant(tmp_path / "nycklad.xlsx", {"Avvikelseförklaring!C5": "KLK Ledning",
                                                "Avvikelseförklaring!C6": "KLK HR",
                                                "Avvikelseförklaring!C7": "KLK HR",
                                                "Avvikelseförklaring!C8": "KLK Välfärd"})
    report = load(keyed, actions=()).report
    (items,) = [b for b in build_document(report, []).blocks() if isinstance(b, Items)]
    assert items.lead == "Förklaringar av enheternas avvikelser:"
    assert items.items[0] == "Olika former av verksamhetsutveckling (KLK Ledning) +4,0 mnkr"
    result = check(report, [Paragraph(t, number=i + 1) for i, t in enumerate(items.items)])
    assert result.contradictions == [] and len(result.checks) == 4
    wrong = check(report, [Paragraph("Bredbandsutbyggnad (KLK HR) +1,4 mnkr", number=1)])
    assert [c.claim.written for c in wrong.contradictions] == ["+1,4 mnkr"]


def test_the_report_sheet_refresh_writes_agrees_with_its_tables_by_check_text(tmp_path):
    """End to end: refresh (with the prognosis movement since February) writes Rapport, and
    check-text reading Rapport as the text finds every tied figure right."""
    from support.workbooks import variant

    february = variant(tmp_path / "februari.xlsx", {"Uppgifter!B10": 2, "Driftredovisning!G8": -85.7,
                                                    "Resultaträkning!G6": -434.0, "Avvikelseförklaring!B8": 1.0})
    march = tmp_path / "mars.xlsx"
    run = xlreport("refresh", EXAMPLE, "--previous", february, "-o", march)
    assert run.returncode == 0, run.output
    assert "Prognosen har förbättrats med 0,8 mnkr sedan februari, främst inom KLK HR (+0,8 mnkr)." in run.stdout
    run = xlreport("check-text", march, "--blad", "Rapport", "--format", "json")
    data = json.loads(run.stdout)
    assert run.returncode == 0 and data["contradictions"] == 0, data["findings"]
    assert data["checked"] >= 30


# --- phrasings (the adversarial review of check-text) ------------------------------------------

def claims(report, *texts: str):
    """The result of checking ``texts``, one paragraph each."""
    return check(report, [Paragraph(t, number=i + 1) for i, t in enumerate(texts)])


def test_a_minus_typed_as_a_non_breaking_hyphen_in_word_is_the_figures_sign(tmp_path):
    """Word writes Ctrl+Shift+- as <w:noBreakHyphen/>: it is the minus of "‑7,8 mnkr"; a soft
    hyphen is nothing, a tab a space; runs are joined as Word shows them."""
    import docx
    from docx.oxml import OxmlElement

    from xlreport.narrative import check_text_file, document_paragraphs

    document = docx.Document()
    p = document.add_paragraph()
    p.add_run("Avvikelsen mot budget för hel")
    p.add_run()._r.append(OxmlElement("w:softHyphen"))
    p.add_run("året är")
    p.add_run()._r.append(OxmlElement("w:tab"))
    p.add_run()._r.append(OxmlElement("w:noBreakHyphen"))
    p.add_run("7,8 mnkr.")
    document.add_paragraph("Avvikelsen mot budget för helåret är \u20117,8 mnkr.")  # the character itself
    document.add_paragraph("Avvikelsen mot budget för helåret är 7,8 mnkr.")
    target = tmp_path / "minus.docx"
    document.save(target)
    texts = [q.text for q in document_paragraphs(target)]
    assert texts[0] == "Avvikelsen mot budget för helåret är -7,8 mnkr."
    result = check_text_file(target, EXAMPLE).result
    assert [(c.claim.paragraph.number, c.claim.written, c.claim.value) for c in result.contradictions] == \
        [(1, "-7,8 mnkr", -7.8), (2, "\u20117,8 mnkr", -7.8)]
    assert [c.ok for c in result.checks if c.claim.paragraph.number == 3] == [True]


@pytest.mark.parametrize(("text", "wrong"), [
    ("KS/kommunledningskontoret har en positiv avvikelse på 2,2 mnkr för perioden.", True),  # −2,19
    ("KS/kommunledningskontoret har en negativ avvikelse på 2,2 mnkr för perioden.", False),
    ("Prognosen visar en negativ avvikelse på 7,8 mnkr.", True),  # Resultat Avvikelse helår +7,8
    ("Prognosen visar en positiv avvikelse på 7,8 mnkr.", False),
    ("Prognosen visar ett negativt resultat på 7,8 mnkr.", True),  # Resultat Prognos helår +7,8
    ("Prognosen visar ett positivt resultat på 7,8 mnkr.", False),
    ("Personalkostnaderna för perioden visar en positiv avvikelse på 1,1 mnkr.", True),  # −1,11
    ("Personalkostnaderna för perioden visar en negativ avvikelse på 1,1 mnkr.", False),
    ("Avvikelsen för KLK HR är positiv, 2,8 mnkr för perioden.", False),
])
def test_a_positive_or_negative_deviation_or_result_is_checked_against_the_sign(example, text, wrong):
    """A positive deviation is favourable (Avvikelse = Utfall − Budget, costs negative), as an
    överskott is: "en positiv avvikelse på 2,2 mnkr" for −2,2 is wrong."""
    result = claims(example, text)
    assert [c.rule for c in result.contradictions] == (["text-riktning"] if wrong else [])
    if wrong:
        message = result.contradictions[0].message
        assert message.startswith("Texten kallar ") and ("avvikelse" in message or "resultat" in message)


@pytest.mark.parametrize(("text", "wrong"), [
    ("KLK Ledning redovisar för perioden ett överskott om 17,2 mnkr.", "17,2 mnkr"),  # its Utfall ack −17,22
    ("KLK Ledning redovisar för perioden ett underskott om 17,2 mnkr.", "17,2 mnkr"),
    ("KLK Ledning redovisar för perioden ett överskott om 2,9 mnkr.", None),  # its Avvikelse ack
    ("KLK Välfärd prognostiserar ett överskott på 16,2 mnkr.", "16,2 mnkr"),  # its Prognos helår −16,2
    ("KLK Välfärd prognostiserar ett överskott på 1,6 mnkr.", None),
    ("Resultatet för perioden visar ett överskott på 17,1 mnkr.", None),  # the result row: its figures are results
])
def test_a_surplus_is_a_deviation_never_a_net_cost(example, text, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == ([wrong] if wrong else [])
    assert result.checks


@pytest.mark.parametrize(("text", "wrong"), [
    ("Intäkterna överstiger budget med 3,4 mnkr.", False),  # Intäkter Avvikelse ack 3,43
    ("Intäkterna för perioden överstiger budget med 3,4 mnkr.", False),
    ("Kostnaderna för perioden understiger budgeten med 12,9 mnkr.", False),
    ("Personalkostnaderna för perioden överskrider budget med 1,1 mnkr.", False),
    ("Intäkterna för perioden överstiger budget med 5,0 mnkr.", True),
    ("Intäkterna för perioden överstiger budget med 110,3 mnkr.", True),  # the budget itself
])
def test_exceeding_the_budget_by_an_amount_is_the_deviation(example, text, wrong):
    result = claims(example, text)
    assert len(result.checks) == 1
    assert [c.rule for c in result.contradictions] == (["text-belopp"] if wrong else [])


def test_x_of_y_commitments_the_whole_is_the_total_and_the_part_has_the_status(example):
    right = claims(example, "19 av 24 åtaganden bedöms bli klara under året.",
                   "5 av 24 åtaganden bedöms inte bli klara under året.")
    assert right.contradictions == []
    assert sorted((c.claim.written, c.figure.label) for c in right.checks) == [
        ("19 av 24 åtaganden", "Åtaganden som bedöms bli klara under året"),
        ("24 åtaganden", "Åtaganden, antal"), ("24 åtaganden", "Åtaganden, antal"),
        ("5 av 24 åtaganden", "Åtaganden som inte bedöms bli klara")]
    wrong = claims(example, "18 av 24 åtaganden bedöms bli klara under året.",
                   "19 av 25 åtaganden bedöms bli klara under året.")
    assert [c.claim.written for c in wrong.contradictions] == ["18 av 24 åtaganden", "25 åtaganden"]


def test_an_agreeing_claim_names_the_figure_it_agrees_with(example, tmp_path):
    """--alla and the JSON name the candidate that agrees, not the first one the words allow."""
    texts = ["Resultatet är 7,8 mnkr.", "Personalkostnaderna uppgår till 26,4 mnkr.",
             "KLK Ledning prognostiserar ett överskott på 2,3 mnkr."]
    result = claims(example, *texts)
    assert [(c.ok, f"{c.figure.ref.sheet}!{c.figure.ref.a1}") for c in result.checks] == \
        [(True, "Resultaträkning!G10"), (True, "Resultaträkning!D7"), (True, "Driftredovisning!H6")]
    wb = with_text(tmp_path / "alla.xlsx", texts)
    run = xlreport("check-text", wb, "--alla")
    assert "Text!A2: stämmer: 26,4 mnkr (varav personalkostnader, Budget ack, Resultaträkning!D7)" in run.stdout
    data = json.loads(xlreport("check-text", wb, "--format", "json").stdout)
    assert [c["figure_cell"] for c in data["claims"]] == \
        ["Resultaträkning!G10", "Resultaträkning!D7", "Driftredovisning!H6"]


@pytest.mark.parametrize(("text", "outcome"), [
    ("HR visar ett överskott på 7,8 mnkr för helåret.", "fel"),  # KLK HR Avvikelse helår 1,0; 7,8 is the nämnd's
    ("HR visar ett överskott på 1,0 mnkr för helåret.", "ok"),
    ("Ledningen prognostiserar ett överskott på 7,8 mnkr.", "fel"),  # KLK Ledning 2,3
    ("Ledningen prognostiserar ett överskott på 2,3 mnkr.", "ok"),
    ("Kommunikation, IT och digitalisering visar ett överskott på 16,4 mnkr för perioden.", "fel"),
    ("Avdelningen Näringsliv visar ett överskott på 8,7 mnkr för perioden.", "ok"),
    ("Avdelningen Kultur visar ett överskott på 7,8 mnkr.", "untied"),  # no such unit: not the nämnd's figure
    ("BUF visar ett överskott på 7,8 mnkr.", "untied"),
    ("Nämnden prognostiserar ett överskott på 7,8 mnkr.", "ok"),  # the nämnd: its bottom line
    ("KLK prognostiserar ett överskott på 9,9 mnkr.", "fel"),
])
def test_a_unit_is_named_by_its_distinctive_words_and_an_unknown_one_is_not_checked(example, text, outcome):
    result = claims(example, text)
    got = "fel" if result.contradictions else "ok" if result.checks else "untied"
    assert got == outcome, [c.message for c in result.contradictions]
    assert len(result.untied) == (1 if outcome == "untied" else 0)


def test_sick_leave_below_the_target_is_no_decrease_and_from_to_has_a_direction(example, tmp_path):
    from support.workbooks import variant

    up = load(variant(tmp_path / "upp.xlsx", {"Sjukfrånvaro!G5": 2.3, "Sjukfrånvaro!H5": 0.2,
                                              "Sjukfrånvaro!G6": 1.0, "Sjukfrånvaro!H6": -0.2}), actions=()).report
    assert claims(up, "Sjukfrånvaron är 2,5 %, vilket är lägre än målet på 3,0 %.").contradictions == []
    (only,) = claims(example, "Sjukfrånvaron är 2,5 %, vilket är högre än målet.").contradictions
    assert "högre än målet" in only.message and "under målet" in only.message
    # the example: 2,6 % the period before, 2,5 % now (Förändring −0,1)
    for text in ("Sjukfrånvaron har ökat från 2,6 % till 2,5 %.", "Sjukfrånvaron har ökat till 2,5 %.",
                 "Sjukfrånvaron ökade under perioden och uppgår till 2,5 %."):
        assert [c.rule for c in claims(example, text).contradictions] == ["text-riktning"], text
    assert "men det är en minskning" in claims(example, "Sjukfrånvaron har ökat från 2,6 % till 2,5 %.") \
        .contradictions[0].message
    for text in ("Sjukfrånvaron har minskat från 2,6 % till 2,5 %.", "Sjukfrånvaron har minskat till 2,5 %.",
                 "Sjukfrånvaron minskade under perioden och uppgår till 2,5 %."):
        result = claims(example, text)
        assert result.contradictions == [] and result.checks, text


@pytest.mark.parametrize(("text", "wrong"), [
    ("Till och med mars är överskottet 7,8 mnkr.", True),  # Resultat Avvikelse ack 16,4; 7,8 is helår
    ("Till och med mars är överskottet 16,4 mnkr.", False),
    ("Nämnden beräknar att lämna ett överskott på 16,4 mnkr vid årets slut.", True),  # helår 7,8
    ("Nämnden beräknar att lämna ett överskott på 7,8 mnkr vid årets slut.", False),
    ("Nämnden räknar med ett överskott på 16,4 mnkr för 2020.", True),
    ("Nämnden räknar med ett överskott på 7,8 mnkr för 2020.", False),
    ("Periodens resultat är 7,8 mnkr.", True),  # Resultat Utfall ack 17,1; 7,8 is Prognos helår
    ("Periodens resultat är 17,1 mnkr.", False),
    ("Kostnaderna uppgår till 109,5 mnkr för perioden.", True),  # Utfall ack −96,6; 109,5 is Budget ack
    ("Kostnaderna uppgår till 96,6 mnkr för perioden.", False),
    ("Helårsprognosen pekar på 9,9 mnkr.", True),  # Resultat Prognos helår 7,8
    ("Helårsprognosen pekar på 7,8 mnkr.", False),
    ("Delårsresultatet är 9,9 mnkr.", True),  # Resultat Utfall ack 17,1
    ("Delårsresultatet är 17,1 mnkr.", False),
])
def test_period_and_full_year_words_after_the_number_and_in_compounds_pick_the_column(example, text, wrong):
    result = claims(example, text)
    assert result.checks
    assert bool(result.contradictions) == wrong, [c.message for c in result.contradictions]


@pytest.mark.parametrize(("text", "wrong"), [
    # the reference report's sentence with 108 put right: 74/34 are all 108 staff, not the 98's 68/30
    ("På KLK finns per mars 98 tillsvidareanställda medarbetare varav 74 kvinnor och 34 män.",
     ["74 kvinnor", "34 män"]),
    ("På KLK finns per mars 98 tillsvidareanställda medarbetare varav 68 kvinnor och 30 män.", []),
    ("Av de 9 visstidsanställda är 74 kvinnor och 34 män.", ["74 kvinnor", "34 män"]),
    ("Av de 9 visstidsanställda är 5 kvinnor och 4 män.", []),
    ("Antalet tillsvidareanställda är 98, varav 68 kvinnor.", []),
    ("Förvaltningen har 108 anställda, varav 74 kvinnor och 34 män.", []),
    # the published sentence: the whole as written (108) is all staff's, and the error is on it
    ("På KLK finns per mars 108 tillsvidareanställda medarbetare varav 74 kvinnor och 34 män.",
     ["108 tillsvidareanställda"]),
])
def test_a_varav_split_belongs_to_the_whole_before_it(example, text, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    assert not result.untied and all(c.figure.ref.sheet == "Personal" for c in result.checks if c.claim.kind == "antal")
    if wrong and wrong[0] == "74 kvinnor":
        message = result.contradictions[0].message
        assert "tabellen har" in message and "74 är Summa anställda, Kvinnor" in message


@pytest.mark.parametrize(("text", "wrong"), [
    ("KLK Välfärd och KLK HR visar överskott på 1,8 respektive 2,8 mnkr för perioden.", []),
    ("KLK Välfärd och KLK HR visar överskott på 5,0 respektive 2,8 mnkr för perioden.", ["5,0 mnkr"]),
    ("KLK Välfärd och KLK HR visar överskott på 2,8 respektive 1,8 mnkr för perioden.", ["2,8 mnkr", "1,8 mnkr"]),
    ("Intäkterna och kostnaderna uppgår till 123,7 respektive 96,6 mnkr för perioden.", ["123,7 mnkr"]),
    ("Intäkterna och kostnaderna uppgår till 113,7 respektive 96,6 mnkr för perioden.", []),
    ("KLK HR, KLK Välfärd och KLK Ledning visar överskott på 2,8, 1,8 respektive 2,9 mnkr för perioden.", []),
    ("Kvinnornas och männens sjukfrånvaro är 0,6 respektive 3,4 %.", ["0,6 %", "3,4 %"]),
    ("Kvinnornas och männens sjukfrånvaro är 3,4 respektive 0,6 %.", []),
])
def test_respektive_pairs_the_numbers_with_the_names_in_order(example, text, wrong):
    """The first number of "2,8 respektive 1,8 mnkr" takes the last one's unit; each number is
    checked as the sentence with its own name alone, and the message quotes the sentence."""
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    assert len(result.checks) == (3 if "KLK Ledning" in text else 2) and not result.untied
    assert all(c.claim.sentence == text for c in result.checks)
    assert all(text in c.message for c in result.contradictions)


@pytest.mark.parametrize(("text", "wrong"), [
    ("Antalet tillsvidareanställda har ökat med 18 personer.", False),  # Tillsvidareanställda Förändring +18
    ("Antalet tillsvidareanställda har ökat med 19 personer.", True),  # 19 is the total's
    ("Antalet visstidsanställda har ökat med 1 person.", False),
    ("Antalet anställda har ökat med 19 personer.", False),
    ("Antalet tillsvidareanställda har ökat med 18 personer och antalet anställda har ökat med 19 personer.", False),
])
def test_a_staff_change_belongs_to_the_subject_not_to_personer(example, text, wrong):
    result = claims(example, text)
    assert result.checks and not result.untied
    assert bool(result.contradictions) == wrong, [c.message for c in result.contradictions]


@pytest.mark.parametrize(("text", "wrong"), [
    ("Kvinnornas sjukfrånvaro har ökat från 3,1 % till 3,4 %.", []),  # Kvinnor fg 3,1, Kvinnor 3,4
    ("Sjukfrånvaron för kvinnor har ökat till 3,4 % från 3,1 %.", []),
    ("Männens sjukfrånvaro har minskat från 1,4 % till 0,6 %.", []),
    ("Männens sjukfrånvaro har minskat från 1,4 % till 0,4 %.", ["0,4 %"]),
    ("Kvinnornas sjukfrånvaro har ökat från 3,1 % till 2,5 %.", ["2,5 %"]),  # 2,5 is the total's
])
def test_the_second_figure_of_from_to_is_of_the_same_women_or_men(example, text, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    if wrong == ["0,4 %"]:
        assert "tabellen har 0,6 (Total sjukfrånvaro, Män" in result.contradictions[0].message


@pytest.mark.parametrize(("text", "figures", "wrong"), [
    ("Överskottet beror på bredbandsutbyggnad (1,0 mnkr) och verksamhetsutveckling (4,0 mnkr).",
     ["Bredbandsutbyggnad", "Olika former av verksamhetsutveckling"], []),
    ("Överskottet beror på bredbandsutbyggnad (4,0 mnkr) och verksamhetsutveckling (1,0 mnkr).",
     ["Bredbandsutbyggnad", "Olika former av verksamhetsutveckling"], ["4,0 mnkr", "1,0 mnkr"]),
    ("Bredbandsutbyggnaden bidrar med 1,0 mnkr till överskottet.", ["Bredbandsutbyggnad"], []),
    ("Bredbandsutbyggnaden bidrar med 4,0 mnkr till överskottet.", ["Bredbandsutbyggnad"], ["4,0 mnkr"]),
    ("Verksamhetsutvecklingen står för 4,0 mnkr av avvikelsen.", ["Olika former av verksamhetsutveckling"], []),
])
def test_an_explanation_item_is_the_label_right_before_its_figure_also_in_definite_form(example, text, figures, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    assert [c.figure.label.split(",")[0] for c in result.checks] == figures


@pytest.mark.parametrize(("text", "wrong"), [
    ("Resultatet för januari–mars 2019 uppgick till 17,1 mnkr.", True),  # Resultat Utfall ack fg år 12,4
    ("Resultatet för januari–mars 2019 uppgick till 12,4 mnkr.", False),
    ("Intäkterna för januari-mars 2019 uppgick till 113,7 mnkr.", True),  # fg år 111,7
    ("Intäkterna för januari-mars 2019 uppgick till 111,7 mnkr.", False),
    ("Resultatet för januari–mars 2020 uppgick till 17,1 mnkr.", False),
])
def test_a_month_range_of_the_year_before_is_the_prior_years_column(example, text, wrong):
    result = claims(example, text)
    assert [c.claim.kind for c in result.contradictions] == (["belopp"] if wrong else [])


@pytest.mark.parametrize(("text", "wrong"), [
    ("Totalt antal anställda är 118.", ["118"]),  # Summa anställda Totalt 108
    ("Totalt antal anställda är 108.", []),
    ("Antalet anställda är 118, varav 98 tillsvidareanställda.", ["118"]),
    ("Antalet anställda har ökat från 89 till 118.", ["118"]),  # 89 is Totalt fg år
    ("Antalet anställda har ökat från 79 till 108.", ["79"]),
    ("Antalet tillsvidareanställda har ökat från 80 till 98.", []),
    ("Antalet tillsvidareanställda är 98 personer.", []),
    ("29 fler medarbetare än samma period 2019.", ["29 fler medarbetare"]),  # Förändring +19
    ("Det är 19 fler medarbetare än samma period 2019.", []),
    ("Antalet tillsvidareanställda är 28 fler än föregående år.", ["28 fler"]),  # Tillsvidareanställda +18
    ("Antalet tillsvidareanställda är 18 fler än föregående år.", []),
])
def test_a_headcount_with_its_noun_before_the_number_is_checked(example, text, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    assert not [c for c in result.untied if c.kind != "år"]


@pytest.mark.parametrize(("text", "wrong"), [
    ("Prognosen för helåret är ett överskott på knappt 7 mnkr.", True),  # Resultat Prognos helår 7,8
    ("Prognosen för helåret är ett överskott på drygt 8 mnkr.", True),
    ("Intäkterna för perioden är drygt 3,5 mnkr högre än budget.", True),  # Intäkter Avvikelse ack 3,43
    ("Prognosen för helåret är ett överskott på knappt 8 mnkr.", False),
    ("Prognosen för helåret är ett överskott på drygt 7 mnkr.", False),
    ("Intäkterna för perioden är drygt 3,4 mnkr högre än budget.", False),
    ("Prognosen för helåret är ett överskott på cirka 8 mnkr.", False),
])
def test_knappt_is_at_most_and_drygt_at_least_the_figure(example, text, wrong):
    result = claims(example, text)
    assert len(result.checks) == 1
    assert bool(result.contradictions) == wrong
    if wrong:
        message = result.contradictions[0].message
        assert "säger att talet är högst" in message or "säger att talet är minst" in message
        assert "tabellen har 7,8" in message or "tabellen har 3,4" in message


@pytest.mark.parametrize(("text", "checked", "wrong"), [
    # Driftredovisning's Avvikelse ack fg år: KLK Näringsliv 5,71 (8,71 this year), Summa Kommunstyrelsen 11,48
    ("KLK Näringsliv hade en avvikelse på 5,7 mnkr samma period 2019.", ["5,7 mnkr"], []),
    ("KLK Näringsliv hade en avvikelse på 8,7 mnkr samma period 2019.", ["8,7 mnkr"], ["8,7 mnkr"]),
    ("Avvikelsen för perioden är 16,4 mnkr, att jämföra med 11,5 mnkr samma period 2019.",
     ["16,4 mnkr", "11,5 mnkr"], []),
    ("Avvikelsen för perioden är 16,4 mnkr, att jämföra med 16,4 mnkr samma period 2019.",
     ["16,4 mnkr", "16,4 mnkr"], ["16,4 mnkr"]),
])
def test_the_year_befores_words_after_a_deviation_make_it_the_prior_years_deviation(example, text, checked, wrong):
    result = claims(example, text)
    assert [c.claim.written for c in result.checks if c.claim.kind == "belopp"] == checked
    assert [c.claim.written for c in result.contradictions] == wrong, [c.message for c in result.contradictions]
    last = [c for c in result.checks if c.claim.kind == "belopp"][-1]  # the amount "samma period 2019" follows
    if not wrong:
        assert "Avvikelse ack fg år" in last.figure.label and last.figure.ref.sheet == "Driftredovisning"
    else:
        assert "Avvikelse ack fg år, Driftredovisning!B" in result.contradictions[0].message


@pytest.mark.parametrize(("text", "outcome"), [
    # the example: Total sjukfrånvaro 2,5 %, Kvinnor 3,4 %, the target 3,0 % (Förändring −0,1)
    ("Sjukfrånvaron uppgår till 2,5 % vilket är 0,5 procentenheter lägre än målnivån på 3,0 %.", "ok"),
    ("Sjukfrånvaron uppgår till 2,5 % vilket är 0,5 procentenheter under målnivån.", "ok"),
    ("Sjukfrånvaron är 0,5 procentenheter från målet.", "ok"),
    ("Kvinnornas sjukfrånvaro är 3,4 %, 0,4 procentenheter över målet.", "ok"),
    ("Sjukfrånvaron uppgår till 2,5 % vilket är 0,4 procentenheter under målnivån.", "fel"),
    ("Sjukfrånvaron uppgår till 2,5 % vilket är 0,5 procentenheter högre än målnivån.", "fel"),
    ("Den korta sjukfrånvaron är 1,0 procentenheter under målet.", "untied"),  # the target is the total's
    ("Sjukfrånvaron har minskat med 0,1 procentenheter.", "ok"),  # a change: Förändring, as before
])
def test_procentenheter_to_the_target_are_the_distance_to_it_not_the_change(example, text, outcome):
    result = claims(example, text)
    distance = [c for c in result.checks if "procentenheter" in c.claim.written]
    got = "untied" if not distance else "fel" if any(not c.ok for c in distance) else "ok"
    assert got == outcome, [c.message for c in result.contradictions]
    assert all(c.rule == "text-procent" for c in result.contradictions)
    if outcome != "untied" and "mål" in text:
        assert "minus Mål sjukfrånvaro (%)" in distance[0].figure.label


def test_a_change_verb_exempts_only_the_amounts_after_it(example):
    """The reference report's Ekonomi list runs into a commitment ("… förbättrar kommunkoncernens
    ekonomi med 300 miljoner kronor") with no full stop: the list's amounts are checked, the
    movement after the verb is not."""
    head = ("Avvikelsen består av: Olika former av verksamhetsutveckling +4,0 mnkr Bredbandsutbyggnad {} mnkr "
            "Evenemang, bidrag, utbildningar mm +1,0 mnkr Övrigt {} mnkr")
    tail = " Utarbeta förslag som sammanlagt förbättrar kommunkoncernens ekonomi med 300 miljoner kronor till 2022."
    right = claims(example, head.format("+1,0", "+1,8") + tail)
    assert [(c.claim.written, c.ok) for c in right.checks if c.claim.kind == "belopp"] == \
        [("+4,0 mnkr", True), ("+1,0 mnkr", True), ("+1,0 mnkr", True), ("+1,8 mnkr", True)]
    assert [c.written for c in right.untied if c.kind == "belopp"] == ["300 miljoner kronor"]
    for text in (head.format("+2,0", "+9,9") + tail, head.format("+2,0", "+9,9")):
        assert [c.claim.written for c in claims(example, text).contradictions] == ["+2,0 mnkr", "+9,9 mnkr"]
    # after the verb, as before: a movement is not tied
    moved = claims(example, "Prognosen har förbättrats med 1,2 mnkr sedan februari, främst inom KLK HR (+0,8 mnkr).")
    assert not [c for c in moved.checks if c.claim.kind == "belopp"] and len(moved.untied) == 2
    # right before the verb, the amount is the movement too
    moved = claims(example, "KLK HR (+0,8 mnkr) har förbättrat sin prognos sedan februari.")
    assert not moved.checks and [c.written for c in moved.untied] == ["+0,8 mnkr"]


@pytest.mark.parametrize(("text", "written", "outcome"), [
    # MSEK and milj. kr are mnkr: checked as mnkr are (Intäkter Utfall ack 113,7)
    ("Intäkterna för perioden uppgår till 113,7 MSEK.", "113,7 MSEK", "ok"),
    ("Intäkterna för perioden uppgår till 119,7 MSEK.", "119,7 MSEK", "wrong"),
    ("Intäkterna för perioden uppgår till 113,7 milj. kr.", "113,7 milj. kr", "ok"),
    ("Intäkterna för perioden uppgår till 119,7 milj kr.", "119,7 milj kr", "wrong"),
    # accounting parentheses are a minus (KLK Ledning Avvikelse helår +2,3, Resultat Avvikelse helår +7,8)
    ("Avvikelsen för KLK Ledning för helåret är (2,3) mnkr.", "(2,3) mnkr", "wrong"),
    ("Avvikelsen för KLK Ledning för helåret är +2,3 mnkr.", "+2,3 mnkr", "ok"),
    ("Prognosen för helåret är (7,8) mnkr.", "(7,8) mnkr", "wrong"),
    # a range, a decimal point (or a thousands point), a figure with the year before's in parentheses,
    # a sign in the parentheses: a figure, listed as not checkable, never flagged
    ("Helårsprognosen för intäkterna ligger på 5-6 mnkr över budget.", "5-6 mnkr", "untied"),
    ("Helårsprognosen för intäkterna ligger på 5–6 mnkr över budget.", "5–6 mnkr", "untied"),
    ("Intäkterna för perioden uppgår till 113 000–114 000 tkr.", "113 000–114 000 tkr", "untied"),
    ("Intäkterna för perioden uppgår till 119.7 mnkr.", "119.7 mnkr", "untied"),
    ("Intäkterna för perioden uppgår till 119.700 tkr.", "119.700 tkr", "untied"),
    ("Sjukfrånvaron uppgår till 2.9 %.", "2.9 %", "untied"),
    ("Sjukfrånvaron ligger på 2,5-3,0 %.", "2,5-3,0 %", "untied"),
    ("Intäkterna för perioden uppgår till 119,7 (113,7) mnkr.", "119,7 (113,7) mnkr", "untied"),
    ("Avvikelsen för KLK Ledning för helåret är (−2,3) mnkr.", "(−2,3) mnkr", "untied"),
])
def test_other_ways_of_writing_an_amount_are_checked_or_listed_as_untied(example, text, written, outcome):
    """No amount with a unit goes unnoticed: MSEK, milj. kr and accounting parentheses are
    checked; a range or a decimal point (which may be a thousands separator) is untied."""
    result = claims(example, text)
    if outcome == "untied":
        assert result.checks == [] and written in [c.written for c in result.untied]
        return
    assert [c.claim.written for c in result.checks] == [written] and result.untied == []
    assert [c.claim.written for c in result.contradictions] == ([written] if outcome == "wrong" else [])


def test_a_range_or_a_point_without_a_unit_is_still_no_figure(example):
    """Years and versions with a hyphen or a point are not amounts (as before)."""
    result = claims(example, "Processmål 2020-2023 avrapporteras först i delårsrapport 2.",
                    "Fokus har varit att utveckla Affärsplan Eskilstuna till 2.0.")
    assert [c.written for c in result.untied] == ["2"] and result.checks == []
