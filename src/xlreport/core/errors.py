"""Errors a user can cause, each with a Swedish message that names the file (and sheet/cell).

Anything raised as an :class:`XlreportError` is a *user* error: the CLI prints its message
and exits with code 2, never a traceback. Anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class XlreportError(Exception):
    """A problem with the user's input that stops processing of one file."""

    rule = "fil"

    def __init__(self, message: str, *, file: str | Path | None = None, sheet: str | None = None,
                 cell: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.cell = cell

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"blad {self.sheet}" + (f", cell {self.cell}" if self.cell else ""))
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class NotAWorkbook(XlreportError):
    """The file is missing, not a zip, not an Office Open XML workbook, or damaged."""

    rule = "ej-arbetsbok"


class UnsafeWorkbook(XlreportError):
    """The file exceeds a safety limit (zip bomb, entity expansion, absurd size)."""

    rule = "osaker-fil"


class WorkbookLocked(XlreportError):
    """Excel (or another program) has the workbook open, or another xlreport is writing it."""

    rule = "last"


class WriteFailed(XlreportError):
    """The result could not be written (permissions, disk full); the original is unchanged."""

    rule = "skrivfel"


class DepartmentError(XlreportError):
    """A refusal of ``new``/``upgrade``/``consolidate`` (or of the package edit they ask for):
    nothing was written."""

    rule = "avdelning"


class StructureError(XlreportError):
    """The template structure the tool needs is missing (sheet, table, column, row)."""

    rule = "struktur"

    def __init__(self, message: str, *, findings=None, **kw):
        super().__init__(message, **kw)
        self.findings = list(findings or [])


#: The outcome of one file, and the exit code of a command (the worst outcome of its files):
#: no errors (warnings allowed), errors found, the file could not be processed.
OK, FINDINGS, UNPROCESSABLE = 0, 1, 2


_OS_ERRORS_SV = {
    "ENOSPC": "disken är full",
    "EDQUOT": "diskkvoten är slut",
    "EACCES": "behörighet saknas",
    "EPERM": "åtgärden är inte tillåten",
    "EROFS": "filsystemet är skrivskyddat",
    "ENOENT": "filen eller mappen finns inte",
    "ENOTDIR": "en del av sökvägen är ingen mapp",
    "EISDIR": "sökvägen är en mapp",
    "EEXIST": "filen finns redan",
    "EBUSY": "filen används av ett annat program",
    "ETXTBSY": "filen används av ett annat program",
    "ENAMETOOLONG": "sökvägen är för lång",
    "EIO": "ett in- eller utmatningsfel på disken",
    "EMFILE": "för många öppna filer",
    "ENFILE": "för många öppna filer",
    "EXDEV": "filen kan inte flyttas mellan enheter",
    "ELOOP": "för många symboliska länkar i sökvägen",
}


def os_error_sv(exc: OSError) -> str:
    """An operating-system error in Swedish ("disken är full"), with the system's code for support."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    text = _OS_ERRORS_SV.get(name)
    if text is None:
        return f"systemfel: {exc.strerror or exc}"
    return f"{text}, {name}"
