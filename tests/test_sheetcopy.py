"""``xlreport upgrade`` carries a user's own sheet into the new template (ooxml/sheetcopy.py).

Real files and the real CLI: the 0.9 workbook (tests/data) with one number in its styles.xml or
in its own sheet "Egna noteringar" (sheet10.xml) made into something no reader can use. The
upgrade must still finish, leave the old file as it was, and write a workbook that opens, with
the cell's value kept and the unreadable index read as Excel's readers read it: no format, the
default record, no string.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc

from support import REPO
from support.cli import xlreport
from support.workbooks import edit_package, parts, sha

LEGACY = REPO / "tests" / "data" / "exempel_mallversion_0_9.xlsx"
OWN = "Egna noteringar"
OWN_PART = "xl/worksheets/sheet10.xml"
MNKR = '#,##0.00 "mnkr"'  # B4's format (cellXfs 16: numFmtId 166, font 0, fill 5, border 0)
GREEN = "FFE2EFDA"  # fill 5

#: numbers no reader can use as an index: int() refuses all but "-1", which Python reads from the end
BAD = ["x", "²", "-1", "1.5", ""]


def _replace(*pairs: tuple[str, str]):
    """An edit of a part: each (old, new) of ``pairs``, ``old`` found exactly once."""
    def edit(data: bytes) -> bytes:
        for old, new in pairs:
            assert data.count(old.encode()) == 1, old
            data = data.replace(old.encode(), new.encode())
        return data
    return edit


def _upgraded(tmp_path: Path, edits: dict) -> openpyxl.Workbook:
    """Upgrade the 0.9 workbook with ``edits`` by the CLI; the new workbook, opened by openpyxl."""
    src = edit_package(tmp_path / "gammal.xlsx", edits, src=LEGACY)
    before = sha(src)
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)  # fails on a traceback
    assert run.returncode == 0, run.output
    assert "oväntat fel" not in run.output and "programfel" not in run.output, run.output
    assert f"egna blad: {OWN}" in run.stdout
    assert sha(src) == before
    rows = pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name(OWN).to_python()
    assert rows[0][0] == "Egna noteringar" and rows[3][1] == 1.5  # A1, B4
    # every id of the new workbook's cell formats is a number a reader can use
    styles = parts(out)["xl/styles.xml"].decode()
    ids = re.findall(r'\b(?:numFmtId|fontId|fillId|borderId|xfId)="([^"]*)"',
                     re.search(r"<cellXfs\b.*?</cellXfs>", styles, re.DOTALL).group(0))
    assert ids and all(i.isascii() and i.isdigit() for i in ids), ids
    return openpyxl.load_workbook(out)


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_an_unreadable_cell_format_of_a_cell_is_no_format(tmp_path, bad):
    wb = _upgraded(tmp_path, {OWN_PART: _replace(('r="B4" s="16"', f'r="B4" s="{bad}"'))})
    own = wb[OWN]
    assert own["B4"].value == 1.5 and own["B4"].number_format == "General"
    assert own["B4"].fill.fill_type is None
    assert own["A1"].font.b  # the other cells keep theirs


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_an_unreadable_cell_format_of_a_row_or_column_is_no_format(tmp_path, bad):
    wb = _upgraded(tmp_path, {OWN_PART: _replace(
        ('<row r="4" spans="1:2">', f'<row r="4" spans="1:2" s="{bad}" customFormat="1">'),
        ('customWidth="1"/>', f'customWidth="1" style="{bad}"/>'))})
    own = wb[OWN]
    assert own.row_dimensions[4].number_format == "General" and own.row_dimensions[4].fill.fill_type is None
    assert own.column_dimensions["A"].number_format == "General"
    assert own.column_dimensions["A"].fill.fill_type is None
    assert own["B4"].value == 1.5 and own["B4"].number_format == MNKR  # the cell's own format stays


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("attr", ["fontId", "fillId", "borderId", "numFmtId"])
def test_an_unreadable_id_in_a_cell_format_is_the_default(tmp_path, attr, bad):
    xf = '<xf numFmtId="166" fontId="0" fillId="5" borderId="0"'
    wb = _upgraded(tmp_path, {"xl/styles.xml": _replace((xf, re.sub(rf'{attr}="\d+"', f'{attr}="{bad}"', xf)))})
    b4 = wb[OWN]["B4"]
    # the unreadable id is record 0 (Calibri 11, no fill, no border, General); the others are kept
    assert (b4.font.name, b4.font.sz) == ("Calibri", 11)
    assert b4.border.left.style is None and b4.border.bottom.style is None
    assert b4.number_format == ("General" if attr == "numFmtId" else MNKR)
    assert b4.fill.fill_type == (None if attr == "fillId" else "solid")
    if attr != "fillId":
        assert b4.fill.fgColor.rgb == GREEN


# (an index past the table is refused before the copy: the reader cannot read such a workbook)
@pytest.mark.parametrize("v", ["<v>abc</v>", "<v>²</v>", "<v>1.5</v>", "<v></v>", "", "<v>-1</v>"],
                         ids=["abc", "superscript", "1.5", "empty", "no-v", "-1"])  # "empty", "-1": as before
def test_an_unreadable_shared_string_index_is_an_empty_text(tmp_path, v):
    wb = _upgraded(tmp_path, {OWN_PART: _replace(('<c r="A4" t="s"><v>129</v></c>', f'<c r="A4" t="s">{v}</c>'))})
    own = wb[OWN]
    assert own["A4"].value in (None, "")
    assert own["A3"].value == "Prognos kostnader enligt Resultaträkning"  # the other strings are kept
    assert own["B4"].value == 1.5 and own["B4"].number_format == MNKR


def test_legacy_own_sheet_is_as_the_tests_assume():
    """The cases above rewrite these exact strings: fail loudly if the fixture changes."""
    data = parts(LEGACY)
    sheet, styles = data[OWN_PART].decode(), data["xl/styles.xml"].decode()
    assert 'r="B4" s="16"' in sheet and '<c r="A4" t="s"><v>129</v></c>' in sheet
    assert '<xf numFmtId="166" fontId="0" fillId="5" borderId="0"' in styles


def test_copy_is_unchanged_for_a_readable_workbook(tmp_path):
    """The control: the same checks pass on the untouched 0.9 workbook."""
    own = _upgraded(tmp_path, {})[OWN]
    assert own["B4"].number_format == MNKR and own["B4"].fill.fgColor.rgb == GREEN
    assert own["A4"].value == "Reserv för oförutsett"


# --- the copy of a sheet's bytes against the copy of its tree ------------------------------
#
# A sheet in the plain form (every sheet of the corpus, and of every workbook Excel writes) is
# copied by one substitution over its bytes; any other through its lxml tree. Both must give
# the same XML: each sheet of real workbooks copied both ways, compared canonicalised.

TEMPLATE = REPO / "workbooks" / "mall.xlsx"


def _copies(src: Path, remap=None) -> list[tuple[str, bytes, bytes]]:
    """(part, bytes copy, tree copy) of every worksheet of ``src``, into the template's styles."""
    from lxml import etree

    from xlreport.ooxml import sheetcopy
    from xlreport.ooxml.package import open_package, parse_xml

    out = []
    with open_package(src) as pkg:
        strings = sheetcopy.shared_strings(pkg)
        src_styles = parse_xml(pkg.read("xl/styles.xml")).getroot()
        dest = parts(TEMPLATE)["xl/styles.xml"]
        xfs = len(src_styles.find(sheetcopy.q("cellXfs")))

        def merger():  # every format merged up front: the copies number the formats they meet alike
            m = sheetcopy.StyleMerger(src_styles, parse_xml(dest))
            for i in range(xfs):
                m.xf(i)
            return m

        for info in pkg.sheets():
            if info.kind != "worksheet":
                continue
            data = pkg.read(info.part)
            assert sheetcopy.plain_form(data), info.part
            by_bytes = sheetcopy._sheet_data(data, merger(), strings, remap, info.part)
            original = sheetcopy.plain_form
            sheetcopy.plain_form = lambda _data: False  # the tree's copy, for the same part
            try:
                by_tree = sheetcopy._sheet_data(data, merger(), strings, remap, info.part)
            finally:
                sheetcopy.plain_form = original
            out.append((info.part, *(etree.tostring(etree.fromstring(x), method="c14n") for x in (by_bytes, by_tree))))
    return out


