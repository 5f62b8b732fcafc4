"""What the engine asks an adapter to change: the one interface every door implements.

The engine never touches a file or Excel. It returns a :class:`ChangeSet`:

* ``writes``: single cells in the user's sheets (the deviation formulas), each with the
  formula and the value a calculating program would cache for it. The adapter keeps the
  cell's existing formatting.
* ``sheets``: whole sheets the tool owns (``Rapport``, ``Kontroller``). The adapter replaces
  the sheet's content with exactly this, creating the sheet if it is missing.
* ``marks``: finding cells to colour, for a door a person is looking at (the Excel door).

Styles are named, not specified: each door maps a :data:`Style` to its own formatting
(an ``xf`` record in styles.xml, or an xlwings ``number_format``/``font``).
"""

from __future__ import annotations

from ..records import Record, field
from .cells import a1, col_letter, quote_sheet

Value = float | int | str | bool | None  # a runtime alias

Style = str  # one of STYLES (a Literal of them would need typing, which no command imports any more)

STYLES: tuple[str, ...] = (
    "text",  # plain text
    "title",  # sheet title: bold, larger
    "heading",  # section heading: bold
    "header",  # table header cell: bold, bottom border
    "mnkr",  # amount, one decimal: # ##0,0 with a minus sign
    "mnkr_bold",  # amount in a total row
    "percent",  # percentage points, one decimal (values like 2.5 meaning 2,5 %)
    "integer",  # counts
    "integer_bold",
    "link",  # hyperlink text
    "error",  # severity "fel"
    "warning",  # severity "varning"
    "wrap",  # long text that wraps in a wide column
)

# The styles whose text wraps within its cell. Every door wraps exactly these, and
# :func:`xlreport.core.generate.row_heights` gives the rows that hold them their height.
WRAP_STYLES: frozenset[str] = frozenset({"header", "wrap"})

# Excel number formats for the numeric styles (the minus is U+2212, as in print).
NUMBER_FORMATS = {
    "mnkr": '#,##0.0;"\u2212"#,##0.0;0.0',
    "mnkr_bold": '#,##0.0;"\u2212"#,##0.0;0.0',
    "percent": '0.0;"\u2212"0.0;0.0',
    "integer": '#,##0;"\u2212"#,##0;0',
    "integer_bold": '#,##0;"\u2212"#,##0;0',
}


class CellWrite(Record, frozen=True):
    """Put ``value`` (and ``formula``, when given) into one cell of a user sheet.

    ``formula`` is Excel A1 syntax without the leading "=", e.g. ``"C5-D5"``; ``value`` is then
    the cached result. A ``str`` value is always written as text, never as a formula, whatever
    it starts with.
    """

    sheet: str
    row: int  # 0-based
    col: int  # 0-based
    value: Value
    formula: str | None = None

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)


class Cell(Record, frozen=True):
    value: Value
    style: Style = "text"
    link: str | None = None  # internal target, e.g. "'Resultaträkning'!E5"


# --- print layout of an owned sheet ------------------------------------------------------


