"""The report as Word and PDF: ``xlreport export`` on real workbooks, read back with python-docx.

The Word document must state every sentence and every figure of Rapport exactly as Rapport
states them (Rapport read back from the written workbook: values by python-calamine, number
formats by openpyxl, read only), hold every unit, and carry both charts; LibreOffice must
convert it to PDF; the municipality's own template must be kept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.cli import xlreport
from support.excel_payload import payload, read_sheets, remote_book
from support.workbooks import EXAMPLE, sha, sheet_rows, variant
from xlreport.core.generate import ChartFigure, build_document, summary_paragraphs
from xlreport.core.swedish import fmt_number
from xlreport.doors.file import load, process

CHART_TITLES = ("Avvikelse helår per enhet (mnkr)", "Total sjukfrånvaro mot föregående period och målet (%)")


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    book = folder / "rapport.xlsx"
    shutil.copyfile(EXAMPLE, book)
    assert process(book).status == 0
    return book


@pytest.fixture(scope="module")
def exported(refreshed) -> dict[str, Path]:
    docx, pdf = refreshed.with_name("ut.docx"), refreshed.with_name("ut.pdf")
    before = sha(refreshed)
    run = xlreport("export", refreshed, "--docx", docx, "--pdf", pdf)
    assert run.returncode == 0, run.output
    assert f"skrev {docx} och {pdf}" in run.stdout
    assert sha(refreshed) == before  # the workbook is only read
    return {"docx": docx, "pdf": pdf}


def docx_text(path: Path):
    """(paragraph texts, tables as lists of rows of cell texts, images' alt texts) of a .docx."""
    from docx import Document

    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    images = [shape._inline.docPr.get("descr") for shape in doc.inline_shapes]
    return doc, paragraphs, tables, images


def rapport_as_printed(book: Path) -> list[list[str]]:
    """Every row of Rapport as it shows: numbers in their cell's number format (one decimal
    for amounts and percentages, none for counts), text as it is, empty cells dropped."""
    from openpyxl import load_workbook

    formats = {}
    ws = load_workbook(book, read_only=True)["Rapport"]
    for row in ws.iter_rows():
        for cell in row:
            if getattr(cell, "number_format", None):
                formats[(cell.row - 1, cell.column - 1)] = cell.number_format
    out = []
    for r, line in enumerate(sheet_rows(book, "Rapport")):
        shown = []
        for c, v in enumerate(line):
            if v in ("", None):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                decimals = 1 if "0.0" in formats.get((r, c), "") else 0
                shown.append(fmt_number(float(v), decimals))
            else:
                shown.append(str(v))
        out.append(shown)
    return out


def test_the_word_document_states_every_sentence_of_rapport(refreshed, exported):
    _, paragraphs, tables, _ = docx_text(exported["docx"])
    report = load(refreshed).report
    for paragraph in summary_paragraphs(report):
        assert " ".join(paragraph) in paragraphs
    texts = set(paragraphs) | {cell for t in tables for row in t for cell in row}
    for row in rapport_as_printed(refreshed):
        if len(row) == 1:  # a line of text: title, paragraph, heading, list item
            assert row[0].removeprefix("– ") in texts, row[0]


def test_the_word_document_has_every_figure_of_rapport_in_its_tables(refreshed, exported):
    """Each row of figures on Rapport is a row of a Word table: the same label, the same
    figures as printed; the rows of a chart's figures are the chart's (an image in Word)."""
    _, _, tables, images = docx_text(exported["docx"])
    word_rows = [[cell for cell in row if cell] for t in tables for row in t]
    rows = rapport_as_printed(refreshed)
    chart_rows = set()
    for i, row in enumerate(rows):
        if row and row[0] in CHART_TITLES:  # heading, header, then the chart's figures
            j = i + 2
            while j < len(rows) and rows[j]:
                chart_rows.add(j)
                j += 1
    checked = 0
    for i, row in enumerate(rows):
        if len(row) < 2 or i in chart_rows or not re.match(r"^[−\d]", row[-1]):
            continue
        assert row in word_rows, row
        checked += 1
    assert checked >= 25  # income 6, units 9, staff 4, sick 3, commitments 7, less the rows without figures
    assert set(CHART_TITLES) <= set(images)


def test_the_unit_table_has_every_unit(refreshed, exported):
    _, _, tables, _ = docx_text(exported["docx"])
    units = load(refreshed).report.units
    table = next(t for t in tables if t[0][0] == "Enhet")
    assert [row[0] for row in table[1:]] == [r.label for r in units.all_rows()]
    assert table[-1] == ["Summa Kommunstyrelsen", "11,5", "16,4", "−429,5", "7,8"]  # the reference's row
    assert "−2,2" in table[1] and all("-" not in cell for row in table for cell in row)  # U+2212, never "-"


def test_the_charts_are_png_images_in_the_word_file(exported):
    from PIL import Image

    _, _, _, images = docx_text(exported["docx"])
    assert images == list(CHART_TITLES)
    with zipfile.ZipFile(exported["docx"]) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(media) == 2
        for name in media:
            import io

            image = Image.open(io.BytesIO(z.read(name)))
            assert image.format == "PNG" and image.width >= 1000 and image.height >= 400
            colours = image.convert("RGB").getcolors(1 << 20)
            assert len(colours) > 50  # drawn, not blank


def test_totals_are_bold_and_numbers_right_aligned(exported):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc, *_ = docx_text(exported["docx"])
    income = next(t for t in doc.tables if t.rows[0].cells[0].text == "Konto")
    result = next(r for r in income.rows if r.cells[0].text == "Resultat")
    assert all(run.bold for c in result.cells for p in c.paragraphs for run in p.runs)
    intakter = next(r for r in income.rows if r.cells[0].text == "Intäkter")
    assert not any(run.bold for c in intakter.cells for p in c.paragraphs for run in p.runs)
    assert all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in intakter.cells[1:])