def _ledger(path: Path) -> Path:
    """A sheet of every kind of cell the copy changes: shared and rich strings (with phonetic runs),
    formats on cells, rows and columns, formulas, a selected tab."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Huvudbok")
    money, bold, red = (wb.add_format(f) for f in ({"num_format": "#,##0.00"}, {"bold": True}, {"font_color": "red"}))
    ws.set_column(0, 0, 12, bold)
    ws.set_row(3, None, money)
    ws.activate()
    for r in range(1, 60):
        ws.write_string(r, 0, f"Faktura {r % 7} & <moms>")
        ws.write_number(r, 1, r * 1.25, money)
        ws.write_formula(r, 2, f"=B{r + 1}*2&\"<\"", None, "x")
        ws.write_rich_string(r, 3, "Kon", red, "to ", bold, str(r % 3))
        ws.write_string(r, 4, "  med mellanslag  ")
    wb.add_worksheet("Tom")
    wb.close()
    return path


def test_the_bytes_copy_is_the_tree_copy_on_the_legacy_workbook():
    copies = _copies(LEGACY)
    assert len(copies) == 10
    for part, by_bytes, by_tree in copies:
        assert by_bytes == by_tree, part


def test_the_bytes_copy_is_the_tree_copy_with_formulas_rewritten(tmp_path):
    def remap(formula: str) -> str:  # characters XML escapes, and one it must not lose (a CR)
        return formula.replace("B", "Blad & <B>\r") if "B" in formula else formula

    copies = _copies(_ledger(tmp_path / "huvudbok.xlsx"), remap)
    assert len(copies) == 2
    for part, by_bytes, by_tree in copies:
        assert by_bytes == by_tree, part
    assert b"Blad &amp; &lt;B&gt;&#xD;" in copies[0][1] and b' t="inlineStr"' in copies[0][1]


@pytest.mark.fixture_workbooks("path", suffixes=(".xlsx", ".xlsm"))
def test_the_bytes_copy_is_the_tree_copy_on_the_corpus(path):
    for part, by_bytes, by_tree in _copies(path, str.lower):
        assert by_bytes == by_tree, part


def test_a_sheet_not_in_the_plain_form_is_copied_through_its_tree(tmp_path):
    """A comment in the sheet: the byte copy is not used, and the copy is still made."""
    src = edit_package(tmp_path / "gammal.xlsx", {OWN_PART: _replace(("<sheetData>", "<!-- egen --><sheetData>"))},
                       src=LEGACY)
    from xlreport.ooxml import sheetcopy

    assert not sheetcopy.plain_form(parts(src)[OWN_PART])
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)
    assert run.returncode == 0, run.output
    rows = pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name(OWN).to_python()
    assert rows[0][0] == "Egna noteringar" and rows[3] == ["Reserv för oförutsett", 1.5]


def test_shared_strings_from_bytes_are_those_of_the_tree(tmp_path):
    from lxml import etree

    from xlreport.ooxml import sheetcopy

    data = parts(_ledger(tmp_path / "huvudbok.xlsx"))["xl/sharedStrings.xml"]
    # a phonetic run and its properties, as Excel writes them for Japanese text: not in an inline string
    data = data.replace(b"&gt;</t></si>", b'&gt;</t><rPh sb="0" eb="1"><t>fa</t></rPh><phoneticPr fontId="1"/></si>', 1)
    by_bytes = sheetcopy.InlineStrings(data)
    by_tree = sheetcopy.InlineStrings(data.replace(b"<sst ", b"<!-- --><sst ", 1))  # not plain: the tree's way
    assert sheetcopy.plain_form(data) and len(by_bytes) == len(by_tree) > 8
    assert b"<rPh" in data and b"<r>" in data

    def canonical(content: bytes) -> bytes:
        return etree.tostring(etree.fromstring(b'<is xmlns="' + sheetcopy.NS_MAIN.encode() + b'">' + content
                                               + b"</is>"), method="c14n")

    for i in range(len(by_bytes)):
        assert canonical(by_bytes.content(str(i))) == canonical(by_tree.content(str(i))), i
    assert b"rPh" not in b"".join(by_bytes.content(str(i)) for i in range(len(by_bytes)))
    assert by_bytes.content("x") == by_bytes.content(str(len(by_bytes))) == b""


def test_an_attribute_is_not_looked_for_inside_another_attributes_value(tmp_path):
    """A quoted value that holds ' s="3"' is not the cell's format: both copies read the tag alike."""
    src = edit_package(tmp_path / "gammal.xlsx", {OWN_PART: _replace(('r="B4" s="16"', 'r="B4" vm=\'1 s="3"\' s="16"'))},
                       src=LEGACY)
    copies = {part: (a, b) for part, a, b in _copies(src)}
    by_bytes, by_tree = copies[OWN_PART]
    assert by_bytes == by_tree and b'vm="1 s=&quot;3&quot;"' in by_bytes
