"""The repository's workbooks, variants of them the way a user breaks them, and their parts.

Variants are written with the project's own lossless writer (typing a value into a cell), or
by renaming a sheet in the package: never through openpyxl, which would empty every formula's
cached value and so break the workbook in ways no user does.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree
from python_calamine import CalamineWorkbook

from support import REPO
from xlreport.core.cells import parse_a1
from xlreport.core.changes import CellWrite, ChangeSet
from xlreport.ooxml.apply import apply_changes

WORKBOOKS = REPO / "workbooks"
EXAMPLE = WORKBOOKS / "exempel_kommunstyrelsen_2020_d1.xlsx"
TEMPLATE = WORKBOOKS / "mall.xlsx"

Edit = Callable[[bytes], bytes]  # a part's new bytes from its bytes
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --- variants -----------------------------------------------------------------------------


def variant(dest: Path, cells: dict[str, Any] | None = None, src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` with ``cells`` typed in: {"Sheet!A1": value}; None empties the cell."""
    shutil.copyfile(src, dest)
    if cells:
        writes = []
        for ref, value in cells.items():
            sheet, addr = ref.rsplit("!", 1)
            row, col = parse_a1(addr)
            writes.append(CellWrite(sheet, row, col, value))
        apply_changes(dest, ChangeSet(writes=writes), out=dest)
    return dest


def edit_package(dest: Path, edits: dict[str, Edit] | None = None, add: dict[str, bytes] | None = None,
                 remove: set[str] = frozenset(), src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` with parts changed by ``edits`` (part -> function of its bytes), added, removed.

    Every other entry is copied as it was (its bytes and its zip entry's details).
    """
    edits, add = edits or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in remove:
                continue
            data = zin.read(info)
            if info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dest


def rename_sheet(dest: Path, old: str, new: str, src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` whose sheet ``old`` is called ``new`` (workbook.xml edited in place)."""
    def workbook(data: bytes) -> bytes:
        text, n = re.subn(f'name="{re.escape(old)}"', f'name="{new}"', data.decode("utf-8"))
        assert n == 1, f"sheet {old} not found"
        return text.encode("utf-8")

    return edit_package(dest, {"xl/workbook.xml": workbook}, src=src)


_WORKBOOK_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_MACRO_WORKBOOK_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def as_xlsm(dest: Path, src: Path = EXAMPLE, vba: bytes | None = None) -> Path:
    """A copy of ``src`` whose workbook part is declared macro-enabled: an .xlsm as Excel saves one,
    with the VBA project ``vba`` in it when given."""
    def content_types(data: bytes) -> bytes:
        data = data.replace(_WORKBOOK_TYPE, _MACRO_WORKBOOK_TYPE)
        if vba is None:
            return data
        return data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.'
                                         b'vbaProject"/></Types>')

    def relationships(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.'
                                                 b'com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                                 b"</Relationships>")

    if vba is None:
        return edit_package(dest, {"[Content_Types].xml": content_types}, src=src)
    return edit_package(dest, {"[Content_Types].xml": content_types, "xl/_rels/workbook.xml.rels": relationships},
                        add={"xl/vbaProject.bin": vba}, src=src)


# --- reading them back --------------------------------------------------------------------


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def parts(path: Path) -> dict[str, bytes]:
    """Every part of the package, decompressed."""
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def verified_parts(path: Path) -> dict[str, bytes]:
    """Every part of the package, decompressed, after zipfile checked every entry's CRC."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: zf.read(n) for n in zf.namelist()}


def raw_compressed(path: Path, name: str) -> bytes:
    """The compressed bytes of one zip entry exactly as stored in the file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        n_len, x_len = struct.unpack("<2H", header[26:30])
        f.seek(info.header_offset + 30 + n_len + x_len)
        return f.read(info.compress_size)


def sheet_xml(path: Path, name: str) -> etree._Element:
    """The worksheet XML of sheet ``name``, found through workbook.xml and its relationships
    (read with zipfile alone, not with the package layer the tests check)."""
    with zipfile.ZipFile(path) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
        rid = next(s.get(f"{{{NS_R}}}id") for s in wb.iter(f"{{{NS_MAIN}}}sheet") if s.get("name") == name)
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        return etree.fromstring(z.read(target[1:] if target.startswith("/") else "xl/" + target))


def workbook_type(content_types: bytes) -> str:
    """The content type ``[Content_Types].xml`` declares for the workbook part."""
    root = etree.fromstring(content_types)
    return next(o.get("ContentType") for o in root if o.get("PartName") == "/xl/workbook.xml")


def sheet_rows(path: Path, sheet: str) -> list[list]:
    """The sheet's values in sheet coordinates (calamine starts at the first used cell)."""
    s = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)
    top, left = s.start or (0, 0)
    return [[] for _ in range(top)] + [[""] * left + line for line in s.to_python()]


def no_temp_files(folder: Path) -> bool:
    """No temporary file of a write (``.~xlreport-*``) is left in ``folder``."""
    return not list(Path(folder).glob(".~xlreport-*"))
