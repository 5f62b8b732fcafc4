"""Build the :class:`~xlreport.core.model.Report` from sheet grids, finding structure by its names.

Every table is located by the text of its first-column header (``Konto``, ``Enhet``, ...) and
its columns by their header text, so users may insert rows and columns, move a table down or
sideways, and reorder columns. What cannot be found is collected in one pass and raised as a
single :class:`~xlreport.core.errors.StructureError`; cells that hold the wrong kind of value become
findings (the model keeps ``None`` for them and the rules skip what depends on them). Each of
these checks is declared once below (id, group, severity, description; ``xlreport rules``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping

from ..records import Record, field
from . import layout as L
from .cells import CellRef, Grid, a1, is_number
from .chars import INVISIBLE
from .errors import StructureError
from .findings import ERROR, WARNING, Finding, RuleSpec, declare
from .model import Meta, Report, Row, Table
from .swedish import fmt_number, parse_number_text, read_number_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    import datetime as dt
    from typing import Any

# --- the reader's checks -------------------------------------------------------------------

BLAD_SAKNAS = declare("blad-saknas", "struktur", ERROR, "Mallens blad finns i arbetsboken")
TABELL_SAKNAS = declare("tabell-saknas", "struktur", ERROR, "Varje tabell hittas på sitt blad genom sin rubrik")
KOLUMN_SAKNAS = declare("kolumn-saknas", "struktur", ERROR,
                        "Tabellernas kolumner finns, med rubrikerna stavade som i mallen")
KOLUMN_DUBBLETT = declare("kolumn-dubblett", "struktur", ERROR, "Ingen kolumn finns två gånger i samma tabell")
SUMMA_SAKNAS = declare("summa-saknas", "struktur", ERROR, "Driftredovisning och Personal slutar med raden Summa")
RAD_SAKNAS = declare("rad-saknas", "struktur", ERROR, "Tabellernas fasta rader (Intäkter, Kostnader, ...) finns")
UPPGIFT_RAD_SAKNAS = declare("uppgift-rad-saknas", "struktur", ERROR,
                             f"Bladet {L.SHEET_META} har uppgiften {L.META_VERSION}")
UPPGIFT_TYP = declare("uppgift-typ", "celler", ERROR,
                      f"Uppgifterna på bladet {L.SHEET_META} har rätt slags värde (text, heltal eller tal)")
TAL_SOM_TEXT = declare("tal-som-text", "celler", ERROR, "Ett tal är inte inskrivet som text (t.ex. '12,9')")
INTE_TAL = declare("inte-tal", "celler", ERROR, "En sifferkolumns celler innehåller tal, inte text, datum "
                                                "eller sanningsvärden")
SKALAT_FORMAT = declare("skalat-talformat", "celler", ERROR,
                        "Ett belopp visas som det är lagrat (inget talformat som delar med 1 000, t.ex. '#,##0,')")
RUBRIK_ENHET = declare("rubrik-enhet", "celler", WARNING,
                       "Tabellernas rubriker anger inte någon annan enhet än mnkr (tkr, kronor)")
FELVARDE = declare("felvarde", "celler", ERROR, "Ingen cell visar ett felvärde (#REF!, #DIV/0!, ...)")
FORMEL_UTAN_VARDE = declare("formel-utan-varde", "celler", ERROR,
                            "Formlerna har beräknade värden (arbetsboken är sparad av Excel)")
OKAND_RAD = declare("okand-rad", "mall", WARNING, "Raderna i tabeller med fasta rader är mallens rader")
ETIKETT_SAKNAS = declare("etikett-saknas", "mall", ERROR, "En rad med värden har ett namn")
DUBBLETT_RAD = declare("dubblett-rad", "mall", ERROR, "Varje rad (enhet, post) finns en gång i sin tabell")
KOLUMN_STAVNING = declare("kolumn-stavning", "mall", WARNING,
                          "En rubrik i tabellen som liknar en av mallens kolumner är stavad som i mallen "
                          "(annars läses kolumnen inte)")
FORANDRING_UTAN_BAS = declare("forandring-utan-bas", "mall", WARNING,
                              "En tabell med kolumnen Förändring har också kolumnen den räknas från (Totalt fg år, "
                              "Totalt fg period), så att Förändring kan kontrolleras")
VASENTLIGHETSGRANS = declare("vasentlighetsgrans", "forklaringar", ERROR,
                             f"Uppgiften {L.META_VASENTLIGHET} är ett belopp i mnkr, 0 eller större")


class TableSpec(Record, frozen=True):
    name: str  # Swedish name used in messages
    sheet: str
    head: str  # first-column header text
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    numeric: bool = True
    text_columns: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()  # canonical labels, when the rows are fixed
    required_rows: tuple[str, ...] = ()
    prefixes: Mapping[str, str] = field(default_factory=dict)
    total: bool = False  # ends with a "Summa" row
    total_required: bool = False
    one_of: tuple[str, ...] = ()  # at least one of these rows is required (the result rows)
    percent: bool = False  # the values are percentages (a percent-formatted cell is read as shown)
    change_base: str | None = None  # the column Förändring is Totalt minus (its check needs both)


INCOME = TableSpec("Resultaträkning", L.SHEET_INCOME, L.HEAD_INCOME, L.INCOME_COLUMNS,
                   L.INCOME_REQUIRED_COLUMNS, rows=L.INCOME_ROWS, required_rows=L.REQUIRED_INCOME_ROWS,
                   prefixes=L.ROW_PREFIXES, one_of=L.RESULT_ROWS, text_columns=L.INCOME_TEXT_COLUMNS)
UNITS = TableSpec("Driftredovisning", L.SHEET_UNITS, L.HEAD_UNITS, L.UNIT_COLUMNS, L.UNIT_REQUIRED_COLUMNS,
                  total=True, total_required=True, text_columns=L.UNIT_TEXT_COLUMNS)
EXPLANATION = TableSpec("Avvikelseförklaring", L.SHEET_EXPLANATION, L.HEAD_EXPLANATION,
                        L.EXPLANATION_COLUMNS, L.EXPLANATION_COLUMNS, total=True,
                        text_columns=L.EXPLANATION_TEXT_COLUMNS)
STAFF = TableSpec("Personal", L.SHEET_STAFF, L.HEAD_STAFF, L.STAFF_COLUMNS, L.STAFF_COLUMNS[:3],
                  rows=L.STAFF_FORMS, total=True, total_required=True, change_base=L.COL_TOTALT_FG)
LEAVERS = TableSpec("Avgångar", L.SHEET_STAFF, L.HEAD_LEAVERS, L.LEAVERS_COLUMNS, L.LEAVERS_COLUMNS,
                    total=True)
SICK = TableSpec("Sjukfrånvaro", L.SHEET_SICK, L.HEAD_SICK, L.SICK_COLUMNS, L.SICK_COLUMNS[:3],
                 rows=L.SICK_ROWS, required_rows=L.SICK_ROWS, prefixes=L.SICK_PREFIXES, percent=True,
                 change_base=L.COL_TOTALT_FGP)
COMMITMENTS = TableSpec("Åtaganden", L.SHEET_COMMITMENTS, L.HEAD_COMMITMENTS, L.COMMITMENT_COLUMNS,
                        (L.COL_STATUS,), numeric=False)

META_FIELDS = {
    L.META_KOMMUN: ("kommun", str),
    L.META_NAMND: ("namnd", str),
    L.META_ENHET: ("enhet", str),
    L.META_RAPPORT: ("rapport", str),
    L.META_AR: ("ar", int),
    L.META_PERIOD: ("period", str),
    L.META_MANAD: ("manad", int),
    L.META_SJUKMAL: ("sjukmal", float),
    L.META_DRIFTRAM: ("driftram", float),
    L.META_VERSION: ("version", str),
    L.META_SJUK_PERIOD: ("sjuk_period", str),
    L.META_SJUK_PERIOD_FG: ("sjuk_period_fg", str),
    L.META_VASENTLIGHET: ("vasentlighet", float),
}


class Uncalculated(str):
    """A formula cell without a cached value, as the file adapter reports it; the text is the formula.

    A workbook saved by a program that does not calculate (a script, some converters) has
    formulas whose results are unknown until Excel opens it: the tool cannot check them.
    """


SHOWN_TEXT = 80  # longest cell text quoted in a message


def shown(text: object, limit: int = SHOWN_TEXT) -> str:
    """Cell text as quoted in a message: one line, at most ``limit`` characters."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


