"""Copying a worksheet from one package into another, with what hangs off it.

``upgrade`` carries a user's own sheets from an old workbook into the new template: the sheet
part and its drawings, images and comments are copied under free names, cell formats are merged
into the destination's styles, and shared strings become inline strings.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable

from lxml import etree

from ..core.cells import parse_a1
from ..core.chars import ascii_digits
from .edit import PackageEdit
from .names import CONTENT_TYPES, REL_SHARED_STRINGS, REL_STYLES, q, rel_part
from .package import (
    Package,
    content_type_override,
    local,
    parse_xml,
    relative_target,
    rels_part,
    resolve_target,
    serialize_xml,
)
from .styles import StyleSheet
from .workbook import add_sheet


class StyleMerger:
    """Carries cell formats (xf records and what they use) from one styles.xml into another.

    The records are found or appended by :class:`xlreport.ooxml.styles.StyleSheet`, as the tool's
    own named styles are.
    """

    def __init__(self, src: etree._Element, dest_tree: etree._ElementTree):
        self.src = src
        self.dest_tree = dest_tree
        self.dest = dest_tree.getroot()
        self.styles = StyleSheet(self.dest)
        self.map: dict[int, int] = {}

    @property
    def changed(self) -> bool:
        return self.styles.changed

    def xf(self, s: int) -> int:
        if s in self.map:
            return self.map[s]
        xfs = self.src.find(q("cellXfs"))
        if xfs is None or s >= len(xfs):
            self.map[s] = 0
            return 0
        xf = copy.deepcopy(xfs[s])
        for attr in ("fontId", "fillId", "borderId", "numFmtId"):
            # an id no reader can use ("x", "²", "-1", "1.5") is the default record 0, as scan.cell_formats
            # reads such a numFmtId and styles.num_fmt skips such ids: not carried into the destination
            if not ascii_digits(xf.get(attr, "0")):
                xf.set(attr, "0")
        for attr, section in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
            src_sec = self.src.find(q(section))
            i = int(xf.get(attr, "0"))
            if src_sec is not None and i < len(src_sec):
                xf.set(attr, str(self.styles.find_or_append(section, copy.deepcopy(src_sec[i]))))
        fmt_id = int(xf.get("numFmtId", "0"))
        if fmt_id >= 164:
            code = next((f.get("formatCode") for f in self.src.iter(q("numFmt"))
                         if f.get("numFmtId") == str(fmt_id)), None)
            if code is not None:
                xf.set("numFmtId", str(self.styles.num_fmt(code)))
        xf.set("xfId", "0")
        self.map[s] = self.styles.find_or_append("cellXfs", xf)
        return self.map[s]


def _styles_part(rels: list[dict]) -> str | None:
    return rel_part(rels, REL_STYLES)


def shared_strings(src_pkg) -> list[etree._Element]:
    """The ``<si>`` items of a package's shared strings (empty without the part)."""
    part = rel_part(src_pkg.relationships(src_pkg.workbook_part), REL_SHARED_STRINGS)
    if part is None or not src_pkg.has(part):
        return []
    return list(src_pkg.xml(part).getroot().iterchildren(q("si")))


_SKIP_REL = ("/pivotTable", "/printerSettings")


