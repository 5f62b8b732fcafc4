"""Workbooks as they arrive: re-saved by other programs, stale, reshaped, in other formats.

Each case is a workbook the way another program or a user leaves it, with the figures or the
findings a careful finance officer expects. Where a figure is involved, LibreOffice opens the
result, recalculates every formula itself and must agree with what the tool wrote; no case may
give a wrong figure with exit code 0 and no finding.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from support.cli import xlreport
from support.libreoffice import convert, libreoffice_agrees
from support.workbooks import EXAMPLE, edit_package, parts, sheet_rows

INCOME, UNITS, SICK, META = "Resultaträkning", "Driftredovisning", "Sjukfrånvaro", "Uppgifter"


def row_labeled(path: Path, sheet: str, label: str) -> list:
    return next(r for r in sheet_rows(path, sheet) if r and r[0] == label)


def report_text(path: Path) -> str:
    return "\n".join(str(c) for r in sheet_rows(path, "Rapport") for c in r if c not in ("", None))


def openpyxl_copy(tmp: Path, name: str, change) -> Path:
    """The example opened and saved by openpyxl (formulas keep no cached value), after ``change``."""
    wb = openpyxl.load_workbook(EXAMPLE)
    change(wb)
    path = tmp / name
    wb.save(path)
    return path


def refresh(path: Path, out: Path | None = None):
    return xlreport("refresh", path, *(["-o", out] if out else []))


# --- re-saved by openpyxl: no cached values ---------------------------------------------------


@pytest.mark.libreoffice
def test_resaved_by_openpyxl_after_a_change_computes_every_total(tmp_path):
    def change(wb):  # more revenue and a unit with the same more: the tables still tie
        wb[INCOME]["C5"] = 114.2
        wb[UNITS]["C6"] = wb[UNITS]["C6"].value + 0.5

    path = openpyxl_copy(tmp_path, "openpyxl.xlsx", change)
    run = refresh(path, tmp_path / "ut.xlsx")
    assert run.returncode == 0 and "0 fel, 0 varningar" in run.stdout, run.output
    out = tmp_path / "ut.xlsx"
    assert round(row_labeled(out, INCOME, "Resultat")[2], 2) == round(114.2 - 96.6, 2)  # 17.6, not empty
    assert "uppgår till 17,6 mnkr" in report_text(out)
    libreoffice_agrees(out, tmp_path)


def test_resaved_by_openpyxl_with_a_change_that_breaks_the_tie_is_an_error(tmp_path):
    path = openpyxl_copy(tmp_path, "openpyxl.xlsx", lambda wb: wb[INCOME].__setitem__("C5", 114.2))
    run = xlreport("validate", path)
    assert run.returncode == 1
    assert f"{UNITS}!E13: fel:" in run.stdout and "[avstamning]" in run.stdout  # the tie is checked, not skipped


# --- saved by LibreOffice ---------------------------------------------------------------


@pytest.mark.libreoffice
def test_saved_by_libreoffice_gives_the_same_figures(tmp_path):
    saved = convert([EXAMPLE], to="xlsx")[EXAMPLE]
    assert saved is not None
    path = tmp_path / "libreoffice.xlsx"
    shutil.copyfile(saved, path)
    run = refresh(path)
    assert run.returncode == 0 and "0 fel, 0 varningar" in run.stdout, run.output
    assert "Resultatet för januari–mars 2020 uppgår till 17,1 mnkr" in report_text(path)
    libreoffice_agrees(path, tmp_path)


# --- Excel with manual calculation: stale cached totals ---------------------------------


def manual_with_stale(tmp: Path, cell: str, cached: float) -> Path:
    """The example with calcMode="manual" and ``cell`` of Driftredovisning caching ``cached``."""
    def calc(xml: bytes) -> bytes:
        return re.sub(rb"<calcPr([^>]*)/>", rb'<calcPr\1 calcMode="manual"/>', xml, count=1) \
            if b"<calcPr" in xml else xml.replace(b"</workbook>", b'<calcPr calcMode="manual"/></workbook>')

    def stale(xml: bytes) -> bytes:
        return re.sub(rf'(<c r="{cell}"[^>]*>(?:<f>[^<]*</f>))<v>[^<]*</v>'.encode(),
                      rb"\g<1><v>" + repr(cached).encode() + rb"</v>", xml, count=1)

    return edit_package(tmp / "manuell.xlsx", {"xl/workbook.xml": calc, "xl/worksheets/sheet3.xml": stale})


@pytest.mark.libreoffice
def test_manual_calculation_and_a_stale_total_inside_the_tolerance(tmp_path):
    """The stale Summa is off by 0.04 only (inside any rounding tolerance): it is still named,
    the recomputed value is used, and refresh writes it."""
    sheet_part = next(n for n, d in parts(EXAMPLE).items() if n.startswith("xl/worksheets/") and b"SUM(C5:C12)" in d)
    assert sheet_part == "xl/worksheets/sheet3.xml"
    true_sum = row_labeled(EXAMPLE, UNITS, "Summa Kommunstyrelsen")[2]
    path = manual_with_stale(tmp_path, "C13", round(true_sum + 0.04, 6))
    run = refresh(path)
    assert run.returncode == 0, run.output
    assert "[manuell-berakning]" in run.stdout
    assert f"{UNITS}!C13: varning: Formeln =SUM(C5:C12): sparat värde" in run.stdout and "[inaktuellt-varde]" in run.stdout
    assert abs(row_labeled(path, UNITS, "Summa Kommunstyrelsen")[2] - true_sum) < 1e-9  # fresh cache written
    libreoffice_agrees(path, tmp_path)


# --- a unit row inserted directly above Summa -------------------------------------------


def inserted_unit(wb, name: str, figures: list) -> None:
    ws = wb[UNITS]
    ws.insert_rows(13)
    for i, v in enumerate([name, *figures]):
        ws.cell(13, i + 1, v)
    meta = wb[META]
    last = max(c.row for c in meta["A"] if c.value) + 1
    units_col = next(c for c in meta["A"] if c.value == "Enheter")
    r = units_col.row + 1
    while meta.cell(r, 1).value:
        r += 1
    meta.cell(r, 1, name)
    assert r <= last + 1


@pytest.mark.libreoffice
def test_a_unit_row_inserted_above_summa_is_counted(tmp_path):
    """Excel does not widen =SUM(C5:C12) for a row inserted at 13: the tool extends it and says so.
    The unit is small (0.1 mnkr): inside any per-term tolerance, so only the formula shows it."""
    figures = [0.0, -0.1, -0.1, None, -0.4, -0.4, None]

    def change(wb):
        inserted_unit(wb, "KLK Ny enhet", figures)
        for col in "CDFG":  # the income statement carries the new unit's costs too
            cost = wb[INCOME][f"{col}6"]
            cost.value = cost.value + {"C": -0.1, "D": -0.1, "F": -0.4, "G": -0.4}[col]

    path = openpyxl_copy(tmp_path, "infogad.xlsx", change)
    run = refresh(path, tmp_path / "ut.xlsx")
    assert run.returncode == 0, run.output
    assert f"{UNITS}!C14: varning:" in run.stdout and "räknar inte med rad 13 (KLK Ny enhet)" in run.stdout
    assert "[summa-utokad]" in run.stdout
    out = tmp_path / "ut.xlsx"
    xml = parts(out)["xl/worksheets/sheet3.xml"].decode()
    assert "<f>SUM(C5:C13)</f>" in xml and "<f>SUM(G5:G13)</f>" in xml
    libreoffice_agrees(out, tmp_path)


def test_a_total_formula_of_another_shape_that_leaves_a_row_out_is_an_error(tmp_path):
    def change(wb):
        wb[UNITS]["C13"] = "=C5+C6+C7+C8+C9+C10+C11"  # leaves out row 12

    path = openpyxl_copy(tmp_path, "lucka.xlsx", change)
    run = xlreport("validate", path)
    assert run.returncode == 1
    assert f"{UNITS}!C13: fel:" in run.stdout and "räknar inte med rad 12" in run.stdout
    assert "[summa-tacker-inte]" in run.stdout


# --- number formats: percentages as Excel shows them ------------------------------------


def test_sick_leave_typed_as_percentages_reads_as_shown(tmp_path):
    def change(wb):
        for row in wb[SICK].iter_rows(min_row=5, max_row=7, min_col=2, max_col=8):
            for c in row:
                if isinstance(c.value, (int, float)):
                    c.value, c.number_format = c.value / 100, "0.0%"
        target = meta_cell(wb, "Mål sjukfrånvaro (%)")
        target.value, target.number_format = target.value / 100, "0%"

    path = openpyxl_copy(tmp_path, "procent.xlsx", change)
    run = refresh(path)
    assert run.returncode == 0 and "0 fel, 0 varningar" in run.stdout, run.output
    assert "Sjukfrånvaron uppgår till 2,5 % vilket är under målnivån på 3,0 %" in report_text(path)


def test_a_fraction_without_percent_format_is_called_implausible(tmp_path):
    def change(wb):
        wb[SICK]["D5"] = 0.025

    run = xlreport("validate", openpyxl_copy(tmp_path, "andel.xlsx", change))
    assert f"{SICK}!D5: varning:" in run.stdout and "[sjuk-procent-andel]" in run.stdout
    assert "Om cellen menar 2,5 %" in run.stdout


# --- dates typed into Uppgifter ---------------------------------------------------------


def meta_cell(wb, label: str):
    return next(r for r in wb[META].iter_rows() if r[0].value == label)[1]


def test_dates_in_text_fields_are_written_the_swedish_way(tmp_path):
    def change(wb):
        for label, date in (("Sjukfrånvaro period", dt.date(2020, 2, 29)), ("Sjukfrånvaro fg period", dt.date(2019, 2, 28))):
            cell = meta_cell(wb, label)
            cell.value, cell.number_format = date, "yyyy-mm-dd"

    path = openpyxl_copy(tmp_path, "datum.xlsx", change)
    run = refresh(path)
    assert run.returncode == 0, run.output
    text = report_text(path)
    assert "mars 2019–februari 2020" in text and "2020-02-29" not in text


def test_a_year_typed_as_a_date_is_one_clear_error(tmp_path):
    def change(wb):
        cell = meta_cell(wb, "År")
        cell.value, cell.number_format = dt.date(2020, 1, 1), "yyyy-mm-dd"

    run = xlreport("validate", openpyxl_copy(tmp_path, "ar.xlsx", change))
    assert run.returncode == 1
    lines = [line for line in run.stdout.splitlines() if "'År'" in line or "År" in line.split(":")[-1][:4]]
    assert len([line for line in run.stdout.splitlines() if f"{META}!B8" in line]) == 1, run.stdout
    assert "innehåller datumet 2020-01-01" in run.stdout and "inte är ifylld" not in run.stdout, lines


def test_a_date_in_a_table_cell_is_one_clear_error(tmp_path):
    """A fresh process, as a user runs it: calamine reads the workbook (a date format) and its date
    is refused as a figure, though the validation itself never imports the datetime module."""
    def change(wb):
        cell = wb[UNITS]["C6"]
        cell.value, cell.number_format = dt.date(2020, 3, 31), "yyyy-mm-dd"

    run = xlreport("validate", openpyxl_copy(tmp_path, "datum_i_tabell.xlsx", change))
    assert run.returncode == 1, run.output
    assert f"{UNITS}!C6" in run.stdout and "innehåller ett datum eller en tid (2020-03-31" in run.stdout, run.stdout


# --- the income statement shapes municipalities use -------------------------------------


def municipal_shape(wb) -> None:
    ws = wb[INCOME]
    ws["A10"] = "Resultat före finansiella poster"
    ws.insert_rows(11, 3)
    ws["A11"], ws["A12"], ws["A13"] = "Finansiella intäkter", "Finansiella kostnader", \
        "Resultat efter finansiella poster"
    for col, (fin_in, fin_out) in zip("BCDFG", [(0.5, -0.2), (0.6, -0.3), (0.5, -0.2), (2.0, -0.8), (2.0, -0.8)]):
        ws[f"{col}11"], ws[f"{col}12"] = fin_in, fin_out
        ws[f"{col}13"] = f"={col}10+{col}11+{col}12"


@pytest.mark.libreoffice
def test_the_bottom_line_of_a_municipal_income_statement_is_reported(tmp_path):
    path = openpyxl_copy(tmp_path, "kommun.xlsx", municipal_shape)
    run = refresh(path, tmp_path / "ut.xlsx")
    assert run.returncode == 0 and "0 fel, 0 varningar" in run.stdout, run.output
    out = tmp_path / "ut.xlsx"
    bottom = row_labeled(out, INCOME, "Resultat efter finansiella poster")
    assert round(bottom[2], 2) == round(113.7 - 96.6 + 0.6 - 0.3, 2)
    assert round(bottom[4], 2) == round(bottom[2] - bottom[3], 2)  # its own deviation formula
    for label in ("Finansiella intäkter", "Finansiella kostnader", "Resultat före finansiella poster"):
        assert row_labeled(out, INCOME, label)[4] != "", label  # every row gets its deviations
    assert "uppgår till 17,4 mnkr" in report_text(out)  # the bottom line, not the result before
    libreoffice_agrees(out, tmp_path, (INCOME,))


def test_a_result_formula_that_leaves_a_row_out_is_named(tmp_path):
    def change(wb):
        municipal_shape(wb)
        wb[INCOME]["C13"] = "=C10+C11"

    run = xlreport("validate", openpyxl_copy(tmp_path, "kommun.xlsx", change))
    assert run.returncode == 1
    assert f"{INCOME}!C13: fel:" in run.stdout and "räknar inte med rad 12 (Finansiella kostnader)" in run.stdout


def test_result_before_financial_items_is_never_taken_for_the_result(tmp_path):
    """No prefix matching: 'Resultat före finansiella poster' is its own row; an unknown row is a
    warning, not dropped in silence."""
    def change(wb):
        municipal_shape(wb)
        wb[INCOME]["A14"] = "Övriga poster"
        wb[INCOME]["C14"] = 0.0

    run = xlreport("validate", openpyxl_copy(tmp_path, "kommun.xlsx", change))
    assert f"{INCOME}!A14: varning:" in run.stdout and "[okand-rad]" in run.stdout


# --- other formats and names that hide a problem ----------------------------------------


def strict(path: Path) -> Path:
    """The example as Strict Open XML: the same parts with the Strict namespaces."""
    pairs = [(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
              b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
             (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
              b"http://purl.oclc.org/ooxml/officeDocument/relationships")]

    def swap(data: bytes) -> bytes:
        for a, b in pairs:
            data = data.replace(a, b)
        return data

    names = [n for n in parts(EXAMPLE) if n.endswith((".xml", ".rels"))]
    return edit_package(path, dict.fromkeys(names, swap))


@pytest.mark.parametrize("make, expected", [
    (strict, "sparad som Strict Open XML"),
    (lambda p: (shutil.copyfile(EXAMPLE, p.with_suffix(".xls")), p.with_suffix(".xls"))[1],
     "Filen heter .xls men är en Excel-arbetsbok"),
], ids=["strict", "xlsx-named-xls"])
def test_other_formats_get_a_message_that_names_the_cause(tmp_path, make, expected):
    path = make(tmp_path / "bok.xlsx")
    before = path.read_bytes()
    run = refresh(path)
    assert run.returncode == 2 and expected in run.stdout and "inga blad" not in run.stdout, run.output
    assert run.stdout.count("fel:") == 1
    assert path.read_bytes() == before


@pytest.mark.libreoffice
def test_an_ods_file_gets_a_message(tmp_path):
    ods = convert([EXAMPLE], to="ods")[EXAMPLE]
    assert ods is not None
    run = xlreport("validate", ods)
    assert run.returncode == 2 and "OpenDocument-dokument (.ods)" in run.stdout


def test_an_invisible_character_in_a_unit_name_is_named(tmp_path):
    def change(wb):
        wb[UNITS]["A6"] = "KLK\u00ad Ledning".replace("\u00ad ", " \u00ad")

    run = xlreport("validate", openpyxl_copy(tmp_path, "osynlig.xlsx", change))
    assert f"{UNITS}!A6: fel:" in run.stdout and "mjukt bindestreck, U+00AD" in run.stdout


def test_a_unit_row_below_summa_is_described_as_such(tmp_path):
    def change(wb):
        ws = wb[UNITS]
        values = [c.value for c in ws[12]]
        for c in ws[12]:
            c.value = None
        for i, v in enumerate(values):
            ws.cell(15, i + 1, v)

    run = xlreport("validate", openpyxl_copy(tmp_path, "under.xlsx", change))
    assert f"{UNITS}!A15: fel:" in run.stdout and "under Summa-raden" in run.stdout


def test_a_unit_listed_after_a_blank_cell_is_described_as_such(tmp_path):
    def change(wb):
        meta = wb[META]
        head = next(c for c in meta["A"] if c.value == "Enheter")
        r = head.row + 1
        while meta.cell(r + 1, 1).value:
            r += 1
        last = meta.cell(r, 1).value
        meta.cell(r, 1).value, meta.cell(r + 1, 1).value = None, last  # a blank cell before the last unit

    run = xlreport("validate", openpyxl_copy(tmp_path, "lista.xlsx", change))
    assert "men efter en tom cell" in run.stdout and "[enhet-okand]" in run.stdout


def test_no_case_here_gives_figures_without_a_word(tmp_path):
    """The guard of the corpus: the example itself re-saved by openpyxl, untouched, refreshes
    with 0 findings and reproduces the reference's figures (every formula was computed)."""
    path = openpyxl_copy(tmp_path, "orörd.xlsx", lambda wb: None)
    with zipfile.ZipFile(path) as z:  # openpyxl writes the formula with an empty value
        cell = re.findall(rb"<c r=\"C10\"[^>]*>.*?</c>", z.read("xl/worksheets/sheet2.xml"))[0]
    assert b"<f>C5+C6</f>" in cell and not re.search(rb"<v>[^<]+</v>", cell)
    run = refresh(path)
    assert run.returncode == 0 and "0 fel, 0 varningar" in run.stdout, run.output
    assert "uppgår till 17,1 mnkr att jämföra med budgeterat resultat 0,7 mnkr, en avvikelse på +16,4 mnkr" \
        in report_text(path)