class _Collector:
    def __init__(self) -> None:
        self.structure: list[Finding] = []
        self.findings: list[Finding] = []

    def missing(self, ref: CellRef | None, rule: RuleSpec, message: str) -> None:
        self.structure.append(rule.at(ref, message))


def read_report(grids: Mapping[str, Grid], sheet_names: list[str] | None = None) -> tuple[Report, list[Finding]]:
    """Parse the report; returns the model and the cell-level findings.

    Raises :class:`StructureError` (with every structural finding) when a sheet, table, column
    or required row is missing.
    """
    names = list(sheet_names) if sheet_names is not None else list(grids)
    out = _Collector()
    present = {L.norm(n): n for n in names if n in grids}
    for sheet in L.REQUIRED_SHEETS:
        if L.norm(sheet) not in present:
            out.missing(CellRef(sheet, 0, 0), BLAD_SAKNAS,
                        f"Bladet '{sheet}' saknas i arbetsboken. Finns: {', '.join(names) or 'inga blad'}.")
    if out.structure:
        raise StructureError(out.structure[0].message if len(out.structure) == 1 else
                             f"{len(out.structure)} blad saknas i arbetsboken.", findings=out.structure)

    def grid(sheet: str) -> Grid:
        return grids[present[L.norm(sheet)]]

    meta = _read_meta(grid(L.SHEET_META), out)
    tables = {}
    index: dict[str, dict[str, list[tuple[int, int]]]] = {}  # each sheet's text cells, for the table headers
    for spec in (INCOME, UNITS, EXPLANATION, STAFF, SICK, COMMITMENTS):
        tables[spec.name] = _read_table(grid(spec.sheet), spec, out, index)
    leavers = _read_table(grid(LEAVERS.sheet), LEAVERS, out, index, optional=True)
    if out.structure:
        first = out.structure[0]
        msg = first.message if len(out.structure) == 1 else (
            f"Mallens struktur saknas på {len(out.structure)} ställen; först: {first.message}")
        raise StructureError(msg, findings=out.structure, sheet=first.sheet, cell=first.cell)
    report = Report(meta=meta, income=tables[INCOME.name], units=tables[UNITS.name],
                    explanation=tables[EXPLANATION.name], staff=tables[STAFF.name], leavers=leavers,
                    sick=tables[SICK.name], commitments=tables[COMMITMENTS.name], sheet_names=names)
    return report, out.findings


