"""``xlreport fix`` and the button "Rätta det som går" on real workbooks.

Each variant of the example holds the bad cells the way they arrive: numbers as text (typed as a
shared string by Excel or as an inline string by a program), names with invisible characters,
sick leave typed as a fraction. The real CLI fixes them; the file is then read back with
openpyxl and the reader, validated again, compared part by part and cell by cell with the
original, and recalculated by LibreOffice.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from support.cli import xlreport
from support.excel_payload import payload, read_sheets, remote_book
from support.hostile import PARTS, edit_sheet, replace_cell
from support.libreoffice import libreoffice_agrees
from support.workbooks import EXAMPLE, edit_package, parts, sha, sheet_rows, variant
from xlreport.core.chars import clean
from xlreport.core.fixes import plan_fixes
from xlreport.core.swedish import parse_number_text, read_number_text
from xlreport.doors.file import read_grids

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
INCOME, UNITS, META, SICK, STAFF = "Resultaträkning", "Driftredovisning", "Uppgifter", "Sjukfrånvaro", "Personal"

# Every kind of number stored as text, each in a cell of a numeric column, with what it means.
NUMBER_TEXTS = {
    f"{INCOME}!C5": ("113,7", 113.7),  # decimal comma
    f"{INCOME}!G5": ("441,0", 441.0),
    f"{INCOME}!C6": ("\u221296,6", -96.6),  # U+2212 minus
    f"{INCOME}!D6": ("109,54-", -109.54),  # trailing minus (ledger exports)
    f"{INCOME}!C7": ("(27,52)", -27.52),  # parentheses for a negative amount
    f"{UNITS}!C6": ("\u221217,22", -17.22),
    f"{UNITS}!F11": ("\u221293,1 mnkr", -93.1),  # the column's own unit
    f"{UNITS}!C7": ("\u221213,37\u200b", -13.37),  # a zero-width space after it
    f"{STAFF}!B5": ("68", 68.0),
    f"{SICK}!B6": ("1,0", 1.0),
    f"{META}!B12": ("407,2", 407.2),  # Driftram (mnkr) on Uppgifter
    f"{META}!B8": ("2020", 2020.0),  # År
}
BIG = {f"{UNITS}!F6": ("\u221280\u00a0500,0", -80500.0), f"{UNITS}!G6": ("\u221278\u202f200,0", -78200.0)}


def run_fix(*args):
    return xlreport("fix", *args)


def cell_value(path: Path, ref: str):
    sheet, addr = ref.rsplit("!", 1)
    return openpyxl.load_workbook(path, data_only=True)[sheet][addr]


def cells_of(path: Path, sheet: str) -> dict[str, bytes]:
    """Every <c> of the sheet's part, serialised: A1 -> bytes."""
    root = etree.fromstring(zipfile.ZipFile(path).read(PARTS[sheet]))
    return {c.get("r"): etree.tostring(c) for c in root.iter(NS + "c")}


def cell_xml(path: Path, ref: str) -> etree._Element:
    sheet, addr = ref.rsplit("!", 1)
    root = etree.fromstring(zipfile.ZipFile(path).read(PARTS[sheet]))
    return next(c for c in root.iter(NS + "c") if c.get("r") == addr)


def validate(path: Path) -> dict:
    run = xlreport("validate", path, "--format", "json")
    return json.loads(run.stdout)


def findings_at(doc: dict, refs) -> list[dict]:
    wanted = set(refs)
    return [f for f in doc["findings"] if f"{f['sheet']}!{f['cell']}" in wanted]


def shared_string_variant(dest: Path, cells: dict[str, str], src: Path = EXAMPLE) -> Path:
    """``src`` with ``cells`` holding text as Excel saves typed text: shared strings (t="s")."""
    strings = zipfile.ZipFile(src).read("xl/sharedStrings.xml")
    count = len(re.findall(rb"<si>", strings))
    added = b"".join(b"<si><t xml:space=\"preserve\">" + t.replace("&", "&amp;").encode() + b"</t></si>"
                     for t in cells.values())
    edits = {"xl/sharedStrings.xml": lambda x: x.replace(b"</sst>", added + b"</sst>")}
    by_sheet: dict[str, list[tuple[str, int]]] = {}
    for i, ref in enumerate(cells):
        sheet, addr = ref.rsplit("!", 1)
        by_sheet.setdefault(sheet, []).append((addr, count + i))

    def sheet_edit(pairs):
        def fn(xml: bytes) -> bytes:
            for addr, index in pairs:
                xml = replace_cell(xml, addr, f"<v>{index}</v>", 't="s"')
            return xml
        return fn

    for sheet, pairs in by_sheet.items():
        edits[PARTS[sheet]] = sheet_edit(pairs)
    return edit_package(dest, edits, src=src)


