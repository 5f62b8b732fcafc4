"""The scan's values: where the scan reads a sheet's cells itself, it reads what calamine reads.

The file door reads a workbook in one pass: the scan that checks each sheet's XML also takes its
values, when every cell is one it can read exactly (``SheetScan.values``), and calamine reads the
workbook otherwise. These tests hold every sheet the scan reads to calamine reading the same
sheet, value by value and type by type, in the fixtures, the repository's workbooks, a refreshed
example and random workbooks from two writers; and each kind of cell the scan leaves to calamine
to calamine. (The whole test suite also runs with ``XLREPORT_CHECK_READER=1``, set in conftest.py:
every workbook any test reads through the scan is read by calamine too and compared.)
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from support.workbooks import EXAMPLE, TEMPLATE
from xlreport.doors import file as file_door
from xlreport.ooxml.package import open_package
from xlreport.ooxml.scan import (
    _NOT_READ,
    CellReading,
    SharedStrings,
    cell_formats,
    cell_reading,
    certainly_not_date,
    guard_for_reader,
    shared_strings,
)

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _calamine(path: Path) -> dict[str, tuple[int, int, list] | Exception]:
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - a workbook calamine refuses: compared as such
        return {"": exc}
    out: dict[str, tuple[int, int, list] | Exception] = {}
    for name in wb.sheet_names:
        try:
            sheet = wb.get_sheet_by_name(name)
            start = sheet.start or (0, 0)
            out[name] = (start[0], start[1], sheet.to_python())
        except Exception as exc:  # noqa: BLE001
            out[name] = exc
    return out


def _typed(values: list[list]) -> list[list]:
    return [[(type(v).__name__, v) for v in row] for row in values]


def compare_with_calamine(path: Path) -> tuple[int, int]:
    """Every worksheet the scan reads equals calamine's reading: (sheets read, cells compared)."""
    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
        reading = cell_reading(pkg, cell_formats(pkg))
        scans = guard_for_reader(pkg, names, reading)
        reading.close()
    theirs = _calamine(path)
    read = cells = 0
    for name, scan in scans.items():
        if scan.values is None:
            continue
        ours = file_door._grid_of_scan(name, scan)
        if ours is None:  # cells out of order: calamine reads the workbook
            continue
        other = theirs.get(name, theirs.get(""))
        assert not isinstance(other, Exception), f"{path.name}: the scan read {name!r}, calamine refused: {other}"
        assert other is not None, f"{path.name}: calamine has no sheet {name!r}"
        top, left, values = other
        if values:
            assert (ours.top, ours.left) == (top, left), (path.name, name)
        assert _typed(ours.values) == _typed(values), (path.name, name)
        read += 1
        cells += len(scan.values)
    return read, cells


@pytest.mark.fixture_workbooks("path")
def test_every_sheet_of_the_fixtures_the_scan_reads_is_read_as_calamine_reads_it(path) -> None:
    compare_with_calamine(path)


def test_the_fixtures_give_the_scan_sheets_to_read() -> None:
    """Not vacuous: the fixture corpus has sheets the scan reads (Excel's, LibreOffice's,
    XlsxWriter's), rich text among their shared strings."""
    from support.fixtures import fixture_workbooks

    read = sum(compare_with_calamine(p)[0] for p in fixture_workbooks())
    assert read >= 10


