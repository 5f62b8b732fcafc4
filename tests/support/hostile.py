"""Build the bad-input corpus: broken, hostile and odd variants of the example workbook.

Every builder takes the destination path and writes one file (or folder). Variants are made
the way the damage happens in practice: by editing the XML of the example's package (a cell a
program wrote without a cached value, an error value, a merged range), by rebuilding the
example from changed data with ``workbooks/build.py`` (an extra unit row), by converting it
with LibreOffice (legacy .xls), by encrypting it (msoffcrypto-tool), or by writing the hostile
bytes directly (zip bombs, entity bombs, absurd dimensions). Nothing here uses openpyxl.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl.formula.translate import Translator

from support import REPO, modules
from support.workbooks import EXAMPLE, TEMPLATE, Edit, edit_package, rename_sheet, variant
from xlreport.core.cells import a1, parse_a1

PARTS = {  # sheet name -> worksheet part in the example
    "Uppgifter": "xl/worksheets/sheet1.xml",
    "Resultaträkning": "xl/worksheets/sheet2.xml",
    "Driftredovisning": "xl/worksheets/sheet3.xml",
    "Avvikelseförklaring": "xl/worksheets/sheet4.xml",
    "Personal": "xl/worksheets/sheet5.xml",
    "Sjukfrånvaro": "xl/worksheets/sheet6.xml",
    "Åtaganden": "xl/worksheets/sheet7.xml",
}
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --- package editing (support.workbooks.edit_package) -------------------------------------


def edit_sheet(dest: Path, sheet: str, fn: Edit, src: Path = EXAMPLE) -> Path:
    return edit_package(dest, {PARTS[sheet]: fn}, src=src)


def edit_sheet_with(sheet: str, old: bytes, new: bytes) -> Callable[[Path], Path]:
    """The example with ``old`` (which must be there) replaced by ``new`` in ``sheet``'s XML."""
    def edit(xml: bytes) -> bytes:
        assert old in xml, old
        return xml.replace(old, new)

    return lambda dest: edit_sheet(dest, sheet, edit)


def _cell_pattern(ref: str) -> re.Pattern[bytes]:
    return re.compile(rb'<c r="' + ref.encode() + rb'"(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</c>)', re.DOTALL)


def replace_cell(xml: bytes, ref: str, inner: str, attrs: str = "", keep_style: bool = True) -> bytes:
    """Replace cell ``ref`` (which must exist) by ``<c r=ref attrs>inner</c>``; keeps its style."""
    pat = _cell_pattern(ref)
    m = pat.search(xml)
    assert m, f"cell {ref} not in sheet"
    style = re.search(rb'\ss="\d+"', m.group("attrs") or b"")
    extra = (style.group(0).decode() if style and keep_style else "") + (" " + attrs if attrs else "")
    new = f'<c r="{ref}"{extra}>{inner}</c>'.encode()
    return xml[:m.start()] + new + xml[m.end():]


def cell_edit(sheet: str, ref: str, inner: str, attrs: str = "") -> Callable[[Path], Path]:
    return lambda dest: edit_sheet(dest, sheet, lambda x: replace_cell(x, ref, inner, attrs))


def add_before(tag: bytes, xml: bytes, new: bytes) -> bytes:
    i = xml.index(tag)
    return xml[:i] + new + xml[i:]


def after_sheet_data(xml: bytes, new: bytes) -> bytes:
    """Insert an element right after </sheetData> (mergeCells, for instance, goes there)."""
    return xml.replace(b"</sheetData>", b"</sheetData>" + new, 1)


# --- cell content -------------------------------------------------------------------------


def text_in(sheet: str, ref: str, text: str) -> Callable[[Path], Path]:
    return lambda dest: variant(dest, {f"{sheet}!{ref}": text})


