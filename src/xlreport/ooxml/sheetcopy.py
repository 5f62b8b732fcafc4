"""Copying a worksheet from one package into another, with what hangs off it.

``upgrade`` carries a user's own sheets from an old workbook into the new template: the sheet
part and its drawings, images and comments are copied under free names, cell formats are merged
into the destination's styles, and shared strings become inline strings.

A sheet in the plain form (:func:`plain_form`: every sheet Excel, LibreOffice or XlsxWriter
writes) is copied by one substitution over its bytes, a ledger's 500,000 rows without a tree of
their cells; any other sheet through its lxml tree. The tests hold the two copies equal.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Callable

from lxml import etree

from ..core.chars import ascii_digits
from ..core.errors import NotAWorkbook
from . import xmlread, xmltext
from .edit import PackageEdit
from .names import CONTENT_TYPES, NS_MAIN, REL_SHARED_STRINGS, REL_STYLES, q, rel_part
from .package import (
    _DECL,
    Package,
    content_type_override,
    hardened_parser,
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


def shared_strings(src_pkg) -> InlineStrings:
    """A package's shared strings, as the inline strings a copied sheet gets (none without the part)."""
    part = rel_part(src_pkg.relationships(src_pkg.workbook_part), REL_SHARED_STRINGS)
    if part is None or not src_pkg.has(part):
        return InlineStrings()
    return InlineStrings(src_pkg.read(part), part=part, file=src_pkg.path)


