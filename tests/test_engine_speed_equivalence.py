"""The engine's fast paths keep the meaning of the plain code they replace.

The reader and the grid were tuned for speed (``Grid.get`` lets an index past the end raise
instead of checking lengths, the reader skips ``read_number`` for an empty cell, finds a
table's free column in its header loop, reads text columns without ``_is_blank``, caches
``_is_percent`` and the refs of a formula). Each test states the plain definition and checks the
fast code against it on the cases the fast code treats differently: offsets and negative
indexes, ragged rows, blank and non-text cells.
"""

from __future__ import annotations

import pytest

from support.memory import example_grids
from xlreport.core import formulas, reader
from xlreport.core.cells import Grid
from xlreport.core.formulas import NotEvaluated
from xlreport.core.swedish import fmt_number, round_half_up


def plain_get(g: Grid, row: int, col: int):
    """``Grid.get`` as it was first written: both bounds checked, "" is empty."""
    r, c = row - g.top, col - g.left
    if 0 <= r < len(g.values) and 0 <= c < len(g.values[r]):
        v = g.values[r][c]
        return None if v == "" else v
    return None


def ragged() -> Grid:
    """A grid at D3 with rows of different lengths, empty strings, None, 0, False and text."""
    return Grid("Blad", [[1.0, "", "x"], [], [None, 0.0, False, "  ", "y"], ["z"]], top=2, left=3)


def test_get_matches_the_plain_definition_everywhere_around_a_ragged_offset_grid():
    g = ragged()
    for row in range(-3, 10):
        for col in range(-3, 12):
            assert g.get(row, col) == plain_get(g, row, col), (row, col)
            assert type(g.get(row, col)) is type(plain_get(g, row, col)), (row, col)


def test_get_never_wraps_a_negative_index_to_the_far_end():
    g = ragged()
    assert g.values[-1][-1] == "z" and g.values[0][-1] == "x"  # what a wrapped index would find
    assert g.get(g.top - 1, g.left) is None  # the row above the grid
    assert g.get(g.top, g.left - 1) is None  # the column left of it
    assert g.get(0, 0) is None and g.get(1, 2) is None


def test_get_keeps_zero_and_false_and_empties_only_the_empty_string():
    g = ragged()
    assert g.get(4, 4) == 0.0 and g.get(4, 5) is False
    assert g.get(4, 6) == "  "  # spaces are text to the grid (the reader calls them blank)
    assert g.get(2, 4) is None and g.get(4, 3) is None


def test_cells_and_n_cols_count_from_top_and_left():
    g = ragged()
    expected = [(g.top + r, g.left + c, v) for r, line in enumerate(g.values) for c, v in enumerate(line)
                if v is not None and v != ""]
    assert list(g.cells()) == expected
    assert g.n_cols == g.left + 5
    assert Grid("Tom").n_cols == 0


def test_the_free_column_is_right_of_the_header_rows_last_filled_cell():
    names, grids = example_grids()
    g = grids[reader.UNITS.sheet]
    report, _ = reader.read_report(grids, names)
    hr = report.units.header_row
    # a blank (spaces) header cell far right does not count; a filled one after a gap does
    g.set(hr, g.n_cols + 1, "Egen anteckning")
    g.set(hr, g.n_cols + 2, "   ")
    report, _ = reader.read_report(grids, names)
    t = report.units
    filled = [c for c in range(t.label_col, g.n_cols) if not reader._is_blank(g.get(hr, c))]
    assert t.free_col == 1 + max(filled) == g.n_cols - 3


def test_text_table_cells_read_as_shown_and_blank_as_none():
    names, grids = example_grids()
    report, _ = reader.read_report(grids, names)
    t = report.commitments
    g = grids[t.sheet]
    r = t.rows[0].row
    typed = {t.columns[reader.L.COL_OMRADE]: "  Fler i jobb ", t.columns[reader.L.COL_STATUS]: " \u00a0 ",
             t.columns[reader.L.COL_BEDOMNING]: 3.0}
    for c, v in typed.items():
        g.set(r, c, v)
    values = reader.read_report(grids, names)[0].commitments.rows[0].values
    assert values[reader.L.COL_OMRADE] == "Fler i jobb"
    assert values[reader.L.COL_STATUS] is None  # only spaces: no value
    assert values[reader.L.COL_BEDOMNING] == fmt_number(3.0, 0)
    g.set(r, t.columns[reader.L.COL_BEDOMNING], True)
    assert reader.read_report(grids, names)[0].commitments.rows[0].values[reader.L.COL_BEDOMNING] == "True"


def test_an_empty_number_cell_is_none_without_a_finding():
    names, grids = example_grids()
    report, _ = reader.read_report(grids, names)
    t = report.units
    row = t.rows[0]
    grids[t.sheet].set(row.row, t.columns[reader.L.COL_UTFALL], "")
    report, findings = reader.read_report(grids, names)
    read = report.units.rows[0]
    assert read.values[reader.L.COL_UTFALL] is None
    assert reader.L.COL_UTFALL not in read.invalid | read.text_blank
    assert (None, None) == reader.read_number(None, t.ref(row, reader.L.COL_UTFALL), "x")
    assert not [f for f in findings if f.cell == t.ref(row, reader.L.COL_UTFALL).a1 and f.sheet == t.sheet]


