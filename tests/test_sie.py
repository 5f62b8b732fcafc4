"""``xlreport import-sie``: a ledger's SIE file into the report workbook, end to end.

Real files and the real command: each test writes a SIE file (:mod:`test_sie_files` builds them),
imports it into a nämnd workbook stamped from the template (or a copy of the worked example)
with the CLI in a new process, and reads the result back with python-calamine; one test lets
LibreOffice recalculate it. The expected tables are computed by hand from the amounts below
(the arithmetic is in the comments), not by the code under test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc

from support import libreoffice
from support.cli import xlreport
from support.workbooks import EXAMPLE, edit_package
from test_sie_files import HEAD, ledger, namnd_workbook, sie_file
from xlreport.core import engine
from xlreport.core import layout as L
from xlreport.doors.memory import MemoryDoor
from xlreport.sie import SIE_SHEETS, plan_import, read_sie

UNITS = ["Ledning", "Förskola", "Äldreomsorg"]
CHART = [*HEAD, '#DIM 1 "Ansvar"', '#OBJEKT 1 "10" "Ledning"', '#OBJEKT 1 "20" "Förskola"',
         '#OBJEKT 1 "30" "Äldreomsorg"', '#KONTO 3010 "Försäljning"', '#KONTO 5010 "Löner"',
         '#KONTO 6010 "Lokalhyra"', '#KONTO 4610 "Köp av verksamhet"', '#KONTO 7010 "Konsulter"',
         '#KONTO 8410 "Ränteintäkter"', '#KONTO 1930 "Bank"']


def _every_month(y: int, account: str, obj: str | None, amount: str) -> dict:
    return {(y, account, obj, m): amount for m in range(1, 13)}


# Amounts in kronor as SIE writes them (credit negative), (year index, account, object, month).
ACTUAL = {
    **_every_month(0, "3010", "10", "-100000.00"), **_every_month(0, "3010", "20", "-250000.50"),
    **_every_month(0, "5010", "10", "300000.00"), **_every_month(0, "5010", "20", "1200000.25"),
    **_every_month(0, "5010", "30", "800000.00"), **_every_month(0, "6010", "20", "50000.00"),
    **_every_month(0, "6010", "30", "40000.00"), **_every_month(0, "4610", "30", "500000.00"),
    (0, "7010", "10", 2): "12345.67", (0, "8410", "10", 3): "-1000.00", (0, "1930", None, 1): "999999.00",
    **_every_month(-1, "3010", "10", "-80000.00"), **_every_month(-1, "5010", "10", "280000.00"),
    **_every_month(-1, "5010", "20", "1000000.00"), **_every_month(-1, "5010", "30", "700000.00"),
}
BUDGET = {
    **_every_month(0, "3010", "10", "-90000.00"), **_every_month(0, "5010", "10", "310000.00"),
    **_every_month(0, "3010", "20", "-240000.00"), **_every_month(0, "5010", "20", "1150000.00"),
    **_every_month(0, "6010", "20", "55000.00"), **_every_month(0, "5010", "30", "820000.00"),
    **_every_month(0, "6010", "30", "40000.00"), **_every_month(0, "4610", "30", "480000.00"),
    **_every_month(-1, "3010", "10", "-80000.00"), **_every_month(-1, "5010", "10", "300000.00"),
    **_every_month(-1, "5010", "20", "950000.00"), **_every_month(-1, "5010", "30", "750000.00"),
}

FG, UT, BU, BH, AVV_FG = L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_AVV_FG
# Januari–mars, kronor -> mnkr with two decimals, revenue positive:
#   Utfall ack: Intäkter 3*(100 000 + 250 000,50) + 1 000 = 1 051 001,50 -> 1,05;
#     Kostnader 3*(300 000 + 1 200 000,25 + 800 000 + 50 000 + 40 000 + 500 000) + 12 345,67 = 8 682 346,42;
#     personal 3*2 300 000,25 = 6 900 000,75; lokal 3*90 000; köp 3*500 000. Resultat −7 631 344,92.
#   Budget ack: 3*330 000 = 990 000; 3*2 855 000 = 8 565 000 -> 8,57 (half up); lokal 3*95 000 = 285 000 -> 0,29.
#   Budget helår: twelve months. Utfall ack fg år (2019): 3*80 000; 3*1 980 000. Bank (1930) is not in it.
INCOME = {
    L.ROW_INTAKTER: {FG: 0.24, UT: 1.05, BU: 0.99, BH: 3.96},
    L.ROW_KOSTNADER: {FG: -5.94, UT: -8.68, BU: -8.57, BH: -34.26},
    L.ROW_PERSONAL: {FG: -5.94, UT: -6.90, BU: -6.84, BH: -27.36},
    L.ROW_LOKAL: {FG: None, UT: -0.27, BU: -0.29, BH: -1.14},
    L.ROW_KOP: {FG: None, UT: -1.50, BU: -1.44, BH: -5.76},
    L.ROW_RESULTAT: {FG: -5.70, UT: -7.63, BU: -7.58, BH: -30.30},
}
# Per unit: Ledning 3*(-100 000 + 300 000) + 12 345,67 - 1 000 = 611 345,67; Förskola 3*(-250 000,50 +
# 1 200 000,25 + 50 000) = 2 999 999,25 -> 3,00; Äldreomsorg 3*1 340 000. Budget: 3*220 000, 3*965 000 =
# 2 895 000 -> 2,90, 3*1 340 000. Avvikelse ack fg år = Utfall − Budget 2019: -600 000 + 660 000 = 0,06,
# -3 000 000 + 2 850 000 = -0,15, -2 100 000 + 2 250 000 = 0,15.
UNIT_TABLE = {
    "Ledning": {AVV_FG: 0.06, UT: -0.61, BU: -0.66, BH: -2.64},
    "Förskola": {AVV_FG: -0.15, UT: -3.00, BU: -2.90, BH: -11.58},
    "Äldreomsorg": {AVV_FG: 0.15, UT: -4.02, BU: -4.02, BH: -16.08},
    "Summa": {AVV_FG: 0.06, UT: -7.63, BU: -7.58, BH: -30.30},
}


@pytest.fixture(scope="module")
def stamped(tmp_path_factory) -> Path:
    return namnd_workbook(tmp_path_factory.mktemp("mall") / "ks.xlsx", UNITS)


@pytest.fixture
def book(stamped, tmp_path) -> Path:
    dest = tmp_path / "rapport.xlsx"
    shutil.copyfile(stamped, dest)
    return dest


def sheet(path: Path, name: str) -> list[list]:
    return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table(path: Path, name: str, head: str) -> dict[str, dict[str, object]]:
    """{row label: {column header: value}} of the table whose first header is ``head``."""
    rows = sheet(path, name)
    r0 = next(i for i, r in enumerate(rows) if r and r[0] == head)
    headers = rows[r0]
    out = {}
    for r in rows[r0 + 1:]:
        if r and r[0]:
            out[r[0]] = {h: (None if v == "" else v) for h, v in zip(headers[1:], r[1:])}
    return out


def assert_figures(path: Path, income: dict, units: dict | None) -> None:
    got = table(path, L.SHEET_INCOME, L.HEAD_INCOME)
    for label, cols in income.items():
        for col, want in cols.items():
            assert got[label][col] == (pytest.approx(want, abs=1e-9) if want is not None else None), (label, col)
    if units is not None:
        got = table(path, L.SHEET_UNITS, L.HEAD_UNITS)
        for label, cols in units.items():
            for col, want in cols.items():
                assert got[label][col] == pytest.approx(want, abs=1e-9), (label, col)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def the_file(tmp_path: Path, records: list[str], name: str = "huvudbok.se", **kw) -> Path:
    return sie_file(tmp_path / name, [*CHART, *records], **kw)


# --- the figures, from each kind of file ---------------------------------------------------

def test_type_3_period_balances_with_objects_both_years_and_budget(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 0, run.output
    assert_figures(book, INCOME, UNIT_TABLE)
    # the refresh ran: deviations are formulas with values, and Rapport was written
    inc = table(book, L.SHEET_INCOME, L.HEAD_INCOME)
    assert inc[L.ROW_RESULTAT][L.COL_AVV] == pytest.approx(-7.63 + 7.58)
    assert inc[L.ROW_RESULTAT][L.COL_AVV_HELAR] == pytest.approx(30.30)  # no Prognos helår yet: 0 − Budget
    units = table(book, L.SHEET_UNITS, L.HEAD_UNITS)
    assert units["Förskola"][L.COL_AVV] == pytest.approx(-3.00 + 2.90)
    assert any("Resultatet för januari–mars 2020" in str(c) for r in sheet(book, L.SHEET_REPORT) for c in r)
    # the reconciliation, to the öre, and the rounding difference are reported
    assert "Avstämning" in run.stdout
    line = next(x for x in run.stdout.splitlines() if x.split("  ")[1:2] == ["Utfall ack"])
    assert "−7 631 344,92" in line and "+1 344,92" in line  # −7,63 mnkr written: 1 344,92 kr less cost
    assert "skrev" in run.stdout and "Källor" in run.stdout


def test_the_provenance_entry_on_kallor(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    assert xlreport("import-sie", sie, book).returncode == 0
    rows = sheet(book, "Källor")
    head = next(i for i, r in enumerate(rows) if r and r[0] == "SIE-fil")
    entry = dict(zip(rows[head], rows[head + 1]))
    assert entry["SIE-fil"] == str(sie) and entry["SHA-256"] == digest(sie)
    assert entry["Storlek (byte)"] == sie.stat().st_size
    assert entry["Program (#PROGRAM)"] == "Testbok 2.1" and entry["Skapad (#GEN)"] == "2020-04-05 AB"
    assert entry["Företag (#FNAMN)"] == "Exempel kommun" and entry["SIE-typ"] == "4"
    assert entry["Perioder"] == ("Utfall ack 2020-01–2020-03 (#PSALDO); Utfall ack fg år 2019-01–2019-03 (#PSALDO); "
                                 "Budget ack 2020-01–2020-03 (#PBUDGET); Budget helår 2020-01–2020-12 (#PBUDGET); "
                                 "Budget ack fg år 2019-01–2019-03 (#PBUDGET)")
    # the same file again: the entry (and its time) stays; another file adds a row
    before = entry["Importerad (UTC)"]
    assert xlreport("import-sie", sie, book).returncode == 0
    rows = sheet(book, "Källor")
    assert [r[0] for r in rows[head + 1:] if r and r[0]] == [str(sie)] and rows[head + 1][8] == before
    other = the_file(tmp_path, ledger(ACTUAL), name="mars.se")
    assert xlreport("import-sie", other, book).returncode in (0, 1)
    rows = sheet(book, "Källor")
    assert [r[0] for r in rows[head + 1:] if r and r[0]] == [str(sie), str(other)]


# A consolidation's block on Källor (src/xlreport/departments/consolidation.py ``_sources_sheet``), as
# ``consolidate --into`` writes it below the provenance table of an earlier import.
CONSOLIDATION = [["Källor till sammanställningen – Kommunstyrelsen"],
                 ["Skapas av xlreport consolidate. Varje rad är en enhets arbetsbok."],
                 [],
                 ["Enhet", "Fil", "Storlek (byte)", "SHA-256", "Läst (UTC)", "Filen ändrad (UTC)", "Fel",
                  "Varningar", "Med i sammanställningen"],
                 ["KLK HR", "enheter/KLK_HR.xlsx", 12345, "cd" * 32, "2020-04-07T09:00:00Z",
                  "2020-04-07T08:00:00Z", 0, 0, "Ja"]]


def _with_consolidation_block(book: Path, at: int) -> list[list]:
    """Write :data:`CONSOLIDATION` onto Källor of ``book`` from its 0-based row ``at``; the sheet's rows."""
    from xlreport.core.changes import CellWrite, ChangeSet
    from xlreport.ooxml.apply import apply_changes

    writes = [CellWrite("Källor", at + i, j, v) for i, row in enumerate(CONSOLIDATION) for j, v in enumerate(row)]
    apply_changes(book, ChangeSet(writes=writes), out=book)
    return sheet(book, "Källor")


