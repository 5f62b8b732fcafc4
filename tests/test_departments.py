"""Departments: stamping, template versions (upgrade of a real 0.9 workbook), consolidation.

Real files and real processes: the units are stamped from workbooks/mall.xlsx, filled with the
reference report's unit figures, and consolidated by the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc

from support import REPO, modules
from support.cli import lock_held, xlreport
from support.fill import fill_unit
from support.workbooks import EXAMPLE, TEMPLATE, as_xlsm, sha, variant
from xlreport.core import layout as L
from xlreport.core.swedish import round_half_up
from xlreport.departments import consolidate, new, new_many, read_unit_list, upgrade
from xlreport.departments.common import DepartmentError, parse_period, safe_stem, unique_names
from xlreport.departments.consolidation import read_unit

DATA = json.loads((REPO / "workbooks" / "data" / "example.json").read_text(encoding="utf-8"))
UNIT_COLUMNS = [getattr(L, c) for c in DATA["units"]["columns"]]
UNITS = [name for name, _ in DATA["units"]["rows"]]
FIGURES = {name: dict(zip(UNIT_COLUMNS, values)) for name, values in DATA["units"]["rows"]}
LEGACY = REPO / "tests" / "data" / "exempel_mallversion_0_9.xlsx"
STAMP = {"kommun": "Eskilstuna kommun", "namnd": "Kommunstyrelsen", "rapport": "Delårsrapport 1"}






def sheet(path: Path, name: str) -> list[list]:
    return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def meta(path: Path) -> dict:
    return {r[0]: r[1] for r in sheet(path, L.SHEET_META) if r and isinstance(r[0], str) and len(r) > 1}


@pytest.fixture(scope="module")
def units_dir(tmp_path_factory) -> Path:
    """The reference report's eight units, stamped and filled, as the units would send them back."""
    folder = tmp_path_factory.mktemp("enheter")
    made = new_many(UNITS, "2020-03", TEMPLATE, folder, **STAMP)
    for m in made:
        fill_unit(m.path, FIGURES[m.unit])
    return folder


def copy_units(units_dir: Path, dest: Path) -> Path:
    shutil.copytree(units_dir, dest)
    return dest


# --- stamping -----------------------------------------------------------------------------

def test_safe_file_names():
    assert safe_stem("KLK Ekonomi och kvalitet") == "KLK_Ekonomi_och_kvalitet"
    assert safe_stem("KS/kommunledningskontoret") == "KS_kommunledningskontoret"
    assert safe_stem("KLK Miljö och samhällsbyggnad") == "KLK_Miljo_och_samhallsbyggnad"
    assert safe_stem("../../etc/passwd") == "etc_passwd"
    assert safe_stem("CON") == "CON_" and safe_stem("???") == "enhet"
    assert unique_names(["A", "a", "A"]) == ["A.xlsx", "a_2.xlsx", "A_3.xlsx"]


def test_parse_period():
    assert parse_period("2020-03") == (2020, 3, "januari–mars")
    assert parse_period("januari–augusti 2020") == (2020, 8, "januari–augusti")
    assert parse_period("mars 2019") == (2019, 3, "januari–mars")
    with pytest.raises(DepartmentError):
        parse_period("Q1")


def test_new_stamps_a_copy_and_leaves_the_template_alone(tmp_path):
    before = sha(TEMPLATE)
    r = new("KLK HR", "2020-03", TEMPLATE, tmp_path / "hr.xlsx", **STAMP)
    assert sha(TEMPLATE) == before
    m = meta(r.path)
    assert (m["Kommun"], m["Nämnd"], m["Enhet"], m["Rapport"], m["År"], m["Period"], m["Månad"], m["Mallversion"]) == (
        "Eskilstuna kommun", "Kommunstyrelsen", "KLK HR", "Delårsrapport 1", 2020, "januari–mars", 3,
        L.TEMPLATE_VERSION)
    assert sheet(r.path, L.SHEET_UNITS)[4][0] == "KLK HR"
    proc = xlreport("validate", r.path)
    assert proc.returncode == 0, proc.stdout
    with pytest.raises(DepartmentError, match="finns redan"):
        new("KLK HR", "2020-03", TEMPLATE, r.path)


@pytest.mark.parametrize("kind", ["txt", "csv", "xlsx"])
def test_unit_lists(tmp_path, kind):
    if kind == "txt":
        path = tmp_path / "enheter.txt"
        path.write_text("# Kommunstyrelsen\n" + "\n".join(UNITS) + "\n\n", encoding="utf-8")
    elif kind == "csv":
        path = tmp_path / "enheter.csv"
        rows = ["Kod;Enhet"] + [f"{i};{u}" for i, u in enumerate(UNITS)]
        path.write_bytes("\n".join(rows).encode("cp1252"))  # as Excel saves a CSV on Swedish Windows
    else:
        path = EXAMPLE  # the Enheter list on Uppgifter
    assert read_unit_list(path) == UNITS


def test_new_many_by_cli(tmp_path):
    listing = tmp_path / "enheter.txt"
    listing.write_text("\n".join(UNITS), encoding="utf-8")
    proc = xlreport("new", "--units", listing, "--period", "2020-03", "--template", TEMPLATE, "--kommun",
                    "Eskilstuna kommun", "--namnd", "Kommunstyrelsen", "-o", tmp_path / "ut")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "ut").iterdir())
    assert "KLK_Ekonomi_och_kvalitet.xlsx" in names and "KS_kommunledningskontoret.xlsx" in names
    assert len(names) == 8 and all(n.isascii() for n in names)
    assert meta(tmp_path / "ut" / "KLK_Valfard.xlsx")["Enhet"] == "KLK Välfärd"
    again = xlreport("new", "--units", listing, "--period", "2020-03", "-o", tmp_path / "ut")
    assert again.returncode == 2 and "finns redan" in again.stderr
    listing.write_text("A\nB\na\n", encoding="utf-8")
    dup = xlreport("new", "--units", listing, "--period", "2020-03", "-o", tmp_path / "ut2")
    assert dup.returncode == 2 and "två gånger" in dup.stderr and not (tmp_path / "ut2").exists()


