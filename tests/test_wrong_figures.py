"""Workbooks on which the tool once gave a wrong figure with "0 fel, 0 varningar".

Each case is a real file made from the example by editing its XML (as Excel or a user would
leave it), run through the file door; where the question is what a spreadsheet shows, LibreOffice
recalculates what the tool wrote.
"""

from __future__ import annotations

import csv
import zipfile

import pytest

from support import libreoffice
from support.hostile import PARTS, cell_edit, edit_sheet, replace_cell
from support.memory import findings_with
from support.workbooks import edit_package, sha, variant
from xlreport.doors.file import process

needs_lo = pytest.mark.skipif(not libreoffice.available(), reason="LibreOffice (soffice) is not installed")


def _found(result) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f"{f.sheet}!{f.cell}") for f in result.findings}


def _lo_rows(path, tmp, sheet: str) -> list[list[str]]:
    csvs = libreoffice.convert_sheets_to_csv(path, tmp / "lo", recalc=True)
    with open(csvs[sheet], encoding="utf-8") as f:
        return list(csv.reader(f))


def _formula(path, sheet: str, ref: str) -> str | None:
    import re

    xml = zipfile.ZipFile(path).read(PARTS[sheet]).decode()
    m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>(.*?)</c>)', xml)
    assert m, ref
    f = re.search(r"<f[^>]*>(.*?)</f>", m.group(1) or "")
    return f.group(1) if f else None


@needs_lo
def test_a_formula_that_gives_empty_text_is_read_through_n(tmp_path):
    """=IF(F5=0;"";...) gives "": Excel's arithmetic on it is #VALUE!, so the deviation formula
    written beside it must read it through N(), as it does a typed "–"."""
    src = cell_edit("Driftredovisning", "D5", '<f>IF(F5=0,"",F5*3/12)</f><v></v>', 't="str"')(tmp_path / "in.xlsx")
    out = tmp_path / "ut.xlsx"
    result = process(src, ("fill", "generate"), out=out)
    assert result.status == 0, result.findings
    assert _formula(out, "Driftredovisning", "E5") == "C5-N(D5)"
    shown = _lo_rows(out, tmp_path, "Driftredovisning")
    assert shown[4][4] in ("-2.19", "−2.19", "-2.2", "−2.2"), shown[4]  # a number, not #VALUE!


def test_a_result_formula_that_adds_a_varav_row_twice_is_an_error(tmp_path):
    """Resultat =C5+C6+C9 counts 'varav köp av verksamhet' (already inside Kostnader) twice: off
    by 0,12 mnkr, inside the rounding tolerance a typed figure gets, but a formula is exact."""
    def edit(xml: bytes) -> bytes:
        xml = replace_cell(xml, "C9", "<v>-0.12</v>")
        return replace_cell(xml, "C10", "<f>C5+C6+C9</f><v>16.98</v>")

    src = edit_sheet(tmp_path / "in.xlsx", "Resultaträkning", edit)
    before = sha(src)
    result = process(src, ("fill", "generate"))
    assert ("resultat-tacker-inte", "error", "Resultaträkning!C10") in _found(result)
    assert "varav köp av verksamhet" in next(f.message for f in result.findings if f.cell == "C10")
    assert sha(src) == before  # nothing written over the user's data


def test_a_result_formula_of_its_parts_is_no_error():
    """The template's own Resultat formulas read exactly Intäkter and Kostnader: no finding."""
    assert not any(rule == "resultat-tacker-inte" for rule, _, _ in findings_with())


@needs_lo
def test_a_prognosis_computed_from_the_deviation_keeps_the_deviation(tmp_path):
    """Prognos helår =F8+H8 from a typed deviation: H8 =G8-F8 would be a circular reference
    (Err:522 in LibreOffice, a warning in Excel) while the cached values still looked right."""
    def edit(xml: bytes) -> bytes:
        xml = replace_cell(xml, "G8", "<f>F8+H8</f><v>-84.9</v>")
        return replace_cell(xml, "H8", "<v>1</v>")

    src = edit_sheet(tmp_path / "in.xlsx", "Driftredovisning", edit)
    out = tmp_path / "ut.xlsx"
    result = process(src, ("fill", "generate"), out=out)
    assert result.status == 0, result.findings
    assert ("avvikelse-ur-avvikelsen", "warning", "Driftredovisning!H8") in _found(result)
    assert _formula(out, "Driftredovisning", "H8") is None
    assert _formula(out, "Driftredovisning", "E8") == "C8-D8"  # the row's other deviation is filled
    shown = _lo_rows(out, tmp_path, "Driftredovisning")
    assert [shown[7][6], shown[7][7]] in (["-84.9", "1.0"], ["−84.9", "1.0"], ["-84.9", "1"]), shown[7]
    assert not any("Err" in text or "#" in text for line in shown for text in line)


