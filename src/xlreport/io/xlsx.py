"""The file door: read sheets with python-calamine, apply a ChangeSet to the zip package.

The workbook is never re-saved by a spreadsheet library. :func:`apply_changes` edits only the
parts that must change (the written worksheets, the owned sheets, styles.xml, workbook.xml and
its relationships, [Content_Types].xml, calcChain.xml) and copies every other part raw.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from python_calamine import CalamineError, CalamineWorkbook

from ..cells import Grid
from ..changes import CellWrite, ChangeSet, SheetContent
from ..errors import NotAWorkbook, StructureError, WorkbookLocked, WriteFailed
from .package import (
    CONTENT_TYPES,
    NS_CT,
    NS_PKG_RELS,
    NS_R,
    Package,
    content_type_override,
    local,
    open_package,
    q,
    relative_target,
    rels_part,
    serialize_xml,
    write_package,
)
from .sheetxml import apply_cell_writes, build_owned_sheet
from .styles import ensure_styles

TEMP_PREFIX = ".~xlreport-"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
# workbook.xml children that come after <calcPr> in schema order.
_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


@dataclass
class WriteSummary:
    path: Path
    changed: list[str] = field(default_factory=list)  # zip names of replaced parts
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------


def read_grids(path: str | Path, sheet_names: Iterable[str] | None = None) -> tuple[list[str], dict[str, Grid]]:
    """All sheet names in workbook order, and a Grid per requested sheet that exists.

    ``sheet_names=None`` reads every sheet. The package is checked for safety first.
    """
    path = Path(path)
    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
    wanted = names if sheet_names is None else [n for n in sheet_names if n in names]
    try:
        wb = CalamineWorkbook.from_path(str(path))
        grids = {}
        readable = set(wb.sheet_names)
        for name in wanted:
            if name not in readable:  # e.g. a chart sheet
                continue
            sheet = wb.get_sheet_by_name(name)
            start = sheet.start or (0, 0)
            grids[name] = Grid(name=name, values=sheet.to_python(), top=start[0], left=start[1])
    except (CalamineError, ValueError, OSError) as exc:
        raise NotAWorkbook(f"Arbetsboken kunde inte läsas ({exc})", file=path) from exc
    return names, grids


# --- applying changes ---------------------------------------------------------------------


class _Edit:
    """The parts being changed in one run, read lazily from the package."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.replace: dict[str, bytes] = {}
        self.add: dict[str, bytes] = {}
        self.remove: set[str] = set()
        self._trees: dict[str, etree._ElementTree] = {}

    def tree(self, part: str) -> etree._ElementTree:
        if part not in self._trees:
            self._trees[part] = self.pkg.xml(part)
        return self._trees[part]

    def touch(self, part: str) -> None:
        """Serialise a tree obtained from :meth:`tree` back into the replace/add set."""
        data = serialize_xml(self._trees[part], self.pkg.read(part) if self.pkg.has(part) else None)
        self.set(part, data)

    def set(self, part: str, data: bytes) -> None:
        if self.pkg.has(part):
            if data != self.pkg.read(part):
                self.replace[part] = data
        else:
            self.add[part] = data


def _locked_by_excel(target: Path) -> Path | None:
    owner = target.with_name("~$" + target.name)
    return owner if owner.exists() else None


def apply_changes(path: str | Path, changes: ChangeSet, out: str | Path | None = None) -> WriteSummary:
    """Apply ``changes`` to the workbook at ``path``, writing ``out`` (default: in place) atomically."""
    path = Path(path)
    target = Path(out) if out is not None else path
    owner = _locked_by_excel(target)
    if owner is not None:
        raise WorkbookLocked(f"Arbetsboken är öppen i Excel ({owner.name}). Stäng den i Excel och "
                             "försök igen.", file=target)
    with open_package(path) as pkg:
        edit = _Edit(pkg)
        _apply_writes(edit, changes.writes)
        if changes.sheets:
            style_ids = _ensure_styles(edit)
            for content in changes.sheets:
                _put_owned_sheet(edit, content, style_ids)
        if changes.writes:
            _set_full_calc_on_load(edit)
        _prune_calc_chain(edit, changes)
        _atomic_write(path, target, edit)
    return WriteSummary(path=target, changed=sorted(edit.replace), added=sorted(edit.add),
                        removed=sorted(edit.remove))


