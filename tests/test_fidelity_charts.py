"""Native charts on Rapport keep every other part of a real workbook byte for byte.

Each fixture (Excel, LibreOffice and XlsxWriter files; xlsx, xlsm, xlam, pivots) gets a
Rapport with two charts over its own cells, then the same again (nothing may change), then a
Rapport with one chart (the other's parts go), then none. The parts the tool owns for charts
are the owned sheet's relationships, its drawing and the chart parts; every other part must be
copied raw. LibreOffice must open every result and keep the charts when it saves the file.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from support import libreoffice, workbooks
from support.fixtures import fixture_workbooks
from support.workbooks import EXAMPLE, raw_compressed
from xlreport.core.changes import Area, Cell, ChangeSet, Chart, ChartSeries, PageLayout, SheetContent
from xlreport.doors.file import process
from xlreport.ooxml.apply import apply_changes
from xlreport.ooxml.package import open_package, resolve_target

NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
      "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
      "ct": "http://schemas.openxmlformats.org/package/2006/content-types"}
# Parts a run may change besides the owned sheet and what hangs off it.
OWNED_PARTS = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
               "xl/calcChain.xml"}
CHART_PARTS = ("xl/charts/", "xl/drawings/")


def rapport(n_charts: int) -> SheetContent:
    content = SheetContent("Rapport", col_widths={0: 30, 1: 10, 2: 10}, page=PageLayout(title_rows=(2, 2)))
    content.add(Cell("Diagram", "title"))
    content.blank()
    content.add(Cell("Enhet", "header"), Cell("Avvikelse helår", "header"), Cell("Mål", "header"))
    for label, value in (("KLK Ledning", 2.3), ("KLK Välfärd", 1.6), ("KLK HR", -1.0)):
        content.add(Cell(label, "wrap"), Cell(value, "mnkr"), Cell(1.0, "mnkr"))
    for _ in range(16):
        content.blank()
    cats = Area(3, 0, 5, 0)
    bars = ChartSeries("Avvikelse helår", Area(3, 1, 5, 1))
    target = ChartSeries("Mål", Area(3, 2, 5, 2), line=True)
    charts = [Chart("Avvikelse helår per enhet", cats, (bars,), Area(6, 0, 13, 2), horizontal=True),
              Chart("Mot målet", cats, (bars, target), Area(14, 0, 21, 2), horizontal=False)]
    content.charts = charts[:n_charts]
    return content


def apply(src: Path, out: Path, n_charts: int):
    return apply_changes(src, ChangeSet(sheets=[rapport(n_charts)]), out=out)


class Run:
    def __init__(self, src: Path, folder: Path):
        self.src = src
        self.v1, self.v2, self.v3, self.v4 = (folder / f"v{i}{src.suffix}" for i in range(1, 5))
        self.s1 = apply(src, self.v1, 2)
        self.s2 = apply(self.v1, self.v2, 2)
        self.s3 = apply(self.v2, self.v3, 1)
        self.s4 = apply(self.v3, self.v4, 0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fixtures_dir) -> dict[str, Run]:
    out = {}
    for src in fixture_workbooks():
        out[src.name] = Run(src, tmp_path_factory.mktemp(src.stem + src.suffix.replace(".", "_")))
    return out


def parts(path: Path) -> dict[str, bytes]:
    """Every part, after zipfile checked every entry's CRC."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: zf.read(n) for n in zf.namelist()}


def owned_sheet_parts(path: Path) -> set[str]:
    """Rapport's worksheet part, its relationships part, and the drawing and charts it reaches."""
    with open_package(path) as pkg:
        sheet = pkg.sheet("Rapport").part
        found = {sheet}
        todo = [sheet]
        while todo:
            part = todo.pop()
            for rel in pkg.relationships(part):
                found.add(part.rsplit("/", 1)[0] + "/_rels/" + part.rsplit("/", 1)[1] + ".rels")
                target = rel.get("part")
                if target and target.startswith(CHART_PARTS) and target not in found:
                    found.add(target)
                    todo.append(target)
        return found


@pytest.mark.fixture_workbooks("name", names=True)
def test_every_part_the_tool_does_not_own_is_byte_identical(runs, name):
    run = runs[name]
    for src, out in ((run.src, run.v1), (run.v1, run.v2), (run.v2, run.v3), (run.v3, run.v4)):
        before, after = parts(src), parts(out)
        owned = OWNED_PARTS | owned_sheet_parts(out) | (owned_sheet_parts(src) if "Rapport" in _sheets(src) else set())
        for part, data in before.items():
            if part in owned:
                continue
            assert after.get(part) == data, part
            assert raw_compressed(out, part) == raw_compressed(src, part), part
        assert set(after) - set(before) <= owned, set(after) - set(before) - owned
        assert set(before) - set(after) <= owned, set(before) - set(after) - owned


def _sheets(path: Path) -> list[str]:
    with open_package(path) as pkg:
        return [s.name for s in pkg.sheets()]