# --- metadata -----------------------------------------------------------------------------

def _read_meta(g: Grid, out: _Collector) -> Meta:
    meta = Meta()
    by_label = {L.norm(label): label for label in META_FIELDS}
    units_header = L.norm(L.META_UNITS_HEADER)
    for row, col, value in g.cells():
        n = L.norm(value)
        label = by_label.get(n)
        if label is None or META_FIELDS[label][0] in meta.cells:  # the first label of a kind counts
            if n == units_header and meta.units_header is None:
                meta.units_header = CellRef(g.name, row, col)
            continue
        attr, kind = META_FIELDS[label]
        ref = CellRef(g.name, row, col + 1)
        raw = g.get(row, col + 1)
        meta.cells[attr] = ref
        if raw is None or (isinstance(raw, str) and raw.strip() in L.NO_VALUE_MARKS):
            continue
        if _is_percent(g.formats.get((row, col + 1))) and kind is float and is_number(raw):
            raw = float(raw) * 100  # "3 %" stored as 0.03: the target is in percent, as Excel shows it
        value = _meta_value(raw, kind, label)
        unit = _meta_unit(raw, attr) if value is not None else None
        if value is None or unit is not None:
            what = f"datumet {_date_text(raw)}" if isinstance(raw, _date_types()[:1]) else f"'{shown(raw)}'"
            why = f"ska vara {_KIND_SV[kind]}" if unit is None else \
                f"är i {_META_UNITS[attr][0]} och ska vara ett tal i {_META_UNITS[attr][0]} (cellen anger {unit})"
            out.findings.append(UPPGIFT_TYP.at(ref, f"Uppgiften '{label}' {why}, men cellen innehåller {what}.",
                                               actual=_jsonable(raw)))
            meta.invalid.add(attr)
            continue
        setattr(meta, attr, value)
    if meta.units_header is not None:
        r, c = meta.units_header.row + 1, meta.units_header.col
        while (v := g.get(r, c)) is not None and str(v).strip():
            meta.units.append(str(v).strip())
            r += 1
        blanks = 0
        while blanks < 3 and r < g.n_rows:  # names left below a blank cell: not in the list
            v = g.get(r, c)
            if _is_blank(v):
                blanks += 1
            elif isinstance(v, str) and L.norm(v) not in by_label:
                blanks = 0
                meta.units_after_blank.setdefault(L.norm(v), CellRef(g.name, r, c))
            else:
                break
            r += 1
    if meta.vasentlighet is not None and meta.vasentlighet < 0:
        out.findings.append(VASENTLIGHETSGRANS.at(meta.cells["vasentlighet"], f"Uppgiften '{L.META_VASENTLIGHET}' "
                                                  f"är {fmt_number(meta.vasentlighet, 1)}; gränsen ska vara 0 eller "
                                                  f"större (ett belopp i mnkr, utan minustecken).",
                                                  actual=meta.vasentlighet))
        meta.invalid.add("vasentlighet")
        meta.vasentlighet = None
    if "version" not in meta.cells:
        out.missing(CellRef(g.name, 0, 0), UPPGIFT_RAD_SAKNAS,
                    f"Uppgiften '{L.META_VERSION}' saknas på bladet {g.name}: arbetsboken är inte gjord från mallen.")
    return meta


_KIND_SV = {str: "en text", int: "ett heltal", float: "ett tal"}


def _date_types() -> tuple[type, ...]:
    """The types of the dates and times a reader gives (calamine, for a cell in a date format):
    date (datetime is one), time and timedelta. None while ``datetime`` has not been imported, as
    no value can then be one: the scan's own reading gives none, so a validation that calamine
    did not read never imports the module (about 3 ms of a command's start)."""
    dt = sys.modules.get("datetime")
    return () if dt is None else (dt.date, dt.time, dt.timedelta)


def _date_text(d: dt.date) -> str:
    return d.strftime("%Y-%m-%d")


def _period_of_date(d: dt.date, label: str) -> str:
    """A date typed where a period belongs, as the report writes periods: "mars 2020", and for
    the twelve months of sick leave "mars 2019–februari 2020" (ending with the date's month)."""
    if label in (L.META_SJUK_PERIOD, L.META_SJUK_PERIOD_FG):
        first_month, first_year = d.month % 12 + 1, d.year - (d.month < 12)
        return f"{L.MONTHS[first_month - 1]} {first_year}–{L.MONTHS[d.month - 1]} {d.year}"
    return f"{L.MONTHS[d.month - 1]} {d.year}"


