"""The in-memory model of one report workbook: what the rules, the arithmetic and the text use.

The model keeps, for every figure, the cell it came from, so that every finding can point at
the user's own cell. It knows nothing of files or Excel: :mod:`xlreport.core.reader` builds it from
plain sheet grids, and checks every cell it puts in (with a Swedish finding for each one that is
wrong), so the model's classes are plain records (:mod:`xlreport.records`): a validating model
class would check the same values again and cost a third of a refresh's start-up.
"""

from __future__ import annotations

from ..records import Record, field
from . import layout as L
from .cells import CellRef

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any


class Row(Record, kw_only=True):
    """One data row of a table."""

    label: str  # the text in the label column, as the user wrote it
    key: str  # canonical label (layout constant) or, for units, the unit name
    row: int  # 0-based sheet row
    values: dict[str, Any] = field(default_factory=dict)  # column header -> float | str | None
    invalid: set[str] = field(default_factory=set)  # columns whose cell could not be read
    # columns whose cell holds text meaning "no value" ("–", a space): empty to the rules, but
    # Excel's arithmetic on such a cell gives #VALUE!, so a formula must read it through N()
    text_blank: set[str] = field(default_factory=set)
    percent_formatted: set[str] = field(default_factory=set)  # read from a percent format (× 100)
    texts: dict[str, str] = field(default_factory=dict)  # text column (Kommentar, Enhet) -> its text, when filled

    def num(self, column: str) -> float | None:
        v = self.values.get(column)
        return v if isinstance(v, float) else None

    def text(self, column: str) -> str | None:
        v = self.values.get(column)
        return v if isinstance(v, str) else None


class Table(Record, kw_only=True):
    """A table found on a sheet by its header text."""

    name: str
    sheet: str
    header_row: int
    label_col: int
    columns: dict[str, int]  # header (layout constant) -> 0-based column
    # the optional text columns (Kommentar, Enhet): header -> 0-based column, when the table has them
    text_columns: dict[str, int] = field(default_factory=dict)
    free_col: int | None = None  # the first column right of the header row's last filled cell
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None  # the "Summa" row, when the table has one
    # labels in the label column below the Summa row (normalised label -> 0-based row): not part
    # of the table, but a unit typed there is one the user meant to count
    after_total: dict[str, int] = field(default_factory=dict)

    def ref(self, row: Row | int, column: str | None = None) -> CellRef:
        """The cell of ``column`` in ``row`` (the label cell when column is None)."""
        r = row if isinstance(row, int) else row.row
        c = self.label_col if column is None else self.columns[column] if column in self.columns \
            else self.text_columns[column]
        return CellRef(self.sheet, r, c)

    def header_ref(self) -> CellRef:
        return CellRef(self.sheet, self.header_row, self.label_col)

    def get(self, key: str) -> Row | None:
        for r in self.rows:
            if r.key == key:
                return r
        if self.total is not None and self.total.key == key:
            return self.total
        return None

    def has(self, column: str) -> bool:
        return column in self.columns

    def all_rows(self) -> list[Row]:
        return self.rows + ([self.total] if self.total is not None else [])

    def to_frame(self):
        """The table as a pandas DataFrame (labels as index); pandas is imported only here."""
        import pandas as pd

        rows = self.all_rows()
        return pd.DataFrame([r.values for r in rows], index=[r.label for r in rows],
                            columns=list(self.columns))


class Meta(Record, kw_only=True):
    """Report metadata from the sheet ``Uppgifter``."""

    kommun: str | None = None
    namnd: str | None = None
    enhet: str | None = None
    rapport: str | None = None
    ar: int | None = None
    period: str | None = None
    manad: int | None = None
    sjukmal: float | None = None
    driftram: float | None = None
    version: str | None = None
    sjuk_period: str | None = None
    sjuk_period_fg: str | None = None
    vasentlighet: float | None = None  # Väsentlighetsgräns (mnkr); None: the configured default
    units: list[str] = field(default_factory=list)
    # where each value was found, for findings: field name -> cell
    cells: dict[str, CellRef] = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)  # fields whose cell holds the wrong kind of value
    # unit names below a blank cell of the unit list (not in the list): normalised name -> cell
    units_after_blank: dict[str, CellRef] = field(default_factory=dict)
    units_header: CellRef | None = None


class Report(Record, kw_only=True):
    """A whole report workbook."""

    meta: Meta
    income: Table
    units: Table
    explanation: Table
    staff: Table
    leavers: Table | None = None
    sick: Table
    commitments: Table
    sheet_names: list[str] = field(default_factory=list)

    # --- deviations, computed from the inputs (never read from the deviation cells) --------
    @staticmethod
    def deviation_ack(row: Row) -> float | None:
        return _diff(row.num(L.COL_UTFALL), row.num(L.COL_BUDGET), row, (L.COL_UTFALL, L.COL_BUDGET))

    @staticmethod
    def deviation_year(row: Row) -> float | None:
        return _diff(row.num(L.COL_PROGNOS), row.num(L.COL_BUDGET_HELAR), row,
                     (L.COL_PROGNOS, L.COL_BUDGET_HELAR))

    def result_parts(self) -> list[tuple[Row, list[Row]]]:
        """Each result row of the income statement with the rows it adds up: the result row
        above it (if any) and the items between the two (``Resultat`` = Intäkter + Kostnader;
        ``Resultat efter finansiella poster`` = Resultat före finansiella poster + Finansiella
        poster)."""
        out, segment, previous = [], [], None
        for r in sorted(self.income.rows, key=lambda r: r.row):
            if r.key in L.RESULT_ROWS:
                out.append((r, ([previous] if previous is not None else []) + _result_components(segment)))
                previous, segment = r, []
            else:
                segment.append(r)
        return out

    def financial_parts(self) -> list[tuple[Row, list[Row]]]:
        """Finansiella poster with its two parts, when the statement has all three rows."""
        t = self.income
        total, parts = t.get(L.ROW_FIN_POSTER), [t.get(L.ROW_FIN_INTAKTER), t.get(L.ROW_FIN_KOSTNADER)]
        if total is None or any(p is None for p in parts):
            return []
        return [(total, parts)]

    def resultat(self) -> Row | None:
        """The bottom line: the lowest result row of the income statement (``Resultat``, or
        ``Resultat efter finansiella poster`` in the municipal shape)."""
        results = [r for r in self.income.rows if r.key in L.RESULT_ROWS]
        return max(results, key=lambda r: r.row) if results else None


def _result_components(segment: list[Row]) -> list[Row]:
    """The rows between two result rows that the lower one adds: revenue, costs, the financial
    items (their total when there is one, else its two parts) and items affecting comparability.
    The varav rows are part of Kostnader, never added."""
    added = {L.ROW_INTAKTER, L.ROW_KOSTNADER, L.ROW_FIN_POSTER, L.ROW_JAMFORELSE}
    if L.ROW_FIN_POSTER not in {r.key for r in segment}:
        added |= {L.ROW_FIN_INTAKTER, L.ROW_FIN_KOSTNADER}
    return [r for r in segment if r.key in added]


def _diff(a: float | None, b: float | None, row: Row, cols: tuple[str, str]) -> float | None:
    """a − b, treating one empty side as 0; None when both are empty or one is unreadable."""
    if not row.invalid.isdisjoint(cols):
        return None
    if a is None and b is None:
        return None
    return (a or 0.0) - (b or 0.0)
