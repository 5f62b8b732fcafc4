"""Package-level edits the cell writer does not do: insert rows, re-create comments, copy sheets.

All edits are collected on a :class:`PackageEdit` and written with the lossless package writer
(:func:`xlreport.ooxml.package.write_package`): parts that do not change are copied raw.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from ..core.cells import col_index, col_letter
from ..ooxml.package import (
    CONTENT_TYPES,
    NS_CT,
    NS_MAIN,
    NS_PKG_RELS,
    NS_R,
    content_type_override,
    local,
    open_package,
    parse_xml,
    q,
    relative_target,
    rels_part,
    resolve_target,
    serialize_xml,
    write_package,
)
from ..ooxml.styles import StyleSheet
from .common import DepartmentError

REL_COMMENTS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# worksheet children that come after <legacyDrawing> in schema order
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                 "tableParts", "extLst")


# --- references in formulas ---------------------------------------------------------------

_STRING = re.compile(r'("(?:[^"]|"")*")')
_REF = re.compile(
    r"(?<![\w.$'\]])"
    r"(?P<pre>(?:'(?:[^']|'')+'|[A-Za-z_\u00C0-\uFFFF][\w.\u00C0-\uFFFF]*)!)?"
    r"(?P<c1>\$?)(?P<col1>[A-Za-z]{1,3})(?P<r1>\$?)(?P<row1>\d+)"
    r"(?::(?P<c2>\$?)(?P<col2>[A-Za-z]{1,3})(?P<r2>\$?)(?P<row2>\d+))?"
    r"(?![\w(!])")

CellMap = Callable[[str | None, int, int], tuple[int, int] | None]


def sheet_of(prefix: str | None) -> str | None:
    if not prefix:
        return None
    name = prefix[:-1]
    if name.startswith("'"):
        name = name[1:-1].replace("''", "'")
    return name


def rewrite_refs(formula: str, fn: CellMap) -> str:
    """Rewrite every A1 reference in ``formula``: ``fn(sheet or None, row, col)`` gives the new
    0-based (row, col) or None to keep it. Text in double quotes is left alone."""

    def one(m: re.Match) -> str:
        sheet = sheet_of(m.group("pre"))
        out = m.group("pre") or ""
        corners = [("c1", "col1", "r1", "row1")]
        if m.group("col2"):
            corners.append(("c2", "col2", "r2", "row2"))
        parts = []
        for cd, cl, rd, rw in corners:
            row, col = int(m.group(rw)) - 1, col_index(m.group(cl))
            new = fn(sheet, row, col)
            if new is not None:
                row, col = new
            parts.append(f"{m.group(cd)}{col_letter(col)}{m.group(rd)}{row + 1}")
        return out + ":".join(parts)

    pieces = _STRING.split(formula)
    return "".join(p if i % 2 else _REF.sub(one, p) for i, p in enumerate(pieces))


def _shift_range_list(sqref: str, fn: CellMap) -> str:
    return " ".join(rewrite_refs(part, fn) for part in sqref.split())


# --- the edit -----------------------------------------------------------------------------


class PackageEdit:
    """Parts to replace, add or remove in a copy of the package at ``path``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.pkg = open_package(self.path)
        self.replace: dict[str, bytes] = {}
        self.add: dict[str, bytes] = {}
        self.remove: set[str] = set()
        self._trees: dict[str, etree._ElementTree] = {}

    def close(self) -> None:
        self.pkg.close()

    def names(self) -> set[str]:
        return (set(self.pkg.names) | set(self.add)) - self.remove

    def read(self, part: str) -> bytes:
        if part in self.add:
            return self.add[part]
        if part in self.replace:
            return self.replace[part]
        return self.pkg.read(part)

    def has(self, part: str) -> bool:
        return part in self.names()

    def xml(self, part: str) -> etree._ElementTree:
        return parse_xml(self.read(part), part=part, file=self.path)

    def tree(self, part: str) -> etree._ElementTree:
        """The part as a tree to edit in place, then :meth:`touch` (the file door's edit protocol,
        so that its helpers, e.g. removing the calc chain, work on this edit too)."""
        if part not in self._trees:
            self._trees[part] = self.xml(part)
        return self._trees[part]

    def touch(self, part: str) -> None:
        self.put_xml(part, self._trees.pop(part))

    def put(self, part: str, data: bytes) -> None:
        self._trees.pop(part, None)
        if self.pkg.has(part) and part not in self.remove:
            self.replace[part] = data
        else:
            self.add[part] = data

    def put_xml(self, part: str, tree: etree._ElementTree) -> None:
        original = self.read(part) if self.has(part) else None
        self.put(part, serialize_xml(tree, original))

    def rels(self, part: str) -> etree._Element:
        rp = rels_part(part)
        if self.has(rp):
            return self.xml(rp).getroot()
        return etree.Element(f"{{{NS_PKG_RELS}}}Relationships", nsmap={None: NS_PKG_RELS})

    def put_rels(self, part: str, root: etree._Element) -> None:
        self.put_xml(rels_part(part), etree.ElementTree(root))

    def add_relationship(self, source: str, rel_type: str, target_part: str) -> str:
        root = self.rels(source)
        ids = {r.get("Id") for r in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        etree.SubElement(root, f"{{{NS_PKG_RELS}}}Relationship", Id=f"rId{n}", Type=rel_type,
                         Target=relative_target(source, target_part))
        self.put_rels(source, root)
        return f"rId{n}"

    def content_types(self) -> etree._ElementTree:
        return self.xml(CONTENT_TYPES)

    def add_override(self, part: str, content_type: str) -> None:
        tree = self.content_types()
        etree.SubElement(tree.getroot(), f"{{{NS_CT}}}Override", PartName=content_type_override(part),
                         ContentType=content_type)
        self.put_xml(CONTENT_TYPES, tree)

    def ensure_default(self, extension: str, content_type: str) -> None:
        tree = self.content_types()
        root = tree.getroot()
        if any(local(d) == "Default" and (d.get("Extension") or "").lower() == extension.lower() for d in root):
            return
        el = etree.Element(f"{{{NS_CT}}}Default", Extension=extension, ContentType=content_type)
        first_override = next((i for i, c in enumerate(root) if local(c) == "Override"), len(root))
        root.insert(first_override, el)
        self.put_xml(CONTENT_TYPES, tree)

    def free_name(self, template: str) -> str:
        """A part name like ``template`` (``xl/comments{n}.xml``) not yet in the package."""
        taken = {n.casefold() for n in self.names()}
        n = 1
        while template.format(n=n).casefold() in taken:
            n += 1
        return template.format(n=n)

    def sheet_part(self, name: str) -> str:
        wb = self.pkg.workbook_part
        rels = {r.get("Id"): r for r in self.rels(wb)}
        for el in self.xml(wb).getroot().iter(q("sheet")):
            if el.get("name") == name:
                rel = rels.get(el.get(f"{{{NS_R}}}id"))
                if rel is not None:
                    return resolve_target(wb, rel.get("Target"))
        raise DepartmentError(f"Bladet '{name}' finns inte.", file=self.path)

    def write(self, dest: Path) -> None:
        write_package(self.path, dest, {k: v for k, v in self.replace.items() if k not in self.remove},
                      self.add, self.remove)


# --- inserting rows -----------------------------------------------------------------------

_ANCHORED = ("drawing", "legacyDrawing", "tableParts")


def copy_with_rows_inserted(source: Path, dest: Path, inserts: list[tuple[str, int, int, int]]) -> None:
    """Write ``source`` to ``dest`` with rows inserted: ``(sheet, before, n, style_from)`` each,
    as :func:`insert_rows` takes them (at most one insert per sheet: later ones are not shifted)."""
    edit = PackageEdit(source)
    try:
        for sheet, before, n, style_from in inserts:
            insert_rows(edit, sheet, before, n, style_from)
        edit.write(dest)
    finally:
        edit.close()


def insert_rows(edit: PackageEdit, sheet: str, before: int, n: int, style_from: int) -> None:
    """Insert ``n`` rows above the 0-based row ``before`` of ``sheet``, formatted like ``style_from``.

    Cells, formulas (on every sheet, in defined names, conditional formats and data validations),
    merged ranges, conditional formats, data validations and hyperlinks at or below ``before``
    move down. Sheets with drawings,
    comments or tables are refused: their anchors would need moving too.
    """
    if n <= 0:
        return

    def shift(target_sheet: str | None, row: int, col: int, *, own: bool) -> tuple[int, int] | None:
        mine = target_sheet == sheet if target_sheet is not None else own
        return (row + n, col) if mine and row >= before else None

    part = edit.sheet_part(sheet)
    tree = edit.xml(part)
    root = tree.getroot()
    for tag in _ANCHORED:
        if root.find(q(tag)) is not None:
            raise DepartmentError(f"Bladet {sheet} har bilder, kommentarer eller tabellobjekt; xlreport kan inte "
                                  f"infoga rader där. Infoga {n} tomma rader ovanför Summa-raden i Excel och kör igen.",
                                  file=edit.path, sheet=sheet)
    ext = root.find(q("extLst"))
    if ext is not None and b"sqref" in etree.tostring(ext):
        raise DepartmentError(f"Bladet {sheet} har utökad villkorsstyrd formatering; infoga {n} tomma rader "
                              f"ovanför Summa-raden i Excel och kör igen.", file=edit.path, sheet=sheet)
    own = lambda s, r, c: shift(s, r, c, own=True)
    data = root.find(q("sheetData"))
    template_row = None
    first_after = None
    for row_el in data.iterchildren(q("row")):
        r = int(row_el.get("r")) - 1
        if r == style_from:
            template_row = row_el
        if r >= before:
            if first_after is None:
                first_after = row_el
            row_el.set("r", str(r + n + 1))
            for c in row_el.iterchildren(q("c")):
                ref = c.get("r")
                m = re.match(r"([A-Z]+)(\d+)", ref)
                c.set("r", f"{m.group(1)}{int(m.group(2)) + n}")
    for f in root.iter(q("f")):
        if f.text:
            f.text = rewrite_refs(f.text, own)
        if f.get("ref"):
            f.set("ref", rewrite_refs(f.get("ref"), own))
    new_rows = []
    for i in range(n):
        r = before + i
        if template_row is not None:
            el = etree.Element(q("row"), {k: v for k, v in template_row.attrib.items()})
            for c in template_row.iterchildren(q("c")):
                col = re.match(r"[A-Z]+", c.get("r")).group(0)
                attrs = {"r": f"{col}{r + 1}"}
                if c.get("s"):
                    attrs["s"] = c.get("s")
                etree.SubElement(el, q("c"), attrs)
        else:
            el = etree.Element(q("row"))
        el.set("r", str(r + 1))
        new_rows.append(el)
    if first_after is not None:
        idx = list(data).index(first_after)
        for i, el in enumerate(new_rows):
            data.insert(idx + i, el)
    else:
        data.extend(new_rows)
    for tag, attr in (("dimension", "ref"), ("mergeCell", "ref"), ("conditionalFormatting", "sqref"),
                      ("dataValidation", "sqref"), ("hyperlink", "ref"), ("selection", "sqref")):
        for el in root.iter(q(tag)):
            if el.get(attr):
                el.set(attr, _shift_range_list(el.get(attr), own))
    # the formulas of conditional formats and data validations move with the cells, as in Excel
    for tag in ("formula", "formula1", "formula2"):
        for el in root.iter(q(tag)):
            if el.text:
                el.text = rewrite_refs(el.text, own)
    edit.put_xml(part, tree)
    # other sheets and defined names that point into the shifted rows
    other = lambda s, r, c: shift(s, r, c, own=False)
    wb = edit.pkg.workbook_part
    rels = {r.get("Id"): resolve_target(wb, r.get("Target")) for r in edit.rels(wb)
            if r.get("Type", "").endswith("/worksheet")}
    for p in rels.values():
        if p == part or not edit.has(p):
            continue
        raw = edit.read(p)
        if b"<f" not in raw:
            continue
        t = parse_xml(raw, part=p)
        changed = False
        for f in t.getroot().iter(q("f")):
            if f.text:
                new = rewrite_refs(f.text, other)
                changed |= new != f.text
                f.text = new
        if changed:
            edit.put_xml(p, t)
    wbt = edit.xml(wb)
    changed = False
    for dn in wbt.getroot().iter(q("definedName")):
        if dn.text:
            new = rewrite_refs(dn.text, other)
            changed |= new != dn.text
            dn.text = new
    if changed:
        edit.put_xml(wb, wbt)
    _drop_calc_chain(edit)


def _drop_calc_chain(edit: PackageEdit) -> None:
    """Formulas moved: remove the calc chain (its part, relationship and content type), as the
    file door does when it empties one; Excel rebuilds it."""
    from ..ooxml.xlsx import _remove_calc_chain

    wb = edit.pkg.workbook_part
    for r in list(edit.rels(wb)):
        if r.get("Type", "").endswith("/calcChain"):
            _remove_calc_chain(edit, resolve_target(wb, r.get("Target")), r.get("Id"))


# --- comments -----------------------------------------------------------------------------


def read_comments(edit: PackageEdit, sheet_part: str) -> list[tuple[str, str, etree._Element]]:
    """(cell ref, author, <text> element) for every comment (note) on a sheet."""
    out = []
    for r in edit.rels(sheet_part):
        if r.get("Type") != REL_COMMENTS or r.get("TargetMode") == "External":
            continue
        part = resolve_target(sheet_part, r.get("Target"))
        if not edit.has(part):
            continue
        root = edit.xml(part).getroot()
        authors = [a.text or "" for a in root.iter(q("author"))]
        for c in root.iter(q("comment")):
            i = int(c.get("authorId", "0"))
            out.append((c.get("ref"), authors[i] if i < len(authors) else "", c.find(q("text"))))
    return out


_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">\n'
    ' <o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>\n'
    ' <v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">\n'
    '  <v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/>\n'
    ' </v:shapetype>\n')
