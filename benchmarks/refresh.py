"""Time `xlreport refresh` against two floors, as whole processes, and record the ratios.

Workbooks: the worked example, and the example with a 50,000-row ledger sheet ("Huvudbok")
added, a sheet the tool carries but does not own. Floors, measured in the same run and the
same way (a fresh process each time, start-up included):

* calamine read: python-calamine reads every sheet of the same file (the least any tool that
  looks at the workbook must do);
* openpyxl load+save: what a tool that re-saves the workbook through openpyxl costs.

Targets (issue 2), on the large variant: refresh <= 1.5 x the calamine floor, and at least
8 x faster than openpyxl load+save.

    python benchmarks/refresh.py [--repeat 5] [--rows 50000] [--no-readme]

Writes its table between the markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readme import write_section  # benchmarks/readme.py: the scripts run from benchmarks/

ROOT = Path(__file__).resolve().parent.parent

CALAMINE = """
import sys, python_calamine as pc
wb = pc.CalamineWorkbook.from_path(sys.argv[1])
n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
"""
# The template's sheets that refresh reads (xlreport.core.layout.REQUIRED_SHEETS).
SHEETS = ("Uppgifter", "Resultaträkning", "Driftredovisning", "Avvikelseförklaring", "Personal", "Sjukfrånvaro",
          "Åtaganden")
# calamine reading only the sheets refresh reads (the template's seven), as refresh must at least
CALAMINE_SAME = """
import sys, python_calamine as pc
wb = pc.CalamineWorkbook.from_path(sys.argv[1])
want = sys.argv[2].split("|")
n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names if s in want)
"""
OPENPYXL = """
import sys, openpyxl

wb = openpyxl.load_workbook(sys.argv[1])
wb.save(sys.argv[2])
"""


def _build_module():
    spec = importlib.util.spec_from_file_location("wb_build", ROOT / "workbooks" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ledger(rows: int):
    """An `extra` hook for build_example: a ledger sheet of ``rows`` transactions."""

    def add(wb) -> None:
        rnd = random.Random(2020)
        ws = wb.add_worksheet("Huvudbok")
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        money = wb.add_format({"num_format": "#,##0.00"})
        ws.write_row(0, 0, ["Datum", "Verifikation", "Konto", "Ansvar", "Verksamhet", "Text", "Belopp"])
        start = dt.date(2020, 1, 1)
        for r in range(1, rows + 1):
            ws.write_datetime(r, 0, dt.datetime.combine(start + dt.timedelta(days=rnd.randrange(90)),
                                                         dt.time()), date_fmt)
            ws.write_string(r, 1, f"V{100000 + r}")
            ws.write_number(r, 2, rnd.choice((3010, 4010, 5010, 6110, 7010, 7610)))
            ws.write_number(r, 3, rnd.randrange(1000, 1100))
            ws.write_string(r, 4, rnd.choice(("Ledning", "Ekonomi", "HR", "Välfärd", "Näringsliv", "IT")))
            ws.write_string(r, 5, f"Faktura {rnd.randrange(10**6)}")
            ws.write_number(r, 6, round(rnd.uniform(-50000, 50000), 2), money)
    return add


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall time of ``cmd`` run as a fresh process ``repeat`` times."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(path: Path, work: Path, repeat: int) -> dict[str, float]:
    py = sys.executable
    out = work / f"{path.stem}-out.xlsx"
    sheets = "|".join(SHEETS)
    return {
        "refresh": timed([py, "-m", "xlreport", "refresh", str(path), "-o", str(out)], repeat),
        "validate": timed([py, "-m", "xlreport", "validate", str(path)], repeat),
        "calamine": timed([py, "-c", CALAMINE, str(path)], repeat),
        "calamine7": timed([py, "-c", CALAMINE_SAME, str(path), sheets], repeat),
        "python": timed([py, "-c", "pass"], repeat),
        "openpyxl": timed([py, "-c", OPENPYXL, str(path), str(work / "openpyxl.xlsx")], max(1, repeat // 2)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--no-readme", action="store_true", help="print only, do not update README.md")
    args = ap.parse_args(argv)

    # Byte-compile the sources first, as `pip install` does: this machine sets
    # PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise compile every module
    # in every process and the timings would measure the compiler, not the tool.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True,
                   stdout=subprocess.DEVNULL)

    build = _build_module()
    work = Path(tempfile.mkdtemp(prefix="xlreport-bench-"))
    try:
        small = build.build_example(work / "exempel.xlsx")
        large = build.build_example(work / f"exempel_huvudbok_{args.rows}.xlsx", extra=ledger(args.rows))
        rows = []
        for label, path in (("exempel", small), (f"exempel + huvudbok {args.rows:,} rader", large)):
            m = measure(path, work, args.repeat)
            rows.append((label, path.stat().st_size, m))
            print(f"{label}: refresh {m['refresh']:.3f} s, calamine {m['calamine']:.3f} s, "
                  f"openpyxl {m['openpyxl']:.3f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    _, _, big = rows[-1]
    vs_calamine = big["refresh"] / big["calamine"]
    vs_openpyxl = big["openpyxl"] / big["refresh"]
    table = [
        (f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {_cpus()} cores, Python "
         f"{platform.python_version()}; median of {args.repeat} runs, each a fresh process."),
        "",
        ("| workbook | size | refresh | calamine read (floor) | openpyxl load+save | refresh / calamine "
         "| openpyxl / refresh |"),
        "|---|---|---|---|---|---|---|",
    ]
    for label, size, m in rows:
        table.append(f"| {label} | {size / 1e6:.1f} MB | {m['refresh']:.3f} s | {m['calamine']:.3f} s | "
                     f"{m['openpyxl']:.3f} s | {m['refresh'] / m['calamine']:.2f}× | "
                     f"{m['openpyxl'] / m['refresh']:.1f}× |")
    table += [
        "",
        (f"Targets on the large variant: refresh ≤ 1.5× the calamine floor — **{vs_calamine:.2f}×, "
         f"{'met' if vs_calamine <= 1.5 else 'NOT met'}**; at least 8× faster than openpyxl — "
         f"**{vs_openpyxl:.1f}×, {'met' if vs_openpyxl >= 8 else 'NOT met'}**."),
        "",
        "The same runs against the stricter floors (issue 15): python-calamine reading only the seven",
        "sheets refresh reads, and an empty Python process.",
        "",
        ("| workbook | calamine, same 7 sheets | `python -c pass` | refresh / same 7 | refresh / python | "
         "validate / python |"),
        "|---|---|---|---|---|---|",
    ]
    for label, _size, m in rows:
        table.append(f"| {label} | {m['calamine7']:.3f} s | {m['python']:.3f} s | "
                     f"{m['refresh'] / m['calamine7']:.1f}× | {m['refresh'] / m['python']:.1f}× | "
                     f"{m['validate'] / m['python']:.1f}× |")
    small_m = rows[0][2]
    table += [
        "",
        (f"Issue 15's targets: refresh of the example ≤ 8× `python -c pass` — "
         f"**{small_m['refresh'] / small_m['python']:.1f}×**; validate ≤ 6× — "
         f"**{small_m['validate'] / small_m['python']:.1f}×**; the 50,000-row refresh ≤ 4× the same-7-sheets "
         f"floor — **{big['refresh'] / big['calamine7']:.1f}×**."),
    ]
    text = "\n".join(table)
    print(text)
    if not args.no_readme:
        write_section("refresh", "Refresh (issue 2)", "refresh.py", text)
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