@pytest.mark.parametrize("gap", [0, 1], ids=["directly-below", "one-blank-row-as-consolidate-writes"])
def test_more_imports_insert_rows_above_a_consolidation_block_on_kallor(tmp_path, book, gap):
    """A consolidation's block under the provenance table (directly, or one blank row below as
    ``consolidate --into`` puts it): each further import inserts rows so that its entry joins the
    table, one blank row stays between the table and the block, and the block is kept whole."""
    first = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    assert xlreport("import-sie", first, book).returncode == 0
    rows = sheet(book, "Källor")
    head = next(i for i, r in enumerate(rows) if r and r[0] == "SIE-fil")
    rows = _with_consolidation_block(book, head + 2 + gap)
    block = rows[head + 2 + gap:]
    files = [first]
    for name, kind in (("mars.se", "psaldo"), ("verifikationer.se", "vouchers")):  # two other files
        files.append(the_file(tmp_path, ledger(ACTUAL, kind=kind), name=name))
        run = xlreport("import-sie", files[-1], book)
        assert run.returncode in (0, 1), run.output
        assert "sie-kallor" not in run.output
    rows = sheet(book, "Källor")
    assert [r[0] for r in rows[head + 1:head + 4]] == [str(f) for f in files]
    assert [r[2] for r in rows[head + 1:head + 4]] == [digest(f) for f in files]
    assert not any(rows[head + 4])  # one blank row between the table and the block
    assert [r[:9] for r in rows[head + 5:]] == [r[:9] for r in block]  # the block, whole, moved down
    assert_figures(book, {L.ROW_RESULTAT: {UT: -7.63}}, None)