def _sheet_part(pkg: Package, name: str) -> str:
    info = pkg.sheet(name)
    if info is None:
        raise StructureError(f"Bladet '{name}' finns inte i arbetsboken", file=pkg.path, sheet=name)
    if info.kind != "worksheet" or not info.part or not pkg.has(info.part):
        raise StructureError(f"Bladet '{name}' är inget vanligt kalkylblad och kan inte skrivas",
                             file=pkg.path, sheet=name)
    return info.part


def _apply_writes(edit: _Edit, writes: list[CellWrite]) -> None:
    by_sheet: dict[str, list[CellWrite]] = defaultdict(list)
    for w in writes:
        by_sheet[w.sheet].append(w)
    for name, sheet_writes in by_sheet.items():
        part = _sheet_part(edit.pkg, name)
        edit.set(part, apply_cell_writes(edit.pkg.read(part), sheet_writes))


def _ensure_styles(edit: _Edit) -> dict[str, int]:
    part = next((r["part"] for r in edit.pkg.relationships(edit.pkg.workbook_part)
                 if r.get("Type", "").endswith("/styles") and "part" in r), None)
    if part is None or not edit.pkg.has(part):
        return {}
    new_xml, ids = ensure_styles(edit.pkg.read(part))
    if new_xml is not None:
        edit.set(part, new_xml)
    return ids


def _put_owned_sheet(edit: _Edit, content: SheetContent, style_ids: dict[str, int]) -> None:
    data = build_owned_sheet(content, style_ids)
    info = edit.pkg.sheet(content.name)
    if info is not None:
        edit.set(_sheet_part(edit.pkg, content.name), data)
        return
    part = _new_sheet_part(edit)
    edit.add[part] = data
    rid = _add_workbook_relationship(edit, part)
    _add_sheet_entry(edit, content.name, rid)
    _add_content_type_override(edit, part, WORKSHEET_CT)


def _new_sheet_part(edit: _Edit) -> str:
    folder = edit.pkg.workbook_part.rsplit("/", 1)[0] + "/worksheets" if "/" in edit.pkg.workbook_part \
        else "worksheets"
    taken = set(edit.pkg.names) | set(edit.add)
    n = 1
    while f"{folder}/sheet{n}.xml" in taken:
        n += 1
    return f"{folder}/sheet{n}.xml"


def _add_workbook_relationship(edit: _Edit, part: str) -> str:
    rp = rels_part(edit.pkg.workbook_part)
    root = edit.tree(rp).getroot()
    ids = {r.get("Id") for r in root}
    n = len(ids) + 1
    while f"rId{n}" in ids:
        n += 1
    rid = f"rId{n}"
    etree.SubElement(root, f"{{{NS_PKG_RELS}}}Relationship", Id=rid, Type=WORKSHEET_REL,
                     Target=relative_target(edit.pkg.workbook_part, part))
    edit.touch(rp)
    return rid


def _add_sheet_entry(edit: _Edit, name: str, rid: str) -> None:
    wb = edit.tree(edit.pkg.workbook_part).getroot()
    sheets = wb.find(q("sheets"))
    next_id = max((int(s.get("sheetId", "0")) for s in sheets), default=0) + 1
    el = etree.SubElement(sheets, q("sheet"), name=name, sheetId=str(next_id))
    el.set(f"{{{NS_R}}}id", rid)
    edit.touch(edit.pkg.workbook_part)


