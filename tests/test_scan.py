"""ooxml.scan: the reader's streaming pass finds what an XML parser finds in every worksheet.

The scan picks cells out of the raw XML with patterns, in pieces; these tests hold it to lxml
reading the same part element by element: the cells calamine counts, their extent, their number
formats, formulas (shared ones translated), error values and formulas without a cached value.
"""

from __future__ import annotations

import random
import zipfile

import pytest
from lxml import etree

from support.workbooks import EXAMPLE, TEMPLATE
from xlreport.core.cells import parse_a1
from xlreport.core.errors import UnsafeWorkbook
from xlreport.ooxml.package import Limits, hardened_parser, open_package
from xlreport.ooxml.refs import translate
from xlreport.ooxml.scan import SheetScan, scan_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


def lxml_scan(data: bytes) -> dict:
    """What the scan should find, read element by element with lxml."""
    root = etree.fromstring(data, hardened_parser())
    out = {"cells": 0, "top": None, "left": None, "bottom": -1, "right": -1, "errors": {},
           "uncalculated": {}, "formulas": {}, "formats": {}}
    shared: dict[str, tuple[int, int, str]] = {}
    row_now = -1
    for row in root.iter(_q("row")):
        r = row.get("r")
        row_now = int(r) - 1 if r and r.isdigit() else row_now + 1
        last_col = -1
        for c in row.iterchildren(_q("c")):
            ref = c.get("r")
            try:
                at = parse_a1(ref) if ref else (row_now, last_col + 1)
            except ValueError:
                at = (row_now, last_col + 1)
            last_col = at[1]
            f, v, inline = c.find(_q("f")), c.find(_q("v")), c.find(_q("is"))
            has_value = v is not None or inline is not None
            if not has_value and f is None:
                continue
            out["cells"] += 1
            out["top"] = at[0] if out["top"] is None else min(out["top"], at[0])
            out["left"] = at[1] if out["left"] is None else min(out["left"], at[1])
            out["bottom"], out["right"] = max(out["bottom"], at[0]), max(out["right"], at[1])
            if c.get("s", "0").isdigit() and int(c.get("s", "0")):
                out["formats"][at] = f"#{int(c.get('s'))}"
            if f is not None:
                text, kind, si = f.text or "", f.get("t"), f.get("si")
                if kind == "shared" and si is not None:
                    if text:
                        shared[si] = (*at, text)
                    elif si in shared:
                        text = translate(shared[si][2], at[0] - shared[si][0], at[1] - shared[si][1])
                if kind not in ("array", "dataTable"):
                    out["formulas"][at] = text
                if not has_value:
                    out["uncalculated"][at] = text
            if v is not None and v.text and c.get("t") == "e":
                out["errors"][at] = v.text.strip()
    return out


class _EveryCode(dict):
    """Format codes for the scan: "#N" for every cell format N but 0 (General), however it is written."""

    def get(self, key: bytes, default=None):
        return f"#{int(key)}" if key.isdigit() and int(key) else default


def _scan(pkg, part: str, sheet: str, **kw) -> SheetScan:
    return scan_sheet(pkg, part, sheet, codes=_EveryCode(), **kw)


def _found(scan: SheetScan) -> dict:
    return {k: getattr(scan, k) for k in ("cells", "top", "left", "bottom", "right", "errors", "uncalculated",
                                          "formulas", "formats")}


def _worksheets(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]


def _scan_all(path) -> None:
    with open_package(path) as pkg, zipfile.ZipFile(path) as zf:
        for part in _worksheets(path):
            assert _found(_scan(pkg, part, part)) == lxml_scan(zf.read(part)), (path, part)


@pytest.mark.fixture_workbooks("path")
def test_every_worksheet_of_the_fixtures_scans_as_lxml_reads_it(path) -> None:
    _scan_all(path)


def test_the_template_and_the_example_scan_as_lxml_reads_them() -> None:
    for book in (EXAMPLE, TEMPLATE):
        _scan_all(book)


