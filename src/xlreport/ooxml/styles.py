"""Named styles in styles.xml: one ``xf`` per :data:`changes.STYLES` name, found or appended.

:func:`ensure_styles` is idempotent: every record it needs (number format, font, border, xf)
is looked up by content before anything is appended, so running it on its own output changes
nothing.
"""

from __future__ import annotations

import copy

from lxml import etree

from ..core.changes import STYLES
from ..core.chars import ascii_digits
from ..core.styles import SPECS, StyleSpec
from .names import q
from .package import local, parse_xml, serialize_xml

# Schema order of a <font>'s children, and of <styleSheet>'s.
_FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz",
               "color", "name", "family", "charset", "scheme")
_SHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst")


def _key(el: etree._Element) -> tuple:
    """A comparable form of an element: tag, sorted attributes, text, children."""
    return (el.tag, tuple(sorted(el.items())), (el.text or "").strip(),
            tuple([_key(c) for c in el if isinstance(c.tag, str)]))


def _section(root: etree._Element, name: str) -> etree._Element:
    """The ``<name>`` child of styleSheet, created in schema order if missing."""
    el = root.find(q(name))
    if el is not None:
        return el
    el = etree.Element(q(name))
    rank = _SHEET_ORDER.index(name)
    for i, child in enumerate(root):
        if local(child) in _SHEET_ORDER and _SHEET_ORDER.index(local(child)) > rank:
            root.insert(i, el)
            return el
    root.append(el)
    return el


def _empty_border() -> etree._Element:
    border = etree.Element(q("border"))
    for side in ("left", "right", "top", "bottom", "diagonal"):
        etree.SubElement(border, q(side))
    return border