@pytest.mark.fixture_workbooks("name", names=True)
def test_the_same_charts_again_change_nothing(runs, name):
    run = runs[name]
    assert (run.s2.changed, run.s2.added, run.s2.removed) == ([], [], [])
    assert run.v2.read_bytes() == run.v1.read_bytes()


@pytest.mark.fixture_workbooks("name", names=True)
def test_fewer_charts_remove_their_parts(runs, name):
    run = runs[name]
    charts = lambda p: sorted(n for n in parts(p) if n.startswith(CHART_PARTS))
    new = [n for n in run.s1.added if n.startswith(CHART_PARTS)]
    assert len([n for n in new if n.endswith(".xml") and "/charts/" in n]) == 2
    assert len(charts(run.v3)) == len(charts(run.v2)) - 1  # one chart part less, same drawing
    assert [n for n in run.s3.removed if "/charts/" in n] != []
    assert not any(n.startswith(CHART_PARTS) and n not in parts(run.src) for n in parts(run.v4))
    ct = parts(run.v4)["[Content_Types].xml"].decode()
    assert "drawingml.chart+xml" not in ct or "drawingml.chart+xml" in parts(run.src)["[Content_Types].xml"].decode()


@pytest.mark.fixture_workbooks("name", names=True)
def test_the_chart_parts_are_linked_and_typed(runs, name):
    """Every relationship of the new parts resolves, and each new part has its content type."""
    out = runs[name].v1
    p = parts(out)
    types = etree.fromstring(p["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iterfind("ct:Override", NS)}
    for part in owned_sheet_parts(out):
        if part.endswith(".rels"):
            for rel in etree.fromstring(p[part]).iterfind("pr:Relationship", NS):
                source = part.replace("_rels/", "").removesuffix(".rels")
                if rel.get("TargetMode") != "External":
                    assert resolve_target(source, rel.get("Target")) in p, (part, rel.get("Target"))
        elif "/charts/" in part:
            assert overrides["/" + part] == "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
        elif "/drawings/" in part:
            assert overrides["/" + part] == "application/vnd.openxmlformats-officedocument.drawing+xml"


def test_the_chart_is_drawingml_over_the_sheets_cells(tmp_path):
    """c:chartSpace with a c:barChart whose series refer to Rapport's cells (c:strRef and
    c:numRef) and cache their values; the target is a c:lineChart on the same axes."""
    book = tmp_path / EXAMPLE.name
    shutil.copyfile(EXAMPLE, book)
    assert process(book).status == 0
    p = parts(book)
    charts = sorted(n for n in p if n.startswith("xl/charts/chart"))
    assert len(charts) == 2
    units = etree.fromstring(p[charts[0]])
    assert units.tag == f"{{{NS['c']}}}chartSpace"
    ser = units.find(".//c:barChart/c:ser", NS)
    assert units.find(".//c:barChart/c:barDir", NS).get("val") == "bar"
    cats = ser.find("c:cat/c:strRef", NS)
    vals = ser.find("c:val/c:numRef", NS)
    assert cats.findtext("c:f", namespaces=NS).startswith("'Rapport'!$A$")
    assert vals.findtext("c:f", namespaces=NS).startswith("'Rapport'!$B$")
    labels = [pt.findtext("c:v", namespaces=NS) for pt in cats.iterfind("c:strCache/c:pt", NS)]
    values = [float(pt.findtext("c:v", namespaces=NS)) for pt in vals.iterfind("c:numCache/c:pt", NS)]
    assert labels[0] == "KLK Ledning" and values[0] == 2.3 and len(labels) == len(values) == 8
    assert values == sorted(values, reverse=True)
    # the cache is what the cells hold
    rows = workbooks.sheet_rows(book, "Rapport")
    first = int(re.search(r"\$(\d+):", vals.findtext("c:f", namespaces=NS)).group(1))
    assert [rows[first - 1 + i][1] for i in range(len(values))] == values
    assert [rows[first - 1 + i][0] for i in range(len(labels))] == labels
    sick = etree.fromstring(p[charts[1]])
    assert sick.find(".//c:barChart/c:barDir", NS).get("val") == "col"
    assert len(sick.findall(".//c:barChart/c:ser", NS)) == 2
    line = sick.find(".//c:lineChart/c:ser", NS)
    assert line.find("c:tx/c:strRef/c:v", NS) is None and line.findtext("c:tx//c:v", namespaces=NS) == "Mål 3,0 %"
    assert [a.get("val") for a in sick.findall(".//c:lineChart/c:axId", NS)] == \
        [a.get("val") for a in sick.findall(".//c:barChart/c:axId", NS)]


@pytest.mark.libreoffice
def test_libreoffice_opens_every_result_and_keeps_the_charts(runs, tmp_path):
    files = [r.v1 for r in runs.values()]
    saved = libreoffice.convert(files, to="xlsx:Calc Office Open XML")
    for path, out in saved.items():
        assert out is not None, path
        with zipfile.ZipFile(out) as z:
            assert any(n.startswith("xl/charts/chart") for n in z.namelist()), path
