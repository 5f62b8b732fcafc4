"""One edit of a workbook package: the parts to replace, add or remove, read through lazily.

Every writer of the tool (refresh, new, upgrade, consolidate) collects its changes on a
:class:`PackageEdit` and writes them with :meth:`PackageEdit.write`, which copies every part
it did not change byte for byte (:func:`~xlreport.ooxml.package.write_package`). Reads see the
edit so far: a part put earlier in the same run is read back as put.

What is read from relationships parts and workbook.xml (:meth:`PackageEdit.relationships`,
:meth:`PackageEdit.sheets`) is kept until the part changes through the edit: until it is put,
touched or removed, or handed out as a tree to change (:meth:`PackageEdit.tree`,
:meth:`PackageEdit.rels`). So a tree taken earlier and changed after such a read shows in the
next read only once it is touched, as every change to a tree must be.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from ..records import Record
from .names import CONTENT_TYPES, NS_CT, NS_PKG_RELS, NS_R, q
from .package import (
    Limits,
    Package,
    content_type_override,
    local,
    open_package,
    parse_xml,
    relationship_dicts,
    relative_target,
    rels_part,
    serialize_xml,
    sheet_id,
    write_package,
)


class SheetEntry(Record, frozen=True):
    """A ``<sheet>`` of the workbook as the edit has it now."""

    name: str
    part: str | None
    sheet_id: int | None  # None: no readable sheetId (package.sheet_id)
    rid: str
    state: str = "visible"


class PackageEdit:
    """The parts being changed in one run of a package opened read-only."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.path: Path = pkg.path
        self.workbook_part: str = pkg.workbook_part
        self.replace: dict[str, bytes] = {}
        self.add: dict[str, bytes] = {}
        self.remove: set[str] = set()
        self._trees: dict[str, etree._ElementTree] = {}
        # read once, dropped by _changed(): rels part -> relationship_dicts, and the sheet entries
        self._relationships: dict[str, list[dict[str, str]]] = {}
        self._sheets: list[SheetEntry] | None = None

    @classmethod
    @contextlib.contextmanager
    def opened(cls, path: str | Path, limits: Limits | None = None) -> Iterator[PackageEdit]:
        """Open the package at ``path`` (checked against the safety limits) for an edit."""
        with open_package(path, limits) as pkg:
            yield cls(pkg)

    # --- parts ----------------------------------------------------------------------------

    def names(self) -> set[str]:
        return (set(self.pkg.names) | set(self.add)) - self.remove

    def has(self, part: str) -> bool:
        if part in self.add or part in self.replace:
            return True
        return part not in self.remove and self.pkg.has(part)

    def read(self, part: str) -> bytes:
        if part in self.add:
            return self.add[part]
        if part in self.replace:
            return self.replace[part]
        return self.pkg.read(part)

    def xml(self, part: str) -> etree._ElementTree:
        """A fresh parse of the part as the edit has it (changes to it are not kept)."""
        return parse_xml(self.read(part), part=part, file=self.path)

    def tree(self, part: str) -> etree._ElementTree:
        """The part as one tree to change in place; call :meth:`touch` after changing it."""
        self._changed(part)  # the caller may change the tree
        return self._tree(part)

    def _tree(self, part: str) -> etree._ElementTree:
        """:meth:`tree` for reading only: what is read from it stays valid."""
        if part not in self._trees:
            self._trees[part] = self.xml(part)
        return self._trees[part]

    def read_tree(self, part: str) -> etree._ElementTree:
        """The tree :meth:`tree` hands out, to read: what was read from the part stays. A caller
        that goes on to change it takes it with :meth:`tree` first (which drops that), then touches it."""
        return self._tree(part)

    def _read_root(self, part: str):
        """The root of ``part`` to read: the edit's tree of it when it has one or has changed the
        part, else the package's read-only tree (parsed once, without lxml)."""
        if part in self._trees or part in self.add or part in self.replace:
            return self._tree(part).getroot()
        return self.pkg.read_xml(part)

    def _changed(self, part: str) -> None:
        """Drop what was read from ``part``: it has changed, or may be changed through a tree."""
        self._relationships.pop(part, None)
        if part in (self.workbook_part, rels_part(self.workbook_part)):
            self._sheets = None

    def touch(self, part: str) -> None:
        """Put the tree from :meth:`tree` back into the edit."""
        tree = self._trees[part]
        self._put(part, serialize_xml(tree, self.read(part) if self.has(part) else None))

    def put(self, part: str, data: bytes) -> None:
        """Replace (or add) ``part`` with ``data``; a tree taken with :meth:`tree` is dropped."""
        self._trees.pop(part, None)
        self._put(part, data)

    def put_xml(self, part: str, tree: etree._ElementTree) -> None:
        self.put(part, serialize_xml(tree, self.read(part) if self.has(part) else None))

    def _put(self, part: str, data: bytes) -> None:
        self._changed(part)
        if self.pkg.has(part) and part not in self.remove:
            if data == self.pkg.read(part):
                self.replace.pop(part, None)  # back as it was: copied raw
            else:
                self.replace[part] = data
        else:
            self.remove.discard(part)
            self.add[part] = data

    def remove_part(self, part: str) -> None:
        self._changed(part)
        self._trees.pop(part, None)
        self.add.pop(part, None)
        self.replace.pop(part, None)
        if self.pkg.has(part):
            self.remove.add(part)

    def free_name(self, template: str) -> str:
        """A part name like ``template`` (``xl/comments{n}.xml``) not yet in the package; part
        names are compared without case, as the OPC specification requires."""
        taken = {n.casefold() for n in self.names()}
        n = 1
        while template.format(n=n).casefold() in taken:
            n += 1
        return template.format(n=n)

    # --- relationships --------------------------------------------------------------------

    def rels(self, part: str) -> etree._Element:
        """The ``<Relationships>`` root of ``part`` (a new empty one when it has none), to change."""
        self._changed(rels_part(part))
        return self._rels_root(part)

    def _rels_root(self, part: str) -> etree._Element:
        """:meth:`rels` for reading only."""
        rp = rels_part(part)
        if self.has(rp):
            return self._tree(rp).getroot()
        root = etree.Element(f"{{{NS_PKG_RELS}}}Relationships", nsmap={None: NS_PKG_RELS})
        self._trees[rp] = etree.ElementTree(root)
        return root

    def relationships(self, part: str) -> list[dict[str, str]]:
        """Id, Type, Target (and ``part``, the resolved target, unless external) of each one."""
        return [dict(r) for r in self._relationship_list(part)]  # copies: the caller may change them

    def _relationship_list(self, part: str) -> list[dict[str, str]]:
        """:meth:`relationships` as kept (not to be changed)."""
        rp = rels_part(part)
        if rp not in self._relationships:
            self._relationships[rp] = relationship_dicts(self._read_root(rp), part) if self.has(rp) else []
        return self._relationships[rp]

    def add_relationship(self, source: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from ``source`` to ``target_part``; returns its new Id."""
        root = self.rels(source)
        ids = {r.get("Id") for r in root}
        n = len(ids) + 1
        while f"rId{n}" in ids:
            n += 1
        etree.SubElement(root, f"{{{NS_PKG_RELS}}}Relationship", Id=f"rId{n}", Type=rel_type,
                         Target=relative_target(source, target_part))
        self.touch(rels_part(source))
        return f"rId{n}"

    def remove_relationship(self, source: str, rid: str) -> None:
        root = self.rels(source)
        for r in list(root):
            if r.get("Id") == rid:
                root.remove(r)
        self.touch(rels_part(source))

    # --- content types --------------------------------------------------------------------

    def add_override(self, part: str, content_type: str) -> None:
        self.add_overrides([(part, content_type)])

    def add_overrides(self, overrides: list[tuple[str, str]]) -> None:
        """:meth:`add_override` for each (part, content type), in order, with one serialisation."""
        if not overrides:
            return
        root = self.tree(CONTENT_TYPES).getroot()
        for part, content_type in overrides:
            etree.SubElement(root, f"{{{NS_CT}}}Override", PartName=content_type_override(part),
                             ContentType=content_type)
        self.touch(CONTENT_TYPES)

    def remove_override(self, part: str) -> None:
        root = self.tree(CONTENT_TYPES).getroot()
        for o in list(root):
            if o.get("PartName") == content_type_override(part):
                root.remove(o)
        self.touch(CONTENT_TYPES)

    def ensure_default(self, extension: str, content_type: str) -> None:
        root = self.tree(CONTENT_TYPES).getroot()
        if any(local(d) == "Default" and (d.get("Extension") or "").lower() == extension.lower() for d in root):
            return
        el = etree.Element(f"{{{NS_CT}}}Default", Extension=extension, ContentType=content_type)
        first_override = next((i for i, c in enumerate(root) if local(c) == "Override"), len(root))
        root.insert(first_override, el)
        self.touch(CONTENT_TYPES)

    # --- sheets ---------------------------------------------------------------------------

    def sheets(self) -> list[SheetEntry]:
        """The workbook's sheets, in order, as the edit has them now."""
        if self._sheets is None:
            self._sheets = self._read_sheets()
        return list(self._sheets)

    def _read_sheets(self) -> list[SheetEntry]:
        wb = self.workbook_part
        parts = {r["Id"]: r.get("part") for r in self._relationship_list(wb)}
        out = []
        for el in self._read_root(wb).iter(q("sheet")):
            rid = el.get(q("id", NS_R), "")
            out.append(SheetEntry(el.get("name", ""), parts.get(rid), sheet_id(el.get("sheetId")), rid,
                                  el.get("state", "visible")))
        return out

    def sheet(self, name: str) -> SheetEntry | None:
        """The sheet called ``name``; as in Excel, case does not matter."""
        sheets = self.sheets()
        return next((s for s in sheets if s.name == name), None) or \
            next((s for s in sheets if s.name.casefold() == name.casefold()), None)

    # --- output ---------------------------------------------------------------------------

    def write(self, dest: str | Path) -> None:
        """Write the edited package to ``dest`` (not atomically: see ooxml.atomic)."""
        write_package(self.pkg.path, dest, self.replace, self.add, self.remove)
