"""Numbers in a workbook's parts that no reader can use, through the commands that read them.

Real files and the real CLI: the template, the 0.9 workbook (tests/data) or the worked example
with one number rewritten: a sheet's sheetId in xl/workbook.xml, a comment's authorId, or a row's
and its cells' numbers left out (the schema allows that: each follows the one before). The command
must finish as Excel's readers read the file, leave the input as it was, and write a workbook
that opens. (validate and refresh on such files are cases of the bad-input corpus, test_hostile.py.)
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc
from lxml import etree

from support import REPO
from support.cli import Run, xlreport
from support.fill import fill_unit
from support.hostile import sheet_id_edit
from support.workbooks import NS_MAIN, TEMPLATE, edit_package, parts, sha
from xlreport.core import layout as L
from xlreport.core.errors import NotAWorkbook
from xlreport.departments import new_many

LEGACY = REPO / "tests" / "data" / "exempel_mallversion_0_9.xlsx"
OWN = "Egna noteringar"  # the 0.9 workbook's own sheet, which upgrade adds to the new workbook
STAMP = {"kommun": "Eskilstuna kommun", "namnd": "Kommunstyrelsen", "rapport": "Delårsrapport 1"}

#: numbers no reader can use: int() refuses all but "-1", which Python reads as an index from the end
BAD = ["x", "²", "-1", "1.5", ""]
#: for a sheetId "-1" is no matter: it was read as a number and matched nothing
BAD_IDS = [b for b in BAD if b != "-1"]


def _ran(run: Run, code: int = 0) -> None:
    assert run.returncode == code, run.output
    assert "oväntat fel" not in run.output and "programfel" not in run.output, run.output


def _sheet_ids(path: Path) -> dict[str, str]:
    return dict(re.findall(r'<sheet name="([^"]*)" sheetId="([^"]*)"', parts(path)["xl/workbook.xml"].decode()))


def _rows(path: Path, sheet: str) -> list[list]:
    return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


# --- sheetId ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_upgrade_reads_a_workbook_whose_sheet_id_is_not_a_number(tmp_path, bad):
    """The old workbook's own sheet has no readable id: it is carried over with a new one."""
    src = edit_package(tmp_path / "gammal.xlsx", {"xl/workbook.xml": sheet_id_edit(OWN, bad)}, src=LEGACY)
    before = sha(src)
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)  # fails on a traceback
    _ran(run)
    assert f"egna blad: {OWN}" in run.stdout and sha(src) == before
    ids = _sheet_ids(out)
    assert ids[OWN] == "10" and len(set(ids.values())) == len(ids)  # after the template's 1-9
    assert _rows(out, OWN)[0][0] == OWN


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_a_new_sheet_gets_an_id_above_every_readable_one(tmp_path, bad):
    """A template whose Kontroller has no readable id, and an id 12 on Åtaganden: the sheet upgrade
    adds is 13, and the unreadable id is left as it was written."""
    template = edit_package(tmp_path / "mall.xlsx", {"xl/workbook.xml": lambda x: sheet_id_edit("Åtaganden", "12")(
        sheet_id_edit("Kontroller", bad)(x))}, src=TEMPLATE)
    before = sha(template)
    out = tmp_path / "ny.xlsx"
    _ran(xlreport("upgrade", LEGACY, "--template", template, "-o", out))
    assert sha(template) == before
    ids = _sheet_ids(out)
    assert (ids[OWN], ids["Åtaganden"], ids["Kontroller"]) == ("13", "12", bad)
    assert _rows(out, OWN)[0][0] == OWN


def test_a_new_sheet_after_the_largest_id_gets_the_smallest_free_one(tmp_path):
    """sheetId is unsigned 32-bit: above 4294967295 there is none, so the new sheet takes the
    smallest id no sheet has (the template has 1-9; Åtaganden gets the largest, so 7 is free)."""
    template = edit_package(tmp_path / "mall.xlsx", {"xl/workbook.xml": sheet_id_edit("Åtaganden", "4294967295")},
                            src=TEMPLATE)
    out = tmp_path / "ny.xlsx"
    _ran(xlreport("upgrade", LEGACY, "--template", template, "-o", out))
    ids = _sheet_ids(out)
    assert (ids[OWN], ids["Åtaganden"]) == ("7", "4294967295")
    assert len(set(ids.values())) == len(ids)


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_new_from_a_template_whose_sheet_id_is_not_a_number(tmp_path, bad):
    template = edit_package(tmp_path / "mall.xlsx", {"xl/workbook.xml": sheet_id_edit("Uppgifter", bad)}, src=TEMPLATE)
    before = sha(template)
    out = tmp_path / "enhet.xlsx"
    _ran(xlreport("new", "--template", template, "--unit", "KLK HR", "--period", "2020-03", "-o", out))
    assert sha(template) == before
    assert ["Enhet", "KLK HR"] in [row[:2] for row in _rows(out, L.SHEET_META)]
    assert _sheet_ids(out)["Uppgifter"] == bad


