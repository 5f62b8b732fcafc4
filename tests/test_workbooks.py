"""The committed template and worked example are reproducible and hold the reference figures."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_cell_to_rowcol

from support import modules
from support.workbooks import WORKBOOKS
from xlreport.core import layout as L

build = modules.build()
TEMPLATE = WORKBOOKS / build.TEMPLATE_NAME
EXAMPLE = WORKBOOKS / build.EXAMPLE_NAME


# --- reproducibility ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("builder", "committed"),
    [(build.build_template, TEMPLATE), (build.build_example, EXAMPLE)],
    ids=["template", "example"],
)
def test_build_is_byte_identical_to_committed(tmp_path, builder, committed):
    first = builder(tmp_path / "a" / committed.name)
    second = builder(tmp_path / "b" / committed.name)
    assert first.read_bytes() == second.read_bytes(), "two builds differ: output is not reproducible"
    assert first.read_bytes() == committed.read_bytes(), (
        f"{committed.name} is stale: run `python workbooks/build.py` and commit the result"
    )


def test_cli_out_dir(tmp_path):
    assert build.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / build.TEMPLATE_NAME).read_bytes() == TEMPLATE.read_bytes()
    assert (tmp_path / build.EXAMPLE_NAME).read_bytes() == EXAMPLE.read_bytes()


# --- reading helpers ----------------------------------------------------------------------
def _grid(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def _cell(grid: list[list], row: int, col: int):
    if row < len(grid) and col < len(grid[row]):
        return grid[row][col]
    return ""


def _table(path: Path, sheet: str, head: str, columns: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """Rows below the header at its documented position, {label: {column: value}}, up to a blank label."""
    grid = _grid(path, sheet)
    row, col = xl_cell_to_rowcol(build.header_cells()[(sheet, head)])
    assert _cell(grid, row, col) == head
    assert tuple(_cell(grid, row, col + 1 + i) for i in range(len(columns))) == columns
    out: dict[str, dict[str, object]] = {}
    for r in range(row + 1, len(grid)):
        label = _cell(grid, r, col)
        if label == "":
            if out:
                break
            continue
        out[label] = {c: _cell(grid, r, col + 1 + i) for i, c in enumerate(columns)}
    return out


def _meta(path: Path) -> dict[str, object]:
    grid = _grid(path, L.SHEET_META)
    return {r[0]: r[1] for r in grid if len(r) > 1 and r[0]}


def _unit_list(path: Path) -> list[str]:
    grid = _grid(path, L.SHEET_META)
    row, _col = xl_cell_to_rowcol(build.header_cells()[(L.SHEET_META, L.META_UNITS_HEADER)])
    assert grid[row][0] == L.META_UNITS_HEADER
    return [r[0] for r in grid[row + 1 :] if r[0] != ""]


# --- both files ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", [TEMPLATE, EXAMPLE], ids=["template", "example"])
def test_sheets_in_order(path):
    assert CalamineWorkbook.from_path(str(path)).sheet_names == list(build.SHEET_ORDER)
    assert list(build.SHEET_ORDER[: len(L.REQUIRED_SHEETS)]) == list(L.REQUIRED_SHEETS)


@pytest.mark.parametrize("path", [TEMPLATE, EXAMPLE], ids=["template", "example"])
def test_headers_and_formulas(path):
    wb = openpyxl.load_workbook(path)
    for (sheet, head), ref in build.header_cells().items():
        assert wb[sheet][ref].value == head, (sheet, ref)
    income = wb[L.SHEET_INCOME]
    for col in "BCDFG":
        assert income[f"{col}10"].value == f"={col}5+{col}6"
        assert income[f"{col}10"].number_format == build.NUM_MNKR
    for col in "EH":  # Avvikelse columns: empty, formatted, grey
        for row in range(5, 11):
            cell = income[f"{col}{row}"]
            assert cell.value is None
            assert cell.number_format == build.NUM_MNKR
            assert cell.fill.fgColor.rgb.endswith(build.COMPUTED_FILL.lstrip("#"))
    units = wb[L.SHEET_UNITS]
    for col in "BCDFG":
        assert units[f"{col}13"].value == f"=SUM({col}5:{col}12)"
    assert _meta(path)[L.META_VERSION] == L.TEMPLATE_VERSION
    for ws in wb:
        assert not ws.merged_cells.ranges
    checks = {dv.formula1 for dv in wb[L.SHEET_COMMITMENTS].data_validations.dataValidation}
    assert checks == {'"' + ",".join(L.STATUSES) + '"', f'"{L.YES},{L.NO}"'}


# --- template -----------------------------------------------------------------------------
def test_template_is_empty():
    meta = _meta(TEMPLATE)
    assert meta[L.META_VERSION] == L.TEMPLATE_VERSION
    assert all(meta[k] == "" for k in meta if k not in (L.META_VERSION, L.META_UNITS_HEADER))
    assert _unit_list(TEMPLATE) == []

    income = _table(TEMPLATE, L.SHEET_INCOME, L.HEAD_INCOME, L.INCOME_COLUMNS)
    assert tuple(income) == L.TEMPLATE_INCOME_ROWS
    assert all(v == "" for label in L.TEMPLATE_INCOME_ROWS[:-1] for v in income[label].values())
    assert income[L.ROW_RESULTAT][L.COL_UTFALL] == 0

    grid = _grid(TEMPLATE, L.SHEET_UNITS)
    assert [grid[r][0] for r in range(4, 13)] == [""] * 8 + [L.ROW_SUMMA]
    assert grid[12][1:] == [0, 0, 0, "", 0, 0, "", ""]  # the last: Kommentar

    grid = _grid(TEMPLATE, L.SHEET_EXPLANATION)
    summa = [r for r in grid if r[0] == L.ROW_SUMMA]
    assert summa == [[L.ROW_SUMMA, 0, ""]]  # the last: Enhet
    assert grid[3] == [L.HEAD_EXPLANATION, L.COL_BELOPP, L.COL_ENHET]

    staff = _table(TEMPLATE, L.SHEET_STAFF, L.HEAD_STAFF, L.STAFF_COLUMNS)
    assert tuple(staff) == (*L.STAFF_FORMS, L.ROW_SUMMA)
    assert all(v == "" for row in staff.values() for v in row.values())

    sick = _table(TEMPLATE, L.SHEET_SICK, L.HEAD_SICK, L.SICK_COLUMNS)
    assert [L.norm(k).startswith(L.SICK_PREFIXES[r]) for k, r in zip(sick, L.SICK_ROWS)] == [True] * 3


# --- worked example: the reference report's figures ---------------------------------------
def test_example_metadata():
    meta = _meta(EXAMPLE)
    assert meta[L.META_KOMMUN] == "Eskilstuna kommun"
    assert meta[L.META_NAMND] == "Kommunstyrelsen"
    assert meta[L.META_AR] == 2020
    assert meta[L.META_MANAD] == 3
    assert meta[L.META_SJUKMAL] == pytest.approx(3.0)
    assert meta[L.META_DRIFTRAM] == pytest.approx(407.2)
    assert meta[L.META_VERSION] == L.TEMPLATE_VERSION
    units = _table(EXAMPLE, L.SHEET_UNITS, L.HEAD_UNITS, L.UNIT_COLUMNS)
    assert _unit_list(EXAMPLE) == [u for u in units if not u.startswith(L.ROW_SUMMA)]
    assert len(_unit_list(EXAMPLE)) == 8


def test_example_income_statement():
    income = _table(EXAMPLE, L.SHEET_INCOME, L.HEAD_INCOME, L.INCOME_COLUMNS)
    assert tuple(income) == L.TEMPLATE_INCOME_ROWS
    res = income[L.ROW_RESULTAT]
    # cached formula results, as a reader that does not recalculate sees them
    assert res[L.COL_UTFALL_FG] == pytest.approx(12.4)
    assert res[L.COL_UTFALL] == pytest.approx(17.1)
    assert res[L.COL_BUDGET] == pytest.approx(0.73)
    assert res[L.COL_BUDGET_HELAR] == pytest.approx(0.0)
    assert res[L.COL_PROGNOS] == pytest.approx(7.8)
    for label in L.TEMPLATE_INCOME_ROWS:
        assert income[label][L.COL_AVV] == "" and income[label][L.COL_AVV_HELAR] == ""
        values = income[label]
        if label != L.ROW_KOP:
            assert isinstance(values[L.COL_UTFALL], float)  # numbers, not text
    assert all(v == "" for v in income[L.ROW_KOP].values())
    # the deviations the tool will fill reproduce the printed table
    assert round(res[L.COL_UTFALL] - res[L.COL_BUDGET], 1) == pytest.approx(16.4)
    assert round(res[L.COL_PROGNOS] - res[L.COL_BUDGET_HELAR], 1) == pytest.approx(7.8)
    kost = income[L.ROW_KOSTNADER]
    assert round(kost[L.COL_UTFALL] - kost[L.COL_BUDGET], 1) == pytest.approx(12.9)
    assert income[L.ROW_INTAKTER][L.COL_BUDGET_HELAR] == pytest.approx(441.0)


def test_example_units():
    units = _table(EXAMPLE, L.SHEET_UNITS, L.HEAD_UNITS, L.UNIT_COLUMNS)
    summa = units.pop(f"{L.ROW_SUMMA} Kommunstyrelsen")
    assert len(units) == 8
    for col in build.UNIT_INPUT_COLUMNS:
        assert summa[col] == pytest.approx(sum(u[col] for u in units.values()))
    assert summa[L.COL_AVV_FG] == pytest.approx(11.48)
    assert summa[L.COL_BUDGET_HELAR] == pytest.approx(-429.5)
    assert round(summa[L.COL_UTFALL] - summa[L.COL_BUDGET], 2) == pytest.approx(16.37)
    assert round(summa[L.COL_PROGNOS] - summa[L.COL_BUDGET_HELAR], 1) == pytest.approx(7.8)
    ledning = units["KLK Ledning"]
    assert round(ledning[L.COL_UTFALL] - ledning[L.COL_BUDGET], 1) == pytest.approx(2.9)
    assert round(ledning[L.COL_PROGNOS] - ledning[L.COL_BUDGET_HELAR], 1) == pytest.approx(2.3)
    assert all(u[L.COL_AVV] == "" and u[L.COL_AVV_HELAR] == "" for u in units.values())


def test_example_explanation_staff_sick_commitments():
    expl = _table(EXAMPLE, L.SHEET_EXPLANATION, L.HEAD_EXPLANATION, L.EXPLANATION_COLUMNS)
    assert expl.pop(L.ROW_SUMMA)[L.COL_BELOPP] == pytest.approx(7.8)
    assert sum(v[L.COL_BELOPP] for v in expl.values()) == pytest.approx(7.8)

    staff = _table(EXAMPLE, L.SHEET_STAFF, L.HEAD_STAFF, L.STAFF_COLUMNS)
    assert staff[L.ROW_SUMMA] == {
        L.COL_KVINNOR: 74,
        L.COL_MAN: 34,
        L.COL_TOTALT: 108,
        L.COL_TOTALT_FG: 89,
        L.COL_FORANDRING: 19,
    }
    assert staff[L.ROW_TILLSVIDARE][L.COL_TOTALT] == 98
    leavers = _table(EXAMPLE, L.SHEET_STAFF, L.HEAD_LEAVERS, L.LEAVERS_COLUMNS)
    assert leavers[L.ROW_SUMMA][L.COL_ANTAL] == 3
    assert sum(v[L.COL_ANTAL] for k, v in leavers.items() if k != L.ROW_SUMMA) == 3

    sick = _table(EXAMPLE, L.SHEET_SICK, L.HEAD_SICK, L.SICK_COLUMNS)
    rows = dict(zip(L.SICK_ROWS, sick.values()))
    assert rows[L.ROW_SJUK_TOTAL][L.COL_TOTALT] == pytest.approx(2.5)
    assert rows[L.ROW_SJUK_TOTAL][L.COL_FORANDRING] == pytest.approx(-0.1)
    assert rows[L.ROW_SJUK_LANG][L.COL_MAN] == "–"
    assert rows[L.ROW_SJUK_LANG][L.COL_MAN] in L.NO_VALUE_MARKS

    grid = _grid(EXAMPLE, L.SHEET_COMMITMENTS)
    row, _ = xl_cell_to_rowcol(build.header_cells()[(L.SHEET_COMMITMENTS, L.HEAD_COMMITMENTS)])
    assert tuple(grid[row]) == (L.HEAD_COMMITMENTS, *L.COMMITMENT_COLUMNS)
    items = [r for r in grid[row + 1 :] if r[0]]
    assert len(items) == 24
    assert {r[2] for r in items} == {L.STATUS_PAGAR}
    assert sum(r[3] == L.YES for r in items) == 19
    assert sum(r[3] == L.NO for r in items) == 5


# --- LibreOffice opens them ---------------------------------------------------------------
@pytest.mark.libreoffice
def test_libreoffice_opens_and_recalculates(tmp_path):
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(TEMPLATE),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with open(tmp_path / f"{EXAMPLE.stem}-{L.SHEET_INCOME}.csv", encoding="utf-8") as fh:
        rows = {r[0]: r for r in csv.reader(fh) if r}
    assert [float(v) for v in rows[L.ROW_RESULTAT][1:4]] == pytest.approx([12.4, 17.1, 0.73])
    with open(tmp_path / f"{EXAMPLE.stem}-{L.SHEET_UNITS}.csv", encoding="utf-8") as fh:
        rows = {r[0]: r for r in csv.reader(fh) if r}
    assert float(rows[f"{L.ROW_SUMMA} Kommunstyrelsen"][5]) == pytest.approx(-429.5)
    assert (tmp_path / f"{TEMPLATE.stem}-{L.SHEET_META}.csv").exists()
