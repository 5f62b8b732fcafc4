"""Operation 2: the deviation columns as live Excel formulas with correct cached values.

Avvikelse ack = Utfall ack − Budget ack and Avvikelse helår = Prognos helår − Budget helår, on
every row of the income statement and every unit and total of the unit table. The formula
refers to the row's own input cells, so it stays right when the user edits a figure in Excel;
the cached value is what Excel computes for it (IEEE subtraction of the two cached inputs), so
readers without a calculation engine see the same number.
"""

from __future__ import annotations

from . import layout as L
from .cells import a1
from .changes import CellWrite
from .model import Report, Row, Table

_FORMULAS = (
    (L.COL_AVV, L.COL_UTFALL, L.COL_BUDGET),
    (L.COL_AVV_HELAR, L.COL_PROGNOS, L.COL_BUDGET_HELAR),
)


def fill_deviations(report: Report) -> list[CellWrite]:
    """Cell writes for every deviation that can be computed (inputs present and readable)."""
    writes: list[CellWrite] = []
    for table in (report.income, report.units):
        for row in table.all_rows():
            writes.extend(_row_writes(table, row))
    return writes


def _row_writes(table: Table, row: Row) -> list[CellWrite]:
    out = []
    for target, plus, minus in _FORMULAS:
        if not all(c in table.columns for c in (target, plus, minus)):
            continue
        if plus in row.invalid or minus in row.invalid:
            continue  # the unreadable input has its own finding; leave the user's cell alone
        a, b = row.num(plus), row.num(minus)
        if a is None and b is None:
            continue
        formula = f"{_operand(table, row, plus)}-{_operand(table, row, minus)}"
        out.append(CellWrite(table.sheet, row.row, table.columns[target], (a or 0.0) - (b or 0.0), formula))
    return out


def _operand(table: Table, row: Row, column: str) -> str:
    """The input cell as a formula operand: ``D9``, or ``N(D9)`` when it holds text such as "–".

    Excel and LibreOffice treat an empty cell as 0 but give #VALUE! for text in arithmetic,
    while the cached value (and the rules) count "–" as no value; N() makes them agree.
    """
    ref = a1(row.row, table.columns[column])
    return f"N({ref})" if column in row.text_blank else ref