class StyleSheet:
    """Records in a styles.xml tree, found by content or appended (``changed`` tells whether any was)."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.changed = False
        # section name -> (key of each record -> index of its first occurrence, number of records);
        # built once per section, so each existing record is keyed once, not once per look-up
        self._index: dict[str, tuple[dict[tuple, int], int]] = {}
        # what a font or a border of a spec was found or appended as: a record, once it is in a
        # section, stays first of its content there (records are only appended)
        self._fonts: dict[tuple, int] = {}
        self._borders: dict[bool, int] = {}

    def find_or_append(self, section_name: str, el: etree._Element) -> int:
        section = _section(self.root, section_name)
        if section_name not in self._index:
            first: dict[tuple, int] = {}
            items = [c for c in section if isinstance(c.tag, str)]
            for i, item in enumerate(items):
                first.setdefault(_key(item), i)
            self._index[section_name] = (first, len(items))
        first, n = self._index[section_name]
        key = _key(el)
        if key in first:
            return first[key]
        section.append(el)
        section.set("count", str(n + 1))
        first[key] = n
        self._index[section_name] = (first, n + 1)
        self.changed = True
        return n

    def num_fmt(self, code: str) -> int:
        section = _section(self.root, "numFmts")
        ids = []
        for nf in section.iterchildren(q("numFmt")):
            given = nf.get("numFmtId", "")
            if not ascii_digits(given):
                continue  # an id no reader can use ("²"): no cell can have this format, and no id is taken
            if nf.get("formatCode") == code:
                return int(given)
            ids.append(int(given))
        new_id = max([163, *ids]) + 1
        el = etree.SubElement(section, q("numFmt"))
        el.set("numFmtId", str(new_id))
        el.set("formatCode", code)
        section.set("count", str(sum(1 for _ in section.iterchildren(q("numFmt")))))
        self.changed = True
        return new_id

    def font(self, spec: StyleSpec) -> int:
        what = (spec.bold, spec.size, spec.color, spec.underline)
        if what not in self._fonts:
            self._fonts[what] = self._font(spec)
        return self._fonts[what]

    def _font(self, spec: StyleSpec) -> int:
        fonts = _section(self.root, "fonts")
        base = next(fonts.iterchildren(q("font")), None)
        if not (spec.bold or spec.size or spec.color or spec.underline):
            return 0 if base is not None else self.find_or_append("fonts", etree.Element(q("font")))
        font = copy.deepcopy(base) if base is not None else etree.Element(q("font"))
        parts = {local(c): c for c in font if isinstance(c.tag, str)}
        if spec.bold:
            parts["b"] = etree.Element(q("b"))
        if spec.underline:
            parts["u"] = etree.Element(q("u"))
        if spec.size:
            parts["sz"] = etree.Element(q("sz"), val=f"{spec.size:g}")
        if spec.color:
            parts["color"] = etree.Element(q("color"), rgb=spec.color)
        for child in list(font):
            font.remove(child)
        for name in _FONT_ORDER:
            if name in parts:
                font.append(parts[name])
        return self.find_or_append("fonts", font)

    def border(self, spec: StyleSpec) -> int:
        if spec.bottom_border not in self._borders:
            self._borders[spec.bottom_border] = self._border(spec)
        return self._borders[spec.bottom_border]

    def _border(self, spec: StyleSpec) -> int:
        existing = self.root.find(q("borders"))
        if not spec.bottom_border and existing is not None and len(existing):
            return 0  # the workbook's own first border: none
        border = etree.Element(q("border"))
        for side in ("left", "right", "top", "bottom", "diagonal"):
            el = etree.SubElement(border, q(side))
            if side == "bottom" and spec.bottom_border:
                el.set("style", "thin")
                etree.SubElement(el, q("color"), indexed="64")
        if existing is None or not len(existing):
            # a stylesheet without borders: index 0 must be "no border" before anything else
            self.find_or_append("borders", _empty_border())
        return self.find_or_append("borders", border)

    def xf(self, spec: StyleSpec) -> int:
        num_fmt = self.num_fmt(spec.number_format) if spec.number_format else 0
        font, border = self.font(spec), self.border(spec)
        xf = etree.Element(q("xf"), numFmtId=str(num_fmt), fontId=str(font), fillId="0",
                           borderId=str(border), xfId="0")
        for attr, on in (("applyNumberFormat", num_fmt), ("applyFont", font), ("applyBorder", border),
                         ("applyAlignment", spec.wrap)):
            if on:
                xf.set(attr, "1")
        if spec.wrap:
            etree.SubElement(xf, q("alignment"), vertical="top", wrapText="1")
        return self.find_or_append("cellXfs", xf)


# styles.xml -> what ensure_styles made of it: the workbooks of a batch come from one template,
# and most of them have the same styles.xml
_ENSURED: dict[bytes, tuple[bytes | None, dict[str, int]]] = {}
_ENSURED_MAX = 8  # results kept (the oldest goes first) ...
_ENSURED_PART_MAX = 1 << 20  # ... of a styles.xml up to this size


def ensure_styles(styles_xml: bytes) -> tuple[bytes | None, dict[str, int]]:
    """Make sure styles.xml has an xf per named style; return (new XML or None, name -> xf id).

    A pure function of the bytes: the result for a styles.xml seen before is reused."""
    kept = len(styles_xml) <= _ENSURED_PART_MAX
    done = _ENSURED.get(styles_xml) if kept else None
    if done is None:
        done = _ensure_styles(styles_xml)
        if kept:
            if len(_ENSURED) >= _ENSURED_MAX:
                del _ENSURED[next(iter(_ENSURED))]
            _ENSURED[styles_xml] = done
    return done[0], dict(done[1])


def _ensure_styles(styles_xml: bytes) -> tuple[bytes | None, dict[str, int]]:
    tree = parse_xml(styles_xml, part="xl/styles.xml")
    styles = StyleSheet(tree.getroot())
    ids = {name: styles.xf(SPECS[name]) for name in STYLES}
    return (serialize_xml(tree, styles_xml) if styles.changed else None), ids