def test_no_rows_are_inserted_on_a_kallor_with_a_table_object(tmp_path, book):
    """Rows cannot be inserted on a sheet with tables, drawings or comments: the entry that would
    land on the consolidation's block is refused as before, and the workbook is left as it was."""
    from xlreport.ooxml.edit import PackageEdit
    from xlreport.ooxml.workbook import worksheet_part

    first = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    assert xlreport("import-sie", first, book).returncode == 0
    head = next(i for i, r in enumerate(sheet(book, "Källor")) if r and r[0] == "SIE-fil")
    _with_consolidation_block(book, head + 2)
    with PackageEdit.opened(book) as edit:
        part = worksheet_part(edit, "Källor")
    objects = tmp_path / "med_tabellobjekt.xlsx"
    edit_package(objects, {part: lambda xml: xml.replace(b"</worksheet>", b'<tableParts count="0"/></worksheet>')},
                 src=book)
    out = _refused(objects, the_file(tmp_path, ledger(ACTUAL), name="mars.se"), objects, code=1)
    assert "sie-kallor" in out and "har redan värden i" in out

def test_vouchers_only_give_the_same_figures(tmp_path, book):
    """A file with #VER/#TRANS and no period balances: the vouchers of each month are summed."""
    sie = the_file(tmp_path, ledger(ACTUAL, kind="vouchers", budget=BUDGET))
    assert read_sie(sie).psaldo == {}
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 0, run.output
    assert_figures(book, INCOME, UNIT_TABLE)
    assert "(#TRANS)" in run.stdout


def test_type_2_totals_only_fill_the_income_statement(tmp_path, book):
    """Without objects the unit table cannot be filled: a warning; the refresh then finds that the
    empty unit table does not match Resultat (the user's next step), and says so."""
    sie = the_file(tmp_path, ledger(ACTUAL, kind="totals"))
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 1, run.output
    assert_figures(book, {k: {FG: v[FG], UT: v[UT]} for k, v in INCOME.items()}, None)
    assert "[sie-saknas]" in run.stdout and "inga belopp per objekt i dimension 1" in run.stdout
    assert "budget (#PBUDGET)" in run.stdout and "[avstamning]" in run.stdout
    rows = table(book, L.SHEET_UNITS, L.HEAD_UNITS)
    assert list(rows) == [L.ROW_SUMMA] and all(not v for v in rows[L.ROW_SUMMA].values())  # untouched


def test_type_1_year_balances_for_a_whole_year(tmp_path):
    book = namnd_workbook(tmp_path / "helar.xlsx", UNITS, period="2020-12")
    sie = the_file(tmp_path, ledger(ACTUAL, kind="res"))
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 1, run.output  # figures in; the empty unit table does not match (see above)
    # 2020: Intäkter 12*350 000,50 + 1 000 = 4 201 006 -> 4,20; Kostnader 12*2 890 000,25 + 12 345,67
    # = 34 692 348,67 -> 34,69. 2019: 12*80 000 = 0,96; 12*1 980 000 = 23,76.
    assert_figures(book, {L.ROW_INTAKTER: {UT: 4.20, FG: 0.96}, L.ROW_KOSTNADER: {UT: -34.69, FG: -23.76},
                          L.ROW_RESULTAT: {UT: 4.20 - 34.69, FG: 0.96 - 23.76}}, None)
    assert "(#RES)" in run.stdout


def test_type_1_cannot_give_a_part_of_the_year(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL, kind="res"))
    before = digest(book)
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 1 and digest(book) == before
    assert "bara årssaldon (#RES" in run.stdout and "[sie-period]" in run.stdout


