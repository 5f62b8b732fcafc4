"""Prognosis movement (``--previous``): the change of the full-year prognosis since the previous
report, in total and per unit, on Rapport, in Word, in JSON and from the Excel button; and the
refusal of a previous workbook of another nämnd, another year, a later period, or with errors.

The previous report is built from the example (Delårsrapport 1, mars 2020) as the February
report of the same nämnd: Månad 2 and the prognoses of three units lower, so that since February
the prognosis has improved by 1,2 mnkr: KLK HR +0,8, KLK Välfärd +0,3, KLK Ekonomi och kvalitet
+0,1 (Kostnader, Resultat and the explanation of the deviation follow, so it has no errors).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support.cli import xlreport
from support.workbooks import EXAMPLE, sha, sheet_rows, variant
from xlreport.core.movement import REFUSALS, compute
from xlreport.doors.file import load, process

MONTH_2 = {"Uppgifter!B10": 2, "Uppgifter!B9": "januari–februari"}
FEBRUARY = {**MONTH_2, "Driftredovisning!G7": -51.5, "Driftredovisning!G8": -85.7, "Driftredovisning!G9": -16.5,
            "Resultaträkning!G6": -434.4, "Avvikelseförklaring!B8": 0.6}
SENTENCE = "Prognosen har förbättrats med 1,2 mnkr sedan februari, främst inom KLK HR (+0,8 mnkr)."
# (unit, Prognos förra, Prognos nu, Förändring) as Rapport shows them
TABLE = [("KS/kommunledningskontoret", 0.0, 0.0, 0.0), ("KLK Ledning", -78.2, -78.2, 0.0),
         ("KLK Ekonomi och kvalitet", -51.5, -51.4, 0.1), ("KLK HR", -85.7, -84.9, 0.8),
         ("KLK Välfärd", -16.5, -16.2, 0.3), ("KLK Näringsliv", -61.8, -61.8, 0.0),
         ("KLK Kommunikation, IT och digitalisering", -92.7, -92.7, 0.0),
         ("KLK Miljö och samhällsbyggnad", -36.5, -36.5, 0.0), ("Summa Kommunstyrelsen", -422.9, -421.7, 1.2),
         ("Resultat", 6.6, 7.8, 1.2)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("movement")


@pytest.fixture(scope="module")
def february(folder) -> Path:
    """The previous report: the February report of the same nämnd and year, without errors."""
    path = variant(folder / "februari.xlsx", FEBRUARY)
    assert not load(path, actions=()).errors
    return path


def previous_variant(folder: Path, name: str, cells: dict) -> Path:
    return variant(folder / name, {**FEBRUARY, **cells})


def movement_rows(book: Path) -> tuple[list[str], list[list]]:
    """Rapport's movement section: its text lines and its table rows (header first)."""
    rows = [[c for c in r if c != ""] for r in sheet_rows(book, "Rapport")]
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Prognosens förändring sedan februari (mnkr)")
    end = next(i for i in range(start + 1, len(rows)) if rows[i] and rows[i][0] == "Resultaträkning (mnkr)")
    section = [r for r in rows[start + 1:end] if r]
    header = next(i for i, r in enumerate(section) if r[0] == "Enhet")
    return [r[0] for r in section[:header]], section[header:]


# --- refresh ------------------------------------------------------------------------------

def test_refresh_states_the_movement_on_rapport_and_reads_the_previous_file_only(folder, february):
    out = folder / "mars.xlsx"
    before = sha(february)
    run = xlreport("refresh", EXAMPLE, "-o", out, "--previous", february)
    assert run.returncode == 0, run.output
    assert SENTENCE in run.stdout
    assert sha(february) == before  # the previous workbook is only read
    text, table = movement_rows(out)
    assert text == [SENTENCE]
    assert table[0] == ["Enhet", "Prognos förra", "Prognos nu", "Förändring"]
    assert [tuple(r) for r in table[1:]] == TABLE


