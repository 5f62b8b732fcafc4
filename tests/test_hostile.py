"""The bad-input corpus: every case runs the real CLI on a real file and checks the promise.

For each case: (a) the exit code (0 works, 1 findings, 2 unprocessable), (b) a Swedish message
that names the file and, where there is one, the sheet and cell, (c) no traceback, (d) the
input byte-identical afterwards whenever the tool did not write (and, when it wrote, every
part it does not own byte-identical), and (e) the peak memory of the process under 1 GB
(measured with ``os.wait4`` on the child, the file-door process itself).

Cases that finance staff would expect to *work* (hidden rows, merged titles, a moved table,
labels with odd case) assert exit 0 and the right output instead of a refusal.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import resource
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import support.hostile as H
from support import libreoffice
from support.cli import Run, xlreport
from support.workbooks import EXAMPLE, parts, sha, sheet_rows, sheet_xml, variant

NBSP = "\u00a0"
MEMORY_BOUND = 1 << 30  # bytes of peak RSS allowed for any run
OWNED = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
         "xl/calcChain.xml", "xl/worksheets/sheet8.xml", "xl/worksheets/sheet9.xml"}  # + written sheets
FIGURES: dict[str, dict] = {}  # filled as the cases run; dumped when XLREPORT_FIGURES names a file


def cli(*args, env: dict[str, str] | None = None) -> Run:
    """Run ``python -m xlreport`` as a real process (no traceback) and measure its peak RSS."""
    run = xlreport(*args, env=env, measure=True)
    assert "oväntat fel" not in run.output, run.output  # a bug, not a user error
    assert 0 < run.max_rss < MEMORY_BOUND, f"peak memory {run.max_rss >> 20} MB"
    return run


# --- checks for the cases that work -------------------------------------------------------


def deviation_written(sheet: str, row: int, col: int, value: float) -> Callable[[Path, Run], None]:
    """The deviation formula was written at (row, col), 0-based, with the expected cached value."""
    def check(path: Path, run: Run) -> None:
        assert round(sheet_rows(path, sheet)[row][col], 2) == value
        xml = parts(path)[H.PARTS[sheet]].decode()
        from xlreport.core.cells import a1

        assert f'<c r="{a1(row, col)}"' in xml and "<f>" in xml
    return check


def total_cached(sheet: str, row: int, col: int, parts: range) -> Callable[[Path, Run], None]:
    """The total at (row, col) keeps its formula and now caches the sum of the rows ``parts``."""
    def check(path: Path, run: Run) -> None:
        rows = sheet_rows(path, sheet)
        assert abs(rows[row][col] - sum(rows[r][col] for r in parts)) < 1e-9
        from xlreport.core.cells import a1

        assert re.search(rf'<c r="{a1(row, col)}"[^>]*><f>[^<]+</f><v>', parts_of(path, sheet))
    return check


def parts_of(path: Path, sheet: str) -> str:
    return parts(path)[H.PARTS[sheet]].decode()


def report_mentions(*texts: str) -> Callable[[Path, Run], None]:
    def check(path: Path, run: Run) -> None:
        rapport = "\n".join(str(v) for line in sheet_rows(path, "Rapport") for v in line)
        for t in texts:
            assert t in rapport, t
    return check


def written_as_text(name: str) -> Callable[[Path, Run], None]:
    """Every Rapport cell whose text starts with ``name`` is an inline string, never a formula."""
    def check(path: Path, run: Run) -> None:
        from lxml import etree

        root = sheet_xml(path, "Rapport")
        ns = {"m": H.NS_MAIN}
        hits = [c for c in root.iter(f"{{{H.NS_MAIN}}}c")
                if (c.findtext("m:is/m:t", namespaces=ns) or "").startswith(name)]
        assert hits, f"{name!r} not in Rapport"
        for c in hits:
            assert c.get("t") == "inlineStr" and c.find("m:f", ns) is None, etree.tostring(c)
        assert not root.xpath("//m:f", namespaces=ns), "the tool never writes formulas into Rapport"
    return check


def sheet_id_kept(sheet: str, value: str) -> Callable[[Path, Run], None]:
    """``sheet``'s sheetId is still ``value`` as written: the tool reads it, it does not mend it."""
    def check(path: Path, run: Run) -> None:
        assert f'<sheet name="{sheet}" sheetId="{value}"'.encode() in parts(path)["xl/workbook.xml"]
    return check