@functools.lru_cache(maxsize=1024)  # a workbook has a handful of format codes, asked for cell by cell
def _is_percent(code: str | None) -> bool:
    """Whether a number format shows the value times 100 with a % sign (outside quotes)."""
    if not code:
        return False
    bare, quoted, escaped = [], False, False
    for ch in code:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            bare.append(ch)
    return "%" in "".join(bare)


def _check_scaled(g: Grid, spec: TableSpec, table: Table, out: _Collector) -> None:
    """One error for a table whose numbers are shown scaled: ``#,##0.0,,`` shows 113 700 000 as
    113,7, so the sheet looks like mnkr while every figure the tool reads (and writes back, and
    reports) is in kronor. Reading them as shown would need every written value scaled back."""
    codes = g.formats.values()
    if not any(max(_section_scales(code)) for code in set(codes)):  # a sheet has a handful of formats
        return
    scaled = [(row, header, c, code) for row in table.all_rows() for header, c in table.columns.items()
              if (code := g.formats.get((row.row, c))) and isinstance(v := row.values.get(header), float)
              and _scale_of(code, v < 0)]
    if not scaled:
        return
    row, header, c, code = scaled[0]
    value = row.values[header]
    divisor = 1000 ** _scale_of(code, value < 0)
    more = f" (och {len(scaled) - 1} celler till i tabellen)" if len(scaled) > 1 else ""
    out.findings.append(SKALAT_FORMAT.at(
        CellRef(g.name, row.row, c),
        f"{shown(row.label)} / {header}{more}: talformatet '{shown(code)}' visar värdet delat med "
        f"{fmt_number(divisor, 0)}, så cellen visar {fmt_number(value / divisor, 1)} men innehåller "
        f"{fmt_number(value, 0)}. Tabellen {spec.name} räknas i mnkr som värdena är lagrade: skriv in beloppen "
        f"i mnkr med ett vanligt talformat (t.ex. '0,0').", actual=code))


_AMOUNT_TABLES = ("Resultaträkning", "Driftredovisning", "Avvikelseförklaring")
_TITLE_UNIT = None  # compiled on first use: most workbooks never need it


def _check_title_unit(g: Grid, spec: TableSpec, table: Table, out: _Collector) -> None:
    """A warning when a line above a table's header states another unit than mnkr ("Resultaträkning,
    tkr", "Belopp i kronor", "(tkr)"; not "avrundat till 100 000 kr", nor a line that names mnkr):
    the tables are read, checked and reported in mnkr. (In tkr, the unit table's Summa is also a
    thousand times the Driftram, an error of its own.)"""
    global _TITLE_UNIT
    for r in range(max(0, table.header_row - 3), table.header_row):
        v = g.get(r, table.label_col)
        if not isinstance(v, str):
            continue
        low = v.casefold()
        if "mnkr" in low or ("kr" not in low and "sek" not in low):  # every unit word but mnkr has one
            continue
        if _TITLE_UNIT is None:
            import re

            _TITLE_UNIT = re.compile(r"(?:^|[,(:;–-]|\bi|\bbelopp)\s*(?P<unit>tkr|tusen kronor|tusentals kronor|"
                                     r"tkronor|kkr|ksek|kronor|kr|sek)\b")
        m = _TITLE_UNIT.search(low)
        if m is not None and not _MNKR_WORDS.intersection(low.replace(",", " ").split()):
            out.findings.append(RUBRIK_ENHET.at(
                CellRef(g.name, r, table.label_col),
                f"Rubriken '{shown(v)}' anger beloppen i {m.group('unit')}, men tabellen {spec.name} läses, "
                f"kontrolleras och redovisas i mnkr. Skriv in beloppen i mnkr och ändra rubriken.", actual=v))
            return


_MNKR_WORDS = frozenset({"mnkr", "mkr", "msek", "miljoner", "mn"})


_SCALES: dict[str, tuple[int, ...]] = {}


def _scale_of(code: str, negative: bool = False) -> int:
    """How many thousands a number format divides a value by: the commas right after the last
    digit placeholder of the section that shows it (``0,`` 1, ``#,##0.0,,`` 2; ``#,##0`` groups, 0).
    A negative value is shown by the second section when there is one (``0.0;-0.0,,``)."""
    scales = _SCALES.get(code)
    if scales is None:
        scales = _SCALES[code] = _section_scales(code)
    return scales[1] if negative and len(scales) > 1 else scales[0]


def _section_scales(code: str) -> tuple[int, ...]:
    """The scale (see :func:`_scale_of`) of each section of ``code``, in order."""
    sections, bare, quoted, escaped, bracket = [], [], False, False, False
    for ch in code:
        if escaped:
            escaped = False
            bare.append(" ")  # a literal character: it ends a run of commas as text does
        elif quoted:
            quoted = ch != '"'
            if not quoted:
                bare.append(" ")
        elif bracket:
            bracket = ch != "]"
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = True
        elif ch == "[":
            bracket = True
        elif ch == ";":
            sections.append("".join(bare))
            bare = []
        else:
            bare.append(ch)
    sections.append("".join(bare))
    out = []
    for text in sections:
        last = max(text.rfind(ch) for ch in "0#?")
        n = 0
        if last >= 0:
            while last + 1 + n < len(text) and text[last + 1 + n] == ",":
                n += 1
        out.append(n)
    return tuple(out)