def test_json_has_the_movement(folder, february):
    run = xlreport("generate", EXAMPLE, "-o", folder / "json.xlsx", "--previous", february, "--format", "json")
    assert run.returncode == 0, run.output
    movement = json.loads(run.stdout)["files"][0]["movement"]
    assert movement["sentence"] == SENTENCE and movement["since"] == "februari" and movement["previous_month"] == 2
    assert movement["total"]["deviation_change"] == pytest.approx(1.2)
    assert movement["total"]["prognos_before"] == pytest.approx(6.6)
    units = {u["label"]: u for u in movement["units"]}
    assert units["KLK HR"]["change"] == pytest.approx(0.8)
    assert units["KLK Ledning"]["change"] == 0.0
    assert movement["new_units"] == movement["gone_units"] == [] and movement["budget_changed"] is False


def test_without_previous_rapport_has_no_movement(folder):
    out = folder / "utan.xlsx"
    assert xlreport("refresh", EXAMPLE, "-o", out).returncode == 0
    assert not any(r and str(r[0]).startswith("Prognosens förändring") for r in sheet_rows(out, "Rapport"))


def test_previous_needs_one_workbook(folder, february):
    run = xlreport("refresh", EXAMPLE, february, "--previous", february)
    assert run.returncode == 2
    assert "--previous kan bara användas med en arbetsbok (2 angavs)" in run.stderr


# --- refusals -------------------------------------------------------------------------------

