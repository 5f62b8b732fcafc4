"""Build the report template (mall.xlsx) and the worked example workbook with XlsxWriter.

Usage::

    python workbooks/build.py              # writes workbooks/mall.xlsx and workbooks/exempel_...xlsx
    python workbooks/build.py --out DIR    # writes both into DIR

Both files are reproducible: byte-identical on every run (fixed document properties, fixed zip
timestamps, no time-dependent content). Every sheet name, header and row label comes from
:mod:`xlreport.core.layout`; the example's figures come from ``workbooks/data/example.json``.

The module can be imported by path (it does not need to be on ``sys.path``)::

    spec = importlib.util.spec_from_file_location("wb_build", "workbooks/build.py")
    build = importlib.util.module_from_spec(spec); spec.loader.exec_module(build)
    build.build_template(tmp_path / "mall.xlsx")

Layout of every table sheet (rows 1-based, as Excel shows them): row 1 title, row 2 note,
row 3 blank, row 4 the header row (first-column header in A4), data from row 5.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

HERE = Path(__file__).resolve().parent
try:
    from xlreport.core import layout as L
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(HERE.parent / "src"))
    from xlreport.core import layout as L

DATA_FILE = HERE / "data" / "example.json"
TEMPLATE_NAME = "mall.xlsx"
EXAMPLE_NAME = "exempel_kommunstyrelsen_2020_d1.xlsx"

# Fixed document timestamp: keeps the output byte-identical from run to run.
CREATED = _dt.datetime(2020, 4, 16, 0, 0, 0, tzinfo=_dt.UTC)

# --- geometry (0-based row/column indices as XlsxWriter uses them) --------------------------
TITLE_ROW = 0
NOTE_ROW = 1
HEADER_ROW = 3  # A4 on every table sheet; Personal's second table is further down
FIRST_DATA_ROW = HEADER_ROW + 1
META_FIRST_ROW = 3  # Uppgifter: first label in A4

TEMPLATE_UNIT_ROWS = 8
TEMPLATE_EXPLANATION_ROWS = 5
TEMPLATE_COMMITMENT_ROWS = 30
TEMPLATE_UNIT_LIST_ROWS = 8
LEAVERS_GAP = 2  # blank rows between the staff table and the leavers table
# Uppgifter: the settings of the checks, beside the report's details (D4:E4), so the unit list
# below the details keeps its place
SETTINGS_COL = 3
DEFAULT_MATERIALITY = 1.0  # mnkr, the same as xlreport.core.config.Config.materiality
COMMENT_WIDTH = 60

# Metadata rows in the order they appear on the Uppgifter sheet (constant names in layout).
META_ORDER = (
    "META_KOMMUN",
    "META_NAMND",
    "META_ENHET",
    "META_RAPPORT",
    "META_AR",
    "META_PERIOD",
    "META_MANAD",
    "META_SJUKMAL",
    "META_DRIFTRAM",
    "META_VERSION",
    "META_SJUK_PERIOD",
    "META_SJUK_PERIOD_FG",
)

# Computed columns: left empty here, filled by xlreport.
COMPUTED_COLUMNS = (L.COL_AVV, L.COL_AVV_HELAR)
INCOME_INPUT_COLUMNS = tuple(c for c in L.INCOME_COLUMNS if c not in COMPUTED_COLUMNS)
UNIT_INPUT_COLUMNS = tuple(c for c in L.UNIT_COLUMNS if c not in COMPUTED_COLUMNS)


class _Variant:
    """What differs between template versions: the version text, column order and header names.

    ``CURRENT`` is the template xlreport uses (layout.TEMPLATE_VERSION); ``LEGACY`` is the older
    template 0.9, built only as a test fixture for ``xlreport upgrade``.
    """

    def __init__(self, version: str, income: tuple[str, ...], units: tuple[str, ...],
                 headers: dict[str, str] | None = None, commentary: bool = True) -> None:
        self.version = version
        self.income_columns = income
        self.unit_columns = units
        self.headers = headers or {}
        # the Kommentar and Enhet columns and the Väsentlighetsgräns (template 1.0 has them; 0.9 not)
        self.commentary = commentary

    def header(self, column: str) -> str:
        return self.headers.get(column, column)

    def shown(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.header(c) for c in columns)


def _swap(columns: tuple[str, ...], a: str, b: str) -> tuple[str, ...]:
    out = list(columns)
    i, j = out.index(a), out.index(b)
    out[i], out[j] = out[j], out[i]
    return tuple(out)


CURRENT = _Variant(L.TEMPLATE_VERSION, L.INCOME_COLUMNS, L.UNIT_COLUMNS)
# Template 0.9: "Budget helår" was called "Årsbudget", and Budget ack came before Utfall ack.
LEGACY_VERSION = "0.9"
LEGACY_HEADERS = {L.COL_BUDGET_HELAR: "Årsbudget"}
LEGACY = _Variant(LEGACY_VERSION, _swap(L.INCOME_COLUMNS, L.COL_UTFALL, L.COL_BUDGET),
                  _swap(L.UNIT_COLUMNS, L.COL_UTFALL, L.COL_BUDGET), LEGACY_HEADERS, commentary=False)
LEGACY_NAME = "exempel_mallversion_0_9.xlsx"
LEGACY_EXTRA_SHEET = "Egna noteringar"

# Row labels that are not part of the vocabulary the tool matches on (free text to it).
LEAVER_ROWS = L.LEAVER_ROWS
SICK_LABELS = {
    L.ROW_SJUK_TOTAL: L.ROW_SJUK_TOTAL,
    L.ROW_SJUK_KORT: f"{L.ROW_SJUK_KORT} (0–14 dagar)",
    L.ROW_SJUK_LANG: f"{L.ROW_SJUK_LANG} (15– dagar)",
}
SICK_TITLE = "Sjukfrånvaro i procent av ordinarie arbetstid, rullande 12 månader"
OWNED_TEXT = "Skapas av xlreport"

SHEET_ORDER = (*L.REQUIRED_SHEETS, L.SHEET_REPORT, L.SHEET_FINDINGS)

# --- formats ------------------------------------------------------------------------------
NUM_MNKR = '#,##0.0;"\u2212"#,##0.0;0.0'
NUM_PCT = "0.0"
NUM_COUNT = "0"
INPUT_FILL = "#FFF2CC"  # light yellow: the user types here
COMPUTED_FILL = "#D9D9D9"  # grey: formula or filled by xlreport
BORDER_COLOR = "#BFBFBF"


class _Formats:
    """The workbook's cell formats, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        cell = {**base, "border": 1, "border_color": BORDER_COLOR}

        def fmt(**kw: Any) -> Any:
            return wb.add_format({**cell, **kw})

        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.note = wb.add_format({**base, "italic": True, "font_color": "#595959"})
        self.plain = wb.add_format(base)
        self.header = fmt(bold=True, text_wrap=True, bg_color="#DDEBF7", bottom=2)
        self.header_num = fmt(bold=True, text_wrap=True, bg_color="#DDEBF7", bottom=2, align="right")
        self.label = fmt()
        self.label_bold = fmt(bold=True)
        self.label_input = fmt(bg_color=INPUT_FILL)
        self.text_input = fmt(bg_color=INPUT_FILL, text_wrap=True)
        self.text_fixed = fmt(bg_color=COMPUTED_FILL)
        self.num = {}
        self.sum = {}
        for key, code in (("mnkr", NUM_MNKR), ("pct", NUM_PCT), ("count", NUM_COUNT)):
            self.num[key] = fmt(bg_color=INPUT_FILL, num_format=code, align="right")
            self.sum[key] = fmt(bg_color=COMPUTED_FILL, num_format=code, align="right", bold=True)
        self.computed_mnkr = fmt(bg_color=COMPUTED_FILL, num_format=NUM_MNKR, align="right")
        self.computed_mnkr_bold = self.sum["mnkr"]