# --- charts with nothing to span: every value 0,0, all equal, one sign -----------------------

_UNIT_BUDGETS = {5: 0.0, 6: -80.5, 7: -52.7, 8: -85.9, 9: -17.8, 10: -61.8, 11: -93.1, 12: -37.7}  # Budget helår


def _every_unit_off_budget_by(amount: float) -> dict[str, object]:
    """Each unit's Prognos helår ``amount`` from its budget, and the nämnd's figures and its
    explanation following (a workbook without errors): 0,0 is the usual early-year report."""
    total = amount * len(_UNIT_BUDGETS)
    cells: dict[str, object] = {f"Driftredovisning!G{r}": b + amount for r, b in _UNIT_BUDGETS.items()}
    cells.update({"Driftredovisning!G13": -429.5 + total, "Resultaträkning!G6": -441.0 + total,
                  "Resultaträkning!G10": total})
    cells.update({f"Avvikelseförklaring!{c}{r}": None for r in (5, 6, 7, 8) for c in "AB"})
    if total:
        cells.update({"Avvikelseförklaring!A5": "Övrigt", "Avvikelseförklaring!B5": total})
    cells["Avvikelseförklaring!B9"] = total
    return cells


DEGENERATE_BOOKS = {
    "every-unit-on-budget": _every_unit_off_budget_by(0.0),
    "every-unit-overspent-alike": _every_unit_off_budget_by(-1.0),  # all equal, and negative only
    "no-sick-leave-and-no-target": {**{f"Sjukfrånvaro!{c}{r}": 0.0 for r in (5, 6, 7) for c in "BCDEFGH"},
                                    "Uppgifter!B11": None},
}


