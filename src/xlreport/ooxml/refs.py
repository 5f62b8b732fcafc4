"""References in formula text: finding them and moving them, without parsing the formula.

The package layer needs two things of a formula it does not evaluate: which cells it may read
(:mod:`~xlreport.ooxml.dependents`) and the same formula with rows moved
(:mod:`~xlreport.ooxml.rows`). Both use the one pattern here. Text in double quotes is never a
reference; names, INDIRECT and OFFSET are not resolved.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from ..core.cells import col_index, col_letter

STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')

# A character from U+00C0 to U+FFFF, as "not below U+00C0 and not above U+FFFF": the class
# [\u00c0-\uffff] means the same, but compiling it costs about 9 ms (the re compiler sets its
# 65,000 bits one by one in Python), paid by every process that writes.
_HIGH = r"(?![\U00010000-\U0010ffff])[^\x00-\xbf]"

# Compiled on first use: validate imports this module and mostly never needs it.
_REF_PATTERN = (
    r"(?<![\w.$'\]])"  # not inside a name, a quoted sheet name or a structured reference
    rf"(?:(?:'(?P<qs>(?:[^']|'')+)'|(?P<s>(?:[A-Za-z_]|{_HIGH})(?:[\w.]|{_HIGH})*))!)?"
    r"(?<![\w.])(?P<d1>\$?)(?P<c1>[A-Za-z]{1,3})(?:(?P<d2>\$?)(?P<r1>\d+))?"
    r"(?::(?P<d3>\$?)(?P<c2>[A-Za-z]{1,3})(?:(?P<d4>\$?)(?P<r2>\d+))?)?"
    r"(?![\w(!])")


@functools.cache
def ref_pattern() -> re.Pattern[str]:
    """The pattern of a cell or range reference, with or without a sheet name."""
    return re.compile(_REF_PATTERN)


#: ``fn(sheet or None, row, col)`` -> the new 0-based (row, col) of a corner, or None to keep it.
CellMap = Callable[[str | None, int, int], tuple[int, int] | None]


def references(text: str) -> Iterator[re.Match]:
    """Every match of :func:`ref_pattern` in ``text`` (which should have its string literals removed)."""
    return ref_pattern().finditer(text)


def reference_sheet(m: re.Match) -> str | None:
    """The sheet a reference names, unquoted; None when it names none (the formula's own)."""
    if m.group("qs"):
        return m.group("qs").replace("''", "'")
    return m.group("s")


def reference_box(m: re.Match) -> tuple[int | None, int, int | None, int] | None:
    """(top, left, bottom, right) of a reference, 0-based, ``top`` None for whole columns
    (``E:E``); None for a bare word that is no reference."""
    c1, r1, c2, r2 = m.group("c1"), m.group("r1"), m.group("c2"), m.group("r2")
    if r1 is None and (c2 is None or r2 is not None):
        return None
    if r1 is not None and c2 is not None and r2 is None:
        return None
    lo_c, hi_c = sorted((col_index(c1), col_index(c2 or c1)))
    if r1 is None:
        return None, lo_c, None, hi_c
    lo_r, hi_r = sorted((int(r1) - 1, int(r2 or r1) - 1))
    return lo_r, lo_c, hi_r, hi_c


def rewrite_refs(formula: str, fn: CellMap) -> str:
    """``formula`` with each cell reference's corners moved by ``fn``; whole columns and text in
    double quotes are left alone, and ``$`` markers are kept."""

    def one(m: re.Match) -> str:
        if m.group("r1") is None or (m.group("c2") and m.group("r2") is None):
            return m.group(0)
        sheet = reference_sheet(m)
        prefix = m.group(0)[: m.start("d1") - m.start()]
        corners = [("d1", "c1", "d2", "r1")] + ([("d3", "c2", "d4", "r2")] if m.group("c2") else [])
        parts = []
        for cd, cl, rd, rw in corners:
            row, col = int(m.group(rw)) - 1, col_index(m.group(cl))
            new = fn(sheet, row, col)
            if new is not None:
                row, col = new
            parts.append(f"{m.group(cd)}{col_letter(col)}{m.group(rd)}{row + 1}")
        return prefix + ":".join(parts)

    return _outside_strings(formula, lambda piece: ref_pattern().sub(one, piece))


def translate(formula: str, rows: int, cols: int) -> str:
    """``formula`` as Excel copies it ``rows`` down and ``cols`` right: relative references move,
    ``$``-anchored parts stay (how a shared formula's text applies to each of its cells)."""
    if not rows and not cols:
        return formula

    def one(m: re.Match) -> str:
        if m.group("r1") is None or (m.group("c2") and m.group("r2") is None):
            return m.group(0)
        prefix = m.group(0)[: m.start("d1") - m.start()]
        corners = [("d1", "c1", "d2", "r1")] + ([("d3", "c2", "d4", "r2")] if m.group("c2") else [])
        parts = []
        for cd, cl, rd, rw in corners:
            col, row = col_index(m.group(cl)), int(m.group(rw)) - 1
            col += 0 if m.group(cd) else cols
            row += 0 if m.group(rd) else rows
            if col < 0 or row < 0:
                return "#REF!"
            parts.append(f"{m.group(cd)}{col_letter(col)}{m.group(rd)}{row + 1}")
        return prefix + ":".join(parts)

    return _outside_strings(formula, lambda piece: ref_pattern().sub(one, piece))


def _outside_strings(formula: str, fn: Callable[[str], str]) -> str:
    pieces = STRING_LITERAL.split(formula)
    literals = STRING_LITERAL.findall(formula)
    out = [fn(pieces[0])]
    for lit, piece in zip(literals, pieces[1:]):
        out += [lit, fn(piece)]
    return "".join(out)


def shift_range_list(sqref: str, fn: CellMap) -> str:
    """A space-separated list of ranges (``sqref``) with each range moved by ``fn``."""
    return " ".join(rewrite_refs(part, fn) for part in sqref.split())