# --- helpers ------------------------------------------------------------------------------
def _const(name: str) -> Any:
    """Resolve a layout constant name from the data file (``"ROW_INTAKTER"`` -> ``"Intäkter"``)."""
    if not name.isupper() or not hasattr(L, name):
        raise KeyError(f"{name!r} is not a constant of xlreport.core.layout")
    return getattr(L, name)


def _check_columns(names: list[str], expected: tuple[str, ...], table: str) -> None:
    got = tuple(_const(n) for n in names)
    if got != expected:
        raise ValueError(f"{table}: data columns {got} do not match the template's {expected}")


def _cached(total: float) -> float | int:
    """The cached result stored with a formula: the float sum, rid of binary noise."""
    return round(total, 10)


def load_example(path: Path | str = DATA_FILE) -> dict[str, Any]:
    """Read and check the worked example's data file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    _check_columns(data["income"]["columns"], INCOME_INPUT_COLUMNS, L.SHEET_INCOME)
    _check_columns(data["units"]["columns"], UNIT_INPUT_COLUMNS, L.SHEET_UNITS)
    _check_columns(data["staff"]["columns"], L.STAFF_COLUMNS, L.SHEET_STAFF)
    _check_columns(data["sick"]["columns"], L.SICK_COLUMNS, L.SHEET_SICK)
    if tuple(_const(k) for k in data["income"]["rows"]) != L.TEMPLATE_INCOME_ROWS[:-1]:
        raise ValueError("income rows must be the layout's TEMPLATE_INCOME_ROWS without Resultat, in order")
    if tuple(_const(k) for k in data["staff"]["rows"]) != (*L.STAFF_FORMS, L.ROW_SUMMA):
        raise ValueError("staff rows must be the layout's STAFF_FORMS then ROW_SUMMA")
    if tuple(_const(k) for k in data["sick"]["rows"]) != L.SICK_ROWS:
        raise ValueError("sick rows must be the layout's SICK_ROWS, in order")
    for name, _area, status, done in data["commitments"]["rows"]:
        if status not in L.STATUSES or done not in (L.YES, L.NO):
            raise ValueError(f"commitment {name!r}: bad status {status!r} or done {done!r}")
    for key in data["meta"]:
        _const(key)
    return data


def _new_workbook(path: Path | str, *, title: str, subject: str,
                  v: _Variant = CURRENT) -> tuple[xlsxwriter.Workbook, _Formats]:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": title,
            "subject": subject,
            "author": "xlreport",
            "company": "",
            "comments": f"{L.META_VERSION} {v.version}",
            "created": CREATED,
        }
    )
    wb.set_custom_property(L.META_VERSION, v.version)
    wb.set_calc_mode("auto")
    return wb, _Formats(wb)


def _sheet(wb: xlsxwriter.Workbook, f: _Formats, name: str, title: str, note: str | None) -> Any:
    ws = wb.add_worksheet(name)
    ws.write_string(TITLE_ROW, 0, title, f.title)
    if note:
        ws.write_string(NOTE_ROW, 0, note, f.note)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    return ws


def _header(ws: Any, f: _Formats, row: int, first: str, columns: tuple[str, ...]) -> None:
    ws.write_string(row, 0, first, f.header)
    for col, text in enumerate(columns, start=1):
        ws.write_string(row, col, text, f.header_num)
    ws.set_row(row, 30)


def _write_value(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _comment_column(ws: Any, f: _Formats, col: int, v: _Variant) -> int | None:
    """The Kommentar column at ``col`` (after the figures), or None in a template without it."""
    if not v.commentary:
        return None
    ws.set_column(col, col, COMMENT_WIDTH)
    ws.write_string(HEADER_ROW, col, L.COL_KOMMENTAR, f.header)
    return col


# --- sheets -------------------------------------------------------------------------------
def _meta_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None, v: _Variant = CURRENT) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_META,
        "Uppgifter om rapporten",
        "Fyll i de gula cellerna. Etikett i kolumn A, värde i kolumn B.",
    )
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 34)
    meta = data["meta"] if data else {}
    number_formats = {
        "META_AR": f.num["count"],
        "META_MANAD": f.num["count"],
        "META_SJUKMAL": f.num["pct"],
        "META_DRIFTRAM": f.num["mnkr"],
    }
    row = META_FIRST_ROW
    for key in META_ORDER:
        ws.write_string(row, 0, _const(key), f.label)
        if key == "META_VERSION":
            ws.write_string(row, 1, v.version, f.text_fixed)
        else:
            _write_value(ws, row, 1, meta.get(key), number_formats.get(key, f.label_input))
        row += 1
    row += 1  # blank row
    ws.write_string(row, 0, L.META_UNITS_HEADER, f.header)
    units = [name for name, _values in data["units"]["rows"]] if data else [None] * TEMPLATE_UNIT_LIST_ROWS
    for name in units:
        row += 1
        _write_value(ws, row, 0, name, f.label_input)
    if v.commentary:
        ws.set_column(SETTINGS_COL, SETTINGS_COL, 28)
        ws.set_column(SETTINGS_COL + 1, SETTINGS_COL + 1, 12)
        ws.write_string(META_FIRST_ROW, SETTINGS_COL, L.META_VASENTLIGHET, f.label)
        _write_value(ws, META_FIRST_ROW, SETTINGS_COL + 1, meta.get("META_VASENTLIGHET", DEFAULT_MATERIALITY),
                     f.num["mnkr"])
        ws.write_string(META_FIRST_ROW + 1, SETTINGS_COL, "Avvikelser (helår eller ack) från gränsen och uppåt "
                        "förklaras i kolumnen Kommentar eller i Avvikelseförklaring.", f.note)


def _income_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None, v: _Variant = CURRENT) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_INCOME,
        f"{L.SHEET_INCOME}, mnkr",
        "Belopp i mnkr, kostnader negativa. Gula celler fylls i; grå celler är formler "
        "eller fylls i av xlreport (avvikelsekolumnerna).",
    )
    ws.set_column(0, 0, 28)
    ws.set_column(1, len(v.income_columns), 13)
    _header(ws, f, HEADER_ROW, L.HEAD_INCOME, v.shown(v.income_columns))
    ws.freeze_panes(HEADER_ROW + 1, 1)
    comments = {_const(k): t for k, t in data.get("comments", {}).get("income", {}).items()} if data else {}
    comment_col = _comment_column(ws, f, len(v.income_columns) + 1, v)

    rows = {_const(k): v for k, v in data["income"]["rows"].items()} if data else {}
    row_of = {label: FIRST_DATA_ROW + i for i, label in enumerate(L.TEMPLATE_INCOME_ROWS)}
    for label, row in row_of.items():
        is_result = label == L.ROW_RESULTAT
        ws.write_string(row, 0, label, f.label_bold if is_result else f.label)
        values = dict(zip(INCOME_INPUT_COLUMNS, rows.get(label, [None] * len(INCOME_INPUT_COLUMNS))))
        if comment_col is not None:
            _write_value(ws, row, comment_col, comments.get(label), f.text_input)
        for col, column in enumerate(v.income_columns, start=1):
            if column in COMPUTED_COLUMNS:
                ws.write_blank(row, col, None, f.computed_mnkr_bold if is_result else f.computed_mnkr)
            elif is_result:
                a = xl_rowcol_to_cell(row_of[L.ROW_INTAKTER], col)
                b = xl_rowcol_to_cell(row_of[L.ROW_KOSTNADER], col)
                parts = [
                    rows.get(lbl, [None] * len(INCOME_INPUT_COLUMNS))[INCOME_INPUT_COLUMNS.index(column)]
                    for lbl in (L.ROW_INTAKTER, L.ROW_KOSTNADER)
                ]
                total = sum(p for p in parts if p is not None)
                ws.write_formula(row, col, f"={a}+{b}", f.sum["mnkr"], _cached(total) if data else 0)
            else:
                _write_value(ws, row, col, values[column], f.num["mnkr"])


def _units_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None, v: _Variant = CURRENT) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_UNITS,
        f"{L.SHEET_UNITS} för underliggande enheter, mnkr",
        "En rad per enhet; infoga nya rader ovanför summaraden så följer summorna med. "
        "Avvikelsekolumnerna fylls i av xlreport.",
    )
    ws.set_column(0, 0, 42)
    ws.set_column(1, len(v.unit_columns), 13)
    _header(ws, f, HEADER_ROW, L.HEAD_UNITS, v.shown(v.unit_columns))
    ws.freeze_panes(HEADER_ROW + 1, 1)
    comments = data.get("comments", {}).get("units", {}) if data else {}
    comment_col = _comment_column(ws, f, len(v.unit_columns) + 1, v)

    if data:
        units = data["units"]["rows"]
        summa = f"{L.ROW_SUMMA} {data['meta']['META_NAMND']}"
    else:
        units = [(None, [None] * len(UNIT_INPUT_COLUMNS))] * TEMPLATE_UNIT_ROWS
        summa = L.ROW_SUMMA
    row = FIRST_DATA_ROW
    for name, values in units:
        _write_value(ws, row, 0, name, f.label_input)
        if comment_col is not None:
            _write_value(ws, row, comment_col, comments.get(name), f.text_input)
        by_col = dict(zip(UNIT_INPUT_COLUMNS, values))
        for col, column in enumerate(v.unit_columns, start=1):
            if column in COMPUTED_COLUMNS:
                ws.write_blank(row, col, None, f.computed_mnkr)
            else:
                _write_value(ws, row, col, by_col[column], f.num["mnkr"])
        row += 1
    ws.write_string(row, 0, summa, f.label_bold)
    for col, column in enumerate(v.unit_columns, start=1):
        if column in COMPUTED_COLUMNS:
            ws.write_blank(row, col, None, f.computed_mnkr_bold)
            continue
        first = xl_rowcol_to_cell(FIRST_DATA_ROW, col)
        last = xl_rowcol_to_cell(row - 1, col)
        i = UNIT_INPUT_COLUMNS.index(column)
        total = sum(v[i] for _n, v in units if v[i] is not None)
        ws.write_formula(row, col, f"=SUM({first}:{last})", f.sum["mnkr"], _cached(total) if data else 0)


def _explanation_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None,
                       v: _Variant = CURRENT) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_EXPLANATION,
        f"{L.SHEET_EXPLANATION} – avvikelse helår, mnkr",
        "Vad förklarar prognosens avvikelse mot budget helår? Positivt belopp = överskott. "
        "Summan ska vara lika med Resultat, Avvikelse helår.",
    )
    ws.set_column(0, 0, 45)
    ws.set_column(1, 1, 13)
    _header(ws, f, HEADER_ROW, L.HEAD_EXPLANATION, L.EXPLANATION_COLUMNS)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    rows = data["explanation"] if data else [(None, None)] * TEMPLATE_EXPLANATION_ROWS
    unit_col = 1 + len(L.EXPLANATION_COLUMNS) if v.commentary else None
    if unit_col is not None:
        ws.set_column(unit_col, unit_col, 42)
        ws.write_string(HEADER_ROW, unit_col, L.COL_ENHET, f.header)
        ws.write_string(NOTE_ROW + 1, 0, f"{L.COL_ENHET}: den enhet i {L.SHEET_UNITS} som raden förklarar "
                        f"(tom: hela nämnden). En enhets rader summerar till enhetens Avvikelse helår.", f.note)
    row = FIRST_DATA_ROW
    for label, amount, *unit in rows:
        _write_value(ws, row, 0, label, f.label_input)
        _write_value(ws, row, 1, amount, f.num["mnkr"])
        if unit_col is not None:
            _write_value(ws, row, unit_col, unit[0] if unit else None, f.label_input)
        row += 1
    ws.write_string(row, 0, L.ROW_SUMMA, f.label_bold)
    total = sum(a for _l, a, *_u in rows if a is not None)
    rng = f"{xl_rowcol_to_cell(FIRST_DATA_ROW, 1)}:{xl_rowcol_to_cell(row - 1, 1)}"
    ws.write_formula(row, 1, f"=SUM({rng})", f.sum["mnkr"], _cached(total) if data else 0)


def _staff_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_STAFF,
        "Personal – antal anställda per anställningsform",
        "Antal personer enligt HR-systemet (skriv in talen, inga formler); xlreport kontrollerar summorna.",
    )
    ws.set_column(0, 0, 26)
    ws.set_column(1, len(L.STAFF_COLUMNS), 13)
    _header(ws, f, HEADER_ROW, L.HEAD_STAFF, L.STAFF_COLUMNS)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    staff = {_const(k): v for k, v in data["staff"]["rows"].items()} if data else {}
    row = FIRST_DATA_ROW
    for label in (*L.STAFF_FORMS, L.ROW_SUMMA):
        ws.write_string(row, 0, label, f.label_bold if label == L.ROW_SUMMA else f.label)
        for col, value in enumerate(staff.get(label, [None] * len(L.STAFF_COLUMNS)), start=1):
            _write_value(ws, row, col, value, f.num["count"])
        row += 1

    row += LEAVERS_GAP
    _header(ws, f, row, L.HEAD_LEAVERS, L.LEAVERS_COLUMNS)
    leavers = data["leavers"]["rows"] if data else [(label, None) for label in LEAVER_ROWS]
    for label, count in leavers:
        row += 1
        ws.write_string(row, 0, label, f.label)
        _write_value(ws, row, 1, count, f.num["count"])
    row += 1
    ws.write_string(row, 0, L.ROW_SUMMA, f.label_bold)
    _write_value(ws, row, 1, data["leavers"]["summa"] if data else None, f.num["count"])


def _sick_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_SICK,
        SICK_TITLE,
        f"Period och föregående period anges på bladet {L.SHEET_META}. "
        "Skriv – (tankstreck) där värde saknas. Förändring = Totalt − Totalt fg period.",
    )
    ws.set_column(0, 0, 32)
    ws.set_column(1, len(L.SICK_COLUMNS), 12)
    _header(ws, f, HEADER_ROW, L.HEAD_SICK, L.SICK_COLUMNS)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    sick = {_const(k): v for k, v in data["sick"]["rows"].items()} if data else {}
    for i, label in enumerate(L.SICK_ROWS):
        row = FIRST_DATA_ROW + i
        ws.write_string(row, 0, SICK_LABELS[label], f.label)
        for col, value in enumerate(sick.get(label, [None] * len(L.SICK_COLUMNS)), start=1):
            _write_value(ws, row, col, value, f.num["pct"])


def _commitments_sheet(wb: xlsxwriter.Workbook, f: _Formats, data: dict[str, Any] | None) -> None:
    ws = _sheet(
        wb,
        f,
        L.SHEET_COMMITMENTS,
        f"{L.SHEET_COMMITMENTS} – 1-åriga åtaganden",
        f"Ett åtagande per rad. {L.COL_STATUS}: välj i listan; {L.COL_BEDOMNING}: {L.YES} eller {L.NO}.",
    )
    ws.set_column(0, 0, 80)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 16)
    _header(ws, f, HEADER_ROW, L.HEAD_COMMITMENTS, L.COMMITMENT_COLUMNS)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    rows = data["commitments"]["rows"] if data else [(None,) * 4] * TEMPLATE_COMMITMENT_ROWS
    for i, values in enumerate(rows):
        for col, value in enumerate(values):
            _write_value(ws, FIRST_DATA_ROW + i, col, value, f.text_input)
    last = FIRST_DATA_ROW + len(rows) - 1
    status_col = 1 + L.COMMITMENT_COLUMNS.index(L.COL_STATUS)
    done_col = 1 + L.COMMITMENT_COLUMNS.index(L.COL_BEDOMNING)
    ws.data_validation(
        FIRST_DATA_ROW,
        status_col,
        last,
        status_col,
        {
            "validate": "list",
            "source": list(L.STATUSES),
            "error_title": L.COL_STATUS,
            "error_message": "Välj en status ur listan.",
        },
    )
    ws.data_validation(
        FIRST_DATA_ROW,
        done_col,
        last,
        done_col,
        {
            "validate": "list",
            "source": [L.YES, L.NO],
            "error_title": L.COL_BEDOMNING,
            "error_message": f"Skriv {L.YES} eller {L.NO}.",
        },
    )


def _owned_sheets(wb: xlsxwriter.Workbook, f: _Formats) -> None:
    for name in L.OWNED_SHEETS:
        ws = wb.add_worksheet(name)
        ws.write_string(0, 0, OWNED_TEXT, f.note)
        ws.set_column(0, 0, 30)


def _build(path: Path | str, data: dict[str, Any] | None,
           extra: Callable[[xlsxwriter.Workbook], None] | None = None, v: _Variant = CURRENT) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data:
        m = data["meta"]
        title = f"{m['META_RAPPORT']} {m['META_AR']} – {m['META_NAMND']}, {m['META_KOMMUN']}"
        subject = "Exempel"
    else:
        title, subject = "Delårsrapport – mall", f"{L.META_VERSION} {v.version}"
    wb, f = _new_workbook(path, title=title, subject=subject, v=v)
    _meta_sheet(wb, f, data, v)
    _income_sheet(wb, f, data, v)
    _units_sheet(wb, f, data, v)
    _explanation_sheet(wb, f, data, v)
    _staff_sheet(wb, f, data)
    _sick_sheet(wb, f, data)
    _commitments_sheet(wb, f, data)
    _owned_sheets(wb, f)
    if extra is not None:
        extra(wb)  # e.g. a large ledger sheet for the benchmarks
    wb.get_worksheet_by_name(L.SHEET_META).activate()
    wb.close()
    return path


def build_template(path: Path | str) -> Path:
    """Write the empty template (mall.xlsx) to *path*."""
    return _build(path, None)


def build_example(path: Path | str, data_file: Path | str = DATA_FILE,
                  extra: Callable[[xlsxwriter.Workbook], None] | None = None) -> Path:
    """Write the worked example (Kommunstyrelsen, delårsrapport 1 2020) to *path*.

    ``extra(workbook)`` may add sheets of its own (the benchmarks add a ledger).
    """
    return _build(path, load_example(data_file), extra)


def build_legacy_example(path: Path | str, data_file: Path | str = DATA_FILE) -> Path:
    """The worked example as a user kept it in the older template 0.9 (fixture for ``upgrade``).

    Template 0.9 calls "Budget helår" "Årsbudget" and puts Budget ack before Utfall ack. The user
    added notes (comments) to two input cells and a sheet of their own that refers to
    Resultaträkning and has a note of its own.
    """

    def user_additions(wb: xlsxwriter.Workbook) -> None:
        income = wb.get_worksheet_by_name(L.SHEET_INCOME)
        units = wb.get_worksheet_by_name(L.SHEET_UNITS)
        prognos = 1 + LEGACY.income_columns.index(L.COL_PROGNOS)
        kostnader = FIRST_DATA_ROW + L.TEMPLATE_INCOME_ROWS.index(L.ROW_KOSTNADER)
        income.write_comment(kostnader, prognos, "Inkl. bredbandsutbyggnaden (+1,0 mnkr).",
                             {"author": "Ekonomienheten"})
        budget = 1 + LEGACY.unit_columns.index(L.COL_BUDGET_HELAR)
        units.write_comment(FIRST_DATA_ROW + 1, budget, "Ny budget efter beslut i februari.", {"author": "KLK"})
        ws = wb.add_worksheet(LEGACY_EXTRA_SHEET)
        bold = wb.add_format({"bold": True, "font_color": "#C00000"})
        money = wb.add_format({"num_format": "#,##0.00 \"mnkr\"", "bg_color": "#E2EFDA"})
        ws.write_string(0, 0, "Egna noteringar", bold)
        ws.write_string(2, 0, "Prognos kostnader enligt Resultaträkning")
        cell = xl_rowcol_to_cell(kostnader, prognos)
        ws.write_formula(2, 1, f"='{L.SHEET_INCOME}'!{cell}", money, -433.2)
        ws.write_string(3, 0, "Reserv för oförutsett")
        ws.write_number(3, 1, 1.5, money)
        ws.write_comment(3, 1, "Beslutad av förvaltningsledningen.", {"author": "Ekonomienheten"})
        ws.set_column(0, 0, 42)

    return _build(path, load_example(data_file), user_additions, LEGACY)


def header_cells() -> dict[tuple[str, str], str]:
    """Where each table's header row starts, the same in template and example.

    ``{(sheet, first-column header): "A4"}``; the Uppgifter entry is the "Enheter" list header.
    """
    staff_rows = len(L.STAFF_FORMS) + 1
    leavers_row = FIRST_DATA_ROW + staff_rows + LEAVERS_GAP
    a4 = xl_rowcol_to_cell(HEADER_ROW, 0)
    return {
        (L.SHEET_INCOME, L.HEAD_INCOME): a4,
        (L.SHEET_UNITS, L.HEAD_UNITS): a4,
        (L.SHEET_EXPLANATION, L.HEAD_EXPLANATION): a4,
        (L.SHEET_STAFF, L.HEAD_STAFF): a4,
        (L.SHEET_STAFF, L.HEAD_LEAVERS): xl_rowcol_to_cell(leavers_row, 0),
        (L.SHEET_SICK, L.HEAD_SICK): a4,
        (L.SHEET_COMMITMENTS, L.HEAD_COMMITMENTS): a4,
        (L.SHEET_META, L.META_UNITS_HEADER): xl_rowcol_to_cell(META_FIRST_ROW + len(META_ORDER) + 1, 0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: workbooks/)")
    args = parser.parse_args(argv)
    for path in (build_template(args.out / TEMPLATE_NAME), build_example(args.out / EXAMPLE_NAME)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
