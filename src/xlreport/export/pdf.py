"""The report as PDF: the Word document, converted by LibreOffice headless (Writer).

LibreOffice is the one free program that lays out a .docx the way Word does (tables, fields,
headers, images) on every OS the tool runs on, and it can run without a display. Each
conversion gets its own throw-away user profile, so it neither disturbs nor waits for a
LibreOffice the user has open; the language of that profile is Swedish, so anything
LibreOffice formats itself follows Swedish rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..core.generate import ReportDocument
from . import ExportError

ENV_SOFFICE = "XLREPORT_SOFFICE"  # the LibreOffice program, when it is not found by itself
TIMEOUT = 180.0  # seconds for one conversion
_PLACES = (
    "/usr/bin/soffice", "/usr/local/bin/soffice", "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe", r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>{locale}</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>{locale}</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """The LibreOffice program: ``XLREPORT_SOFFICE``, then ``soffice`` on PATH, then the usual places."""
    configured = os.environ.get(ENV_SOFFICE, "").strip()
    if configured:
        return configured if Path(configured).exists() else None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    return next((p for p in _PLACES if Path(p).exists()), None)


def convert(source: Path, outdir: Path, *, to: str = "pdf", locale: str = "sv-SE",
            timeout: float = TIMEOUT) -> Path:
    """Convert ``source`` with LibreOffice headless into ``outdir``; returns the new file.

    Raises :class:`ExportError` (Swedish message) when LibreOffice is missing or fails.
    """
    soffice = find_soffice()
    if soffice is None:
        raise ExportError("PDF skapas med LibreOffice, som inte hittades på datorn. Installera LibreOffice "
                          "(gratis, libreoffice.org) eller ange programmet i miljövariabeln "
                          f"{ENV_SOFFICE}; Word-filen kan du alltid skapa med --docx", file=source)
    with tempfile.TemporaryDirectory(prefix="xlreport-lo-") as work:
        profile = Path(work) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE.format(locale=locale),
                                                                    encoding="utf-8")
        cmd = [soffice, "--headless", "--norestore", "--nolockcheck", "--nodefault",
               f"-env:UserInstallation={profile.as_uri()}", "--convert-to", to, "--outdir", str(outdir),
               str(source)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                                  **({"creationflags": 0x08000000} if sys.platform == "win32" else {}))
        except subprocess.TimeoutExpired:
            raise ExportError(f"LibreOffice blev inte klar med konverteringen på {timeout:.0f} sekunder",
                              file=source) from None
        except OSError as exc:
            raise ExportError(f"LibreOffice kunde inte startas ({exc.strerror or exc})", file=source) from None
    out = outdir / f"{source.stem}.{to.split(':', 1)[0]}"
    if not out.exists() or out.stat().st_size == 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"slutkod {proc.returncode}"]
        raise ExportError(f"LibreOffice kunde inte skapa PDF-filen ({detail[0]})", file=source)
    return out


def write_pdf(report: ReportDocument, target: str | Path, template: str | Path | None = None) -> Path:
    """Write ``report`` as PDF to ``target`` atomically (through a Word file); returns the path."""
    from ..ooxml.atomic import atomic_output, refuse_unwritable
    from .docx import build_docx

    target = Path(target)
    if target.suffix.lower() != ".pdf":
        raise ExportError("PDF-filen ska ha filändelsen .pdf", file=target)
    refuse_unwritable(target)
    doc = build_docx(report, template)
    with tempfile.TemporaryDirectory(prefix="xlreport-pdf-") as work:
        source = Path(work) / "rapport.docx"
        doc.save(str(source))
        pdf = convert(source, Path(work))
        with atomic_output(target) as tmp:
            shutil.copyfile(pdf, tmp)
    return target
