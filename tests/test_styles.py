"""ensure_styles: one xf per named style, found before appended, idempotent on its own output."""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree

from xlreport.core.changes import NUMBER_FORMATS, STYLES
from xlreport.ooxml.styles import ensure_styles

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
SECTIONS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs")


def styles_of(path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/styles.xml")


def xf_parts(root, xf_id):
    xf = root.findall("m:cellXfs/m:xf", NS)[xf_id]
    font = root.findall("m:fonts/m:font", NS)[int(xf.get("fontId"))]
    border = root.findall("m:borders/m:border", NS)[int(xf.get("borderId"))]
    fmt_id = xf.get("numFmtId")
    codes = {n.get("numFmtId"): n.get("formatCode") for n in root.iterfind("m:numFmts/m:numFmt", NS)}
    return xf, font, border, codes.get(fmt_id, fmt_id)


@pytest.mark.fixture_workbooks("path")
def test_ensure_styles_on_every_fixture(path):
    original = styles_of(path)
    new, ids = ensure_styles(original)
    assert new is not None and set(ids) == set(STYLES)
    again, ids_again = ensure_styles(new)
    assert again is None and ids_again == ids  # idempotent

    before, after = etree.fromstring(original), etree.fromstring(new)
    for name in SECTIONS:  # existing records untouched, counts right
        old_sec, new_sec = before.find(f"m:{name}", NS), after.find(f"m:{name}", NS)
        if new_sec is None:
            continue
        if new_sec.get("count") is not None:
            assert int(new_sec.get("count")) == len(new_sec), name
        if old_sec is not None:
            assert [etree.tostring(e) for e in old_sec] == [etree.tostring(e) for e in new_sec][:len(old_sec)]
    assert new.split(b"?>", 1)[0] == original.split(b"?>", 1)[0]


def test_style_contents(fixtures_dir):
    new, ids = ensure_styles(styles_of(fixtures_dir / "finance.xlsx"))
    root = etree.fromstring(new)
    for name in ("title", "heading", "header", "mnkr_bold", "integer_bold"):
        _, font, _, _ = xf_parts(root, ids[name])
        assert font.find("m:b", NS) is not None, name
    for name, code in NUMBER_FORMATS.items():
        xf, _, _, fmt = xf_parts(root, ids[name])
        assert fmt == code and xf.get("applyNumberFormat") == "1"
    _, font, _, _ = xf_parts(root, ids["title"])
    assert float(font.find("m:sz", NS).get("val")) > 11
    _, _, border, _ = xf_parts(root, ids["header"])
    assert border.find("m:bottom", NS).get("style") == "thin"
    _, font, _, _ = xf_parts(root, ids["link"])
    assert font.find("m:u", NS) is not None and font.find("m:color", NS).get("rgb") == "FF0563C1"
    _, font, _, _ = xf_parts(root, ids["error"])
    assert font.find("m:color", NS).get("rgb") == "FFC00000"
    _, font, _, _ = xf_parts(root, ids["warning"])
    assert font.find("m:color", NS).get("rgb") == "FFC65911"
    xf, _, _, _ = xf_parts(root, ids["wrap"])
    assert xf.find("m:alignment", NS).get("wrapText") == "1"
    assert ids["text"] == 0  # the workbook's own default xf is reused
    assert ids["mnkr"] != ids["mnkr_bold"] and ids["integer"] != ids["percent"]
    _, font, _, _ = xf_parts(root, ids["mnkr_bold"])
    assert font.find("m:name", NS).get("val") == "Calibri"  # derived from the default font


def test_numfmt_ids_are_new_and_custom(fixtures_dir):
    new, _ = ensure_styles(styles_of(fixtures_dir / "finance_lo_pivot.xlsx"))
    ids = [int(n.get("numFmtId")) for n in etree.fromstring(new).iterfind("m:numFmts/m:numFmt", NS)]
    assert len(ids) == len(set(ids)) and min(ids) >= 164


def test_minimal_stylesheet_gets_sections_in_order():
    xml = b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    new, ids = ensure_styles(xml)
    root = etree.fromstring(new)
    order = [e.tag.split("}")[1] for e in root]
    assert order == ["numFmts", "fonts", "borders", "cellXfs"]
    assert ensure_styles(new) == (None, ids)


def test_a_number_format_whose_id_is_not_a_number_is_kept_and_not_reused():
    """numFmtId="²" (a digit to str.isdigit, not to int): kept as it is, counted, never matched."""
    xml = ('<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="2"><numFmt numFmtId="²" formatCode="0.0"/><numFmt numFmtId="170" formatCode="x"/>'
           '</numFmts></styleSheet>').encode()
    new, _ids = ensure_styles(xml)
    section = etree.fromstring(new).find("m:numFmts", NS)
    fmts = section.findall("m:numFmt", NS)
    assert int(section.get("count")) == len(fmts) and fmts[0].get("numFmtId") == "²"
    assert all(int(n.get("numFmtId")) > 170 for n in fmts[2:])


def test_a_styles_part_seen_before_gets_the_same_result_again(fixtures_dir):
    """ensure_styles keeps what it made of a styles.xml: the same bytes and ids as working it
    out anew, and ids the caller may change without changing the next answer."""
    from xlreport.ooxml import styles

    original = styles_of(fixtures_dir / "finance.xlsx")
    first = ensure_styles(original)
    first[1]["title"] = -1
    second = ensure_styles(bytes(original))  # equal bytes, another object
    assert second == styles._ensure_styles(original) and second[1]["title"] != -1
    for i in range(styles._ENSURED_MAX + 1):  # a bounded number of results is kept
        ensure_styles(original.replace(b"<fonts", b"<fonts ", 1) + b" " * i)
    assert len(styles._ENSURED) == styles._ENSURED_MAX and original not in styles._ENSURED
    assert ensure_styles(original) == second