def _add_content_type_override(edit: _Edit, part: str, content_type: str) -> None:
    root = edit.tree(CONTENT_TYPES).getroot()
    etree.SubElement(root, f"{{{NS_CT}}}Override", PartName=content_type_override(part),
                     ContentType=content_type)
    edit.touch(CONTENT_TYPES)


def _set_full_calc_on_load(edit: _Edit) -> None:
    wb = edit.tree(edit.pkg.workbook_part).getroot()
    calc = wb.find(q("calcPr"))
    if calc is None:
        calc = etree.Element(q("calcPr"))
        after = next((i for i, c in enumerate(wb) if local(c) in _AFTER_CALCPR), None)
        wb.insert(len(wb) if after is None else after, calc)
    if calc.get("fullCalcOnLoad") not in ("1", "true"):
        calc.set("fullCalcOnLoad", "1")
    edit.touch(edit.pkg.workbook_part)


# --- calcChain ----------------------------------------------------------------------------


def _calc_chain_rel(edit: _Edit) -> dict[str, str] | None:
    return next((r for r in edit.pkg.relationships(edit.pkg.workbook_part)
                 if r.get("Type", "").endswith("/calcChain") and "part" in r), None)


def _stale_calc_cells(edit: _Edit, changes: ChangeSet) -> tuple[set[int], set[tuple[int, str]]]:
    """Sheet ids replaced whole, and (sheet id, A1) of written cells that no longer hold a formula."""
    whole = {s.sheet_id for s in edit.pkg.sheets() if s.name in {c.name for c in changes.sheets}}
    cells = set()
    for w in changes.writes:
        if w.formula is None:
            cells.add((edit.pkg.sheet(w.sheet).sheet_id, w.a1))
    return whole, cells


def _prune_calc_chain(edit: _Edit, changes: ChangeSet) -> None:
    rel = _calc_chain_rel(edit)
    if rel is None or not edit.pkg.has(rel["part"]):
        return
    whole, cells = _stale_calc_cells(edit, changes)
    if not whole and not cells:
        return
    part = rel["part"]
    root = edit.tree(part).getroot()
    sheet_id, dropped_before = None, False
    for c in list(root):
        if c.get("i") is not None:
            sheet_id = int(c.get("i"))
        if sheet_id in whole or (sheet_id, c.get("r")) in cells:
            root.remove(c)
            dropped_before = True
            continue
        if dropped_before and c.get("i") is None and sheet_id is not None:
            c.set("i", str(sheet_id))  # the previous entry carried it implicitly
        dropped_before = False
    if len(root):
        edit.touch(part)
    else:
        _remove_calc_chain(edit, part, rel["Id"])


def _remove_calc_chain(edit: _Edit, part: str, rid: str) -> None:
    edit.remove.add(part)
    rp = rels_part(edit.pkg.workbook_part)
    rels = edit.tree(rp).getroot()
    for r in list(rels):
        if r.get("Id") == rid:
            rels.remove(r)
    edit.touch(rp)
    types = edit.tree(CONTENT_TYPES).getroot()
    for o in list(types):
        if o.get("PartName") == content_type_override(part):
            types.remove(o)
    edit.touch(CONTENT_TYPES)


# --- atomic write -------------------------------------------------------------------------


def _copy_permissions(source: Path, tmp: Path) -> None:
    st = source.stat()
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(tmp, st.st_uid, st.st_gid)


def _default_permissions(tmp: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _atomic_write(source: Path, target: Path, edit: _Edit) -> None:
    """Write the edited package to a temp file beside ``target``, then rename it into place."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise WriteFailed(f"Kunde inte skriva {target.name} ({exc.strerror or exc}); originalet är "
                          "oförändrat", file=target) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write_package(source, tmp, edit.replace, edit.add, edit.remove)
        if target.exists():
            _copy_permissions(target, tmp)
        else:
            _default_permissions(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(f"Kunde inte skriva {target.name} ({exc.strerror or exc}); originalet är "
                          "oförändrat", file=target) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