@pytest.mark.parametrize("case", list(DEGENERATE_BOOKS))
def test_charts_without_a_span_are_exported_and_plot_the_tables_figures(tmp_path, case):
    """All Avvikelse helår 0,0 (or all −1,0), or sick leave 0,0 without a target: the document is
    written with both charts, each chart's figures are the table's as printed, and its axis
    spans them (it used to divide by a zero span: "programfel")."""
    from xlreport.core.generate import ChartFigure, ReportTable
    from xlreport.export.charts import axis

    book = variant(tmp_path / "rapport.xlsx", DEGENERATE_BOOKS[case])
    out = tmp_path / "ut.docx"
    run = xlreport("export", book, "--docx", out)
    assert run.returncode == 0, run.output
    assert out.exists() and "programfel" not in run.output
    _, _, tables, images = docx_text(out)
    assert images == list(CHART_TITLES)
    doc = build_document(load(book).report)
    units_chart, sick_chart = (b for b in doc.blocks() if isinstance(b, ChartFigure))
    # the unit chart: one bar per unit, its Avvikelse helår as the unit table prints it
    unit_table = next(b for b in doc.blocks() if isinstance(b, ReportTable) and b.head == "Enhet")
    in_table = {r.label: r.values[-1] for r in unit_table.rows if not r.total}
    plotted = dict(zip(units_chart.categories, units_chart.series[0][1]))
    assert plotted == in_table
    word = {row[0]: row[-1] for row in next(t for t in tables if t[0][0] == "Enhet")[1:]}
    assert all(word[label] == fmt_number(v, 1) for label, v in plotted.items())
    if case == "every-unit-on-budget":
        assert set(plotted.values()) == {0.0} and set(word.values()) == {"0,0"}
    # the sick-leave chart: Kvinnor, Män, Totalt of both periods, as the sick table prints them
    sick = next(t for t in tables if t[1][0] == "Sjukfrånvaro")
    total = next(row for row in sick if row[0] == "Total sjukfrånvaro")
    assert [fmt_number(v, 1) for v in sick_chart.series[0][1] + sick_chart.series[1][1]] == total[1:7]
    for fig in (units_chart, sick_chart):
        ticks = axis(fig)
        values = [v for _, vs in fig.series for v in vs if v is not None]
        assert len(ticks) >= 2 and ticks == sorted(ticks) and ticks[0] < ticks[-1]
        assert ticks[0] <= min([0.0, *values]) and ticks[-1] >= max([0.0, *values])


def _figure(values, *, kind="mnkr", horizontal=True, target=None, series=1):
    categories = tuple(f"Enhet {i}" for i in range(len(values)))
    return ChartFigure("Diagram", "Enhet", categories,
                       tuple((f"Serie {k}", tuple(values)) for k in range(series)), target=target,
                       horizontal=horizontal, kind=kind)


@pytest.mark.parametrize("values, kind, target", [
    ((0.0,), "mnkr", None),  # one unit, on budget
    ((0.0, 0.0, 0.0), "mnkr", None),  # every unit on budget
    ((2.0, 2.0), "mnkr", None),  # all equal
    ((-15.0, -0.4, -5.0), "mnkr", None),  # negative only, the lowest on a tick
    ((0.1,), "mnkr", None),  # the smallest amount the table prints
    ((-0.1, 0.0), "mnkr", None),
    ((None, None), "mnkr", None),  # nothing to plot
    ((0.0, 0.0, 0.0), "percent", None),  # sick leave 0,0 and no target
    ((0.0, 0.0, 0.0), "percent", ("Mål 0,0 %", 0.0)),  # and a target of 0,0
    ((None, None, None), "percent", ("Mål 3,0 %", 3.0)),  # the target alone
    ((1234.5, 1234.5), "mnkr", None),
])
@pytest.mark.parametrize("horizontal", [True, False])
def test_every_chart_draws_whatever_its_values(values, kind, target, horizontal):
    """A chart with one value, equal values, none, only negative ones or only zeros has an axis
    of at least two distinct labelled ticks that spans its values and the target: no division
    by a zero span, no two tick labels alike."""
    import io

    from PIL import Image

    from xlreport.export.charts import axis, chart_png

    fig = _figure(values, kind=kind, target=target, horizontal=horizontal, series=1 if horizontal else 2)
    ticks = axis(fig)
    plotted = [v for v in values if v is not None] + ([target[1]] if target else [])
    assert len(ticks) >= 2 and ticks[0] < ticks[-1]
    assert ticks[0] <= min([0.0, *plotted]) and ticks[-1] >= max([0.0, *plotted])
    labels = [fmt_number(t, 1) for t in ticks]
    assert len(set(labels)) == len(labels), labels
    if not any(plotted):  # all zero or none: one unit around the zero line
        assert (ticks[0], ticks[-1]) == ((0.0, 1.0) if kind == "percent" else (-1.0, 1.0))
    image = Image.open(io.BytesIO(chart_png(fig)))
    assert image.format == "PNG" and image.width >= 1000