def date_cell(dest: Path) -> Path:
    """Resultaträkning!C5 holds a date: the value 43900 with a date number format (numFmtId 14)."""
    def styles(xml: bytes) -> bytes:
        m = re.search(rb'<cellXfs count="(\d+)">', xml)
        n = int(m.group(1))
        xml = xml.replace(m.group(0), f'<cellXfs count="{n + 1}">'.encode(), 1)
        return xml.replace(b"</cellXfs>", b'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" '
                                          b'applyNumberFormat="1"/></cellXfs>', 1)
    n_xfs = int(re.search(rb'<cellXfs count="(\d+)">', zipfile.ZipFile(EXAMPLE).read("xl/styles.xml")).group(1))
    return edit_package(dest, {
        "xl/styles.xml": styles,
        PARTS["Resultaträkning"]: lambda x: replace_cell(x, "C5", "<v>43900</v>", f's="{n_xfs}"', keep_style=False),
    })


def error_cell(sheet: str, ref: str, error: str, formula: str | None = None) -> Callable[[Path], Path]:
    inner = (f"<f>{formula}</f>" if formula else "") + f"<v>{error}</v>"
    return cell_edit(sheet, ref, inner, 't="e"')


def uncalculated(sheet: str, ref: str, formula: str) -> Callable[[Path], Path]:
    """A formula with no cached value, as a program that does not calculate saves it."""
    return cell_edit(sheet, ref, f"<f>{formula}</f>")


def merged(sheet: str, ranges: list[str], clear: list[str] = ()) -> Callable[[Path], Path]:
    """Merge ``ranges``; ``clear`` empties cells the way Excel does when it merges over them."""
    def fn(xml: bytes) -> bytes:
        for ref in clear:
            xml = replace_cell(xml, ref, "")
        body = "".join(f'<mergeCell ref="{r}"/>' for r in ranges)
        return after_sheet_data(xml, f'<mergeCells count="{len(ranges)}">{body}</mergeCells>'.encode())
    return lambda dest: edit_sheet(dest, sheet, fn)


def hidden_row(sheet: str, row: int) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        return xml.replace(f'<row r="{row}" '.encode(), f'<row r="{row}" hidden="1" '.encode(), 1)
    return lambda dest: edit_sheet(dest, sheet, fn)


def hidden_column(sheet: str, col: int) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        return xml.replace(b"</cols>", f'<col min="{col}" max="{col}" width="0" hidden="1" customWidth="1"/>'
                                       f'</cols>'.encode(), 1)
    return lambda dest: edit_sheet(dest, sheet, fn)


def hidden_sheet(name: str) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        return xml.replace(f'<sheet name="{name}"'.encode(), f'<sheet name="{name}" state="hidden"'.encode(), 1)
    return lambda dest: edit_package(dest, {"xl/workbook.xml": fn})


def unit_named(name: str) -> Callable[[Path], Path]:
    """The first unit is called ``name`` both in the unit list and in the unit table."""
    def fn(dest: Path) -> Path:
        meta = _unit_list_cell("KS/kommunledningskontoret")
        return variant(dest, {meta: name, "Driftredovisning!A5": name})
    return fn


def _unit_list_cell(unit: str) -> str:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(EXAMPLE)).get_sheet_by_name("Uppgifter").to_python()
    for r, line in enumerate(rows):
        for c, v in enumerate(line):
            if v == unit:
                return f"Uppgifter!{a1(r, c)}"
    raise AssertionError(unit)


# --- structure ----------------------------------------------------------------------------


def remove_sheet(name: str) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        new, n = re.subn(rb'<sheet name="' + name.encode() + rb'"[^>]*/>', b"", xml)
        assert n == 1
        return new
    return lambda dest: edit_package(dest, {"xl/workbook.xml": fn})


def renamed_sheet(old: str, new: str) -> Callable[[Path], Path]:
    return lambda dest: rename_sheet(dest, old, new)