# --- numbers stored as text -----------------------------------------------------------------


@pytest.mark.parametrize("store", ["shared", "inline"])
def test_numbers_stored_as_text_become_number_cells_with_their_style(tmp_path, store):
    texts = {ref: text for ref, (text, _) in NUMBER_TEXTS.items()}
    src = tmp_path / "text.xlsx"
    if store == "shared":
        shared_string_variant(src, texts)
    else:
        variant(src, texts)
    before = validate(src)
    suggested = {f"{f['sheet']}!{f['cell']}": f["expected"] for f in before["findings"] if f["rule"] == "tal-som-text"}
    assert {ref for ref in texts if not ref.startswith(META)} <= set(suggested)
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert "Traceback" not in run.output
    assert f"{INCOME}!C5: '113,7' → 113,7 (tal sparat som text)" in run.stdout, run.stdout
    for ref, (_, value) in NUMBER_TEXTS.items():
        cell = cell_value(out, ref)
        assert cell.data_type == "n" and cell.value == pytest.approx(value, abs=1e-12), (ref, cell.value)
        if ref in suggested:  # the reader's suggestion and the fix agree
            assert suggested[ref] == pytest.approx(value)
        old, new = cell_xml(src, ref), cell_xml(out, ref)
        assert new.get("t") is None and new.find(NS + "is") is None, ref  # a real number cell
        assert new.get("s") == old.get("s"), ref  # its style is kept
    after = validate(out)
    assert not findings_at(after, NUMBER_TEXTS), findings_at(after, NUMBER_TEXTS)
    assert after["files"][0]["errors"] == 0 and run.returncode == 0, run.stdout


def test_nothing_else_changes_part_by_part_and_cell_by_cell(tmp_path):
    src = variant(tmp_path / "text.xlsx", {ref: text for ref, (text, _) in NUMBER_TEXTS.items()})
    out = tmp_path / "ut.xlsx"
    assert run_fix(src, "-o", out).returncode == 0
    a, b = parts(src), parts(out)
    assert set(a) == set(b)
    changed = {n for n in a if a[n] != b[n]}
    sheets_with_fixes = {PARTS[ref.rsplit("!", 1)[0]] for ref in NUMBER_TEXTS}
    assert changed <= sheets_with_fixes | {"xl/workbook.xml", "xl/calcChain.xml"}, changed
    for sheet in {ref.rsplit("!", 1)[0] for ref in NUMBER_TEXTS}:
        old, new = cells_of(src, sheet), cells_of(out, sheet)
        assert set(old) == set(new)
        differ = {r for r in old if old[r] != new[r]}
        assert differ == {ref.rsplit("!", 1)[1] for ref in NUMBER_TEXTS if ref.startswith(sheet + "!")}, sheet


def test_the_materiality_threshold_is_in_mnkr(tmp_path):
    """Väsentlighetsgräns (Uppgifter E4) is an amount in mnkr like Driftram: '1,5 mnkr' is
    1,5, '500 tkr' is left, saying the field is in mnkr."""
    src = variant(tmp_path / "a.xlsx", {f"{META}!E4": "1,5 mnkr"})
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert run.returncode == 0, run.stdout
    assert f"{META}!E4: '1,5 mnkr' → 1,5 (tal sparat som text, enheten mnkr borttagen)" in run.stdout, run.stdout
    assert cell_value(out, f"{META}!E4").value == 1.5
    src = variant(tmp_path / "b.xlsx", {f"{META}!E4": "500 tkr"})
    doc = json.loads(run_fix(src, "--format", "json").stdout)
    assert doc["changes"] == []
    [note] = doc["not_fixed"]
    assert (note["cell"], note["rule"]) == ("E4", "rattning-tal-enhet")
    assert "anger enheten tkr, men uppgiften är i mnkr" in note["message"], note["message"]


def test_a_stale_total_gets_its_recomputed_cached_value(tmp_path):
    """Driftredovisning!C6 typed as text: Excel's SUM skipped it, so the cached Summa is short by
    −17,22. After the fix the Summa's cached value is the sum of the numbers (and Resultat ties)."""
    text = variant(tmp_path / "a.xlsx", {f"{UNITS}!C6": "\u221217,22"})
    src = edit_sheet(tmp_path / "b.xlsx", UNITS,
                     lambda x: replace_cell(x, "C13", "<f>SUM(C5:C12)</f><v>-73.81</v>"), src=text)
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert run.returncode == 0, run.stdout
    assert "1 formel som läser cellerna fick nya beräknade värden" in run.stdout
    total = cell_xml(out, f"{UNITS}!C13")
    assert total.find(NS + "f").text == "SUM(C5:C12)"
    assert float(total.find(NS + "v").text) == pytest.approx(-91.03)
    assert sheet_rows(out, UNITS)[12][2] == pytest.approx(-91.03)  # what calamine/pandas read


