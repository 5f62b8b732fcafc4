"""The count of formulas that read what the tool writes: streamed, any sheet size, nothing skipped."""

from __future__ import annotations

import zipfile
from pathlib import Path

import xlsxwriter

from xlreport.core.changes import CellWrite, ChangeSet
from xlreport.ooxml import dependents
from xlreport.ooxml.apply import apply_changes
from xlreport.ooxml.package import _CHUNK, Limits, open_package  # the size of the raw reads the scan gets

WRITE = ChangeSet(writes=[CellWrite("Resultaträkning", 1, 1, 5.0)])  # B2


def _book(path: Path, formulas: int, padding: int = 0) -> Path:
    """Resultaträkning (B2 is written) and Huvudbok: ``padding`` rows of values, then
    ``formulas`` formulas that read Resultaträkning!B2 and as many that read only Huvudbok."""
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Resultaträkning").write(1, 1, 1.0)
    ws = wb.add_worksheet("Huvudbok")
    for r in range(padding):
        ws.write_row(r, 0, [r, f"Verifikat {r}", r * 1.5])
    for i in range(formulas):
        ws.write_formula(padding + i, 0, "=Resultaträkning!B2*2", None, 2.0)
        ws.write_formula(padding + i, 1, f"=C{i + 1}+1", None, 1.0)
    wb.close()
    return path


def test_every_formula_is_found_across_the_streamed_pieces(tmp_path):
    """20,000 dependent formulas after 20,000 rows of values: the part is inflated in 64 KiB
    pieces, and a formula cut by a piece's end is still found, once."""
    path = _book(tmp_path / "lang.xlsx", formulas=20_000, padding=20_000)
    with open_package(path) as pkg:
        assert pkg.zf.getinfo("xl/worksheets/sheet2.xml").file_size > 20 * _CHUNK
        scan = dependents.scan_dependent_formulas(pkg, WRITE)
    assert (scan.count, scan.unscanned) == (20_000, [])


def test_a_sheet_over_the_reader_part_limit_is_still_searched(tmp_path):
    """The reader's part limit (64 MiB by default) guards what calamine inflates; the search
    streams, so a sheet larger than that limit is searched too, never left out."""
    path = _book(tmp_path / "stor.xlsx", formulas=50, padding=5_000)
    with open_package(path, Limits(max_part_size=1 << 16)) as pkg:
        assert pkg.zf.getinfo("xl/worksheets/sheet2.xml").file_size > pkg.limits.max_part_size
        scan = dependents.scan_dependent_formulas(pkg, WRITE)
    assert (scan.count, scan.unscanned) == (50, [])


