"""A ribbon click as Excel starts it: a fresh process running "Uppdatera allt" (issue 15).

    .venv/bin/python benchmarks/click.py [--repeat 9] [--warm 15] [--no-readme]

xlwings' ``RunPython`` (without the persistent-process option) starts a new interpreter for every
click: ``python -B -c "import xlwings.utils; ...; import xlreport.doors.excel as door;
door.klick('uppdatera_allt', ADDIN, XLWINGS_VBA)"``. This script runs that command line, with
one difference: there is no Excel, so the workbook comes from xlwings' remote engine
(``xw.Book(json=payload)``), the payload built from the worked example by
``tests/support/excel_payload.py`` (as benchmarks/excel_calls.py does) and read from a JSON file
by the child. That read is timed inside the child and reported on its own, as are the imports.

Measured, each a fresh process through procs.py's launcher, interleaved run by run:

* the click (whole process: start-up, imports, the payload, the click; exit 0 and a click that
  did not fail required);
* the floors ``python -c pass`` and ``python -B -c "import xlwings"`` (what any click costs
  before xlreport runs);
* a what-if: the same click with pandas and numpy hidden (as if not installed), to show how
  much of the click is xlwings importing them;
* the warm click, as xlwings' persistent-process option gives: in one process, a first click,
  then --warm more clicks each on a fresh book from the payload; the median of those clicks'
  own time (``door.klick`` only; building the book from the payload is reported separately).

Targets (issue 15): the fresh click ≤ 0.15 s, or the warm click ≤ 0.05 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import procs
from readme import write_section

sys.path.insert(0, str(procs.ROOT / "tests"))

TARGET_FRESH = 0.15
TARGET_WARM = 0.05

# A what-if, to show what dominates: the same click as if pandas and numpy were not installed
# (xlwings imports both whenever it finds them; an import of a module set to None fails).
HIDE = "import sys; sys.modules['pandas'] = None; sys.modules['numpy'] = None\n"

# argv: payload file, add-in version, xlwings version, warm clicks; prints the phases as JSON.
CLICK = """
import time
t0 = time.perf_counter()
import os, sys
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
import xlwings.utils
t1 = time.perf_counter()
import xlreport.doors.excel as door
t2 = time.perf_counter()
import json
import xlwings as xw

def book():
    with open(sys.argv[1], encoding="utf-8") as f:
        return xw.Book(json=json.load(f))

b = book()
t3 = time.perf_counter()
r = door.klick("uppdatera_allt", sys.argv[2], sys.argv[3], book=b)
t4 = time.perf_counter()
if r.failed or r.findings and any(f.is_error for f in r.findings):
    sys.exit("click failed: " + r.message)
warm, books = [], []
for _ in range(int(sys.argv[4])):
    s = time.perf_counter()
    b = book()
    m = time.perf_counter()
    r = door.klick("uppdatera_allt", sys.argv[2], sys.argv[3], book=b)
    warm.append(time.perf_counter() - m)
    books.append(m - s)
    if r.failed:
        sys.exit("warm click failed: " + r.message)
