"""The template's own formulas: Resultat = Intäkter + Kostnader, and each table's Summa row.

The template carries them as live formulas. A command that writes figures into a workbook
(``upgrade``, ``consolidate``, a ledger import) writes these formulas with the cached value a
calculating program would store, so that every reader of the file (pandas, python-calamine,
this tool) sees the right totals before Excel has opened it. This module is the only place
that knows their shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from . import layout as L
from .cells import a1
from .changes import CellWrite
from .model import Report, Table

#: value_at(sheet, row, col) -> the number the cell will hold, or None.
ValueAt = Callable[[str, int, int], float | None]


def result_formula(income: Table, column: str, value: float) -> CellWrite | None:
    """Resultat = Intäkter + Kostnader in ``column`` of the income statement, caching ``value``."""
    res, inc, cost = income.get(L.ROW_RESULTAT), income.get(L.ROW_INTAKTER), income.get(L.ROW_KOSTNADER)
    if res is None or inc is None or cost is None or column not in income.columns:
        return None
    c = income.columns[column]
    return CellWrite(income.sheet, res.row, c, value, f"{a1(inc.row, c)}+{a1(cost.row, c)}")


def part_rows(table: Table) -> range:
    """The rows a table's Summa adds up: every row between the header and the Summa row."""
    if table.total is None:
        return range(0)
    return range(table.header_row + 1, table.total.row)


def total_formula(table: Table, column: str, value: float) -> CellWrite | None:
    """Summa = SUM(first:last part row) in ``column``, caching ``value`` (no formula when the
    table has no part rows: the Summa cell then just holds ``value``)."""
    if table.total is None or column not in table.columns:
        return None
    c = table.columns[column]
    rows = part_rows(table)
    formula = f"SUM({a1(rows[0], c)}:{a1(rows[-1], c)})" if rows else None
    return CellWrite(table.sheet, table.total.row, c, value, formula)


def template_formulas(report: Report, value_at: ValueAt, skip: Iterable[str] = ()) -> list[CellWrite]:
    """Every template formula of ``report`` (Resultat, the Summa rows of the unit table and the
    deviation explanation), each caching what it computes from ``value_at``; the columns in
    ``skip`` are left alone (e.g. the deviation columns the tool fills itself)."""
    skip = set(skip)
    writes: list[CellWrite] = []
    inc = report.income
    i_row, k_row = inc.get(L.ROW_INTAKTER), inc.get(L.ROW_KOSTNADER)
    if i_row is not None and k_row is not None:
        for col, c in inc.columns.items():
            if col in skip:
                continue
            value = (value_at(inc.sheet, i_row.row, c) or 0.0) + (value_at(inc.sheet, k_row.row, c) or 0.0)
            if (w := result_formula(inc, col, value)) is not None:
                writes.append(w)
    for t in (report.units, report.explanation):
        if t.total is None:
            continue
        for col, c in t.columns.items():
            if col in skip:
                continue
            total = 0.0
            for r in part_rows(t):
                total += value_at(t.sheet, r, c) or 0.0
            writes.append(total_formula(t, col, total))
    return writes