def test_ambiguous_text_is_left_and_said_why(tmp_path):
    src = variant(tmp_path / "a.xlsx", {f"{UNITS}!D10": "15.450", f"{UNITS}!D11": "23 280 tkr",
                                        f"{INCOME}!C5": "113,7", f"{SICK}!D5": "2,5 mnkr"})
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out, "--format", "json")
    doc = json.loads(run.stdout)
    assert [c["cell"] for c in doc["changes"]] == ["C5"]
    notes = {(n["sheet"], n["cell"]): n for n in doc["not_fixed"]}
    assert notes[(UNITS, "D10")]["rule"] == "rattning-tal-oklart"
    assert "15,450 eller 15 450" in notes[(UNITS, "D10")]["message"]
    assert notes[(UNITS, "D11")]["rule"] == "rattning-tal-enhet"
    assert notes[(SICK, "D5")]["rule"] == "rattning-tal-enhet"
    for ref in (f"{UNITS}!D10", f"{UNITS}!D11", f"{SICK}!D5"):
        assert cell_value(out, ref).data_type == "s"  # still text: the finding stays
    assert run.returncode == 1 and doc["errors"] >= 3
    left = {f["rule"] for f in findings_at(validate(out), [f"{UNITS}!D10", f"{UNITS}!D11"])}
    assert left == {"tal-som-text"}


def test_a_formula_is_never_touched(tmp_path):
    """A formula whose cached result is the text '17,1' (TEXT() is not evaluated by the tool): the
    cell keeps its formula and its value byte for byte, and the reason is given."""
    src = edit_sheet(tmp_path / "f.xlsx", INCOME, lambda x: replace_cell(
        x, "C10", '<f>TEXT(C5+C6,"0,0")</f><v>17,1</v>', 't="str"'))
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out, "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["changes"] == [] and doc["output"] is None and not out.exists()
    assert [(n["cell"], n["rule"]) for n in doc["not_fixed"]] == [("C10", "rattning-formel")]
    assert run.returncode == 1
    fixed = variant(tmp_path / "g.xlsx", {f"{INCOME}!C5": "113,7"}, src=src)
    assert run_fix(fixed, "-o", out).returncode == 1
    assert cells_of(out, INCOME)["C10"] == cells_of(src, INCOME)["C10"]


def test_the_cells_of_an_array_formula_are_never_touched(tmp_path):
    """An array formula over C9:D9 whose results are texts: D9 has no formula of its own in the
    file (only the array's first cell has), and is left all the same."""
    def fn(xml: bytes) -> bytes:
        xml = replace_cell(xml, "C9", '<f t="array" ref="C9:D9">{"−1,0","−2,0"}</f><v>−1,0</v>', 't="str"')
        return replace_cell(xml, "D9", "<v>−2,0</v>", 't="str"')
    src = edit_sheet(tmp_path / "a.xlsx", INCOME, fn)
    doc = json.loads(run_fix(src, "--format", "json").stdout)
    assert doc["changes"] == []
    assert sorted((n["cell"], n["rule"]) for n in doc["not_fixed"]) == [("C9", "rattning-formel"),
                                                                        ("D9", "rattning-formel")]


def test_dry_run_writes_nothing(tmp_path):
    src = variant(tmp_path / "a.xlsx", {f"{INCOME}!C5": "113,7", f"{UNITS}!A8": "KLK\u00a0HR"})
    digest, mtime = sha(src), src.stat().st_mtime_ns
    run = run_fix(src, "--dry-run")
    assert run.returncode == 0, run.stdout
    assert f"{INCOME}!C5: '113,7' → 113,7 (tal sparat som text)" in run.stdout
    assert f"{UNITS}!A8: 'KLK⟨U+00A0⟩HR' → 'KLK HR'" in run.stdout
    assert "provkörning: inget skrevs" in run.stdout
    assert sha(src) == digest and src.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]
    doc = json.loads(run_fix(src, "--dry-run", "--format", "json").stdout)
    assert doc["dry_run"] and doc["output"] is None and len(doc["changes"]) == 2 and sha(src) == digest