def test_is_percent_gives_the_same_answer_when_asked_again():
    codes = ["0.0%", '0.0"%"', "0.0\\%", "#,##0.0", None, "", '"%"0%']
    first = [reader._is_percent(c) for c in codes]
    assert first == [True, False, False, False, False, False, True]
    assert [reader._is_percent(c) for c in codes] == first


def test_references_are_a_fresh_list_of_the_same_refs_and_failures_raise_each_time():
    a = formulas.references("SUM(B5:B12)+'Resultaträkning'!C3", "Driftredovisning")
    a.append("ändrad")
    b = formulas.references("SUM(B5:B12)+'Resultaträkning'!C3", "Driftredovisning")
    assert b == [formulas.Ref("Driftredovisning", 4, 1, 11, 1), formulas.Ref("Resultaträkning", 2, 2, 2, 2)]
    assert formulas.references("SUM(B5:B12)", "Personal") == [formulas.Ref("Personal", 4, 1, 11, 1)]
    for _ in range(2):
        with pytest.raises(NotEvaluated):
            formulas.references("OFFSET(A1,1,1)", "Driftredovisning")


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (2.25, 1, 2.3), (-2.25, 1, -2.3), (2.5, 0, 3.0), (1.2345, 3, 1.235), (1.2345, 1, 1.2), (1250.0, -2, 1300.0),
])
def test_round_half_up_rounds_to_each_number_of_decimals(value, decimals, expected):
    assert round_half_up(value, decimals) == expected


def _rounding_cases() -> list[float]:
    """Floats of every size a report prints, ties at every decimal (x.5, x.x5, x.xx5 ...), their
    negatives and neighbours, zero of both signs, and the edges of the digit-wise rounding."""
    import random

    rnd = random.Random(15)
    cases = [0.0, -0.0, 5, -5, 0.05, 0.15, 0.25, 0.35, 2.675, 1.005, 0.0001, 0.00015, 0.00001, 9.995,
             999_999_999_999_999.0, 999_999_999_999.995, 1e15 - 1, 123456789.125]
    for _ in range(1000):
        digits = rnd.randrange(0, 7)
        cases.append(round(rnd.uniform(-10**rnd.randrange(0, 12), 10**rnd.randrange(0, 12)), digits))
        cases.append(rnd.randrange(-10**9, 10**9) / 10 ** rnd.randrange(0, 6) + 5 / 10 ** rnd.randrange(1, 6))
        cases.append(rnd.uniform(-1, 1) * 10.0 ** rnd.randrange(-6, 15))
    return [*cases, *(-c for c in cases)]


def _excel_round(value: float, decimals: int) -> float:
    """The definition: the float's exact value to 15 significant digits (as Excel holds it), then
    Decimal's quantize with ROUND_HALF_UP."""
    from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

    held = Context(prec=15, rounding=ROUND_HALF_EVEN).create_decimal(value)
    return float(held.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def test_round_half_up_digit_by_digit_is_decimals_quantize():
    """round_half_up works on the repr's digits without importing decimal; Decimal's quantize with
    ROUND_HALF_UP on the value at 15 significant digits is the definition (sign of a zero included)."""
    cases = _rounding_cases()
    for decimals in range(5):
        for value in cases:
            assert repr(round_half_up(value, decimals)) == repr(_excel_round(value, decimals)), (value, decimals)
    assert len(cases) > 6_000


@pytest.mark.parametrize(("a", "b", "decimals", "expected"), [
    (-18.53, -21.48, 1, 3.0),  # 2.9499999999999993 in binary; Excel shows 3,0 and ROUND gives 3,0
    (-21.48, -18.53, 1, -3.0),
    (0.1, -0.05, 1, 0.2),  # 0.15000000000000002
    (1.1, 1.095, 2, 0.01),  # 0.004999999999999893: 15 digits 0.00499999999999989, below the half
])
def test_round_half_up_rounds_the_value_excel_holds(a, b, decimals, expected):
    """A difference whose binary value falls just below a half is rounded as Excel shows it, at
    15 significant digits, not as the binary value lies."""
    assert round_half_up(a - b, decimals) == expected
    assert _excel_round(a - b, decimals) == expected


def test_validation_does_not_import_decimal(tmp_path):
    """decimal costs some 3 M instructions to import: a validation of the example needs none of it."""
    import subprocess
    import sys

    from support.workbooks import EXAMPLE

    code = ("import sys; from xlreport import batch; "
            f"r = batch.run_one({str(EXAMPLE)!r}, (), False); "
            "assert r.status == 0, r.findings; print('decimal' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False", run.stdout + run.stderr