def calc_chain_is(*entries: tuple[str, str | None]) -> Callable[[Path, Run], None]:
    """The calc chain's entries afterwards, (r, i) each; none: the chain is gone, with its
    relationship and content type (Excel rebuilds it)."""
    def check(path: Path, run: Run) -> None:
        from lxml import etree

        after = parts(path)
        if not entries:
            assert H.CALC_CHAIN not in after
            assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
            assert b"calcChain" not in after["[Content_Types].xml"]
            return
        assert [(c.get("r"), c.get("i")) for c in etree.fromstring(after[H.CALC_CHAIN])] == list(entries)
    return check


def all_of(*checks):
    def check(path, run):
        for c in checks:
            c(path, run)
    return check


# --- the corpus ---------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    build: Callable[[Path], Path]
    exit: int
    expect: tuple[str, ...] = ()  # fragments of the Swedish message
    where: str | None = None  # "Sheet!A1" or "Sheet" that the message must name
    check: Callable[[Path, Run], None] | None = None  # for exit 0: the output is right
    env: dict[str, str] = field(default_factory=dict)
    name: str = "bok.xlsx"
    validate_exit: int | None = None  # validate's exit code when it differs from refresh's
    needs: str | None = None  # "libreoffice"


def typed(ref: str, text, *expect: str, rule: str = "tal-som-text") -> Case:
    cell = ref.split("!")[1]
    return Case(f"text-{cell}-{text!r}", lambda d: variant(d, {ref: text}), 1, (*expect, f"[{rule}]"), ref)


