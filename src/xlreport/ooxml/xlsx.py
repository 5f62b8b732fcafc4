"""The file door: read sheets with python-calamine, apply a ChangeSet to the zip package.

The workbook is never re-saved by a spreadsheet library. :func:`apply_changes` edits only the
parts that must change (the written worksheets, the owned sheets, styles.xml, workbook.xml and
its relationships, [Content_Types].xml, calcChain.xml) and copies every other part raw.
"""

from __future__ import annotations

import bisect
import contextlib
import html
import os
import re
import stat
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from python_calamine import CalamineError, CalamineWorkbook

from ..core.cells import Grid, a1, col_index, parse_a1
from ..core.changes import CellWrite, ChangeSet, SheetContent
from ..core.errors import NotAWorkbook, StructureError, UnsafeWorkbook, WorkbookLocked, WriteFailed
from .package import (
    CONTENT_TYPES,
    NS_CT,
    NS_PKG_RELS,
    NS_R,
    Limits,
    Package,
    check_part,
    content_type_override,
    local,
    open_package,
    part_chunks,
    pull_parser,
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
    dependent_formulas: int = 0  # formulas elsewhere that read a written cell or an owned sheet


# --- reading ------------------------------------------------------------------------------


@dataclass
class SheetScan:
    """What a streaming pass over one worksheet part found, before calamine reads it."""

    cells: int = 0
    top: int | None = None
    left: int | None = None
    bottom: int = -1
    right: int = -1
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # error values (#N/A ...)
    uncalculated: dict[tuple[int, int], str] = field(default_factory=dict)  # formula text, no <v>
    formulas: list[str] = field(default_factory=list)

    @property
    def area(self) -> int:
        if self.top is None or self.left is None:
            return 0
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)


_C, _ROW, _F, _V, _IS = q("c"), q("row"), q("f"), q("v"), q("is")


def scan_sheet(pkg: Package, part: str, sheet: str, limits: Limits | None = None) -> SheetScan:
    """Stream a worksheet part: its extent, error cells and formulas without a cached value.

    calamine allocates the whole rectangle between the first and the last cell of a sheet, so
    a single cell at XFD1048576 would ask for hundreds of GB: the extent is checked here first
    (the ``<dimension>`` element is not trusted, the cells are counted).
    """
    limits = limits or pkg.limits
    scan = SheetScan()
    parser = pull_parser(events=("start", "end"))
    row_no, col_no = 0, -1
    try:
        for chunk in part_chunks(pkg, part, limits):
            parser.feed(chunk)
            for event, el in parser.read_events():
                tag = el.tag
                if event == "start":
                    if tag == _ROW:
                        r = el.get("r")
                        row_no = int(r) - 1 if r and r.isdigit() else row_no + 1
                        col_no = -1
                    continue
                if tag == _C:
                    ref = el.get("r")
                    try:
                        row, col = parse_a1(ref) if ref else (row_no, col_no + 1)
                    except ValueError:
                        row, col = row_no, col_no + 1
                    col_no = col
                    _note_cell(scan, el, row, col)
                    if scan.area > limits.max_sheet_cells:
                        far = a1(max(row, scan.bottom), max(col, scan.right))
                        most = f"{limits.max_sheet_cells:,}".replace(",", " ")
                        raise UnsafeWorkbook(
                            f"Bladet '{sheet}' sträcker sig ända till cell {far}, fler celler än de {most} "
                            "som läses: ta bort innehållet längst ut på bladet och försök igen",
                            file=pkg.path, sheet=sheet, cell=a1(row, col))
                    el.clear(keep_tail=False)
                elif tag == _ROW:
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:
                        del el.getparent()[0]
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise NotAWorkbook(f"Bladet '{sheet}' är skadat (ogiltig XML i {part}: {exc})", file=pkg.path,
                           sheet=sheet) from exc
    return scan


def _note_cell(scan: SheetScan, el: etree._Element, row: int, col: int) -> None:
    f = el.find(_F)
    v = el.find(_V)
    has_value = v is not None or el.find(_IS) is not None
    if not has_value and f is None:
        return  # a formatted empty cell: calamine does not count it
    scan.cells += 1
    scan.top = row if scan.top is None else min(scan.top, row)
    scan.left = col if scan.left is None else min(scan.left, col)
    scan.bottom, scan.right = max(scan.bottom, row), max(scan.right, col)
    if f is not None:
        scan.formulas.append(f.text or "")
        if not has_value:
            scan.uncalculated[(row, col)] = f.text or ""
    if el.get("t") == "e" and v is not None and v.text:
        scan.errors[(row, col)] = v.text.strip()


