"""Build xlwings remote-engine payloads from real workbooks, for the Excel door's tests and benchmark.

``xw.Book(json=payload)`` runs xlwings' real object model without Excel: reads come from the
payload, and every change is recorded as an action in ``book.json()["actions"]``. The payload
has the shape xlwings' Office.js client sends (see ``xlwings/js/xlwings.ts``, ``getBookData``):
the book (name, active sheet, selection), the defined names, and per sheet its values anchored
at A1 (empty cells as ""), its used range address and visibility. Formulas are not part of the
payload: a formula cell carries its cached value, as the client sends it.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path

from python_calamine import CalamineWorkbook

from support.workbooks import EXAMPLE

# xlwings' PolyForm Noncommercial licence permits government institutions (see docs/addin.md).
LICENSE_KEY = "noncommercial"
# xlwings registers its remote engine when it is imported, so the key must be set before that.
os.environ.setdefault("XLWINGS_LICENSE_KEY", LICENSE_KEY)


def remote_book(payload: dict):
    """A live xlwings Book on the remote engine, made from ``payload`` (copied)."""
    import xlwings as xw

    return xw.Book(json=copy.deepcopy(payload))


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day).isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def sheet_payload(name: str, rows: list[list]) -> dict:
    """One sheet of the payload from its values anchored at A1."""
    width = max((len(r) for r in rows), default=0)
    values = [[_cell(v) for v in r] + [""] * (width - len(r)) for r in rows] or [[]]
    used = None
    cells = [(r, c) for r, row in enumerate(values) for c, v in enumerate(row) if v != ""]
    if cells:
        top, left = min(r for r, _ in cells), min(c for _, c in cells)
        bottom, right = max(r for r, _ in cells), max(c for _, c in cells)
        used = f"{_a1(top, left)}:{_a1(bottom, right)}"
    return {"name": name, "values": values, "used_range_address": used, "visibility": "Visible",
            "pictures": [], "tables": [], "charts": [], "shapes": [], "notes": [], "print_area": None,
            "pivot_tables": [], "show_gridlines": True}


def _a1(row: int, col: int) -> str:
    letters, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"${letters}${row + 1}"


def payload(sheets: dict[str, list[list]], *, book_name: str = "arbetsbok.xlsx", active: int = 0,
            selection: str = "A1", names: list[dict] | None = None) -> dict:
    import xlwings as xw

    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": book_name, "active_sheet_index": active, "selection": selection},
        "names": names or [],
        "sheets": [sheet_payload(name, rows) for name, rows in sheets.items()],
    }


def read_sheets(path: Path = EXAMPLE) -> dict[str, list[list]]:
    """Every sheet's cached values, anchored at A1 (python-calamine)."""
    wb = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        top, left = sheet.start or (0, 0)
        rows = [[None] * left + [None if v == "" else v for v in row] for row in sheet.to_python()]
        out[name] = [[] for _ in range(top)] + rows
    return out


def example_payload(**kw) -> dict:
    return payload(read_sheets(EXAMPLE), book_name=EXAMPLE.name, **kw)


def mark_name(sheet_index: int, sheet_name: str, refers_to: str) -> dict:
    """A sheet-scoped defined name as the client reports it."""
    return {"name": "_xlreport_markerade", "sheet_index": sheet_index, "address": None,
            "refers_to": refers_to, "book_scope": False, "scope_sheet_name": sheet_name,
            "scope_sheet_index": sheet_index}


def times_units(sheets: dict[str, list[list]], factor: int) -> dict[str, list[list]]:
    """The workbook with each unit of Driftredovisning split into ``factor`` units.

    Every figure of a unit is divided evenly among its parts, so Summa, the tie with Resultat and
    every other check still hold; the Uppgifter list of units names the new units.
    """
    sheets = copy.deepcopy(sheets)
    units = sheets["Driftredovisning"]
    header = next(i for i, row in enumerate(units) if row and row[0] == "Enhet")
    total = next(i for i, row in enumerate(units) if row and str(row[0] or "").startswith("Summa"))
    split, names = [], {}
    for row in units[header + 1:total]:
        parts = [f"{row[0]} del {k + 1}" for k in range(factor)]
        names[row[0]] = parts
        for part in parts:
            split.append([part, *[v / factor if isinstance(v, (int, float)) else v for v in row[1:]]])
    sheets["Driftredovisning"] = units[:header + 1] + split + units[total:]
    meta = sheets["Uppgifter"]
    sheets["Uppgifter"] = [new for row in meta
                           for new in ([[p, *row[1:]] for p in names[row[0]]] if row and row[0] in names else [row])]
    return sheets
