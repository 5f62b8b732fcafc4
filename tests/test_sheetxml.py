"""Cell writes into a user's worksheet XML, and the XML of a sheet the tool owns."""

from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree

from support.workbooks import EXAMPLE, sheet_xml
from xlreport.core.cells import col_letter, parse_a1
from xlreport.core.changes import Area, Cell, CellWrite, PageLayout, SheetContent
from xlreport.ooxml import sheetxml
from xlreport.ooxml.names import NS_MAIN, NS_R, q
from xlreport.ooxml.sheetxml import _set_value, apply_cell_writes, build_owned_sheet, number_text, ooxml_text

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main">')
SHEET = HEAD + (b'<dimension ref="A1:C3"/><sheetData>'
                b'<row r="1" spans="1:3"><c r="A1" s="4" t="s"><v>0</v></c><c r="C1" s="2"><v>7</v></c></row>'
                b'<row r="3"><c r="B3"><f>A1+1</f><v>8</v></c></row>'
                b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                b'footer="0.3"/></worksheet>')


def cell(xml: bytes, ref: str) -> etree._Element | None:
    found = etree.fromstring(xml).xpath(f"//m:c[@r='{ref}']", namespaces=NS)
    return found[0] if found else None


def refs_in_order(xml: bytes) -> list[str]:
    return [c.get("r") for c in etree.fromstring(xml).iterfind(".//m:c", NS)]


def w(ref_row, ref_col, value, formula=None):
    return CellWrite("S", ref_row, ref_col, value, formula)


def test_number_keeps_style_and_declaration():
    out = apply_cell_writes(SHEET, [w(0, 0, 12.5)])
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet')
    c = cell(out, "A1")
    assert c.get("s") == "4" and c.get("t") is None
    assert c.findtext("m:v", namespaces=NS) == "12.5"


def test_integer_and_float_round_trip():
    out = apply_cell_writes(SHEET, [w(0, 0, 3), w(0, 2, 0.1 + 0.2)])
    assert cell(out, "A1").findtext("m:v", namespaces=NS) == "3"
    assert float(cell(out, "C1").findtext("m:v", namespaces=NS)) == 0.1 + 0.2


@pytest.mark.parametrize("text", ["=SUM(A1:A3)", "+46 8 123", "-5", "@user", "vanlig text"])
def test_strings_are_always_inline_text(text):
    c = cell(apply_cell_writes(SHEET, [w(0, 2, text)]), "C1")
    assert c.get("t") == "inlineStr" and c.get("s") == "2"
    assert c.find("m:f", NS) is None and c.find("m:v", NS) is None
    assert c.findtext("m:is/m:t", namespaces=NS) == text


def test_whitespace_preserved_and_control_chars_escaped():
    c = cell(apply_cell_writes(SHEET, [w(0, 0, "  två rader\nhär "), w(0, 2, "a\x01b")]), "A1")
    t = c.find("m:is/m:t", NS)
    assert t.text == "  två rader\nhär "
    assert t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"


def test_control_chars_escaped():
    out = apply_cell_writes(SHEET, [w(0, 2, "a\x01b_x0041_")])
    assert cell(out, "C1").findtext("m:is/m:t", namespaces=NS) == "a_x0001_b_x005F_x0041_"


def test_bool_and_none():
    out = apply_cell_writes(SHEET, [w(0, 0, True), w(0, 2, None), w(2, 1, None)])
    a1 = cell(out, "A1")
    assert a1.get("t") == "b" and a1.findtext("m:v", namespaces=NS) == "1"
    c1 = cell(out, "C1")  # styled: the cell stays, empty
    assert c1 is not None and c1.get("s") == "2" and len(c1) == 0 and c1.get("t") is None
    assert cell(out, "B3") is None  # unstyled formula cell cleared: removed


