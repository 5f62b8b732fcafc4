"""The rule ids of the SIE import, declared once in the catalogue, and the finding they make.

A problem in a SIE file is located by its line, not by a sheet and a cell: :class:`SieFinding`
is a :class:`~xlreport.core.findings.Finding` that also carries the line number (``line``, also
in its JSON form). Problems in the workbook (a unit without a row, a missing År) are plain
findings with the sheet and cell.

This module imports only the catalogue, so ``xlreport rules`` can list these ids without
loading the importer.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import XlreportError
from ..core.findings import ERROR, WARNING, Finding, RuleSpec, declare

# The rule ids of the import, in the order ``xlreport rules`` lists them: the file's (exit code 2,
# nothing is read from it), then the import's (exit code 1, nothing is written).
(
    SIE_FIL, SIE_TECKEN, SIE_AVKORTAD, SIE_VERIFIKATION, SIE_DUBBLETT,
    SIE_RAR, SIE_KARTA, SIE_AR, SIE_PERIOD, SIE_KONTO,
    SIE_OBJEKT, SIE_AVSTAMNING, SIE_PLATS, SIE_FORMEL, SIE_KALLOR, SIE_SAKNAS,
) = (declare(*spec) for spec in (
    ("sie-fil", "fil", ERROR, "SIE-filen är en läsbar SIE 4-fil (typ 1–4) med korrekt syntax"),
    ("sie-teckenkod", "fil", ERROR, "SIE-filen är skriven i PC8 (CP437) eller UTF-8, utan ersättningstecken (�)"),
    ("sie-avkortad", "fil", ERROR, "SIE-filen är hel: den slutar inte mitt i en verifikation"),
    ("sie-verifikation", "fil", ERROR, "Varje verifikations transaktioner summerar till noll"),
    ("sie-dubblett", "fil", ERROR, "Varje saldo (#PSALDO, #PBUDGET, #RES) och verifikation (serie och nummer) finns en gång"),
    ("sie-rar", "fil", ERROR, "SIE-filen anger räkenskapsåret (#RAR 0)"),
    ("sie-mappningsfil", "fil", ERROR, "Mappningsfilerna (--map, --enheter) går att läsa och varje rad är giltig"),
    ("sie-ar", "ekonomi", ERROR, "SIE-filens räkenskapsår (#RAR 0) är rapportens År, januari–december"),
    ("sie-period", "ekonomi", ERROR, "Rapportens År och Månad finns och SIE-filen har utfall för perioden"),
    ("sie-konto", "ekonomi", ERROR, "Varje konto med belopp hör till en rad i Resultaträkning (kontoplanen eller --map)"),
    ("sie-objekt", "ekonomi", ERROR, "Varje objekt med belopp i enhetsdimensionen hör till en enhet i listan Enheter"),
    ("sie-avstamning", "ekonomi", ERROR, "Kontona, Resultaträkningens rader och enheterna summerar till samma belopp, på öret"),
    ("sie-plats", "ekonomi", ERROR, "Driftredovisning har en rad för varje enhet i SIE-filen"),
    ("sie-formel", "ekonomi", ERROR, "Cellerna som importen fyller i är inmatningsceller, utan formel"),
    ("sie-kallor", "ekonomi", ERROR, "Bladet Källor har plats för importens rad"),
    ("sie-saknas", "ekonomi", WARNING, "SIE-filen har uppgifter för varje kolumn som importen fyller (annars lämnas kolumnen)"),
))


class SieFinding(Finding):
    """A finding about a line of a SIE or mapping file: ``line`` is 1-based (None: the whole
    file), ``source`` the file when it is not the SIE file itself (a mapping file)."""

    def __init__(self, spec: RuleSpec, message: str, line: int | None = None, *, source: str | None = None,
                 expected: Any = None, actual: Any = None):
        super().__init__(spec.id, spec.severity, message, expected=expected, actual=actual)
        object.__setattr__(self, "line", line)  # a frozen record: set once, here
        object.__setattr__(self, "source", source)

    def location(self) -> str:
        return f"rad {self.line}" if self.line is not None else ""

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        return {**super().to_dict(self.source or file), "line": self.line}


class SieError(XlreportError):
    """The SIE file (or a mapping file) cannot be used: nothing is read from it, nothing written.

    ``findings`` holds every problem found (each with its line), the message the first one.
    """

    rule = "sie-fil"

    def __init__(self, message: str, *, findings: list[Finding] | None = None, **kw):
        super().__init__(message, **kw)
        self.findings = list(findings or [])