def test_in_place_and_refused_while_excel_has_it_open(tmp_path):
    src = variant(tmp_path / "rapport.xlsx", {f"{INCOME}!C5": "113,7"})
    owner = tmp_path / "~$rapport.xlsx"
    owner.write_bytes(b"")
    digest = sha(src)
    run = run_fix(src)
    assert run.returncode == 2 and "öppen i Excel" in run.stdout and sha(src) == digest
    owner.unlink()
    run = run_fix(src)
    assert run.returncode == 0 and cell_value(src, f"{INCOME}!C5").value == 113.7
    again = run_fix(src)
    assert again.returncode == 0 and "inget att rätta" in again.stdout and sha(src) != digest


def test_not_a_workbook_is_a_clean_refusal(tmp_path):
    bad = tmp_path / "trasig.xlsx"
    bad.write_bytes(b"inte en arbetsbok")
    run = run_fix(bad)
    assert run.returncode == 2 and "trasig.xlsx" in run.stdout and bad.read_bytes() == b"inte en arbetsbok"


# --- names with invisible characters -------------------------------------------------------


def test_unit_names_are_cleaned_the_same_everywhere(tmp_path):
    """The unit table and the list on Uppgifter name KLK HR differently, invisibly: after the fix
    both say 'KLK HR' and the unit is known; labels, headers and Åtaganden get the same cleaning."""
    src = variant(tmp_path / "a.xlsx", {
        f"{UNITS}!A8": "KLK\u00a0HR ",  # NBSP and a trailing space
        f"{META}!A21": " KLK  HR",  # a leading and a double space
        f"{UNITS}!A7": "KLK Ekonomi och kval\u00aditet",  # a soft hyphen, only in the table
        f"{META}!A20": "KLK Ekonomi och kvalitet\u200b",  # a zero-width space, only in the list
        f"{INCOME}!A6": "Kost\u00adnader",  # a fixed row: not found without the fix
        f"{UNITS}!C4": "Utfall\u00a0ack",  # a column header
        "Åtaganden!C5": "Pågår\u200b",  # a status
        f"{META}!B5": "Kommunstyrelsen\u00a0",  # Nämnd
    })
    before = validate(src)
    assert {f["rule"] for f in findings_at(before, [f"{UNITS}!A8", f"{UNITS}!A7"])} <= {"enhet-okand"}
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert run.returncode == 0, run.stdout
    assert f"{UNITS}!A7: 'KLK Ekonomi och kval⟨U+00AD⟩itet' → 'KLK Ekonomi och kvalitet' (osynligt tecken " \
           "borttaget (mjukt bindestreck, U+00AD))" in run.stdout
    expected = {f"{UNITS}!A8": "KLK HR", f"{META}!A21": "KLK HR", f"{UNITS}!A7": "KLK Ekonomi och kvalitet",
                f"{META}!A20": "KLK Ekonomi och kvalitet", f"{INCOME}!A6": "Kostnader", f"{UNITS}!C4": "Utfall ack",
                "Åtaganden!C5": "Pågår", f"{META}!B5": "Kommunstyrelsen"}
    for ref, text in expected.items():
        assert cell_value(out, ref).value == text, ref
    after = validate(out)
    assert after["files"][0]["errors"] == 0, [f["message"] for f in after["findings"] if f["severity"] == "error"]
    assert not [f for f in after["findings"] if f["rule"] in ("enhet-okand", "enhet-saknas", "okand-rad")]


@pytest.mark.parametrize("name, cells", [
    ("KLK\u00a0HR\u200b ", {f"{META}!A21", f"{UNITS}!A8", "Avvikelseförklaring!C6"}),  # NBSP, zero-width space
    ("KLK Väl\u00adfärd", {f"{META}!A22", f"{UNITS}!A9", "Avvikelseförklaring!C5"}),  # soft hyphen (from Word)
])
def test_a_units_name_in_avvikelseforklaring_is_cleaned_with_the_unit(tmp_path, name, cells):
    """The unit's name with invisible characters in the list, in Driftredovisning and in the
    column Enhet of Avvikelseförklaring (the unit's explanation, its Kommentar emptied): all three
    are cleaned, so the explanation still belongs to the unit and chase asks for nothing."""
    unit_row = next(ref for ref in cells if ref.startswith(UNITS)).rsplit("!", 1)[1][1:]
    edits = {ref: name for ref in cells} | {f"{UNITS}!I{unit_row}": None}
    if "Väl" in name:  # KLK Välfärd's deviation (1,6) explained by row 5 instead of Övrigt
        edits |= {"Avvikelseförklaring!B5": 1.6, "Avvikelseförklaring!B8": 4.2}
    src = variant(tmp_path / "a.xlsx", edits)
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out, "--format", "json")
    assert run.returncode == 0, run.stdout
    assert {f"{c['sheet']}!{c['cell']}" for c in json.loads(run.stdout)["changes"]} == cells
    for ref in cells:
        assert cell_value(out, ref).value == clean(name), ref
    chase = xlreport("chase", out, "--format", "json")
    assert chase.returncode == 0 and json.loads(chase.stdout)["files"][0]["items"] == [], chase.stdout
    a, b = cells_of(src, "Avvikelseförklaring"), cells_of(out, "Avvikelseförklaring")
    assert {r for r in a if a[r] != b[r]} == {ref.rsplit("!", 1)[1] for ref in cells if ref.startswith("Avv")}