def _reader_parts(pkg: Package) -> list[str]:
    """The non-sheet parts calamine parses when it opens a workbook."""
    parts = [pkg.workbook_part]
    for rel in pkg.relationships(pkg.workbook_part):
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        if kind in ("sharedStrings", "styles") and "part" in rel and pkg.has(rel["part"]):
            parts.append(rel["part"])
    return parts


def guard_for_reader(pkg: Package, wanted: Iterable[str]) -> dict[str, SheetScan]:
    """Check every part calamine will read before it reads it; scan the wanted sheets."""
    for part in _reader_parts(pkg):
        check_part(pkg, part)
    scans = {}
    for name in wanted:
        info = pkg.sheet(name)
        if info is None or info.kind != "worksheet":
            continue
        if not info.part or not pkg.has(info.part):
            raise NotAWorkbook(f"Bladet '{name}' saknar sitt innehåll ({info.part or 'ingen del'} finns inte i "
                               "arkivet): arbetsboken är skadad", file=pkg.path, sheet=name)
        scans[name] = scan_sheet(pkg, info.part, name)
    return scans


def read_grids(path: str | Path, sheet_names: Iterable[str] | None = None) -> tuple[list[str], dict[str, Grid]]:
    """All sheet names in workbook order, and a Grid per requested sheet that exists.

    ``sheet_names=None`` reads every sheet. The package is checked for safety first, and every
    part calamine reads is checked (size, XML declarations, extent) before calamine sees it.
    Error values (``#N/A``) appear in the grid as their text, and a formula without a cached
    value as an :class:`~xlreport.core.reader.Uncalculated` string holding the formula.
    """
    path = Path(path)
    with open_package(path) as pkg:
        names = [s.name for s in pkg.sheets()]
        wanted = names if sheet_names is None else _matching_sheets(names, sheet_names)
        scans = guard_for_reader(pkg, wanted)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        grids = {}
        readable = set(wb.sheet_names)
        for name in wanted:
            if name not in readable:  # e.g. a chart sheet
                continue
            sheet = wb.get_sheet_by_name(name)
            start = sheet.start or (0, 0)
            grid = Grid(name=name, values=sheet.to_python(), top=start[0], left=start[1])
            if name in scans:
                _mark_cells(grid, scans[name])
            grids[name] = grid
    except (CalamineError, ValueError, OSError) as exc:
        raise NotAWorkbook(f"Arbetsboken kunde inte läsas ({exc})", file=path) from exc
    return names, grids


def _matching_sheets(names: list[str], wanted: Iterable[str]) -> list[str]:
    """The workbook's own names of the ``wanted`` sheets that exist.

    A name matches exactly or, as the engine matches sheet names, after :func:`layout.norm`
    (case and white space), so a sheet the user retyped as "personal" is still read.
    """
    from ..core.layout import norm

    out = []
    for want in wanted:
        found = want if want in names else next((n for n in names if norm(n) == norm(want)), None)
        if found is not None and found not in out:
            out.append(found)
    return out


def _mark_cells(grid: Grid, scan: SheetScan) -> None:
    """Show error values and uncalculated formulas in the grid, where calamine shows nothing."""
    from ..core.reader import Uncalculated

    marks = {**scan.errors, **{k: Uncalculated(v) for k, v in scan.uncalculated.items()}}
    for (row, col), value in marks.items():
        grid.set(row, col, value, only_if_empty=True)


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


def refuse_unwritable(target: str | Path) -> None:
    """Refuse to write ``target`` while Excel has it open (its owner file ``~$name`` exists) or
    when it is marked read-only. Call before any work: nothing has been written yet."""
    target = Path(target)
    owner = _locked_by_excel(target)
    if owner is not None:
        raise WorkbookLocked(f"Arbetsboken är öppen i Excel ({owner.name}). Stäng den i Excel och "
                             "försök igen.", file=target)
    _refuse_read_only(target)


