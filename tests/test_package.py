"""The OPC package layer: safe opening, hardened XML, part resolution and the raw-copy writer."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from support.workbooks import raw_compressed
from xlreport.core.errors import NotAWorkbook, UnsafeWorkbook
from xlreport.ooxml.names import CONTENT_TYPES
from xlreport.ooxml.package import Limits, open_package, parse_xml, resolve_target, write_package

CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
      b'package/2006/content-types"/>')
ROOT_RELS = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             b'officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>')
WORKBOOK = (b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main"><sheets/></workbook>')


def make_zip(path: Path, entries: dict[str, bytes], *, stream: bool = False) -> Path:
    """A zip with the given entries; ``stream`` writes through a non-seekable file (data descriptors)."""
    if stream:
        class Unseekable(io.RawIOBase):
            def __init__(self, f):
                self.f = f

            def writable(self):
                return True

            def write(self, b):
                return self.f.write(b)

        with open(path, "wb") as raw, zipfile.ZipFile(Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries.items():
                zf.writestr(name, data)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def minimal_workbook(path: Path, **extra: bytes) -> Path:
    entries = {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"xl/workbook.xml", "xl/workbook.xml": WORKBOOK}
    entries.update({k.replace("__", "/"): v for k, v in extra.items()})
    return make_zip(path, entries)


# --- opening: what is refused, and how ----------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(NotAWorkbook, match="Filen finns inte"):
        open_package(tmp_path / "nope.xlsx")


def test_directory(tmp_path):
    with pytest.raises(NotAWorkbook, match="Sökvägen är en mapp"):
        open_package(tmp_path)


def test_legacy_xls_or_encrypted(tmp_path):
    p = tmp_path / "old.xlsx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(NotAWorkbook, match="krypterad eller gammal .xls"):
        open_package(p)


def test_csv_renamed(tmp_path):
    p = tmp_path / "data.xlsx"
    p.write_text("Konto;Utfall\nIntäkter;12,5\n", encoding="utf-8")
    with pytest.raises(NotAWorkbook, match="textfil"):
        open_package(p)


def test_random_binary(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(NotAWorkbook, match=r"inte en Excel-arbetsbok \(.xlsx/.xlsm\)"):
        open_package(p)


def test_damaged_zip(tmp_path):
    p = tmp_path / "broken.xlsx"
    p.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(NotAWorkbook, match="skadat"):
        open_package(p)


def test_xlsb(tmp_path):
    p = make_zip(tmp_path / "b.xlsx", {CONTENT_TYPES: CT, "xl/workbook.bin": b"\0"})
    with pytest.raises(NotAWorkbook, match="xlsb"):
        open_package(p)


def test_zip_without_content_types(tmp_path):
    p = make_zip(tmp_path / "z.xlsx", {"hello.txt": b"hi"})
    with pytest.raises(NotAWorkbook, match=r"\[Content_Types\].xml saknas"):
        open_package(p)


def test_other_office_document(tmp_path):
    doc = b'<?xml version="1.0"?><document xmlns="urn:x"/>'
    p = make_zip(tmp_path / "w.xlsx", {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"word/document.xml",
                                       "word/document.xml": doc})
    with pytest.raises(NotAWorkbook, match="annat Office-dokument"):
        open_package(p)


def test_missing_workbook_part(tmp_path):
    p = make_zip(tmp_path / "m.xlsx", {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"xl/workbook.xml"})
    with pytest.raises(NotAWorkbook, match="arbetsboksdelen saknas"):
        open_package(p)


def test_minimal_workbook_opens(tmp_path):
    with open_package(minimal_workbook(tmp_path / "ok.xlsx")) as pkg:
        assert pkg.workbook_part == "xl/workbook.xml"
        assert pkg.sheets() == []


# --- limits -------------------------------------------------------------------------------


def test_too_many_entries(tmp_path):
    p = minimal_workbook(tmp_path / "many.xlsx", **{f"x__{i}.xml": b"<a/>" for i in range(10)})
    open_package(p).close()
    with pytest.raises(UnsafeWorkbook, match="för många delar"):
        open_package(p, Limits(max_entries=12))


def test_total_size_limit(tmp_path):
    p = minimal_workbook(tmp_path / "big.xlsx", x__big=b"a" * 50_000)
    with pytest.raises(UnsafeWorkbook, match="för stor uppackad"):
        open_package(p, Limits(max_total_size=40_000))


def test_zip_bomb_ratio(tmp_path):
    p = minimal_workbook(tmp_path / "bomb.xlsx", x__zeros=b"\0" * (3 << 20))  # ~1000:1
    with pytest.raises(UnsafeWorkbook, match="zip-bomb"):
        open_package(p)
    open_package(p, Limits(max_ratio=10_000)).close()


# --- hardened XML -------------------------------------------------------------------------


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE])
def test_doctype_refused(data):
    with pytest.raises(UnsafeWorkbook, match="DOCTYPE"):
        parse_xml(data, part="xl/workbook.xml")


def test_doctype_in_workbook_part_refused(tmp_path):
    p = make_zip(tmp_path / "x.xlsx", {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"xl/workbook.xml",
                                       "xl/workbook.xml": BILLION_LAUGHS})
    with pytest.raises(UnsafeWorkbook):
        open_package(p)


def test_bad_xml_is_not_a_workbook():
    with pytest.raises(NotAWorkbook, match="ogiltig XML"):
        parse_xml(b"<a><b></a>", part="xl/styles.xml")


# --- resolving parts ----------------------------------------------------------------------


def test_resolve_target_relative_and_absolute():
    assert resolve_target("xl/workbook.xml", "worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve_target("xl/workbook.xml", "/xl/worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve_target("xl/workbook.xml", "../customXml/item1.xml") == "customXml/item1.xml"
    assert resolve_target("", "xl/workbook.xml") == "xl/workbook.xml"


def test_sheets_and_visibility(fixtures_dir):
    with open_package(fixtures_dir / "finance.xlsx") as pkg:
        sheets = {s.name: s for s in pkg.sheets()}
        assert [s.name for s in pkg.sheets()] == ["Summary", "Transactions", "Assumptions", "Lookups", "Scratch"]
        assert sheets["Summary"].state == "visible"
        assert sheets["Lookups"].state == "hidden"
        assert sheets["Scratch"].state == "veryHidden"
        assert all(pkg.has(s.part) for s in sheets.values())


def test_libreoffice_pivot_sheets_resolve(fixtures_dir):
    with open_package(fixtures_dir / "finance_lo_pivot.xlsx") as pkg:
        assert pkg.sheet("Pivot").part == "xl/worksheets/sheet6.xml"
        assert pkg.sheet("Lookups").state == "hidden"


def test_absolute_targets(tmp_path):
    rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>')
    wb = WORKBOOK.replace(b"<sheets/>", b'<sheets><sheet xmlns:r="http://schemas.openxmlformats.org/'
                          b'officeDocument/2006/relationships" name="A" sheetId="1" r:id="rId1"/></sheets>')
    p = make_zip(tmp_path / "abs.xlsx", {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"/xl/workbook.xml",
                                         "xl/workbook.xml": wb, "xl/_rels/workbook.xml.rels": rels,
                                         "xl/worksheets/sheet1.xml": b"<worksheet/>"})
    with open_package(p) as pkg:
        assert pkg.workbook_part == "xl/workbook.xml"
        assert pkg.sheet("A").part == "xl/worksheets/sheet1.xml"


@pytest.mark.fixture_workbooks("path")
def test_every_fixture_opens(path):
    with open_package(path) as pkg:
        assert pkg.sheets()
        assert all(s.part is None or pkg.has(s.part) for s in pkg.sheets())


def _parts(path, **kw) -> tuple[type, dict[str, bytes]]:
    with open_package(path, **kw) as pkg:
        return type(pkg.zf.fp), {n: pkg.read(n) for n in pkg.names}


def test_a_small_workbook_is_read_from_memory_a_large_one_from_the_file(tmp_path, monkeypatch):
    """Both give the parts zipfile reads from the file; so does a file whose size changed between
    the check and the read (it is then opened from the file)."""
    from support.workbooks import EXAMPLE
    from xlreport.ooxml import package

    with zipfile.ZipFile(EXAMPLE) as zf:
        expected = {n: zf.read(n) for n in zf.namelist()}
    assert EXAMPLE.stat().st_size <= package.READ_WHOLE_MAX
    assert _parts(EXAMPLE) == (io.BytesIO, expected)

    big = tmp_path / "stor.xlsx"  # the example with a stored (uncompressed) part that makes it large
    with zipfile.ZipFile(EXAMPLE) as src, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("docProps/fyllnad.bin", bytes(range(256)) * (package.READ_WHOLE_MAX // 256 + 1),
                     compress_type=zipfile.ZIP_STORED)
    kind, parts = _parts(big)
    assert kind is not io.BytesIO and {n: parts[n] for n in expected} == expected

    real = package._check_path
    monkeypatch.setattr(package, "_check_path", lambda path: real(path) - 1)  # as if it grew since
    assert _parts(EXAMPLE) != (io.BytesIO, expected) and _parts(EXAMPLE)[1] == expected


# --- the raw-copy writer ------------------------------------------------------------------


def test_write_package_copies_raw_and_replaces(tmp_path, fixtures_dir):
    src = fixtures_dir / "finance_lo_pivot.xlsx"  # LibreOffice writes [Content_Types].xml last
    dest = tmp_path / "out.xlsx"
    write_package(src, dest, replace={"xl/styles.xml": b"<styleSheet/>"}, add={"x/new.xml": b"<new/>"},
                  remove={"docProps/custom.xml"})
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dest) as b:
        assert b.testzip() is None
        names = b.namelist()
        assert names[0] == CONTENT_TYPES
        assert names[-1] == "x/new.xml"
        assert "docProps/custom.xml" not in names
        expected_order = [n for n in a.namelist() if n not in ("docProps/custom.xml", CONTENT_TYPES)]
        assert names[1:-1] == expected_order
        assert b.read("xl/styles.xml") == b"<styleSheet/>"
        for name in expected_order:
            if name == "xl/styles.xml":
                continue
            assert b.read(name) == a.read(name)
            assert raw_compressed(dest, name) == raw_compressed(src, name)
            ia, ib = a.getinfo(name), b.getinfo(name)
            assert (ia.date_time, ia.CRC, ia.compress_type, ia.external_attr) == \
                   (ib.date_time, ib.CRC, ib.compress_type, ib.external_attr)


def test_write_package_keeps_data_descriptors(tmp_path):
    src = make_zip(tmp_path / "s.xlsx", {CONTENT_TYPES: CT, "a.xml": b"<a>" + b"x" * 5000 + b"</a>",
                                         "b.xml": b"<b/>"}, stream=True)
    with zipfile.ZipFile(src) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())
    dest = tmp_path / "d.xlsx"
    write_package(src, dest, replace={"b.xml": b"<b>new</b>"})
    with zipfile.ZipFile(dest) as zf:
        assert zf.testzip() is None
        assert zf.read("a.xml") == b"<a>" + b"x" * 5000 + b"</a>"
        assert zf.read("b.xml") == b"<b>new</b>"
        assert zf.getinfo("a.xml").flag_bits & 0x08


def test_write_package_rejects_replacing_missing_part(tmp_path, fixtures_dir):
    with pytest.raises(KeyError):
        write_package(fixtures_dir / "finance.xlsx", tmp_path / "o.xlsx", replace={"nope.xml": b""})


def test_write_package_unicode_names(tmp_path):
    src = make_zip(tmp_path / "u.xlsx", {CONTENT_TYPES: CT, "xl/media/bild_å.png": b"\x89PNG"})
    dest = tmp_path / "o.xlsx"
    write_package(src, dest, add={"xl/ny_ö.xml": b"<x/>"})
    with zipfile.ZipFile(dest) as zf:
        assert zf.read("xl/media/bild_å.png") == b"\x89PNG"
        assert zf.read("xl/ny_ö.xml") == b"<x/>"


def test_small_parts_are_inflated_once_and_large_ones_every_time(fixtures_dir, monkeypatch):
    from xlreport.ooxml import package

    with open_package(fixtures_dir / "finance.xlsx") as pkg:
        sizes = {info.filename: info.file_size for info in pkg.zf.infolist()}
        small, large = min(sizes, key=sizes.get), max(sizes, key=sizes.get)
        monkeypatch.setattr(package, "KEEP_PART_MAX", (sizes[small] + sizes[large]) // 2)
        assert pkg.read(small) is pkg.read(small) == pkg.zf.read(small)
        assert pkg.read(large) is not pkg.read(large) and pkg.read(large) == pkg.zf.read(large)
        monkeypatch.setattr(package, "KEEP_TOTAL_MAX", 0)  # the total kept is bounded too
        other = next(n for n in sizes if n not in (small, large) and sizes[n])
        assert pkg.read(other) is not pkg.read(other)
        with pytest.raises(KeyError):
            pkg.read_raw("xl/saknas.xml")
        with pytest.raises(NotAWorkbook):
            pkg.read("xl/saknas.xml")


@pytest.mark.fixture_workbooks("path")
def test_an_edit_reads_the_unchanged_parts_as_lxml_would(path):
    """Relationships and sheets an edit reads from the package's read-only trees are what the
    lxml trees of the same parts give; once a part is changed in the edit, its change shows."""
    from xlreport.ooxml.edit import PackageEdit
    from xlreport.ooxml.package import relationship_dicts, rels_part

    with PackageEdit.opened(path) as edit:
        for name in edit.pkg.names:
            if name.endswith(".rels"):
                source = name.replace("_rels/", "").removesuffix(".rels")
                assert edit.relationships(source) == relationship_dicts(edit.xml(name).getroot(), source), name
        sheets = edit.sheets()
        root = edit.tree(edit.workbook_part).getroot()  # from here on the edit's own tree
        assert edit.sheets() == sheets
        first = next(root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"))
        first.set("name", "Omdöpt")
        edit.touch(edit.workbook_part)
        assert edit.sheets()[0].name == "Omdöpt"
        rels = edit.rels(edit.workbook_part)
        rels.remove(rels[0])
        edit.touch(rels_part(edit.workbook_part))
        assert len(edit.relationships(edit.workbook_part)) == len(rels)


def test_several_overrides_at_once_as_one_at_a_time(fixtures_dir):
    from xlreport.ooxml.edit import PackageEdit

    added = [("xl/charts/chart91.xml", "application/x-a"), ("xl/drawings/drawing91.xml", "application/x-b")]
    with PackageEdit.opened(fixtures_dir / "finance.xlsx") as one, PackageEdit.opened(fixtures_dir / "finance.xlsx") as all_:
        for part, content_type in added:
            one.add_override(part, content_type)
        all_.add_overrides(added)
        all_.add_overrides([])
        assert one.read(CONTENT_TYPES) == all_.read(CONTENT_TYPES)
        assert one.replace.keys() == all_.replace.keys() == {CONTENT_TYPES}


# --- reading small parts straight from the archive -----------------------------------------


@pytest.mark.fixture_workbooks("path")
def test_small_parts_read_straight_from_the_archive_are_what_zipfile_reads(path):
    from support.workbooks import EXAMPLE
    from xlreport.ooxml.package import _inflate_small

    for wb in (path, EXAMPLE, EXAMPLE.with_name("mall.xlsx")):
        with zipfile.ZipFile(wb) as zf:
            for info in zf.infolist():
                data = _inflate_small(zf, info)
                assert data is not None, (wb.name, info.filename)  # Excel, LibreOffice, XlsxWriter, ours
                assert data == zf.read(info)


def _flip(path: Path, name: str, at: int) -> None:
    """Flip one bit of the byte ``at`` bytes into the compressed data of entry ``name``."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        n_len, x_len = struct.unpack("<2H", f.read(4))
        f.seek(info.header_offset + 30 + n_len + x_len + at)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_damaged_small_part_goes_to_zipfile_and_is_refused(tmp_path, method):
    from xlreport.ooxml.package import _inflate_small, part_chunks

    sheet = b"<worksheet>" + b"<row><c><v>1</v></c></row>" * 40 + b"</worksheet>"
    p = make_zip(tmp_path / "a.xlsx", {CONTENT_TYPES: CT, "_rels/.rels": ROOT_RELS % b"xl/workbook.xml",
                                       "xl/workbook.xml": WORKBOOK, "xl/s.xml": sheet})
    if method == zipfile.ZIP_STORED:
        p = tmp_path / "stored.xlsx"
        with zipfile.ZipFile(tmp_path / "a.xlsx") as src, zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
    with zipfile.ZipFile(p) as zf:
        assert _inflate_small(zf, zf.getinfo("xl/s.xml")) == sheet
    _flip(p, "xl/s.xml", 20)  # the CRC no longer matches (or the deflate stream is broken)
    with zipfile.ZipFile(p) as zf:
        assert _inflate_small(zf, zf.getinfo("xl/s.xml")) is None
    with open_package(p) as pkg:
        with pytest.raises(NotAWorkbook, match="xl/s.xml i arbetsboken är skadad"):
            list(part_chunks(pkg, "xl/s.xml"))
        with pytest.raises(NotAWorkbook, match="skadad"):
            pkg.read("xl/s.xml")


def test_a_small_part_whose_header_disagrees_with_the_directory_goes_to_zipfile(tmp_path):
    from xlreport.ooxml.package import _inflate_small

    p = make_zip(tmp_path / "a.xlsx", {CONTENT_TYPES: CT, "xl/s.xml": b"<worksheet/>" * 30})
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("xl/s.xml")
        for change in ({"flag_bits": info.flag_bits | 0x01},  # encrypted
                       {"compress_type": zipfile.ZIP_BZIP2},
                       {"file_size": info.file_size - 1},  # the directory's size is not the stream's
                       {"CRC": info.CRC ^ 1},
                       {"orig_filename": "xl/t.xml"},  # the local header names another part
                       {"header_offset": 0}):  # another entry's local header
            other = zipfile.ZipInfo(info.filename)
            for attr in ("flag_bits", "compress_type", "file_size", "compress_size", "CRC", "header_offset"):
                setattr(other, attr, getattr(info, attr))
            for attr, value in change.items():
                setattr(other, attr, value)
            assert _inflate_small(zf, other) is None, change