def test_an_empty_enheter_list_is_refused_never_read_from_the_labels_of_uppgifter(tmp_path):
    """The template's Enheter list is empty: the labels under "Enhet" on Uppgifter (Rapport, År,
    Period …) were stamped as ten units into a folder named namnd.xlsx, with exit 0."""
    empty = "Listan över enheter i mall.xlsx är tom: fyll i Enheter på bladet Uppgifter"
    with pytest.raises(DepartmentError, match=empty):
        read_unit_list(TEMPLATE)
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("new", "--period", "2020-03", "--template", TEMPLATE, "-o", out, *_stamp_args())
    assert proc.returncode == 2 and empty in proc.stderr, proc.stdout + proc.stderr
    assert not out.exists()
    proc = xlreport("new", "--units", TEMPLATE, "--period", "2020-03", "-o", tmp_path / "ut")
    assert proc.returncode == 2 and empty in proc.stderr and not (tmp_path / "ut").exists()
    proc = xlreport("consolidate", tmp_path, "--units", TEMPLATE, "-o", tmp_path / "n.xlsx")
    assert proc.returncode == 2 and empty in proc.stderr and not (tmp_path / "n.xlsx").exists()
    # several units (a folder) for an -o that names a workbook
    proc = xlreport("new", "--unit", "A", "--unit", "B", "--period", "2020-03", "-o", out)
    assert proc.returncode == 2 and "namnd.xlsx ser ut som en arbetsbok, men 2 enheter skrivs som en fil var " \
        "i en mapp: ange en mapp med -o (t.ex. namnd)" in proc.stderr, proc.stderr
    assert not out.exists()
    # a list workbook that is not xlreport's is still read from its first sheet
    book = openpyxl.Workbook()
    book.active.append(["Kod", "Enhet"])
    book.active.append([1, "KLK HR"])
    book.active.append([2, "KLK Välfärd"])
    book.save(tmp_path / "lista.xlsx")
    assert read_unit_list(tmp_path / "lista.xlsx") == ["KLK HR", "KLK Välfärd"]


def _stamp_args() -> list[str]:
    return ["--kommun", STAMP["kommun"], "--namnd", STAMP["namnd"], "--rapport", STAMP["rapport"]]


# --- the walk-through ---------------------------------------------------------------------