def test_formula_with_cached_value():
    out = apply_cell_writes(SHEET, [w(4, 3, -1234.5, "C5-D5")])
    c = cell(out, "D5")
    assert c.findtext("m:f", namespaces=NS) == "C5-D5"
    assert c.findtext("m:v", namespaces=NS) == "-1234.5"
    assert [ch.tag.split("}")[1] for ch in c] == ["f", "v"]


def test_formula_text_result_and_leading_equals():
    c = cell(apply_cell_writes(SHEET, [w(0, 0, "ok", "=IF(1,\"ok\",\"x\")")]), "A1")
    assert c.get("t") == "str" and c.findtext("m:f", namespaces=NS) == 'IF(1,"ok","x")'
    assert c.findtext("m:v", namespaces=NS) == "ok"


def test_rows_and_cells_created_in_order():
    out = apply_cell_writes(SHEET, [w(1, 5, 1), w(0, 1, 2), w(5, 0, 3), w(2, 0, 4)])
    assert refs_in_order(out) == ["A1", "B1", "C1", "F2", "A3", "B3", "A6"]
    rows = [r.get("r") for r in etree.fromstring(out).iterfind(".//m:row", NS)]
    assert rows == ["1", "2", "3", "6"]
    assert etree.fromstring(out).find(".//m:row", NS).get("spans") == "1:3"


def test_cell_before_first_row_and_spans_widened():
    out = apply_cell_writes(SHEET.replace(b'<row r="1"', b'<row r="2"').replace(b'"A1"', b'"A2"')
                            .replace(b'"C1"', b'"C2"'), [w(0, 0, 1), w(1, 4, 5)])
    assert refs_in_order(out)[:4] == ["A1", "A2", "C2", "E2"]
    assert etree.fromstring(out).xpath("//m:row[@r='2']/@spans", namespaces=NS) == ["1:5"]


def test_dimension_expanded():
    out = apply_cell_writes(SHEET, [w(9, 7, 1)])
    assert etree.fromstring(out).find("m:dimension", NS).get("ref") == "A1:H10"
    out = apply_cell_writes(SHEET, [w(1, 1, 1)])
    assert etree.fromstring(out).find("m:dimension", NS).get("ref") == "A1:C3"


def test_rows_without_r_attributes():
    xml = HEAD + b'<sheetData><row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row></sheetData></worksheet>'
    out = apply_cell_writes(xml, [w(1, 1, 9)])
    assert refs_in_order(out) == ["A1", "B1", "A2", "B2"]


def test_rich_value_metadata_dropped_on_overwrite():
    xml = HEAD + b'<sheetData><row r="1"><c r="A1" s="3" vm="1" cm="1"><f t="array" ref="A1">X()</f><v>1</v></c></row></sheetData></worksheet>'
    c = cell(apply_cell_writes(xml, [w(0, 0, 2)]), "A1")
    assert c.get("vm") is None and c.get("cm") is None and c.get("s") == "3"


def test_everything_outside_sheet_data_survives(fixtures_dir):
    with zipfile.ZipFile(fixtures_dir / "finance.xlsx") as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    assert b"x14:sparklineGroups" in xml
    out = apply_cell_writes(xml, [w(3, 1, 1.0)])
    before, after = etree.fromstring(xml), etree.fromstring(out)
    assert after.nsmap == before.nsmap
    assert len(before) == len(after)
    for a, b in zip(before, after):
        if b.tag.endswith("sheetData"):
            continue
        assert etree.tostring(a) == etree.tostring(b)
    assert out.split(b"?>", 1)[0] == xml.split(b"?>", 1)[0]


# --- shared formulas ----------------------------------------------------------------------

SHARED = HEAD + (b'<sheetData>'
                 b'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
                 b'<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
                 b'<row r="3"><c r="A3"><v>3</v></c><c r="B3"><f t="shared" si="0"/><v>6</v></c></row>'
                 b'</sheetData></worksheet>')


def f_of(xml, ref):
    f = cell(xml, ref).find("m:f", NS)
    return None if f is None else (f.text, dict(f.attrib))


