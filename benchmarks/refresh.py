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
import sys
import tempfile
from pathlib import Path

import procs  # benchmarks/procs.py
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


def measure(path: Path, work: Path, repeat: int) -> dict[str, float]:
    """Median wall time of each command, a fresh process each time (``procs.run``: fork to exit).

    The commands run in rounds, one of each per round, so that every floor is measured at the
    same moments as the tool (this machine's speed drifts by tens of percent within minutes).
    ``refresh`` and ``validate`` are ``python -m xlreport ...``; ``refresh_cli`` and
    ``validate_cli`` the installed ``xlreport`` command, as a finance office runs it (the same
    code without ``runpy``, which ``python -m`` imports to find the package).
    """
    py = sys.executable
    cli = str(Path(py).parent / ("xlreport.exe" if sys.platform == "win32" else "xlreport"))
    out = work / f"{path.stem}-out.xlsx"
    sheets = "|".join(SHEETS)
    commands = {
        "refresh": [py, "-m", "xlreport", "refresh", str(path), "-o", str(out)],
        "refresh_cli": [cli, "refresh", str(path), "-o", str(out)],
        "validate": [py, "-m", "xlreport", "validate", str(path)],
        "validate_cli": [cli, "validate", str(path)],
        "calamine": [py, "-c", CALAMINE, str(path)],
        "calamine7": [py, "-c", CALAMINE_SAME, str(path), sheets],
        "python": [py, "-c", "pass"],
        "openpyxl": [py, "-c", OPENPYXL, str(path), str(work / "openpyxl.xlsx")],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for i in range(repeat):
        for key, cmd in commands.items():
            if key == "openpyxl" and i >= max(1, repeat // 2):
                continue
            times[key].append(procs.run(cmd).seconds)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--no-readme", action="store_true", help="print only, do not update README.md")
    args = ap.parse_args(argv)

    # Byte-compile the sources first, as `pip install` does, and run every child without
    # PYTHONDONTWRITEBYTECODE (this machine sets it): see procs.py.
    procs.prepare()

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
         f"{platform.python_version()}; median of {args.repeat} runs, each a fresh process, the commands "
         f"interleaved (openpyxl {max(1, args.repeat // 2)} runs); load average {procs.load()} at the end."),
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
         "validate / python | `xlreport refresh` / python | `xlreport validate` / python |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, _size, m in rows:
        table.append(f"| {label} | {m['calamine7']:.3f} s | {m['python']:.3f} s | "
                     f"{m['refresh'] / m['calamine7']:.1f}× | {m['refresh'] / m['python']:.1f}× | "
                     f"{m['validate'] / m['python']:.1f}× | {m['refresh_cli'] / m['python']:.1f}× | "
                     f"{m['validate_cli'] / m['python']:.1f}× |")
    small_m = rows[0][2]

    def verdict(ratio: float, target: float) -> str:
        return f"**{ratio:.1f}×, {'met' if ratio <= target else 'not met'}**"

    table += [
        "",
        ("Issue 15's targets, for `python -m xlreport` (the `xlreport` command in brackets): refresh of the "
         f"example ≤ 8× `python -c pass` — {verdict(small_m['refresh'] / small_m['python'], 8)} "
         f"({small_m['refresh_cli'] / small_m['python']:.1f}×); validate ≤ 6× — "
         f"{verdict(small_m['validate'] / small_m['python'], 6)} ({small_m['validate_cli'] / small_m['python']:.1f}×); "
         f"the 50,000-row refresh ≤ 4× the same-7-sheets floor — {verdict(big['refresh'] / big['calamine7'], 4)}."),
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