def shift_sheet(xml: bytes, rows: int, cols: int) -> bytes:
    """Move every cell of a worksheet ``rows`` down and ``cols`` right, translating formulas."""
    def cell_ref(m: re.Match) -> bytes:
        r, c = parse_a1(m.group(1).decode())
        return b' r="' + a1(r + rows, c + cols).encode() + b'"'

    def row_ref(m: re.Match) -> bytes:
        return f'<row r="{int(m.group(1)) + rows}"'.encode()

    def formula(m: re.Match) -> bytes:
        text = m.group(1).decode()
        moved = Translator("=" + text, origin="A1").translate_formula(a1(rows, cols))[1:]
        return f"<f>{moved}</f>".encode()

    xml = re.sub(rb'<f>([^<]*)</f>', formula, xml)
    xml = re.sub(rb' r="([A-Z]+[0-9]+)"', cell_ref, xml)
    xml = re.sub(rb'<row r="(\d+)"', row_ref, xml)
    xml = re.sub(rb'<dimension ref="[^"]*"/>', b"", xml)
    xml = re.sub(rb'<sheetViews>.*?</sheetViews>', b"", xml, flags=re.DOTALL)  # frozen panes pointed at the old place
    xml = re.sub(rb'\sspans="[^"]*"', b"", xml)
    return xml


def moved_table(sheet: str, rows: int, cols: int) -> Callable[[Path], Path]:
    return lambda dest: edit_sheet(dest, sheet, lambda x: shift_sheet(x, rows, cols))


def rebuilt(change: Callable[[dict], None]) -> Callable[[Path], Path]:
    """The example built by workbooks/build.py from changed data (as if made from the template)."""
    def fn(dest: Path) -> Path:
        data = json.loads((REPO / "workbooks" / "data" / "example.json").read_text(encoding="utf-8"))
        change(data)
        data_file = dest.with_suffix(".json")
        data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        modules.build().build_example(dest, data_file)
        data_file.unlink()
        return dest
    return fn


def extra_unit(data: dict) -> None:
    data["units"]["rows"].insert(3, ["KLK Ny enhet", [0.0, 0.0, 0.0, 0.0, 0.0]])


def empty_unit_rows(dest: Path) -> Path:
    """The unit table keeps its header and Summa row, every unit row is emptied."""
    cells = {f"Driftredovisning!{c}{r}": None for r in range(5, 13) for c in "ABCDEFGH"}
    return variant(dest, cells)


def empty_workbook(dest: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(dest))
    wb.add_worksheet("Blad1")
    wb.close()
    return dest


def template(dest: Path) -> Path:
    shutil.copyfile(TEMPLATE, dest)
    return dest


# --- files --------------------------------------------------------------------------------


def write_bytes(data: bytes) -> Callable[[Path], Path]:
    def fn(dest: Path) -> Path:
        dest.write_bytes(data)
        return dest
    return fn


def truncated(dest: Path) -> Path:
    data = EXAMPLE.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