def test_clean_keeps_what_the_cell_shows():
    assert clean("KLK\u00a0 HR ") == "KLK HR"
    assert clean("Kort sjukfrånvaro\n(0–14 dagar) ") == "Kort sjukfrånvaro\n(0–14 dagar)"  # Alt+Enter kept
    assert clean("kommunlednings\u00adkontoret") == "kommunledningskontoret"
    assert clean("KLK HR") == "KLK HR"


# --- sick leave stored as a fraction --------------------------------------------------------


def test_a_fraction_is_fixed_where_short_plus_long_proves_it(tmp_path):
    """Total D5 typed 0,025 in a column of 0,8 and 1,7: 0,8 + 1,7 = 2,5 holds only after ×100.
    Kort B6 and Lång B7 typed 0,01 and 0,024 with Total 3,4: both, and only both, are fractions."""
    src = variant(tmp_path / "a.xlsx", {f"{SICK}!D5": 0.025, f"{SICK}!B6": 0.01, f"{SICK}!B7": 0.024})
    assert "sjuk-procent-andel" in {f["rule"] for f in findings_at(validate(src), [f"{SICK}!D5"])}
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert run.returncode == 0, run.stdout
    assert f"{SICK}!D5: 0,025 → 2,5 (andel sparad i stället för procent; Kort + Lång = Total i kolumnen " \
           "Totalt stämmer först så: 0,8 + 1,7 = 2,5)" in run.stdout
    assert [cell_value(out, f"{SICK}!{a}").value for a in ("D5", "B6", "B7")] == [2.5, 1.0, 2.4]
    assert not [f for f in validate(out)["findings"] if f["rule"].startswith("sjuk-")]


