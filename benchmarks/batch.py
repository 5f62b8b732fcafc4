"""Batch refresh, consolidation and start-up, measured as whole processes.

    .venv/bin/python benchmarks/batch.py [--units 200] [--repeat 3]

Generates N unit workbooks (stamped from workbooks/mall.xlsx, filled with figures), then times:

* ``xlreport refresh DIR --jobs 1`` and ``--jobs 2`` on fresh copies (wall time, best of R);
* one ``xlreport refresh FILE`` (best of R), for the per-file cost against the batch;
* reading the N files' tables only (a process that runs read_grids + read_report on each);
* ``xlreport consolidate DIR -o NÄMND.xlsx`` (default jobs, and --jobs 1);
* ``xlreport --help`` (best of 10).

Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
TEMPLATE = REPO / "workbooks" / "mall.xlsx"

READ_ONLY = """
import sys
from pathlib import Path
from xlreport.core.engine import SHEETS
from xlreport.doors.file import read_grids
from xlreport.core.reader import read_report
for p in sorted(Path(sys.argv[1]).glob('*.xlsx')):
    names, grids = read_grids(p, SHEETS)
    read_report(grids, names)
"""


def make_units(folder: Path, n: int) -> list[str]:
    sys.path.insert(0, str(REPO / "tests"))
    from support.fill import fill_unit  # test support: fills a stamped unit as its staff would
    from xlreport.core import layout as L
    from xlreport.departments import new_many

    names = [f"Enhet {i:03d}" for i in range(n)]
    for i, m in enumerate(new_many(names, "2020-03", TEMPLATE, folder, kommun="Eskilstuna kommun",
                                   namnd="Kommunstyrelsen", rapport="Delårsrapport 1")):
        fill_unit(m.path, {L.COL_AVV_FG: 0.1 * (i % 7), L.COL_UTFALL: -10.0 - i * 0.37, L.COL_BUDGET: -11.0 - i * 0.35,
                           L.COL_BUDGET_HELAR: -44.0 - i, L.COL_PROGNOS: -43.5 - i})
    return names


def timed(args: list[str], repeat: int = 1, setup=None) -> float:
    best = float("inf")
    for _ in range(repeat):
        if setup:
            setup()
        t = time.perf_counter()
        proc = subprocess.run(args, check=False, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{args} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)

    # Byte-compile the sources first, as `pip install` does: this machine sets
    # PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise compile every module
    # in every process and the timings would measure the compiler, not the tool.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=True,
                   stdout=subprocess.DEVNULL)
    n, r = a.units, a.repeat
    xl = [PY, "-m", "xlreport"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        master = tmp / "enheter"
        names = make_units(master, n)
        (tmp / "lista.txt").write_text("\n".join(names), encoding="utf-8")
        work = tmp / "arbete"

        def fresh():
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(master, work)

        jobs1 = timed([*xl, "refresh", str(work), "--jobs", "1"], r, fresh)
        jobs2 = timed([*xl, "refresh", str(work), "--jobs", "2"], r, fresh)
        one = tmp / "en.xlsx"
        single = timed([*xl, "refresh", str(one)], r, lambda: shutil.copyfile(master / "Enhet_000.xlsx", one))
        read_only = timed([PY, "-c", READ_ONLY, str(master)], r)
        cons = timed([*xl, "consolidate", str(master), "--units", str(tmp / "lista.txt"), "-o",
                      str(tmp / "namnd.xlsx")], r)
        cons1 = timed([*xl, "consolidate", str(master), "--units", str(tmp / "lista.txt"), "-o",
                       str(tmp / "namnd1.xlsx"), "--jobs", "1"], r)
        helps = timed([*xl, "--help"], 10)
        script = timed([str(Path(PY).parent / "xlreport"), "--help"], 10) if (Path(PY).parent / "xlreport").exists() \
            else helps
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {n} unit workbooks, best of {r}.\n")
    print("| Measurement | Time | Target |")
    print("|---|---:|---|")
    print(f"| refresh {n} files, --jobs 1 | {jobs1:.2f} s ({jobs1 / n * 1000:.1f} ms/file) | |")
    print(f"| refresh {n} files, --jobs 2 | {jobs2:.2f} s ({jobs2 / n * 1000:.1f} ms/file) | "
          f"speed-up {jobs1 / jobs2:.2f}× (target ≥ 1.8×) |")
    print(f"| refresh 1 file (one process) | {single:.3f} s | batch per file: {jobs1 / n / single:.2f}× of it |")
    print(f"| read the {n} files' tables only | {read_only:.2f} s | |")
    print(f"| consolidate {n} units (default jobs) | {cons:.2f} s | {cons / read_only:.2f}× reading (target < 1.5×) |")
    print(f"| consolidate {n} units, --jobs 1 | {cons1:.2f} s | {cons1 / read_only:.2f}× reading |")
    print(f"| `python -m xlreport --help` | {helps * 1000:.0f} ms | |")
    print(f"| `xlreport --help` (console script) | {script * 1000:.0f} ms | target < 200 ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
