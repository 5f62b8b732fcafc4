"""The published report: the document of :func:`xlreport.core.generate.build_document` as Word
and PDF, with its charts (``xlreport export``, and the Excel button "Exportera rapport").

The document is built from the same model and by the same functions as the sheet Rapport, so
the Word file states the same sentences and figures. Nothing here is imported on the CLI's or
the ribbon's start-up path: python-docx and Pillow load only when a report is exported.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import XlreportError
from ..core.findings import Counted, Finding
from ..records import Record, field


class ExportError(XlreportError):
    """The report could not be exported (a bad Word template, no LibreOffice for the PDF, …)."""

    rule = "export"


class ExportResult(Counted, Record):
    """What one export did: the findings of the workbook and the files written."""

    file: str
    findings: list[Finding] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    movement: object = None  # the prognosis movement (xlreport.core.movement.Movement), with ``previous``


def export_report(report, findings: list[Finding], *, docx: str | Path | None = None, pdf: str | Path | None = None,
                  template: str | Path | None = None, movement=None) -> list[Path]:
    """Write the report of ``report`` as Word (``docx``) and/or PDF (``pdf``); returns the files.

    The caller has checked that the workbook has no errors. ``movement``: the prognosis movement
    since the previous report (``--previous``), stated as on the sheet Rapport.
    """
    from ..core.generate import build_document
    from .docx import write_docx

    doc = build_document(report, findings, movement)
    written = []
    if docx is not None:
        written.append(write_docx(doc, docx, template))
    if pdf is not None:
        from .pdf import write_pdf

        written.append(write_pdf(doc, pdf, template))
    return written


def export_workbook(path: str | Path, *, docx: str | Path | None = None, pdf: str | Path | None = None,
                    template: str | Path | None = None, previous: str | Path | None = None) -> ExportResult:
    """Export the report of the workbook at ``path`` (nothing is written when it has errors, or
    when ``previous``, the previous report's workbook to compare the prognosis with, is refused).

    Raises :class:`~xlreport.core.errors.XlreportError` (Swedish message) for a file that
    cannot be used.
    """
    from ..doors.file import load

    try:
        outcome = load(path, actions=(), previous=previous)
    except XlreportError as exc:
        exc.file = exc.file or str(path)
        raise
    result = ExportResult(str(path), outcome.findings, movement=outcome.movement)
    if not result.errors:
        result.written = export_report(outcome.report, outcome.findings, docx=docx, pdf=pdf, template=template,
                                       movement=outcome.movement)
    return result
