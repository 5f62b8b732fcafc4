"""Operation 2: the deviation columns as live Excel formulas with correct cached values.

Avvikelse ack = Utfall ack − Budget ack and Avvikelse helår = Prognos helår − Budget helår, on
every row of the income statement and every unit and total of the unit table. The formula
refers to the row's own input cells, so it stays right when the user edits a figure in Excel;
the cached value is what Excel computes for it (IEEE subtraction of the two cached inputs), so
readers without a calculation engine see the same number.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from . import layout as L
from .cells import CellRef, Grid, a1
from .changes import CellWrite
from .findings import WARNING, Finding, declare
from .formulas import NotEvaluated, references
from .model import Report, Row, Table

AVVIKELSE_UR_AVVIKELSEN = declare(
    "avvikelse-ur-avvikelsen", "ekonomi", WARNING,
    "En avvikelse som Utfall, Budget eller Prognos räknas fram ur lämnas som den är (en formel där "
    "vore en cirkelreferens)")

_FORMULAS = (
    (L.COL_AVV, L.COL_UTFALL, L.COL_BUDGET),
    (L.COL_AVV_HELAR, L.COL_PROGNOS, L.COL_BUDGET_HELAR),
)


def fill_deviations(report: Report, keep: Collection[CellRef] = ()) -> list[CellWrite]:
    """Cell writes for every deviation that can be computed (inputs present and readable),
    except the cells in ``keep`` (see :func:`derived_from_deviation`)."""
    writes: list[CellWrite] = []
    for table in (report.income, report.units):
        for row in table.all_rows():
            writes.extend(w for w in _row_writes(table, row) if CellRef(w.sheet, w.row, w.col) not in keep)
    return writes


def _row_writes(table: Table, row: Row) -> list[CellWrite]:
    out = []
    for target, plus, minus in _FORMULAS:
        if not _fillable(table, row, target, plus, minus):
            continue
        a, b = row.num(plus), row.num(minus)
        formula = f"{_operand(table, row, plus)}-{_operand(table, row, minus)}"
        out.append(CellWrite(table.sheet, row.row, table.columns[target], (a or 0.0) - (b or 0.0), formula))
    return out


def _fillable(table: Table, row: Row, target: str, plus: str, minus: str) -> bool:
    if not all(c in table.columns for c in (target, plus, minus)):
        return False
    if plus in row.invalid or minus in row.invalid:
        return False  # the unreadable input has its own finding; leave the user's cell alone
    return row.num(plus) is not None or row.num(minus) is not None


def derived_from_deviation(report: Report, grids: Mapping[str, Grid]) -> tuple[set[CellRef], list[Finding]]:
    """The deviation cells an input is computed from, and a warning for each.

    A workbook may compute Prognos helår from a typed deviation (``G8 = F8+H8``). Writing
    ``H8 = G8-F8`` there would make a circular reference: Excel warns and LibreOffice shows
    Err:522, while the cached values still look right. Such a deviation is right by
    construction, so it is left as the user typed it and the warning says why.
    """
    by_name = {L.norm(n): g for n, g in grids.items()}
    keep: set[CellRef] = set()
    findings: list[Finding] = []
    for table in (report.income, report.units):
        grid = by_name.get(L.norm(table.sheet))
        if grid is None or not grid.formulas:
            continue
        formulas, sheet = grid.formulas, L.norm(table.sheet)
        for row in table.all_rows():
            for target, plus, minus in _FORMULAS:
                if not ((row.row, table.columns.get(plus)) in formulas or (row.row, table.columns.get(minus))
                        in formulas) or not _fillable(table, row, target, plus, minus):
                    continue  # typed inputs (nearly every row) read nothing
                goal = CellRef(sheet, row.row, table.columns[target])
                for column in (plus, minus):
                    start = (sheet, row.row, table.columns[column])
                    if _reads(by_name, start, goal):
                        ref = table.ref(row, target)
                        keep.add(ref)
                        formula = grid.formulas[(row.row, table.columns[column])]
                        findings.append(AVVIKELSE_UR_AVVIKELSEN.at(
                            ref, f"{row.label} / {target}: {column} ({table.ref(row, column).a1}, ={formula}) "
                                 f"räknas fram ur avvikelsen, så cellen lämnas som den är; en formel här vore "
                                 f"en cirkelreferens. Avvikelsen stämmer med {column} så länge formeln gör det.",
                            actual=row.num(target)))
                        break
    return keep, findings


def _reads(by_name: Mapping[str, Grid], start: tuple[str, int, int], goal: CellRef) -> bool:
    """Whether the cell ``start`` (normalised sheet, row, col) is computed, through formulas of
    the sheets read, from ``goal``. Each formula is looked at once; one the tool cannot parse
    (OFFSET, INDIRECT) counts as not reading it."""
    seen, todo = {start}, [start]
    while todo:
        sheet, r, c = todo.pop()
        grid = by_name.get(sheet)
        formula = grid.formulas.get((r, c)) if grid is not None else None
        if formula is None:
            continue
        try:
            refs = references(formula, grid.name)
        except NotEvaluated:
            continue
        for ref in refs:
            here = L.norm(ref.sheet)
            if here == goal.sheet and ref.top <= goal.row <= ref.bottom and ref.left <= goal.col <= ref.right:
                return True
            other = by_name.get(here)
            if other is None:
                continue
            for (fr, fc) in _formula_cells(other, ref):
                cell = (here, fr, fc)
                if cell not in seen:
                    seen.add(cell)
                    todo.append(cell)
    return False


def _formula_cells(grid: Grid, ref) -> list[tuple[int, int]]:
    """The cells of ``ref``'s rectangle that hold a formula in ``grid``."""
    area = (ref.bottom - ref.top + 1) * (ref.right - ref.left + 1)
    if area <= len(grid.formulas):
        return [(r, c) for r in range(ref.top, ref.bottom + 1) for c in range(ref.left, ref.right + 1)
                if (r, c) in grid.formulas]
    return [(r, c) for (r, c) in grid.formulas if ref.top <= r <= ref.bottom and ref.left <= c <= ref.right]


def _operand(table: Table, row: Row, column: str) -> str:
    """The input cell as a formula operand: ``D9``, or ``N(D9)`` when it holds text such as "–".

    Excel and LibreOffice treat an empty cell as 0 but give #VALUE! for text in arithmetic,
    while the cached value (and the rules) count "–" as no value; N() makes them agree.
    """
    ref = a1(row.row, table.columns[column])
    return f"N({ref})" if column in row.text_blank else ref
