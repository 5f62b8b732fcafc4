"""The workbook as an OPC zip package: safe opening, hardened XML, and a lossless rewrite.

A workbook is never saved through a spreadsheet library. :func:`write_package` builds a new
zip in which every entry that does not change is copied as raw bytes (local header,
compressed data and data descriptor verbatim, the central directory record reused with its
offset patched), and only replaced or added entries are compressed fresh.
"""

from __future__ import annotations

import functools
import io
import os
import posixpath
import re
import stat
import struct
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ..core.chars import ascii_digits
from ..core.errors import NotAWorkbook, UnsafeWorkbook, os_error_sv
from ..records import Record, field
from . import xmlread
from .names import CONTENT_TYPES, NS_R, NS_STRICT_MAIN, REL_OFFICE_DOCUMENT, ROOT_RELS, is_rel, q

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import ClassVar, Self

    from lxml import etree

# --- limits -------------------------------------------------------------------------------
# Every limit can be changed with an environment variable (see docs/reliability.md); the
# defaults keep the peak memory of one run well under 1 GB whatever the file holds.
MAX_TOTAL_SIZE = 1 << 30  # 1 GiB uncompressed, all parts together
MAX_RATIO = 200.0  # compression ratio per entry ...
RATIO_MIN_SIZE = 1 << 20  # ... checked for entries over 1 MB uncompressed
MAX_ENTRIES = 10_000
MAX_PART_SIZE = 64 << 20  # 64 MiB uncompressed for each part the reader parses (sheets, strings)
MAX_SHEET_CELLS = 1_000_000  # cells in the rectangle a read sheet spans (calamine allocates it)
MAX_ZIP_SIZE = (1 << 32) - 1  # no zip64
# A workbook up to this size is read into memory when opened (open_package): every workbook without
# a ledger. A larger one is read from the file, so that what a run holds grows with the ledger only
# as the parts it reads do (a step here would show in the growth curve's peak memory).
READ_WHOLE_MAX = 256 << 10

ENV_PREFIX = "XLREPORT_"

KEEP_PART_MAX = 1 << 20  # a package keeps the bytes of parts up to this size once read ...
KEEP_TOTAL_MAX = 32 << 20  # ... up to this much in all


