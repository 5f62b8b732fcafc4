"""Fill a stamped unit workbook with its figures, as a unit's staff would type them in Excel.

Test support (tests/test_departments.py, benchmarks/batch.py), not part of the tool: the
unit's Resultat figures go into its Resultaträkning (positive amounts on Intäkter, negative on
Kostnader), its Driftredovisning gets one row for the unit itself with the same figures and
*Avvikelse ack fg år*; the template's formulas (Resultat, Summa) get their cached values, as a
calculating program would store them.
"""

from __future__ import annotations

from pathlib import Path

from xlreport.core import layout as L
from xlreport.core.changes import CellWrite, ChangeSet
from xlreport.core.engine import SHEETS, run
from xlreport.core.template import result_formula, total_formula
from xlreport.doors.file import read_grids
from xlreport.ooxml.apply import apply_changes
from xlreport.ooxml.atomic import workbook_lock

_RESULT_COLUMNS = (L.COL_UTFALL, L.COL_BUDGET, L.COL_BUDGET_HELAR, L.COL_PROGNOS)


def fill_unit(path: str | Path, figures: dict[str, float | None], *, utfall_fg: float | None = None) -> None:
    """Write ``figures`` ({column: mnkr} for Avvikelse ack fg år, Utfall ack, Budget ack, Budget
    helår, Prognos helår) into the unit workbook at ``path`` (in place)."""
    with workbook_lock(Path(path)):  # from reading to writing, as refresh
        _fill_unit(path, figures, utfall_fg)


def _fill_unit(path: str | Path, figures: dict[str, float | None], utfall_fg: float | None) -> None:
    names, grids = read_grids(path, SHEETS)
    rep = run(grids, names, actions=()).report
    inc, units = rep.income, rep.units
    writes = []
    i_row, k_row = inc.get(L.ROW_INTAKTER), inc.get(L.ROW_KOSTNADER)
    result_values = dict(figures)
    if utfall_fg is not None:
        result_values[L.COL_UTFALL_FG] = utfall_fg
    for col, value in result_values.items():
        if col not in inc.columns or col == L.COL_AVV_FG or value is None:
            continue
        c = inc.columns[col]
        income, cost = (value, 0.0) if value > 0 else (0.0, value)
        writes += [CellWrite(inc.sheet, i_row.row, c, income), CellWrite(inc.sheet, k_row.row, c, cost),
                   result_formula(inc, col, income + cost)]
    own = units.header_row + 1
    if not units.rows:
        writes.append(CellWrite(units.sheet, own, units.label_col, rep.meta.enhet))
    else:
        own = units.rows[0].row
    for col, value in figures.items():
        if col not in units.columns:
            continue
        c = units.columns[col]
        writes.append(CellWrite(units.sheet, own, c, value))
        writes.append(total_formula(units, col, value or 0.0))
    apply_changes(path, ChangeSet(writes=writes), out=path)
