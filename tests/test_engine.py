"""The engine on plain grids: structure is found by name wherever the user moved it."""

from __future__ import annotations

import pytest

from support.memory import example_grids
from xlreport.core import engine
from xlreport.core.cells import Grid, a1
from xlreport.core.errors import StructureError


def moved(grid: Grid, rows: int, cols: int) -> Grid:
    return Grid(grid.name, grid.values, grid.top + rows, grid.left + cols)


def with_column(grid: Grid, at: int, header: str = "Egen anteckning") -> Grid:
    """Insert a column at sheet column ``at`` (the user's own notes column)."""
    values = [list(r) for r in grid.values]
    for i, r in enumerate(values):
        r.insert(at - grid.left, header if i == 3 else "")
    return Grid(grid.name, values, grid.top, grid.left)


def writes_by_cell(outcome):
    return {(w.sheet, w.a1): (w.formula, round(w.value, 9)) for w in outcome.changes.writes}


def test_moved_tables_give_the_same_result_at_the_new_place():
    names, grids = example_grids()
    base = engine.run(grids, names)
    shifted = {n: moved(g, 7, 3) for n, g in grids.items()}
    out = engine.run(shifted, names)
    assert out.findings == base.findings == []
    expected = {}
    for w in base.changes.writes:
        # every formula and its cell move by the same offset; the cached values stay
        formula = "-".join(_shift(ref, 7, 3) for ref in w.formula.split("-"))
        expected[(w.sheet, a1(w.row + 7, w.col + 3))] = (formula, round(w.value, 9))
    assert writes_by_cell(out) == expected


def _shift(ref: str, rows: int, cols: int) -> str:
    from xlreport.core.cells import parse_a1

    r, c = parse_a1(ref)
    return a1(r + rows, c + cols)


def test_inserted_column_is_skipped_and_formulas_follow_the_headers():
    names, grids = example_grids()
    grids["Resultaträkning"] = with_column(grids["Resultaträkning"], 2)  # before "Utfall ack"
    out = engine.run(grids, names)
    assert out.errors == 0
    intakter = writes_by_cell(out)[("Resultaträkning", "F5")]  # Avvikelse ack moved from E to F
    assert intakter == ("D5-E5", round(113.70 - 110.27, 9))


def test_all_missing_structure_is_reported_at_once():
    names, grids = example_grids()
    del grids["Personal"]
    names.remove("Personal")
    grids["Driftredovisning"].values[3][3] = "Budget"  # header "Budget ack" renamed
    with pytest.raises(StructureError) as exc:
        engine.run(grids, names)
    assert [f.rule for f in exc.value.findings] == ["blad-saknas"]  # sheets are checked first
    grids["Personal"] = example_grids()[1]["Personal"]
    names.append("Personal")
    grids["Sjukfrånvaro"].values[3][0] = "Frånvaro"
    with pytest.raises(StructureError) as exc:
        engine.run(grids, names)
    assert {(f.rule, f.sheet) for f in exc.value.findings} == {
        ("kolumn-saknas", "Driftredovisning"), ("tabell-saknas", "Sjukfrånvaro")}


def test_errors_mean_no_changes():
    names, grids = example_grids()
    grids["Resultaträkning"].values[4][2] = "113,7"
    out = engine.run(grids, names)
    assert out.errors == 1
    assert not out.changes


def test_engine_imports_no_adapter():
    import subprocess
    import sys

    code = ("import sys, xlreport.core.engine, xlreport.doors.file; "
            "bad = [m for m in ('openpyxl', 'xlwings', 'python_calamine', 'lxml', 'pandas') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