def test_master_moves_to_first_remaining_dependent():
    out = apply_cell_writes(SHARED, [w(0, 1, 99)])
    assert f_of(out, "B1") is None
    assert f_of(out, "B2") == ("A2*2", {"t": "shared", "ref": "B2:B3", "si": "0"})
    assert f_of(out, "B3") == (None, {"t": "shared", "si": "0"})


def test_master_and_first_dependent_overwritten():
    out = apply_cell_writes(SHARED, [w(0, 1, 99), w(1, 1, "x")])
    assert f_of(out, "B3") == ("A3*2", {"t": "shared", "ref": "B3", "si": "0"})


def test_whole_group_overwritten():
    out = apply_cell_writes(SHARED, [w(r, 1, r) for r in range(3)])
    assert all(f_of(out, f"B{r}") is None for r in (1, 2, 3))


def test_dependent_overwritten_master_untouched():
    out = apply_cell_writes(SHARED, [w(1, 1, 5, "A2*3")])
    assert f_of(out, "B1") == ("A1*2", {"t": "shared", "ref": "B1:B3", "si": "0"})
    assert f_of(out, "B2") == ("A2*3", {})
    assert f_of(out, "B3") == (None, {"t": "shared", "si": "0"})


BLOCK = HEAD + (b'<sheetData>'
                b'<row r="1"><c r="B1"><f t="shared" ref="B1:C2" si="0">A1*2</f><v>0</v></c>'
                b'<c r="C1"><f t="shared" si="0"/><v>0</v></c></row>'
                b'<row r="2"><c r="B2"><f t="shared" si="0"/><v>0</v></c><c r="C2"><f t="shared" si="0"/><v>0</v></c></row>'
                b'</sheetData></worksheet>')


def test_a_2d_block_whose_master_is_written_gets_one_formula_per_cell():
    """C1 cannot be the master of B2 (the master must be the top-left of its range): unshare."""
    out = apply_cell_writes(BLOCK, [w(0, 1, 99)])
    assert f_of(out, "B1") is None
    assert f_of(out, "C1") == ("B1*2", {})
    assert f_of(out, "B2") == ("A2*2", {})
    assert f_of(out, "C2") == ("B2*2", {})


def test_master_translation_keeps_absolute_refs():
    xml = SHARED.replace(b">A1*2<", b">$A$1+A1*Sheet2!C1<")
    out = apply_cell_writes(xml, [w(0, 1, 0)])
    assert f_of(out, "B2")[0] == "$A$1+A2*Sheet2!C2"


# --- owned sheets -------------------------------------------------------------------------


