"""Rapport and Kontroller print as documents: rendered to PDF by LibreOffice, read back from the PDF.

The refreshed example (and a variant with many findings) is converted by LibreOffice headless
with a Swedish profile, one PDF per owned sheet (the other sheets hidden in a copy), and the
PDF's text layer (``pdftotext``, poppler) must show every summary sentence whole on one page,
every table row with its label and all its figures on one line of one page, every finding's
message whole, and no text outside the printable area.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from support.workbooks import EXAMPLE, variant
from xlreport.core.generate import ReportTable, build_document, summary_sentences
from xlreport.doors.file import load, process
from xlreport.export.pdf import convert

pytestmark = pytest.mark.libreoffice

# Pages of the example's Rapport and Kontroller as LibreOffice prints them (portrait A4).
RAPPORT_PAGES = 3
KONTROLLER_PAGES = 1
A4 = (595.3, 841.9)  # points
POINTS_PER_CM = 72 / 2.54


def only_sheets(src: Path, dest: Path, keep: set[str]) -> Path:
    """A copy of ``src`` in which every sheet but ``keep`` is hidden (LibreOffice prints only
    visible sheets); the first kept sheet is the active one."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                names = re.findall(r'<sheet name="([^"]+)"', text)
                for name in names:
                    if name not in keep:
                        text = text.replace(f'<sheet name="{name}"', f'<sheet state="hidden" name="{name}"', 1)
                first = next(i for i, n in enumerate(names) if n in keep)
                text = re.sub(r"<workbookView ", f'<workbookView activeTab="{first}" ', text, count=1)
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dest


def pdf_of(workbook: Path, sheet: str, folder: Path) -> Path:
    src = only_sheets(workbook, folder / f"{sheet}.xlsx", {sheet})
    return convert(src, folder)


def pdftotext(pdf: Path, *args: str) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    out = subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, word) of every word, from pdftotext's bounding boxes."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if m:
            out.append((page, *map(float, m.groups()[:4]), m.group(5)))
    return out


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is not installed: run scripts/setup.sh")
    folder = tmp_path_factory.mktemp("print")
    book = folder / EXAMPLE.name
    shutil.copyfile(EXAMPLE, book)
    assert process(book).status == 0
    return {"book": book, "rapport": pdf_of(book, "Rapport", folder), "kontroller": pdf_of(book, "Kontroller", folder)}


def test_rapport_prints_on_a4_portrait_pages(printed):
    pdf = printed["rapport"]
    assert page_count(pdf) == RAPPORT_PAGES
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(w), round(h)) == (round(A4[0]), round(A4[1]))


def test_every_summary_sentence_is_whole_on_one_page(printed):
    pages = [flat(p) for p in pdftotext(printed["rapport"])]
    report = load(printed["book"]).report
    sentences = summary_sentences(report)
    assert len(sentences) >= 10
    for sentence in sentences:
        assert any(sentence in page for page in pages), sentence


def test_every_table_row_is_on_one_line_with_all_its_columns(printed):
    """Each row of each table: its label and every figure, in order, on one printed line."""
    pages = pdftotext(printed["rapport"], "-layout")
    lines = [(i, flat(line)) for i, page in enumerate(pages) for line in page.splitlines()]
    doc = build_document(load(printed["book"]).report)
    tables = [b for b in doc.blocks() if isinstance(b, ReportTable)]
    assert len(tables) >= 6
    seen_pages = set()
    for t in tables:
        for row in t.rows:
            figures = [t.text(v) for v in row.values if t.text(v)]
            wanted = flat(" ".join([row.label, *figures]))
            hits = [i for i, line in lines if line == wanted or line.startswith(wanted + " ")]
            assert hits, (wanted, [line for _, line in lines if line.startswith(row.label)])
            seen_pages.add(hits[0])
    assert seen_pages == set(range(RAPPORT_PAGES))  # the tables are spread over every page


def test_each_table_is_on_one_page(printed):
    """A table's header, first and last rows are on the same page."""
    pages = [flat(p) for p in pdftotext(printed["rapport"], "-layout")]
    doc = build_document(load(printed["book"]).report)

    def line(row, t):
        return flat(" ".join([row.label, *(t.text(v) for v in row.values if t.text(v))]))

    for t in (b for b in doc.blocks() if isinstance(b, ReportTable)):
        assert any(t.head in page and line(t.rows[0], t) in page and line(t.rows[-1], t) in page
                   for page in pages), t.head


def test_header_and_footer_on_every_page(printed):
    pages = pdftotext(printed["rapport"], "-layout")
    for n, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        assert flat(lines[0]).startswith("Eskilstuna kommun") and "Delårsrapport 1 2020" in lines[0]
        assert flat(lines[-1]).startswith("januari–mars 2020") and lines[-1].endswith(f"Sida {n} av {len(pages)}")


def within_print_area(pdf: Path, margins_cm=(1.8, 1.8)) -> list:
    """The words printed outside the page's left and right margins (a little slack for rounding)."""
    left = margins_cm[0] * POINTS_PER_CM - 2
    right = A4[0] - margins_cm[1] * POINTS_PER_CM + 2
    return [w for w in words(pdf) if w[1] < left or w[3] > right]


def test_no_text_outside_the_print_area(printed):
    assert within_print_area(printed["rapport"]) == []
    assert within_print_area(printed["kontroller"]) == []


def test_kontroller_without_findings(printed):
    assert page_count(printed["kontroller"]) == KONTROLLER_PAGES
    assert "Inga fel och inga varningar." in flat(pdftotext(printed["kontroller"])[0])


@pytest.fixture(scope="module")
def many_findings(tmp_path_factory):
    """The example with warnings only (so it is written): every unit's Avvikelse helår typed by
    hand and wrong, and the sick-leave target below the figure."""
    folder = tmp_path_factory.mktemp("findings")
    book = variant(folder / "varningar.xlsx", {**{f"Driftredovisning!H{r}": 99.9 for r in range(5, 13)},
                                               "Uppgifter!B11": 2.0})
    result = process(book)
    assert result.status == 0 and result.warnings >= 9, [f.message for f in result.findings]
    return book, result.findings, pdf_of(book, "Kontroller", folder)


def test_every_finding_message_prints_whole(many_findings):
    """Kontroller's messages wrap within the page: each is whole in the PDF, in reading order
    of its cell (LibreOffice draws a wrapped cell's lines one after another)."""
    _, findings, pdf = many_findings
    text = flat(" ".join(pdftotext(pdf, "-raw")))
    for f in findings:
        assert flat(f.message) in text, f.message
    assert within_print_area(pdf) == []


def test_the_findings_header_repeats_on_every_page(many_findings):
    _, _, pdf = many_findings
    pages = pdftotext(pdf, "-layout")
    assert len(pages) == page_count(pdf) >= 1
    for page in pages:
        assert re.search(r"Allvarlighet\s+Blad\s+Cell\s+Regel\s+Meddelande", page), page[:300]
