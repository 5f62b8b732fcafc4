"""ooxml.xmlread: the read path's XML without lxml reads what lxml reads, and refuses what it refuses."""

from __future__ import annotations

import random
import subprocess
import sys
import zipfile

import pytest
from lxml import etree

from support.workbooks import EXAMPLE, TEMPLATE
from xlreport.core.errors import NotAWorkbook, UnsafeWorkbook
from xlreport.ooxml import xmlread
from xlreport.ooxml.package import hardened_parser, read_xml


def _shape(el) -> tuple:
    """An element as lxml or xmlread sees it: tag, attributes, text before the first child, children."""
    children = [c for c in el if isinstance(c.tag, str)]  # lxml also yields comments and PIs
    return (el.tag, dict(el.attrib), el.text, tuple(_shape(c) for c in children))


def _xml_parts(path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(n, zf.read(n)) for n in zf.namelist() if n.endswith((".xml", ".rels"))]


@pytest.mark.fixture_workbooks("path")
def test_every_part_of_the_fixtures_reads_as_lxml_reads_it(path) -> None:
    for name, data in _xml_parts(path):
        assert _shape(xmlread.parse(data)) == _shape(etree.fromstring(data, hardened_parser())), name


def test_the_template_and_the_example_read_as_lxml_reads_them() -> None:
    for book in (EXAMPLE, TEMPLATE):
        for name, data in _xml_parts(book):
            assert _shape(xmlread.parse(data)) == _shape(etree.fromstring(data, hardened_parser())), name


def test_find_iter_and_get() -> None:
    root = xmlread.parse(b'<a xmlns="urn:x" xmlns:r="urn:r"><b r:id="1">t<c/>tail</b><b/><d><b k="v"/></d></a>')
    assert root.tag == "{urn:x}a"
    assert [b.get("{urn:r}id") for b in root.findall("{urn:x}b")] == ["1", None]
    assert root.find("{urn:x}d/{urn:x}b").get("k") == "v"
    assert root.find("{urn:x}missing") is None
    assert len(list(root.iter("{urn:x}b"))) == 3
    assert root.find("{urn:x}b").text == "t"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    styles = xmlread.parse(f'<styleSheet xmlns="{main}"><numFmts><numFmt numFmtId="164"/></numFmts>'
                           f'<cellXfs><xf/><xf/></cellXfs></styleSheet>'.encode())
    assert styles.find(f"{{{main}}}numFmts/{{{main}}}numFmt").get("numFmtId") == "164"
    assert len(styles.find(f"{{{main}}}cellXfs")) == 2


def _check_whole(data: bytes) -> None:
    """The streaming checker fed ``data`` in one piece."""
    checker = xmlread.Checker()
    checker.feed(data)
    checker.close()


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
])
def test_a_doctype_is_refused(data) -> None:
    with pytest.raises(xmlread.XMLError) as exc:
        xmlread.parse(data)
    assert exc.value.doctype
    with pytest.raises(UnsafeWorkbook, match="DOCTYPE"):
        read_xml(data, part="xl/workbook.xml")
    with pytest.raises(xmlread.XMLError):
        _check_whole(data)


@pytest.mark.parametrize("data", [b"<a><b></a>", b"<a>&undefined;</a>", b"<a/><b/>", b"", b"<a>\xff</a>"])
def test_malformed_xml_is_refused_as_damaged(data) -> None:
    with pytest.raises(NotAWorkbook, match="är skadad"):
        read_xml(data, part="xl/workbook.xml")
    with pytest.raises(xmlread.XMLError):
        _check_whole(data)


def test_nesting_is_limited_as_libxml2_limits_it() -> None:
    ok = b"<a>" * xmlread.MAX_DEPTH + b"</a>" * xmlread.MAX_DEPTH
    deep = b"<a>" * (xmlread.MAX_DEPTH + 1) + b"</a>" * (xmlread.MAX_DEPTH + 1)
    xmlread.parse(ok)
    etree.fromstring(ok, hardened_parser())
    with pytest.raises(xmlread.XMLError, match="nested"):
        xmlread.parse(deep)
    checker = xmlread.Checker()
    with pytest.raises(xmlread.XMLError, match="nested"):
        for i in range(0, len(deep), 100):  # across chunk boundaries, as a part streams in
            checker.feed(deep[i:i + 100])