CELLS = [
    typed("Resultaträkning!C5", "12,9", "cellen innehåller texten '12,9', inte ett tal", "Menade du 12,9?"),
    typed("Resultaträkning!C5", "1 234,5", "Menade du 1 234,5?"),
    typed("Resultaträkning!C5", f"1{NBSP}234,5", "Menade du 1 234,5?"),
    typed("Resultaträkning!C6", "\u22123,2", "Menade du \u22123,2?"),
    typed("Resultaträkning!C6", "(3,2)", "Menade du \u22123,2?"),
    typed("Resultaträkning!C5", "3,2 mnkr", "Menade du 3,2?"),
    typed("Resultaträkning!C5", "12.9", "Menade du 12,9?"),
    typed("Sjukfrånvaro!B5", "2,5 %", "Menade du 2,5?"),
    typed("Driftredovisning!C7", "ca tretton", "där ett tal ska stå", rule="inte-tal"),
    Case("boolean-true", lambda d: variant(d, {"Resultaträkning!C6": True}), 1, ("sanningsvärdet SANT",),
         "Resultaträkning!C6"),
    Case("boolean-false", lambda d: variant(d, {"Driftredovisning!D8": False}), 1, ("sanningsvärdet FALSKT",),
         "Driftredovisning!D8"),
    Case("date", H.date_cell, 1, ("datum", "[inte-tal]"), "Resultaträkning!C5"),
    Case("error-REF", H.error_cell("Resultaträkning", "C6", "#REF!"), 1, ("felvärdet #REF!", "[felvarde]"),
         "Resultaträkning!C6"),
    Case("error-DIV0-formula", H.error_cell("Driftredovisning", "C7", "#DIV/0!", "1/0"), 1,
         ("felvärdet #DIV/0!",), "Driftredovisning!C7"),
    Case("error-NA", H.error_cell("Driftredovisning", "F9", "#N/A"), 1, ("felvärdet #N/A",), "Driftredovisning!F9"),
    Case("error-VALUE", H.error_cell("Personal", "B5", "#VALUE!"), 1, ("felvärdet #VALUE!",), "Personal!B5"),
    Case("error-typed-as-text", lambda d: variant(d, {"Resultaträkning!G6": "#REF!"}), 1, ("felvärdet #REF!",),
         "Resultaträkning!G6"),
    # A formula saved without its value (a script, openpyxl) is computed, and its value written back.
    Case("formula-without-value-sum", H.uncalculated("Driftredovisning", "C13", "SUM(C5:C12)"), 0,
         ("0 fel, 0 varningar",), check=total_cached("Driftredovisning", 12, 2, range(4, 12))),
    # ... an input computed so: the stale total that used it is named, and the tables no longer tie.
    Case("formula-without-value-input", H.uncalculated("Resultaträkning", "C5", "B5*1.02"), 1,
         ("sparat värde 17,1 är inaktuellt; beräknat 17,3", "[inaktuellt-varde]", "[avstamning]"),
         "Driftredovisning!E13"),
    # Merging a title works; merging over an input empties it (as Excel does) and the sum check says so.
    Case("merged-title", H.merged("Driftredovisning", ["A1:H1"]), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("merged-over-input", H.merged("Driftredovisning", ["C6:D6"], clear=["D6"]), 1,
         ("Driftredovisning!D13: varning: Formeln =SUM(D5:D12): sparat värde −107,4 är inaktuellt",
          "[avstamning]"), "Driftredovisning!E13"),
    # Hidden rows and columns still count: a hidden unit is part of the report.
    Case("hidden-row", H.hidden_row("Driftredovisning", 7), 0,
         check=all_of(deviation_written("Driftredovisning", 6, 4, -0.19),
                      report_mentions("KLK Ekonomi och kvalitet"))),
    Case("hidden-column", H.hidden_column("Driftredovisning", 4), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("hidden-sheet", H.hidden_sheet("Personal"), 0, check=report_mentions("Kommunstyrelsen")),
    Case("labels-case-and-spaces", lambda d: variant(d, {"Resultaträkning!A6": "  KOSTNADER ",
                                                         "Resultaträkning!C4": "utfall  ack",
                                                         "Driftredovisning!A6": "KLK  ledning "}), 0,
         check=deviation_written("Resultaträkning", 5, 4, 12.94)),
    Case("long-text-in-text-cell", H.long_string("Åtaganden", "B5", 100_000), 0,
         check=report_mentions("Kommunstyrelsen")),
    Case("long-text-in-number-cell", H.long_string("Driftredovisning", "C6", 40_000), 1,
         ("cellen innehåller texten 'Lång text. Lång text.", "…' där ett tal ska stå"), "Driftredovisning!C6"),
    Case("unit-named-like-a-formula", H.unit_named('=HYPERLINK("http://example.com","klick")'), 0,
         check=written_as_text('=HYPERLINK("http://example.com"')),
    Case("unit-named-with-minus", H.unit_named("-KLK"), 0, check=written_as_text("-KLK")),
    Case("unit-named-with-plus-and-at", H.unit_named("+@KLK"), 0, check=written_as_text("+@KLK")),
]

STRUCTURE = [
    Case("sheet-missing", H.remove_sheet("Personal"), 2, ("Bladet 'Personal' saknas", "Finns: Uppgifter"),
         "Personal!A1"),
    Case("sheet-renamed", H.renamed_sheet("Personal", "Personalen"), 2, ("Bladet 'Personal' saknas", "Personalen"),
         "Personal!A1"),
    Case("column-renamed", lambda d: variant(d, {"Resultaträkning!D4": "Budget"}), 2,
         ("Kolumnen 'Budget ack' saknas", "[kolumn-saknas]"), "Resultaträkning!A4"),
    Case("column-header-missing", lambda d: variant(d, {"Driftredovisning!G4": None}), 2,
         ("Kolumnen 'Prognos helår' saknas",), "Driftredovisning!A4"),
    Case("column-twice", lambda d: variant(d, {"Driftredovisning!I4": "Budget ack"}), 2,
         ("finns två gånger",), "Driftredovisning!I4"),
    Case("table-missing", lambda d: variant(d, {"Sjukfrånvaro!A4": "Frånvaro"}), 2,
         ("Tabellen Sjukfrånvaro hittas inte",), "Sjukfrånvaro!A1"),
    # A table moved two rows down and one column right is found by its headers.
    Case("table-moved", H.moved_table("Driftredovisning", 2, 1), 0,
         check=deviation_written("Driftredovisning", 7, 5, 2.91)),
    Case("unit-row-added", H.rebuilt(H.extra_unit), 0, check=report_mentions("KLK Ny enhet")),
    Case("unit-row-deleted", lambda d: variant(d, {f"Driftredovisning!{c}11": None for c in "ABCDEFGH"}), 1,
         ("Enheten 'KLK Kommunikation, IT och digitalisering' finns i listan", "[enhet-saknas]"),
         "Driftredovisning!A4"),
    Case("unit-unknown", lambda d: variant(d, {"Driftredovisning!A6": "KLK Ledningen"}), 1, ("[enhet-okand]",),
         "Driftredovisning!A6"),
    Case("summa-missing", lambda d: variant(d, {"Driftredovisning!A13": "Totalt"}), 2,
         ("Raden 'Summa' saknas", "[summa-saknas]"), "Driftredovisning!A4"),
    Case("unit-duplicated", lambda d: variant(d, {"Driftredovisning!A7": "KLK Ledning"}), 1,
         ("'KLK Ledning' finns två gånger", "[dubblett-rad]"), "Driftredovisning!A7"),
    Case("table-without-rows", H.empty_unit_rows, 1, ("saknar rad i tabellen Driftredovisning",),
         "Driftredovisning!A4"),
    Case("empty-workbook", H.empty_workbook, 2, ("Bladet 'Uppgifter' saknas", "Finns: Blad1"), "Uppgifter!A1"),
    Case("other-template-version", lambda d: variant(d, {"Uppgifter!B13": "2.0"}), 1, ("[mallversion]",),
         "Uppgifter!B13"),
    Case("not-from-template", lambda d: variant(d, {"Uppgifter!A13": "Version"}), 2,
         ("'Mallversion' saknas", "inte gjord från mallen"), "Uppgifter!A1"),
    Case("empty-template", H.template, 0, ("varning", "inte ifylld"), check=report_mentions("Sammanfattning")),
    Case("owned-sheet-missing", H.remove_sheet("Rapport"), 0, check=report_mentions("Kommunstyrelsen")),
    Case("sheet-part-missing", H.missing_part, 2, ("Bladet 'Personal' saknar sitt innehåll", "skadad"), "Personal"),
    Case("sheet-xml-damaged", H.damaged_xml, 2, ("Bladet 'Driftredovisning' är skadat",), "Driftredovisning"),
]

FILES = [
    Case("not-a-zip", H.write_bytes(bytes(range(256)) * 40), 2, ("inte en Excel-arbetsbok",)),
    Case("truncated-zip", H.truncated, 2, ("zip-arkivet är skadat",)),
    Case("encrypted", H.encrypted, 2, ("lösenordsskyddad", "ta bort lösenordet")),
    Case("legacy-xls", H.legacy_xls, 2, ("gammal Excel-arbetsbok (.xls)", "spara den som .xlsx"),
         needs="libreoffice"),
    Case("legacy-xls-named-xls", H.legacy_xls, 2, ("gammal Excel-arbetsbok (.xls)",), name="bok.xls",
         needs="libreoffice"),
    Case("csv-renamed", H.csv_renamed, 2, ("textfil (t.ex. CSV)",)),
    Case("xlsb", H.xlsb, 2, ("binär arbetsbok (.xlsb)",)),
    Case("docx-renamed", H.docx, 2, ("annat Office-dokument",)),
    Case("zero-bytes", H.write_bytes(b""), 2, ("Filen är tom",)),
]

HOSTILE = [
    Case("zip-bomb-ratio", H.ratio_bomb, 2, ("packas upp orimligt mycket", "zip-bomb")),
    Case("zip-bomb-total-size", lambda d: shutil.copyfile(EXAMPLE, d) and d, 2, ("för stor uppackad",),
         env={"XLREPORT_MAX_TOTAL_MB": "0.02"}),
    Case("zip-size-lies", H.lying_size, 2, ("sharedStrings.xml", "skadad")),
    Case("entity-bomb-worksheet", H.entity_bomb(H.PARTS["Driftredovisning"]), 2, ("DOCTYPE",)),
    Case("entity-bomb-shared-strings", H.entity_bomb("xl/sharedStrings.xml"), 2, ("DOCTYPE",)),
    Case("entity-bomb-workbook", H.entity_bomb("xl/workbook.xml"), 2, ("DOCTYPE",)),
    Case("external-entity-file", H.external_entity("xl/sharedStrings.xml", "file:///etc/passwd"), 2,
         ("DOCTYPE",)),
    Case("external-entity-http", H.external_entity(H.PARTS["Uppgifter"], "http://127.0.0.1:9/x"), 2,
         ("DOCTYPE",)),
    Case("absurd-extent", H.far_cell("Driftredovisning"), 2, ("sträcker sig ända till cell XFD1048576",),
         "Driftredovisning!XFD1048576"),
    Case("absurd-extent-text", H.far_cell("Personal", "ZZ900000", '<is><t>x</t></is>', ' t="inlineStr"'), 2,
         ("ZZ900000",), "Personal!ZZ900000"),
    Case("absurd-dimension-element", H.absurd_dimension("Driftredovisning"), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("formatted-cell-far-away", H.far_cell("Driftredovisning", value="", attrs=' s="1"'), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("sheet-cell-limit", lambda d: shutil.copyfile(EXAMPLE, d) and d, 2, ("fler celler än de 50 som läses",),
         "Uppgifter", env={"XLREPORT_MAX_SHEET_CELLS": "50"}),  # A1:E25, the first sheet read
    Case("very-long-shared-string", H.huge_string, 2, ("sharedStrings.xml",)),
    Case("part-size-limit", lambda d: shutil.copyfile(EXAMPLE, d) and d, 2, ("för stor uppackad",),
         env={"XLREPORT_MAX_PART_MB": "0.001"}),
    Case("thousands-of-sheets", H.many_sheets(3000), 0, check=report_mentions("Kommunstyrelsen")),
    Case("too-many-parts", H.many_parts(10_500), 2, ("för många delar",)),
    Case("deep-nesting", H.deep_nesting, 2, ("Bladet 'Driftredovisning' är skadat",), "Driftredovisning"),
    Case("path-traversal-entry", H.traversal_name, 0, check=lambda p, r: not Path("/tmp/xlreport-evil.txt").exists()),
    Case("duplicate-part", H.duplicate_part, 2, ("två gånger",)),
    # "²" is a digit to str.isdigit but not to int(): a cell format or number format id written so
    # is none (calamine reads it so too); a row number written so, or a row 0, is a damaged sheet
    Case("superscript-digit-attributes", lambda d: H.edit_package(d, {
        H.PARTS["Driftredovisning"]: lambda x: x.replace(b'<c r="C6" s="5">', '<c r="C6" s="²">'.encode()),
        "xl/styles.xml": lambda x: x.replace(b'<numFmt numFmtId="165"', '<numFmt numFmtId="²"'.encode())}), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("row-spans-not-numbers", H.edit_sheet_with("Driftredovisning", b'<row r="6" spans="1:9">',
                                                    '<row r="6" spans="1:²">'.encode()), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
    Case("row-number-not-a-number", H.edit_sheet_with("Driftredovisning", b'<row r="7" ', '<row r="²" '.encode()),
         2, ("är skadat: en rad har radnumret '²'",), "Driftredovisning"),
    Case("row-zero", H.edit_sheet_with("Uppgifter", b"<sheetData>", b'<sheetData><row r="0"><c r="A0"><v>5</v></c></row>'),
         2, ("är skadat: det har en cell på rad 0",), "Uppgifter"),
]

# numbers no reader can use, each refused by int() ("-1" it reads: a sheet id, below, that no sheet has)
UNREADABLE = ["x", "²", "1.5", ""]
# Driftredovisning's and Resultaträkning's totals, and a cell of Rapport (which refresh replaces whole);
# the entry without i is on the sheet of the one before it
CHAIN = '<c r="B13" i="3"/><c r="C13"/><c r="B5" i="8"/><c r="C5"/><c r="B10" i="{i}"/><c r="C10"/>'
IDS = [
    # calamine finds sheets by r:id and never reads sheetId: the workbook reads, the id stays as written
    *(Case(f"sheet-id-{bad!r}", H.sheet_id("Driftredovisning", bad), 0,
           check=all_of(deviation_written("Driftredovisning", 5, 4, 2.91), sheet_id_kept("Driftredovisning", bad)))
      for bad in UNREADABLE),
    # the entries of the sheet refresh replaces leave the calc chain, the others stay
    Case("calc-chain-pruned", H.calc_chain(CHAIN.format(i="2")), 0,
         check=calc_chain_is(("B13", "3"), ("C13", None), ("B10", "2"), ("C10", None))),
    # an entry on a sheet that is not a number, or a replaced sheet without a readable id: which
    # entries to drop is unknown, so the whole chain goes (a cache; Excel rebuilds it)
    *(Case(f"calc-chain-sheet-{bad!r}", H.calc_chain(CHAIN.format(i=bad)), 0,
           check=all_of(deviation_written("Driftredovisning", 5, 4, 2.91), calc_chain_is()))
      for bad in [*UNREADABLE, "-1"]),
    Case("calc-chain-sheet-id-'x'", H.calc_chain(CHAIN.format(i="2"), H.sheet_id_edit("Rapport", "x")), 0,
         check=all_of(report_mentions("Kommunstyrelsen"), calc_chain_is(), sheet_id_kept("Rapport", "x"))),
]

# found by a sweep that rewrote each attribute and value of the example's parts in turn
C6 = b'<c r="C6" s="5"><v>-17.22</v>'  # Driftredovisning: Utfall ack of KLK Ledning
NAMESPACE = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
SWEPT = [
    # read as infinite by every reader: no figure Excel can hold, so the cell is named, as text would be
    Case("number-1e999", H.edit_sheet_with("Driftredovisning", C6, C6.replace(b"-17.22", b"1e999")), 1,
         ("ett tal som är för stort för Excel att räkna med", "[inte-tal]"), "Driftredovisning!C6"),
    # a finite number past Decimal's 28 digits is rounded as a report prints it, and the tables no longer tie
    Case("number-1e30", H.edit_sheet_with("Driftredovisning", C6, C6.replace(b"-17.22", b"1e30")), 1,
         ("1 000 000 000 000 000 019 884 624 838 656,0", "[avstamning]"), "Driftredovisning!E13"),
    # an encoding expat cannot read (it raised LookupError, ValueError, UnicodeError): the part is damaged
    *(Case(f"encoding-{encoding}-sheet", H.edit_sheet_with("Driftredovisning", b'encoding="UTF-8"',
                                                          f'encoding="{encoding}"'.encode()), 2,
           ("är skadat (ogiltig XML i xl/worksheets/sheet3.xml: teckenkodning som inte kan läsas",), "Driftredovisning")
      for encoding in ("x", "utf-32", "idna")),
    Case("encoding-x-relationships", lambda d: H.edit_package(d, {
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(b'encoding="UTF-8"', b'encoding="x"')}), 2,
         ("Delen xl/_rels/workbook.xml.rels i arbetsboken är skadad", "teckenkodning som inte kan läsas")),
    # calamine reads a sheet in no namespace; no writer of the format can change it: refused whole
    Case("sheet-without-namespace", H.edit_sheet_with("Resultaträkning", NAMESPACE, b"<worksheet "), 2,
         ("Bladet 'Resultaträkning' kan inte skrivas: delen har inget sheetData-element", "[skrivfel]"),
         "Resultaträkning", validate_exit=0),
    # a relationship without an Id: no part can name it, so it is no part's (here the theme's)
    Case("relationship-without-id", lambda d: H.edit_package(d, {
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(b'<Relationship Id="rId10" ', b"<Relationship ")}), 0,
         check=deviation_written("Driftredovisning", 5, 4, 2.91)),
]

ALL = CELLS + STRUCTURE + FILES + HOSTILE + IDS + SWEPT


def _unowned_unchanged(before: dict[str, bytes], after: dict[str, bytes], written: set[str]) -> None:
    for part, data in before.items():
        if part in OWNED or part in written:
            continue
        assert after.get(part) == data, f"{part} changed"


@dataclass
class Outcome:
    path: Path
    before_sha: str
    before: dict[str, bytes]
    validated: int | None = None  # validate's exit status for this file
    run: Run | None = None
    leftovers: list[str] = field(default_factory=list)


def _build(folder: Path, case: Case) -> Outcome:
    work = folder / case.id
    work.mkdir()
    path = work / case.name
    case.build(path)
    return Outcome(path, sha(path), parts(path) if case.exit == 0 else {})


def _refresh(case: Case, outcome: Outcome) -> None:
    outcome.run = cli("refresh", outcome.path, env=case.env)
    outcome.leftovers = [p.name for p in outcome.path.parent.iterdir() if p.name.startswith(".~")]


def _validate_all(cases: list[Case], outcomes: dict[str, Outcome]) -> None:
    """One ``validate --format json`` process per environment for every file (saves a process a case)."""
    groups: dict[tuple, list[Case]] = {}
    for c in cases:
        groups.setdefault(tuple(sorted(c.env.items())), []).append(c)
    for env, group in groups.items():
        run = cli("validate", "--format", "json", *[outcomes[c.id].path for c in group], env=dict(env))
        status = {f["file"]: f["status"] for f in json.loads(run.stdout)["files"]}
        for c in group:
            o = outcomes[c.id]
            o.validated = status.get(str(o.path))
            assert sha(o.path) == o.before_sha, f"validate changed {c.id}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Outcome]:
    """Build every case, validate them all, then refresh each (two at a time: a CLI run is a process)."""
    folder = tmp_path_factory.mktemp("corpus")
    cases = [c for c in ALL if c.needs != "libreoffice" or libreoffice.available()]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes = dict(zip([c.id for c in cases], pool.map(lambda c: _build(folder, c), cases)))
        _validate_all(cases, outcomes)
        list(pool.map(lambda c: _refresh(c, outcomes[c.id]), cases))
    return outcomes


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_case(corpus, case: Case):
    if case.id not in corpus:
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh")
    outcome = corpus[case.id]
    path, run, validated = outcome.path, outcome.run, outcome.validated
    FIGURES[case.id] = {"exit": run.returncode, "peak_mb": run.max_rss >> 20}

    assert run.returncode == case.exit, run.output
    assert validated == (case.exit if case.validate_exit is None else case.validate_exit)
    assert str(path) in run.stdout, run.output
    for fragment in case.expect:
        assert fragment in run.stdout, (fragment, run.output)
    if case.where:  # "file: Sheet!A1: fel: ..." or, without a cell, "file: Sheet: fel: ..."
        sheet, _, cell = case.where.partition("!")
        where = re.escape(f"{path}: {sheet}") + (re.escape(f"!{cell}") if cell else r"(![A-Z]+\d+)?") + ": "
        assert re.search(where, run.stdout), run.output
    assert not outcome.leftovers, outcome.leftovers
    if case.exit == 0:
        assert "; skrev " in run.stdout
        _unowned_unchanged(outcome.before, parts(path), _written_sheets(case))
        FIGURES[case.id]["unowned_changed"] = 0
        if case.check:
            case.check(path, run)
    else:
        assert sha(path) == outcome.before_sha, "the input was changed"
        assert "; skrev " not in run.stdout


def _written_sheets(case: Case) -> set[str]:
    """The user sheets the tool may write: the two that hold deviation columns (and, in a
    workbook without a Rapport sheet, the new part it adds)."""
    return {H.PARTS["Resultaträkning"], H.PARTS["Driftredovisning"]}


# --- file-system cases: paths, permissions, locks -----------------------------------------


def test_path_does_not_exist(tmp_path):
    path = tmp_path / "finns-inte.xlsx"
    for command in ("refresh", "validate"):
        run = cli(command, path)
        assert run.returncode == 2
        assert f"{path}: fel: Filen finns inte" in run.stdout
    assert not path.exists()


def test_path_is_a_directory(tmp_path):
    path = tmp_path / "mapp.xlsx"
    path.mkdir()
    run = cli("refresh", path)
    assert run.returncode == 2 and f"{path}: fel: Sökvägen är en mapp" in run.stdout
    assert list(path.iterdir()) == []


def _copy(tmp_path: Path, name: str = "bok.xlsx") -> Path:
    return variant(tmp_path / name)


def test_read_only_file(tmp_path):
    """A file marked read-only is not written, even by root; validate still reads it."""
    path = _copy(tmp_path)
    path.chmod(0o444)
    before = sha(path)
    run = cli("refresh", path)
    assert run.returncode == 2
    assert f"{path}: fel: Arbetsboken bok.xlsx är skrivskyddad" in run.stdout
    assert sha(path) == before and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert cli("validate", path).returncode == 0
    out = tmp_path / "ut.xlsx"
    assert cli("refresh", path, "-o", out).returncode == 0 and out.exists()  # -o is the way out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]


def _chattr(path: Path, flag: str) -> bool:
    return shutil.which("chattr") is not None and subprocess.run(
        ["chattr", flag, str(path)], check=False, capture_output=True).returncode == 0


def test_immutable_file(tmp_path):
    """chattr +i stops even root: the write fails cleanly and the original is untouched."""
    path = _copy(tmp_path)
    if not _chattr(path, "+i"):
        pytest.skip("chattr +i is not supported here")
    try:
        before = sha(path)
        run = cli("refresh", path)
        assert run.returncode == 2
        assert f"{path}: fel: Kunde inte skriva bok.xlsx" in run.stdout and "originalet är oförändrat" in run.stdout
        assert sha(path) == before
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]
    finally:
        _chattr(path, "-i")


def test_file_in_immutable_folder(tmp_path):
    folder = tmp_path / "låst"
    folder.mkdir()
    path = _copy(folder)
    if not _chattr(folder, "+i"):
        pytest.skip("chattr +i is not supported here")
    try:
        before = sha(path)
        run = cli("refresh", path)
        assert run.returncode == 2
        assert f"{path}: fel: Kunde inte skriva bok.xlsx" in run.stdout
        assert sha(path) == before and sorted(p.name for p in folder.iterdir()) == ["bok.xlsx"]
    finally:
        _chattr(folder, "-i")


def _unprivileged() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("nobody", "daemon"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def _process_as(uid: int | None, path: Path, write: bool) -> tuple[int, list[str]]:
    """files.process in a forked child running as ``uid`` (None: as we are).

    The child needs no file of the interpreter or of xlreport (all imported here first), so it
    works even where the unprivileged user cannot read the virtualenv.
    """
    import encodings.cp437  # noqa: F401 - zipfile's name codec, loaded lazily otherwise
    import multiprocessing

    from xlreport.doors import file as files
    from xlreport.ooxml import apply  # noqa: F401 - loaded before the fork, the child cannot import

    def child(conn) -> None:
        try:
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            result = files.process(path, write=write)
            conn.send((result.status, [f"{result.file}: {f.message}" for f in result.findings]))
        except BaseException as exc:  # noqa: BLE001 - a traceback is exactly what the test must catch
            conn.send((None, [f"uncaught {type(exc).__name__}: {exc}"]))

    parent_end, child_end = multiprocessing.get_context("fork").Pipe()
    proc = multiprocessing.get_context("fork").Process(target=child, args=(child_end,))
    proc.start()
    got = parent_end.recv() if parent_end.poll(120) else (None, ["no answer"])
    proc.join(10)
    return got


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user can reach (pytest's tmp_path lies under a private 0700 dir)."""
    d = Path(tempfile.mkdtemp(prefix="xlreport-perm-"))
    d.chmod(0o755)
    yield d
    for p in d.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(d, ignore_errors=True)


def _unprivileged_uid() -> int | None:
    user = _unprivileged()
    return pwd.getpwnam(user).pw_uid if user else None  # as root, become that user; else we are one


def test_read_only_folder_as_unprivileged_user(shared_dir):
    """The ordinary case on a user's machine: a folder the user may read but not write."""
    uid = _unprivileged_uid()
    folder = shared_dir / "delad"
    folder.mkdir()
    path = _copy(folder)
    path.chmod(0o644)
    folder.chmod(0o555)
    before = sha(path)
    status, messages = _process_as(uid, path, write=True)
    assert status == 2, messages
    assert any(m.startswith(f"{path}: Kunde inte skriva bok.xlsx") for m in messages), messages
    assert sha(path) == before and sorted(p.name for p in folder.iterdir()) == ["bok.xlsx"]
    assert _process_as(uid, path, write=False)[0] == 0  # reading is still allowed


@pytest.mark.parametrize("where", ["unreadable-file", "closed-folder"])
def test_no_permission_to_read_as_unprivileged_user(shared_dir, where):
    uid = _unprivileged_uid()
    folder = shared_dir / "stangd"
    folder.mkdir()
    path = _copy(folder)
    if where == "unreadable-file":
        path.chmod(0o000)
    else:
        folder.chmod(0o700 if uid is not None else 0o000)  # root's own folder: closed to the user
    for write in (False, True):
        status, messages = _process_as(uid, path, write=write)
        assert status == 2, messages
        assert any(m.startswith(f"{path}: ") and "behörighet" in m for m in messages), messages
    folder.chmod(0o755)
    path.chmod(0o644)
    assert sha(path) == sha(EXAMPLE)


@pytest.mark.parametrize("command", ["refresh", "fill", "generate"])
def test_open_in_excel_refuses_to_write(tmp_path, command):
    path = _copy(tmp_path)
    (tmp_path / "~$bok.xlsx").write_bytes(b"\x0bExcelanv\xe4ndare")
    before = sha(path)
    run = cli(command, path)
    assert run.returncode == 2
    assert f"{path}: fel: Arbetsboken är öppen i Excel (~$bok.xlsx). Stäng den i Excel" in run.stdout
    assert sha(path) == before
    assert cli("validate", path).returncode == 0  # reading is fine while Excel has it open


def test_owner_and_mode_preserved(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("changing the owner needs root")
    user = _unprivileged()
    path = _copy(tmp_path)
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    path.chmod(0o640)
    assert cli("refresh", path).returncode == 0
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (pw.pw_uid, pw.pw_gid, 0o640)


def test_peak_memory_on_a_zip_bomb_is_bounded(tmp_path):
    """The bound holds for the cases above; here a 1 GB bomb shows the checks run before inflating."""
    path = tmp_path / "bomb.xlsx"
    H.ratio_bomb(path, size=1 << 30)
    run = cli("refresh", path)
    assert run.returncode == 2 and run.max_rss < 200 << 20, run.max_rss


def test_corpus_size():
    assert len(ALL) + 9 >= 50


def teardown_module(module):
    target = os.environ.get("XLREPORT_FIGURES")
    if target and FIGURES:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        Path(target).write_text(json.dumps({"cases": FIGURES, "children_max_rss_mb": ru.ru_maxrss >> 10},
                                           indent=1, ensure_ascii=False), encoding="utf-8")