def encrypted(dest: Path) -> Path:
    """The example encrypted with a password by msoffcrypto-tool (Agile encryption, as Excel does)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(EXAMPLE, "rb") as src, open(dest, "wb") as out:
        OOXMLFile(src).encrypt("hemligt", out)
    return dest


@functools.cache
def _xls_bytes() -> bytes:
    from support import libreoffice

    out = libreoffice.convert([EXAMPLE], to="xls:MS Excel 97")[EXAMPLE]
    assert out is not None, "LibreOffice did not convert to xls"
    return out.read_bytes()


def legacy_xls(dest: Path) -> Path:
    """The example saved as Excel 97-2003 (.xls) by LibreOffice, then named as the user named it."""
    dest.write_bytes(_xls_bytes())
    return dest


def xlsb(dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return dest


def docx(dest: Path) -> Path:
    ct = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    doc = ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
           '2006/main"><w:body/></w:document>')
    with zipfile.ZipFile(dest, "w") as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
    return dest


def csv_renamed(dest: Path) -> Path:
    dest.write_text("Enhet;Utfall ack;Budget ack\nKLK Ledning;-17,22;-20,13\n", encoding="cp1252")
    return dest


# --- hostile ------------------------------------------------------------------------------

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                             for i in range(1, 10))
                  + b"]>")


def entity_bomb(part: str) -> Callable[[Path], Path]:
    """Put a billion-laughs DOCTYPE in front of ``part`` and use the entity in its first text."""
    def fn(xml: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
        body = body.replace(b"<t>", b"<t>&lol9;", 1) if b"<t>" in body else body.replace(
            b"<sheetData>", b"<sheetData><!-- &lol9; -->", 1)
        return BILLION_LAUGHS + body
    return lambda dest: edit_package(dest, {part: fn})


def external_entity(part: str, system: str) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
        root = re.match(rb"<(\w+)", body).group(1)
        doctype = b'<?xml version="1.0"?><!DOCTYPE ' + root + b' [<!ENTITY xxe SYSTEM "' + system.encode() + b'">]>'
        body = body.replace(b"<t>", b"<t>&xxe;", 1)
        return doctype + body
    return lambda dest: edit_package(dest, {part: fn})


def ratio_bomb(dest: Path, size: int = 200 << 20) -> Path:
    """A part of ``size`` zero bytes: a few hundred kB on disk, inflates a thousand times."""
    edit_package(dest)
    with zipfile.ZipFile(dest, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z, z.open("xl/media/image1.png", "w",
                                                                        force_zip64=False) as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
    return dest


def lying_size(dest: Path) -> Path:
    """sharedStrings.xml claims a small size in the zip headers but inflates to 50 MB."""
    big = b'<?xml version="1.0"?><sst xmlns="' + NS_MAIN.encode() + b'"><si><t>' + b"A" * (50 << 20) + b"</t></si></sst>"
    edit_package(dest, {"xl/sharedStrings.xml": lambda _: big})
    data = bytearray(dest.read_bytes())
    name = b"xl/sharedStrings.xml"
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            n_at = 26 if sig == b"PK\x03\x04" else 28
            off = 30 if sig == b"PK\x03\x04" else 46
            n_len = struct.unpack_from("<H", data, pos + n_at)[0]
            if bytes(data[pos + off:pos + off + n_len]) == name:
                struct.pack_into("<L", data, pos + size_at, 6114)
            pos += 4
    dest.write_bytes(bytes(data))
    return dest


def far_cell(sheet: str, ref: str = "XFD1048576", value: str = "<v>1</v>", attrs: str = "") -> Callable[[Path], Path]:
    row = parse_a1(ref)[0] + 1

    def fn(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}"{attrs}>{value}</c></row></sheetData>'
                           .encode(), 1)
    return lambda dest: edit_sheet(dest, sheet, fn)


def absurd_dimension(sheet: str) -> Callable[[Path], Path]:
    def fn(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    return lambda dest: edit_sheet(dest, sheet, fn)


def long_string(sheet: str, ref: str, length: int) -> Callable[[Path], Path]:
    return cell_edit(sheet, ref, f"<is><t>{'Lång text. ' * (length // 11)}</t></is>", 't="inlineStr"')


def huge_string(dest: Path, length: int = 20 << 20) -> Path:
    """A single shared string of ``length`` characters (Excel allows 32 767)."""
    def fn(xml: bytes) -> bytes:
        return xml.replace(b"<t>", b"<t>" + b"x" * length, 1)
    return edit_package(dest, {"xl/sharedStrings.xml": fn})


def many_sheets(count: int) -> Callable[[Path], Path]:
    """``count`` empty sheets added after the template's sheets."""
    def fn(dest: Path) -> Path:
        empty = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="' + NS_MAIN.encode()
                 + b'"><sheetData/></worksheet>')
        add = {f"xl/worksheets/extra{i}.xml": empty for i in range(count)}
        rels = "".join(f'<Relationship Id="rIdX{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/extra{i}.xml"/>' for i in range(count))
        sheets = "".join(f'<sheet name="Extra {i}" sheetId="{100 + i}" r:id="rIdX{i}"/>' for i in range(count))
        types = "".join(f'<Override PartName="/xl/worksheets/extra{i}.xml" ContentType="application/'
                        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(count))
        return edit_package(dest, {
            "xl/_rels/workbook.xml.rels": lambda x: x.replace(b"</Relationships>", rels.encode() + b"</Relationships>"),
            "xl/workbook.xml": lambda x: x.replace(b"</sheets>", sheets.encode() + b"</sheets>"),
            "[Content_Types].xml": lambda x: x.replace(b"</Types>", types.encode() + b"</Types>"),
        }, add=add)
    return fn