_VML_SHAPE = (
    ' <v:shape id="_x0000_s{sid}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
    'margin-top:1.5pt;width:144pt;height:79pt;z-index:{z};visibility:hidden" fillcolor="#ffffe1" '
    'o:insetmode="auto">\n'
    '  <v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>\n'
    '  <v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
    '</v:textbox>\n'
    '  <x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
    '<x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>'
    '</x:ClientData>\n'
    ' </v:shape>\n')


def add_comments(edit: PackageEdit, sheet_part: str, comments: list[tuple[str, str, etree._Element]],
                 block: int) -> None:
    """Give ``sheet_part`` (which has none yet) the comments: a comments part and its VML shapes.

    ``block`` is the VML shape id block (1, 2, ... unique per sheet in the workbook).
    """
    if not comments:
        return
    root = edit.xml(sheet_part).getroot()
    if root.find(q("legacyDrawing")) is not None:
        raise DepartmentError("Bladet har redan kommentarer i mallen; kommentarerna kan inte läggas till.",
                              file=edit.path)
    authors: list[str] = []
    croot = etree.Element(q("comments"), nsmap={None: NS_MAIN})
    a_el = etree.SubElement(croot, q("authors"))
    lst = etree.SubElement(croot, q("commentList"))
    shapes = []
    for i, (ref, author, text) in enumerate(sorted(comments, key=lambda x: _rc(x[0]))):
        if author not in authors:
            authors.append(author)
            etree.SubElement(a_el, q("author")).text = author
        c = etree.SubElement(lst, q("comment"), ref=ref, authorId=str(authors.index(author)))
        c.append(copy.deepcopy(text) if text is not None else etree.Element(q("text")))
        row, col = _rc(ref)
        anchor = f"{col + 1}, 15, {max(row - 1, 0)}, 10, {col + 3}, 15, {row + 3}, 4"
        shapes.append(_VML_SHAPE.format(sid=block * 1024 + 1 + i, z=i + 1, anchor=anchor, row=row, col=col))
    comments_part = edit.free_name("xl/comments{n}.xml")
    vml_part = edit.free_name("xl/drawings/vmlDrawing{n}.vml")
    edit.put(comments_part, serialize_xml(etree.ElementTree(croot)))
    edit.put(vml_part, (_VML_HEAD.format(idmap=block) + "".join(shapes) + "</xml>").encode("utf-8"))
    edit.add_override(comments_part, CT_COMMENTS)
    edit.ensure_default("vml", CT_VML)
    edit.add_relationship(sheet_part, REL_COMMENTS, comments_part)
    rid = edit.add_relationship(sheet_part, REL_VML, vml_part)
    tree = edit.xml(sheet_part)
    root = tree.getroot()
    el = etree.Element(q("legacyDrawing"))
    el.set(f"{{{NS_R}}}id", rid)
    after = next((i for i, c in enumerate(root) if local(c) in _AFTER_LEGACY), len(root))
    root.insert(after, el)
    edit.put_xml(sheet_part, tree)