def _scaled_styles(xml: bytes) -> bytes:
    old = b'formatCode="#,##0.0;&quot;\xe2\x88\x92&quot;#,##0.0;0.0"'
    assert old in xml
    return xml.replace(old, b'formatCode="#,##0.0,,;&quot;\xe2\x88\x92&quot;#,##0.0,,;0.0"')


def test_amounts_shown_in_millions_of_kronor_are_an_error(tmp_path):
    """'#,##0.0,,' shows 113 700 000 as 113,7: the sheet looks like mnkr while every figure read
    (and written back, and reported) would be in kronor."""
    src = edit_package(tmp_path / "in.xlsx", {"xl/styles.xml": _scaled_styles})
    result = process(src, ("fill", "generate"))
    found = {(rule, where.split("!")[0]) for rule, _, where in _found(result)}
    assert {("skalat-talformat", s) for s in ("Resultaträkning", "Driftredovisning", "Avvikelseförklaring")} <= found
    message = next(f.message for f in result.findings if f.rule == "skalat-talformat")
    assert "1 000 000" in message and "#,##0.0,," in message
    assert result.written is None


@pytest.mark.parametrize(("code", "scale"), [
    ("#,##0.0,,", 2), ("0,", 1), ('#,##0," tkr"', 1), ("[$-41D]#,##0,", 1), ("0.0,,;[Red]-0.0,,", 2),
    ("#,##0", 0), ("0.0", 0), ("0.0\\,", 0), ('"a,"0', 0), ('#,##0.0 "mnkr"', 0), ("General", 0),
])
def test_a_format_scales_by_the_commas_after_its_last_digit(code, scale):
    from xlreport.core.reader import _scale_of

    assert _scale_of(code) == scale


@pytest.mark.parametrize(("code", "positive", "negative"), [
    ("0.0;-0.0,,", 0, 2), ("0.0,,;-0.0", 2, 0), ("0.0,", 1, 1), ('0.0;"−"0.0', 0, 0),
])
def test_a_negative_value_is_scaled_by_the_second_section(code, positive, negative):
    """Excel shows a negative value through the format's second section, when it has one."""
    from xlreport.core.reader import _scale_of

    assert (_scale_of(code), _scale_of(code, True)) == (positive, negative)


def test_tables_titled_in_tkr_are_warned(tmp_path):
    def edit(xml: bytes) -> bytes:
        assert "Resultaträkning, mnkr".encode() in xml
        return xml.replace("Resultaträkning, mnkr".encode(), "Resultaträkning, tkr".encode())

    src = edit_package(tmp_path / "in.xlsx", {"xl/sharedStrings.xml": edit})
    assert ("rubrik-enhet", "warning", "Resultaträkning!A1") in _found(process(src, ()))


def test_unit_figures_a_thousand_times_the_frame_are_an_error():
    """Driftredovisning typed in tkr beside a Driftram in mnkr: a Summa of −429 500 'mnkr'."""
    assert ("belopp-enhet", "error", "Driftredovisning!F13") in findings_with({"Driftredovisning!F13": -429_500.0})


def test_a_fee_financed_namnd_with_a_small_frame_is_no_error():
    """A nämnd financed by fees (VA, renhållning): revenue of hundreds of mnkr beside a Driftram of
    a few mnkr is right, in mnkr."""
    found = findings_with({"Uppgifter!B12": 2.0, "Resultaträkning!F5": 441.0})
    assert not any(rule in ("belopp-enhet", "belopp-storlek") for rule, _, _ in found), found


