"""Totals cover their parts: a Summa formula must add up every row of its table.

The template's note tells users to insert a unit row directly above Summa. Excel widens
``=SUM(C5:C12)`` only for a row inserted *inside* the range, so a row inserted at 13 is left
out, and with a small unit the difference hides inside any rounding tolerance. Each Summa cell
that holds a formula is compared with the rows of its table:

* the template's own shape, ``=SUM(first:last)`` down the column, is extended to every row of
  the table (a warning says so; the model gets the full sum, and the tool writes the extended
  formula with its value when it writes the workbook);
* any other formula that leaves rows out is an error naming them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from ..records import Record, field
from . import layout as L
from .cells import Grid, a1, col_letter
from .changes import CellWrite
from .findings import ERROR, WARNING, Finding, declare
from .formulas import NotEvaluated, references
from .model import Report, Table
from .template import part_rows, total_formula

SUMMA_UTOKAD = declare("summa-utokad", "mall", WARNING,
                       "En Summa-formel räknar med tabellens alla rader (mallens formel utökas annars)")
SUMMA_TACKER_INTE = declare("summa-tacker-inte", "mall", ERROR,
                            "En Summa-formel som inte är mallens räknar med tabellens alla rader, och bara med dem")
RESULTAT_TACKER_INTE = declare("resultat-tacker-inte", "mall", ERROR,
                               "En resultatrads formel räknar med alla rader resultatet består av, "
                               "och bara med dem")

# ASCII: formula text is (Excel writes it so), and Unicode case-insensitivity cost 1 ms to compile
_TEMPLATE_SUM = re.compile(r"^\s*SUM\(\s*\$?([A-Z]{1,3})\$?(\d+)\s*:\s*\$?([A-Z]{1,3})\$?(\d+)\s*\)\s*$",
                           re.IGNORECASE | re.ASCII)


class Coverage(Record):
    findings: list[Finding] = field(default_factory=list)
    fixes: list[CellWrite] = field(default_factory=list)  # extended template formulas, with values


def check_totals(report: Report, grids: Mapping[str, Grid]) -> Coverage:
    """Compare every Summa formula with its table's rows; extend the template's own ones."""
    out = Coverage()
    by_name = {L.norm(n): g for n, g in grids.items()}
    for table in (report.units, report.explanation, report.staff, report.leavers):
        grid = by_name.get(L.norm(table.sheet)) if table is not None else None
        if table is None or table.total is None or grid is None:
            continue
        for column, col in table.columns.items():
            formula = grid.formulas.get((table.total.row, col))
            if formula is not None:
                _check_total(out, report, table, column, col, formula, grid)
    grid = by_name.get(L.norm(report.income.sheet))
    if grid is not None:
        _check_results(out, report, grid)
    return out


def _covered_rows(formula: str, sheet: str, col: int) -> set[int] | None:
    """The rows of column ``col`` on ``sheet`` that ``formula`` reads; None when it cannot tell."""
    counts = _row_counts(formula, sheet, col)
    return None if counts is None else set(counts)


@functools.lru_cache(maxsize=4096)
def _row_counts(formula: str, sheet: str, col: int) -> dict[int, int] | None:
    """How many of ``formula``'s references read each row of column ``col`` on ``sheet``
    (=SUM(C5:C12)+C7 reads row 7 twice); None when it cannot tell. Cached: the template's
    formulas are the same text in every workbook of a batch (the dict is never changed)."""
    try:
        refs = references(formula, sheet)
    except NotEvaluated:
        return None
    here = L.norm(sheet)
    counts: dict[int, int] = {}
    for r in refs:
        if r.left <= col <= r.right and L.norm(r.sheet) == here:
            for row in range(r.top, r.bottom + 1):
                counts[row] = counts.get(row, 0) + 1
    return counts


def _twice(out: Coverage, rule, ref, label: str, column: str, formula: str, sheet: str, col: int,
           rows: list) -> None:
    """A finding when the formula reads one of ``rows`` through two of its references."""
    counts = _row_counts(formula, sheet, col) or {}
    twice = [r for r in rows if counts.get(r.row, 0) > 1]
    if twice:
        names = ", ".join(f"rad {r.row + 1} ({r.label})" for r in twice)
        out.findings.append(rule.at(ref, f"{label} / {column}: formeln ={formula} räknar med {names} två gånger.",
                                    actual=formula))


def _reads(row, covered: set[int], made_of: dict, depth: int = 0) -> bool:
    """Whether a formula reading the rows ``covered`` reads ``row``: directly, or all its parts."""
    if row.row in covered:
        return True
    parts = made_of.get(row.row)
    return bool(parts) and depth < 4 and all(_reads(p, covered, made_of, depth + 1) for p in parts)


def _made_of_rows(parts, made_of: dict, depth: int = 0) -> set[int]:
    """The rows ``parts`` are, and the rows each of them is made of (a result's own parts)."""
    out = {p.row for p in parts}
    if depth < 4:
        for p in parts:
            out |= _made_of_rows(made_of.get(p.row, []), made_of, depth + 1)
    return out


def _check_results(out: Coverage, report: Report, grid: Grid) -> None:
    """Each result row's formula reads every row the result is made of (or that row's parts)."""
    t = report.income
    made_of = {res.row: parts for res, parts in [*report.result_parts(), *report.financial_parts()]}
    for res, parts in report.result_parts():
        allowed = _made_of_rows(parts, made_of)
        for column, col in t.columns.items():
            formula = grid.formulas.get((res.row, col))
            covered = _covered_rows(formula, t.sheet, col) if formula is not None else None
            if not covered or not parts:
                continue

            if not (covered & ({p.row for p in parts} | {q.row for p in parts for q in made_of.get(p.row, [])})):
                continue  # not a sum of the rows above (e.g. a deviation formula)
            left_out = [p for p in parts if not _reads(p, covered, made_of)]
            if left_out:
                names = ", ".join(f"rad {p.row + 1} ({p.label})" for p in left_out)
                out.findings.append(RESULTAT_TACKER_INTE.at(
                    t.ref(res, column), f"{res.label} / {column}: formeln ={formula} räknar inte med {names}. "
                                        f"{res.label} ska vara {' + '.join(p.label for p in parts)}.",
                    actual=formula))
            # a row of the statement read on top of the parts (a varav row already inside
            # Kostnader, another result): counted twice, by less than any rounding tolerance
            extra = [r for r in t.rows if r.row in covered and r.row != res.row and r.row not in allowed]
            if extra:
                names = ", ".join(f"rad {r.row + 1} ({r.label})" for r in extra)
                out.findings.append(RESULTAT_TACKER_INTE.at(
                    t.ref(res, column), f"{res.label} / {column}: formeln ={formula} räknar också med {names}, "
                                        f"som inte ingår i {res.label}. {res.label} ska vara "
                                        f"{' + '.join(p.label for p in parts)}.", actual=formula))
            _twice(out, RESULTAT_TACKER_INTE, t.ref(res, column), res.label, column, formula, t.sheet, col, t.rows)


def _check_total(out: Coverage, report: Report, table: Table, column: str, col: int, formula: str,
                 grid: Grid) -> None:
    covered = _covered_rows(formula, table.sheet, col)
    if covered is None:
        return  # not a formula of ours to judge; its value is trusted or reported by recalc
    parts = part_rows(table)
    if not covered & set(parts):
        return  # a formula of the totals (e.g. a deviation), not a sum of the rows
    total = table.total
    ref = table.ref(total, column)
    # a number outside the table added in (=SUM(C5:C12)+C20): more than the units, by any amount
    outside = sorted(r for r in covered if r not in parts and r != total.row and isinstance(grid.get(r, col), float))
    if outside:
        out.findings.append(SUMMA_TACKER_INTE.at(
            ref, f"{total.label} / {column}: formeln ={formula} räknar också med "
                 f"{', '.join(a1(r, col) for r in outside)}, som inte är en rad i tabellen {table.name}. Summa ska "
                 f"vara summan av tabellens rader.", actual=formula))
    _twice(out, SUMMA_TACKER_INTE, ref, total.label, column, formula, table.sheet, col, table.rows)
    left_out = [row for row in table.rows if row.row not in covered]
    if not left_out:
        return
    names = ", ".join(f"rad {row.row + 1} ({row.label})" for row in left_out)
    m = _TEMPLATE_SUM.match(formula)
    if m and m.group(1).upper() == m.group(3).upper() == col_letter(col):
        value = sum(row.num(column) or 0.0 for row in table.rows)
        fix = total_formula(table, column, value)
        total.values[column] = value
        out.fixes.append(fix)
        out.findings.append(SUMMA_UTOKAD.at(
            ref, f"{total.label} / {column}: formeln ={formula} räknar inte med {names}. Den utökas till "
                 f"={fix.formula} när arbetsboken skrivs, och rapporten räknar redan med alla rader.",
            expected=fix.formula, actual=formula))
        return
    out.findings.append(SUMMA_TACKER_INTE.at(
        ref, f"{total.label} / {column}: formeln ={formula} räknar inte med {names}. Rätta formeln så att "
             f"den summerar tabellens alla rader (mallens formel är =SUM({a1(part_rows(table)[0], col)}:"
             f"{a1(part_rows(table)[-1], col)})).", actual=formula))