REFUSED = {
    "namnd": ({"Uppgifter!B5": "Socialnämnden"}, "prognos-namnd",
              ["(Uppgifter!B5) gäller nämnden 'Socialnämnden'", "gäller 'Kommunstyrelsen'"]),
    "ar": ({"Uppgifter!B8": 2019}, "prognos-ar", ["(Uppgifter!B8) gäller året 2019", "gäller 2020"]),
    "senare": ({"Uppgifter!B10": 4, "Uppgifter!B9": "januari–april"}, "prognos-period",
               ["(Uppgifter!B10) gäller månad 4 (april)", "gäller 3 (mars)", "tidigare månad"]),
    "enhet": ({"Uppgifter!B6": "KLK HR"}, "prognos-enhet", ["gäller enheten 'KLK HR'"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_previous_workbook_of_another_namnd_year_or_a_later_period_is_refused(folder, case):
    cells, rule, words = REFUSED[case]
    previous = previous_variant(folder, f"fel_{case}.xlsx", cells)
    current = folder / f"nu_{case}.xlsx"
    shutil.copyfile(EXAMPLE, current)
    before = sha(current), sha(previous)
    run = xlreport("refresh", current, "--previous", previous)
    assert run.returncode == 2, run.output
    line = next(ln for ln in run.stdout.splitlines() if f"[{rule}]" in ln)
    assert f"Förra rapporten {previous} (" in line and f"men {current} (" in line
    for w in words:
        assert w in line, line
    assert "inget har skrivits" in line
    assert (sha(current), sha(previous)) == before  # nothing written, to either


def test_the_same_period_is_refused(folder):
    current = folder / "samma.xlsx"
    shutil.copyfile(EXAMPLE, current)
    out = folder / "samma_ut.xlsx"
    run = xlreport("refresh", current, "-o", out, "--previous", EXAMPLE)
    assert run.returncode == 2 and "[prognos-period]" in run.stdout
    assert "samma period är ingen förra rapport" in run.stdout
    assert not out.exists()


def test_a_previous_workbook_with_errors_is_refused(folder):
    previous = previous_variant(folder, "trasig.xlsx", {"Driftredovisning!C6": "tolv"})
    out = folder / "trasig_ut.xlsx"
    run = xlreport("refresh", EXAMPLE, "-o", out, "--previous", previous)
    assert run.returncode == 2
    line = next(ln for ln in run.stdout.splitlines() if "[prognos-fel]" in ln)
    assert f"Förra rapporten {previous} har " in line and "Driftredovisning!C6" in line
    assert not out.exists()


def test_an_unreadable_previous_file_is_refused(folder):
    bad = folder / "inte_en_arbetsbok.xlsx"
    bad.write_text("hej", encoding="utf-8")
    out = folder / "olasbar_ut.xlsx"
    for previous in (bad, folder / "finns_inte.xlsx"):
        run = xlreport("refresh", EXAMPLE, "-o", out, "--previous", previous)
        assert run.returncode == 2
        assert f"Förra rapporten {previous} kan inte användas" in run.stdout and "[prognos-olasbar]" in run.stdout
        assert not out.exists()


def test_the_result_is_never_written_over_the_previous_workbook(folder, february):
    copy = folder / "kopia_februari.xlsx"
    shutil.copyfile(february, copy)
    before = sha(copy)
    run = xlreport("refresh", EXAMPLE, "-o", copy, "--previous", copy)
    assert run.returncode == 2 and "[prognos-skrivs-over]" in run.stdout
    assert f"Förra rapporten {copy} läses bara" in run.stdout
    assert sha(copy) == before


def test_every_refusal_is_a_declared_prognos_rule():
    from xlreport.core.findings import CATALOGUE

    assert {CATALOGUE[r].group for r in REFUSALS} == {"prognos"}


# --- what the movement says ---------------------------------------------------------------

def test_a_budget_change_is_visible_and_the_change_is_against_budget(folder):
    """KLK HR got 1,0 mnkr more budget after February (its Budget helår −84,9 then, −85,9 now):
    its prognosis in kronor improved 0,8 mnkr, against budget 1,8 mnkr."""
    previous = previous_variant(folder, "budget.xlsx", {"Driftredovisning!F8": -84.9, "Resultaträkning!F6": -440.0,
                                                        "Avvikelseförklaring!B8": -0.4})
    outcome = load(EXAMPLE, actions=(), previous=previous)
    assert not outcome.errors, outcome.findings
    m = outcome.movement
    assert m.budget_changed
    assert m.sentence() == "Prognosen har förbättrats med 2,2 mnkr sedan februari, främst inom KLK HR (+1,8 mnkr)."
    assert m.notes() == [("Budget helår för Resultat har ändrats med −1,0 mnkr sedan februari, så förändringen "
                          "räknas mot budget: Prognos helår har ändrats med +1,2 mnkr.")]
    assert m.columns() == ("Prognos förra", "Prognos nu", "Förändring", "Budgetändring", "Förändring mot budget")
    hr = next(values for label, values, _ in m.rows() if label == "KLK HR")
    assert [round(v, 1) for v in hr] == [-85.7, -84.9, 0.8, -1.0, 1.8]


def test_units_that_appear_or_disappear_are_listed(folder):
    previous = previous_variant(folder, "enheter.xlsx", {"Uppgifter!A23": "KLK Tillväxt",
                                                         "Driftredovisning!A10": "KLK Tillväxt"})
    outcome = load(EXAMPLE, actions=(), previous=previous)
    assert not outcome.errors, outcome.findings
    m = outcome.movement
    assert [u.label for u in m.new_units] == ["KLK Näringsliv"]
    assert [u.label for u in m.gone_units] == ["KLK Tillväxt"]
    assert m.notes() == ["Ny enhet sedan februari: KLK Näringsliv.",
                         "Enheten KLK Tillväxt fanns med i februari men inte i den här rapporten."]
    rows = {label: values for label, values, _ in m.rows()}
    assert rows["KLK Näringsliv"] == (None, -61.8, None) and rows["KLK Tillväxt"] == (-61.8, None, None)
    assert list(rows)[-3:] == ["KLK Tillväxt", "Summa Kommunstyrelsen", "Resultat"]


def test_worse_and_unchanged_prognoses_are_worded_so(folder, february):
    now, before = load(EXAMPLE, actions=()).report, load(february, actions=()).report
    worse = compute(before, now)  # read backwards: from the March figures to the February ones
    worse = type(worse)(worse.previous_file, 3, worse.total, worse.units, worse.units_total)
    assert worse.sentence() == "Prognosen har försämrats med 1,2 mnkr sedan mars, främst inom KLK HR (−0,8 mnkr)."
    same = compute(now, now)
    assert same.sentence() == "Prognosen är oförändrad sedan mars."
    moved = load(variant(folder / "flyttad.xlsx", {**MONTH_2, "Driftredovisning!G8": -85.7,
                                                   "Driftredovisning!G10": -61.0}), actions=())
    assert not moved.errors
    assert compute(now, moved.report).sentence() == ("Prognosen är oförändrad sedan februari, men den har "
                                                     "förbättrats inom KLK HR (+0,8 mnkr) och försämrats inom "
                                                     "KLK Näringsliv (−0,8 mnkr).")


def test_units_are_matched_by_their_normalised_names(folder):
    previous = previous_variant(folder, "namn.xlsx", {"Uppgifter!A21": "klk  hr", "Driftredovisning!A8": "klk  hr"})
    m = load(EXAMPLE, actions=(), previous=previous).movement
    assert m is not None and not m.new_units and not m.gone_units
    assert m.sentence() == SENTENCE


# --- export -------------------------------------------------------------------------------

def test_the_word_export_states_the_movement(folder, february):
    from docx import Document

    docx = folder / "mars.docx"
    before = sha(february)
    run = xlreport("export", EXAMPLE, "--docx", docx, "--previous", february)
    assert run.returncode == 0, run.output
    assert sha(february) == before
    doc = Document(str(docx))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "Prognosens förändring sedan februari (mnkr)" in paragraphs
    assert SENTENCE in paragraphs
    table = next([[c.text for c in row.cells] for row in t.rows] for t in doc.tables
                 if t.rows[0].cells[1].text == "Prognos förra")
    assert table[0] == ["Enhet", "Prognos förra", "Prognos nu", "Förändring"]
    hr = next(r for r in table if r[0] == "KLK HR")
    assert hr == ["KLK HR", "−85,7", "−84,9", "0,8"]


def test_export_refuses_another_namnds_previous_report(folder):
    previous = previous_variant(folder, "export_namnd.xlsx", {"Uppgifter!B5": "Socialnämnden"})
    docx = folder / "ingen.docx"
    run = xlreport("export", EXAMPLE, "--docx", docx, "--previous", previous, "--format", "json")
    assert run.returncode == 2
    doc = json.loads(run.stdout)
    assert doc["written"] == [] and doc["movement"] is None
    assert [f["rule"] for f in doc["findings"]] == ["prognos-namnd"]
    assert not docx.exists()


# --- the library --------------------------------------------------------------------------

def test_process_reports_the_movement_and_status(folder, february):
    result = process(EXAMPLE, out=folder / "lib.xlsx", previous=february)
    assert result.status == 0 and result.movement.sentence() == SENTENCE
    refused = process(EXAMPLE, out=folder / "lib2.xlsx", previous=EXAMPLE)
    assert refused.status == 2 and refused.written is None and refused.movement is None


# --- the Excel button ---------------------------------------------------------------------

def test_the_button_writes_the_movement_into_rapport(february):
    import xlreport.doors.excel as door
    from support.excel_payload import example_payload, remote_book
    from test_excel import alert_text, written_cells

    book = remote_book(example_payload())
    result = door.klick("jamfor_prognos", book=book, fil=str(february))
    assert not result.failed, result.message
    assert result.errors == 0 and "Rapport" in result.sheets_written
    assert alert_text(book).startswith(SENTENCE + "\n")
    rapport = written_cells(book, "Rapport")
    rows: dict[int, list] = {}
    for (r, c), v in sorted(rapport.items()):
        if v not in ("", None):
            rows.setdefault(r, []).append(v.removeprefix("'") if isinstance(v, str) else v)
    lines = list(rows.values())
    assert [SENTENCE] in lines
    header = lines.index(["Enhet", "Prognos förra", "Prognos nu", "Förändring"])
    assert [tuple(r) for r in lines[header + 1:header + 1 + len(TABLE)]] == TABLE


def test_the_button_refuses_another_namnds_workbook_and_writes_no_rapport(folder):
    import xlreport.doors.excel as door
    from support.excel_payload import example_payload, remote_book

    previous = previous_variant(folder, "knapp_namnd.xlsx", {"Uppgifter!B5": "Socialnämnden"})
    book = remote_book(example_payload())
    result = door.klick("jamfor_prognos", book=book, fil=str(previous))
    assert result.failed and "Socialnämnden" in result.message and str(previous) in result.message
    assert result.sheets_written == ["Kontroller"] and result.cells_written == 0


def test_the_button_without_a_file_does_nothing():
    import xlreport.doors.excel as door
    from support.excel_payload import example_payload, remote_book

    book = remote_book(example_payload())
    result = door.klick("jamfor_prognos", book=book, fil="")
    assert not result.failed and result.message == "" and book.json()["actions"] == []