def test_the_template_the_example_and_a_refreshed_example_are_read_by_the_scan_alone(tmp_path) -> None:
    from xlreport.doors.file import process

    refreshed = shutil.copyfile(EXAMPLE, tmp_path / "uppdaterad.xlsx")
    assert process(refreshed, ("fill", "generate")).status == 0
    for book in (TEMPLATE, EXAMPLE, refreshed):
        with zipfile.ZipFile(book) as zf:
            sheets = sum(1 for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
        read, cells = compare_with_calamine(book)
        assert read == sheets and cells > 100, book.name


# --- random workbooks --------------------------------------------------------------------

FORMATS = ["General", "0", "0.00", "#,##0.0", '#,##0.0;"−"#,##0.0;0.0', '#,##0 "mnkr"', "0.0%", "0.00E+00",
           "@", '"d"0', "yyyy-mm-dd", "d/m/yyyy h:mm", "[h]:mm:ss", "mm:ss", "[Red]0.0", "0;[Red]-0",
           '0\\"d"', "_(* #,##0_)", 'h "h"', "A/P", "# ?/?", "[$-41D]yyyy-mm-dd", "0.0 \\k\\r"]
BUILTIN_IDS = [*range(50)]


NUMBER_FORMATS = ["General", "0", "0.00", "#,##0.0", '#,##0.0;"−"#,##0.0;0.0', '#,##0 "mnkr"', "0.0%", "@",
                  "_(* #,##0_)", 2, 3, 4, 9, 10, 37]


def _random_xlsxwriter_book(path: Path, rng: random.Random) -> None:
    """Half the workbooks use every format and write dates; the others only number formats."""
    dates = rng.random() < 0.5
    wb = xlsxwriter.Workbook(str(path))
    formats = [wb.add_format({"num_format": f}) for f in NUMBER_FORMATS]
    if dates:
        formats += [wb.add_format({"num_format": f}) for f in [*FORMATS, *rng.sample(BUILTIN_IDS, 8)]]
    formats.append(None)
    bold = wb.add_format({"bold": True})
    texts = ["Kultur & fritid", "a < b > c", 'citat "så"', "  inledande och avslutande  ", "rad\nrad",
             "tab\there", "−1,5 mnkr", "ÅÄÖ åäö", "x", "=inte en formel", "100", "<v>1</v>", "&amp;"]
    for s in range(rng.randrange(1, 4)):
        ws = wb.add_worksheet(f"Blad{s + 1}")
        for _ in range(rng.randrange(5, 120)):
            r, c = rng.randrange(0, 60), rng.randrange(0, 12)
            fmt = rng.choice(formats)
            kind = rng.random()
            if kind < 0.35:
                ws.write_number(r, c, rng.choice([0, 1, -1, 2.5, 1e-300, 1e300, 0.1 + 0.2, -1234567.891,
                                                  rng.uniform(-1e6, 1e6), 45000.25, 3]), fmt)
            elif kind < 0.6:
                ws.write_string(r, c, rng.choice(texts), fmt)
            elif kind < 0.65:
                ws.write_boolean(r, c, rng.random() < 0.5, fmt)
            elif kind < 0.75:
                ws.write_formula(r, c, "=1+2", fmt, rng.choice([3, "tre", True, "#N/A", "#DIV/0!", 0, ""]))
            elif kind < 0.8:
                ws.write_blank(r, c, None, fmt or bold)
            elif kind < 0.85:
                ws.write_rich_string(r, c, "fet ", bold, "text", " och mer")
            elif kind < 0.9 and dates:
                ws.write_datetime(r, c, dt.datetime(2026, 1 + rng.randrange(12), 1 + rng.randrange(28)),
                                  wb.add_format({"num_format": "yyyy-mm-dd"}))
            else:
                ws.write_number(r, c, rng.randrange(-10, 10), wb.add_format({"num_format": "0.0"}))
    wb.close()


@pytest.mark.parametrize("seed", range(40))
def test_random_xlsxwriter_workbooks_read_as_calamine_reads_them(tmp_path, seed) -> None:
    rng = random.Random(seed)
    path = tmp_path / "slump.xlsx"
    _random_xlsxwriter_book(path, rng)
    compare_with_calamine(path)


def test_random_xlsxwriter_workbooks_are_read_by_the_scan_often(tmp_path) -> None:
    """Not vacuous: most random sheets without dates or date-like formats are read by the scan."""
    read = 0
    for seed in range(40):
        rng = random.Random(seed)
        path = tmp_path / f"slump{seed}.xlsx"
        _random_xlsxwriter_book(path, rng)
        read += compare_with_calamine(path)[0]
    assert read >= 10


@pytest.mark.parametrize("seed", range(30))
def test_random_sheets_in_any_form_read_as_calamine_reads_them(tmp_path, seed) -> None:
    """The scan tests' random sheets (prefixes, attributes in any order, rows and cells without
    ``r``, every type, empty values): whatever the scan reads, calamine reads alike."""
    from test_scan import _book_with, _random_sheet

    rng = random.Random(seed)
    compare_with_calamine(_book_with(tmp_path, _random_sheet(rng, rng.choice([3, 40, 400]))))


# --- the number formats -----------------------------------------------------------------


def test_a_format_that_is_certainly_not_a_date_gives_calamine_a_number(tmp_path) -> None:
    """Each custom format and each built-in id the reading calls a plain number: calamine gives a
    float for a number in it (and the battery holds formats calamine reads as dates)."""
    path = tmp_path / "format.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Blad1")
    cases = [*FORMATS, *BUILTIN_IDS]
    for i, f in enumerate(cases):
        ws.write_number(i, 0, 45000.25, wb.add_format({"num_format": f}))
    wb.close()
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Blad1").to_python()
    with open_package(path) as pkg:
        styles = cell_formats(pkg)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    import re

    style_of = {int(r) - 1: int(s) for r, s in re.findall(r'<c r="A(\d+)" s="(\d+)"', sheet)}
    dates = 0
    for i, f in enumerate(cases):
        fmt_id, code = styles[style_of.get(i, 0)]
        got = values[i][0]
        if certainly_not_date(fmt_id, code):
            assert type(got) is float, (f, fmt_id, code, got)
        dates += type(got) is not float
    assert dates >= 10  # calamine read these as dates or times: the predicate said "maybe" for each