def _random_sheet(rng: random.Random, rows: int) -> bytes:
    """A worksheet in the many forms writers use: rows and cells with and without ``r``, prefixed
    elements, attributes in any order, formulas (shared, array), errors, inline strings, empty and
    formatted empty cells, cells out of order."""
    prefix = rng.choice(["", "x:"])
    ns = f'xmlns{":x" if prefix else ""}="{MAIN}"'
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{prefix}worksheet {ns}><{prefix}sheetData>']
    row_numbers = sorted(rng.sample(range(1, rows * 3), rows))
    if rng.random() < 0.3:
        rng.shuffle(row_numbers)
    for number in row_numbers:
        r_attr = rng.choice([f' r="{number}"', f' spans="1:5" r="{number}"', ""])
        out.append(f"<{prefix}row{r_attr}>")
        for col in sorted(rng.sample(range(12), rng.randrange(1, 6))):
            ref = f"{chr(65 + col)}{number}"
            style = rng.choice(["", ' s="0"', ' s="3"', ' s="12"', ' s="03"'])
            kind = rng.choice(["", "", ' t="s"', ' t="e"', ' t="str"', ' t="inlineStr"', ' t="b"'])
            value = rng.choice(["<v>1</v>", "<v>2.5</v>", "<v>#N/A</v>", "", "<v></v>"])
            child = rng.choice([
                value,
                f"<{prefix}f>SUM(A1:B2)</{prefix}f>{value}",
                f'<{prefix}f t="shared" ref="A1:A9" si="{col}">A1+1</{prefix}f>{value}',
                f'<{prefix}f t="shared" si="{col}"/>{value}',
                f'<{prefix}f t="array" ref="{ref}">A1:A2*2</{prefix}f><v>4</v>',
                "<is><t>x &gt; y</t></is>",
            ])
            for tag in ("v", "is", "t"):
                child = child.replace(f"<{tag}>", f"<{prefix}{tag}>").replace(f"</{tag}>", f"</{prefix}{tag}>")
            head = rng.choice([f' r="{ref}"{style}{kind}', f"{style}{kind} r=\"{ref}\"", f"{style}{kind}"])
            out.append(f"<{prefix}c{head}/>" if not child and rng.random() < 0.5 else
                       f"<{prefix}c{head}>{child}</{prefix}c>")
        out.append(f"</{prefix}row>")
    out.append(f"</{prefix}sheetData></{prefix}worksheet>")
    return "".join(out).encode()


def _book_with(tmp_path, sheet: bytes):
    path = tmp_path / "bok.xlsx"
    with zipfile.ZipFile(EXAMPLE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, sheet if item.filename == "xl/worksheets/sheet1.xml" else src.read(item))
    return path


@pytest.mark.parametrize("seed", range(30))
def test_random_sheets_scan_as_lxml_reads_them(tmp_path, seed) -> None:
    """Across the scan's 64 KiB pieces too: the large sheets cut cells and rows at every place."""
    rng = random.Random(seed)
    sheet = _random_sheet(rng, rng.choice([3, 40, 3_000]))
    path = _book_with(tmp_path, sheet)
    with open_package(path) as pkg:
        assert _found(_scan(pkg, "xl/worksheets/sheet1.xml", "Blad")) == lxml_scan(sheet)


def test_an_extent_over_the_limit_names_the_far_cell(tmp_path) -> None:
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>1</v></c></row>' for n in range(1, 30))
    far = '<row r="40"><c r="C40"><v>1</v></c></row>'
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{rows}{far}</sheetData></worksheet>'.encode()
    path = _book_with(tmp_path, sheet)
    with open_package(path, Limits(max_sheet_cells=100)) as pkg, pytest.raises(UnsafeWorkbook) as exc:
        scan_sheet(pkg, "xl/worksheets/sheet1.xml", "Blad")
    assert "sträcker sig ända till cell C40" in exc.value.message
    assert exc.value.cell == "C40"