class InlineStrings:
    """Shared strings as the content of inline strings (``<is>``): the ``<t>`` and ``<r>``
    children of each ``<si>``, as bytes. Taken from the part's bytes when it is in the plain form
    (:func:`plain_form`), without a tree of a ledger's 100,000 strings; else from its tree."""

    def __init__(self, data: bytes | None = None, *, part: str = "", file=None):
        self._items: list[bytes] = []
        self._content: dict[int, bytes] = {}
        self._inline: dict[bytes, bytes] = {}
        if data is None:
            return
        if plain_form(data) and data.count(b"<si") == data.count(b"<si>") + data.count(b"<si/>"):
            check_xml(data, part, file)
            self._items = [m.group(1) or b"" for m in _SI.finditer(data)]
        else:
            root = parse_xml(data, part=part, file=file).getroot()
            self._items = [_inline_content(si) for si in root.iterchildren(q("si"))]
            self._content = dict(enumerate(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def content(self, index: bytes | str | None) -> bytes:
        """What ``<is>`` holds for the string a ``<v>`` of a ``t="s"`` cell names: b"" for an index
        that is no number ("abc", "²", "-1") or is past the table, as it finds no string."""
        text = (index.decode("latin-1") if isinstance(index, bytes) else index or "").strip()
        if not ascii_digits(text) or int(text) >= len(self._items):
            return b""
        i = int(text)
        content = self._content.get(i)
        if content is None:  # (not kept: inline() keeps what it makes of it)
            raw = self._items[i]
            content = raw if _ONLY_TEXT.fullmatch(raw) else b"".join(
                m.group(0) for m in _SI_CHILD.finditer(raw) if m.group(1) is None)
        return content

    def inline(self, index: bytes) -> bytes:
        """The whole ``<is>`` element for the index a ``<v>`` holds, as met (cached by its bytes)."""
        element = self._inline.get(index)
        if element is None:
            content = self.content(index)
            element = self._inline[index] = b"<is>" + content + b"</is>" if content else b"<is/>"
        return element


_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.DOTALL)
_ONLY_TEXT = re.compile(rb"<t(?:\s[^<>]*)?>[^<]*</t>")  # one plain text, nearly every string
# A start tag's attributes: anything but ">" and "/" outside quoted values ("/" only ends an empty tag)
_ATTRS = rb"""(?:[^>"'/]|"[^"]*"|'[^']*')*"""
# the children an inline string takes (text, rich-text runs); phonetic runs and properties (group 1) go
_SI_CHILD = re.compile(rb"<t(?=[\s/>])" + _ATTRS + rb"(?:/>|>[^<]*</t>)|<r(?=[\s/>])" + _ATTRS + rb"(?:/>|>.*?</r>)"
                       rb"|(<rPh(?=[\s/>])" + _ATTRS + rb"(?:/>|>.*?</rPh>)|<phoneticPr(?=[\s/>])[^>]*>"
                       rb"|<extLst>.*?</extLst>)", re.DOTALL)


def _inline_content(si: etree._Element) -> bytes:
    """:meth:`InlineStrings.content` of an ``<si>`` element: its ``<t>`` and ``<r>`` children."""
    wrapper = etree.Element(q("is"), nsmap={None: NS_MAIN})
    for child in si:
        if local(child) in ("t", "r"):
            kept = copy.deepcopy(child)
            kept.tail = None
            wrapper.append(kept)
    text = etree.tostring(wrapper)
    start = text.find(b">") + 1
    return b"" if start == len(text) else text[start:-len(b"</is>")]


_SKIP_REL = ("/pivotTable", "/printerSettings")


def copy_sheet(edit: PackageEdit, src_pkg: Package, name: str, styles: StyleMerger, strings: InlineStrings,
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
            data = _sheet_data(data, styles, strings, remap, part, src_pkg.path)
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
                if r.get("Target") is None:  # points nowhere: nothing to copy, and no reader accepts it
                    notes.append(f"bladet {name}: en relation utan mål ({r.get('Type', '').rsplit('/', 1)[-1]}) "
                                 f"följde inte med")
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


def _sheet_data(data: bytes, styles: StyleMerger, strings: InlineStrings,
                remap: Callable[[str], str] | None, part: str = "", file=None) -> bytes:
    """The copied sheet part: cell, row and column formats merged into the destination's styles,
    shared strings made inline, formulas rewritten by ``remap``, the sheet not selected."""
    if plain_form(data):
        check_xml(data, part, file)
        return _sheet_bytes(data, styles, strings, remap)
    tree = parse_xml(data, part=part, file=file)
    root = tree.getroot()
    for c in root.iter(q("c")):
        _restyle(c, "s", styles)
        if c.get("t") == "s":
            v = c.find(q("v"))
            if v is not None:
                c.remove(v)
            c.set("t", "inlineStr")
            content = strings.content(v.text if v is not None else None)
            c.append(etree.fromstring(b'<is xmlns="' + NS_MAIN.encode() + b'">' + content + b"</is>",
                                      hardened_parser()))
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


def _restyle(el: etree._Element, attr: str, styles: StyleMerger) -> None:
    """Point the cell format index ``attr`` of a cell, row or column at the merged format."""
    given = el.get(attr)
    if given is None:
        return
    if ascii_digits(given):
        el.set(attr, str(styles.xf(int(given))))
    else:  # an index no reader can use ("x", "²", "-1", ""): no format, as scan.py and calamine read it
        del el.attrib[attr]


# --- the same copy on the bytes of a sheet in the plain form --------------------------------

_PREFIXED = re.compile(rb"<[\w.-]+:(?:c|row|col|sheetView|si|t|r)[\s/>]")


def plain_form(data: bytes) -> bool:
    """Whether a part is in the form Excel and the common writers give it, which the copy handles
    on its bytes: UTF-8, SpreadsheetML as the one default namespace, no prefixed cell, row, column
    or string, and no comment, CDATA section, DOCTYPE or processing instruction after the
    declaration. Any other part is copied through its tree."""
    m = _DECL.match(data)
    decl, body = (data[:m.end()], data[m.end():]) if m else (b"", data)
    if b"encoding" in decl and not re.search(rb"""encoding\s*=\s*["']utf-8["']""", decl, re.IGNORECASE):
        return False
    return (body.find(b"<!") < 0 and body.find(b"<?") < 0 and body.find(b"\x00") < 0
            and body.count(b'xmlns="') == 1 and body.find(b"xmlns='") < 0
            and body.find(b'xmlns="' + NS_MAIN.encode() + b'"') >= 0 and _PREFIXED.search(body) is None)


def check_xml(data: bytes, part: str, file) -> None:
    """Refuse a part that is not well-formed XML (or nests too deep), as :func:`parse_xml` does,
    with expat and no tree."""
    checker = xmlread.Checker()
    try:
        checker.feed(data)
        checker.close()
    except xmlread.XMLError as exc:
        raise NotAWorkbook(f"Delen {part} i arbetsboken är skadad (ogiltig XML: {exc})", file=file) from None


_SHEET_ITEM = re.compile(
    # 1-4: a value cell as Excel writes it: its place, format, type and value
    rb'<c r="([A-Z]{1,3}+[0-9]{1,7}+)"(?: s="([0-9]++)")?+(?: t="([a-zA-Z]++)")?+><v>([^<]*+)</v></c>'
    rb"|<c(?=[\s/>])(" + _ATTRS + rb")(?:/>|>(.*?)</c>)"  # 5 attributes, 6 children: a cell in another form
    rb"|<(row|col|sheetView)(?=[\s/>])(" + _ATTRS + rb")(/?>)",  # 7 tag, 8 attributes, 9 the tag's end
    re.DOTALL)
# every attribute of a start tag in turn, so that none is looked for inside another's quoted value
_ATTR = re.compile(rb"""(?<=\s)([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_V = re.compile(rb"<v(?=[\s/>])" + _ATTRS + rb"(?:/>|>([^<]*)</v>)")
_F = re.compile(rb"(<f(?=[\s/>])" + _ATTRS + rb">)([^<]+)(</f>)")
_FORMAT_ATTR = {b"c": b"s", b"row": b"s", b"col": b"style"}
_PIECE = 1 << 20  # a row or a cell never spans a row's start tag: the part is cut before one


def _sheet_bytes(data: bytes, styles: StyleMerger, strings: InlineStrings,
                 remap: Callable[[str], str] | None) -> bytes:
    """:func:`_sheet_data` as one substitution over the part's bytes: a ledger of 500,000 rows is
    copied without a tree of its cells (some 600 bytes of memory each), in a fraction of the time."""
    xf_of: dict[bytes, bytes | None] = {}

    def xf(given: bytes) -> bytes | None:
        """The destination's index of the format ``given`` names; None for one no reader can use."""
        new = xf_of.get(given, b"")
        if new == b"":
            text = xmltext.unescape(given.decode("utf-8"))
            new = xf_of[given] = str(styles.xf(int(text))).encode() if ascii_digits(text) else None
        return new

    def with_attrs(attrs: bytes, changes: dict[bytes, bytes | None]) -> bytes:
        """``attrs`` with the attributes named in ``changes`` set to their new value (None: removed)."""
        def one(m: re.Match) -> bytes:
            if m.group(1) not in changes:
                return m.group(0)
            new = changes[m.group(1)]
            return b"" if new is None else m.group(1) + b'="' + new + b'"'
        return _ATTR.sub(one, attrs)

    def formula(m: re.Match) -> bytes:
        text = xmltext.unescape(m.group(2).decode("utf-8"))
        new = remap(text)
        if new == text:
            return m.group(0)
        return m.group(1) + xmltext.escape(new).replace("\r", "&#13;").encode("utf-8") + m.group(3)

    def cell(attrs: bytes, children: bytes | None) -> bytes:
        found = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(attrs)}
        changes: dict[bytes, bytes | None] = {}
        if b"s" in found:
            changes[b"s"] = xf(found[b"s"])
        if found.get(b"t") == b"s":
            changes[b"t"] = b"inlineStr"
            v = _V.search(children) if children else None
            inline = strings.inline(v.group(1) or b"" if v else b"")
            children = children[:v.start()] + inline + children[v.end():] if v else (children or b"") + inline
        if children and remap is not None and b"<f" in children:
            children = _F.sub(formula, children)
        attrs = with_attrs(attrs, changes) if changes else attrs
        return b"<c" + attrs + (b">" + children + b"</c>" if children is not None else b"/>")

    style_attr: dict[bytes, bytes] = {}  # s as given -> the s attribute the copy has

    def item(m: re.Match) -> bytes:
        place, s, t, v = m.group(1, 2, 3, 4)
        if place is not None:  # a value cell as Excel writes it
            if s is None:
                style = b""
            elif (style := style_attr.get(s)) is None:
                new = xf(s)
                style = style_attr[s] = b"" if new is None else b' s="' + new + b'"'
            if t == b"s":
                return b'<c r="%s"%s t="inlineStr">%s</c>' % (place, style, strings.inline(v))
            if s is None:
                return m.group(0)
            return b'<c r="%s"%s%s><v>%s</v></c>' % (place, style, b' t="' + t + b'"' if t is not None else b"", v)
        tag = m.group(7)
        if tag is None:
            return cell(m.group(5), m.group(6))
        attrs = m.group(8)
        if tag == b"sheetView":
            changes = {b"tabSelected": None}
        else:
            given = next((a.group(2) if a.group(2) is not None else a.group(3)
                          for a in _ATTR.finditer(attrs) if a.group(1) == _FORMAT_ATTR[tag]), None)
            if given is None:
                return m.group(0)
            changes = {_FORMAT_ATTR[tag]: xf(given)}
        return b"<" + tag + with_attrs(attrs, changes) + m.group(9)

    # in pieces of about a megabyte, each ending before a row: the substitution holds a list of
    # every piece of its result, some 80 bytes each, which for a whole ledger was 4× the part
    out, start = [], 0
    while start < len(data):
        cut = data.find(b"<row", start + _PIECE) if start + _PIECE < len(data) else -1
        end = len(data) if cut < 0 else cut
        out.append(_SHEET_ITEM.sub(item, data[start:end]))
        start = end
    return b"".join(out)


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
