"""Cell addresses and the sheet grid: the plain data the adapters hand to the engine.

An adapter (file or live Excel) reads each sheet the engine needs as a :class:`Grid`: a
rectangle of values with the sheet position of its top-left cell. Values are what a reader
without a calculation engine sees: numbers as ``float``, text as ``str``, ``bool``, dates as
``datetime``/``date``, and ``None`` for an empty cell. Formulas appear as their cached value.
"""

from __future__ import annotations

import re

from ..records import Record, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


def col_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    if col < 0:
        raise ValueError(col)
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    """Excel letters -> 0-based column index."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> "C5"."""
    return f"{col_letter(col)}{row + 1}"


def parse_a1(ref: str) -> tuple[int, int]:
    """"C5" -> (4, 2), 0-based."""
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)) - 1, col_index(m.group(1))


def is_number(v: Any) -> bool:
    """Whether a cell value is a number (a bool is not, though Python says so)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def quote_sheet(name: str) -> str:
    """Sheet name as it appears in a formula or link: 'Resultaträkning'!"""
    return "'" + name.replace("'", "''") + "'"


class CellRef(Record, frozen=True, order=True):
    sheet: str
    row: int  # 0-based
    col: int  # 0-based

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)

    def __str__(self) -> str:
        return f"{self.sheet}!{self.a1}"


class Grid(Record):
    """The values of one sheet; ``values[r][c]`` is the cell at (top + r, left + c).

    ``formulas`` and ``formats`` are keyed by sheet position (row, col): a formula cell's formula
    (A1 syntax, no "="), and a cell's number format code when it is not General. A door that
    cannot tell leaves them empty; the engine then trusts the values as they are.
    """

    name: str
    values: list[list[Any]] = field(default_factory=list)
    top: int = 0
    left: int = 0
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)

    def get(self, row: int, col: int) -> Any:
        """The value at sheet position (row, col); None for an empty cell and outside the rectangle."""
        # The reader calls this for nearly every cell it looks at, so it is written for speed: an
        # index past the end raises IndexError (cheaper than checking both lengths first), but a
        # negative one would wrap around to the far end of the list, so it is refused up front.
        r, c = row - self.top, col - self.left
        if r < 0 or c < 0:
            return None
        try:
            v = self.values[r][c]
        except IndexError:
            return None
        return None if v == "" else v

    def line(self, row: int) -> list[Any]:
        """The values of sheet row ``row`` from column ``left`` on, as stored ("" for an empty
        cell; shorter than the rectangle or empty where the row ends early or is outside it)."""
        r = row - self.top
        return self.values[r] if 0 <= r < len(self.values) else []

    def set(self, row: int, col: int, value: Any, *, only_if_empty: bool = False) -> None:
        """Put ``value`` at sheet position (row, col), growing the rectangle as needed."""
        if self.values and row < self.top:
            self.values[:0] = [[] for _ in range(self.top - row)]
            self.top = row
        if self.values and col < self.left:
            self.values = [[""] * (self.left - col) + line for line in self.values]
            self.left = col
        if not self.values:
            self.top, self.left = row, col
        r, c = row - self.top, col - self.left
        while len(self.values) <= r:
            self.values.append([])
        line = self.values[r]
        if len(line) <= c:
            line.extend([""] * (c + 1 - len(line)))
        if not only_if_empty or line[c] in ("", None):
            line[c] = value

    @property
    def n_rows(self) -> int:
        return self.top + len(self.values)

    @property
    def n_cols(self) -> int:
        return self.left + max(map(len, self.values), default=0)

    def cells(self):
        """Yield (row, col, value) for every non-empty cell."""
        left = self.left
        for r, line in enumerate(self.values, self.top):
            for c, v in enumerate(line, left):
                if v is not None and v != "":
                    yield r, c, v