def apply_changes(path: str | Path, changes: ChangeSet, out: str | Path | None = None) -> WriteSummary:
    """Apply ``changes`` to the workbook at ``path``, writing ``out`` (default: in place) atomically."""
    path = Path(path)
    target = Path(out) if out is not None else path
    refuse_unwritable(target)
    with open_package(path) as pkg:
        _refuse_wrong_suffix(pkg, path, target)
        dependent = count_dependent_formulas(pkg, changes)
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
                        removed=sorted(edit.remove), dependent_formulas=dependent)


# The main part's content type -> the only file extension Excel opens that workbook under.
_SUFFIX_OF_MAIN = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ".xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": ".xlam",
}


def _refuse_wrong_suffix(pkg: Package, source: Path, target: Path) -> None:
    """Refuse ``-o ut.xlsx`` for an .xlsm (or the reverse): Excel will not open the result at all."""
    if target.suffix.lower() == source.suffix.lower():
        return
    name = content_type_override(pkg.workbook_part)
    expected = next((_SUFFIX_OF_MAIN.get(o.get("ContentType", ""))
                     for o in pkg.xml(CONTENT_TYPES).getroot() if o.get("PartName", "").lower() == name.lower()),
                    None)
    if expected is not None and target.suffix.lower() != expected:
        raise WriteFailed(f"Arbetsboken är en {expected}-fil och kan inte skrivas som {target.name}: Excel öppnar "
                          f"inte en {expected}-arbetsbok med filändelsen {target.suffix or '(ingen)'}. Skriv till en "
                          f"fil som slutar på {expected}; originalet är oförändrat", file=target)


def _refuse_read_only(target: Path) -> None:
    """A workbook marked read-only is not written, even by root (Excel would not save it either)."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return  # a new output file
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteFailed(f"Arbetsboken {target.name} är skrivskyddad och skrivs inte. Ta bort skrivskyddet "
                          "eller skriv resultatet till en annan fil med -o; originalet är oförändrat",
                          file=target)


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
    whole = {info.sheet_id for c in changes.sheets if (info := edit.pkg.sheet(c.name)) is not None}
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


def _write_failed(target: Path, exc: OSError) -> WriteFailed:
    return WriteFailed(f"Kunde inte skriva {target.name} ({exc.strerror or exc}); originalet är "
                       "oförändrat", file=target)


def _atomic_write(source: Path, target: Path, edit: _Edit) -> None:
    """Write the edited package to a temp file beside ``target``, then rename it into place."""
    with atomic_output(target, synced=True) as tmp:
        try:
            write_package(source, tmp, edit.replace, edit.add, edit.remove)  # fsyncs what it writes
        except OSError as exc:
            raise _write_failed(target, exc) from exc


def temp_beside(target: Path, suffix: str | None = None) -> Path:
    """A new empty temporary file beside ``target``, named ``.~xlreport-<name>.<random><suffix>``
    (``suffix`` defaults to the target's), so that :func:`remove_stale_temp_files` removes it
    if the run is killed. The caller removes it when done."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target),
                                        suffix=target.suffix if suffix is None else suffix, dir=target.parent)
    except OSError as exc:
        raise _write_failed(target, exc) from exc
    os.close(fd)
    return Path(tmp_name)


