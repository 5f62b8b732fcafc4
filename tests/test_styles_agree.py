"""Both doors render the one style specification (core.styles): read each rendering back."""

from __future__ import annotations

import pytest
from lxml import etree

from xlreport.core.styles import SPECS
from xlreport.doors import excel
from xlreport.ooxml.styles import ensure_styles

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
MINIMAL = (b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts></styleSheet>')


def file_door_rendering() -> dict[str, dict[str, object]]:
    """Each style as the file door wrote it into styles.xml, in the specification's terms."""
    xml, ids = ensure_styles(MINIMAL)
    root = etree.fromstring(xml)
    codes = {n.get("numFmtId"): n.get("formatCode") for n in root.iterfind("m:numFmts/m:numFmt", NS)}
    out = {}
    for name, xf_id in ids.items():
        xf = root.findall("m:cellXfs/m:xf", NS)[xf_id]
        font = root.findall("m:fonts/m:font", NS)[int(xf.get("fontId"))]
        border = root.findall("m:borders/m:border", NS)[int(xf.get("borderId", "0"))] \
            if root.find("m:borders", NS) is not None else None
        got: dict[str, object] = {}
        if font.find("m:b", NS) is not None:
            got["bold"] = True
        if font.find("m:u", NS) is not None:
            got["underline"] = True
        if xf_id and font.find("m:sz", NS) is not None and float(font.find("m:sz", NS).get("val")) != 11:
            got["size"] = float(font.find("m:sz", NS).get("val"))
        if font.find("m:color", NS) is not None:
            got["color"] = font.find("m:color", NS).get("rgb")
        if xf.get("numFmtId", "0") != "0":
            got["number_format"] = codes[xf.get("numFmtId")]
        if border is not None and border.find("m:bottom", NS) is not None and border.find("m:bottom", NS).get("style"):
            got["bottom_border"] = True
        align = xf.find("m:alignment", NS)
        if align is not None and align.get("wrapText") == "1":
            got["wrap"] = True
        out[name] = got
    return out


def excel_door_rendering() -> dict[str, dict[str, object]]:
    """Each style as the Excel door sets it on ranges, in the specification's terms."""
    back = {"number_format": "number_format", "bold": "bold", "size": "size", "bottom_border": "bottom_border",
            "wrap": "wrap"}
    out = {}
    for name, attrs in excel.STYLE_ATTRIBUTES.items():
        got = {back[k]: v for k, v in attrs.items() if k in back}
        if "font_color" in attrs:
            got["color"] = "FF" + attrs["font_color"].lstrip("#").upper()
        out[name] = got
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_file_door_renders_the_specification(name):
    assert file_door_rendering()[name] == SPECS[name].attributes()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_excel_door_renders_the_specification(name):
    wanted = {k: v for k, v in SPECS[name].attributes().items() if k not in excel.EXCEL_UNRENDERED}
    assert excel_door_rendering()[name] == wanted


def test_the_doors_agree_but_for_what_excel_cannot_set():
    files, excels = file_door_rendering(), excel_door_rendering()
    for name in SPECS:
        differ = set(files[name].items()) ^ set(excels[name].items())
        assert {k for k, _ in differ} <= excel.EXCEL_UNRENDERED, name