def test_the_predicate_stops_at_what_could_be_a_date() -> None:
    assert certainly_not_date(164, '#,##0.0;"−"#,##0.0;0.0')
    assert certainly_not_date(164, '#,##0 "mnkr"')
    assert certainly_not_date(2, None) and certainly_not_date(0, None)
    assert not certainly_not_date(14, None)  # a built-in date
    assert not certainly_not_date(27, None)  # a locale's built-in date
    assert not certainly_not_date(200, None)  # an id without a code
    assert not certainly_not_date(14, "0.0")  # a date id given another code: not trusted
    assert not certainly_not_date(164, "yyyy-mm-dd")
    assert not certainly_not_date(164, "[Red]0")  # a bracket: a colour, or elapsed time
    assert not certainly_not_date(164, '0\\"d"')  # an escaped quote: "d" is not quoted text
    assert not certainly_not_date(164, '"a\\"d')  # an escape in quoted text
    assert not certainly_not_date(164, "0 \\d")  # an escaped letter: not trusted


# --- what the scan leaves to calamine ----------------------------------------------------------


def _sst_book(tmp_path: Path, sst: bytes) -> Path:
    path = tmp_path / "sst.xlsx"
    with zipfile.ZipFile(EXAMPLE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, sst if item.filename == "xl/sharedStrings.xml" else src.read(item))
    return path


@pytest.mark.parametrize("body, expected", [
    (b"<si><t>a &amp; b</t></si><si><t/></si><si><t xml:space=\"preserve\"> c </t></si>", ["a & b", None, " c "]),
    (b"<si><r><t>fet</t></r><r><rPr><b/><sz val=\"11\"/></rPr><t xml:space=\"preserve\"> text</t></r></si>",
     ["fet text"]),
    (b"<si><t>a</t><rPh sb=\"0\" eb=\"1\"><t>A</t></rPh></si>", None),  # a phonetic guide
    (b"<si><t>a_x000D_b</t></si>", None),  # an escape calamine may or may not expand
    (b"<si><t>a\r\nb</t></si>", None),  # a carriage return, which XML parsers normalise
    (b"<x:si><x:t>a</x:t></x:si>", None),  # prefixed
    (b"<si/>", None),
])
def test_shared_strings_the_scan_reads_and_those_it_leaves(tmp_path, body, expected) -> None:
    sst = b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="%s" xmlns:x="%s">%s</sst>' % (
        MAIN.encode(), MAIN.encode(), body)
    path = _sst_book(tmp_path, sst)
    with open_package(path) as pkg:
        strings = shared_strings(pkg)
        got = [strings.get(i) for i in range(len(expected) if expected else 1)]
        assert strings.get(len(got)) is None  # past the last string
        strings.close()
    assert got == (expected or [None])


