"""Comments (notes) of a worksheet: read them, and give a sheet that has none its comments.

A note is a ``commentsN.xml`` part with the text and a legacy VML drawing with its shape; both
hang off the worksheet by relationships.
"""

from __future__ import annotations

import copy

from lxml import etree

from ..core.cells import parse_a1
from ..core.chars import ascii_digits
from ..core.errors import DepartmentError
from .edit import PackageEdit
from .names import CT_COMMENTS, CT_VML, NS_MAIN, NS_R, REL_COMMENTS, REL_VML, is_rel, q
from .package import local, serialize_xml

# worksheet children that come after <legacyDrawing> in schema order
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                 "tableParts", "extLst")


def read_comments(edit: PackageEdit, sheet_part: str) -> list[tuple[str, str, etree._Element]]:
    """(cell ref, author, <text> element) for every comment (note) on a sheet."""
    out = []
    for r in edit.relationships(sheet_part):
        if not is_rel(r.get("Type"), REL_COMMENTS) or "part" not in r:
            continue
        part = r["part"]
        if not edit.has(part):
            continue
        root = edit.xml(part).getroot()
        authors = [a.text or "" for a in root.iter(q("author"))]
        for c in root.iter(q("comment")):
            # an id that is no author's ("x", "-1", past the list) is no author, as Excel shows it
            given = c.get("authorId", "0")
            author = authors[int(given)] if ascii_digits(given) and int(given) < len(authors) else ""
            out.append((c.get("ref"), author, c.find(q("text"))))
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
    for i, (ref, author, text) in enumerate(sorted(comments, key=lambda x: parse_a1(x[0]))):
        if author not in authors:
            authors.append(author)
            etree.SubElement(a_el, q("author")).text = author
        c = etree.SubElement(lst, q("comment"), ref=ref, authorId=str(authors.index(author)))
        c.append(copy.deepcopy(text) if text is not None else etree.Element(q("text")))
        row, col = parse_a1(ref)
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