def test_cp437_names_find_the_units_and_utf8_works_too(tmp_path, book):
    """The units Förskola and Äldreomsorg are found by their #OBJEKT names in PC8 and in UTF-8."""
    for encoding in ("cp437", "utf-8"):
        sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET), encoding=encoding, bom=encoding == "utf-8")
        run = xlreport("import-sie", sie, book)
        assert run.returncode == 0, run.output
        assert_figures(book, INCOME, UNIT_TABLE)
        assert ("UTF-8 med BOM" if encoding == "utf-8" else "PC8 (CP437)") in run.stdout


def test_one_decimal_and_its_rounding_difference(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    run = xlreport("import-sie", sie, book, "--decimaler", "1", "--format", "json")
    doc = json.loads(run.stdout)
    assert run.returncode == 0 and doc["decimals"] == 1
    inc = table(book, L.SHEET_INCOME, L.HEAD_INCOME)
    assert (inc[L.ROW_INTAKTER][UT], inc[L.ROW_KOSTNADER][UT]) == (pytest.approx(1.1), pytest.approx(-8.7))
    rec = {r["column"]: r for r in doc["reconciliation"]}[UT]
    # exact −7 631 344,92 kr; written 1,1 − 8,7 = −7,6 mnkr: rounding +31 344,92 kr; the units −0,6 − 3,0 − 4,0
    assert Decimal(rec["accounts"]) == Decimal(rec["rows"]) == Decimal(rec["units"]) == Decimal("-7631344.92")
    assert Decimal(rec["rounding_result_kr"]) == Decimal("31344.92")
    assert Decimal(rec["rounding_units_kr"]) == Decimal("31344.92")
    assert doc["sie"]["sha256"] == digest(sie) and doc["provenance"]["sha256"] == digest(sie)


# --- the write: lossless, only input cells, formulas kept ------------------------------------

def test_only_input_cells_are_written_and_the_template_formulas_stay(tmp_path, book):
    before = zipfile.ZipFile(book)
    old = {i.filename: before.read(i.filename) for i in before.infolist()}
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    out = tmp_path / "ut.xlsx"
    assert xlreport("import-sie", sie, book, "-o", out).returncode == 0
    new = {i.filename: zipfile.ZipFile(out).read(i.filename) for i in zipfile.ZipFile(out).infolist()}
    changed = {n for n in old if n in new and new[n] != old[n]}
    assert set(old) <= set(new)
    assert all(n.endswith((".xml", ".rels")) for n in changed)
    assert not {n for n in changed if n.startswith(("docProps/", "xl/theme/", "xl/printerSettings"))}
    wb = openpyxl.load_workbook(out)  # formulas, to look at (never saved)
    inc = wb[L.SHEET_INCOME]
    res_row = next(c.row for c in inc["A"] if c.value == L.ROW_RESULTAT)
    assert [inc.cell(res_row, c).value for c in (2, 3, 4, 6, 7)] == ["=B5+B6", "=C5+C6", "=D5+D6", "=F5+F6",
                                                                     "=G5+G6"]
    units = wb[L.SHEET_UNITS]
    summa_row = next(c.row for c in units["A"] if str(c.value).startswith("Summa"))
    assert units.cell(summa_row, 3).value == f"=SUM(C5:C{summa_row - 1})"
    assert all(units.cell(r, 7).value is None for r in range(5, summa_row))  # Prognos helår untouched


def test_into_the_worked_example(tmp_path):
    """The example's own units; its Prognos and explanation belong to its old figures, so after the
    import the refresh reports that they no longer fit (exit 1) and the figures are in."""
    book = tmp_path / "exempel.xlsx"
    shutil.copyfile(EXAMPLE, book)
    units = [r[0] for r in sheet(book, L.SHEET_META) if r and r[0]][-8:]
    records = [*HEAD, *(f'#OBJEKT 1 "{i}" "{u}"' for i, u in enumerate(units))]
    amounts = {(0, "5010", str(i), m): f"{100000 * (i + 1)}.00" for i in range(8) for m in (1, 2, 3)}
    sie = sie_file(tmp_path / "ks.se", [*records, *ledger(amounts)])
    run = xlreport("import-sie", sie, book)
    assert run.returncode == 1 and "[avstamning]" in run.stdout, run.output
    got = table(book, L.SHEET_UNITS, L.HEAD_UNITS)
    # unit i: 3 months of (i+1)*100 000 kr of cost
    assert [got[u][UT] for u in units] == [pytest.approx(-0.3 * (i + 1)) for i in range(8)]
    assert table(book, L.SHEET_INCOME, L.HEAD_INCOME)[L.ROW_KOSTNADER][UT] == pytest.approx(-10.8)
    assert table(book, L.SHEET_INCOME, L.HEAD_INCOME)[L.ROW_KOSTNADER][L.COL_PROGNOS] == -433.2  # not touched


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_same_figures(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    assert xlreport("import-sie", sie, book).returncode == 0
    csvs = libreoffice.convert_sheets_to_csv(book, tmp_path / "lo", recalc=True)
    import csv

    def rows(name):
        with open(csvs[name], encoding="utf-8") as f:
            return {r[0]: r[1:] for r in csv.reader(f) if r}

    inc, units = rows(L.SHEET_INCOME), rows(L.SHEET_UNITS)
    head = inc[L.HEAD_INCOME]
    res = dict(zip(head, inc[L.ROW_RESULTAT]))
    assert float(res[UT]) == pytest.approx(-7.63) and float(res[BU]) == pytest.approx(-7.58)
    assert float(res[L.COL_AVV]) == pytest.approx(-0.05) and float(res[BH]) == pytest.approx(-30.30)
    summa = dict(zip(units[L.HEAD_UNITS], units["Summa"]))
    assert float(summa[UT]) == pytest.approx(-7.63) and float(summa[AVV_FG]) == pytest.approx(0.06)
    assert float(summa[L.COL_AVV_HELAR]) == pytest.approx(30.30)


# --- the door-independent plan (what the Excel button calls) --------------------------------

def test_the_plan_on_grids_as_a_door_reads_them(tmp_path, book):
    from xlreport.doors.file import read_grids

    names, grids = read_grids(book, SIE_SHEETS)
    door = MemoryDoor(grids, names, interactive=True)
    sie = the_file(tmp_path, ledger(ACTUAL, budget=BUDGET))
    names, grids = door.read(SIE_SHEETS)  # what the Excel door reads of the open workbook
    plan = plan_import(sie, grids, names, imported_at="2020-04-06T08:00:00Z")
    assert plan.errors == 0 and plan.provenance.sha256 == digest(sie) and plan.provenance.imported.startswith("2020")
    assert [s.name for s in plan.changes.sheets] == ["Källor"]
    door.apply(plan.changes)
    outcome = engine.process(door)  # the button's refresh after the import
    assert outcome.errors == 0
    res = outcome.report.resultat()
    assert (res.num(UT), res.num(BU), res.num(BH)) == (pytest.approx(-7.63), pytest.approx(-7.58),
                                                       pytest.approx(-30.30))
    assert {r.key: r.num(UT) for r in outcome.report.units.rows} == {
        "Ledning": pytest.approx(-0.61), "Förskola": pytest.approx(-3.00), "Äldreomsorg": pytest.approx(-4.02)}


# --- bad input: a Swedish message with the line (or the cell), and the workbook untouched ------

def _refused(book: Path, *args, code: int) -> str:
    before = digest(book)
    run = xlreport("import-sie", *args)
    assert run.returncode == code, run.output
    assert digest(book) == before
    return run.stdout + run.stderr


def test_a_voucher_that_does_not_balance(tmp_path, book):
    records = ledger(ACTUAL, kind="vouchers")
    i = records.index("{", records.index(next(r for r in records if r.startswith("#VER A 7 "))))
    records[i + 1] = records[i + 1].rsplit(" ", 1)[0] + " 1.00"
    sie = the_file(tmp_path, records)
    out = _refused(book, sie, book, code=2)
    line = len(CHART) + i  # the #VER line
    assert f"{sie}: rad {line}: fel: Verifikation A 7 balanserar inte" in out and "[sie-verifikation]" in out


def test_a_truncated_file(tmp_path, book):
    records = ledger(ACTUAL, kind="vouchers")
    sie = the_file(tmp_path, records)
    sie.write_bytes(sie.read_bytes()[:-40])
    out = _refused(book, sie, book, code=2)
    assert "avkortad" in out and "[sie-avkortad]" in out and ": rad " in out


def test_another_year(tmp_path, book):
    records = [r.replace("#RAR 0 20200101 20201231", "#RAR 0 20190101 20191231") for r in CHART]
    sie = sie_file(tmp_path / "fel-ar.se", [*records, *ledger(ACTUAL)])
    out = _refused(book, sie, book, code=1)
    assert f"{sie}: rad 8: fel: SIE-filen gäller räkenskapsåret 2019-01-01–2019-12-31" in out
    assert "rapportens År är 2020 (Uppgifter!B8)" in out and "[sie-ar]" in out


def test_windows_1252_instead_of_pc8(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL), encoding="cp1252")
    out = _refused(book, sie, book, code=2)
    assert f"{sie}: rad {HEAD.__len__() + 3}: fel: Filen verkar vara skriven i Windows-1252" in out


def test_not_a_sie_file(tmp_path, book):
    out = _refused(book, EXAMPLE, book, code=2)
    assert "zip-fil" in out and "[sie-fil]" in out


def test_an_account_without_a_row_and_the_mapping_file(tmp_path, book):
    amounts = {**ACTUAL, (0, "8610", "10", 1): "-5000.00", (0, "9010", "20", 2): "700.00"}
    sie = the_file(tmp_path, [*ledger(amounts, budget=BUDGET), '#KONTO 8610 "Utdelning"'])
    out = _refused(book, sie, book, code=1)
    assert "Konto 8610 'Utdelning' har belopp men hör inte till någon rad i Resultaträkning" in out
    assert "Konto 9010 har belopp" in out and out.count("[sie-konto]") == 2
    konton = tmp_path / "konton.csv"
    konton.write_text("Konto;Rad\n86;Intäkter\n9;-\n", encoding="cp1252")
    run = xlreport("import-sie", sie, book, "--map", konton)
    assert run.returncode == 0, run.output
    # Intäkter 1,05 mnkr + 5 000 kr of dividend = 1 056 501,50 -> 1,06
    assert table(book, L.SHEET_INCOME, L.HEAD_INCOME)[L.ROW_INTAKTER][UT] == pytest.approx(1.06)


def test_a_bad_mapping_file(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL))
    konton = tmp_path / "konton.csv"
    konton.write_text("Konto;Rad\n3;Intäkter\n5x;Kostnader\n", encoding="utf-8")
    out = _refused(book, sie, book, "--map", konton, code=2)
    assert f"{konton}: rad 3: fel: Kontot '5x' är inget konto" in out
    konton.write_text("Konto;Rad\n3;Vinst\n", encoding="utf-8")
    out = _refused(book, sie, book, "--map", konton, code=2)
    assert "rad 2" in out and "Raden 'Vinst' finns inte i Resultaträkning" in out