@pytest.mark.parametrize("cells, why", [
    ({"D5": 0.025, "D6": 0.008, "D7": 0.017}, "stämmer redan"),  # the whole column: no proof
    ({"D6": 0.08}, "inte heller efter ×100"),  # 8 + 1,7 is not 2,5 either
    ({"D5": 0.03}, "inte heller efter ×100"),  # 0,8 + 1,7 is not 3,0
])
def test_a_fraction_the_column_does_not_prove_is_left(tmp_path, cells, why):
    src = variant(tmp_path / "a.xlsx", {f"{SICK}!{a}": v for a, v in cells.items()})
    run = run_fix(src, "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["changes"] == []
    notes = [n for n in doc["not_fixed"] if n["rule"] == "rattning-procent-oklart"]
    assert notes and all(why in n["message"] for n in notes), notes


def test_a_change_that_held_is_not_broken(tmp_path):
    """Totalt fg period G5 typed 0,026 with Förändring H5 = −0,1 against Totalt 2,5: ×100 makes
    Kort + Lång = Total hold (1,3 + 1,3 = 2,6) and keeps Förändring right, so it is fixed; with
    Förändring typed to match the fraction (2,474) the fix would break it, so it is left."""
    src = variant(tmp_path / "a.xlsx", {f"{SICK}!G5": 0.026})
    assert json.loads(run_fix(src, "--format", "json").stdout)["changes"][0]["cell"] == "G5"
    src = variant(tmp_path / "b.xlsx", {f"{SICK}!G5": 0.026, f"{SICK}!H5": 2.474})
    doc = json.loads(run_fix(src, "--format", "json").stdout)
    assert doc["changes"] == [] and "Förändring" in doc["not_fixed"][0]["message"]


def test_a_fraction_proven_only_by_a_typo_in_the_total_is_left(tmp_path):
    """Män: Total typed 11 (for 1,1), Kort 0,1, Lång 1,0. Kort ×100 would make 10 + 1 = 11 hold,
    but the Total 11 already fails 'Totalt ligger mellan Kvinnor och Män' (2,5 is not between
    3,4 and 11), and 10 would break that check on the Kort row: nothing is written, and the
    note says why."""
    src = variant(tmp_path / "a.xlsx", {f"{SICK}!C5": 11.0, f"{SICK}!C6": 0.1, f"{SICK}!C7": 1.0})
    digest = sha(src)
    run = run_fix(src, "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["changes"] == [] and sha(src) == digest
    [note] = [n for n in doc["not_fixed"] if n["cell"] == "C6"]
    assert note["rule"] == "rattning-procent-oklart"
    assert "beviset bygger på Total sjukfrånvaro / Män (11,0 %), som själv inte stämmer med kontrollen " \
           "'Totalt ligger mellan Kvinnor och Män' (Sjukfrånvaro!D5:" in note["message"], note["message"]
    assert "efter ×100 stämmer inte längre kontrollen 'Totalt ligger mellan Kvinnor och Män' " \
           "(Sjukfrånvaro!D6:" in note["message"]


def test_a_fraction_fix_that_breaks_a_check_that_held_is_left(tmp_path):
    """As above with Totalt D5 typed 7,0, so that the Total 11 lies between 3,4 and 7,0 and is
    no longer in doubt: Kort ×100 (10) would still break Totalt ligger mellan Kvinnor och Män on
    the Kort row (0,8 is not between 1,0 and 10), which held with 0,1."""
    src = variant(tmp_path / "a.xlsx", {f"{SICK}!C5": 11.0, f"{SICK}!C6": 0.1, f"{SICK}!C7": 1.0, f"{SICK}!D5": 7.0})
    doc = json.loads(run_fix(src, "--format", "json").stdout)
    assert doc["changes"] == []
    [note] = [n for n in doc["not_fixed"] if n["cell"] == "C6"]
    assert "beviset bygger på" not in note["message"]
    assert "efter ×100 stämmer inte längre kontrollen 'Totalt ligger mellan Kvinnor och Män' " \
           "(Sjukfrånvaro!D6:" in note["message"], note["message"]


def percent_text_variant(dest: Path, sheet: str, texts: dict[str, str]) -> tuple[Path, int]:
    """The example with the cells ``texts`` (A1 -> text, inline strings) of ``sheet`` formatted
    0.00% (a new cell style); returns the file and that style's index."""
    def styles(xml: bytes) -> bytes:
        m = re.search(rb'<cellXfs count="(\d+)">', xml)
        n = int(m.group(1))
        xml = xml.replace(m.group(0), f'<cellXfs count="{n + 1}">'.encode(), 1)
        return xml.replace(b"</cellXfs>", b'<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" '
                                          b'applyNumberFormat="1"/></cellXfs>', 1)

    def cells(xml: bytes) -> bytes:
        for addr, text in texts.items():
            xml = replace_cell(xml, addr, f"<is><t>{text}</t></is>", f's="{n_xfs}" t="inlineStr"', keep_style=False)
        return xml
    n_xfs = int(re.search(rb'<cellXfs count="(\d+)">', zipfile.ZipFile(EXAMPLE).read("xl/styles.xml")).group(1))
    return edit_package(dest, {"xl/styles.xml": styles, PARTS[sheet]: cells}), n_xfs


@pytest.mark.parametrize("text, shown", [
    ("2,5 %", "'2,5 %' → 2,5 % (cellen har procentformat) (tal sparat som text, enheten % borttagen)"),
    ("2,5", "'2,5' → 2,5 % (cellen har procentformat) (tal sparat som text)"),
    # the number Excel keeps when 0,025 is typed into a percent-formatted cell: it shows 2,5 %
    ("0,025", "'0,025' → 0,025 (visas 2,5 %, cellen har procentformat) (tal sparat som text)"),
])
def test_text_in_a_percent_formatted_cell_is_stored_as_its_percentage(tmp_path, text, shown):
    """Sjukfrånvaro!D5 formatted 0,00% holding the text: written as 0,025, as Excel stores the
    text typed into the cell, so it shows 2,5 % and the reader reads 2,5 (the table is in percent)."""
    src, n_xfs = percent_text_variant(tmp_path / "p.xlsx", SICK, {"D5": text})
    out = tmp_path / "ut.xlsx"
    run = run_fix(src, "-o", out)
    assert run.returncode == 0, run.stdout
    assert f"{SICK}!D5: {shown}" in run.stdout, run.stdout
    assert cell_value(out, f"{SICK}!D5").value == pytest.approx(0.025)
    assert cell_xml(out, f"{SICK}!D5").get("s") == str(n_xfs)
    assert not findings_at(validate(out), [f"{SICK}!D5"])
    assert validate(out)["files"][0]["errors"] == 0


def test_text_below_one_in_a_percent_formatted_cell_that_may_mean_either_is_left(tmp_path):
    """'0,5' in a percent-formatted Kort is 50 % to Excel but most likely 0,5 %; '−0,1' in
    Förändring (procentenheter) may be either: both are left, saying the two readings."""
    src, _ = percent_text_variant(tmp_path / "p.xlsx", SICK, {"C6": "0,5", "H5": "\u22120,1"})
    run = run_fix(src, "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["changes"] == []
    notes = {n["cell"]: n for n in doc["not_fixed"]}
    assert notes["C6"]["rule"] == "rattning-tal-oklart"
    assert "kan betyda 0,5 % eller 50 %" in notes["C6"]["message"], notes["C6"]["message"]
    assert "kan betyda −0,1 procentenheter eller −10 procentenheter" in notes["H5"]["message"], notes["H5"]


# --- the same reading as the reader's finding -----------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("113,7", 113.7), ("1\u00a0234,5", 1234.5), ("1\u202f234,5", 1234.5), ("\u22123,2", -3.2), ("3,2-", -3.2),
    ("3,2\u2212", -3.2), ("(3,2)", -3.2), ("12\u00ad,9", 12.9), ("(\u22123,2)", None), ("-3,2-", None),
    ("1 234,567", 1234.567),
])
def test_read_number_text(text, value):
    assert parse_number_text(text) == value


@pytest.mark.parametrize("text, unclear", [("1.234", True), ("12,500", True), ("0,125", False), ("1 234,500", False),
                                           ("12,5", False), ("1234,567", False)])
def test_a_lone_separator_before_three_digits_is_unclear(text, unclear):
    assert read_number_text(text).grouping_unclear is unclear


def test_the_example_has_nothing_to_fix(tmp_path):
    names, grids = read_grids(EXAMPLE)
    plan = plan_fixes(grids, names)
    assert plan.fixes == [] and plan.notes == [] and plan.refreshed == []
    src = variant(tmp_path / "ex.xlsx")
    digest = sha(src)
    run = run_fix(src)
    assert run.returncode == 0 and "inget att rätta; arbetsboken har inte ändrats" in run.stdout
    assert sha(src) == digest


# --- another program opens the result ------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_fixed_file_to_the_cached_values(tmp_path):
    texts = {**{ref: text for ref, (text, _) in NUMBER_TEXTS.items()}, f"{UNITS}!C6": "\u221217,22"}
    staled = variant(tmp_path / "a.xlsx", texts)
    src = edit_sheet(tmp_path / "b.xlsx", UNITS,
                     lambda x: replace_cell(x, "C13", "<f>SUM(C5:C12)</f><v>-73.81</v>"), src=staled)
    out = tmp_path / "ut.xlsx"
    assert run_fix(src, "-o", out).returncode == 0
    csvs = libreoffice_agrees(out, tmp_path, (INCOME, UNITS), at_least=15)
    with open(csvs[UNITS], encoding="utf-8") as f:
        total = next(row for row in csv.reader(f) if row and row[0].startswith("Summa"))
    assert parse_number_text(total[2]) == pytest.approx(-91.0, abs=0.05)


# --- the button "Rätta det som går" (xlwings' remote engine) --------------------------------


def test_the_button_fixes_the_open_workbook_and_says_what_it_did():
    import xlreport.doors.excel as door

    sheets = read_sheets()
    sheets[INCOME][4][2] = "113,7"
    sheets[SICK][4][3] = 0.025
    sheets[UNITS][9][3] = "15.450"
    sheets[UNITS][6][2] = "\u221213,37"
    book = remote_book(payload(sheets))
    result = door.klick("ratta_det_som_gar", book=book)
    assert not result.failed and result.cells_written == 3
    written = {}
    for a in book.json()["actions"]:
        if a["func"] == "setFormula":
            name = [s.name for s in book.sheets][a["sheet_position"]]
            for r, row in enumerate(a["values"]):
                for c, v in enumerate(row):
                    written[(name, a["start_row"] + r, a["start_column"] + c)] = v
    assert written[(INCOME, 4, 2)] == 113.7 and written[(UNITS, 6, 2)] == -13.37 and written[(SICK, 4, 3)] == 2.5
    assert not [k for k in written if k[0] not in ("Kontroller",) and k not in
                {(INCOME, 4, 2), (UNITS, 6, 2), (SICK, 4, 3)}]
    message = result.message
    assert message.startswith("Rättade 3 celler:")
    assert f"• {INCOME}!C5: '113,7' → 113,7 (tal sparat som text)" in message
    assert "Kunde inte rättas (1):" in message and f"{UNITS}!D10" in message
    assert "Arbetsboken är inte sparad" in message
    alerts = [a for a in book.json()["actions"] if a["func"] == "alert"]
    assert len(alerts) == 1 and alerts[0]["args"][0] == message
    assert result.errors == 1  # the unclear number is still an error, marked and on Kontroller
    assert [f.rule for f in result.findings if f.is_error] == ["tal-som-text"]


def test_the_button_does_not_clean_names_where_it_cannot_see_formulas():
    """The remote engine (Excel on the web) sends no formulas: a unit name that is a formula
    (=Uppgifter!A18) would be replaced by its text, so nothing is written and the message says
    where it can be done."""
    import xlreport.doors.excel as door

    sheets = read_sheets()
    sheets[INCOME][4][2] = "113,7"
    sheets[UNITS][7][0] = "KLK HR\u00a0"
    book = remote_book(payload(sheets))
    result = door.klick("ratta_det_som_gar", book=book)
    assert not result.failed and result.cells_written == 0
    assert result.message.startswith("Det finns 2 celler att rätta, bland dem namn")
    assert f"• {INCOME}!C5: '113,7' → 113,7 (tal sparat som text)" in result.message
    assert "Inget har ändrats." in result.message and "xlreport fix" in result.message
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]


