"""Calls to Excel and Python time per ribbon click, on the example and on a ten-times variant.

Measured with xlwings' remote engine (``xw.Book(json=...)``), which runs the real xlwings object
model without Excel and records every call to Excel as an action; the number of actions is the
number of round trips the add-in makes. Python time is the click's own time (read the payload,
run the engine, build the actions), the median of several runs; Excel's time to apply the actions
is not included. Writes the table into benchmarks/README.md under "Excel add-in".

    .venv/bin/python benchmarks/excel_calls.py
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import xlreport.doors.excel as door
from support.excel_payload import payload, read_sheets, remote_book, times_units

HEADING = "## Excel add-in"
RUNS = 7


def measure(button: str, sheets: dict) -> tuple[int, float, int]:
    """(actions, median seconds, findings) for one button on one workbook."""
    data = payload(sheets)
    times, n_actions, n_findings = [], None, 0
    for _ in range(RUNS):
        book = remote_book(data)
        started = time.perf_counter()
        result = door.ENTRY_POINTS[button](book=book)
        times.append(time.perf_counter() - started)
        if result.failed:
            raise SystemExit(f"{button}: {result.message}")
        n_actions, n_findings = len(book.json()["actions"]), len(result.findings)
    return n_actions, statistics.median(times), n_findings


def table() -> str:
    base = read_sheets()
    variants = {"example (8 units)": base, "10× (80 units)": times_units(base, 10)}
    lines = ["| Button | Workbook | Calls to Excel (actions) | Python time per click |",
             "|---|---|---:|---:|"]
    for button in door.ENTRY_POINTS:
        for label, sheets in variants.items():
            actions, seconds, _ = measure(button, sheets)
            lines.append(f"| `{button}` | {label} | {actions} | {seconds * 1000:.1f} ms |")
    return "\n".join(lines)


SECTION = """{heading}

Measured by `benchmarks/excel_calls.py` with xlwings' remote engine ({version}), Python {python}.
"Calls to Excel" is the number of actions xlwings sends to Excel for one click (each a round
trip: a range read is not an action there, since the client sends the values with the request;
on desktop Excel each sheet read adds two calls, used range and values, per sheet in
`engine.SHEETS`, and each owned sheet one read of its used range). The count is the same for 8
and 80 units: deviation formulas are written one column run at a time, the owned sheets as one
block plus one call per format rectangle, per run of columns of one width, one call to reset the
row heights and one per run of neighbouring rows of one height (the wrapped table headers, and
the long messages on Kontroller), and the highlights as one `set_colors` call per sheet plus one defined
name per sheet and previous fill (the memory that gives each cell its own fill back). Python
time is the median of {runs} clicks and excludes Excel's own time to apply the actions.

{table}
"""


def update_readme(text: str) -> Path:
    readme = HERE / "README.md"
    current = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    readme.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
    return readme


def main() -> None:
    import platform

    import xlwings

    text = SECTION.format(heading=HEADING, version=f"xlwings {xlwings.__version__}",
                          python=platform.python_version(), runs=RUNS, table=table())
    print(text)
    print(f"Wrote {update_readme(text)}")


if __name__ == "__main__":
    main()