def test_an_object_that_is_no_unit_and_the_units_file(tmp_path, book):
    amounts = {**ACTUAL, (0, "5010", "40", 1): "1000.00"}
    sie = the_file(tmp_path, [*ledger(amounts), '#OBJEKT 1 "40" "Förskola Norr"'])
    out = _refused(book, sie, book, code=1)
    assert "Objekt 40 'Förskola Norr' i dimension 1 har belopp men är ingen enhet" in out
    assert "Menade du 'Förskola'?" in out and "[sie-objekt]" in out
    enheter = tmp_path / "enheter.csv"
    enheter.write_text("Objekt;Enhet\n40;Förskola\n", encoding="utf-8-sig")
    run = xlreport("import-sie", sie, book, "--enheter", enheter)
    assert run.returncode in (0, 1), run.output
    # Förskola: 2 999 999,25 + 1 000 = 3 000 999,25 -> 3,00
    assert table(book, L.SHEET_UNITS, L.HEAD_UNITS)["Förskola"][UT] == pytest.approx(-3.00)
    enheter.write_text("Objekt;Enhet\n40;Förskolan\n", encoding="utf-8")
    out = _refused(book, sie, book, "--enheter", enheter, code=1)
    assert f"{enheter}: rad 2: fel: Enheten 'Förskolan' (för objekt 40) finns inte" in out