def test_the_labels_of_negative_bars_keep_off_the_unit_names():
    """The most negative bar ends at the axis's end; its label is drawn in room of its own, left of
    the bars and right of the names, so it never covers a unit's name."""
    from xlreport.export import charts

    def leftmost_bar(fig) -> int:
        import io

        from PIL import Image

        image = Image.open(io.BytesIO(charts.chart_png(fig))).convert("RGB")
        blue = tuple(int(charts.COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
        row = image.height // 8  # through the first bar
        return next(x for x in range(image.width) if image.getpixel((x, row)) == blue)

    negative = _figure((-15.0, -0.4, -5.0))
    positive = _figure((15.0, 0.4, 5.0))
    label = charts._Pen(charts.FONT_PT).size(fmt_number(-15.0, 1))[0]
    assert leftmost_bar(negative) - leftmost_bar(positive) >= label


@pytest.mark.libreoffice
def test_libreoffice_made_the_pdf(refreshed, exported):
    pdf = exported["pdf"]
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    for sentence in (s for p in summary_paragraphs(load(refreshed).report) for s in p):
        assert sentence in flat, sentence
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.MULTILINE), info  # recorded: the example's report on 3 A4 pages
    assert "Sida 1 av 3" in text


def make_template(path: Path) -> Path:
    """A municipality's Word template: its own header, a first page and a body font of its own."""
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Georgia"
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.sections[0].header.paragraphs[0].text = "EKN kommunens sidhuvud"
    doc.sections[0].footer.paragraphs[0].text = "Kommunens sidfot"
    doc.add_paragraph("Försättsblad från kommunens mall").runs[0].add_break(WD_BREAK.PAGE)
    doc.save(str(path))
    return path


def test_the_municipalitys_template_is_kept(refreshed, tmp_path):
    from docx import Document

    template = make_template(tmp_path / "kommunens_mall.docx")
    out = tmp_path / "rapport.docx"
    run = xlreport("export", refreshed, "--docx", out, "--mall", template)
    assert run.returncode == 0, run.output
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "Försättsblad från kommunens mall"
    assert doc.sections[0].header.paragraphs[0].text == "EKN kommunens sidhuvud"
    assert doc.sections[0].footer.paragraphs[0].text == "Kommunens sidfot"
    assert doc.styles["Normal"].font.name == "Georgia"
    assert any(p.text == build_document(load(refreshed).report).title for p in doc.paragraphs)


def test_a_dotx_template_is_read_too(refreshed, tmp_path):
    docx = make_template(tmp_path / "mall.docx")
    dotx = tmp_path / "mall.dotx"
    with zipfile.ZipFile(docx) as zin, zipfile.ZipFile(dotx, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"document.main+xml", b"template.main+xml")
            zout.writestr(info, data)
    out = tmp_path / "ut.docx"
    assert xlreport("export", refreshed, "--docx", out, "--mall", dotx).returncode == 0
    assert out.exists()


def test_a_workbook_with_errors_is_not_exported(tmp_path):
    book = variant(tmp_path / "fel.xlsx", {"Resultaträkning!C5": "113,7"})  # text where a number belongs
    out = tmp_path / "fel.docx"
    run = xlreport("export", book, "--docx", out)
    assert run.returncode == 1
    assert "Resultaträkning!C5: fel:" in run.stdout and "ingen rapport skrevs" in run.stdout
    assert not out.exists()


def test_without_targets_the_word_file_goes_beside_the_workbook(refreshed, tmp_path):
    book = tmp_path / "nämnd.xlsx"
    shutil.copyfile(refreshed, book)
    assert xlreport("export", book).returncode == 0
    assert (tmp_path / "nämnd.docx").exists()


@pytest.mark.parametrize("case", ["bad-template", "missing-template", "no-libreoffice", "not-a-workbook",
                                  "wrong-suffix"])
def test_user_errors_name_the_file_and_write_nothing(refreshed, tmp_path, case):
    args, env, named = [], None, None
    book = refreshed
    if case == "bad-template":
        (tmp_path / "mall.docx").write_text("inte ett dokument", encoding="utf-8")
        args, named = ["--docx", tmp_path / "ut.docx", "--mall", tmp_path / "mall.docx"], "mall.docx"
    elif case == "missing-template":
        args, named = ["--docx", tmp_path / "ut.docx", "--mall", tmp_path / "saknas.docx"], "saknas.docx"
    elif case == "no-libreoffice":
        args, env, named = ["--pdf", tmp_path / "ut.pdf"], {"XLREPORT_SOFFICE": str(tmp_path / "soffice")}, "LibreOffice"
    elif case == "not-a-workbook":
        book = tmp_path / "anteckningar.xlsx"
        book.write_text("a;b\n1;2\n", encoding="utf-8")
        args, named = ["--docx", tmp_path / "ut.docx"], "anteckningar.xlsx"
    else:
        args, named = ["--docx", tmp_path / "ut.doc"], "ut.doc"
    run = xlreport("export", book, *args, env=env)
    assert run.returncode == 2, run.output
    assert named in run.stderr
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".docx", ".pdf", ".doc") and p.stem != "mall"]
    assert not list(tmp_path.glob(".~xlreport-*"))