# --- comments -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_comment_whose_author_is_no_author_has_none(tmp_path, bad):
    """Resultaträkning!G6's note (xl/comments1.xml) with an authorId that names no author: upgrade
    moves it without one, as Excel shows it; "-1" is not the last author."""
    def author(data: bytes) -> bytes:
        assert data.count(b'<comment ref="G6" authorId="0">') == 1
        return data.replace(b'<comment ref="G6" authorId="0">', f'<comment ref="G6" authorId="{bad}">'.encode())

    src = edit_package(tmp_path / "gammal.xlsx", {"xl/comments1.xml": author}, src=LEGACY)
    before = sha(src)
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)
    _ran(run)
    assert "kommentarer: 2" in run.stdout and sha(src) == before
    wb = openpyxl.load_workbook(out)
    assert wb["Resultaträkning"]["G6"].comment.text == "Inkl. bredbandsutbyggnaden (+1,0 mnkr)."
    assert wb["Driftredovisning"]["F6"].comment.author == "KLK"  # the other notes keep theirs
    # the note's author is empty (openpyxl reads an empty <author> as the text "None")
    comments = next(etree.fromstring(data) for name, data in parts(out).items()
                    if name.startswith("xl/comments") and b"bredbandsutbyggnaden" in data)
    note = comments.find(f"{{{NS_MAIN}}}commentList/{{{NS_MAIN}}}comment")
    authors = [a.text for a in comments.iter(f"{{{NS_MAIN}}}author")]
    assert note.get("ref") == "G6" and authors[int(note.get("authorId"))] in (None, "")


# --- rows and cells without a number ------------------------------------------------------


def _unnumbered(data: bytes) -> bytes:
    """Driftredovisning of the template (sheet3.xml) with its unit rows and Summa row (5-13), and
    their cells, written without r: each follows the one before."""
    def row(m: re.Match[bytes]) -> bytes:
        return re.sub(rb' r="[A-Z]+\d+"', b"", m.group(0).replace(m.group(1), b"", 1))

    new, n = re.subn(rb'<row( r="(?:[5-9]|1[0-3])")[^>]*>.*?</row>', row, data, flags=re.DOTALL)
    assert n == 9 and b'r="A13"' not in new
    return new


def test_consolidate_inserts_rows_into_rows_without_numbers(tmp_path):
    """Ten units listed, eight rows in the table: two rows go in above Summa, whose position is
    implied (the row after the one before), and the sums follow."""
    names = [f"Enhet {i}" for i in range(10)]
    folder = tmp_path / "enheter"
    for m in new_many(names[:2], "2020-03", TEMPLATE, folder, **STAMP):
        i = names.index(m.unit)
        fill_unit(m.path, {L.COL_AVV_FG: 0.5, L.COL_UTFALL: -10.0 - i, L.COL_BUDGET: -11.0 - i,
                           L.COL_BUDGET_HELAR: -44.0, L.COL_PROGNOS: -43.0})
    into = edit_package(tmp_path / "namnd_mall.xlsx", {"xl/worksheets/sheet3.xml": _unnumbered}, src=TEMPLATE)
    before = sha(into)
    listing = tmp_path / "lista.txt"
    listing.write_text("\n".join(names), encoding="utf-8")
    out = tmp_path / "namnd.xlsx"
    _ran(xlreport("consolidate", folder, "--into", into, "-o", out, "--units", listing))
    assert sha(into) == before
    rows = _rows(out, L.SHEET_UNITS)
    assert [row[0] for row in rows[4:14]] == names
    assert rows[14][:4] == ["Summa Kommunstyrelsen", 1.0, -21.0, -23.0]
    ws = openpyxl.load_workbook(out)[L.SHEET_UNITS]
    assert ws["B15"].value == "=SUM(B5:B14)" and ws["C15"].value == "=SUM(C5:C14)"
    assert ws["B14"].style_id == ws["B5"].style_id  # an inserted row is formatted like a unit row