def test_a_cell_larger_than_any_excel_cell_is_refused(tmp_path, monkeypatch) -> None:
    """A row or cell start with more after it than any cell Excel writes is refused, naming the
    cell, instead of being carried from chunk to chunk (which costs the square of its size)."""
    from xlreport.ooxml import scan

    monkeypatch.setattr(scan, "_ITEM_MAX", 100_000)
    text = "".join(random.Random(1).choice("abcdefghij ") for _ in range(300_000))
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
             f'<row r="2"><c r="B2" t="inlineStr"><is><t>{text}</t></is></c></row></sheetData></worksheet>').encode()
    path = _book_with(tmp_path, sheet)
    with open_package(path) as pkg, pytest.raises(UnsafeWorkbook) as exc:
        scan_sheet(pkg, "xl/worksheets/sheet1.xml", "Blad")
    assert "har cellen B2 med mer än" in exc.value.message
    assert exc.value.cell == "B2"


def test_a_long_stretch_without_cells_is_not_carried(tmp_path, monkeypatch) -> None:
    """Hundreds of KiB without a row or cell (merged areas, formatting) after the cells: read as
    before, nothing of it carried over (the item limit would refuse a carried stretch)."""
    from xlreport.ooxml import scan

    monkeypatch.setattr(scan, "_ITEM_MAX", 100_000)
    rows = "".join(f'<row r="{n}"><c r="A{n}" s="3"><v>{n}</v></c></row>' for n in range(1, 50))
    merges = "".join(f'<mergeCell ref="C{n}:D{n}"/>' for n in range(1, 20_000))
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData><mergeCells count="19999">{merges}'
             f"</mergeCells></worksheet>").encode()
    assert len(sheet) > 5 * 65536
    path = _book_with(tmp_path, sheet)
    with open_package(path) as pkg:
        assert _found(_scan(pkg, "xl/worksheets/sheet1.xml", "Blad")) == lxml_scan(sheet)


@pytest.mark.parametrize("shift", range(0, 40, 3))
def test_cells_cut_by_a_chunk_boundary_anywhere_scan_as_lxml_reads_them(tmp_path, shift) -> None:
    """Self-closing, formatted and rich-text cells across the first 64 KiB boundary, at every
    place of their tags: the scan waits for each one's end, whichever kind of end it has."""
    cells = []
    for n in range(1, 1600):
        cells.append(f'<row r="{n}"><c r="A{n}" s="1"/><c r="B{n}" s="2"><v>{n}</v></c>'
                     f'<c r="C{n}" t="inlineStr"><is><r><rPr><b/></rPr><t>x{n}</t></r></is></c>'
                     f'<c r="D{n}"><f>A{n}+1</f><v>1</v></c></row>')
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData>{" " * shift}{"".join(cells)}</sheetData>'
             "</worksheet>").encode()
    assert len(sheet) > 3 * 65536
    path = _book_with(tmp_path, sheet)
    with open_package(path) as pkg:
        assert _found(_scan(pkg, "xl/worksheets/sheet1.xml", "Blad")) == lxml_scan(sheet)


def test_a_long_rich_text_cell_is_refused_too(tmp_path, monkeypatch) -> None:
    from xlreport.ooxml import scan

    monkeypatch.setattr(scan, "_ITEM_MAX", 100_000)
    runs = "".join(f"<r><rPr><b/></rPr><t>ord {i}</t></r>" for i in range(20_000))
    sheet = (f'<worksheet xmlns="{MAIN}"><sheetData><row r="3"><c r="C3" t="inlineStr"><is>{runs}</is></c>'
             "</row></sheetData></worksheet>").encode()
    path = _book_with(tmp_path, sheet)
    with open_package(path) as pkg, pytest.raises(UnsafeWorkbook, match="har cellen C3 med mer än"):
        scan_sheet(pkg, "xl/worksheets/sheet1.xml", "Blad")