def test_build_owned_sheet():
    content = SheetContent("Rapport", col_widths={0: 40, 2: 12.5})
    content.add(Cell("Delårsrapport", "title"))
    content.blank()
    content.add("Intäkter", Cell(12.5, "mnkr"), Cell(True), None, Cell("=inte formel"))
    content.add(Cell("Se Resultaträkning", "link", "'Resultaträkning'!E5"))
    ids = {"title": 5, "mnkr": 7, "link": 9, "text": 0}
    xml = build_owned_sheet(content, ids)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    root = etree.fromstring(xml)
    assert [c.get("min") + ":" + c.get("width") for c in root.iterfind("m:cols/m:col", NS)] == ["1:40", "3:12.5"]
    assert [r.get("r") for r in root.iterfind(".//m:row", NS)] == ["1", "3", "4"]
    assert refs_in_order(xml) == ["A1", "A3", "B3", "C3", "E3", "A4"]
    assert cell(xml, "A1").get("s") == "5"
    assert cell(xml, "A3").get("s") is None
    assert cell(xml, "B3").get("s") == "7" and cell(xml, "B3").findtext("m:v", namespaces=NS) == "12.5"
    assert cell(xml, "C3").get("t") == "b"
    assert cell(xml, "E3").get("t") == "inlineStr"
    link = root.find("m:hyperlinks/m:hyperlink", NS)
    assert dict(link.attrib) == {"ref": "A4", "location": "'Resultaträkning'!E5", "display": "Se Resultaträkning"}
    assert root.find("m:dimension", NS).get("ref") == "A1:E4"
    order = [ch.tag.split("}")[1] for ch in root]
    assert order == ["dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "hyperlinks", "pageMargins"]


def test_build_empty_owned_sheet():
    root = etree.fromstring(build_owned_sheet(SheetContent("Kontroller"), {}))
    assert root.find("m:sheetData", NS) is not None and len(root.find("m:sheetData", NS)) == 0


# --- row heights of owned sheets ----------------------------------------------------------

# Every attribute CT_Row allows (ECMA-376 part 1, sml.xsd), and the one Excel adds from x14ac.
ROW_ATTRIBUTES = {"r", "spans", "s", "customFormat", "ht", "hidden", "customHeight", "outlineLevel",
                  "collapsed", "thickTop", "thickBot", "ph",
                  "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac}dyDescent"}


def test_owned_sheet_rows_get_their_heights():
    content = SheetContent("Kontroller", col_widths={0: 12})
    content.add(Cell("Rubrik", "title"))
    content.add(Cell("Ett långt meddelande " * 3, "wrap"))
    content.blank()
    content.row_heights = {1: 45.0, 2: 30.0}  # an empty row with a height keeps it
    root = etree.fromstring(build_owned_sheet(content, {"wrap": 3}))
    rows = {r.get("r"): r for r in root.iterfind(".//m:row", NS)}
    assert dict(rows["1"].attrib) == {"r": "1"}
    assert dict(rows["2"].attrib) == {"r": "2", "ht": "45", "customHeight": "1"}
    assert dict(rows["3"].attrib) == {"r": "3", "ht": "30", "customHeight": "1"} and len(rows["3"]) == 0
    for row in rows.values():
        assert set(row.attrib) <= ROW_ATTRIBUTES


@pytest.fixture(scope="module")
def refreshed_example(tmp_path_factory):
    from xlreport.doors.file import process

    path = tmp_path_factory.mktemp("heights") / EXAMPLE.name
    path.write_bytes(EXAMPLE.read_bytes())
    assert process(path).status == 0
    return path


def _row_of(root: etree._Element, text: str) -> etree._Element:
    """The ``<row>`` with an inline string ``text``."""
    found = root.xpath("//m:row[m:c/m:is/m:t = $text]", namespaces=NS, text=text)
    assert len(found) == 1, text
    return found[0]


def test_refreshed_example_has_the_wrapped_header_row_at_two_lines(refreshed_example):
    root = sheet_xml(refreshed_example, "Rapport")
    header = _row_of(root, "Avvikelse ack fg år")
    assert header.get("customHeight") == "1" and float(header.get("ht")) == 30.0
    assert header.find("m:c/m:is/m:t", NS).text == "Enhet"
    following = header.getnext()  # the first unit: one line, Excel's default height
    assert following.get("ht") is None and following.get("customHeight") is None
    for row in root.iterfind(".//m:row", NS):
        assert set(row.attrib) <= ROW_ATTRIBUTES
        if row.get("ht") is not None:
            assert 0 < float(row.get("ht")) <= 409 and row.get("customHeight") == "1"


@pytest.mark.libreoffice
def test_libreoffice_keeps_the_header_height(refreshed_example, tmp_path):
    """LibreOffice lays the header out at its two lines: saved again by LibreOffice, the row
    still has its height (without it, LibreOffice keeps the default and draws the second line
    over the next row)."""
    from support import libreoffice

    out = libreoffice.convert([refreshed_example], to="xlsx:Calc Office Open XML")[refreshed_example]
    assert out is not None
    root = sheet_xml(out, "Rapport")
    with zipfile.ZipFile(out) as z:
        strings = ["".join(si.itertext()) for si in etree.fromstring(z.read("xl/sharedStrings.xml"))]
    index = str(strings.index("Avvikelse ack fg år"))
    header = root.xpath("//m:row[m:c[@t='s']/m:v = $i]", namespaces=NS, i=index)[0]
    assert float(header.get("ht")) == pytest.approx(30.0, abs=0.5)
    assert float(header.getnext().get("ht")) < 20


# --- owned sheets: the text-built sheetData against lxml ---------------------------------

# Strings of every kind the escaping must get right: XML's own characters, whitespace that
# needs xml:space="preserve", control characters and U+FFFE/U+FFFF (written _xHHHH_), user
# text that looks like such an escape, Swedish letters, characters outside the BMP.
TRICKY_TEXTS = [
    "", " ", "  två inledande", "efterföljande ", "två  mellanslag", "tab\there", "\t", "ny\nrad", "\n",
    "vagn\rretur", "crlf\r\n", "&<>\"'", "a & b < c > d", "]]>", "<c r=\"A1\"/>", "&amp; &#13; &lt;",
    "åäö ÅÄÖ é ü ß", "😀 𝄞 𠜎", "\ufffe\uffff", "\x00\x01\x08\x0b\x0c\x0e\x1f", "a\x01b_x0041_",
    "_x0041_", "_X0041_", "_x005F_x0041_", "_x12_", "_xGGGG_", "\x7f\x85\u2028\u2029", "x\u00a0",
    "\u00a0ledande hårt mellanslag", "=SUM(A1:A3)", "+46 8 123", "-5", "@user", "Resultaträkning",
]
TRICKY_NUMBERS = [0, 1, -1, 7, 12.5, -1234.5, 0.1 + 0.2, 3.0, -3.0, 0.0, -0.0, 1e15 - 1, 1e15, -1e15, 1e16,
                  123456789012345678901234567890, -(2**63), 2**63, 1e300, -1e300, 1e-300, 5e-324, 1 / 3,
                  float("inf"), float("-inf"), float("nan")]


def tricky_content() -> SheetContent:
    content = SheetContent("Rapport", col_widths={0: 40, 2: 12.5, 5: 8.43})
    content.add(Cell("Delårsrapport & <bokslut>", "title"))
    content.blank()
    styles = ["text", "title", "mnkr", "pct", "unknown", "zero"]
    for i, text in enumerate(TRICKY_TEXTS):
        content.add(Cell(text, styles[i % len(styles)]), None, Cell(text))
    for i, number in enumerate(TRICKY_NUMBERS):
        content.add(None, Cell(number, styles[i % len(styles)]), number)
    content.add(Cell(True), Cell(False, "mnkr"), Cell(None), Cell(None, "title"), None, Cell(None, "zero"))
    content.add(Cell("Se Resultaträkning & <mer>", "link", "'Resultaträkning'!E5"),
                Cell(12.5, "link", "#Rapport!A1"), Cell(None, "link", "Rapport!B2"), Cell(True, "link", "A1"))
    content.blank()
    content.add(*[Cell(f"kolumn {c}") for c in range(30)])  # past column Z
    content.row_heights = {0: 30.0, 1: 15.75, 3: 45.0, len(content.rows) - 2: 12}  # one on an empty row
    content.merges = [Area(0, 0, 0, 4), Area(3, 1, 4, 2)]
    content.page = PageLayout(header=("Kommun & <nämnd>", "", "Sida &P av &N"), footer=("", "Delår\t2020", ""),
                              title_rows=(0, 1))
    content.row_breaks = [10, 20]
    return content


TRICKY_STYLES = {"title": 5, "mnkr": 7, "pct": 12, "link": 9, "text": 0, "zero": 0}


def _lxml_sheet_data(content: SheetContent, style_ids: dict[str, int]) -> bytes:
    """``<sheetData>`` of ``content`` built as the element tree (through ``_set_value``, which
    writes the cells of user sheets) and serialised by lxml: the reference for the text."""
    root = etree.Element(q("worksheet"), nsmap={None: NS_MAIN, "r": NS_R})
    sheet_data = etree.SubElement(root, q("sheetData"))
    for r, line in enumerate(content.rows):
        cells = [(c, one) for c, one in enumerate(line) if one is not None]
        height = content.row_heights.get(r)
        if not cells and height is None:
            continue
        row = etree.SubElement(sheet_data, q("row"), r=str(r + 1))
        if height is not None:
            row.set("ht", number_text(float(height)))
            row.set("customHeight", "1")
        for c, one in cells:
            el = etree.SubElement(row, q("c"), r=f"{col_letter(c)}{r + 1}")
            if style_ids.get(one.style, 0):
                el.set("s", str(style_ids[one.style]))
            _set_value(el, one.value, cached=False)
    return _sheet_data_of(etree.tostring(root, encoding="UTF-8", xml_declaration=False))


def _sheet_data_of(xml: bytes) -> bytes:
    found = re.search(rb"<sheetData(?:/>|>.*</sheetData>)", xml, re.DOTALL)
    assert found is not None
    return found.group(0)


def test_owned_sheet_is_byte_identical_to_the_lxml_build():
    xml = build_owned_sheet(tricky_content(), TRICKY_STYLES, "rId7")
    assert _sheet_data_of(xml) == _lxml_sheet_data(tricky_content(), TRICKY_STYLES)
    etree.fromstring(xml)  # well-formed


def test_owned_cells_escape_every_character_as_lxml_does():
    """Every code point (but the surrogates) in text cells, in blocks of 2048: the text-built
    cells equal the lxml-built ones, and read back as the text ``ooxml_text`` made."""
    content = SheetContent("Kontroller")
    blocks = []
    for start in range(0, 0x110000, 2048):
        block = "".join(chr(cp) for cp in range(start, start + 2048) if not 0xD800 <= cp <= 0xDFFF)
        if block:
            blocks.append(block)
            content.add(Cell(block), Cell(" " + block[:40] + " "))
    xml = build_owned_sheet(content, {})
    assert _sheet_data_of(xml) == _lxml_sheet_data(content, {})
    texts = [t.text for t in etree.fromstring(xml).iterfind(".//m:c[@r]/m:is/m:t", NS)][::2]
    assert texts == [ooxml_text(b) for b in blocks]


@pytest.mark.parametrize("value", [*TRICKY_TEXTS, *TRICKY_NUMBERS, True, False, None])
def test_owned_cell_text_matches_set_value(value):
    """One cell, each value and style: the text an owned cell is written as is what
    ``_set_value`` (the writer of user-sheet cells) makes of it in an element."""
    for style in ("text", "title"):
        content = SheetContent("Rapport")
        content.add(None, Cell(value, style))
        assert _sheet_data_of(build_owned_sheet(content, {"title": 3})) == _lxml_sheet_data(content, {"title": 3})


def owned_variants() -> list[SheetContent]:
    """tricky_content and its layouts: no page, each page setting, no header or footer, no
    widths, merges or breaks, links whose targets and texts need escaping, an empty sheet."""
    out = [tricky_content(), SheetContent("Tom"), SheetContent("Bara bredder", col_widths={3: 9.140625, 0: 50})]
    for page in (None, PageLayout(), PageLayout(portrait=False, fit_to_width=False),
                 PageLayout(header=("", "", ""), footer=("", "", "")), PageLayout(header=("a\tb\r\nc", "", "")),
                 PageLayout(footer=("", "Sida &P", ""), margins_cm=(1.0, 2.5, 0.3333, 4.0), header_cm=0.1)):
        content = tricky_content()
        content.page = page
        out.append(content)
    bare = tricky_content()
    bare.col_widths, bare.merges, bare.row_breaks, bare.row_heights = {}, [], [], {}
    out.append(bare)
    linked = SheetContent("Länkar")
    for i, text in enumerate(TRICKY_TEXTS):
        if all(ch in "\t\n\r" or ch >= " " and ch not in "\ufffe\uffff" for ch in text):  # lxml refuses the others
            linked.add(Cell(text, "link", f"#'{text}'!A{i + 1}"), Cell(float(i), "link", "Rapport!B2"))
    out.append(linked)
    return out


@pytest.mark.parametrize("rid", [None, "rId1", "rId&<\"'>"])
def test_owned_sheet_part_is_byte_identical_to_the_element_build(rid):
    from support import lxml_sheet

    for content in owned_variants():
        assert build_owned_sheet(content, TRICKY_STYLES, rid) == lxml_sheet.build_owned_sheet(content, TRICKY_STYLES, rid)


@pytest.mark.parametrize("bad", ["a\x01b", "\ufffe", "\ud800"])
def test_owned_sheet_refuses_what_lxml_refuses(bad):
    from support import lxml_sheet

    for content in (SheetContent("L", rows=[[Cell("x", "link", bad)]]),
                    SheetContent("H", page=PageLayout(header=(bad, "", "")))):
        for build in (build_owned_sheet, lxml_sheet.build_owned_sheet):
            try:
                build(content, {})
            except ValueError as exc:
                outcome = type(exc) if isinstance(exc, UnicodeEncodeError) else ValueError
            else:
                outcome = None
            if build is build_owned_sheet:
                expected = outcome
            else:
                assert outcome == expected, (content, bad)


# --- user sheets: the one-pass reference reading and the fast cell writer ----------------

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PREFIXED = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
# sheetData bodies a reader may meet: references left out, written in other spellings, not
# references at all, rows and cells twice, rows out of order, every column width
ODD_BODIES = [
    ('<row r="1" spans="1:3"><c r="A1" s="4" t="s"><v>0</v></c><c r="C1" s="2"><v>7</v></c></row>'
     '<row r="3"><c r="B3"><f>A1+1</f><v>8</v></c></row>'),
    '<row><c><v>1</v></c><c><v>2</v></c></row><row><c r="C2"><v>3</v></c><c/></row>',
    '<row r="05"><c r="A5"><v>1</v></c></row><row r=" 7 "><c r="b7"><v>1</v></c></row>',
    '<row r="2"><c r="$B$2"><v>1</v></c><c r=" C2 "><v>1</v></c><c><v>2</v></c></row>',
    '<row r="2"><c r="B2"><v>1</v></c><c r="XYZ"><v>1</v></c></row>',
    '<row r="2"><c r="B2"/><c r="A0"/><c r=""/><c r="B2\u00a0"/></row>',
    '<row r="2"><c r="B2"><v>1</v></c></row><row r="2"><c r="B2"><v>9</v></c><c r="B2"><v>2</v></c></row>',
    '<row r="3"><c r="A3"/></row><row r="1"><c r="A1"/></row><row r="1a"/>',
    '<row r="2"><c r="AAA2"><v>1</v></c><c r="XFD2"/><c/><c r="xfd2"/><c r="AAAA2"/><c r="A12345678"/></row>',
    '<row r="2"><c r="B2" t="s" cm="1" vm="2"><!-- c --><f>1</f><v>1</v><extLst><ext/></extLst></c></row>',
    '<row r="2"><c r="AAAA2"/></row>', '<row r="2"><c r="A12345678"/></row>', '<row r="2"><c r="1B"/></row>',
    '<row r="2"><c r="B 2"/></row>', '<row r="2"><c r="B2"/><c r="$$B2"/></row>', '',
    '<row r="1"><c r="XYZ"/></row><row r="2a"/>', '<row r="1"><c/></row><row r="2"><c r="7"/></row><row r="z"/>',
]


def _reference_normalise(sheet_data) -> None:
    """How every row and cell got its ``r``, one cell at a time (before the XPath check)."""
    row_no = 0
    for row in sheet_data.iterchildren(q("row")):
        row_no = int(row.get("r")) if row.get("r") else row_no + 1
        row.set("r", str(row_no))
        col = -1
        for c in row.iterchildren(q("c")):
            col = parse_a1(c.get("r"))[1] if c.get("r") else col + 1
            if not c.get("r"):
                c.set("r", f"{col_letter(col)}{row_no}")


def _outcome(function, sheet_data):
    """(what ``function`` returned, the sheetData after it), or (the error, None)."""
    try:
        return function(sheet_data), etree.tostring(sheet_data)
    except ValueError as exc:
        return repr(exc), None


@pytest.mark.parametrize("body", ODD_BODIES)
def test_normalise_refs_as_the_cell_by_cell_reading(body):
    for ns, prefix in ((MAIN, ""), (PREFIXED, "x:")):
        xml = f"<{prefix}sheetData {ns}>{body}</{prefix}sheetData>"
        if prefix:
            xml = re.sub(r"<(/?)(row|c|v|f|extLst|ext)\b", rf"<\1{prefix}\2", xml)
        rows, fast = _outcome(sheetxml._normalise_refs, etree.fromstring(xml))
        error, reference = _outcome(_reference_normalise, etree.fromstring(xml))
        assert fast == reference
        if reference is None:  # the same error, at the same (first) reference
            assert rows == error
        else:
            by_number = {}
            for row in etree.fromstring(reference).iterchildren(q("row")):
                by_number[int(row.get("r"))] = etree.tostring(row)
            assert {n: etree.tostring(row) for n, row in rows.items()} == by_number


@pytest.mark.parametrize("ref", ["A1", "B12", "Z9", "AA1", "XFD1048576", "$B$2", "b2", " C2 ", "C2\t", "$c3",
                                 "AB$7", "ZZZ1", "AAA99", "\u00a0D4"])
def test_column_reads_as_parse_a1(ref):
    for _ in range(2):  # the second time from what the first kept
        assert sheetxml._column(ref) == parse_a1(ref)[1]


def _reference_write_cell(c, write) -> None:
    """The cell writer before its fast path: every child placed through _insert_child."""
    sheetxml._clear_cell(c)
    if write.formula is not None:
        f = etree.Element(q("f"))
        f.text = write.formula.removeprefix("=")
        sheetxml._insert_child(c, f)
        _set_value(c, write.value, cached=True)
    else:
        _set_value(c, write.value, cached=False)


@pytest.mark.parametrize("value, formula", [(12.5, None), (3, "=A1+2"), ("text  x", None), ("ok", '"ok"'),
                                            (True, None), (None, None), (None, "B1"), (float("nan"), "1/0")])
def test_the_fast_cell_writer_writes_as_the_ordered_one(value, formula):
    """In a sheet with the main namespace as default, as a prefix, or both, and in a cell that
    keeps an extLst (which the children must go before)."""
    for ns in (MAIN, PREFIXED, f"{MAIN} {PREFIXED}"):
        prefix = "x:" if ns == PREFIXED else ""
        for inner in ("", "<{p}v>1</{p}v>", "<{p}f>A1</{p}f><{p}v>1</{p}v>", "<!-- c --><{p}is><{p}t>a</{p}t></{p}is>",
                      "<{p}v>1</{p}v><{p}extLst/>"):
            xml = (f'<{prefix}sheetData {ns}><{prefix}row r="1"><{prefix}c r="A1" t="s" vm="1">'
                   f'{inner.format(p=prefix)}</{prefix}c></{prefix}row></{prefix}sheetData>')
            fast, reference = etree.fromstring(xml), etree.fromstring(xml)
            write = CellWrite("S", 0, 0, value, formula)
            sheetxml._write_cell(fast[0][0], write)
            _reference_write_cell(reference[0][0], write)
            assert etree.tostring(fast) == etree.tostring(reference)