def test_the_button_lists_the_first_changes_and_the_count():
    import xlreport.doors.excel as door
    from xlreport.doors.excel_fix import SHOWN

    sheets = read_sheets()
    units = sheets[UNITS]
    for r in range(4, 12):
        for c in (2, 3, 5, 6):
            if isinstance(units[r][c], float):
                units[r][c] = f"{units[r][c]:.2f}".replace(".", ",").replace("-", "\u2212")
    book = remote_book(payload(sheets))
    result = door.klick("ratta_det_som_gar", book=book)
    assert result.cells_written == 32
    lines = result.message.splitlines()
    assert lines[0] == "Rättade 32 celler:" and sum(line.startswith("• ") for line in lines) == SHOWN
    assert f"… och {32 - SHOWN} till." in lines
    assert result.errors == 0


def test_the_button_with_nothing_to_fix_writes_no_cell():
    import xlreport.doors.excel as door

    book = remote_book(payload(read_sheets()))
    result = door.klick("ratta_det_som_gar", book=book)
    assert result.cells_written == 0 and result.message.startswith("Inget att rätta")
    user = {s.name for s in book.sheets} - {"Kontroller", "Rapport"}
    positions = {[s.name for s in book.sheets].index(n) for n in user}
    assert not [a for a in book.json()["actions"] if a["func"] == "setFormula" and a["sheet_position"] in positions]