# the unit each amount of Uppgifter is in, and the unit words a text value may carry for it
_META_UNITS = {"driftram": ("mnkr", (None, "mnkr")), "vasentlighet": ("mnkr", (None, "mnkr")),
               "sjukmal": ("procent", (None, "%"))}


def _meta_unit(raw: Any, attr: str) -> str | None:
    """The unit a text value of Uppgifter names when it is not the field's ('407 200 tkr' for the
    Driftram in mnkr, '5 %' for the Väsentlighetsgräns): read as a number it would be a thousand
    times (or a whole unit) off, so it is a finding, not a value."""
    if not isinstance(raw, str) or attr not in _META_UNITS:
        return None
    number = read_number_text(raw)
    if number is None or number.unit in _META_UNITS[attr][1]:
        return None
    return number.unit


def _meta_value(raw: Any, kind: type, label: str = "") -> Any:
    if isinstance(raw, _date_types()[:1]):  # a date (datetime is a date too)
        return _period_of_date(raw, label) if kind is str else None
    if kind is str:
        if isinstance(raw, float) and raw.is_integer():
            return str(int(raw))
        return str(raw).strip() if not isinstance(raw, bool) else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        if kind is int:
            return int(raw) if float(raw).is_integer() else None
        return float(raw)
    if isinstance(raw, str):
        v = parse_number_text(raw)
        if v is not None and (kind is float or v.is_integer()):
            return kind(v)
    return None


# --- tables -------------------------------------------------------------------------------

def _text_cells(g: Grid, index: dict[str, dict[str, list[tuple[int, int]]]]) -> dict[str, list[tuple[int, int]]]:
    """The text cells of ``g`` by their normalised text, in sheet order; built once per grid and
    kept in ``index`` (a sheet holds several tables)."""
    found = index.get(g.name)
    if found is None:
        found = index[g.name] = {}
        normed = L.NORMED
        # the grid's rows directly, not Grid.cells(): this looks at every cell of every sheet
        for r, line in enumerate(g.values, g.top):
            for c, v in enumerate(line, g.left):
                if isinstance(v, str) and v:  # an empty string is an empty cell
                    found.setdefault(normed[v], []).append((r, c))
    return found


def _find_header(g: Grid, spec: TableSpec, index: dict[str, dict[str, list[tuple[int, int]]]]
                 ) -> tuple[int, int] | None:
    candidates = _text_cells(g, index).get(L.norm(spec.head), [])
    required = {L.norm(h) for h in spec.required_columns}
    n_cols = g.n_cols
    for r, c in candidates:  # prefer the header row that carries the columns
        if any(L.norm(g.get(r, cc)) in required for cc in range(c + 1, n_cols)):
            return r, c
    return candidates[0] if candidates else None


def _read_table(g: Grid, spec: TableSpec, out: _Collector, index: dict[str, dict[str, list[tuple[int, int]]]],
                optional: bool = False) -> Table | None:
    found = _find_header(g, spec, index)
    if found is None:
        if not optional:
            out.missing(CellRef(g.name, 0, 0), TABELL_SAKNAS,
                        f"Tabellen {spec.name} hittas inte på bladet {g.name}: ingen cell med rubriken "
                        f"'{spec.head}'.")
        return None
    hr, hc = found
    columns: dict[str, int] = {}
    texts: dict[str, int] = {}  # the optional text columns (Kommentar, Enhet)
    wanted = {L.norm(h): h for h in (*spec.columns, *spec.text_columns)}
    last_filled = hc  # the last filled cell of the header row; the header cell itself holds the table's name
    for c in range(hc + 1, g.n_cols):
        v = g.get(hr, c)
        if not _is_blank(v):
            last_filled = c
        header = wanted.get(L.norm(v))
        if header is None:
            continue
        into = texts if header in spec.text_columns else columns
        if header in into:
            out.missing(CellRef(g.name, hr, c), KOLUMN_DUBBLETT,
                        f"Kolumnen '{header}' finns två gånger i tabellen {spec.name} "
                        f"({a1(hr, into[header])} och {a1(hr, c)}).")
            continue
        into[header] = c
    for h in spec.required_columns:
        if h not in columns:
            out.missing(CellRef(g.name, hr, hc), KOLUMN_SAKNAS,
                        f"Kolumnen '{h}' saknas i tabellen {spec.name} (rubrikraden är rad {hr + 1}). "
                        f"Kontrollera att rubriken är stavad exakt '{h}'.")
    table = Table(name=spec.name, sheet=g.name, header_row=hr, label_col=hc, columns=columns, text_columns=texts,
                  free_col=last_filled + 1)
    misspelt = _check_misspelt_headers(g, spec, table, out)
    _read_rows(g, spec, table, out)
    if spec.change_base is not None and spec.change_base not in misspelt:
        _check_change_base(spec, table, out)
    return table