def _damage(src: Path, dest: Path, name: str) -> None:
    """Copy ``src`` with the compressed data of ``name`` overwritten in its middle."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + info.compress_size // 3, start + info.compress_size // 3 + 64):
        data[k] ^= 0x5A
    dest.write_bytes(bytes(data))


def test_a_sheet_that_cannot_be_read_is_a_warning_and_the_write_goes_on(tmp_path):
    good = _book(tmp_path / "hel.xlsx", formulas=200, padding=2_000)
    bad = tmp_path / "skadad.xlsx"
    _damage(good, bad, "xl/worksheets/sheet2.xml")
    summary = apply_changes(bad, WRITE, out=tmp_path / "ut.xlsx")
    assert [(f.rule, f.severity, f.sheet) for f in summary.findings] == [("formelsok", "warning", "Huvudbok")]
    assert "Bladet 'Huvudbok' kunde inte sökas igenom" in summary.findings[0].message
    with zipfile.ZipFile(tmp_path / "ut.xlsx") as zf:  # the damaged sheet is carried as it was
        assert zf.getinfo("xl/worksheets/sheet2.xml").CRC == zipfile.ZipFile(bad).getinfo(
            "xl/worksheets/sheet2.xml").CRC


def test_the_sheet_name_pattern_keeps_its_meaning_without_the_slow_class() -> None:
    """refs._HIGH stands for the class [\\u00c0-\\uffff], which costs about 9 ms to compile."""
    import re

    from xlreport.ooxml import refs

    high = re.compile(refs._HIGH)
    for code in [*range(0x3000), *range(0xD000, 0x10000), 0x10000, 0x1F600, 0x10FFFF]:
        ch = chr(code)
        assert bool(high.fullmatch(ch)) == (0xC0 <= code <= 0xFFFF), hex(code)
    found = [m.group(0) for m in refs.references("SUM('Blad 1'!A1:B2)+Åbo!C3+ÄÖ_x.y!$D$4+E:E")]
    assert found == ["'Blad 1'!A1:B2", "Åbo!C3", "ÄÖ_x.y!$D$4", "E:E"]
    assert [refs.reference_sheet(m) for m in refs.references("Ω1!A1+😀!B2")] == ["Ω1", None]


def _prefixed(src: Path, dest: Path, name: str) -> Path:
    """``src`` with the worksheet ``name`` written with prefixed element names (<x:c>, <x:f> ...),
    as some generators write SpreadsheetML: legal XML the streamed search must read the same."""
    import re

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == name:
                data = re.sub(rb"<(/?)(?=[A-Za-z])(?!\w+:)", rb"<\1x:", data)
                data = data.replace(b'xmlns="', b'xmlns:x="', 1)
            zout.writestr(info, data)
    return dest


def test_prefixed_element_names_are_found_across_the_pieces(tmp_path):
    plain = _book(tmp_path / "vanlig.xlsx", formulas=2_000, padding=5_000)
    path = _prefixed(plain, tmp_path / "prefix.xlsx", "xl/worksheets/sheet2.xml")
    with open_package(path) as pkg:
        part = pkg.zf.read("xl/worksheets/sheet2.xml")
        assert b"<x:c " in part and b"<x:f>" in part and b"<c " not in part
        assert len(part) > 10 * _CHUNK
        scan = dependents.scan_dependent_formulas(pkg, WRITE)
    assert (scan.count, scan.unscanned) == (2_000, [])


def test_pieces_without_any_f_byte_are_skipped_and_the_formulas_after_them_found(tmp_path):
    """A ledger's pieces hold no "f" at all (the memchr pre-check); the formulas that follow are
    all found, whatever piece boundary they straddle."""
    path = _book(tmp_path / "huvudbok.xlsx", formulas=300, padding=30_000)
    with open_package(path) as pkg:
        part = pkg.zf.read("xl/worksheets/sheet2.xml")
        first_f = part.index(b"<f>")
        assert part.count(b"f", part.index(b"<sheetData>"), first_f) == 0  # the padding has no f byte
        assert first_f > 20 * _CHUNK
        scan = dependents.scan_dependent_formulas(pkg, WRITE)
    assert (scan.count, scan.unscanned) == (300, [])


def test_the_reader_scan_sees_prefixed_cells_as_plain_ones(tmp_path):
    """ooxml.scan's pieces are cut at the last row or cell start, prefixed or not."""
    from xlreport.ooxml.scan import scan_sheet

    plain = _book(tmp_path / "vanlig.xlsx", formulas=2_000, padding=5_000)
    path = _prefixed(plain, tmp_path / "prefix.xlsx", "xl/worksheets/sheet2.xml")
    scans = []
    for book in (plain, path):
        with open_package(book) as pkg:
            scans.append(scan_sheet(pkg, "xl/worksheets/sheet2.xml", "Huvudbok"))
    assert scans[0].cells == 2 * 2_000 + 3 * 5_000
    assert (scans[1].cells, scans[1].bottom, scans[1].right, scans[1].formulas) == \
        (scans[0].cells, scans[0].bottom, scans[0].right, scans[0].formulas)


def test_a_small_part_read_whole_counts_as_the_streamed_one(tmp_path, monkeypatch, fixtures_dir):
    """A part the package keeps is searched whole, in one piece: the count, and what could not
    be read, are what the streamed search in 64 KiB pieces finds."""
    from support.fixtures import fixture_workbooks
    from support.workbooks import EXAMPLE

    books = [_book(tmp_path / "mellan.xlsx", formulas=3_000, padding=3_000), EXAMPLE, *fixture_workbooks()]
    for path in books:
        with open_package(path) as pkg:
            sheets = [s.name for s in pkg.sheets() if s.kind == "worksheet"]
        changes = ChangeSet(writes=[CellWrite(name, r, c, 1.0) for name in sheets[:2] for r, c in ((1, 1), (4, 2))])
        counts = []
        for keep in (dependents.KEEP_PART_MAX, 0):
            monkeypatch.setattr(dependents, "KEEP_PART_MAX", keep)
            with open_package(path) as pkg:
                scan = dependents.scan_dependent_formulas(pkg, changes)
            counts.append((scan.count, scan.unscanned))
        assert counts[0] == counts[1], path.name