def test_amounts_beyond_any_budget_are_a_warning_without_a_frame():
    found = findings_with({"Resultaträkning!F5": 441_000.0, "Uppgifter!B12": None})
    assert ("belopp-storlek", "warning", "Resultaträkning!F5") in found, found


def test_a_unit_table_filled_beside_an_empty_income_statement_is_an_error():
    """A unit that filled only Driftredovisning: Resultat has no figures, so nothing tied and a
    consolidation took the unit's empty Resultat row as zeros."""
    empty = {f"Resultaträkning!{c}{r}": None for c in "BCDFG" for r in range(5, 11)}
    found = findings_with(empty)
    assert ("avstamning", "error", "Resultaträkning!E10") in found, sorted(found)
    assert ("avstamning", "error", "Resultaträkning!H10") in found, sorted(found)


@pytest.mark.parametrize(("formula", "named"), [
    ("SUM(C5:C12)+C7", "rad 7 (KLK Ekonomi och kvalitet) två gånger"),
    ("SUM(C5:C12)+C20", "C20, som inte är en rad i tabellen"),
])
def test_a_summa_formula_that_adds_more_than_its_units_is_an_error(tmp_path, formula, named):
    """Summa =SUM(C5:C12)+C7 (a unit twice) or +C20 (a cell below the table): more than the units,
    by an amount a typed Summa's tolerance could hide."""
    def edit(xml: bytes) -> bytes:
        xml = replace_cell(xml, "C13", f"<f>{formula}</f><v>-91</v>")
        return xml.replace(b"</sheetData>", b'<row r="20"><c r="C20"><v>0.1</v></c></row></sheetData>')

    src = edit_sheet(tmp_path / "in.xlsx", "Driftredovisning", edit)
    result = process(src, ())
    hits = [f for f in result.findings if f.rule == "summa-tacker-inte" and f.cell == "C13"]
    assert hits and named in hits[0].message, result.findings


def test_a_result_formula_that_reads_a_row_twice_is_an_error(tmp_path):
    src = cell_edit("Resultaträkning", "C10", "<f>SUM(C5:C6)+C6</f><v>-79.5</v>")(tmp_path / "in.xlsx")
    hits = [f for f in process(src, ()).findings if f.rule == "resultat-tacker-inte" and f.cell == "C10"]
    assert hits and "två gånger" in hits[0].message


@pytest.mark.parametrize(("cell", "text", "unit"), [
    ("Uppgifter!B12", "407 200 tkr", "tkr"),  # Driftram, in mnkr
    ("Uppgifter!E4", "500 tkr", "tkr"),  # Väsentlighetsgräns, in mnkr
    ("Uppgifter!E4", "5 %", "%"),
])
def test_an_amount_of_uppgifter_in_another_unit_is_an_error(cell, text, unit):
    """'407 200 tkr' as the Driftram was read as 407 200 mnkr, and '500 tkr' as the threshold
    made every deviation immaterial: both with 0 fel."""
    from support.memory import result_with

    result = result_with({cell: text})
    hits = [f for f in result.findings if f.rule == "uppgift-typ" and f"{f.sheet}!{f.cell}" == cell]
    assert hits and f"(cellen anger {unit})" in hits[0].message, result.findings


@pytest.mark.parametrize("text", ["407,2 mnkr", "407,2"])
def test_an_amount_of_uppgifter_in_its_own_unit_is_read(text):
    from support.memory import outcome_with

    outcome = outcome_with({"Uppgifter!B12": text}, actions=())
    assert outcome.report.meta.driftram == 407.2 and not outcome.findings


@pytest.mark.parametrize("note", ["Beloppen är avrundade till närmaste 100 000 kr.", "Kostnader per kr intäkt."])
def test_a_note_that_mentions_kronor_is_no_title_unit(tmp_path, note):
    src = variant(tmp_path / "in.xlsx", {"Resultaträkning!A2": note})
    assert not any(f.rule == "rubrik-enhet" for f in process(src, ()).findings)


def test_an_income_statement_without_a_unit_table_is_no_tie_error():
    """A nämnd that fills only Resultaträkning: its figures are the nämnd's; nothing to tie."""
    empty = {f"Driftredovisning!{c}{r}": None for c in "BCDFG" for r in range(5, 14)}
    assert not any(rule == "avstamning" for rule, _, _ in findings_with(empty))