def test_objects_that_do_not_add_up_to_the_account(tmp_path, book):
    records = ledger(ACTUAL)
    i = records.index("#PSALDO 0 202002 5010 {} 2300000.25")
    records[i] = "#PSALDO 0 202002 5010 {} 2300100.25"
    sie = the_file(tmp_path, records)
    out = _refused(book, sie, book, code=1)
    assert "Utfall ack: enheterna summerar till −7 631 344,92 kr men kontona till −7 631 444,92 kr" in out
    assert "konto 5010 −100,00 kr" in out and "[sie-avstamning]" in out


def test_last_years_objects_are_reconciled_too(tmp_path, book):
    """Avvikelse ack fg år of the units comes from last year's objects: they must add up as well."""
    records = ledger(ACTUAL, budget=BUDGET)
    i = records.index("#PBUDGET -1 201901 5010 {} 2000000.00")
    records[i] = "#PBUDGET -1 201901 5010 {} 2000050.00"
    sie = the_file(tmp_path, records)
    out = _refused(book, sie, book, code=1)
    assert "Budget ack fg år (för Avvikelse ack fg år): enheterna summerar till" in out and "konto 5010 −50,00 kr" in out


def test_vouchers_without_a_unit(tmp_path, book):
    amounts = {**ACTUAL, (0, "7010", None, 2): "2500.00"}
    sie = the_file(tmp_path, ledger(amounts, kind="vouchers"))
    out = _refused(book, sie, book, code=1)
    assert "Belopp som inte är fördelade på objekt i dimension 1: konto 7010 −2 500,00 kr" in out


def test_the_workbook_must_say_its_year_and_have_room_for_the_units(tmp_path, stamped):
    from support.workbooks import variant

    sie = the_file(tmp_path, ledger(ACTUAL))
    no_year = variant(tmp_path / "utan-ar.xlsx", {f"{L.SHEET_META}!B8": None}, src=stamped)
    out = _refused(no_year, sie, no_year, code=1)
    assert f"{no_year}: Uppgifter!B8: fel: Uppgiften 'År' saknas" in out and "[sie-period]" in out
    many = [f"Enhet {i}" for i in range(10)]
    crowded = namnd_workbook(tmp_path / "tio.xlsx", many)
    records = [*CHART, *(f'#OBJEKT 1 "{i}" "Enhet {i}"' for i in range(10))]
    ten = sie_file(tmp_path / "tio.se", [*records, *ledger({(0, "5010", str(i), 1): "1.00" for i in range(10)})])
    out = _refused(crowded, ten, crowded, code=1)
    assert "inte plats för enheterna" in out and "infoga 2 rader ovanför Summa-raden (A13)" in out


def test_refused_while_excel_has_the_workbook_open(tmp_path, book):
    sie = the_file(tmp_path, ledger(ACTUAL))
    owner = book.with_name("~$" + book.name)
    owner.write_bytes(b"")
    out = _refused(book, sie, book, code=2)
    assert "öppen i Excel" in out


def test_json_lists_the_lines(tmp_path, book):
    records = ledger(ACTUAL, kind="vouchers")
    records.append("#TRANS 3010 {} 1.00")
    sie = the_file(tmp_path, records)
    run = xlreport("import-sie", sie, book, "--format", "json")
    assert run.returncode == 2
    doc = json.loads(run.stdout)
    (f,) = doc["findings"]
    assert f["file"] == str(sie) and f["line"] == len(CHART) + len(records) and f["rule"] == "sie-fil"
    assert doc["output"] is None and doc["status"] == 2


# --- total lines per account, allocations, the source of each year ---------------------------

@pytest.fixture(scope="module")
def stamped_two(tmp_path_factory) -> Path:
    return namnd_workbook(tmp_path_factory.mktemp("mall2") / "ks.xlsx", UNITS[:2])


@pytest.fixture
def two(stamped_two, tmp_path) -> Path:
    """A workbook for the units Ledning and Förskola (objects 10 and 20)."""
    dest = tmp_path / "rapport.xlsx"
    shutil.copyfile(stamped_two, dest)
    return dest


def test_a_total_line_for_one_account_does_not_drop_the_accounts_with_only_objects(tmp_path, two):
    """An account's amount is its {} line when it has one, else the sum of its objects: decided per
    account and period. Here the bank (1930) has a total line in 2019 and the result accounts only
    objects; in 2020 3010 has both."""
    sie = the_file(tmp_path, [
        '#PSALDO 0 202001 3010 {1 "10"} -100000.00', '#PSALDO 0 202001 3010 {} -100000.00',
        '#PSALDO 0 202002 5010 {1 "20"} 250000.00',
        '#PSALDO -1 201901 3010 {1 "10"} -90000.00', '#PSALDO -1 201902 5010 {1 "20"} 200000.00',
        '#PSALDO -1 201901 1930 {} 500000.00'])
    run = xlreport("import-sie", sie, two)
    assert run.returncode == 0, run.output
    # 2020: 100 000 of revenue, 250 000 of salaries; 2019: 90 000 and 200 000 (the bank is not in it)
    assert_figures(two, {L.ROW_INTAKTER: {UT: 0.10, FG: 0.09}, L.ROW_KOSTNADER: {UT: -0.25, FG: -0.20},
                          L.ROW_PERSONAL: {UT: -0.25, FG: -0.20}, L.ROW_RESULTAT: {UT: -0.15, FG: -0.11}},
                   {"Ledning": {UT: 0.10}, "Förskola": {UT: -0.25}})