def test_shared_strings_are_parsed_only_as_far_as_they_are_asked_for(tmp_path) -> None:
    """A ledger's million texts after the template's: asking for the first few parses a chunk,
    and a string in another form further on is no reason not to read the first ones."""
    many = b"".join(b"<si><t>text %d</t></si>" % i for i in range(200_000))
    sst = b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="%s">%s<si><t>a</t><rPh><t>A</t></rPh></si></sst>' % (
        MAIN.encode(), many)
    path = _sst_book(tmp_path, sst)
    with open_package(path) as pkg:
        strings = shared_strings(pkg)
        assert strings.get(3) == "text 3"
        assert len(strings.items) < 10_000
        assert strings.get(199_999) == "text 199999"
        assert strings.get(200_000) is None
        strings.close()


def _strings(*texts: str) -> SharedStrings:
    strings = SharedStrings(None, None)
    strings.items.extend(texts)
    return strings


@pytest.mark.parametrize("kind, style, text", [
    (b"", b"", b""), (b"n", b"", b" 1"), (b"", b"", b"1_0"), (b"", b"", b"inf"), (b"", b"", b"nan"),
    (b"", b"7", b"1"), (b"s", b"", b"9"), (b"s", b"", b"-1"), (b"s", b"", b" 0"), (b"b", b"", b"2"),
    (b"d", b"", b"2026-01-01"), (b"inlineStr", b"", b"x"), (b"", b"", b"1e"),
])
def test_cells_the_reading_leaves_to_calamine(kind, style, text) -> None:
    reading = CellReading(_strings("noll"), frozenset([b"", b"0"]))
    assert reading.value(kind, style, text) is _NOT_READ


def test_cells_the_reading_reads() -> None:
    reading = CellReading(_strings("noll", "ett"), frozenset([b"", b"0", b"3"]))
    assert reading.value(b"s", b"3", b"1") == "ett"
    assert reading.value(b"", b"3", b"-1.5E+2") == -150.0
    assert reading.value(b"n", b"", b"7") == 7.0 and type(reading.value(b"n", b"", b"7")) is float
    assert reading.value(b"b", b"", b"1") is True and reading.value(b"b", b"", b"0") is False
    assert reading.value(b"str", b"", b"a &amp; b") == "a & b"


def _example_with(tmp_path: Path, edit) -> Path:
    path = tmp_path / "bok.xlsx"
    with zipfile.ZipFile(EXAMPLE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, edit(item.filename, data))
    return path


def _example_with_row_90(tmp_path: Path, cells: bytes) -> Path:
    """The example with a row 90 of ``cells`` (XML) in its first sheet."""
    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", b'<row r="90">%s</row></sheetData>' % cells)
        return data

    return _example_with(tmp_path, edit)


def _reads_with_calamine(monkeypatch, path: Path) -> bool:
    calls = []
    real = file_door._calamine_grids

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(file_door, "_calamine_grids", counting)
    monkeypatch.setattr(file_door, "_CHECK_READER", False)  # its own calamine read is not the reader's
    file_door.read_workbook(path, ["Uppgifter", "Driftredovisning", "Sjukfrånvaro"])
    return bool(calls)


def test_the_example_is_read_without_calamine(monkeypatch) -> None:
    assert not _reads_with_calamine(monkeypatch, EXAMPLE)


def test_the_suite_checks_every_scan_read_against_calamine() -> None:
    assert file_door._CHECK_READER  # conftest.py sets XLREPORT_CHECK_READER before xlreport is imported