print(json.dumps({"xlwings": t1 - t0, "door": t2 - t1, "payload": t3 - t2, "click": t4 - t3,
                  "actions": len(b.json()["actions"]), "warm": warm, "books": books}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--warm", type=int, default=15)
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args(argv)

    # xlwings registers its remote engine on import: the licence key must be set first (see
    # tests/support/excel_payload.py, which sets the same key on import).
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings

    import xlreport
    from support.excel_payload import example_payload

    procs.prepare()
    load_before = procs.load()
    with tempfile.TemporaryDirectory(prefix="xlreport-click-") as tmp:
        data = Path(tmp) / "payload.json"
        data.write_text(json.dumps(example_payload()), encoding="utf-8")
        click = [procs.PY, "-B", "-c", CLICK, str(data), xlreport.__version__, xlwings.__version__]
        hidden = [procs.PY, "-B", "-c", HIDE + CLICK, *click[4:]]
        runs = {"click": [], "pass": [], "xlwings": [], "hidden": []}
        phases = []
        for _ in range(a.repeat):
            r = procs.run([*click, "0"])
            runs["click"].append(r)
            phases.append(json.loads(r.stdout))
            runs["pass"].append(procs.run([procs.PY, "-c", "pass"]))
            runs["xlwings"].append(procs.run([procs.PY, "-B", "-c", "import xlwings.utils"]))
            runs["hidden"].append(procs.run([*hidden, "0"]))
        warm_run = json.loads(procs.run([*click, str(a.warm)]).stdout)
    s = {k: procs.Sample(v) for k, v in runs.items()}
    fresh, py, xw_floor = s["click"].median, s["pass"].median, s["xlwings"].median
    warm = statistics.median(warm_run["warm"])
    book = statistics.median(warm_run["books"])

    rest = statistics.median(r.seconds - sum(p[k] for k in ("xlwings", "door", "payload", "click"))
                             for r, p in zip(runs["click"], phases))

    def ph(key: str) -> float:
        return statistics.median(p[key] for p in phases) * 1000

    lines = [
        (f"Measured {dt.date.today().isoformat()} on {procs.machine()}, xlwings {xlwings.__version__} "
         f"(remote engine); load average {load_before} at the start, {procs.load()} at the end. Median of "
         f"{a.repeat} fresh processes each, the click and its floors interleaved; the warm click the median "
         f"of {a.warm} clicks after a first one in the same process. {procs.COMPILED_NOTE}"),
        "",
        "| measurement | median | range | / `python -c pass` | target |",
        "|---|---:|---:|---:|---|",
        (f"| fresh click, \"Uppdatera allt\", whole process | {fresh * 1000:.0f} ms | "
         f"{s['click'].low * 1000:.0f}–{s['click'].high * 1000:.0f} ms | {fresh / py:.1f}× | "
         f"≤ {TARGET_FRESH * 1000:.0f} ms |"),
        (f"| — of which `import xlwings.utils` (in the child) | {ph('xlwings'):.0f} ms | | | |"),
        (f"| — of which `import xlreport.doors.excel` | {ph('door'):.0f} ms | | | |"),
        (f"| — of which reading the payload into a remote-engine book (no Excel: stands in for the "
         f"sheet reads) | {ph('payload'):.0f} ms | | | |"),
        (f"| — of which `door.klick(...)` ({phases[0]['actions']} actions to Excel) | {ph('click'):.0f} ms | | | |"),
        (f"| — the rest: interpreter start-up and exit (whole process − the phases above) | "
         f"{rest * 1000:.0f} ms | | | |"),
        (f"| floor: `python -c pass` | {py * 1000:.0f} ms | {s['pass'].low * 1000:.0f}–"
         f"{s['pass'].high * 1000:.0f} ms | 1.0× | |"),
        (f"| floor: `python -B -c \"import xlwings.utils\"` | {xw_floor * 1000:.0f} ms | "
         f"{s['xlwings'].low * 1000:.0f}–{s['xlwings'].high * 1000:.0f} ms | {xw_floor / py:.1f}× | |"),
        (f"| what-if: the fresh click with pandas and numpy hidden from xlwings | "
         f"{s['hidden'].median * 1000:.0f} ms | {s['hidden'].low * 1000:.0f}–{s['hidden'].high * 1000:.0f} ms | "
         f"{s['hidden'].median / py:.1f}× | |"),
        (f"| warm click (persistent process), `door.klick` | {warm * 1000:.1f} ms | "
         f"{min(warm_run['warm']) * 1000:.1f}–{max(warm_run['warm']) * 1000:.1f} ms | | "
         f"≤ {TARGET_WARM * 1000:.0f} ms |"),
        f"| — building that click's book from the payload (not part of a real click) | {book * 1000:.1f} ms | | | |",
        "",
        (f"Fresh click ≤ {TARGET_FRESH:g} s — **{fresh:.3f} s, {'met' if fresh <= TARGET_FRESH else 'not met'}**"
         f" ({fresh - xw_floor:.3f} s above the xlwings import floor); warm click ≤ {TARGET_WARM:g} s — "
         f"**{warm:.3f} s, {'met' if warm <= TARGET_WARM else 'not met'}**. The target is met when either is: "
         f"**{'met' if fresh <= TARGET_FRESH or warm <= TARGET_WARM else 'not met'}**."),
    ]
    text = "\n".join(lines)
    print(text)
    if not a.no_readme:
        write_section("click", "A simulated ribbon click (issue 15)", "click.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
