"""Fidelity on a rich report workbook: refresh through the CLI and lose nothing.

The workbook is the worked example with everything a finance department adds to it, built
reproducibly in two steps (see :func:`build_rich_example`):

1. ``workbooks/build.py`` builds the example with an ``extra`` hook that adds, through
   XlsxWriter: the VBA project of ``finance.xlsm`` (so the file is an .xlsm), a sheet
   *Analys* with a bar chart, the image of ``finance.xlsx``, formulas that read the cells the
   tool writes (and one that reads the Rapport sheet, one an external workbook), comments,
   data validation, and conditional formats including an Excel 2010 data bar (x14 extLst).
2. Prepared parts are grafted from ``finance_lo_pivot.xlsx`` (made by LibreOffice): its
   Transactions sheet with an Excel table, its Pivot sheet with the pivot table, the pivot
   cache, and the external link. Shared-string cells of the grafted sheets become inline
   strings and their style indexes are dropped, since both belong to the other workbook.

Then ``xlreport refresh`` runs as a process and the tests prove: every part the tool does not
own is byte-identical (decompressed and as stored), the .xlsm keeps its content type and VBA,
LibreOffice opens the result, python-calamine reads every value the tool wrote, the workbook
asks for a full recalculation on open, and the tool counts the formulas that depend on what
it wrote.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from support import libreoffice, modules
from support.cli import xlreport
from support.fixtures import FIXTURES_DIR
from support.workbooks import edit_package, raw_compressed, workbook_type
from support.workbooks import verified_parts as parts
from xlreport.doors.file import load
from xlreport.ooxml.dependents import count_dependent_formulas
from xlreport.ooxml.package import open_package

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
SOURCE_PIVOT = FIXTURES_DIR / "finance_lo_pivot.xlsx"
DEPENDENT_FORMULAS = 3  # Analys!B3, B4 and B5 below; B6 reads an input cell, B8 an external workbook


# --- the builder --------------------------------------------------------------------------


def _extras(folder: Path):
    vba = folder / "vbaProject.bin"
    vba.write_bytes(zipfile.ZipFile(FIXTURES_DIR / "finance.xlsm").read("xl/vbaProject.bin"))
    image = folder / "logo.png"
    image.write_bytes(zipfile.ZipFile(FIXTURES_DIR / "finance.xlsx").read("xl/media/image1.png"))

    def extra(wb) -> None:
        wb.add_vba_project(str(vba))
        ws = wb.add_worksheet("Analys")
        ws.write(0, 0, "Analys av avvikelserna")
        ws.write(2, 0, "Intäkter, avvikelse ack ×2")
        ws.write_formula(2, 1, "='Resultaträkning'!E5*2", None, 6.86)
        ws.write(3, 0, "Enheternas avvikelse ack")
        ws.write_formula(3, 1, "=SUM(Driftredovisning!E5:E12)", None, 13.16)
        ws.write(4, 0, "Rapportens rubrik")
        ws.write_formula(4, 1, "=Rapport!A1", None, "")
        ws.write(5, 0, "Intäkter, utfall (indata)")
        ws.write_formula(5, 1, "='Resultaträkning'!C5", None, 113.7)
        ws.write(7, 0, "Extern länk")
        ws.write_formula(7, 1, "=[1]Sheet1!B2", None, 0)
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Utfall ack", "categories": "=Driftredovisning!$A$5:$A$12",
                          "values": "=Driftredovisning!$C$5:$C$12"})
        ws.insert_chart("D2", chart)
        ws.insert_image("D18", str(image))
        units = wb.get_worksheet_by_name("Driftredovisning")
        units.write_comment("A6", "Ny chef från mars.", {"author": "Ekonomi"})
        units.conditional_format("E5:E12", {"type": "cell", "criteria": ">", "value": 0,
                                            "format": wb.add_format({"font_color": "#006100"})})
        units.conditional_format("H5:H12", {"type": "data_bar", "data_bar_2010": True})
        wb.get_worksheet_by_name("Resultaträkning").write_comment("C5", "Enligt huvudboken 31/3.")
        wb.get_worksheet_by_name("Åtaganden").data_validation(
            "C5:C34", {"validate": "list", "source": ["Ej påbörjad", "Pågår", "Klart/avslutat", "Försenat"]})
    return extra


def _inline_strings(sheet_xml: bytes, strings: list[str]) -> bytes:
    root = etree.fromstring(sheet_xml)
    for c in root.iter(f"{{{NS}}}c"):
        c.attrib.pop("s", None)
        if c.get("t") == "s":
            v = c.find(f"{{{NS}}}v")
            text = strings[int(v.text)]
            c.remove(v)
            c.set("t", "inlineStr")
            t = etree.SubElement(etree.SubElement(c, f"{{{NS}}}is"), f"{{{NS}}}t")
            t.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    root = etree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(si.itertext()) for si in root.iter(f"{{{NS}}}si")]


def _graft_pivot(path: Path) -> None:
    """Copy the pivot table, its source sheet and the external link from finance_lo_pivot.xlsx."""
    src = zipfile.ZipFile(SOURCE_PIVOT)
    strings = _shared_strings(src)
    fix_rels = lambda data, old, new: data.replace(old.encode(), new.encode())
    add = {
        "xl/worksheets/sheet_tx.xml": _inline_strings(src.read("xl/worksheets/sheet2.xml"), strings),
        "xl/worksheets/_rels/sheet_tx.xml.rels": fix_rels(src.read("xl/worksheets/_rels/sheet2.xml.rels"),
                                                          "table1.xml", "table_tx.xml"),
        "xl/tables/table_tx.xml": src.read("xl/tables/table1.xml"),
        "xl/worksheets/sheet_pivot.xml": _inline_strings(src.read("xl/worksheets/sheet6.xml"), strings),
        "xl/worksheets/_rels/sheet_pivot.xml.rels": src.read("xl/worksheets/_rels/sheet6.xml.rels"),
        "xl/pivotTables/pivotTable1.xml": src.read("xl/pivotTables/pivotTable1.xml"),
        "xl/pivotTables/_rels/pivotTable1.xml.rels": src.read("xl/pivotTables/_rels/pivotTable1.xml.rels"),
        "xl/pivotCache/pivotCacheDefinition1.xml": src.read("xl/pivotCache/pivotCacheDefinition1.xml"),
        "xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels":
            src.read("xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels"),
        "xl/pivotCache/pivotCacheRecords1.xml": src.read("xl/pivotCache/pivotCacheRecords1.xml"),
        "xl/externalLinks/externalLink1.xml": src.read("xl/externalLinks/externalLink1.xml"),
        "xl/externalLinks/_rels/externalLink1.xml.rels": src.read("xl/externalLinks/_rels/externalLink1.xml.rels"),
    }
    overrides = {
        "/xl/worksheets/sheet_tx.xml": CT + "worksheet+xml", "/xl/worksheets/sheet_pivot.xml": CT + "worksheet+xml",
        "/xl/tables/table_tx.xml": CT + "table+xml", "/xl/pivotTables/pivotTable1.xml": CT + "pivotTable+xml",
        "/xl/pivotCache/pivotCacheDefinition1.xml": CT + "pivotCacheDefinition+xml",
        "/xl/pivotCache/pivotCacheRecords1.xml": CT + "pivotCacheRecords+xml",
        "/xl/externalLinks/externalLink1.xml": CT + "externalLink+xml",
    }
    rels = {"rIdTx": ("worksheet", "worksheets/sheet_tx.xml"), "rIdPv": ("worksheet", "worksheets/sheet_pivot.xml"),
            "rIdExt": ("externalLink", "externalLinks/externalLink1.xml"),
            "rIdPc": ("pivotCacheDefinition", "pivotCache/pivotCacheDefinition1.xml")}

    def workbook(xml: bytes) -> bytes:
        text = xml.decode()
        text = text.replace("</sheets>", '<sheet name="Transactions" sheetId="90" r:id="rIdTx"/>'
                                         '<sheet name="Pivot" sheetId="91" r:id="rIdPv"/></sheets>'
                                         '<externalReferences><externalReference r:id="rIdExt"/></externalReferences>')
        text = re.sub(r"(<calcPr[^>]*/>)", r'\1<pivotCaches><pivotCache cacheId="1" r:id="rIdPc"/></pivotCaches>',
                      text)
        return text.encode()

    def workbook_rels(xml: bytes) -> bytes:
        new = "".join(f'<Relationship Id="{rid}" Type="{REL}{kind}" Target="{target}"/>'
                      for rid, (kind, target) in rels.items())
        return xml.replace(b"</Relationships>", new.encode() + b"</Relationships>")

    def content_types(xml: bytes) -> bytes:
        new = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
        return xml.replace(b"</Types>", new.encode() + b"</Types>")

    edits = {"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": workbook_rels,
             "[Content_Types].xml": content_types}
    edit_package(path.with_suffix(".tmp"), edits, add=add, src=path).replace(path)


def build_rich_example(dest: Path) -> Path:
    """The worked example with chart, image, comments, validation, formats, pivot, link and VBA."""
    folder = dest.parent / "parts"
    folder.mkdir(exist_ok=True)
    modules.build().build_example(dest, extra=_extras(folder))
    _graft_pivot(dest)
    return dest


# --- the run ------------------------------------------------------------------------------


class Rich:
    def __init__(self, folder: Path):
        self.original = build_rich_example(folder / "rapport.xlsm")
        self.before = parts(self.original)
        self.outcome = load(self.original)  # what the tool will write
        with open_package(self.original) as pkg:
            self.dependent = count_dependent_formulas(pkg, self.outcome.changes)
            self.sheet_parts = {s.name: s.part for s in pkg.sheets()}
        self.result = folder / "ut" / "rapport.xlsm"
        self.result.parent.mkdir()
        shutil.copyfile(self.original, self.result)
        self.proc = xlreport("refresh", self.result, timeout=120, tracebacks=True)  # test_refresh_succeeds checks
        self.after = parts(self.result)


@pytest.fixture(scope="module")
def rich(tmp_path_factory, fixtures_dir) -> Rich:
    return Rich(tmp_path_factory.mktemp("rich"))


def test_the_rich_workbook_has_everything(rich):
    names = set(rich.before)
    for part in ("xl/vbaProject.bin", "xl/charts/chart1.xml", "xl/media/image1.png", "xl/comments1.xml",
                 "xl/pivotTables/pivotTable1.xml", "xl/pivotCache/pivotCacheDefinition1.xml",
                 "xl/externalLinks/externalLink1.xml", "xl/tables/table_tx.xml"):
        assert part in names, part
    units = rich.before[rich.sheet_parts["Driftredovisning"]]
    assert b"<dataBar" in units and b"x14:dataBar" in units  # the 2010 data bar lives in extLst
    assert b"<dataValidation" in rich.before[rich.sheet_parts["Åtaganden"]]
    assert rich.outcome.errors == 0 and rich.outcome.changes


def test_refresh_succeeds(rich):
    assert rich.proc.returncode == 0, rich.proc.stdout + rich.proc.stderr
    assert "Traceback" not in rich.proc.stdout + rich.proc.stderr
    assert "; skrev 28 avvikelseceller och bladen Rapport och Kontroller" in rich.proc.stdout


def test_parts_the_tool_does_not_own_are_identical(rich):
    owned = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
             "xl/calcChain.xml"} | {rich.sheet_parts[n] for n in ("Resultaträkning", "Driftredovisning",
                                                                    "Rapport", "Kontroller")}
    changed = [p for p in rich.before if rich.before[p] != rich.after.get(p)]
    assert set(changed) <= owned, sorted(set(changed) - owned)
    assert set(rich.before) <= set(rich.after)  # nothing lost
    # nothing added but Rapport's charts: its relationships, its drawing and the chart parts
    rapport = rich.sheet_parts["Rapport"]
    folder, name = rapport.rsplit("/", 1)
    rels = f"{folder}/_rels/{name}.rels"
    reached = {rels}
    todo = [rapport]
    while todo:
        part = todo.pop()
        d, n = part.rsplit("/", 1)
        rel_part = f"{d}/_rels/{n}.rels"
        if rel_part not in rich.after:
            continue
        reached.add(rel_part)
        for target in re.findall(rb'Target="([^"]+)"', rich.after[rel_part]):
            found = posixpath.normpath(posixpath.join(d, target.decode()))
            if found.startswith(("xl/charts/", "xl/drawings/")) and found not in reached:
                reached.add(found)
                todo.append(found)
    assert set(rich.after) - set(rich.before) == reached
    assert sum("/charts/chart" in p for p in reached) == 2
    for part in rich.before:
        if part not in owned:
            assert raw_compressed(rich.result, part) == raw_compressed(rich.original, part), part


def test_xlsm_keeps_content_type_and_vba(rich):
    assert workbook_type(rich.after["[Content_Types].xml"]) == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert rich.after["xl/vbaProject.bin"] == rich.before["xl/vbaProject.bin"]
    assert b"vbaProject" in rich.after["xl/_rels/workbook.xml.rels"]


def test_calamine_reads_every_value_the_tool_wrote(rich):
    wb = CalamineWorkbook.from_path(str(rich.result))

    def grid(name):
        s = wb.get_sheet_by_name(name)
        top, left = s.start or (0, 0)
        return [[] for _ in range(top)] + [[""] * left + line for line in s.to_python()]

    for w in rich.outcome.changes.writes:
        got = grid(w.sheet)[w.row][w.col]
        assert got == pytest.approx(w.value), (w, got)
    for content in rich.outcome.changes.sheets:
        rows = grid(content.name)
        for r, line in enumerate(content.rows):
            for c, cell in enumerate(line):
                if cell is None or cell.value is None:
                    continue
                got = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
                assert got == (pytest.approx(cell.value) if isinstance(cell.value, float) else cell.value), \
                    (content.name, r, c, cell.value, got)


def test_full_recalculation_on_open_and_dependent_formulas_counted(rich):
    calc = etree.fromstring(rich.after["xl/workbook.xml"]).find(f"{{{NS}}}calcPr")
    assert calc.get("fullCalcOnLoad") in ("1", "true")
    assert rich.dependent == DEPENDENT_FORMULAS


def test_nothing_external_is_followed(rich):
    """The external link and pivot cache are copied as they were; no linked file was created or read."""
    for part in ("xl/externalLinks/externalLink1.xml", "xl/externalLinks/_rels/externalLink1.xml.rels",
                 "xl/pivotCache/pivotCacheRecords1.xml"):
        assert rich.after[part] == rich.before[part]
    assert not (rich.result.parent / "ext_source.xlsx").exists()


@pytest.mark.libreoffice
def test_libreoffice_opens_the_result(rich):
    if not libreoffice.available():
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh")
    out = libreoffice.convert([rich.original, rich.result])
    assert out[rich.original] is not None, "the built workbook itself does not open"
    assert out[rich.result] is not None, "LibreOffice could not open the refreshed workbook"


@pytest.mark.fixture_workbooks("fixture", names=True)
def test_fixture_workbooks_are_refused_untouched(tmp_path, fixture):
    """Workbooks that are not the report template get exit 2 and stay byte-identical."""
    path = tmp_path / fixture
    shutil.copyfile(FIXTURES_DIR / fixture, path)
    before = path.read_bytes()
    proc = xlreport("refresh", path, timeout=120, tracebacks=True)  # checked below
    assert proc.returncode == 2, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{path}: " in proc.stdout and "saknas" in proc.stdout
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [fixture]