def copy_sheet(edit: PackageEdit, src_pkg: Package, name: str, styles: StyleMerger, strings: list[etree._Element],
               remap: Callable[[str], str] | None = None) -> list[str]:
    """Copy the worksheet ``name`` of ``src_pkg`` (with its drawings, comments, images ...) into
    ``edit`` as a new last sheet. Cell formats are merged into the destination's styles,
    shared strings become inline strings, ``remap`` rewrites formulas. Returns notes for the user."""
    notes: list[str] = []
    info = src_pkg.sheet(name)
    if info is None or info.part is None or info.kind != "worksheet":
        return [f"bladet {name} är inget vanligt kalkylblad och kunde inte följa med"]
    renamed: dict[str, str] = {}

    def copy_part(part: str, sheet: bool = False) -> str:
        if part in renamed:
            return renamed[part]
        folder, base = posixpath.split(part)
        stem, ext = posixpath.splitext(base)
        stem = re.sub(r"\d+$", "", stem) or "part"
        new = edit.free_name(posixpath.join(folder, stem + "{n}" + ext))
        renamed[part] = new
        data = src_pkg.read(part)
        if part == info.part:
            data = _sheet_data(data, styles, strings, remap)
        edit.put(new, data)
        ct = _content_type(src_pkg, part)
        if sheet:
            pass  # add_sheet gives it its content type
        elif ct is not None:
            edit.add_override(new, ct)
        else:
            default = _default_type(src_pkg, ext.lstrip("."))
            if default:
                edit.ensure_default(ext.lstrip("."), default)
        if src_pkg.has(rels_part(part)):
            rroot = src_pkg.xml(rels_part(part)).getroot()
            for r in list(rroot):
                if r.get("TargetMode") == "External":
                    continue
                if any(r.get("Type", "").endswith(s) for s in _SKIP_REL):
                    notes.append(f"bladet {name}: en pivottabell eller skrivarinställning följde inte med")
                    rroot.remove(r)
                    continue
                target = resolve_target(part, r.get("Target"))
                if not src_pkg.has(target):
                    continue
                r.set("Target", relative_target(new, copy_part(target)))
            edit.put(rels_part(new), serialize_xml(etree.ElementTree(rroot)))
        return new

    new_part = copy_part(info.part, sheet=True)
    add_sheet(edit, name, new_part, edit.read(new_part), info.state)
    return notes


def _content_type(pkg, part: str) -> str | None:
    root = pkg.xml(CONTENT_TYPES).getroot()
    for o in root:
        if local(o) == "Override" and o.get("PartName") == content_type_override(part):
            return o.get("ContentType")
    return None


def _default_type(pkg, ext: str) -> str | None:
    for d in pkg.xml(CONTENT_TYPES).getroot():
        if local(d) == "Default" and (d.get("Extension") or "").lower() == ext.lower():
            return d.get("ContentType")
    return None


def _restyle(el: etree._Element, attr: str, styles: StyleMerger) -> None:
    """Point the cell format index ``attr`` of a cell, row or column at the merged format."""
    given = el.get(attr)
    if given is None:
        return
    if ascii_digits(given):
        el.set(attr, str(styles.xf(int(given))))
    else:  # an index no reader can use ("x", "²", "-1", ""): no format, as scan.py and calamine read it
        del el.attrib[attr]


def _sheet_data(data: bytes, styles: StyleMerger, strings: list[etree._Element],
                remap: Callable[[str], str] | None) -> bytes:
    tree = parse_xml(data, part="worksheet")
    root = tree.getroot()
    for c in root.iter(q("c")):
        _restyle(c, "s", styles)
        if c.get("t") == "s":
            v = c.find(q("v"))
            # an index that is no number ("abc", "²", "-1") finds no string, as one out of range: empty text
            i = int(v.text) if v is not None and v.text and ascii_digits(v.text) else -1
            if v is not None:
                c.remove(v)
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, q("is"))
            if 0 <= i < len(strings):
                for child in strings[i]:
                    if local(child) in ("t", "r"):
                        is_.append(copy.deepcopy(child))
        f = c.find(q("f"))
        if f is not None and f.text and remap is not None:
            f.text = remap(f.text)
    for row in root.iter(q("row")):
        _restyle(row, "s", styles)
    for col in root.iter(q("col")):
        _restyle(col, "style", styles)
    for sv in root.iter(q("sheetView")):
        sv.attrib.pop("tabSelected", None)
    return serialize_xml(tree, data)


def sheet_formulas(data: bytes) -> dict[tuple[int, int], str]:
    """{(row, col): formula text} of a worksheet part (shared-formula children included as '')."""
    out = {}
    root = parse_xml(data, part="worksheet").getroot()
    for c in root.iter(q("c")):
        f = c.find(q("f"))
        if f is not None:
            out[parse_a1(c.get("r"))] = f.text or ""
    return out


def merge_styles_part(edit: PackageEdit, src_pkg) -> StyleMerger:
    src_part = _styles_part(src_pkg.relationships(src_pkg.workbook_part))
    dest_part = _styles_part(edit.relationships(edit.workbook_part))
    src_root = src_pkg.xml(src_part).getroot() if src_part else etree.Element(q("styleSheet"))
    merger = StyleMerger(src_root, edit.xml(dest_part))
    merger.part = dest_part  # type: ignore[attr-defined]
    return merger


def finish_styles(edit: PackageEdit, merger: StyleMerger) -> None:
    if merger.changed:
        edit.put_xml(merger.part, merger.dest_tree)  # type: ignore[attr-defined]