@pytest.mark.parametrize(("old", "new", "said"), [
    (b'<row r="12" ', '<row r="²" '.encode(), "en rad har radnumret '²'"),
    (b'<c r="A13" ', b'<c r="x" ', "en cell har adressen 'x'"),
], ids=["row", "cell"])
def test_inserting_rows_refuses_a_number_that_does_not_read(tmp_path, old, new, said):
    """The readers refuse such a sheet before rows are inserted (scan.py, calamine); were it to get
    there, the insert refuses it too, in Swedish, and writes nothing."""
    from xlreport.ooxml.rows import copy_with_rows_inserted

    src = edit_package(tmp_path / "mall.xlsx", {"xl/worksheets/sheet3.xml": lambda x: x.replace(old, new, 1)},
                       src=TEMPLATE)
    dest = tmp_path / "ut.xlsx"
    with pytest.raises(NotAWorkbook, match=f"Bladet '{L.SHEET_UNITS}' är skadat: {said}") as exc:
        copy_with_rows_inserted(src, dest, [(L.SHEET_UNITS, 11, 2, 11)])
    assert exc.value.file == str(src) and exc.value.sheet == L.SHEET_UNITS
    assert "xl/worksheets/sheet3.xml" in exc.value.message
    assert not dest.exists()


@pytest.mark.parametrize("ref", ['ref="x"', 'ref=""', 'ref="G²"', ""], ids=["x", "empty", "superscript", "none"])
def test_a_comment_whose_cell_is_no_cell_is_left_with_a_note(tmp_path, ref):
    """A comment on Resultaträkning (G6 in the 0.9 workbook) whose ref is no cell: upgrade says so
    and carries the rest; the other sheet's comment still moves."""
    src = edit_package(tmp_path / "gammal.xlsx", {"xl/comments1.xml": lambda x: x.replace(b'ref="G6"', ref.encode())},
                       src=LEGACY)
    before = sha(src)
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)
    _ran(run)
    assert sha(src) == before
    assert "en kommentar på bladet Resultaträkning har adressen" in run.stdout and "den följde inte med" in run.stdout
    wb = openpyxl.load_workbook(out)
    assert not any(c.comment for row in wb[L.SHEET_INCOME].iter_rows() for c in row)
    assert any(c.comment for row in wb[L.SHEET_UNITS].iter_rows() for c in row)


UNITS_PART = "xl/worksheets/sheet3.xml"  # the 0.9 workbook's Driftredovisning
C6 = '<c r="C6" s="7"><v>-20.13</v></c>'  # Budget ack of its first unit


@pytest.mark.parametrize("where", ["with-r", "row-without-r", "cell-without-r"])
def test_upgrade_says_which_input_cell_held_a_formula(tmp_path, where):
    """An input cell the user filled with a formula is moved as its value, with a note; also when
    the cell or its row has no r (it follows the one before, as calamine reads it)."""
    formula = '<c r="C6" s="7"><f>-20-0.13</f><v>-20.13</v></c>'
    edits = [(C6, formula)]
    if where == "cell-without-r":
        edits = [(C6, formula.replace(' r="C6"', ""))]
    elif where == "row-without-r":
        edits = [(C6, formula), ('<row r="6" spans="1:8">', '<row spans="1:8">')]

    def edit(data: bytes) -> bytes:
        for old, new in edits:
            assert data.count(old.encode()) == 1, old
            data = data.replace(old.encode(), new.encode())
        return data

    src = edit_package(tmp_path / "gammal.xlsx", {UNITS_PART: edit}, src=LEGACY)
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)
    _ran(run)
    assert "Driftredovisning!C6 hade formeln =-20-0.13; flyttad som värdet -20.13" in run.stdout, run.stdout
    moved = [r for r in _rows(out, L.SHEET_UNITS) if -20.13 in r]
    assert len(moved) == 1  # the value, once, in the new template's Budget ack column


def test_upgrade_copies_an_own_sheet_whose_relationship_points_nowhere(tmp_path):
    """A relationship of the user's own sheet without a Target: nothing to copy for it, the rest is."""
    rels = "xl/worksheets/_rels/sheet10.xml.rels"
    src = edit_package(tmp_path / "gammal.xlsx", {rels: lambda x: re.sub(rb' Target="[^"]*comments[^"]*"', b"", x, count=1)},
                       src=LEGACY)
    assert b"comments3.xml" not in parts(src)[rels]
    out = tmp_path / "ny.xlsx"
    run = xlreport("upgrade", src, "-o", out)
    _ran(run)
    assert f"egna blad: {OWN}" in run.stdout
    assert f"bladet {OWN}: en relation utan mål (comments) följde inte med" in run.stdout
    assert _rows(out, OWN)[3] == ["Reserv för oförutsett", 1.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl warns of a relationship without a target
        openpyxl.load_workbook(out)