def test_walkthrough_reproduces_the_reference_unit_table(units_dir, tmp_path):
    """docs/departments.md: stamp eight units, fill them, consolidate, get the reference back."""
    listing = tmp_path / "enheter.txt"
    listing.write_text("\n".join(UNITS), encoding="utf-8")
    out = tmp_path / "kommunstyrelsen.xlsx"
    proc = xlreport("consolidate", units_dir, "--units", listing, "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Sammanställde 8 av 8 filer" in proc.stdout
    rows = sheet(out, L.SHEET_UNITS)
    header = rows[3]
    col = {h: i for i, h in enumerate(header)}
    table = {r[0]: r for r in rows[4:12]}
    assert list(table) == UNITS
    printed = {  # Avvikelse ack mar 2020 as printed in the reference
        "KS/kommunledningskontoret": -2.2, "KLK Ledning": 2.9, "KLK Ekonomi och kvalitet": -0.2, "KLK HR": 2.8,
        "KLK Välfärd": 1.8, "KLK Näringsliv": 8.7, "KLK Kommunikation, IT och digitalisering": 1.5,
        "KLK Miljö och samhällsbyggnad": 1.0}
    for unit, value in printed.items():
        assert round_half_up(table[unit][col[L.COL_AVV]], 1) == value, unit
    summa = rows[12]
    assert summa[0] == "Summa Kommunstyrelsen"
    got = [round_half_up(summa[col[c]], 1) for c in (L.COL_AVV_FG, L.COL_AVV, L.COL_BUDGET_HELAR, L.COL_AVV_HELAR)]
    assert got == [11.5, 16.4, -429.5, 7.8]
    income = {r[0]: r for r in sheet(out, L.SHEET_INCOME)[4:10]}
    assert round_half_up(income["Resultat"][4], 1) == 16.4 and round_half_up(income["Resultat"][7], 1) == 7.8
    m = meta(out)
    assert (m["Nämnd"], m["År"], m["Månad"]) == ("Kommunstyrelsen", 2020, 3)
    assert [r[0] for r in sheet(out, L.SHEET_META)[17:25]] == UNITS
    assert sheet(out, "Rapport")[0][0] == "Delårsrapport 1 2020 – Kommunstyrelsen"
    sources = sheet(out, "Källor")
    head = sources[3]
    by_file = {r[head.index("Fil")]: r for r in sources[4:]}
    for f in units_dir.iterdir():
        row = by_file[str(f)]
        assert row[head.index("SHA-256")] == sha(f) and row[head.index("Storlek (byte)")] == f.stat().st_size
        assert row[head.index("Med i sammanställningen")] == "Ja" and row[head.index("Fel")] == 0


def test_consolidation_is_idempotent(units_dir, tmp_path):
    out = tmp_path / "namnd.xlsx"
    r1 = consolidate([units_dir], out, units=UNITS, template=TEMPLATE)
    first = sha(out)
    time.sleep(2.1)  # zip entry times have a 2-second resolution
    r2 = consolidate([units_dir], out, units=UNITS, template=TEMPLATE)
    assert (r1.status, r2.status) == (0, 0)
    assert sha(out) == first
    other = tmp_path / "annan.xlsx"
    shutil.copyfile(out, other)
    consolidate([units_dir], other, units=UNITS, template=TEMPLATE, into=other)
    assert sha(other) == first  # into the consolidated workbook itself: no change either


def test_more_units_than_template_rows(tmp_path):
    """12 units, 8 blank rows in the template: rows are inserted above Summa, the sums follow."""
    names = [f"Enhet {i}" for i in range(12)]
    folder = tmp_path / "enheter"
    for m in new_many(names, "2020-03", TEMPLATE, folder, **STAMP):
        i = names.index(m.unit)
        fill_unit(m.path, {L.COL_AVV_FG: 0.5, L.COL_UTFALL: -10.0 - i, L.COL_BUDGET: -11.0 - i,
                           L.COL_BUDGET_HELAR: -44.0, L.COL_PROGNOS: -43.0})
    out = tmp_path / "namnd.xlsx"
    r = consolidate([folder], out, units=names, template=TEMPLATE)
    assert r.status == 0, r.central.findings
    rows = sheet(out, L.SHEET_UNITS)
    assert [row[0] for row in rows[4:16]] == names
    assert rows[16][0] == "Summa Kommunstyrelsen" and rows[16][1] == 6.0 and rows[16][4] == pytest.approx(12.0)
    wb = openpyxl.load_workbook(out)
    assert wb[L.SHEET_UNITS]["B17"].value == "=SUM(B5:B16)"
    assert wb[L.SHEET_UNITS]["B16"].style_id == wb[L.SHEET_UNITS]["B5"].style_id  # formatted like a unit row


# --- refusals -----------------------------------------------------------------------------

def _refused(proc, *fragments):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Inget skrevs" in proc.stdout
    for frag in fragments:
        assert frag in proc.stdout, proc.stdout


def test_refuses_a_different_period(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    aug = new("KLK HR", "2020-08", TEMPLATE, folder / "KLK_HR.xlsx", force=True, **STAMP)
    fill_unit(aug.path, FIGURES["KLK HR"])
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "-o", out)
    _refused(proc, f"{aug.path}: fel: Filen gäller januari–augusti 2020, men de andra gäller januari–mars 2020")
    assert not out.exists()


def test_refuses_a_different_year(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    old = new("KLK HR", "2019-03", TEMPLATE, folder / "KLK_HR.xlsx", force=True, **STAMP)
    proc = xlreport("consolidate", folder, "-o", tmp_path / "namnd.xlsx")
    _refused(proc, f"{old.path}: fel: Filen gäller januari–mars 2019", "olika år")


def test_refuses_an_older_template_version(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    legacy = folder / "KLK_HR_gammal.xlsx"
    shutil.copyfile(LEGACY, legacy)
    proc = xlreport("consolidate", folder, "-o", tmp_path / "namnd.xlsx")
    _refused(proc, f"{legacy}: fel: Filen är gjord från mallversion 0.9", "xlreport upgrade")


def test_refuses_the_same_unit_twice(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    twin = folder / "HR_kopia.xlsx"
    shutil.copyfile(folder / "KLK_HR.xlsx", twin)
    proc = xlreport("consolidate", folder, "-o", tmp_path / "namnd.xlsx")
    _refused(proc, f"{twin}: fel: Enheten 'KLK HR' finns i flera filer", f"{folder / 'KLK_HR.xlsx'}: fel")


def test_refuses_a_unit_not_in_the_list_and_warns_about_a_missing_one(units_dir, tmp_path):
    listing = tmp_path / "enheter.txt"
    listing.write_text("\n".join([u for u in UNITS if u != "KLK HR"] + ["KLK Kultur"]), encoding="utf-8")
    proc = xlreport("consolidate", units_dir, "--units", listing, "-o", tmp_path / "namnd.xlsx")
    _refused(proc, f"{units_dir / 'KLK_HR.xlsx'}: fel: Enheten 'KLK HR' finns inte i nämndens lista")
    folder = copy_units(units_dir, tmp_path / "enheter")
    (folder / "KLK_HR.xlsx").unlink()
    listing.write_text("\n".join(UNITS), encoding="utf-8")
    out = tmp_path / "namnd2.xlsx"
    proc = xlreport("consolidate", folder, "--units", listing, "-o", out)
    assert proc.returncode == 0, proc.stdout
    assert "varning: Enheten 'KLK HR' finns i nämndens lista men ingen godkänd fil" in proc.stdout
    hr = next(r for r in sheet(out, L.SHEET_UNITS) if r[0] == "KLK HR")
    assert hr[1:] == [""] * 8  # the figures and Kommentar


def test_refuses_a_newer_template_version_without_suggesting_upgrade(units_dir, tmp_path):
    """upgrade refuses to move a workbook down to an older template, so it is not the advice."""
    folder = copy_units(units_dir, tmp_path / "enheter")
    newer = variant(folder / "KLK_HR.xlsx", {"Uppgifter!B13": "1.1"}, src=units_dir / "KLK_HR.xlsx")
    proc = xlreport("consolidate", folder, "-o", tmp_path / "namnd.xlsx")
    _refused(proc, f"{newer}: fel: Filen är gjord från mallversion 1.1, som är nyare än nämndens arbetsboks "
                   f"mallversion 1.0. Sammanställ med den nyare mallen")
    (line,) = [x for x in proc.stdout.splitlines() if "[konsolidering-mallversion]" in x]
    assert "xlreport upgrade" not in line


def test_a_unit_with_errors_is_left_out_with_a_warning(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    broken = folder / "KLK_HR.xlsx"
    variant(broken, {"Resultaträkning!C6": "-18,67"}, src=units_dir / "KLK_HR.xlsx")  # a number typed as text
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 1, proc.stdout  # written, but a unit had errors
    assert f"{broken}: varning: Filen har 1 fel och är inte med i sammanställningen" in proc.stdout
    assert f"{broken}: Resultaträkning!C6: fel:" in proc.stdout
    assert next(r for r in sheet(out, L.SHEET_UNITS) if r[0] == "KLK HR")[2] == ""
    sources = {r[1]: r for r in sheet(out, "Källor")[4:]}
    assert sources[str(broken)][6] == 1 and sources[str(broken)][8] == "Nej"
    r = consolidate([folder], tmp_path / "med.xlsx", units=UNITS, template=TEMPLATE, include_errors=True)
    assert next(s for s in r.sources if s.path == broken).included


def test_refuses_a_unit_listed_twice(units_dir, tmp_path):
    """A unit twice in the list got two rows and was counted twice in Summa."""
    listing = tmp_path / "enheter.txt"
    listing.write_text("\n".join([*UNITS, "klk hr"]), encoding="utf-8")
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", units_dir, "--units", listing, "-o", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Enheten 'klk hr' finns två gånger i listan över nämndens enheter (--units)" in proc.stderr
    assert not out.exists()
    into = variant(tmp_path / "into.xlsx", {"Uppgifter!A18": "KLK HR", "Uppgifter!A19": "KLK HR"}, src=TEMPLATE)
    with pytest.raises(DepartmentError, match="finns två gånger i listan 'Enheter'"):
        consolidate([units_dir], out, into=into)
    assert not out.exists()


def test_a_unit_without_template_version_is_still_checked(units_dir, tmp_path):
    """A blank Mallversion must not let a file of another year past the checks (--include-errors)."""
    folder = copy_units(units_dir, tmp_path / "enheter")
    old = new("KLK HR", "2019-03", TEMPLATE, tmp_path / "KLK_HR.xlsx", **STAMP)
    fill_unit(old.path, FIGURES["KLK HR"])
    old.path = variant(folder / "KLK_HR.xlsx", {"Uppgifter!B13": None}, src=old.path)
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "-o", out, "--include-errors")
    _refused(proc, f"{old.path}: fel: Filen gäller januari–mars 2019", "olika år")
    assert not out.exists()


def test_consolidate_and_upgrade_refuse_a_workbook_open_in_excel(units_dir, tmp_path):
    out = tmp_path / "namnd.xlsx"
    out.write_bytes(b"the user's open workbook")
    (tmp_path / "~$namnd.xlsx").write_bytes(b"owner")
    proc = xlreport("consolidate", units_dir, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 2 and "öppen i Excel" in proc.stderr, proc.stdout + proc.stderr
    assert out.read_bytes() == b"the user's open workbook"
    legacy = tmp_path / "gammal.xlsx"
    shutil.copyfile(LEGACY, legacy)
    (tmp_path / "~$gammal.xlsx").write_bytes(b"owner")
    proc = xlreport("upgrade", legacy)
    assert proc.returncode == 2 and "öppen i Excel" in proc.stderr, proc.stdout + proc.stderr
    assert sha(legacy) == sha(LEGACY)


def test_inserted_rows_move_the_formulas_of_conditional_formats_and_validations(tmp_path):
    """Excel moves the references in these formulas with the cells; so must insert_rows."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.worksheet.datavalidation import DataValidation

    from xlreport.ooxml.edit import PackageEdit
    from xlreport.ooxml.rows import insert_rows

    src = tmp_path / "med_regler.xlsx"
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb[L.SHEET_UNITS]
    ws.conditional_formatting.add("C5:C12", FormulaRule(formula=["$C5<$C$13"], fill=None))
    dv = DataValidation(type="decimal", operator="lessThanOrEqual", formula1="$B$13")
    dv.add("B5:B12")
    ws.add_data_validation(dv)
    wb.save(src)
    with PackageEdit.opened(src) as edit:
        insert_rows(edit, L.SHEET_UNITS, 11, 4, 11)
        edit.write(tmp_path / "ut.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "ut.xlsx")[L.SHEET_UNITS]
    (cf,) = ws.conditional_formatting
    assert str(cf.sqref) == "C5:C16" and cf.rules[0].formula == ["$C5<$C$17"]
    (dv,) = ws.data_validations.dataValidation
    assert str(dv.sqref) == "B5:B16" and dv.formula1 == "$B$17"


def _listing(tmp_path: Path) -> Path:
    p = tmp_path / "lista.txt"
    p.write_text("\n".join(UNITS), encoding="utf-8")
    return p


# --- versions and upgrade -----------------------------------------------------------------

def test_legacy_fixture_is_reproducible(tmp_path):
    assert modules.build_legacy().build(tmp_path).read_bytes() == LEGACY.read_bytes()


def test_an_older_version_gets_a_clear_message():
    proc = xlreport("validate", LEGACY)
    assert proc.returncode in (1, 2)
    assert "mallversion 0.9" in proc.stdout and "xlreport upgrade" in proc.stdout


def test_upgrade_moves_values_comments_and_own_sheets(tmp_path):
    src = tmp_path / "gammal.xlsx"
    shutil.copyfile(LEGACY, src)
    before = sha(src)
    out = tmp_path / "ny.xlsx"
    proc = xlreport("upgrade", src, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert sha(src) == before
    assert "flyttade från mallversion 0.9 till 1.0" in proc.stdout
    assert "kommentarer: 2" in proc.stdout and "egna blad: Egna noteringar" in proc.stdout
    assert xlreport("refresh", out).returncode == 0
    reference = tmp_path / "exempel.xlsx"
    shutil.copyfile(EXAMPLE, reference)
    assert xlreport("refresh", reference).returncode == 0
    for name in (L.SHEET_META, L.SHEET_STAFF, L.SHEET_SICK, L.SHEET_COMMITMENTS):
        assert sheet(out, name) == sheet(reference, name), name
    for name in (L.SHEET_INCOME, L.SHEET_UNITS):
        got, want = sheet(out, name), sheet(reference, name)
        assert got[3] == want[3]  # the current column order and header names
        for g, w in zip(got[4:], want[4:]):  # the figures (template 0.9 had no Kommentar column)
            assert g[0] == w[0] and g[1:8] == pytest.approx(w[1:8], abs=1e-9), (name, g, w)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[-1] == "Egna noteringar"
    # the note on Kostnader / Prognos helår followed the cell from F6 (0.9) to G6 (1.0)
    assert wb[L.SHEET_INCOME]["G6"].comment.text == "Inkl. bredbandsutbyggnaden (+1,0 mnkr)."
    assert wb[L.SHEET_UNITS]["F6"].comment.text == "Ny budget efter beslut i februari."
    own = wb["Egna noteringar"]
    assert own["B3"].value == "='Resultaträkning'!G6"  # re-pointed to the moved cell
    assert own["B4"].value == 1.5 and own["B4"].number_format == '#,##0.00 "mnkr"'
    assert own["B4"].comment.text == "Beslutad av förvaltningsledningen."
    assert own["A1"].font.b and own["A1"].value == "Egna noteringar"


def test_upgrade_in_place_and_current_version_is_a_no_op(tmp_path):
    src = tmp_path / "gammal.xlsx"
    shutil.copyfile(LEGACY, src)
    r = upgrade(src, template=TEMPLATE)
    assert r.out == src and meta(src)["Mallversion"] == L.TEMPLATE_VERSION
    again = upgrade(src, template=TEMPLATE)
    assert again.out is None and "redan den nuvarande" in again.lines()[0]


def _legacy_with_macros(dest: Path, fixtures_dir: Path) -> Path:
    """The 0.9 workbook saved as an .xlsm with a real VBA project (taken from a fixture)."""
    import zipfile

    vba = zipfile.ZipFile(fixtures_dir / "calamine_vba.xlsm").read("xl/vbaProject.bin")
    return as_xlsm(dest, LEGACY, vba)


def test_upgrade_of_a_macro_workbook_says_its_macros_stay_behind(tmp_path, fixtures_dir):
    """The template is an .xlsx: the .xlsm is upgraded to a new file, and the user is told so."""
    src = _legacy_with_macros(tmp_path / "gammal.xlsm", fixtures_dir)
    before = sha(src)
    with pytest.raises(DepartmentError, match="Ange -o NAMN.xlsx"):
        upgrade(src, template=TEMPLATE)  # in place would give an .xlsm Excel cannot open
    r = upgrade(src, tmp_path / "ny.xlsx", template=TEMPLATE)
    assert any("makron (VBA)" in n and "gammal.xlsm" in n for n in r.notes), r.notes
    assert sha(src) == before and meta(r.out)["Mallversion"] == L.TEMPLATE_VERSION


# --- writes as safe as the file door's (lock, temporary files, permissions) ----------------

def _lock_env(monkeypatch):
    monkeypatch.setenv("XLREPORT_LOCK_TIMEOUT", "0.5")  # the CLI child inherits it


def _stale_files(folder: Path, name: str) -> list[Path]:
    """What killed runs on ``name`` leave: its temporary files, and those of a run on one of them."""
    stale = [folder / f".~xlreport-{name}.k1ll3d.xlsx",
             folder / f".~xlreport-.~xlreport-{name}.k1ll3d.xlsx.9ab.xlsx",  # apply_changes on the temp file
             folder / f".~xlreport-.~xlreport-{name}.k1ll3d.xlsx.lock"]  # the refresh's lock on it
    for p in stale:
        p.write_bytes(b"PK\x03\x04 half")
    return stale


def _refused_while_locked(target: Path, *args) -> None:
    with lock_held(target):
        proc = xlreport(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"En annan körning av xlreport arbetar med {target.name}" in proc.stderr


def test_every_departments_write_takes_the_workbook_lock(units_dir, tmp_path, monkeypatch):
    from xlreport.core.errors import WorkbookLocked

    _lock_env(monkeypatch)
    src = tmp_path / "gammal.xlsx"
    shutil.copyfile(LEGACY, src)
    _refused_while_locked(src, "upgrade", src)
    assert sha(src) == sha(LEGACY)
    out = tmp_path / "namnd.xlsx"
    _refused_while_locked(out, "consolidate", units_dir, "-o", out, "--units", _listing(tmp_path))
    assert not out.exists()
    stamped = tmp_path / "enhet.xlsx"
    _refused_while_locked(stamped, "new", "--unit", "KLK HR", "--period", "2020-03", "--template", TEMPLATE,
                          "-o", stamped)
    assert not stamped.exists()
    new("KLK HR", "2020-03", TEMPLATE, stamped)
    before = sha(stamped)
    with lock_held(stamped), pytest.raises(WorkbookLocked):
        fill_unit(stamped, {L.COL_UTFALL: -10.0})
    assert sha(stamped) == before


def _record_temp_files(monkeypatch, folder: Path) -> set[str]:
    """The names of the temporary files in ``folder`` each time a package is written."""
    from xlreport.ooxml import edit, package

    seen: set[str] = set()

    def spy(original):
        def write(*args, **kw):
            original(*args, **kw)
            seen.update(p.name for p in folder.iterdir() if p.name.startswith(".~"))
        return write

    monkeypatch.setattr(edit, "write_package", spy(package.write_package))
    return seen


def _assert_cleanable(names: set[str], target: Path) -> None:
    """Every temporary file a run made would be removed by the next run on ``target``."""
    from xlreport.ooxml.atomic import is_stale_temp_name, lock_path

    assert names, "no temporary file was seen"
    left = [n for n in names if n != lock_path(target).name and not is_stale_temp_name(n, target)]
    assert left == [], left


def test_upgrade_writes_as_the_file_door_does(tmp_path, monkeypatch):
    """Temporary files named for the stale-temp cleanup, owner and permissions kept, read-only refused."""
    src = tmp_path / "gammal.xlsx"
    shutil.copyfile(LEGACY, src)
    src.chmod(0o640)
    stale = _stale_files(tmp_path, src.name)
    seen = _record_temp_files(monkeypatch, tmp_path)
    r = upgrade(src, template=TEMPLATE)
    assert r.out == src and meta(src)["Mallversion"] == L.TEMPLATE_VERSION
    _assert_cleanable(seen, src)
    assert not any(p.exists() for p in stale)  # a killed run's leftovers are removed under the lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gammal.xlsx"]
    assert src.stat().st_mode & 0o777 == 0o640
    new_out = tmp_path / "ny.xlsx"
    shutil.copyfile(LEGACY, src)
    upgrade(src, new_out, template=TEMPLATE)
    umask = os.umask(0)
    os.umask(umask)
    assert new_out.stat().st_mode & 0o777 == 0o666 & ~umask  # a new file: as any program makes one
    shutil.copyfile(LEGACY, src)
    src.chmod(0o444)
    proc = xlreport("upgrade", src)
    assert proc.returncode == 2 and "skrivskyddad" in proc.stderr, proc.stdout + proc.stderr
    assert sha(src) == sha(LEGACY)


def test_consolidate_writes_as_the_file_door_does(units_dir, tmp_path, monkeypatch):
    out = tmp_path / "namnd.xlsx"
    stale = _stale_files(tmp_path, out.name)
    seen = _record_temp_files(monkeypatch, tmp_path)
    r = consolidate([units_dir], out, units=UNITS, template=TEMPLATE)
    assert r.status == 0
    _assert_cleanable(seen, out)
    assert not any(p.exists() for p in stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["namnd.xlsx"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a bare temporary file
    out.chmod(0o604)
    consolidate([units_dir], out, units=UNITS, template=TEMPLATE)
    assert out.stat().st_mode & 0o777 == 0o604
    out.chmod(0o444)
    before = sha(out)
    proc = xlreport("consolidate", units_dir, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 2 and "skrivskyddad" in proc.stderr, proc.stdout + proc.stderr
    assert sha(out) == before


def test_upgrade_refuses_a_newer_template_version(tmp_path):
    newer = variant(tmp_path / "nyare.xlsx", {"Uppgifter!B13": "1.1"})
    before = sha(newer)
    proc = xlreport("upgrade", newer, "--template", TEMPLATE)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "mallversion 1.1, som är nyare än mallens version 1.0" in proc.stderr
    assert sha(newer) == before and sorted(p.name for p in tmp_path.iterdir()) == ["nyare.xlsx"]
    with pytest.raises(DepartmentError, match="nyare"):
        upgrade(newer, tmp_path / "ut.xlsx", template=TEMPLATE)
    assert not (tmp_path / "ut.xlsx").exists()
    odd = variant(tmp_path / "udda.xlsx", {"Uppgifter!B13": "ny"})
    with pytest.raises(DepartmentError, match="inget versionsnummer"):
        upgrade(odd, template=TEMPLATE)
    # the result is a copy of the .xlsx template: named .xlsm, Excel would not open it
    with pytest.raises(DepartmentError, match=r"Ange -o NAMN\.xlsx"):
        upgrade(LEGACY, tmp_path / "ny.xlsm", template=TEMPLATE)
    assert not (tmp_path / "ny.xlsm").exists()


# --- consolidation: nothing left out silently -----------------------------------------------

def test_rows_the_namnd_table_lacks_are_named(units_dir, tmp_path):
    """A unit's Resultaträkning row the nämnd's table does not have gives a warning at its cell.

    Such a row never changes Intäkter, Kostnader or Resultat (docs/departments.md), so the
    consolidation is written; the figures are the units' sums of the rows the nämnd has.
    """
    folder = copy_units(units_dir, tmp_path / "enheter")
    hr, ledning = folder / "KLK_HR.xlsx", folder / "KLK_Ledning.xlsx"
    variant(hr, {"Resultaträkning!C8": -0.5}, src=units_dir / hr.name)  # varav lokalkostnader
    variant(ledning, {"Resultaträkning!A9": "Finansnetto", "Resultaträkning!C9": -0.2},
            src=units_dir / ledning.name)  # not a row of the template
    into = variant(tmp_path / "namnd_mall.xlsx", {"Resultaträkning!A8": None}, src=TEMPLATE)  # no lokalkostnader
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "--into", into, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"{hr}: Resultaträkning!A8: varning: Raden 'varav lokalkostnader' finns inte i nämndens "
            f"Resultaträkning") in proc.stdout, proc.stdout
    assert f"{ledning}: Resultaträkning!A9: varning: Raden 'Finansnetto' är inte en rad i mallen" in proc.stdout
    income = {r[0]: r for r in sheet(out, L.SHEET_INCOME)[4:10]}
    assert round_half_up(income["Resultat"][4], 1) == 16.4  # unchanged by the rows left out


def test_a_unit_with_empty_tables_is_left_out_with_a_warning(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    empty = new("KLK HR", "2020-03", TEMPLATE, folder / "KLK_HR.xlsx", force=True, **STAMP).path  # not filled in
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{empty}: varning: Filen har inga ifyllda värden: alla tabeller är tomma" in proc.stdout
    assert "Enheten 'KLK HR' finns i nämndens lista men ingen godkänd fil" in proc.stdout
    assert next(r for r in sheet(out, L.SHEET_UNITS) if r[0] == "KLK HR")[1:] == [""] * 8  # with Kommentar
    sources = {r[1]: r for r in sheet(out, "Källor")[4:]}
    assert sources[str(empty)][8] == "Nej"


def test_a_blank_month_is_a_period_mismatch(units_dir, tmp_path):
    folder = copy_units(units_dir, tmp_path / "enheter")
    hr = variant(folder / "KLK_HR.xlsx", {"Uppgifter!B10": None}, src=units_dir / "KLK_HR.xlsx")
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", folder, "-o", out)
    _refused(proc, f"{hr}: fel: Uppgiften 'Månad' saknas på bladet Uppgifter; filens period är okänd")
    assert not out.exists()
    # the other way round: the nämnd's workbook has År (or Period) but no Månad; the units must still agree
    into = variant(tmp_path / "namnd_2021.xlsx", {"Uppgifter!B8": 2021}, src=TEMPLATE)
    proc = xlreport("consolidate", units_dir, "--into", into, "-o", out, "--units", _listing(tmp_path))
    _refused(proc, f"{units_dir / 'KLK_HR.xlsx'}: fel: Filen gäller januari–mars 2020, men nämndens arbetsbok "
                   f"gäller 2021: olika år")
    into = variant(tmp_path / "namnd_aug.xlsx", {"Uppgifter!B9": "januari–augusti"}, src=TEMPLATE)
    proc = xlreport("consolidate", units_dir, "--into", into, "-o", out, "--units", _listing(tmp_path))
    _refused(proc, "Filen gäller januari–mars 2020, men nämndens arbetsbok gäller januari–augusti: olika period")
    assert not out.exists()
    into = variant(tmp_path / "namnd_2020.xlsx", {"Uppgifter!B8": 2020}, src=TEMPLATE)  # agrees: Månad is filled in
    proc = xlreport("consolidate", units_dir, "--into", into, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (meta(out)["År"], meta(out)["Månad"]) == (2020, 3)


def test_inserting_rows_drops_the_calc_chain(tmp_copy, tmp_path):
    """The formulas moved, so the calc chain goes (part, relationship, content type): Excel rebuilds it."""
    import zipfile

    from xlreport.ooxml.edit import PackageEdit
    from xlreport.ooxml.rows import insert_rows

    src = tmp_copy("calamine_shared_formula_simple.xlsx")
    with PackageEdit.opened(src) as edit:
        insert_rows(edit, "Sheet1", 1, 2, 1)
        edit.write(tmp_path / "ut.xlsx")
    with zipfile.ZipFile(tmp_path / "ut.xlsx") as z:
        names = set(z.namelist())
        assert "xl/calcChain.xml" not in names
        assert b"calcChain" not in z.read("xl/_rels/workbook.xml.rels")
        assert b"calcChain" not in z.read("[Content_Types].xml")


# --- consolidation: the municipal income statement and Källor --------------------------------

def _municipal(path: Path, costs: dict[str, float], fin: dict[str, tuple[float, float]]) -> None:
    """Give a unit filled by fill_unit (no Intäkter) the municipal shape: Kostnader ``costs``,
    Resultat före finansiella poster, Finansiella intäkter/kostnader ``fin``, and the bottom line
    Resultat efter finansiella poster; each formula with its cached value, as Excel saves them."""
    from xlreport.core.changes import CellWrite, ChangeSet
    from xlreport.ooxml.apply import apply_changes

    inc = L.SHEET_INCOME
    writes = [CellWrite(inc, 9, 0, L.ROW_RESULTAT_FORE), CellWrite(inc, 10, 0, L.ROW_FIN_INTAKTER),
              CellWrite(inc, 11, 0, L.ROW_FIN_KOSTNADER), CellWrite(inc, 12, 0, L.ROW_RESULTAT_EFTER)]
    for c, col in enumerate("ABCDEFGHI"):
        if col not in costs:
            continue
        (fi, fo), cost = fin[col], costs[col]
        writes += [CellWrite(inc, 5, c, cost), CellWrite(inc, 9, c, cost, f"{col}5+{col}6"),
                   CellWrite(inc, 10, c, fi), CellWrite(inc, 11, c, fo),
                   CellWrite(inc, 12, c, cost + fi + fo, f"{col}10+{col}11+{col}12")]
    apply_changes(path, ChangeSet(writes=writes), out=path)


@pytest.fixture
def municipal_units(tmp_path) -> Path:
    """Enhet A in the template's shape; Enhet B in the municipal shape, its Driftredovisning row
    (its bottom line) after financial items: −1,0 + 0,6 − 0,3 = −0,7 (helår −4,0 + 2,0 − 0,8 = −2,8)."""
    folder = tmp_path / "enheter"
    made = {m.unit: m.path for m in new_many(["Enhet A", "Enhet B"], "2020-03", TEMPLATE, folder, **STAMP)}
    fill_unit(made["Enhet A"], {L.COL_AVV_FG: 0.0, L.COL_UTFALL: -2.0, L.COL_BUDGET: -1.0, L.COL_BUDGET_HELAR: -4.0,
                                L.COL_PROGNOS: -5.0})
    fill_unit(made["Enhet B"], {L.COL_AVV_FG: 0.0, L.COL_UTFALL: -0.7, L.COL_BUDGET: -0.7, L.COL_BUDGET_HELAR: -2.8,
                                L.COL_PROGNOS: -2.8})
    _municipal(made["Enhet B"], {"C": -1.0, "D": -1.0, "F": -4.0, "G": -4.0},
               {"C": (0.6, -0.3), "D": (0.6, -0.3), "F": (2.0, -0.8), "G": (2.0, -0.8)})
    assert read_unit(made["Enhet B"]).status == 0  # a correct unit workbook
    return folder


def test_the_financial_rows_of_a_municipal_unit_are_carried_into_the_namnd(municipal_units, tmp_path):
    """A unit's bottom line after financial items is its Driftredovisning row; the nämnd's
    Resultaträkning gets the financial rows too, so its result is the sum of the units'."""
    out = tmp_path / "namnd.xlsx"
    r = consolidate([municipal_units], out, units=["Enhet A", "Enhet B"], template=TEMPLATE)
    assert r.status == 0, [f.message for _file, f in r.notes]
    assert not [f for _file, f in r.notes if f.rule == "konsolidering-rad-saknas"]  # nothing left out
    assert not r.central.findings or all(not f.is_error for f in r.central.findings)
    rows = sheet(out, L.SHEET_INCOME)
    col = {h: i for i, h in enumerate(rows[3])}
    income = {row[0]: row for row in rows[4:] if row and row[0]}
    assert list(income) == [L.ROW_INTAKTER, L.ROW_KOSTNADER, *L.VARAV_ROWS, L.ROW_RESULTAT, L.ROW_FIN_INTAKTER,
                            L.ROW_FIN_KOSTNADER, L.ROW_RESULTAT_EFTER]
    summa = next(row for row in sheet(out, L.SHEET_UNITS) if str(row[0]).startswith("Summa"))
    by_hand = {L.COL_UTFALL: -2.0 - 0.7, L.COL_BUDGET: -1.0 - 0.7, L.COL_BUDGET_HELAR: -4.0 - 2.8,
               L.COL_PROGNOS: -5.0 - 2.8}
    for c, value in by_hand.items():
        assert income[L.ROW_RESULTAT_EFTER][col[c]] == pytest.approx(value), c
        assert summa[col[c]] == pytest.approx(value), c
    assert income[L.ROW_FIN_INTAKTER][col[L.COL_UTFALL]] == pytest.approx(0.6)
    assert income[L.ROW_FIN_KOSTNADER][col[L.COL_BUDGET_HELAR]] == pytest.approx(-0.8)
    assert income[L.ROW_RESULTAT][col[L.COL_UTFALL]] == pytest.approx(-2.0 - 1.0)  # before financial items
    assert income[L.ROW_RESULTAT_EFTER][col[L.COL_AVV_HELAR]] == pytest.approx(-7.8 + 6.8)
    ws = openpyxl.load_workbook(out)[L.SHEET_INCOME]
    assert (ws["C10"].value, ws["C13"].value) == ("=C5+C6", "=C10+C11+C12")
    assert ws["C11"].style_id == ws["C6"].style_id and ws["C13"].style_id == ws["C10"].style_id
    again = tmp_path / "igen.xlsx"  # into the result: the rows are there now, the same figures
    assert consolidate([municipal_units], again, into=out).status == 0
    assert sheet(again, L.SHEET_INCOME)[4:13] == rows[4:13]


def test_financial_rows_the_namnd_cannot_take_are_refused(municipal_units, tmp_path):
    """The nämnd's table has Finansiella poster but not its parts: Enhet B's financial items
    would be left out of the nämnd's result, so nothing is written and the unit's rows are named."""
    listing = tmp_path / "lista.txt"
    listing.write_text("Enhet A\nEnhet B\n", encoding="utf-8")
    into = variant(tmp_path / "namnd_mall.xlsx", {"Resultaträkning!A11": L.ROW_FIN_POSTER,
                                                  "Resultaträkning!A12": L.ROW_RESULTAT_EFTER}, src=TEMPLATE)
    out = tmp_path / "namnd.xlsx"
    proc = xlreport("consolidate", municipal_units, "--into", into, "-o", out, "--units", listing)
    _refused(proc, f"{municipal_units / 'Enhet_B.xlsx'}: Resultaträkning!A11: fel: Raden 'Finansiella intäkter' "
                   f"räknas med i enhetens resultat, men nämndens Resultaträkning saknar raden",
             "nämndens resultat skulle inte bli summan av enheternas", "[konsolidering-resultat]",
             "Resultaträkning!A12: fel: Raden 'Finansiella kostnader'")
    assert not out.exists()


def test_consolidating_into_a_workbook_keeps_the_rest_of_kallor(units_dir, tmp_path):
    """Källor of the nämnd's workbook has an import-sie provenance table and a note of the nämnd's:
    consolidation adds its block below them, then replaces only its own block (rows are inserted
    when it grows into what is below it)."""
    from xlreport.core.changes import Cell, ChangeSet, SheetContent
    from xlreport.ooxml.apply import apply_changes

    kallor = SheetContent("Källor")  # as import-sie writes it (src/xlreport/sie/plan.py)
    kallor.add(Cell("Källor", "title"))
    kallor.add(Cell("Skapas av xlreport. SHA-256 identifierar exakt den fil som lästes.", "text"))
    kallor.blank()
    kallor.add(Cell("Import från SIE-fil", "heading"))
    kallor.add(*(Cell(h, "header") for h in ("SIE-fil", "Storlek (byte)", "SHA-256", "Program (#PROGRAM)",
                                              "Skapad (#GEN)", "Företag (#FNAMN)", "SIE-typ", "Perioder",
                                              "Importerad (UTC)")))
    sie_row = ["ks.se", 437, "ab" * 32, "Testbok 2.1", "2020-04-05 AB", "Eskilstuna kommun", "4",
               "Utfall ack 2020-01–2020-03 (#PSALDO)", "2020-04-06T08:00:00Z"]
    kallor.add(*(Cell(v, "integer" if isinstance(v, int) else "text") for v in sie_row))
    kallor.blank()
    kallor.add(Cell("Nämndens anteckning: huvudboken stängd 6 april.", "text"))
    into = tmp_path / "namnd_sie.xlsx"
    shutil.copyfile(TEMPLATE, into)
    apply_changes(into, ChangeSet(sheets=[kallor]), out=into)
    before = sheet(into, "Källor")

    out = tmp_path / "namnd.xlsx"
    r = consolidate([units_dir], out, into=into, units=UNITS)
    assert r.status == 0
    rows = sheet(out, "Källor")
    assert [row[:9] for row in rows[:len(before)]] == [row[:9] for row in before]  # all kept, in place
    assert rows[len(before) + 1][0] == "Källor till sammanställningen – Kommunstyrelsen"
    head = next(i for i, row in enumerate(rows) if row[:2] == ["Enhet", "Fil"])
    assert sorted(row[1] for row in rows[head + 1:head + 9]) == sorted(str(f) for f in units_dir.iterdir())

    # again, into the result, with a note below the block and one unit's comment more: the block
    # is replaced where it is (not added twice) and grows over inserted rows, the note moves down
    note = variant(tmp_path / "med_anteckning.xlsx", {f"Källor!A{len(rows) + 2}": "Granskad av revisorn."},
                   src=out)
    folder = copy_units(units_dir, tmp_path / "enheter")
    hr = folder / "KLK_HR.xlsx"
    variant(hr, {"Driftredovisning!I5": "Utbildningar senareläggs."}, src=units_dir / hr.name)
    again = tmp_path / "igen.xlsx"
    assert consolidate([folder], again, into=note, units=UNITS).status == 0
    rows = sheet(again, "Källor")
    assert [row[:9] for row in rows[:len(before)]] == [row[:9] for row in before]
    assert [row[0] for row in rows].count("Källor till sammanställningen – Kommunstyrelsen") == 1
    at = next(i for i, row in enumerate(rows) if row[0] == "Enheternas förklaringar (Kommentar och Avvikelseförklaring)")
    assert rows[at + 2][:3] == ["KLK HR", str(hr), "Driftredovisning!I5"]
    assert [row[0] for row in rows[at + 3:] if row and row[0]] == ["Granskad av revisorn."]
    assert not rows[at + 3][0]  # a blank row between the block and the note


# --- consolidation into a filled nämnd workbook with fewer files -------------------------------

def _first_consolidation(units_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """All eight units, KLK Ledning with a Kommentar and KLK Välfärd with a row of its
    Avvikelseförklaring, consolidated (both carried, keyed to their units); and a folder with
    only KLK HR's file, as when the rest have not come in."""
    folder = copy_units(units_dir, tmp_path / "alla")
    variant(folder / "KLK_Ledning.xlsx", {"Driftredovisning!I5": "Ledningen sparar"},
            src=units_dir / "KLK_Ledning.xlsx")
    valfard = FIGURES["KLK Välfärd"]
    variant(folder / "KLK_Valfard.xlsx", {"Avvikelseförklaring!A5": "Evenemang",
                                          "Avvikelseförklaring!B5": round(valfard[L.COL_PROGNOS] -
                                                                          valfard[L.COL_BUDGET_HELAR], 2)},
            src=units_dir / "KLK_Valfard.xlsx")
    first = tmp_path / "forsta.xlsx"
    assert consolidate([folder], first, units=UNITS).status == 0
    assert sheet(first, L.SHEET_EXPLANATION)[4][:3] == ["Evenemang", 1.6, "KLK Välfärd"]
    hr_only = tmp_path / "bara_hr"
    hr_only.mkdir()
    shutil.copyfile(units_dir / "KLK_HR.xlsx", hr_only / "KLK_HR.xlsx")
    return first, hr_only


def test_a_consolidation_with_errors_is_written_but_says_it_is_not_finished(units_dir, tmp_path):
    """Into a filled nämnd workbook with one unit's file: the nämnd's own Avvikelseförklaring no
    longer adds up, so the refresh writes nothing. The figures are in (the user needs them to fix
    the explanation), but the command said "Sammanställde …" alone and the old Rapport and
    Kontroller stayed, describing the figures of before."""
    first, hr_only = _first_consolidation(units_dir, tmp_path)
    ks = next(i for i, r in enumerate(sheet(first, L.SHEET_UNITS)) if r[0] == "KS/kommunledningskontoret") + 1
    into = variant(tmp_path / "namnd.xlsx", {f"Driftredovisning!I{ks}": "Nämndens text om KS.",
                                             "Avvikelseförklaring!A5": "Nämndens post", "Avvikelseförklaring!B5": 6.2,
                                             "Avvikelseförklaring!C5": None}, src=first)
    out = tmp_path / "ut.xlsx"
    proc = xlreport("consolidate", hr_only, "--into", into, "-o", out, "--units", _listing(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Avvikelseförklaring!B10: fel: Posterna i Avvikelseförklaring summerar till 6,2 mnkr" in proc.stdout
    assert (f"{out}: varning: Arbetsboken är inte klar: siffrorna är sammanställda, men avvikelsekolumnerna och bladet "
            f"Rapport skrevs inte på grund av felen (de står på bladet Kontroller). Rätta felen och kör xlreport "
            f"refresh \"{out}\". [konsolidering]") in proc.stdout, proc.stdout
    units = {r[0]: r for r in sheet(out, L.SHEET_UNITS)[4:13]}
    assert units["KLK HR"][1:4] == [-0.89, -18.67, -21.48] and units["KLK HR"][4] == ""  # no deviations
    summa = units["Summa Kommunstyrelsen"]  # its deviation formulas hold the new figures' values
    assert (round_half_up(summa[4], 2), round_half_up(summa[7], 2)) == (2.81, 1.0)
    assert sheet(out, L.SHEET_REPORT)[1][0].startswith("Rapporten är inte skriven: den sammanställda arbetsboken "
                                                        "har fel, som står på bladet Kontroller.")
    assert ["Fel", "Avvikelseförklaring", "B10", "forklaring"] in [r[:4] for r in sheet(out, L.SHEET_FINDINGS)]
    # the emptied unit rows: the nämnd's own Kommentar stays, with a warning at its cell; the one
    # carried from KLK Ledning's file by the first run goes, with a warning
    assert units["KS/kommunledningskontoret"][8] == "Nämndens text om KS."
    assert (f"Driftredovisning!I{ks}: varning: Enheten 'KS/kommunledningskontoret' är inte med i "
            f"sammanställningen, så dess rad har inga siffror, men nämndens egen Kommentar på raden står kvar") \
        in proc.stdout
    assert units["KLK Ledning"][8] == ""
    assert f"Driftredovisning!I{ks + 1}: varning: Enheten 'KLK Ledning' är inte med i sammanställningen: den " \
        f"Kommentar som en tidigare sammanställning hämtade från dess fil togs bort" in proc.stdout
    r = consolidate([hr_only], tmp_path / "ut2.xlsx", into=into, units=UNITS)
    assert (r.status, r.finished) == (1, False)
    assert r.summary().startswith(f"Sammanställde 1 av 1 filer (8 enheter i listan) till {r.out}, men "
                                  f"arbetsboken är inte klar: siffrorna är sammanställda")
    # once the explanation is fixed, refresh finishes it
    fixed = variant(tmp_path / "rattad.xlsx", {"Avvikelseförklaring!B5": 1.0}, src=out)
    assert xlreport("refresh", fixed).returncode == 0
    assert not sheet(fixed, L.SHEET_REPORT)[1][0].startswith("Rapporten är inte skriven")
    done = consolidate([units_dir], tmp_path / "alla.xlsx", units=UNITS)
    assert done.finished and done.summary() == (f"Sammanställde 8 av 8 filer (8 enheter i listan) till "
                                                f"{done.out}.")


def test_the_keyed_explanation_rows_of_a_unit_left_out_are_cleared(units_dir, tmp_path):
    """The rows an earlier run carried into the nämnd's Avvikelseförklaring (each with its Enhet)
    stayed when no unit of the new run had rows to carry, explaining figures no longer there."""
    first, hr_only = _first_consolidation(units_dir, tmp_path)
    out = tmp_path / "ut.xlsx"
    r = consolidate([hr_only], out, into=first, units=UNITS)
    assert r.status == 0, [f.message for _file, f in r.notes]
    assert [row[:3] for row in sheet(out, L.SHEET_EXPLANATION)[4:9]] == [["", "", ""]] * 5
    assert "Enheten 'KLK Välfärd' är inte med i sammanställningen: dess rader i nämndens Avvikelseförklaring " \
        "(från en tidigare sammanställning) togs bort." in [f.message for _file, f in r.notes]
    assert r.finished
