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