class Limits(Record, frozen=True):
    max_total_size: int = MAX_TOTAL_SIZE
    max_ratio: float = MAX_RATIO
    ratio_min_size: int = RATIO_MIN_SIZE
    max_entries: int = MAX_ENTRIES
    max_part_size: int = MAX_PART_SIZE
    max_sheet_cells: int = MAX_SHEET_CELLS

    # environment variable -> (field, unit multiplier)
    ENV: ClassVar[dict[str, tuple[str, float]]] = {
        "MAX_TOTAL_MB": ("max_total_size", 1 << 20),
        "MAX_RATIO": ("max_ratio", 1),
        "MAX_ENTRIES": ("max_entries", 1),
        "MAX_PART_MB": ("max_part_size", 1 << 20),
        "MAX_SHEET_CELLS": ("max_sheet_cells", 1),
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, overridden by ``XLREPORT_MAX_TOTAL_MB`` and the other variables in :attr:`ENV`."""
        environ = os.environ if environ is None else environ
        values = {}
        for var, (name, unit) in cls.ENV.items():
            raw = environ.get(ENV_PREFIX + var)
            if raw is None or not raw.strip():
                continue
            try:
                number = float(raw.replace(",", "."))
            except ValueError:
                continue  # a typo in a setting must not make the limits disappear
            if number > 0:
                values[name] = number * unit if name == "max_ratio" else int(number * unit)
        return cls(**values)


DEFAULT_LIMITS = Limits()


def current_limits() -> Limits:
    """The limits in force: the defaults, changed by ``XLREPORT_*`` environment variables."""
    return Limits.from_env()


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

MSG_NOT_WORKBOOK = "Filen är inte en Excel-arbetsbok (.xlsx/.xlsm)"

# --- hardened XML -------------------------------------------------------------------------


# lxml is imported by the functions that build an editable tree, not by this module: a command
# that only reads a workbook never imports it (see xmlread).


def hardened_parser() -> etree.XMLParser:
    """The XML parser every package part is read with: no entities, no network, no DTD, no huge trees."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


_parser = hardened_parser


def _refuse_doctype(data: bytes, part: str, file: str | Path | None) -> None:
    head = data[:65536].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeWorkbook(f"Delen {part} innehåller en DOCTYPE-deklaration, vilket inte är tillåtet",
                             file=file)


def parse_xml(data: bytes, *, part: str = "", file: str | Path | None = None) -> etree._ElementTree:
    """Parse one package part with a hardened parser, into a tree to edit; a DOCTYPE is refused outright."""
    from lxml import etree

    _refuse_doctype(data, part, file)
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise NotAWorkbook(f"Delen {part} i arbetsboken är skadad (ogiltig XML: {exc})", file=file) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeWorkbook(f"Delen {part} innehåller en DOCTYPE-deklaration, vilket inte är tillåtet",
                             file=file)
    return tree


# Small parts' read-only trees by their exact bytes: the workbooks of a batch stamped from one
# template share their relationships, workbook.xml and styles.xml, which are then parsed once.
_READ: dict[bytes, xmlread.Element] = {}
_READ_MAX = 64  # trees kept (the oldest goes first) ...
_READ_PART_MAX = 1 << 16  # ... of parts up to this size


def read_xml(data: bytes, *, part: str = "", file: str | Path | None = None) -> xmlread.Element:
    """Parse one package part into a read-only tree (:mod:`xmlread`, no lxml), hardened as
    :func:`parse_xml` and refused with the same messages. A small part with the same bytes as
    one read before gets the same tree (trees are only read, never changed)."""
    tree = _READ.get(data)
    if tree is not None:
        return tree
    _refuse_doctype(data, part, file)
    try:
        tree = xmlread.parse(data)
    except xmlread.XMLError as exc:
        if exc.doctype:
            raise UnsafeWorkbook(f"Delen {part} innehåller en DOCTYPE-deklaration, vilket inte är tillåtet",
                                 file=file) from None
        raise NotAWorkbook(f"Delen {part} i arbetsboken är skadad (ogiltig XML: {exc})", file=file) from exc
    if len(data) <= _READ_PART_MAX:
        if len(_READ) >= _READ_MAX:
            del _READ[next(iter(_READ))]
        _READ[data] = tree
    return tree


_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'  # what a new part starts with


def serialize_xml(tree: etree._ElementTree, original: bytes | None = None) -> bytes:
    """Serialise ``tree``, keeping the original XML declaration (and what followed it) verbatim."""
    from lxml import etree

    encoding = tree.docinfo.encoding or "UTF-8"
    body = etree.tostring(tree, encoding=encoding, xml_declaration=False)
    m = _DECL.match(original or b"")
    if m:
        return m.group(0) + body
    return DECLARATION + body


def local(el: etree._Element | xmlread.Element) -> str:
    """An element's name without its namespace ("" for a comment or processing instruction)."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


# --- part names ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # asked for the same few parts many times in a write
def rels_part(part: str) -> str:
    """xl/workbook.xml -> xl/_rels/workbook.xml.rels"""
    d, name = posixpath.split(part)
    return posixpath.join(d, "_rels", name + ".rels")


@functools.lru_cache(maxsize=4096)
def resolve_target(source_part: str, target: str) -> str:
    """Resolve a relationship target (relative to the source part, or absolute) to a zip name."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    base = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(base, target))


def relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


def relationship_dicts(root: etree._Element | xmlread.Element, source_part: str) -> list[dict[str, str]]:
    """The ``<Relationship>`` children of ``root`` as dicts with Id, Type, Target and ``part``
    (the target resolved against ``source_part``, unless it is external). A relationship
    without an Id is left out: no part can name it."""
    out = []
    for rel in root:
        if local(rel) != "Relationship" or rel.get("Id") is None:  # without an Id nothing can refer to it
            continue
        d = dict(rel.attrib)
        if d.get("TargetMode") != "External" and "Target" in d:
            d["part"] = resolve_target(source_part, d["Target"])
        out.append(d)
    return out


def sheet_id(given: str | None) -> int | None:
    """A ``<sheet>``'s sheetId, or None when it has none or one that is not a number ("x", "²",
    "-1"): Excel wants an unsigned int, but calamine finds sheets by r:id and never reads it, so
    such a workbook opens. The id only matches calc-chain entries and keeps a new sheet's id free."""
    return int(given) if given and ascii_digits(given) else None


class SheetInfo(Record, frozen=True):
    name: str
    part: str | None  # zip name of the worksheet part (None if the relationship is broken)
    sheet_id: int | None  # None: no readable sheetId (see sheet_id)
    rid: str
    state: str = "visible"  # visible | hidden | veryHidden
    kind: str = "worksheet"  # relationship type suffix: worksheet, chartsheet, dialogsheet ...


# --- the package --------------------------------------------------------------------------


def _inflate_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A small stored or deflated part's bytes read straight from the archive, or None.

    ``zipfile`` reads a part through a ZipExtFile (a shared file with its lock, buffered reads, a
    running CRC): about 30 us a part on top of the inflating, more than the inflating itself for
    a sheet of a few KB. This reads the local header, the name and the data in three calls,
    inflates in one, and returns the bytes only when everything is as ``zipfile`` checks it: the
    header and name match the directory, the stream ends where it should, and the size and CRC
    are the directory's. Anything else (encryption, another method, a header or CRC that does not
    match) returns None: the caller reads the part through ``zipfile``, which also words the error.
    """
    fp = zf.fp
    if fp is None or info.flag_bits & 0x61 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None  # encrypted (0x01), patched (0x20) or strongly encrypted (0x40), or another method
    fp.seek(info.header_offset)
    head = fp.read(_LOCAL.size)
    if len(head) != _LOCAL.size:
        return None
    magic, _version, flags, _method, _time, _date, _crc, _csize, _usize, name_len, extra_len = _LOCAL.unpack(head)
    if magic != b"PK\x03\x04":
        return None
    try:
        name = fp.read(name_len).decode("utf-8" if flags & 0x800 else zf.metadata_encoding or "cp437")
    except UnicodeDecodeError:
        return None
    if name != info.orig_filename:
        return None
    fp.seek(extra_len, os.SEEK_CUR)
    raw = fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(raw, info.file_size + 1)  # never more than the directory says, plus one
        except zlib.error:
            return None
        if not inflater.eof:
            return None
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        return None
    return data


class Package(Record):
    """An opened, checked workbook package (read-only)."""

    path: Path
    zf: zipfile.ZipFile
    workbook_part: str = ""
    limits: Limits = DEFAULT_LIMITS
    _sheets: list[SheetInfo] | None = field(default=None, repr=False)
    _read_trees: dict[str, xmlread.Element] = field(default_factory=dict, repr=False)  # read-only: shared
    # the bytes of small parts once read (see KEEP_PART_MAX): a write reads most of the parts it
    # changes several times (the dependent-formula scan, the edit, the comparison with the original)
    _kept: dict[str, bytes] = field(default_factory=dict, repr=False)
    _kept_size: int = field(default=0, repr=False)

    @property
    def names(self) -> list[str]:
        return self.zf.namelist()

    def has(self, name: str) -> bool:
        try:
            self.zf.getinfo(name)
        except KeyError:
            return False
        return True

    def read(self, name: str) -> bytes:
        try:
            return self.read_raw(name)
        except KeyError:
            raise NotAWorkbook(f"Delen {name} saknas i arbetsboken", file=self.path) from None
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            raise NotAWorkbook(f"Delen {name} i arbetsboken är skadad ({exc})", file=self.path) from exc

    def read_raw(self, name: str) -> bytes:
        """:meth:`read` with zipfile's own exceptions (KeyError, BadZipFile, zlib.error, OSError).

        A part of up to :data:`KEEP_PART_MAX` bytes is inflated once per package and kept (up to
        :data:`KEEP_TOTAL_MAX` in all); a larger one is read again each time, never held."""
        data = self._kept.get(name)
        if data is None:
            info = self.zf.getinfo(name)
            data = _inflate_small(self.zf, info) if info.file_size <= KEEP_PART_MAX else None
            if data is None:
                data = self.zf.read(info)
            if len(data) <= KEEP_PART_MAX and self._kept_size + len(data) <= KEEP_TOTAL_MAX:
                self._kept[name] = data
                self._kept_size += len(data)
        return data

    def xml(self, name: str) -> etree._ElementTree:
        """The part as an lxml tree, to edit (:meth:`read_xml` only to read it)."""
        return parse_xml(self.read(name), part=name, file=self.path)

    def read_xml(self, name: str) -> xmlread.Element:
        """The root of the part as a read-only tree (no lxml), parsed once per package."""
        tree = self._read_trees.get(name)
        if tree is None:
            tree = self._read_trees[name] = read_xml(self.read(name), part=name, file=self.path)
        return tree

    def relationships(self, part: str) -> list[dict[str, str]]:
        """The relationships of ``part`` as dicts with Id, Type, Target (resolved unless external)."""
        rp = rels_part(part) if part else ROOT_RELS
        return relationship_dicts(self.read_xml(rp), part) if self.has(rp) else []

    def sheets(self) -> list[SheetInfo]:
        """All sheets in workbook order with their parts and visibility."""
        if self._sheets is None:
            rels = {r["Id"]: r for r in self.relationships(self.workbook_part)}
            out = []
            for el in self.read_xml(self.workbook_part).iter(q("sheet")):
                rid = el.get(q("id", NS_R), "")
                rel = rels.get(rid, {})
                kind = rel.get("Type", "").rsplit("/", 1)[-1] or "worksheet"
                out.append(SheetInfo(name=el.get("name", ""), part=rel.get("part"),
                                     sheet_id=sheet_id(el.get("sheetId")), rid=rid,
                                     state=el.get("state", "visible"), kind=kind))
            self._sheets = out
        return self._sheets

    def sheet(self, name: str) -> SheetInfo | None:
        """The sheet called ``name``; as in Excel, case does not matter ("rapport" is "Rapport")."""
        sheets = self.sheets()
        folded = name.casefold()
        return next((s for s in sheets if s.name == name), None) or \
            next((s for s in sheets if s.name.casefold() == folded), None)

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_path(path: Path) -> int:
    """The file's size, once it is known to be a regular file that can be read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if set("*?[") & set(path.name):  # a pattern the shell or the batch found nothing for
            raise NotAWorkbook("Inga filer matchar mönstret", file=path) from None
        raise NotAWorkbook("Filen finns inte", file=path) from None
    except PermissionError:
        raise NotAWorkbook("Du har inte behörighet att läsa filen eller mappen den ligger i", file=path) from None
    except OSError as exc:
        raise NotAWorkbook(f"Filen kan inte läsas ({os_error_sv(exc)})", file=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise NotAWorkbook("Sökvägen är en mapp, inte en arbetsbok", file=path)
    if not stat.S_ISREG(st.st_mode):
        raise NotAWorkbook("Sökvägen är inte en vanlig fil", file=path)
    if st.st_size > MAX_ZIP_SIZE:
        raise UnsafeWorkbook("Filen är större än 4 GiB och kan inte hanteras", file=path)
    return st.st_size


_OLE2_SCAN = 64 << 20  # read at most this much of an OLE2 file to tell what it is


def _ole2_kind(path: Path) -> str:
    """"encrypted", "xls" or "" for an OLE2 compound file, by the stream names in its directory.

    The directory entries hold the names as UTF-16LE; an encrypted OOXML workbook has the
    streams EncryptionInfo and EncryptedPackage, a legacy workbook a Workbook (or Book) stream.
    """
    with open(path, "rb") as f:
        data = f.read(_OLE2_SCAN)
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return "encrypted"
    if "Workbook".encode("utf-16-le") in data or "Book\0".encode("utf-16-le") in data:
        return "xls"
    return ""


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return b"\x00" not in head


def _read_head(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of the file (all of it if shorter), in as few reads as the system
    gives them (unbuffered: no buffer to fill, and no check of whether the file is a terminal)."""
    try:
        with open(path, "rb", buffering=0) as f:
            parts, got = [], 0
            while got < n and (part := f.read(n - got)):
                parts.append(part)
                got += len(part)
            return b"".join(parts)
    except PermissionError:
        raise NotAWorkbook("Du har inte behörighet att läsa filen", file=path) from None
    except OSError as exc:
        raise NotAWorkbook(f"Filen kan inte läsas ({os_error_sv(exc)})", file=path) from None


def _check_magic(path: Path, head: bytes) -> None:
    """Refuse, with the reason, a file whose first bytes (``head``) are not a zip archive's."""
    if head.startswith(ZIP_MAGIC):
        return
    if head.startswith(OLE2_MAGIC):
        kind = _ole2_kind(path)
        if kind == "encrypted":
            raise NotAWorkbook(
                "Arbetsboken är lösenordsskyddad (krypterad) och kan inte läsas: öppna den i Excel, ta bort "
                "lösenordet (Arkiv > Info > Skydda arbetsbok) och spara, och försök igen", file=path)
        if kind == "xls":
            raise NotAWorkbook(
                "Filen är en gammal Excel-arbetsbok (.xls), som inte stöds: öppna den i Excel och spara "
                "den som .xlsx, och försök igen", file=path)
        raise NotAWorkbook(
            "Filen är krypterad eller gammal .xls: ta bort lösenordsskyddet eller spara den "
            "som .xlsx i Excel och försök igen", file=path)
    if not head:
        raise NotAWorkbook("Filen är tom, inte en Excel-arbetsbok (.xlsx/.xlsm)", file=path)
    if _looks_like_text(head):
        raise NotAWorkbook("Filen är en textfil (t.ex. CSV), inte en Excel-arbetsbok (.xlsx/.xlsm): "
                           "öppna den i Excel och spara som .xlsx", file=path)
    raise NotAWorkbook(MSG_NOT_WORKBOOK, file=path)


def _check_limits(zf: zipfile.ZipFile, path: Path, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeWorkbook(f"Arbetsboken har för många delar ({len(infos)}, högst "
                             f"{limits.max_entries} tillåts)", file=path)
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        twice = min(n for n, k in Counter(names).items() if k > 1)
        raise UnsafeWorkbook(f"Arbetsboken innehåller delen {twice} två gånger; program kan läsa olika "
                             "versioner av den, så filen behandlas inte", file=path)
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.ratio_min_size and \
                info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeWorkbook(f"Delen {info.filename} packas upp orimligt mycket "
                                 f"({info.file_size // max(info.compress_size, 1)} gånger); "
                                 "filen kan vara en zip-bomb", file=path)
    if total > limits.max_total_size:
        raise UnsafeWorkbook(f"Arbetsboken är för stor uppackad ({total // (1 << 20)} MiB, högst "
                             f"{limits.max_total_size // (1 << 20)} MiB tillåts)", file=path)


def _find_workbook_part(pkg: Package) -> str:
    names = set(pkg.names)
    if "xl/workbook.bin" in names:
        raise NotAWorkbook("Filen är en binär arbetsbok (.xlsb), som inte stöds: spara den som .xlsx",
                           file=pkg.path)
    if CONTENT_TYPES not in names:
        if "mimetype" in names and pkg.zf.read("mimetype").startswith(b"application/vnd.oasis.opendocument"):
            raise NotAWorkbook("Filen är ett OpenDocument-dokument (.ods), inte en Excel-arbetsbok: öppna den i "
                               "LibreOffice eller Excel och spara den som Excel-arbetsbok (.xlsx), och försök igen",
                               file=pkg.path)
        raise NotAWorkbook(MSG_NOT_WORKBOOK + f": {CONTENT_TYPES} saknas", file=pkg.path)
    for rel in pkg.relationships(""):
        if is_rel(rel.get("Type"), REL_OFFICE_DOCUMENT) and "part" in rel:
            part = rel["part"]
            if part not in names:
                break
            root = pkg.read_xml(part)
            if local(root) != "workbook":
                raise NotAWorkbook(MSG_NOT_WORKBOOK + " (det är ett annat Office-dokument)", file=pkg.path)
            if root.tag.startswith("{" + NS_STRICT_MAIN + "}"):
                raise NotAWorkbook("Arbetsboken är sparad som Strict Open XML, som xlreport inte kan skriva utan "
                                   "att ändra den: öppna den i Excel och spara som Excel-arbetsbok (.xlsx), och "
                                   "försök igen", file=pkg.path)
            if pkg.path.suffix.lower() == ".xls":
                raise NotAWorkbook("Filen heter .xls men är en Excel-arbetsbok i det nya formatet (.xlsx): byt "
                                   "filändelsen till .xlsx (eller .xlsm om den har makron), och försök igen",
                                   file=pkg.path)
            return part
    raise NotAWorkbook(MSG_NOT_WORKBOOK + ": arbetsboksdelen saknas", file=pkg.path)


def open_package(path: str | Path, limits: Limits | None = None) -> Package:
    """Open and check a workbook package; raise NotAWorkbook/UnsafeWorkbook with Swedish messages."""
    path = Path(path)
    limits = current_limits() if limits is None else limits
    size = _check_path(path)
    # A small workbook is read into memory in one call: zipfile then seeks and reads in memory,
    # where it made about forty system calls a workbook (~0.1 ms a file of a batch).
    data = _read_head(path, size + 1 if size <= READ_WHOLE_MAX else 4096)  # one more: a file grown since
    _check_magic(path, data[:4096])
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if len(data) <= READ_WHOLE_MAX and len(data) == size else path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotAWorkbook(MSG_NOT_WORKBOOK + " (zip-arkivet är skadat)", file=path) from exc
    pkg = Package(path=path, zf=zf, limits=limits)
    try:
        _check_limits(zf, path, limits)
        pkg.workbook_part = _find_workbook_part(pkg)
    except BaseException:
        zf.close()
        raise
    return pkg


# --- streaming checks of the parts a reader will parse ----------------------------------

_CHUNK = 1 << 16


def part_chunks(pkg: Package, name: str, limits: Limits | None = None):
    """Yield the decompressed bytes of one part in chunks, checked on the way.

    Refuses a part larger than ``limits.max_part_size``, a part that inflates to more than its
    header declares (zipfile stops at the declared size and checks the CRC), and any DOCTYPE or
    ENTITY declaration (entity-expansion bombs, external entities), wherever it is.
    """
    limits = limits or pkg.limits
    try:
        info = pkg.zf.getinfo(name)
    except KeyError:
        raise NotAWorkbook(f"Delen {name} saknas i arbetsboken", file=pkg.path) from None
    if info.file_size > limits.max_part_size:
        raise UnsafeWorkbook(f"Delen {name} är för stor uppackad ({info.file_size // (1 << 20)} MiB, högst "
                             f"{limits.max_part_size // (1 << 20)} MiB läses)", file=pkg.path)
    tail = b""
    seen = 0
    try:
        for chunk in raw_chunks(pkg, info, whole_up_to=_CHUNK):
            seen += len(chunk)
            if seen > limits.max_part_size:
                raise UnsafeWorkbook(f"Delen {name} är större än vad arkivet anger; filen kan vara en "
                                     "zip-bomb", file=pkg.path)
            window = tail + chunk
            if window.find(b"<!DOCTYPE") >= 0 or window.find(b"<!ENTITY") >= 0:  # find: see scan._scan_piece
                raise UnsafeWorkbook(f"Delen {name} innehåller en DOCTYPE- eller ENTITY-deklaration, "
                                     "vilket inte är tillåtet i en arbetsbok", file=pkg.path)
            tail = chunk[-16:]
            yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise NotAWorkbook(f"Delen {name} i arbetsboken är skadad ({exc})", file=pkg.path) from exc


def raw_chunks(pkg: Package, info: zipfile.ZipInfo, *, whole_up_to: int):
    """The inflated bytes of a part in chunks, unchecked. A part of up to ``whole_up_to`` bytes
    comes in one piece, kept by the package for whoever reads it next (the reader, a writer)."""
    if info.file_size <= whole_up_to:
        if data := pkg.read_raw(info.filename):
            yield data
        return
    with pkg.zf.open(info) as f:
        while chunk := f.read(_CHUNK):
            yield chunk


def pull_parser(**events) -> etree.XMLPullParser:
    """An incremental parser with the same hardening as :func:`parse_xml`."""
    from lxml import etree

    return etree.XMLPullParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                               **events)


def check_part(pkg: Package, name: str, limits: Limits | None = None) -> None:
    """Stream one part through the checks of :func:`part_chunks` (size, inflation, DTDs).

    The part is not parsed here: that is what made refreshing a workbook with a large ledger
    cost twice the reading floor (sharedStrings holds every ledger text). The reader that
    parses it next (calamine) expands no entities, and malformed XML makes it fail with an
    error the file door reports as a damaged workbook.
    """
    for _ in part_chunks(pkg, name, limits):
        pass


# --- raw zip copy -------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_CDIR = struct.Struct("<4s6H3L5H2L")  # central directory file header, 46 bytes
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header, 30 bytes


class _RawEntry(Record):
    name: str
    central: bytes  # the whole central directory record (header + name + extra + comment)
    offset: int
    compress_size: int
    flags: int


def _end_of_central_directory(f) -> tuple[int, int, int]:
    """(number of entries, size, offset) of the central directory of the zip open as ``f``."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    tail_len = min(size, 65536 + _EOCD.size)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0:
        raise zipfile.BadZipFile("no end of central directory")
    _, _, _, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, pos)
    if 0xFFFFFFFF in (cd_size, cd_offset) or count == 0xFFFF:
        raise zipfile.BadZipFile("zip64 is not supported")
    return count, cd_size, cd_offset


def _read_central_directory(f) -> list[_RawEntry]:
    count, cd_size, cd_offset = _end_of_central_directory(f)
    f.seek(cd_offset)
    cd = f.read(cd_size)
    entries, p = [], 0
    for _ in range(count):
        rec = _CDIR.unpack_from(cd, p)
        if rec[0] != b"PK\x01\x02":
            raise zipfile.BadZipFile("bad central directory record")
        flags, csize, n_len, x_len, c_len, offset = rec[3], rec[8], rec[10], rec[11], rec[12], rec[16]
        if 0xFFFFFFFF in (csize, offset, rec[9]):
            raise zipfile.BadZipFile("zip64 is not supported")
        end = p + _CDIR.size + n_len + x_len + c_len
        raw_name = cd[p + _CDIR.size:p + _CDIR.size + n_len]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        entries.append(_RawEntry(name, cd[p:end], offset, csize, flags))
        p = end
    return entries


_COPY_CHUNK = 1 << 20


def _copy_raw_entry(f, entry: _RawEntry, out) -> None:
    """Copy one entry as stored (local header, compressed data, data descriptor) from ``f`` to
    ``out``, in chunks: a large part (a ledger sheet) is never held whole in memory."""
    f.seek(entry.offset)
    head = f.read(_LOCAL.size)
    sig, *_rest, n_len, x_len = _LOCAL.unpack(head)
    if sig != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {entry.name}")
    out.write(head)
    left = n_len + x_len + entry.compress_size
    while left > 0:
        chunk = f.read(min(left, _COPY_CHUNK))
        if not chunk:
            raise zipfile.BadZipFile(f"truncated data for {entry.name}")
        out.write(chunk)
        left -= len(chunk)
    if entry.flags & 0x08:  # data descriptor follows: optional signature, crc, sizes
        desc = f.read(16)
        out.write(desc[:16] if desc[:4] == b"PK\x07\x08" else desc[:12])


def _now() -> float:
    """The time stamped on new zip entries; ``SOURCE_DATE_EPOCH`` fixes it for reproducible output."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if ascii_digits(fixed):
        return float(fixed)
    return time.time()


def _dos_time(t: float, *, utc: bool = False) -> tuple[int, int]:
    lt = time.gmtime(t) if utc else time.localtime(t)
    year = max(lt.tm_year, 1980)
    dtime = (lt.tm_hour << 11) | (lt.tm_min << 5) | (lt.tm_sec // 2)
    ddate = ((year - 1980) << 9) | (lt.tm_mon << 5) | lt.tm_mday
    return dtime, ddate


def _deflated_entry(name: str, data: bytes, offset: int, when: tuple[int, int]) -> tuple[bytes, bytes]:
    """(local header + data, central directory record) for a freshly deflated entry."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    crc = zlib.crc32(data) & 0xFFFFFFFF
    raw_name = name.encode("utf-8")
    flags = 0x800 if not name.isascii() else 0
    dtime, ddate = when
    local_h = _LOCAL.pack(b"PK\x03\x04", 20, flags, 8, dtime, ddate, crc, len(body), len(data),
                          len(raw_name), 0)
    central = _CDIR.pack(b"PK\x01\x02", 20, 20, flags, 8, dtime, ddate, crc, len(body), len(data),
                         len(raw_name), 0, 0, 0, 0, 0, offset)
    return local_h + raw_name + body, central + raw_name


def _patch_offset(central: bytes, offset: int) -> bytes:
    return central[:42] + struct.pack("<L", offset) + central[46:]


def _ordered_names(entries: list[_RawEntry], add: dict[str, bytes], remove: set[str]) -> list[str]:
    names = [e.name for e in entries if e.name not in remove]
    names += [n for n in add if n not in names]
    if CONTENT_TYPES in names:
        names.remove(CONTENT_TYPES)
        names.insert(0, CONTENT_TYPES)
    return names


def write_package(src_path: str | Path, dest_path: str | Path, replace: dict[str, bytes] | None = None,
                  add: dict[str, bytes] | None = None, remove: set[str] | None = None) -> None:
    """Write a copy of the package at ``src_path`` to ``dest_path`` with parts changed.

    Entries not in ``replace``/``add``/``remove`` are copied byte for byte (no recompression).
    ``[Content_Types].xml`` is written first; otherwise the source order is kept and added parts
    come last. The destination file is flushed and fsynced before returning.
    """
    replace, add, remove = dict(replace or {}), dict(add or {}), set(remove or ())
    when = _dos_time(_now())
    with open(src_path, "rb") as src, open(dest_path, "wb") as out:
        entries = _read_central_directory(src)
        by_name = {e.name: e for e in entries}
        missing = set(replace) - set(by_name)
        if missing:
            raise KeyError(f"cannot replace missing parts: {sorted(missing)}")
        centrals = []
        for name in _ordered_names(entries, add, remove):
            offset = out.tell()
            new_data = replace.get(name, add.get(name))
            if new_data is None:
                _copy_raw_entry(src, by_name[name], out)
                centrals.append(_patch_offset(by_name[name].central, offset))
            else:
                local_bytes, central = _deflated_entry(name, new_data, offset, when)
                out.write(local_bytes)
                centrals.append(central)
        cd_offset = out.tell()
        out.writelines(centrals)
        cd_size = out.tell() - cd_offset
        if out.tell() > MAX_ZIP_SIZE or len(centrals) >= 0xFFFF:
            raise UnsafeWorkbook("Resultatet skulle bli större än 4 GiB", file=dest_path)
        out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, len(centrals), len(centrals), cd_size, cd_offset, 0))
        out.flush()
        os.fsync(out.fileno())


def set_entry_times(path: str | Path, names: set[str], epoch: float) -> None:
    """Set the modification time of the zip entries ``names`` of ``path`` to ``epoch`` (UTC), in place.

    Only the time fields of their local headers and central directory records change. The
    package writer stamps fresh entries with the current time; ``consolidate`` sets them to a
    time derived from its inputs so that a re-run gives the same bytes.
    """
    when = struct.pack("<2H", *_dos_time(max(epoch, 315532800), utc=True))  # not before 1980-01-01
    with open(path, "r+b") as f:
        entries = _read_central_directory(f)
        _count, _size, record = _end_of_central_directory(f)
        for entry in entries:
            if entry.name in names:
                f.seek(record + 12)  # central record: version made by, needed, flags, method, time
                f.write(when)
                f.seek(entry.offset + 10)  # local header: signature, version, flags, method, time
                f.write(when)
            record += len(entry.central)


def content_type_override(part: str) -> str:
    """The PartName used in [Content_Types].xml for a zip entry name."""
    return "/" + str(PurePosixPath(part))