@contextlib.contextmanager
def atomic_output(target: str | Path, suffix: str | None = None, *, synced: bool = False):
    """Yield a temporary file beside ``target`` to build the result in; when the block ends
    without an exception, the file is fsynced (unless ``synced``: the block did it), given the
    original's owner, group and permission bits (or the default ones for a new file) and
    renamed over ``target`` in one step, and the folder is fsynced. On any exception the temporary file is removed and ``target`` is untouched.

    The temporary file is named by :func:`temp_beside`; hold :func:`workbook_lock` of ``target``
    around the block so two processes never interleave.
    """
    target = Path(target)
    tmp = temp_beside(target, suffix)
    try:
        yield tmp
        try:
            if not synced:
                _fsync_file(tmp)
            if target.exists():
                _copy_permissions(target, tmp)
            else:
                _default_permissions(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise _write_failed(target, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def temp_prefix(target: Path) -> str:
    """Temporary files for ``target`` are named ``.~xlreport-<name>.<random><suffix>``."""
    return f"{TEMP_PREFIX}{target.name}."


# --- inter-process lock and stale temporary files -----------------------------------------

LOCK_TIMEOUT = 10.0  # seconds; XLREPORT_LOCK_TIMEOUT changes it
LOCK_SUFFIX = ".lock"


def lock_path(target: Path) -> Path:
    """The lock file beside the workbook: ``.~xlreport-<name>.lock`` (removed after each run)."""
    return target.with_name(f"{TEMP_PREFIX}{target.name}{LOCK_SUFFIX}")


def lock_timeout() -> float:
    raw = os.environ.get("XLREPORT_LOCK_TIMEOUT", "").strip().replace(",", ".")
    try:
        value = float(raw) if raw else LOCK_TIMEOUT
    except ValueError:
        return LOCK_TIMEOUT
    return max(value, 0.0)


@contextlib.contextmanager
def workbook_lock(target: str | Path, timeout: float | None = None):
    """Hold the xlreport lock of ``target`` from reading to writing.

    A second xlreport process that wants the same workbook waits up to ``timeout`` seconds
    (default :data:`LOCK_TIMEOUT`, or ``XLREPORT_LOCK_TIMEOUT``), then refuses with
    :class:`WorkbookLocked`. While the lock is held, temporary files of this workbook that a
    killed run left behind are removed. In a folder where no lock file can be made, nothing
    can be written either: the run goes on unlocked and the write fails with a clear message.
    """
    from filelock import FileLock, Timeout

    target = Path(target)
    timeout = lock_timeout() if timeout is None else timeout
    path = lock_path(target)
    deadline = time.monotonic() + timeout
    while True:
        lock = FileLock(str(path), timeout=max(deadline - time.monotonic(), 0.0))
        try:
            lock.acquire()
        except Timeout:
            raise WorkbookLocked(f"En annan körning av xlreport arbetar med {target.name} just nu (väntade "
                                 f"{timeout:g} s). Försök igen när den är klar.", file=target) from None
        except OSError:
            yield  # read-only folder: the write itself will fail and say so
            return
        if _holds_current_file(lock, path):
            break
        lock.release()  # the previous holder removed the file we locked: lock the new one
    try:
        remove_stale_temp_files(target)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still held: a waiting process sees the unlinked inode and retries
        lock.release()


def _holds_current_file(lock, path: Path) -> bool:
    """Whether the locked descriptor is still the file at ``path`` (a holder unlinks it when done)."""
    fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
    try:
        if fd is None:
            return path.exists()
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def is_stale_temp_name(name: str, target: Path) -> bool:
    """Whether ``name`` (in ``target``'s folder) is a temporary file of a run on ``target``.

    That is ``target``'s own temporary files (:func:`temp_beside`), and every file of a run on
    one of those (``consolidate`` and ``upgrade`` build their result in a temporary file and
    refresh or edit it there, all under ``target``'s lock): its temporary and lock files.
    """
    prefix = temp_prefix(target)
    if name.startswith(TEMP_PREFIX + prefix):
        return True
    return name.startswith(prefix) and name.endswith(target.suffix) and not name.endswith(LOCK_SUFFIX)


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` left by a killed run; call only while holding the lock."""
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if is_stale_temp_name(name, target):
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


# --- formulas that depend on what the tool wrote ------------------------------------------

_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_REF = re.compile(
    r"(?:(?:'(?P<qs>(?:[^']|'')+)'|(?P<s>[A-Za-z_\u00c0-\uffff][\w.\u00c0-\uffff]*))!)?"
    r"(?<![\w.])\$?(?P<c1>[A-Za-z]{1,3})(?:\$?(?P<r1>\d+))?"
    r"(?::\$?(?P<c2>[A-Za-z]{1,3})(?:\$?(?P<r2>\d+))?)?(?![\w(])")
# a cell's <f>; not the <xm:f> ranges of sparklines and x14 conditional formats in extLst
_F_ELEMENT = re.compile(rb"<(?!xm:)(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_SI = re.compile(rb'\bsi="(\d+)"')
_REF_ATTR = re.compile(rb'\bref="')


class WrittenCells:
    """The cells a change set writes, per sheet and column, for range look-ups in log time."""

    def __init__(self, cells: Iterable[tuple[str, int, int]] = ()):
        self._cols: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for sheet, row, col in cells:
            self._cols[sheet][col].append(row)
        for cols in self._cols.values():
            for rows in cols.values():
                rows.sort()

    def __contains__(self, sheet: str) -> bool:
        return sheet in self._cols

    def __bool__(self) -> bool:
        return bool(self._cols)

    def sheets(self) -> list[str]:
        return list(self._cols)

    def cells(self, sheet: str) -> set[tuple[int, int]]:
        return {(r, c) for c, rows in self._cols.get(sheet, {}).items() for r in rows}

    def any_in(self, sheet: str, top: int | None, left: int, bottom: int | None, right: int) -> bool:
        """Whether a written cell lies in the rectangle (``top`` None: whole columns)."""
        for col, rows in self._cols.get(sheet, {}).items():
            if left <= col <= right:
                if top is None:
                    return True
                i = bisect.bisect_left(rows, top)
                if i < len(rows) and rows[i] <= bottom:
                    return True
        return False


def _reference_box(m: re.Match) -> tuple[int | None, int, int | None, int] | None:
    """(top, left, bottom, right) of a reference match, ``top`` None for whole columns (E:E)."""
    c1, r1, c2, r2 = m.group("c1"), m.group("r1"), m.group("c2"), m.group("r2")
    if r1 is None and (c2 is None or r2 is not None):
        return None  # a bare word, not a reference
    if r1 is not None and c2 is not None and r2 is None:
        return None
    lo_c, hi_c = sorted((col_index(c1), col_index(c2 or c1)))
    if r1 is None:
        return None, lo_c, None, hi_c
    lo_r, hi_r = sorted((int(r1) - 1, int(r2 or r1) - 1))
    return lo_r, lo_c, hi_r, hi_c


def formula_depends(formula: str, sheet: str, written: WrittenCells, owned: set[str]) -> bool:
    """Whether a formula on ``sheet`` reads a written cell or any cell of an owned sheet.

    A conservative text heuristic: cell and range references (with or without a sheet name)
    are compared with the written cells; names and INDIRECT are not resolved.
    """
    text = _STRING_LITERAL.sub('""', formula)
    for m in _REF.finditer(text):
        ref_sheet = m.group("qs").replace("''", "'") if m.group("qs") else m.group("s") or sheet
        if ref_sheet in owned:
            return True
        if ref_sheet in written and (box := _reference_box(m)) is not None and written.any_in(ref_sheet, *box):
            return True
    return False


def count_dependent_formulas(pkg: Package, changes: ChangeSet) -> int:
    """How many formulas in the user's worksheets depend on the cells or sheets the tool writes.

    Excel recalculates them on the next open (``fullCalcOnLoad``). Formulas the tool writes
    itself are not counted; a shared formula counts once per cell. Parts too big for the reader
    limits are skipped, and any problem gives a count of what could be read: counting never
    stops a write.
    """
    written = WrittenCells((w.sheet, w.row, w.col) for w in changes.writes)
    owned = {(info.name if (info := pkg.sheet(s.name)) else s.name) for s in changes.sheets}
    if not written and not owned:
        return 0
    needles = {html.escape(n.replace("'", "''") if quoted else n, quote=False).encode()
               for n in (*written.sheets(), *owned) for quoted in (False, True)}
    total = 0
    for info in pkg.sheets():
        if info.kind != "worksheet" or not info.part or info.name in owned or not pkg.has(info.part):
            continue
        try:
            data = b"".join(part_chunks(pkg, info.part))
        except (NotAWorkbook, UnsafeWorkbook):
            continue
        if b"<f" not in data:
            continue  # no formulas at all (a ledger of values): nothing here can depend on us
        if info.name not in written and not any(n in data for n in needles):
            continue  # no formula here can name a written or owned sheet: skip the scan (big ledgers)
        own_cells = {a1(r, c) for r, c in written.cells(info.name)}
        masters: dict[bytes, bool] = {}
        for m in _F_ELEMENT.finditer(data):
            attrs, body = m.group(1), m.group(2)
            cell_ref = _cell_ref_before(data, m.start())
            if cell_ref in own_cells:
                continue
            si = _SI.search(attrs)
            if body:
                text = html.unescape(body.decode("utf-8", "replace"))
                dep = formula_depends(text, info.name, written, owned)
                if si and _REF_ATTR.search(attrs):
                    masters[si.group(1)] = dep
            else:
                dep = bool(si) and masters.get(si.group(1), False)
            total += dep
    return total


_C_OPEN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+\d+)"')


def _cell_ref_before(data: bytes, pos: int) -> str | None:
    """The r attribute of the ``<c>`` element that contains the ``<f>`` at ``pos``."""
    start = data.rfind(b"<", max(0, pos - 4096), pos)
    m = _C_OPEN.match(data, start) if start >= 0 else None
    return m.group(1).decode() if m else None