#: Words that make a header the previous year's or period's column ("Totalt föregående år" is
#: "Totalt fg år" misspelt, "Totalt fg år" on Sjukfrånvaro is its "Totalt fg period").
_PREVIOUS_WORDS = frozenset({"fg", "föreg", "föregående", "förra", "fjol", "fjolåret", "fjolårets"})


def _header_signature(text: str) -> tuple[str, bool]:
    """A header's first word and whether it names the previous year or period."""
    words = "".join(ch if ch.isalnum() else " " for ch in L.norm(text)).split()
    return (words[0] if words else ""), any(w in _PREVIOUS_WORDS for w in words[1:])


def _near_column(text: str, candidates: list[str]) -> str | None:
    """The one template column of ``candidates`` that the header ``text`` most likely misspells:
    the same first word and the same previous-year marker ("Totalt föregående år" for "Totalt fg
    år"), or nearly the same letters ("Förändrng"); None when no one column is that close."""
    sig = _header_signature(text)
    same = [h for h in candidates if _header_signature(h) == sig]
    if len(same) == 1:
        return same[0]
    import difflib  # only for a header the template does not have

    close = difflib.get_close_matches(L.norm(text), [L.norm(h) for h in candidates], n=2, cutoff=0.85)
    if len(close) != 1:
        return None
    return next(h for h in candidates if L.norm(h) == close[0])


def _check_misspelt_headers(g: Grid, spec: TableSpec, table: Table, out: _Collector) -> set[str]:
    """A warning for each header inside the table (between its first column and its last template
    column) that is not the template's but nearly spells a template column the table lacks: the
    column is not read, and a check that needs it (Förändring = Totalt − Totalt fg år) does not
    run. The text columns (Kommentar) and the user's own columns right of the table are not looked
    at. Returns the template columns so reported."""
    missing = [h for h in spec.columns if h not in table.columns and h not in spec.required_columns]
    if not missing or not table.columns:
        return set()
    known = {L.norm(h) for h in (*spec.columns, *spec.text_columns)}
    found: set[str] = set()
    for c in range(table.label_col + 1, max(table.columns.values())):
        v = g.get(table.header_row, c)
        if not isinstance(v, str) or not v.strip() or L.norm(v) in known:
            continue
        match = _near_column(v, [h for h in missing if h not in found])
        if match is None:
            continue
        found.add(match)
        unchecked = (f", så Förändring kontrolleras inte mot {L.COL_TOTALT} − {match}"
                     if match == spec.change_base and L.COL_FORANDRING in table.columns else "")
        out.findings.append(KOLUMN_STAVNING.at(
            CellRef(g.name, table.header_row, c),
            f"Rubriken '{shown(v)}' i tabellen {spec.name} är inte en av mallens kolumner. Den liknar "
            f"'{match}', som saknas i tabellen, och kolumnen läses inte{unchecked}. Skriv rubriken exakt "
            f"'{match}'.", expected=match, actual=v))
    return found


def _check_change_base(spec: TableSpec, table: Table, out: _Collector) -> None:
    """A warning when the table has Förändring filled in but not the column it is computed from:
    the change the report prints cannot be checked."""
    base = spec.change_base
    if base in table.columns or L.COL_FORANDRING not in table.columns:
        return
    if not any(row.num(L.COL_FORANDRING) is not None for row in table.all_rows()):
        return
    out.findings.append(FORANDRING_UTAN_BAS.at(
        CellRef(table.sheet, table.header_row, table.columns[L.COL_FORANDRING]),
        f"Tabellen {spec.name} har kolumnen {L.COL_FORANDRING} men inte '{base}', så {L.COL_FORANDRING} kan inte "
        f"kontrolleras ({L.COL_FORANDRING} = {L.COL_TOTALT} − {base}). Lägg till kolumnen med mallens rubrik "
        f"'{base}'.", expected=base))


def _label_key(spec: TableSpec, label: str) -> str | None:
    n = L.norm(label)
    keys = _ROW_KEYS.get(spec.rows)
    if keys is None:
        keys = _ROW_KEYS[spec.rows] = {}
        for key in spec.rows:
            keys.setdefault(L.norm(key), key)  # the first of two keys that normalise alike, as before
    key = keys.get(n)
    if key is not None:
        return key
    for key, prefix in spec.prefixes.items():
        if n.startswith(prefix):
            return key
    return None


_ROW_KEYS: dict[tuple[str, ...], dict[str, str]] = {}  # a table's fixed rows by their normalised label


