"""How each named style of a change set looks: one specification, rendered by every door.

The file door turns a :class:`StyleSpec` into an ``xf`` record of styles.xml
(:mod:`xlreport.ooxml.styles`); the Excel door into range attributes set through xlwings
(:data:`xlreport.doors.excel.STYLE_ATTRIBUTES`). A test renders both and compares them.
"""

from __future__ import annotations

from ..records import Record, fields
from .changes import NUMBER_FORMATS, STYLES, WRAP_STYLES

RED = "FFC00000"
ORANGE = "FFC65911"
LINK_BLUE = "FF0563C1"
TITLE_SIZE = 14
HEADING_SIZE = 12


class StyleSpec(Record, frozen=True):
    bold: bool = False
    size: float | None = None  # None: the workbook's default font size
    color: str | None = None  # font colour, ARGB ("FFC00000")
    underline: bool = False
    number_format: str | None = None
    bottom_border: bool = False  # a thin line under the cell
    wrap: bool = False  # text wraps within the cell, aligned to the top

    def attributes(self) -> dict[str, object]:
        """The attributes that differ from plain text, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (False, None)}


SPECS: dict[str, StyleSpec] = {
    "text": StyleSpec(),
    "title": StyleSpec(bold=True, size=TITLE_SIZE),
    "heading": StyleSpec(bold=True, size=HEADING_SIZE),
    "header": StyleSpec(bold=True, bottom_border=True, wrap=True),
    "mnkr": StyleSpec(number_format=NUMBER_FORMATS["mnkr"]),
    "mnkr_bold": StyleSpec(bold=True, number_format=NUMBER_FORMATS["mnkr_bold"]),
    "percent": StyleSpec(number_format=NUMBER_FORMATS["percent"]),
    "integer": StyleSpec(number_format=NUMBER_FORMATS["integer"]),
    "integer_bold": StyleSpec(bold=True, number_format=NUMBER_FORMATS["integer_bold"]),
    "link": StyleSpec(underline=True, color=LINK_BLUE),
    "error": StyleSpec(bold=True, color=RED),
    "warning": StyleSpec(bold=True, color=ORANGE),
    "wrap": StyleSpec(wrap=True),
}
assert set(SPECS) == set(STYLES), "every named style needs a spec"
assert {name for name, spec in SPECS.items() if spec.wrap} == WRAP_STYLES