class Area(Record, frozen=True):
    """A rectangle of cells, 0-based and inclusive: rows top..bottom, columns left..right."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def a1(self) -> str:
        first, last = a1(self.top, self.left), a1(self.bottom, self.right)
        return first if first == last else f"{first}:{last}"

    def absolute(self, sheet: str) -> str:
        """``'Rapport'!$B$5:$B$12``: the area as a chart or a defined name refers to it."""
        corners = [(self.top, self.left), (self.bottom, self.right)]
        if corners[0] == corners[1]:
            corners = corners[:1]
        refs = ":".join(f"${col_letter(c)}${r + 1}" for r, c in corners)
        return f"{quote_sheet(sheet)}!{refs}"

    def cells(self):
        """(row, col) of every cell, row by row."""
        for r in range(self.top, self.bottom + 1):
            for c in range(self.left, self.right + 1):
                yield r, c


# Excel's header and footer fields, as both the file format and Excel's object model write them.
PAGE_NUMBER = "&P"
PAGE_COUNT = "&N"


class PageLayout(Record, frozen=True):
    """How an owned sheet prints: paper, margins, scaling, repeated rows, header and footer.

    ``header`` and ``footer`` are (left, centre, right) texts; :data:`PAGE_NUMBER` and
    :data:`PAGE_COUNT` in them become the page fields. Margins are in centimetres.
    """

    portrait: bool = True
    paper: str = "A4"
    margins_cm: tuple[float, float, float, float] = (1.8, 1.8, 2.0, 2.0)  # left, right, top, bottom
    header_cm: float = 0.8  # from the paper's edge to the header (and to the footer)
    fit_to_width: bool = True  # one page wide, as many pages tall as needed
    title_rows: tuple[int, int] | None = None  # 0-based rows printed at the top of every page
    header: tuple[str, str, str] = ("", "", "")
    footer: tuple[str, str, str] = ("", "", "")

    @staticmethod
    def field_text(text: str) -> str:
        """User text for a header or footer: a literal "&" is written "&&"."""
        return text.replace("&", "&&")

    def codes(self, part: tuple[str, str, str]) -> str:
        """The header/footer code string (``&L…&C…&R…``) of ``part``."""
        return "".join(f"&{pos}{text}" for pos, text in zip("LCR", part) if text)


class ChartSeries(Record, frozen=True):
    """One series of a chart: its name and the cells of its values (a row or a column)."""

    name: str
    values: Area
    line: bool = False  # drawn as a line across the bars (a target), not as bars


class Chart(Record, frozen=True):
    """A chart drawn over ``anchor`` on an owned sheet, plotting that sheet's own cells."""

    title: str
    categories: Area
    series: tuple[ChartSeries, ...]
    anchor: Area  # the cells the chart covers, from the top-left of the first to the bottom-right of the last
    horizontal: bool = True  # bars (True) or columns
    number_format: str = "0.0"  # the value axis and the data labels
    axis_title: str = ""


class SheetContent(Record):
    """The full content of a sheet the tool owns; ``rows[r][c]`` is cell (r, c) from A1.

    ``row_heights`` holds the rows that need more than one line (a wrapping cell with a long
    text); every other row keeps the default height.

    The print layout (all optional; a door renders exactly what is set): ``merges`` are cells
    spanning several columns (a paragraph over the printed width; its first cell holds the
    text), ``page`` the page setup, ``row_breaks`` the rows that start a new printed page, and
    ``charts`` the charts drawn over the sheet from its own cells.
    """

    name: str
    rows: list[list[Cell | None]] = field(default_factory=list)
    col_widths: dict[int, float] = field(default_factory=dict)  # 0-based column -> width in chars
    row_heights: dict[int, float] = field(default_factory=dict)  # 0-based row -> height in points
    merges: list[Area] = field(default_factory=list)
    page: PageLayout | None = None
    row_breaks: list[int] = field(default_factory=list)  # 0-based rows a printed page starts with
    charts: list[Chart] = field(default_factory=list)

    def add(self, *cells: Cell | Value | None) -> None:
        """Append a row; plain values become text/number cells with the default style."""
        self.rows.append([c if isinstance(c, Cell) or c is None else Cell(c) for c in cells])

    def blank(self) -> None:
        self.rows.append([])


class Mark(Record, frozen=True):
    """A finding's cell to colour in a workbook a person is looking at (the Excel door)."""

    sheet: str
    cell: str  # A1
    severity: str  # "error" or "warning"


class ChangeSet(Record):
    writes: list[CellWrite] = field(default_factory=list)
    sheets: list[SheetContent] = field(default_factory=list)
    # None: leave the tool's marks as they are; a list (empty too): these replace the last marks.
    marks: list[Mark] | None = None

    def __bool__(self) -> bool:
        return bool(self.writes or self.sheets or self.marks is not None)

    def extend(self, other: ChangeSet) -> None:
        self.writes.extend(other.writes)
        self.sheets.extend(other.sheets)
        if other.marks is not None:
            self.marks = [*(self.marks or []), *other.marks]