def _row_is_blank(g: Grid, r: int, cols: list[int]) -> bool:
    get = g.get
    for c in cols:
        if not _is_blank(get(r, c)):
            return False
    return True


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _read_rows(g: Grid, spec: TableSpec, table: Table, out: _Collector) -> None:
    lc = table.label_col
    value_cols = list(table.columns.values())
    get = g.get  # the loops below look at every cell of the table, some twice
    end = n_rows = g.n_rows
    total_row = last_known = None
    found_end = False
    head = L.norm(spec.head)
    for r in range(table.header_row + 1, n_rows):
        v = get(r, lc)
        if not isinstance(v, str):
            continue
        n = L.norm(v)
        if spec.total and n.startswith("summa"):
            total_row = _last_total(g, spec, lc, r, value_cols) if spec.rows else r
            end, found_end = total_row, True
            break
        if n == head:
            end = r  # the next table of the same kind (e.g. last year's, copied below) is not read
            break
        if spec.rows and _label_key(spec, v) is not None:
            last_known = r  # a table of fixed rows ends with the last row it knows
    if spec.rows and not found_end and last_known is not None:
        last = last_known  # ... and the rows right below it that carry numbers (an unknown row, reported)
        while last + 1 < end and any(isinstance(get(last + 1, c), float) for c in value_cols):
            last += 1
        end, found_end = min(end, last + 1), True
    if spec.total_required and total_row is None:
        out.missing(table.header_ref(), SUMMA_SAKNAS,
                    f"Raden 'Summa' saknas under tabellen {spec.name} (rubriken står i {a1(table.header_row, lc)}).")
    seen: dict[str, Row] = {}
    stop_at_blank = not found_end
    started = False
    for r in range(table.header_row + 1, end):
        raw_label = get(r, lc)
        if _is_blank(raw_label) and _row_is_blank(g, r, value_cols):
            if stop_at_blank and started:
                break
            continue
        started = True
        label = "" if raw_label is None else str(raw_label).strip()
        if spec.rows:
            key = _label_key(spec, label)
            if key is None:
                # A table with fixed rows ends at the first row it does not know
                # (e.g. a note below the table) unless that row carries numbers.
                if stop_at_blank and not any(isinstance(get(r, c), float) for c in value_cols):
                    break
                out.findings.append(OKAND_RAD.at(CellRef(g.name, r, lc), f"Raden '{shown(label)}' i tabellen "
                                                 f"{spec.name} är inte en rad i mallen och räknas inte med."))
                continue
        else:
            key = label
        if not label:
            out.findings.append(ETIKETT_SAKNAS.at(CellRef(g.name, r, lc), f"Raden {r + 1} i tabellen {spec.name} har "
                                                  f"värden men inget namn i kolumn {a1(r, lc)[:-len(str(r + 1))]}."))
            continue
        row = _make_row(g, spec, table, r, label, key, out)
        n_key = L.norm(key)
        dup = seen.get(n_key)
        if dup is not None:
            out.findings.append(DUBBLETT_RAD.at(CellRef(g.name, r, lc), f"'{shown(label)}' finns två gånger i tabellen "
                                                f"{spec.name} (rad {dup.row + 1} och rad {r + 1}); bara den första "
                                                f"räknas."))
            continue
        seen[n_key] = row
        table.rows.append(row)
    if total_row is not None:
        label = str(get(total_row, lc)).strip()
        table.total = _make_row(g, spec, table, total_row, label, L.ROW_SUMMA, out)
        for r in range(total_row + 1, min(n_rows, total_row + 50)):
            v = get(r, lc)
            if isinstance(v, str) and v.strip():
                table.after_total.setdefault(L.norm(v), r)
    if spec.numeric and not spec.percent and g.formats:
        _check_scaled(g, spec, table, out)
    if spec.name in _AMOUNT_TABLES:
        _check_title_unit(g, spec, table, out)
    for key in spec.required_rows:
        if L.norm(key) not in seen:
            out.missing(table.header_ref(), RAD_SAKNAS,
                        f"Raden '{key}' saknas i tabellen {spec.name} på bladet {g.name}.")
    if spec.one_of and not any(L.norm(key) in seen for key in spec.one_of):
        out.missing(table.header_ref(), RAD_SAKNAS,
                    f"Raden '{spec.one_of[1]}' (eller '{spec.one_of[0]}' och '{spec.one_of[-1]}') saknas i "
                    f"tabellen {spec.name} på bladet {g.name}.")


def _last_total(g: Grid, spec: TableSpec, lc: int, r: int, value_cols: list[int]) -> int:
    """The total row of a table of fixed rows whose first "Summa…" row is ``r``: the last "Summa…"
    row among the rows right below it that are still the table's (its own rows, rows with numbers
    and more "Summa…" rows, up to a blank row or the next table). "Summa månadsavlönade" above
    Timanställda is a subtotal inside the table (reported as a row the template does not have),
    not its end; a row of the table left below the total is reported by the rules (``after_total``)."""
    get, head = g.get, L.norm(spec.head)
    last = r
    for rr in range(r + 1, g.n_rows):
        v = get(rr, lc)
        numbers = any(isinstance(get(rr, c), float) for c in value_cols)
        if isinstance(v, str) and v.strip():
            n = L.norm(v)
            if n == head:
                break
            if n.startswith("summa") and numbers:  # not a note below the table ("Summa enligt HR-systemet")
                last = rr
                continue
            if _label_key(spec, v) is not None:
                continue
        if not numbers:
            break  # a blank row, a note or the next table's header: the table has ended
    return last