def _rc(ref: str) -> tuple[int, int]:
    m = re.match(r"\$?([A-Za-z]+)\$?(\d+)", ref)
    return int(m.group(2)) - 1, col_index(m.group(1))


# --- copying a sheet from another package -------------------------------------------------

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
    return next((r["part"] for r in rels if r.get("Type", "").endswith("/styles") and "part" in r), None)


def shared_strings(src_pkg) -> list[etree._Element]:
    """The ``<si>`` items of a package's shared strings (empty without the part)."""
    part = next((r["part"] for r in src_pkg.relationships(src_pkg.workbook_part)
                 if r.get("Type", "").endswith("/sharedStrings") and "part" in r), None)
    if part is None or not src_pkg.has(part):
        return []
    return list(src_pkg.xml(part).getroot().iterchildren(q("si")))


_SKIP_REL = ("/pivotTable", "/printerSettings")


def copy_sheet(edit: PackageEdit, src_pkg, name: str, styles: StyleMerger, strings: list[etree._Element],
               remap: Callable[[str], str] | None = None) -> list[str]:
    """Copy the worksheet ``name`` of ``src_pkg`` (with its drawings, comments, images ...) into
    ``edit`` as a new last sheet. Cell formats are merged into the destination's styles,
    shared strings become inline strings, ``remap`` rewrites formulas. Returns notes for the user."""
    notes: list[str] = []
    info = src_pkg.sheet(name)
    if info is None or info.part is None or info.kind != "worksheet":
        return [f"bladet {name} är inget vanligt kalkylblad och kunde inte följa med"]
    renamed: dict[str, str] = {}

    def copy_part(part: str) -> str:
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
        if ct is not None:
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

    new_part = copy_part(info.part)
    rid = edit.add_relationship(edit.pkg.workbook_part, REL_WORKSHEET, new_part)
    wb = edit.xml(edit.pkg.workbook_part)
    sheets = wb.getroot().find(q("sheets"))
    next_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
    el = etree.SubElement(sheets, q("sheet"), name=name, sheetId=str(next_id))
    if info.state != "visible":
        el.set("state", info.state)
    el.set(f"{{{NS_R}}}id", rid)
    edit.put_xml(edit.pkg.workbook_part, wb)
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