def test_a_date_in_a_wanted_sheet_hands_the_workbook_to_calamine(tmp_path, monkeypatch) -> None:
    """A number in a date format (here: the template's "0.0" made a date) is read by calamine, as a date."""
    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/styles.xml":
            assert b'formatCode="0.0"' in data
            return data.replace(b'formatCode="0.0"', b'formatCode="yyyy-mm-dd"')
        return data

    path = _example_with(tmp_path, edit)
    assert _reads_with_calamine(monkeypatch, path)
    _names, grids = file_door.read_grids(path, ["Sjukfrånvaro"])
    assert any(isinstance(v, dt.date) for _r, _c, v in grids["Sjukfrånvaro"].cells())


@pytest.mark.parametrize("cell, expected", [
    (b'<c r="A90" t="inlineStr"><is><r><t>x</t></r></is></c>', "x"),  # rich text in a cell
    (b'<c r="A90" t="inlineStr"><is><t>x </t></is></c>', "x"),  # calamine trims it (no xml:space)
])
def test_an_inline_string_the_scan_does_not_read_is_calamine_s(tmp_path, monkeypatch, cell, expected) -> None:
    path = _example_with_row_90(tmp_path, cell)
    assert _reads_with_calamine(monkeypatch, path)
    _names, grids = file_door.read_grids(path, ["Uppgifter"])
    assert grids["Uppgifter"].get(89, 0) == expected


@pytest.mark.parametrize("cells", [
    b'<c r="B90"><v>1</v></c><c r="A90"><v>2</v></c>',  # right to left
    b'<c r="A90"><v>1</v></c><c r="A90"><v>2</v></c>',  # one place twice
])
def test_cells_out_of_order_hand_the_workbook_to_calamine(tmp_path, monkeypatch, cells) -> None:
    """Which of two cells at one place a reader keeps is its own: the scan does not guess."""
    path = _example_with_row_90(tmp_path, cells)
    assert _reads_with_calamine(monkeypatch, path)


def test_a_sheet_that_is_not_read_stops_the_value_taking_for_the_others(tmp_path) -> None:
    """The file door uses the scan's values only if every wanted sheet has them: after the first
    sheet it cannot read, the scan takes no values (work calamine then does anyway)."""
    path = _example_with_row_90(tmp_path, b'<c r="A90" t="d"><v>2026-01-01</v></c>')
    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
        reading = cell_reading(pkg, cell_formats(pkg))
        scans = guard_for_reader(pkg, names, reading, all_or_none=True)
        reading.close()
    assert scans[names[0]].values is None
    assert all(scans[n].values is None and scans[n].reading is None for n in names[1:] if n in scans)


def test_a_cell_format_written_with_leading_zeros_is_that_format(tmp_path) -> None:
    """``s="07"`` is cell format 7 (the example's "0.0"): the scan notes its format, and calamine
    reads the workbook (the scan reads only an ``s`` as Excel writes it)."""
    path = _example_with_row_90(tmp_path, b'<c r="A90" s="07"><v>0.5</v></c><c r="B90" s="7"><v>1</v></c>')
    _names, grids = file_door.read_grids(path, ["Uppgifter"])
    grid = grids["Uppgifter"]
    assert (grid.get(89, 0), grid.formats.get((89, 0)), grid.formats.get((89, 1))) == (0.5, "0.0", "0.0")


def test_cell_format_0_is_the_format_of_cells_without_one(tmp_path) -> None:
    """A cell without an ``s`` (or with ``s="0"``) has cell format 0, whatever its number format."""
    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", b'<row r="90"><c r="A90"><v>0.5</v></c><c r="B90" s="0">'
                                                 b'<v>0.25</v></c></row></sheetData>')
        if name == "xl/styles.xml":
            first = b'<cellXfs count="15"><xf numFmtId="0" '
            assert first in data
            return data.replace(first, b'<cellXfs count="15"><xf numFmtId="10" ')
        return data

    path = _example_with(tmp_path, edit)
    _names, grids = file_door.read_grids(path, ["Uppgifter"])
    grid = grids["Uppgifter"]
    assert (grid.formats.get((89, 0)), grid.formats.get((89, 1))) == ("0.00%", "0.00%")
    assert (grid.get(89, 0), grid.get(89, 1)) == (0.5, 0.25)