def _random_document(rng: random.Random, depth_goal: int) -> tuple[bytes, int]:
    """A well-formed document with one branch nested ``depth_goal`` deep, and its true depth.

    Self-closing and small elements stand before and after the deep branch at every level. In
    half the documents text and attribute values hold what could fool a count of the raw bytes
    (">", "/>", quotes of the other kind); sometimes a comment, a CDATA section or a processing
    instruction holding "<" and "/>" (in a quarter of them: the checker then counts expat's events)."""
    dirty = rng.random() < 0.5
    values = ['"plain"', '"&lt;&gt;"', "'1'"] + (['"a/>b"', "'x>y'", '"it\'s"', "'say \"/>\"'"] if dirty else [])
    texts = ["", "t", "5 &gt; 3", "A1&lt;B1", "' \""] + (["a > b", "x/>y"] if dirty else [])
    odd = ["<!-- a <b> c/> -->", "<![CDATA[<x/> < y >]]>", "<?pi <a/> ?>"]
    odd_at = rng.randrange(1, depth_goal + 1) if rng.random() < 0.25 else 0  # the level of one, if any
    parts: list[str] = []
    deepest = 0

    def leaf(level: int) -> None:
        nonlocal deepest
        deepest = max(deepest, level)
        attrs = "".join(f" a{i}={rng.choice(values)}" for i in range(rng.randrange(3)))
        parts.append(rng.choice([f"<e{attrs}/>", f"<e{attrs} />", f"<e{attrs}>{rng.choice(texts)}</e>"]))

    def element(level: int, goal: int) -> None:
        nonlocal deepest
        deepest = max(deepest, level)
        attrs = "".join(f" a{i}={rng.choice(values)}" for i in range(rng.randrange(3)))
        parts.append(f"<e{attrs}>{rng.choice(texts)}")
        for _ in range(rng.randrange(4)):
            leaf(level + 1)
        if level == odd_at:
            parts.append(rng.choice(odd))
        if goal > level:
            element(level + 1, goal)
        for _ in range(rng.randrange(3)):
            leaf(level + 1)
        parts.append(f"{rng.choice(texts)}</e{rng.choice(['', ' '])}>")

    element(1, depth_goal - 1)  # its leaves are one deeper
    head = rng.choice(["", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n', "\ufeff<?xml version='1.0'?>"])
    return (head + "".join(parts)).encode("utf-8"), deepest


def _checker_verdict(data: bytes, chunk: int) -> tuple[str, bool]:
    """"ok" or the checker's refusal, and whether it had to count expat's events."""
    checker = xmlread.Checker()
    try:
        for i in range(0, len(data), chunk):
            checker.feed(data[i:i + chunk])
        checker.close()
        if checker.needs_exact:
            exact = xmlread.Checker(exact=True)
            exact.feed(data)
            exact.close()
    except xmlread.XMLError as exc:
        return str(exc), checker.needs_exact
    return "ok", checker.needs_exact


@pytest.mark.parametrize("seed", range(60))
def test_the_nesting_count_without_events_is_exact(seed) -> None:
    """The counted depth refuses exactly what libxml2 refuses, in any chunking, whatever the text
    and attribute values hold; only a comment, CDATA or a processing instruction needs events."""
    rng = random.Random(seed)
    goal = rng.choice([1, 5, 60, 255, 256, 257, 300])
    data, depth = _random_document(rng, goal)
    libxml2 = "ok"
    try:
        etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError:
        libxml2 = "refused"
    expected = "ok" if depth <= xmlread.MAX_DEPTH else "refused"
    assert libxml2 == expected, depth
    odd = any(o in data for o in (b"<!--", b"<![CDATA[", b"<?pi"))
    for chunk in (7, 64, 1000, len(data) + 1):
        verdict, counted_events = _checker_verdict(data, chunk)
        assert (verdict == "ok") == (expected == "ok"), (depth, chunk, verdict)
        if verdict != "ok":
            assert "nested" in verdict
        elif not odd:  # refused before the end, the checker may not have met the odd part yet
            assert counted_events == odd


def test_a_comment_makes_the_checker_count_elements() -> None:
    deep = b"<a><!-- <b/> -->" + b"<a>" * xmlread.MAX_DEPTH + b"</a>" * (xmlread.MAX_DEPTH + 1)
    checker = xmlread.Checker()
    checker.feed(deep)
    checker.close()
    assert checker.needs_exact  # the markers could not count it: the caller counts again
    exact = xmlread.Checker(exact=True)
    with pytest.raises(xmlread.XMLError, match="nested"):
        exact.feed(deep)


def test_a_deep_sheet_with_a_comment_is_refused_by_the_scan(tmp_path) -> None:
    from support.hostile import edit_sheet
    from xlreport.doors.file import read_grids

    def deepen(xml: bytes) -> bytes:
        depth = xmlread.MAX_DEPTH
        return xml.replace(b"</sheetData>", b"</sheetData><!-- xlreport test -->"
                           + b"<extLst>" * depth + b"</extLst>" * depth, 1)

    with pytest.raises(NotAWorkbook, match="nested"):
        read_grids(edit_sheet(tmp_path / "deep.xlsx", "Driftredovisning", deepen))


def test_validate_never_imports_lxml_nor_typing() -> None:
    code = ("import sys, xlreport.cli\n"
            "try:\n"
            f"    xlreport.cli.main(['validate', {str(EXAMPLE)!r}])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print([m for m in ('lxml', 'inspect', 'dataclasses', 'typing') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.fixture_workbooks("path")
def test_number_formats_read_as_lxml_reads_them(path) -> None:
    from xlreport.ooxml.package import open_package
    from xlreport.ooxml.scan import number_formats

    with open_package(path) as pkg:
        formats = number_formats(pkg)
        styles = next((r["part"] for r in pkg.relationships(pkg.workbook_part) if r["Type"].endswith("/styles")), None)
        if styles is None:
            assert formats == []
            return
        root = pkg.xml(styles).getroot()
    main = root.tag.partition("}")[0] + "}"
    assert len(formats) == len(root.find(f"{main}cellXfs"))
    custom = {nf.get("numFmtId"): nf.get("formatCode") for nf in root.iter(f"{main}numFmt")}
    for code, xf in zip(formats, root.find(f"{main}cellXfs"), strict=True):
        expected = custom.get(xf.get("numFmtId", "0")) or scan_builtin(xf.get("numFmtId", "0"))
        assert code == expected


def scan_builtin(fmt_id: str) -> str:
    from xlreport.ooxml.scan import BUILTIN_FORMATS

    return BUILTIN_FORMATS.get(int(fmt_id), "General")


def test_a_small_part_read_before_gets_the_same_tree(monkeypatch) -> None:
    """The trees of small parts are kept by their exact bytes (a batch stamped from one template
    shares its workbook.xml, relationships and styles); a changed byte is a new tree, a part that
    is refused is refused every time, and the number kept is bounded."""
    from xlreport.ooxml import package

    monkeypatch.setattr(package, "_READ", {})
    a = b'<workbook xmlns="urn:x"><sheets><sheet name="A"/></sheets></workbook>'
    first = read_xml(a, part="xl/workbook.xml")
    assert read_xml(bytes(a), part="xl/workbook.xml") is first  # equal bytes, another object
    changed = read_xml(a.replace(b'"A"', b'"B"'), part="xl/workbook.xml")
    assert changed is not first
    assert changed.find("{urn:x}sheets/{urn:x}sheet").get("name") == "B"
    for _ in range(2):
        with pytest.raises(NotAWorkbook):
            read_xml(b"<a><b></a>", part="xl/workbook.xml")
        with pytest.raises(UnsafeWorkbook):
            read_xml(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', part="xl/workbook.xml")
    for i in range(package._READ_MAX + 10):
        read_xml(b'<a n="%d"/>' % i)
    assert len(package._READ) == package._READ_MAX
    big = b"<a>" + b"x" * package._READ_PART_MAX + b"</a>"
    assert read_xml(big) is not read_xml(big)  # too large to keep


def test_a_long_text_is_not_carried_from_chunk_to_chunk() -> None:
    """A tag and then text longer than a chunk (a long inline string): the whole tag is counted
    and the text dropped (it holds no markup), so what the checker carries stays within two
    chunks instead of growing with the text (each chunk copying it all again)."""
    chunk = 1 << 16
    data = b'<a><b x="1>2" y=\'/>\'>' + b"x" * (40 * chunk) + b"</b></a>"
    checker = xmlread.Checker()
    carried = []
    for i in range(0, len(data), chunk):
        checker.feed(data[i:i + chunk])
        carried.append(len(checker._carry))
    checker.close()
    assert not checker.needs_exact
    assert max(carried) <= 2 * chunk
    deep = b"<a>" * xmlread.MAX_DEPTH + b"<b>" + b"x" * (3 * chunk) + b"</b>" + b"</a>" * xmlread.MAX_DEPTH
    checker = xmlread.Checker()
    with pytest.raises(xmlread.XMLError, match="nested"):
        for i in range(0, len(deep), chunk):
            checker.feed(deep[i:i + chunk])
        checker.close()