def test_an_account_only_in_another_dimension_is_an_error(tmp_path, two):
    """A balance only on objects of dimension 6 (project) is not the account's total: it cannot be
    counted, and it must not silently drop out."""
    records = ['#DIM 6 "Projekt"', '#PSALDO 0 202001 3010 {1 "10"} -100000.00',
               '#PSALDO 0 202001 3010 {} -100000.00', '#PSALDO 0 202002 7010 {6 "P1"} 40000.00']
    sie = the_file(tmp_path, records)
    out = _refused(two, sie, two, code=1)
    line = len(CHART) + 4
    assert f"{sie}: rad {line}: fel: Konto 7010 har #PSALDO år 0 (period 202002) bara per objekt i dimension 6" \
        in out and "[sie-avstamning]" in out


def test_an_unmapped_allocation_that_nets_to_zero_is_an_error(tmp_path, two):
    """An internal allocation on an account without a row moves money between units while its total
    is 0: the units would lose it silently."""
    records = ['#PSALDO 0 202001 3010 {1 "10"} -1000000.00', '#PSALDO 0 202001 3010 {} -1000000.00',
               '#PSALDO 0 202002 5010 {1 "20"} 2500000.00', '#PSALDO 0 202002 5010 {} 2500000.00',
               '#PSALDO 0 202003 9110 {1 "10"} 500000.00', '#PSALDO 0 202003 9110 {1 "20"} -500000.00',
               '#PSALDO 0 202003 9110 {} 0.00', '#KONTO 9110 "Intern fördelning"']
    sie = the_file(tmp_path, records)
    out = _refused(two, sie, two, code=1)
    line = len(CHART) + 5
    assert f"{sie}: rad {line}: fel: Konto 9110 'Intern fördelning' har belopp (Utfall ack: kontot summerar till 0 " \
           f"men har objekt 10 500 000,00 kr, objekt 20 −500 000,00 kr i dimension 1)" in out
    assert "[sie-konto]" in out
    konton = tmp_path / "konton.csv"
    konton.write_text("Konto;Rad\n91;Kostnader\n", encoding="utf-8")
    run = xlreport("import-sie", sie, two, "--map", konton)
    assert run.returncode == 0, run.output
    # Ledning 1 000 000 − 500 000; Förskola −2 500 000 + 500 000
    got = table(two, L.SHEET_UNITS, L.HEAD_UNITS)
    assert (got["Ledning"][UT], got["Förskola"][UT]) == (pytest.approx(0.5), pytest.approx(-2.0))


_VOUCHERS = ['#VER A 1 20200115 "Faktura"', '{', '#TRANS 3010 {1 "10"} -100000.00', '#TRANS 1930 {} 100000.00',
             '}', '#VER A 2 20200215 "Lön"', '{', '#TRANS 5010 {1 "20"} 250000.00', '#TRANS 1930 {} -250000.00', '}']


def test_period_balances_of_the_bank_only_do_not_hide_the_vouchers(tmp_path, two):
    """#PSALDO or #TRANS is decided by the result accounts: a type 4 file with period balances for
    the bank and vouchers for everything is read from its vouchers."""
    sie = the_file(tmp_path, ['#PSALDO 0 202001 1930 {} 100000.00', '#PSALDO 0 202002 1930 {} -150000.00',
                              *_VOUCHERS])
    run = xlreport("import-sie", sie, two)
    assert run.returncode == 0, run.output
    assert "Utfall ack 2020-01–2020-03 (#TRANS)" in run.stdout
    assert_figures(two, {L.ROW_INTAKTER: {UT: 0.10}, L.ROW_KOSTNADER: {UT: -0.25}, L.ROW_RESULTAT: {UT: -0.15}},
                   {"Ledning": {UT: 0.10}, "Förskola": {UT: -0.25}})


def test_period_balances_of_the_bank_only_warn_that_utfall_is_empty(tmp_path, two):
    sie = the_file(tmp_path, ['#PSALDO 0 202001 1930 {} 100000.00'])
    run = xlreport("import-sie", sie, two)
    assert "SIE-filen har inga belopp för 2020-01–2020-03 (#PSALDO): Utfall ack blir tom. [sie-saknas]" in run.stdout


# --- the municipal income-statement shape -----------------------------------------------------