_BLANK_OR_INVISIBLE = " \t\r\n\u00a0\u202f\u2009" + "".join(INVISIBLE)


def _make_row(g: Grid, spec: TableSpec, table: Table, r: int, label: str, key: str, out: _Collector) -> Row:
    row = Row(label=label, key=key, row=r)
    get = g.get
    for header, c in table.text_columns.items():  # free text: whatever the cell shows, never a finding
        raw = get(r, c)
        if isinstance(raw, float):
            raw = fmt_number(raw, 0 if raw.is_integer() else 2)
        if isinstance(raw, str) and raw.strip() not in L.NO_VALUE_MARKS and not isinstance(raw, Uncalculated) \
                and raw.strip(_BLANK_OR_INVISIBLE):  # a comment of only a zero-width space explains nothing
            row.texts[header] = " ".join(raw.split())
    values = row.values
    if not spec.numeric:  # text as the cell shows it; a blank cell (None, spaces) is None
        for header, c in table.columns.items():
            raw = get(r, c)
            if raw is None:
                values[header] = None
            elif isinstance(raw, float):
                values[header] = fmt_number(raw, 0)
            elif isinstance(raw, str):
                values[header] = raw.strip() or None
            else:
                values[header] = str(raw).strip()
        return row
    line, left = g.line(r), g.left  # read from the row itself: this loop reads every number of every table
    width = len(line)
    percent = spec.percent
    for header, c in table.columns.items():
        raw = line[c - left] if 0 <= c - left < width else None
        # what nearly every cell holds, a finite number (inf - inf is nan): nothing to check, no finding to word
        if type(raw) is float and raw - raw == 0.0:
            if percent and _is_percent(g.formats.get((r, c))):
                raw *= 100  # a percent format shows 0.025 as 2,5 %: the table is in percent
                row.percent_formatted.add(header)
            values[header] = raw
            continue
        if raw is None or raw == "":  # an empty cell: read_number's answer, without building the finding's context
            values[header] = None
            if (r, c) in g.formulas:  # a formula whose result is "" (=IF(F5=0;"";...)): text to Excel's
                row.text_blank.add(header)  # arithmetic (#VALUE!), so a written formula reads it through N()
            continue
        value, finding = read_number(raw, CellRef(g.name, r, c), f"{shown(label)} / {header}")
        if value is not None and percent and _is_percent(g.formats.get((r, c))):
            value *= 100
            row.percent_formatted.add(header)
        values[header] = value
        if isinstance(raw, str) and value is None and finding is None:
            row.text_blank.add(header)
        if finding is not None:
            row.invalid.add(header)
            out.findings.append(finding)
    return row


_EXCEL_ERRORS = ("#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                 "#GETTING_DATA")


def read_number(raw: Any, ref: CellRef, what: str) -> tuple[float | None, Finding | None]:
    """A numeric input cell: its value, or None and a finding that says what is wrong."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, INTE_TAL.at(ref, f"{what}: cellen innehåller sanningsvärdet {'SANT' if raw else 'FALSKT'}, "
                                      f"inte ett tal.", actual=raw)
    if isinstance(raw, (int, float)):
        if raw - raw != 0:  # 1e999 in the file is read as infinite: no figure Excel can hold or show
            return None, INTE_TAL.at(ref, f"{what}: cellen innehåller ett tal som är för stort för Excel att räkna "
                                          f"med; skriv in beloppet igen.", actual=str(raw))
        return float(raw), None
    if isinstance(raw, _date_types()):
        return None, INTE_TAL.at(ref, f"{what}: cellen innehåller ett datum eller en tid ({raw}), inte ett tal. "
                                      f"Ändra cellens format till tal och skriv in beloppet igen.", actual=str(raw))
    if isinstance(raw, Uncalculated):
        return None, FORMEL_UTAN_VARDE.at(ref, f"{what}: cellen har formeln ={shown(raw)} men inget beräknat värde "
                                               f"(filen är sparad av ett program som inte räknar). Öppna "
                                               f"arbetsboken i Excel, spara den och kör igen.", actual="=" + str(raw))
    text = str(raw)
    if text.strip() in L.NO_VALUE_MARKS:
        return None, None
    if text.strip().upper() in _EXCEL_ERRORS:
        return None, FELVARDE.at(ref, f"{what}: cellen visar felvärdet {text.strip()}; rätta formeln eller värdet.",
                                 actual=text.strip())
    number = read_number_text(text)
    if number is not None:  # xlreport fix converts the same reading (core.fixes), unless it is unclear
        guess = number.value
        meant = fmt_number(guess, number.decimals)
        if number.grouping_unclear:
            meant += f" eller {fmt_number(guess * 10 ** number.decimals, 0)}"
        return None, TAL_SOM_TEXT.at(ref, f"{what}: cellen innehåller texten '{shown(text)}', inte ett tal. Menade "
                                          f"du {meant}? Skriv in det som ett tal.",
                                     expected=guess, actual=text)
    return None, INTE_TAL.at(ref, f"{what}: cellen innehåller texten '{shown(text)}' där ett tal ska stå.",
                             actual=shown(text, 1000))


def _jsonable(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
