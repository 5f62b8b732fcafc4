"""Writing real workbooks loses nothing: every part we do not own is copied byte for byte.

Each fixture (Excel, LibreOffice and XlsxWriter files; xlsx, xlsm, xlam, pivots) gets a formula
written into its first sheet and two owned sheets added, then the owned sheets replaced, then
the same changes applied again. LibreOffice must open every result.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from support import libreoffice
from support.fixtures import fixture_workbooks
from support.workbooks import EXAMPLE, edit_package, no_temp_files, raw_compressed, workbook_type
from support.workbooks import verified_parts as parts
from xlreport.core.changes import Cell, CellWrite, ChangeSet, SheetContent
from xlreport.core.errors import NotAWorkbook, StructureError, WorkbookLocked, WriteFailed
from xlreport.doors.file import read_grids
from xlreport.ooxml import atomic, dependents
from xlreport.ooxml import edit as package_edit
from xlreport.ooxml.apply import apply_changes
from xlreport.ooxml.package import open_package

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
# The only parts a run may change besides the written sheet and the owned sheets.
OWNED_PARTS = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
               "xl/calcChain.xml"}
ROW, COL = 30, 3  # D31: below every fixture's data


def report(title: str) -> SheetContent:
    content = SheetContent("Rapport", col_widths={0: 36, 1: 14})
    content.add(Cell(title, "title"))
    content.blank()
    content.add(Cell("Post", "header"), Cell("Belopp", "header"))
    content.add("Intäkter", Cell(-12.5, "mnkr"))
    content.add(Cell("Till bladet", "link", "'Kontroller'!A1"), Cell(3, "integer_bold"))
    return content


def findings() -> SheetContent:
    content = SheetContent("Kontroller")
    content.add(Cell("Regel", "header"), Cell("Meddelande", "header"))
    content.add(Cell("fel", "error"), Cell("=Summan stämmer inte", "wrap"))
    return content


def changes_for(sheet: str, title: str) -> ChangeSet:
    return ChangeSet(writes=[CellWrite(sheet, ROW, COL, 42.5, "40+2.5"),
                             CellWrite(sheet, ROW + 1, COL, "=inte en formel")],
                     sheets=[report(title), findings()])


def first_sheet(path: Path) -> tuple[str, str]:
    with open_package(path) as pkg:
        info = next(s for s in pkg.sheets() if s.kind == "worksheet")
        return info.name, info.part


class Run:
    def __init__(self, src: Path, folder: Path):
        self.src = src
        self.sheet, self.sheet_part = first_sheet(src)
        self.v1 = folder / f"v1{src.suffix}"
        self.v2 = folder / f"v2{src.suffix}"
        self.v3 = folder / f"v3{src.suffix}"
        self.s1 = apply_changes(src, changes_for(self.sheet, "Första"), out=self.v1)
        shutil.copyfile(self.v1, self.v2)
        self.s2 = apply_changes(self.v2, changes_for(self.sheet, "Andra"))  # in place, replaces owned
        shutil.copyfile(self.v2, self.v3)
        self.s3 = apply_changes(self.v3, changes_for(self.sheet, "Andra"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fixtures_dir) -> dict[str, Run]:
    out = {}
    for src in fixture_workbooks():
        folder = tmp_path_factory.mktemp(src.stem + src.suffix.replace(".", "_"))
        out[src.name] = Run(src, folder)
    return out


@pytest.fixture(scope="module")
def lo_outputs(runs) -> dict[Path, Path | None]:
    if not libreoffice.available():
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh")
    return libreoffice.convert([r.v2 for r in runs.values()])


@pytest.mark.fixture_workbooks("name", names=True)
def test_unowned_parts_are_raw_copies(runs, name):
    run = runs[name]
    allowed = OWNED_PARTS | {run.sheet_part} | set(run.s1.added)  # run 2 rewrites the owned sheets
    for src, out, summary in ((run.src, run.v1, run.s1), (run.v1, run.v2, run.s2)):
        before, after = parts(src), parts(out)
        assert set(summary.changed) <= allowed, summary.changed
        for part, data in before.items():
            if part in summary.changed or part in summary.removed:
                continue
            assert after[part] == data, part
            assert raw_compressed(out, part) == raw_compressed(src, part), part
        assert next(iter(after)) == "[Content_Types].xml"
    assert run.sheet_part in run.s1.changed and "xl/styles.xml" in run.s1.changed
    assert set(parts(run.v1)) - set(parts(run.src)) == set(run.s1.added)
    assert len(run.s1.added) == 2  # the two owned sheets, and nothing else
    assert len(run.s2.changed) == 1 and run.s2.changed[0] in run.s1.added  # only Rapport's title differs


def parts_changed(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return [p for p in before if p in after and before[p] != after[p]]


@pytest.mark.fixture_workbooks("name", names=True)
def test_second_identical_run_changes_nothing(runs, name):
    run = runs[name]
    assert run.s3.changed == [] and run.s3.added == [] and run.s3.removed == []
    assert run.v3.read_bytes() == run.v2.read_bytes()
    assert set(run.s2.changed) <= OWNED_PARTS | {run.sheet_part, *run.s1.added}
    assert run.s2.added == []


@pytest.mark.fixture_workbooks("name", names=True, suffixes=(".xlsm", ".xlam"))
def test_macro_workbooks_keep_vba_and_content_type(runs, name):
    run = runs[name]
    before, after = parts(run.src), parts(run.v2)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert raw_compressed(run.v2, "xl/vbaProject.bin") == raw_compressed(run.src, "xl/vbaProject.bin")

    assert workbook_type(after["[Content_Types].xml"]) == workbook_type(before["[Content_Types].xml"])
    assert "macroEnabled" in workbook_type(after["[Content_Types].xml"]) or name.endswith(".xlam")


@pytest.mark.fixture_workbooks("name", names=True)
def test_calamine_reads_back(runs, name):
    run = runs[name]
    names, grids = read_grids(run.v2, [run.sheet, "Rapport", "Kontroller"])
    assert names[-2:] == ["Rapport", "Kontroller"]
    assert names[:-2] == read_grids(run.src, [])[0]
    sheet = grids[run.sheet]
    assert sheet.get(ROW, COL) == 42.5
    assert sheet.get(ROW + 1, COL) == "=inte en formel"
    rapport = grids["Rapport"]
    assert rapport.get(0, 0) == "Andra" and rapport.get(3, 1) == -12.5 and rapport.get(4, 1) == 3
    assert grids["Kontroller"].get(1, 1) == "=Summan stämmer inte"


@pytest.mark.fixture_workbooks("name", names=True)
def test_written_sheet_xml(runs, name):
    run = runs[name]
    xml = parts(run.v2)[run.sheet_part]
    c = etree.fromstring(xml).xpath("//m:c[@r='D31']", namespaces=NS)[0]
    assert c.findtext("m:f", namespaces=NS) == "40+2.5" and c.findtext("m:v", namespaces=NS) == "42.5"
    wb = etree.fromstring(parts(run.v2)["xl/workbook.xml"])
    assert wb.find("m:calcPr", NS).get("fullCalcOnLoad") == "1"


@pytest.mark.libreoffice
@pytest.mark.fixture_workbooks("name", names=True)
def test_libreoffice_opens_result(runs, lo_outputs, name):
    csv = lo_outputs[runs[name].v2]
    assert csv is not None, f"LibreOffice could not open the written {name}"
    lines = csv.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(lines) > ROW and lines[ROW].split(",")[COL] == "42.5"


# --- shared formulas and calcChain through the whole door ---------------------------------


def test_shared_formula_master_relocated_and_recalculated(tmp_copy):
    path = tmp_copy("calamine_shared_formula_simple.xlsx")
    apply_changes(path, ChangeSet(writes=[CellWrite("Sheet1", 0, 1, 100.0), CellWrite("Sheet1", 2, 0, 10)]))
    xml = parts(path)["xl/worksheets/sheet1.xml"]
    root = etree.fromstring(xml)

    def f(ref):
        el = root.xpath(f"//m:c[@r='{ref}']/m:f", namespaces=NS)
        return (el[0].text, dict(el[0].attrib)) if el else None

    assert f("B1") is None
    assert f("B2") == ("A2*2", {"t": "shared", "ref": "B2:B3", "si": "0"})
    assert f("B3") == (None, {"t": "shared", "si": "0"})
    chain = etree.fromstring(parts(path)["xl/calcChain.xml"])
    assert [c.get("r") for c in chain] == ["B3", "B2"]  # B1 no longer holds a formula
    if libreoffice.available():  # LibreOffice recalculates on load: B3 follows the new A3
        csv = libreoffice.convert([path])[path]
        assert csv is not None
        assert csv.read_text().splitlines()[:3] == ["1,100", "2,4", "10,20"]


def test_replacing_a_sheet_drops_its_calc_chain(tmp_copy):
    path = tmp_copy("calamine_shared_formula_simple.xlsx")
    content = SheetContent("Sheet1")
    content.add("ersatt")
    summary = apply_changes(path, ChangeSet(sheets=[content]))
    after = parts(path)
    assert "xl/calcChain.xml" not in after and summary.removed == ["xl/calcChain.xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert read_grids(path, ["Sheet1"])[1]["Sheet1"].values == [["ersatt"]]


def test_calc_chain_keeps_other_sheets(tmp_copy):
    path = tmp_copy("calamine_pivots.xlsx")
    apply_changes(path, ChangeSet(writes=[CellWrite("DataSheet", 2, 6, 1.0)]))  # G3, a formula cell
    chain = etree.fromstring(parts(path)["xl/calcChain.xml"])
    entries = [(c.get("r"), c.get("i")) for c in chain]
    assert ("G3", "1") not in entries and len(entries) == 21
    assert entries[11] == ("G4", "1")


# --- refusals and the atomic write --------------------------------------------------------


def test_missing_sheet_is_a_structure_error(tmp_copy):
    path = tmp_copy("finance.xlsx")
    before = path.read_bytes()
    with pytest.raises(StructureError, match="'Saknas' finns inte"):
        apply_changes(path, ChangeSet(writes=[CellWrite("Saknas", 0, 0, 1)]))
    assert path.read_bytes() == before


def test_refuses_when_open_in_excel(tmp_copy):
    path = tmp_copy("finance.xlsx")
    before = path.read_bytes()
    (path.parent / "~$finance.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookLocked, match=r"öppen i Excel \(~\$finance.xlsx\)\. Stäng den"):
        apply_changes(path, changes_for("Summary", "x"))
    assert path.read_bytes() == before


def test_failed_rename_leaves_original(tmp_copy, monkeypatch):
    path = tmp_copy("finance.xlsm")
    before = path.read_bytes()

    def broken_replace(a, b):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(WriteFailed, match="finance.xlsm.*originalet är oförändrat") as err:
        apply_changes(path, changes_for("Summary", "x"))
    assert err.value.file == str(path)
    assert path.read_bytes() == before
    assert no_temp_files(path.parent)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), RuntimeError("bug")])
def test_failure_mid_write_leaves_original(tmp_copy, monkeypatch, error):
    path = tmp_copy("finance.xlsx")
    before = path.read_bytes()
    real = package_edit.write_package
    seen = []

    def failing_write(src, dest, *args):
        real(src, dest, *args)
        seen.append(Path(dest))
        assert Path(dest).stat().st_size > 0  # the temp file really was written
        raise error

    monkeypatch.setattr(package_edit, "write_package", failing_write)
    with pytest.raises(WriteFailed if isinstance(error, OSError) else RuntimeError):
        apply_changes(path, changes_for("Summary", "x"))
    assert path.read_bytes() == before
    assert seen and seen[0].name.startswith(".~xlreport-") and seen[0].parent == path.parent
    assert no_temp_files(path.parent)


def test_permissions_kept_in_place(tmp_copy):
    path = tmp_copy("finance.xlsx")
    path.chmod(0o640)
    apply_changes(path, changes_for("Summary", "x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert no_temp_files(path.parent)


def test_new_output_gets_normal_permissions(tmp_copy, tmp_path):
    path = tmp_copy("finance.xlsx")
    out = tmp_path / "ny.xlsx"
    apply_changes(path, changes_for("Summary", "x"), out=out)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


# --- speed: a big ledger is copied, not recompressed --------------------------------------


def test_big_ledger_copied_faster_than_calamine_reads_it(tmp_path):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "ledger.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Huvudbok")
    ws.write_row(0, 0, ["Datum", "Konto", "Text", "Belopp", "Saldo"])
    for r in range(1, 50_001):
        ws.write_row(r, 0, [45000 + r % 365, 3000 + r % 97, f"Verifikat {r}", r * 1.25, r * 0.5])
    wb.add_worksheet("Resultaträkning").write(0, 0, "Konto")
    wb.close()

    t = time.perf_counter()
    CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Huvudbok").to_python()
    calamine_s = time.perf_counter() - t
    t = time.perf_counter()
    summary = apply_changes(path, ChangeSet(writes=[CellWrite("Resultaträkning", 1, 0, 1.0)]))
    apply_s = time.perf_counter() - t
    assert "xl/worksheets/sheet1.xml" not in summary.changed
    assert apply_s < calamine_s / 2, (apply_s, calamine_s)


def test_read_grids_positions_and_missing_sheets(tmp_path, fixtures_dir):
    names, grids = read_grids(fixtures_dir / "finance.xlsx", ["Summary", "Finns inte", "Scratch"])
    assert names == ["Summary", "Transactions", "Assumptions", "Lookups", "Scratch"]
    assert set(grids) == {"Summary", "Scratch"}
    assert grids["Summary"].get(0, 0) == "ACME Corp - FY2025 Budget vs Actual"
    assert grids["Summary"].get(3, 1) == 377000.0
    offset = tmp_path / "offset.xlsm"  # data starting at C4: the grid keeps sheet coordinates
    apply_changes(fixtures_dir / "calamine_vba.xlsm", ChangeSet(writes=[CellWrite("Sheet3", 3, 2, 7.0)]),
                  out=offset)
    grid = read_grids(offset, ["Sheet3"])[1]["Sheet3"]
    assert (grid.top, grid.left, grid.get(3, 2)) == (3, 2, 7.0)


def test_read_grids_refuses_renamed_csv(tmp_path):
    p = tmp_path / "data.xlsx"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(NotAWorkbook):
        read_grids(p, None)


_SPARKLINES = (b'<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
               b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
               b'<x14:sparklineGroups xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
               b'<x14:sparklineGroup><x14:sparklines><x14:sparkline><xm:f>Resultatr\xc3\xa4kning!E5:E10</xm:f>'
               b'<xm:sqref>C20</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>'
               b'</x14:sparklineGroups></ext></extLst></worksheet>')


def test_sparklines_over_written_cells_are_not_counted_as_formulas(tmp_path):
    """Only cell formulas are recalculated on open; a sparkline's range (xm:f) is no formula."""
    from xlreport.doors.file import load

    with_sparkline = edit_package(tmp_path / "sparkline.xlsx", {  # Avvikelseförklaring, with formulas
        "xl/worksheets/sheet4.xml": lambda data: data.replace(b"</worksheet>", _SPARKLINES)})
    changes = load(EXAMPLE).changes
    counts = []
    for path in (EXAMPLE, with_sparkline):
        with open_package(path) as pkg:
            counts.append(dependents.count_dependent_formulas(pkg, changes))
    assert counts[1] == counts[0]