def sheet_id_edit(sheet: str, value: str) -> Edit:
    """An edit of xl/workbook.xml: ``sheet``'s sheetId written as ``value``."""
    def fn(xml: bytes) -> bytes:
        new, n = re.subn(rb'(<sheet name="' + re.escape(sheet.encode()) + rb'" sheetId=")\d+"',
                         rb"\g<1>" + value.encode() + b'"', xml)
        assert n == 1, sheet
        return new
    return fn


def sheet_id(sheet: str, value: str) -> Callable[[Path], Path]:
    """The example with ``sheet``'s sheetId written as ``value``."""
    return lambda dest: edit_package(dest, {"xl/workbook.xml": sheet_id_edit(sheet, value)})


CALC_CHAIN = "xl/calcChain.xml"


def calc_chain(entries: str, workbook: Edit | None = None) -> Callable[[Path], Path]:
    """The example with a calc chain of ``entries`` (its <c> elements), part, relationship and
    content type as Excel saves them (the example itself has none); ``workbook`` also edits
    xl/workbook.xml."""
    chain = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{NS_MAIN}">{entries}'
             f'</calcChain>').encode()
    rel = (b'<Relationship Id="rIdChain" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'calcChain" Target="calcChain.xml"/>')
    ct = (b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          b'spreadsheetml.calcChain+xml"/>')
    return lambda dest: edit_package(dest, {
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(b"</Relationships>", rel + b"</Relationships>"),
        "[Content_Types].xml": lambda x: x.replace(b"</Types>", ct + b"</Types>"),
        **({"xl/workbook.xml": workbook} if workbook else {})}, add={CALC_CHAIN: chain})


def many_parts(count: int) -> Callable[[Path], Path]:
    return lambda dest: edit_package(dest, add={f"customXml/item{i}.xml": b"<a/>" for i in range(count)})


def deep_nesting(dest: Path, depth: int = 100_000) -> Path:
    def fn(xml: bytes) -> bytes:
        return after_sheet_data(xml, b"<extLst>" + b"<a>" * depth + b"</a>" * depth + b"</extLst>")
    return edit_sheet(dest, "Driftredovisning", fn)


def traversal_name(dest: Path) -> Path:
    return edit_package(dest, add={"../../../../tmp/xlreport-evil.txt": b"owned"})


def duplicate_part(dest: Path) -> Path:
    """Two zip entries named like the Driftredovisning sheet: readers may disagree on which counts."""
    edit_package(dest)
    evil = zipfile.ZipFile(EXAMPLE).read(PARTS["Driftredovisning"]).replace(b"KLK", b"XXX")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(dest, "a", zipfile.ZIP_DEFLATED) as z:
            z.writestr(PARTS["Driftredovisning"], evil)
    return dest


def damaged_xml(dest: Path) -> Path:
    return edit_sheet(dest, "Driftredovisning", lambda x: x[: len(x) // 2])


def missing_part(dest: Path) -> Path:
    return edit_package(dest, remove={PARTS["Personal"]})