def test_fix_is_listed(tmp_path):
    run = xlreport("--help")
    assert "fix" in run.stdout
    rules = json.loads(xlreport("rules", "--format", "json").stdout)
    assert {r["id"] for r in rules if r["group"] == "rattning"} >= {
        "rattning-tal-oklart", "rattning-tal-enhet", "rattning-formel", "rattning-procent-oklart"}


def test_the_character_tables_mean_what_the_character_classes_meant():
    """chars and ooxml_text use str.translate tables, not character classes (which cost the re
    compiler up to 1 ms each to build at start-up): the same results as the classes, on random
    text made of the characters that matter and on every code point of the BMP."""
    import random
    import re

    from xlreport.core import chars
    from xlreport.ooxml import sheetxml

    invisible = re.compile("[" + "".join(chars.INVISIBLE) + "]")
    space_run = re.compile("[ " + "".join(chars.SPACES) + "]+")
    illegal = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

    def clean(text: str) -> str:
        lines = [space_run.sub(" ", invisible.sub("", line)).strip(" ") for line in text.split("\n")]
        return "\n".join(lines).strip("\n")

    def ooxml_text(text: str) -> str:
        text = sheetxml._ESCAPE_LIKE.sub(lambda m: "_x005F" + m.group(0), text)
        return illegal.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)

    pool = [*chars.INVISIBLE, *chars.SPACES, " ", "\n", "\r", "a", "Ö", "_x0041_", "\x01", "\x0b", "\x1f",
            "\ufffe", "\uffff", "😀"]
    rnd = random.Random(15)
    for _ in range(20_000):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 12)))
        assert chars.clean(text) == clean(text), repr(text)
        assert chars.visible(text) == invisible.sub("", text)
        found = invisible.search(text)
        assert chars.invisible_in(text) == (found.group(0) if found else None)
        assert sheetxml.ooxml_text(text) == ooxml_text(text), repr(text)
    for code in range(0x10000):
        if not 0xD800 <= code <= 0xDFFF:
            assert sheetxml.ooxml_text(chr(code)) == ooxml_text(chr(code)), hex(code)
