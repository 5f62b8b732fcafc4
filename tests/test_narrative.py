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