def test_exporting_imports_nothing_heavy_until_it_runs():
    code = ("import sys, xlreport.cli, xlreport.export, xlreport.doors.excel; "
            "print(any(m in sys.modules for m in ('docx', 'PIL.ImageDraw', 'matplotlib', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- the Excel button "Exportera rapport" -------------------------------------------------

def test_the_excel_button_writes_the_word_file_beside_the_workbook(refreshed, tmp_path):
    """From the open workbook's values (unsaved edits included): a unit renamed on Uppgifter and
    in Driftredovisning, not saved, is in the Word file."""
    from docx import Document

    import xlreport.doors.excel as door

    sheets = read_sheets(refreshed)
    for name in ("Uppgifter", "Driftredovisning"):
        next(r for r in sheets[name] if r and r[0] == "KLK HR")[0] = "KLK Personal och HR"
    book = remote_book(payload(sheets, book_name=str(tmp_path / "nämnden.xlsx")))
    result = door.exportera_rapport(book=book)
    assert not result.failed and result.errors == 0, result.message
    out = tmp_path / "nämnden.docx"
    assert out.exists() and str(out) in result.message
    doc = Document(str(out))
    unit_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Enhet")
    renamed = next(r for r in unit_table.rows if r.cells[0].text == "KLK Personal och HR")
    assert renamed.cells[-1].text == "1,0"
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]  # the workbook itself is not touched


def test_the_excel_button_exports_nothing_from_a_workbook_with_errors(tmp_path):
    import xlreport.doors.excel as door

    sheets = read_sheets(EXAMPLE)
    next(r for r in sheets["Driftredovisning"] if r and r[0] == "KLK Ledning")[2] -= 10
    book = remote_book(payload(sheets, book_name=str(tmp_path / "fel.xlsx")))
    result = door.exportera_rapport(book=book)
    assert result.errors and "Ingen rapport skrevs" in result.message
    assert list(tmp_path.iterdir()) == []