def _sheet_data(data: bytes, styles: StyleMerger, strings: list[etree._Element],
                remap: Callable[[str], str] | None) -> bytes:
    tree = parse_xml(data, part="worksheet")
    root = tree.getroot()
    for c in root.iter(q("c")):
        if c.get("s"):
            c.set("s", str(styles.xf(int(c.get("s")))))
        if c.get("t") == "s":
            v = c.find(q("v"))
            i = int(v.text) if v is not None and v.text else -1
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
        if row.get("s"):
            row.set("s", str(styles.xf(int(row.get("s")))))
    for col in root.iter(q("col")):
        if col.get("style"):
            col.set("style", str(styles.xf(int(col.get("style")))))
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
            out[_rc(c.get("r"))] = f.text or ""
    return out


def merge_styles_part(edit: PackageEdit, src_pkg) -> StyleMerger:
    src_part = _styles_part(src_pkg.relationships(src_pkg.workbook_part))
    dest_rels = [{**dict(r.attrib), "part": resolve_target(edit.pkg.workbook_part, r.get("Target"))}
                 for r in edit.rels(edit.pkg.workbook_part)]
    dest_part = _styles_part(dest_rels)
    src_root = src_pkg.xml(src_part).getroot() if src_part else etree.Element(q("styleSheet"))
    merger = StyleMerger(src_root, edit.xml(dest_part))
    merger.part = dest_part  # type: ignore[attr-defined]
    return merger


def finish_styles(edit: PackageEdit, merger: StyleMerger) -> None:
    if merger.changed:
        edit.put_xml(merger.part, merger.dest_tree)  # type: ignore[attr-defined]
