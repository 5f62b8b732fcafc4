"""``xlreport check-text``: the report's text against the workbook's tables.

The text is the user's own: a sheet of the workbook (``Text``, ``Förvaltningsberättelse``, …;
one paragraph per cell, headings allowed) or a Word document. Its figures are checked by
:mod:`xlreport.core.narrative` against the model of the workbook, read by the file door as every
other command reads it. Nothing is written. This module holds the two text sources (a sheet, a
Word document) and the command's result; python-docx is not needed: a document's paragraphs are
read from ``word/document.xml`` with the hardened XML settings the package layer uses.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..core import layout as L
from ..core.errors import XlreportError
from ..core.findings import Counted, Finding
from ..core.narrative import Paragraph, TextResult
from ..records import Record, field

#: Sheets that hold the user's narrative, in the order they are looked for.
TEXT_SHEETS = ("Text", "Förvaltningsberättelse", "Verksamhetsberättelse", "Rapporttext", "Sammanfattning")
MAX_DOCUMENT_PART = 64 << 20  # the uncompressed word/document.xml a check reads at most
MAX_RATIO = 200  # a part that unpacks more than this is refused (a zip bomb)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: What a run's elements read as (``w:t`` is its text). Word writes a minus typed as a
#: non-breaking hyphen (Ctrl+Shift+-) as ``w:noBreakHyphen``: it is the figure's sign. A soft
#: hyphen (Ctrl+-) is shown only at a line break; deleted text of tracked changes is not read.
RUN_CONTENT = {f"{W}t": "", f"{W}tab": " ", f"{W}br": " ", f"{W}cr": " ", f"{W}noBreakHyphen": "-",
               f"{W}softHyphen": "", f"{W}delText": ""}
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
DOCUMENT_SUFFIXES = (".docx", ".docm", ".dotx")


class TextError(XlreportError):
    """The text to check cannot be found or read."""

    rule = "text-saknas"


class TextCheck(Counted, Record):
    """The outcome of one check: the text's file, the workbook's, the findings (the text's
    contradictions, then the workbook's own errors, which make its figures unsure)."""

    text_file: str
    workbook: str
    result: TextResult
    text_sheet: str | None = None
    paragraphs: int = 0
    workbook_errors: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:  # Counted counts these
        return [*self.result.findings(), *self.workbook_errors]

    def lines(self) -> list[str]:
        out = []
        for f in self.result.findings():
            where = f.location()
            out.append(f"{self.text_file}: {where + ': ' if where else ''}fel: {f.message} [{f.rule}]")
        checked = len(self.result.checks)
        bad = len(self.result.contradictions)
        source = f"bladet {self.text_sheet}" if self.text_sheet else f"{self.paragraphs} stycken"
        out.append(f"{self.text_file}: {checked} {'siffra' if checked == 1 else 'siffror'} i texten ({source}) "
                   f"jämfördes med tabellerna i {Path(self.workbook).name}: "
                   + ("alla stämmer." if not bad else f"{bad} stämmer inte."))
        if self.workbook_errors:
            out.append(f"{self.workbook}: Obs: arbetsboken har {len(self.workbook_errors)} fel (xlreport validate "
                       "visar dem), så tabellernas siffror kan själva vara fel.")
        return out

    def to_dict(self) -> dict:
        return {"text": self.text_file, "workbook": self.workbook, "sheet": self.text_sheet,
                "checked": len(self.result.checks), "contradictions": len(self.result.contradictions),
                "untied": len(self.result.untied),
                "findings": [f.to_dict(self.text_file) for f in self.result.findings()],
                "workbook_errors": [f.to_dict(self.workbook) for f in self.workbook_errors],
                "claims": [c.to_dict() for c in self.result.checks]}


def check_text_file(text: str | Path, workbook: str | Path | None = None, *, sheet: str | None = None) -> TextCheck:
    """Check the text in ``text`` (a workbook with a text sheet, or a Word document) against the
    tables of ``workbook`` (the same workbook when None). Raises :class:`TextError` (or another
    :class:`XlreportError`) with a Swedish message when the text or the workbook cannot be read."""
    from ..core.narrative import check
    from ..doors.file import load

    text = Path(text)
    is_document = text.suffix.lower() in DOCUMENT_SUFFIXES
    if workbook is None:
        if is_document:
            raise TextError("Ange arbetsboken vars tabeller texten ska stämma med: "
                            f"xlreport check-text \"{text}\" --mot rapport.xlsx", file=text)
        workbook = text
    outcome = load(workbook, actions=())
    if outcome.report is None:  # the template structure is missing: nothing to check against
        raise outcome.structure_error
    text_sheet = None
    if is_document:
        paragraphs = document_paragraphs(text)
    else:
        text_sheet, paragraphs = sheet_paragraphs(text, sheet)
    result = check(outcome.report, paragraphs)
    errors = [f for f in outcome.findings if f.is_error]
    return TextCheck(str(text), str(workbook), result, text_sheet, len(paragraphs), errors)


def sheet_paragraphs(path: str | Path, sheet: str | None = None) -> tuple[str, list[Paragraph]]:
    """The paragraphs of the workbook's text sheet (``sheet``, or the first of :data:`TEXT_SHEETS`)."""
    from ..doors.file import read_grids

    names, grids = read_grids(path, [sheet] if sheet else TEXT_SHEETS)  # one read: the names and the text
    name = find_text_sheet(names, sheet)
    if name is None or name not in grids:
        wanted = f"bladet {sheet}" if sheet else "ett blad med texten (" + ", ".join(TEXT_SHEETS[:2]) + ")"
        raise TextError(f"Arbetsboken har inte {wanted}. Skriv texten där, ett stycke per cell, eller "
                        "ange Word-dokumentet: xlreport check-text rapport.docx --mot rapport.xlsx", file=path)
    return name, grid_paragraphs(name, grids[name])


def find_text_sheet(names: list[str], sheet: str | None = None) -> str | None:
    wanted = [sheet] if sheet else list(TEXT_SHEETS)
    by_norm = {L.norm(n): n for n in names}
    return next((by_norm[L.norm(w)] for w in wanted if L.norm(w) in by_norm), None)


def grid_paragraphs(name: str, grid) -> list[Paragraph]:
    """Every text cell of the sheet, row by row: one paragraph each."""
    from ..core.cells import CellRef

    cells = sorted((r, c, v) for r, c, v in grid.cells() if isinstance(v, str) and v.strip())
    return [Paragraph(v, ref=CellRef(name, r, c)) for r, c, v in cells]


def document_paragraphs(path: str | Path) -> list[Paragraph]:
    """The non-empty paragraphs of a Word document's body, numbered from 1 as Word's paragraphs
    are (python-docx's ``Document.paragraphs``); tables are left out: their cells are the tables'
    figures, not sentences. Deleted text of tracked changes is left out; inserted text is in."""
    from lxml import etree

    from ..ooxml.package import hardened_parser

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo("word/document.xml")
            except KeyError:
                raise TextError("Filen är inte ett Word-dokument (.docx): word/document.xml saknas", file=path) from None
            if info.file_size > MAX_DOCUMENT_PART or info.file_size > MAX_RATIO * max(info.compress_size, 1) + (1 << 20):
                raise TextError("Word-dokumentet är för stort uppackat eller packas upp orimligt mycket", file=path)
            data = zf.read(info)
    except FileNotFoundError:
        raise TextError("Filen finns inte", file=path) from None
    except zipfile.BadZipFile:
        raise TextError("Filen är inte ett Word-dokument (.docx); spara den som .docx i Word", file=path) from None
    except OSError as exc:
        from ..core.errors import os_error_sv

        raise TextError(f"Filen kan inte läsas ({os_error_sv(exc)})", file=path) from None
    if b"<!DOCTYPE" in data[:65536].upper():
        raise TextError("Word-dokumentet innehåller en DOCTYPE-deklaration, vilket inte är tillåtet", file=path)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise TextError(f"Word-dokumentet är skadat (ogiltig XML: {exc})", file=path) from None
    out, number = [], 0
    for p in root.iter(f"{W}p"):
        if any(a.tag == f"{W}tbl" for a in p.iterancestors()):  # a table's cells are the table, not text
            continue
        parts = []
        for el in p.iter(*RUN_CONTENT):
            if el.tag == f"{W}t":
                parts.append(el.text or "")
            else:
                parts.append(RUN_CONTENT[el.tag])
        text = "".join(parts).strip()
        if text:
            number += 1
            out.append(Paragraph(text, number=number))
    return out
