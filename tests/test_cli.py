"""The command line as a user runs it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import json
import zipfile

import pytest
import python_calamine as pc

from support.cli import xlreport
from support.workbooks import EXAMPLE, as_xlsm, no_temp_files, parts, rename_sheet, sha, variant


def test_refresh_in_place(tmp_path):
    wb = variant(tmp_path / "rapport.xlsx")
    proc = xlreport("refresh", wb)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 fel, 0 varningar; skrev 28 avvikelseceller och bladen Rapport och Kontroller" in proc.stdout
    book = pc.CalamineWorkbook.from_path(str(wb))
    assert book.get_sheet_by_name("Rapport").to_python()[0][0] == "Delårsrapport 1 2020 – Kommunstyrelsen"
    assert not list(tmp_path.glob(".~xlreport-*")), "temporary file left behind"


def test_refresh_to_output_leaves_input_alone(tmp_path):
    wb = variant(tmp_path / "in.xlsx")
    before = sha(wb)
    proc = xlreport("refresh", wb, "-o", tmp_path / "ut.xlsx")
    assert proc.returncode == 0
    assert sha(wb) == before
    assert (tmp_path / "ut.xlsx").exists()


def test_refresh_twice_is_stable(tmp_path):
    wb = variant(tmp_path / "in.xlsx")
    assert xlreport("refresh", wb).returncode == 0
    first = parts(wb)
    assert xlreport("refresh", wb).returncode == 0
    second = parts(wb)
    assert first == second


@pytest.mark.parametrize("command, cells, sheets", [("fill", 28, False), ("generate", 0, True)])
def test_single_steps(tmp_path, command, cells, sheets):
    wb = variant(tmp_path / "in.xlsx")
    proc = xlreport(command, wb)
    assert proc.returncode == 0
    assert (f"skrev {cells} avvikelseceller" in proc.stdout) == bool(cells)
    assert ("bladen Rapport och Kontroller" in proc.stdout) == sheets
    rows = pc.CalamineWorkbook.from_path(str(wb)).get_sheet_by_name("Resultaträkning").to_python()
    assert (rows[4][4] != "") == bool(cells)  # Intäkter / Avvikelse ack


def test_errors_block_writing(tmp_path):
    wb = variant(tmp_path / "fel.xlsx", {"Resultaträkning!C5": "113,7"})
    before = sha(wb)
    proc = xlreport("refresh", wb)
    assert proc.returncode == 1
    assert "Resultaträkning!C5: fel: Intäkter / Utfall ack: cellen innehåller texten '113,7'" in proc.stdout
    assert "inget skrevs eftersom arbetsboken har fel" in proc.stdout
    assert sha(wb) == before


def test_warnings_do_not_block(tmp_path):
    wb = variant(tmp_path / "varning.xlsx", {"Resultaträkning!E5": 9.9})
    proc = xlreport("refresh", wb)
    assert proc.returncode == 0
    assert "varning" in proc.stdout and "Cellen ersätts med en formel" in proc.stdout
    rows = pc.CalamineWorkbook.from_path(str(wb)).get_sheet_by_name("Resultaträkning").to_python()
    assert round(rows[4][4], 2) == 3.43


def test_validate_json(tmp_path):
    bad = variant(tmp_path / "fel.xlsx", {"Personal!D5": 99})
    notbook = tmp_path / "inte.xlsx"
    notbook.write_text("Konto;Utfall\nIntäkter;12,9\n", encoding="utf-8")
    proc = xlreport("validate", EXAMPLE, bad, notbook, "--format", "json")
    assert proc.returncode == 2  # the worst outcome
    doc = json.loads(proc.stdout)
    assert [f["status"] for f in doc["files"]] == [0, 1, 2]
    finding = next(f for f in doc["findings"] if f["rule"] == "personal-kon")
    assert set(finding) == {"file", "sheet", "cell", "rule", "severity", "message", "expected", "actual"}
    assert finding == {**finding, "file": str(bad), "sheet": "Personal", "cell": "D5", "severity": "error",
                       "expected": 98.0, "actual": 99.0}
    unreadable = next(f for f in doc["findings"] if f["file"] == str(notbook))
    assert "inte en Excel-arbetsbok" in unreadable["message"] or "text" in unreadable["message"]


@pytest.mark.parametrize("make", ["missing", "directory", "empty", "text", "zip-not-workbook"])
def test_unusable_files_exit_2_with_a_message(tmp_path, make):
    path = tmp_path / "bok.xlsx"
    if make == "directory":
        path.mkdir()
    elif make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("hej", encoding="utf-8")
    elif make == "zip-not-workbook":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.txt", "x")
    proc = xlreport("refresh", path)
    assert proc.returncode == 2
    assert str(path) in proc.stdout
    assert "kunde inte behandlas" in proc.stdout


def test_structure_problem_names_file_sheet_and_cell(tmp_path):
    wb = variant(tmp_path / "flyttad.xlsx", {"Driftredovisning!D4": "Budget"})
    proc = xlreport("validate", wb)
    assert proc.returncode == 2
    assert f"{wb}: Driftredovisning!A4: fel: Kolumnen 'Budget ack' saknas" in proc.stdout


def test_rules_and_help():
    assert "avstamning" in xlreport("rules").stdout
    proc = xlreport("--help")
    assert proc.returncode == 0 and "refresh" in proc.stdout


def test_output_keeps_the_workbook_kind(tmp_path):
    """Excel refuses to open an .xlsm saved as .xlsx (and the reverse): such an -o is refused."""
    wb = as_xlsm(tmp_path / "rapport.xlsm")
    before = sha(wb)
    proc = xlreport("refresh", wb, "-o", tmp_path / "ut.xlsx")
    assert proc.returncode == 2
    assert "kan inte skrivas som ut.xlsx" in proc.stdout and "slutar på .xlsm" in proc.stdout
    assert not (tmp_path / "ut.xlsx").exists() and sha(wb) == before
    assert no_temp_files(tmp_path)
    assert xlreport("refresh", wb, "-o", tmp_path / "ut.xlsm").returncode == 0
    proc = xlreport("refresh", EXAMPLE, "-o", tmp_path / "ut2.xlsm")
    assert proc.returncode == 2 and "slutar på .xlsx" in proc.stdout


def test_sheet_names_differing_only_in_case_are_the_same_sheet(tmp_path):
    """Excel's sheet names ignore case: a 'RAPPORT' is replaced, never joined by a second 'Rapport'."""
    first = tmp_path / "first.xlsx"
    assert xlreport("refresh", EXAMPLE, "-o", first).returncode == 0
    wb = rename_sheet(tmp_path / "rapport.xlsx", "Rapport", "RAPPORT", src=first)
    assert xlreport("refresh", wb).returncode == 0
    book = pc.CalamineWorkbook.from_path(str(wb))
    folded = [n.casefold() for n in book.sheet_names]
    assert len(folded) == len(set(folded)), book.sheet_names
    assert book.get_sheet_by_name("RAPPORT").to_python()[0][0] == "Delårsrapport 1 2020 – Kommunstyrelsen"
    # and a required sheet the user retyped in lower case is still found
    wb = rename_sheet(tmp_path / "personal.xlsx", "Personal", "personal")
    proc = xlreport("refresh", wb)
    assert proc.returncode == 0, proc.stdout