def municipal(book: Path, *, typed: str = "BCDFG", formula_in: str | None = None) -> Path:
    """The template's income statement in the municipal shape: Resultat före finansiella poster
    (row 10, the template's Resultat), Finansiella intäkter/kostnader (0,5 and −0,2 typed in the
    columns ``typed``) and Resultat efter finansiella poster (a formula)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.SHEET_INCOME]
    ws["A10"] = L.ROW_RESULTAT_FORE
    ws.insert_rows(11, 3)
    ws["A11"], ws["A12"], ws["A13"] = L.ROW_FIN_INTAKTER, L.ROW_FIN_KOSTNADER, L.ROW_RESULTAT_EFTER
    for col in "BCDFG":
        ws[f"{col}10"] = f"={col}5+{col}6"
        ws[f"{col}13"] = f"={col}10+{col}11+{col}12"
    for col in typed:
        ws[f"{col}11"], ws[f"{col}12"] = 0.5, -0.2
    if formula_in:
        ws[formula_in] = "=0.1+0.2"
    wb.save(book)
    return book


def _formulas(book: Path, *cells: str) -> list:
    ws = openpyxl.load_workbook(book)[L.SHEET_INCOME]
    return [ws[c].value for c in cells]


def test_the_municipal_shape_keeps_its_result_formulas_and_typed_financial_rows(tmp_path, two):
    """A file without financial accounts: the financial rows the user typed stay (with a warning that
    names the row), the result rows keep their formulas and get their new values."""
    municipal(two)
    amounts = {(0, "3010", "10", 1): "-1000000.00", (0, "5010", "20", 2): "2500000.00",
               (-1, "3010", "10", 1): "-900000.00"}
    budget = {(0, "3010", "10", 1): "-1000000.00", (0, "5010", "20", 2): "2000000.00"}
    sie = the_file(tmp_path, ledger(amounts, budget=budget))
    run = xlreport("import-sie", sie, two)
    assert run.returncode == 0, run.output
    assert f"{two}: Resultaträkning!B11: varning: Raden 'Finansiella intäkter' (rad 11) på bladet Resultaträkning " \
           f"har värden (B11, C11, D11, F11) men SIE-filen har inga belopp på kontona 84, som hör till raden" \
           in run.stdout
    # Utfall ack: 1,0 − 2,5 = −1,5 före; −1,5 + 0,5 − 0,2 = −1,2 efter. fg år: 0,9 (no costs); 1,2 efter.
    # Budget ack: 1,0 − 2,0 = −1,0; −0,7 efter.
    assert_figures(two, {L.ROW_INTAKTER: {UT: 1.0, FG: 0.9}, L.ROW_KOSTNADER: {UT: -2.5, FG: None, BU: -2.0},
                         L.ROW_RESULTAT_FORE: {UT: -1.5, FG: 0.9, BU: -1.0},
                         L.ROW_FIN_INTAKTER: {UT: 0.5, FG: 0.5, BU: 0.5}, L.ROW_FIN_KOSTNADER: {UT: -0.2, FG: -0.2},
                         L.ROW_RESULTAT_EFTER: {UT: -1.2, FG: 1.2, BU: -0.7}},
                   {"Ledning": {UT: 1.0}, "Förskola": {UT: -2.5}})
    assert _formulas(two, "B10", "C10", "D10", "C13", "G13") == ["=B5+B6", "=C5+C6", "=D5+D6", "=C10+C11+C12",
                                                                 "=G10+G11+G12"]


def test_the_municipal_shape_gets_the_financial_accounts_on_its_financial_rows(tmp_path, two):
    """Kommun-Bas 84 and 85 go to Finansiella intäkter and Finansiella kostnader when the statement
    has them (not to Intäkter and Kostnader: Resultat före finansiella poster would count them)."""
    municipal(two, typed="BCDF")  # no Prognos helår: the units have none
    amounts = {(0, "3010", "10", 1): "-1000000.00", (0, "5010", "20", 2): "2500000.00",
               (0, "8410", "10", 3): "-300000.00", (0, "8510", "20", 3): "120000.00",
               (-1, "3010", "10", 1): "-900000.00", (-1, "8510", "10", 2): "50000.00"}
    budget = {(0, "3010", "10", 1): "-1000000.00", (0, "5010", "20", 2): "2000000.00",
              (0, "8410", "10", 3): "-250000.00"}
    sie = the_file(tmp_path, ledger(amounts, budget=budget))
    run = xlreport("import-sie", sie, two)
    assert run.returncode == 0, run.output
    # Utfall ack: före 1,0 − 2,5 = −1,5; financial 0,3 and −0,12; efter −1,32. fg år: 0,9; no financial
    # income (the typed 0,5 is replaced), −0,05; efter 0,85. Budget ack: −1,0; 0,25 and none; −0,75.
    assert_figures(two, {L.ROW_INTAKTER: {UT: 1.0, FG: 0.9, BU: 1.0}, L.ROW_KOSTNADER: {UT: -2.5, FG: None},
                         L.ROW_RESULTAT_FORE: {UT: -1.5, FG: 0.9, BU: -1.0},
                         L.ROW_FIN_INTAKTER: {UT: 0.3, FG: None, BU: 0.25},
                         L.ROW_FIN_KOSTNADER: {UT: -0.12, FG: -0.05, BU: None},
                         L.ROW_RESULTAT_EFTER: {UT: -1.32, FG: 0.85, BU: -0.75}},
                   {"Ledning": {UT: 1.3, BU: 1.25}, "Förskola": {UT: -2.62, BU: -2.0},
                    "Summa": {UT: -1.32, BU: -0.75}})
    line = next(x for x in run.stdout.splitlines() if x.split("  ")[1:2] == ["Utfall ack"])
    assert line.split()[2:8] == ["−1", "320", "000,00"] * 2  # accounts and rows agree: −1 320 000,00
    assert _formulas(two, "C10", "C13") == ["=C5+C6", "=C10+C11+C12"]


def test_a_formula_in_a_cell_the_import_fills_is_an_error(tmp_path, two):
    municipal(two, formula_in="C6")
    sie = the_file(tmp_path, ledger({(0, "5010", "20", 2): "2500000.00"}))
    out = _refused(two, sie, two, code=1)
    assert f"{two}: Resultaträkning!C6: fel: Bladet Resultaträkning har formler där importen ska skriva siffror: " \
           f"C6 (=0.1+0.2). Importen skriver inte över formler." in out and "[sie-formel]" in out


def test_the_same_voucher_twice_is_refused(tmp_path, two):
    """A voucher appended twice (A 1) would double its amounts: an error, the workbook untouched."""
    sie = the_file(tmp_path, [*_VOUCHERS, *_VOUCHERS[:5]])
    out = _refused(two, sie, two, code=2)
    assert f"{sie}: rad {len(CHART) + 11}: fel: Verifikation A 1 finns redan på rad {len(CHART) + 1} (samma " \
           f"serie och nummer, båda daterade 2020)" in out and "[sie-dubblett]" in out
