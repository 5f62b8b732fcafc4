"""Deviation commentary: the materiality threshold, the explanations it demands, the chase list
(`xlreport chase`, the Kontroller section, the Excel button) and consolidation carrying comments.

Every case is a real workbook: the worked example (whose material units and rows carry the
reference report's explanations) with cells typed in as a user would, or units stamped from the
template and filled.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import xlreport.doors.excel as door
from support.cli import xlreport
from support.excel_payload import payload, read_sheets, remote_book
from support.fill import fill_unit
from support.workbooks import EXAMPLE, TEMPLATE, variant
from xlreport.core import layout as L
from xlreport.core.cells import parse_a1
from xlreport.core.changes import CellWrite, ChangeSet
from xlreport.core.commentary import chase_items, is_material
from xlreport.core.config import Config
from xlreport.core.engine import SHEETS, run
from xlreport.departments import consolidate, new_many
from xlreport.doors.file import read_grids
from xlreport.ooxml.apply import apply_changes

# The example's cells (template layout: header row 4, units from row 5, Kommentar in column I;
# Avvikelseförklaring: Post, Belopp, Enhet; Väsentlighetsgräns in Uppgifter!E4).
HR_COMMENT = "Driftredovisning!I8"  # KLK HR: Avvikelse helår +1,0, Avvikelse ack +2,8
LEDNING_COMMENT = "Driftredovisning!I6"  # KLK Ledning: +2,3 and +2,9
KOSTNADER_COMMENT = "Resultaträkning!I6"  # Kostnader: +7,8 and +12,9
THRESHOLD = "Uppgifter!E4"
BREDBAND = 6  # Avvikelseförklaring row 6: "Bredbandsutbyggnad", 1,0


def outcome(path: Path):
    names, grids = read_grids(path, SHEETS)
    return run(grids, names, actions=())


def commentary(path: Path):
    return [f for f in outcome(path).findings if f.rule.startswith("forklaring")]


def type_in(path: Path, cells: dict[str, object]) -> None:
    """Type values into ``path`` in place, as a user does (the lossless writer)."""
    writes = []
    for ref, value in cells.items():
        name, addr = ref.rsplit("!", 1)
        writes.append(CellWrite(name, *parse_a1(addr), value))
    apply_changes(path, ChangeSet(writes=writes), out=path)


def sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


# --- the rule on the example and its variants -------------------------------------------------

def test_the_example_explains_every_material_deviation():
    out = outcome(EXAMPLE)
    assert out.report.meta.vasentlighet == 1.0
    assert out.findings == []
    units = {r.label: r.texts.get(L.COL_KOMMENTAR) for r in out.report.units.rows}
    assert all(units.values()), units  # all eight units reach 1,0 mnkr (helår or ack) in the reference
    assert "+7,8 mnkr" in out.report.income.get(L.ROW_KOSTNADER).texts[L.COL_KOMMENTAR]


def test_a_missing_unit_comment_is_a_warning_at_its_comment_cell(tmp_path):
    path = variant(tmp_path / "bok.xlsx", {HR_COMMENT: None})
    [f] = commentary(path)
    assert (f.rule, f.severity, f.sheet, f.cell) == ("forklaring-enhet-saknas", "warning", "Driftredovisning", "I8")
    assert f.message.startswith("KLK HR: Avvikelse helår +1,0 mnkr och Avvikelse ack +2,8 mnkr når "
                                "väsentlighetsgränsen 1,0 mnkr")
    assert "Driftredovisning!I8" in f.message and "med Enhet 'KLK HR'" in f.message
    [item] = chase_items(outcome(path).findings)
    assert (item.unit, round(item.avvikelse_helar, 6), round(item.avvikelse_ack, 6)) == ("KLK HR", 1.0, 2.81)
    # a warning does not stop the refresh
    run_ = xlreport("refresh", path)
    assert run_.returncode == 0 and "0 fel, 1 varning" in run_.stdout, run_.output


def test_a_missing_income_row_comment(tmp_path):
    path = variant(tmp_path / "bok.xlsx", {KOSTNADER_COMMENT: "  "})
    [f] = commentary(path)
    assert (f.rule, f.cell) == ("forklaring-rad-saknas", "I6")
    assert "Kostnader: Avvikelse helår +7,8 mnkr och Avvikelse ack +12,9 mnkr" in f.message


def test_a_comment_of_only_invisible_characters_explains_nothing(tmp_path):
    """A Kommentar of a zero-width space (pasted from a web page) looks empty and is empty."""
    path = variant(tmp_path / "bok.xlsx", {HR_COMMENT: "\u200b"})
    assert [(f.rule, f.cell) for f in commentary(path)] == [("forklaring-enhet-saknas", "I8")]


def test_a_chase_line_that_begins_like_a_formula_is_shown_not_run(tmp_path):
    """A unit named "=1+1" (or "+46 …", "@…") would be a formula when Excel opens the CSV."""
    from xlreport.commentary.chase import chase_file, csv_text

    path = variant(tmp_path / "bok.xlsx", {"Driftredovisning!A8": "=1+1", "Uppgifter!A21": "=1+1",
                                           HR_COMMENT: None})
    rows = list(csv.reader(io.StringIO(csv_text([chase_file(path)])), delimiter=";"))
    assert any(row[1] == "'=1+1" for row in rows[1:]), rows


def test_the_threshold_comes_from_uppgifter_else_from_the_config(tmp_path):
    cleared = {f"Driftredovisning!I{r}": None for r in range(5, 13)} | \
              {f"Resultaträkning!I{r}": None for r in range(5, 10)}
    at_3 = variant(tmp_path / "tre.xlsx", {**cleared, THRESHOLD: 3.0})
    assert sorted(i.unit for i in chase_items(outcome(at_3).findings)) == ["Intäkter", "KLK Näringsliv", "Kostnader"]
    empty = variant(tmp_path / "tom.xlsx", {**cleared, THRESHOLD: None})
    names, grids = read_grids(empty, SHEETS)
    assert len(chase_items(run(grids, names, actions=()).findings)) == 11  # Config.materiality: 1,0 mnkr
    assert len(chase_items(run(grids, names, actions=(), config=Config(materiality=5.0)).findings)) == 2
    negative = variant(tmp_path / "minus.xlsx", {THRESHOLD: -1.0})
    [f] = outcome(negative).findings
    assert (f.rule, f.severity, f.sheet, f.cell) == ("vasentlighetsgrans", "error", "Uppgifter", "E4")
    text = variant(tmp_path / "text.xlsx", {THRESHOLD: "en miljon"})
    assert [f.rule for f in outcome(text).findings] == ["uppgift-typ"]


def test_materiality_is_measured_as_printed():
    assert is_material(0.95, 1.0) and is_material(-1.0, 1.0) and not is_material(0.94, 1.0)
    assert not is_material(0.0, 0.0) and is_material(0.04 + 0.02, 0.0) and not is_material(None, 0.0)


def test_rows_keyed_to_a_unit_explain_it_when_they_add_up(tmp_path):
    # Bredbandsutbyggnad 1,0 keyed to KLK HR, whose Avvikelse helår is 1,0: explained without a comment
    keyed = variant(tmp_path / "nyckel.xlsx", {HR_COMMENT: None, f"Avvikelseförklaring!C{BREDBAND}": "KLK HR"})
    assert commentary(keyed) == []
    # keyed to KLK Ledning (+2,3) they do not add up: an error at the unit's Avvikelse helår
    wrong = variant(tmp_path / "fel.xlsx", {f"Avvikelseförklaring!C{BREDBAND}": "klk  ledning"})
    [f] = commentary(wrong)
    assert (f.rule, f.severity, f.sheet, f.cell) == ("forklaring-enhet-summa", "error", "Driftredovisning", "H6")
    assert "med Enhet 'KLK Ledning' (rad 6) summerar till +1,0 mnkr" in f.message
    assert "Avvikelse helår +2,3 mnkr (skillnad −1,3 mnkr)" in f.message
    assert (f.expected, f.actual) == (2.3, 1.0)
    run_ = xlreport("refresh", wrong)
    assert run_.returncode == 1 and "[forklaring-enhet-summa]" in run_.stdout


def test_a_key_that_is_no_unit_and_a_key_to_the_namnd(tmp_path):
    typo = variant(tmp_path / "stavning.xlsx", {f"Avvikelseförklaring!C{BREDBAND}": "KLK H R"})
    [f] = commentary(typo)
    assert (f.rule, f.severity, f.cell) == ("forklaring-enhet-okand", "warning", f"C{BREDBAND}")
    assert "Menade du 'KLK HR'?" in f.message
    namnd = variant(tmp_path / "namnd.xlsx", {f"Avvikelseförklaring!C{BREDBAND}": "Kommunstyrelsen"})
    assert outcome(namnd).findings == []  # the nämnd's own row, as without a key


def test_a_workbook_without_the_columns_is_told_where_to_write(tmp_path):
    """An older workbook (no Kommentar, no Enhet column) still works; each material unit gets a
    warning that says which column to add."""
    old = variant(tmp_path / "gammal.xlsx", {"Driftredovisning!I4": "Egen anteckning",
                                              "Resultaträkning!I4": "Egen anteckning",
                                              "Avvikelseförklaring!C4": None})
    out = outcome(old)
    assert out.errors == 0 and {f.rule for f in out.findings} == {"forklaring-enhet-saknas", "forklaring-rad-saknas"}
    hr = next(f for f in out.findings if f.message.startswith("KLK HR"))
    assert hr.cell == "A8"  # the unit's own cell: there is no comment cell
    assert "lägg till kolumnen 'Kommentar' i Driftredovisning (rubriken i rubrikraden, rad 4, t.ex. i J4)" in hr.message
    assert "kolumnen 'Enhet' i Avvikelseförklaring" in hr.message


# --- the chase list: CLI, CSV, Kontroller -----------------------------------------------------

def test_chase_cli_text_csv_and_exit_codes(tmp_path):
    folder = tmp_path / "inkommet"
    folder.mkdir()
    variant(folder / "a_hr.xlsx", {HR_COMMENT: None, LEDNING_COMMENT: None})
    shutil.copyfile(EXAMPLE, folder / "b_klar.xlsx")
    run_ = xlreport("chase", folder, "--csv", tmp_path / "lista.csv")
    assert run_.returncode == 1, run_.output
    lines = run_.stdout.splitlines()
    assert lines[-1].startswith("2 förklaringar att begära i 1 av 2 filer.")
    assert any("a_hr.xlsx: Driftredovisning!I8: KLK HR: Avvikelse helår 1,0, Avvikelse ack 2,8 mnkr: Förklaring "
               "saknas." in line for line in lines), lines
    raw = (tmp_path / "lista.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Fil", "Enhet", "Rad", "Cell", "Avvikelse helår (mnkr)", "Avvikelse ack (mnkr)", "Status",
                       "Vad saknas"]
    assert [r[1:7] for r in rows[1:]] == [
        ["KLK Ledning", "Driftredovisning", "Driftredovisning!I6", "2,3", "2,9", "Förklaring saknas"],
        ["KLK HR", "Driftredovisning", "Driftredovisning!I8", "1,0", "2,8", "Förklaring saknas"]]
    assert all(r[0].endswith("a_hr.xlsx") for r in rows[1:])
    # nothing to chase: exit 0
    done = xlreport("chase", EXAMPLE)
    assert done.returncode == 0 and "0 förklaringar att begära i 0 av 1 fil." in done.stdout


def test_chase_json_with_an_unreadable_file_and_a_glob(tmp_path):
    variant(tmp_path / "enhet_1.xlsx", {KOSTNADER_COMMENT: None, THRESHOLD: 2.0})
    (tmp_path / "enhet_2.xlsx").write_text("inte en arbetsbok", encoding="utf-8")
    run_ = xlreport("chase", str(tmp_path / "enhet_*.xlsx"), "--format", "json", "--csv", tmp_path / "ut.csv")
    assert run_.returncode == 2, run_.output
    doc = json.loads(run_.stdout)
    first, second = doc["files"]
    assert first["status"] == 1 and first["enhet"] == "Kommunledningskontoret"
    [item] = first["items"]
    assert (item["enhet"], item["tabell"], item["cell"], item["avvikelse_helar"], item["status"],
            item["vasentlighetsgrans"]) == ("Kostnader", "Resultaträkning", "I6", 7.8, "saknas", 2.0)
    assert round(item["avvikelse_ack"], 2) == 12.94
    assert second["status"] == 2 and second["problem"]["rule"] == "ej-arbetsbok"
    rows = list(csv.reader(io.StringIO((tmp_path / "ut.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[1][1:7] == ["Kommunledningskontoret", "Resultaträkning: Kostnader", "Resultaträkning!I6", "7,8",
                            "12,9", "Förklaring saknas"]
    assert rows[2][6] == "Kunde inte kontrolleras" and rows[2][0].endswith("enhet_2.xlsx")


def test_the_chase_list_is_a_section_of_kontroller(tmp_path):
    path = variant(tmp_path / "bok.xlsx", {HR_COMMENT: None})
    out = tmp_path / "ut.xlsx"
    assert xlreport("refresh", path, "-o", out).returncode == 0
    rows = sheet(out, L.SHEET_FINDINGS)
    at = next(i for i, r in enumerate(rows) if r and r[0] == "Förklaringar att begära")
    assert rows[at + 2][:5] == ["Status", "Blad", "Cell", "Enhet / rad", "Vad saknas"]
    line = rows[at + 3]
    assert line[:4] == ["Förklaring saknas", "Driftredovisning", "I8", "KLK HR"]
    assert (round(line[5], 6), round(line[6], 6)) == (1.0, 2.81)
    assert "väsentlighetsgräns 1,0 mnkr" in rows[at + 1][0]
    assert not any(r and r[0] == "Förklaringar att begära" for r in sheet(EXAMPLE, L.SHEET_FINDINGS))


# --- the Excel button ---------------------------------------------------------------------------

def test_the_button_shows_the_list_and_writes_the_csv_beside_the_workbook(tmp_path):
    path = variant(tmp_path / "enhet.xlsx", {HR_COMMENT: None})
    book = remote_book(payload(read_sheets(path), book_name=str(path)))
    result = door.klick("forklaringar_att_begara", book=book)
    assert not result.failed and result.errors == 0 and result.warnings == 1, result.message
    assert "1 enhet eller rad med väsentlig avvikelse saknar förklaring" in result.message
    assert L.SHEET_FINDINGS in result.sheets_written and result.cells_marked == 1
    blocks = [a for a in book.json()["actions"] if a["func"] == "setFormula"
              and a["sheet_position"] == [s.name for s in book.sheets].index(L.SHEET_FINDINGS)]
    values = [v for a in blocks for row in a["values"] for v in row]
    assert "Förklaringar att begära" in values and "KLK HR" in values
    target = tmp_path / "enhet_förklaringar.csv"
    assert str(target) in result.message
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[1][1:6] == ["KLK HR", "Driftredovisning", "Driftredovisning!I8", "1,0", "2,8"]


def test_the_button_on_a_workbook_without_missing_explanations():
    book = remote_book(payload(read_sheets(EXAMPLE), book_name=EXAMPLE.name))
    result = door.klick("forklaringar_att_begara", book=book)
    assert not result.failed and result.message == "Alla väsentliga avvikelser har en förklaring: inget att begära."


# --- consolidation carries the commentary ----------------------------------------------------------

HR = {L.COL_AVV_FG: -0.89, L.COL_UTFALL: -18.67, L.COL_BUDGET: -21.48, L.COL_BUDGET_HELAR: -85.9,
      L.COL_PROGNOS: -84.9}
LEDNING = {L.COL_AVV_FG: 0.41, L.COL_UTFALL: -17.22, L.COL_BUDGET: -20.13, L.COL_BUDGET_HELAR: -80.5,
           L.COL_PROGNOS: -78.2}


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inkommet")
    made = {m.unit: m.path for m in new_many(["KLK HR", "KLK Ledning"], "2020-03", TEMPLATE, folder,
                                             kommun="Eskilstuna kommun", namnd="Kommunstyrelsen",
                                             rapport="Delårsrapport 1")}
    fill_unit(made["KLK HR"], HR)
    fill_unit(made["KLK Ledning"], LEDNING)
    # KLK HR explains in words; KLK Ledning with two rows of its Avvikelseförklaring (2,3 together)
    type_in(made["KLK HR"], {"Driftredovisning!I5": "Utbildningar senareläggs",
                             "Resultaträkning!I6": "Lägre kostnader än budget"})
    type_in(made["KLK Ledning"], {"Avvikelseförklaring!A5": "Verksamhetsutveckling", "Avvikelseförklaring!B5": 1.5,
                                  "Avvikelseförklaring!A6": "Evenemang", "Avvikelseförklaring!B6": 0.8})
    out = tmp_path_factory.mktemp("namnd") / "kommunstyrelsen.xlsx"
    result = consolidate([folder], out, units=["KLK HR", "KLK Ledning"])
    return result, out, made


def test_consolidation_carries_comments_and_keyed_rows_with_their_source(consolidated):
    result, out, made = consolidated
    assert result.status == 0, [f.message for _file, f in result.notes]
    units = {r[0]: r for r in sheet(out, L.SHEET_UNITS)[4:6]}
    assert units["KLK HR"][8] == ("Utbildningar senareläggs. Kostnader: Lägre kostnader än budget. "
                                  "(källa: KLK_HR.xlsx)")
    assert units["KLK Ledning"][8] == ""
    explanation = sheet(out, L.SHEET_EXPLANATION)
    assert [r[:3] for r in explanation[4:6]] == [["Verksamhetsutveckling", 1.5, "KLK Ledning"],
                                                 ["Evenemang", 0.8, "KLK Ledning"]]
    sources = sheet(out, "Källor")
    at = next(i for i, r in enumerate(sources) if r and str(r[0]).startswith("Enheternas förklaringar"))
    carried = [r[:5] for r in sources[at + 2:]]
    assert ["KLK HR", str(made["KLK HR"]), "Driftredovisning!I5", "KLK HR: Utbildningar senareläggs", ""] in carried
    assert ["KLK Ledning", str(made["KLK Ledning"]), "Avvikelseförklaring!A5", "Verksamhetsutveckling", 1.5] in carried
    # the nämnd's workbook: both units explained (KLK Ledning by its keyed rows, which add up to +2,3);
    # its Kostnader (+3,3 helår) has no comment of the nämnd's own
    names, grids = read_grids(out, SHEETS)
    found = run(grids, names, actions=()).findings
    assert [(f.rule, f.cell) for f in found if f.rule.startswith("forklaring")] == [("forklaring-rad-saknas", "I6")]


def test_a_namnd_workbook_without_the_columns_keeps_the_commentary_on_kallor(consolidated, tmp_path):
    _result, _out, made = consolidated
    into = variant(tmp_path / "gammal_namnd.xlsx", {"Driftredovisning!I4": None, "Avvikelseförklaring!C4": None},
                   src=TEMPLATE)
    out = tmp_path / "namnd.xlsx"
    result = consolidate([made["KLK HR"].parent], out, into=into, units=["KLK HR", "KLK Ledning"])
    notes = [f.message for _file, f in result.notes]
    assert any("har ingen kolumn 'Kommentar'; enheternas kommentarer (1 enhet) står på bladet Källor" in n
               for n in notes), notes
    assert any("Enheternas rader i Avvikelseförklaring (2 st) fördes inte över: nämndens Avvikelseförklaring har "
               "ingen kolumn 'Enhet'" in n for n in notes), notes
    assert result.out == out
    sources = sheet(out, "Källor")
    assert any(r[:4] == ["KLK Ledning", str(made["KLK Ledning"]), "Avvikelseförklaring!A6", "Evenemang"]
               for r in sources)
