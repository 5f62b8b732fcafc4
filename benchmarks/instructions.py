"""Instructions a file: `validate` (and `refresh`) of the worked example against calamine's read (issue 15).

    .venv/bin/python benchmarks/instructions.py [--files 2 12] [--no-readme]

A time on this 2-core machine moves by a third between moments (the other core's load, the
host's), so two versions of the code can be told apart only by many alternated runs. valgrind's
callgrind counts the instructions a process executes instead: the same count for the same code
and input whatever else the machine does (here: the same total to 0.1 % across runs).

Each figure is a whole process under callgrind, run on N1 and on N2 copies of the example in one
process (as a ``--jobs 1`` batch does, ``batch.run_one`` file by file); the count a file is
(I(N2) − I(N1)) / (N2 − N1), so start-up and imports cancel out. The floor is python-calamine
opening each copy and reading its seven sheets, the same floor `batch_files.py` times.

Instructions are not time: the interpreter retires fewer instructions a cycle than calamine's
compiled loops, so the ratio in time is larger than the ratio in instructions (on this machine
about 1.4 times). The figure is for telling versions apart and for seeing where a file's work
goes; the issue's targets stay the timed ones in batch_files.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import procs
from readme import write_section
from refresh import SHEETS

EXAMPLE = procs.ROOT / "workbooks" / "exempel_kommunstyrelsen_2020_d1.xlsx"

# run in the measured process: argv = folder, number of files, what, the sheets calamine reads
_WORKER = """
import gc, sys
from pathlib import Path
gc.set_threshold(50_000, 20, 20)  # as the command sets it
files = sorted(Path(sys.argv[1]).glob("*.xlsx"))[: int(sys.argv[2])]
what = sys.argv[3]
if what == "calamine":
    import python_calamine as pc
    want = set(sys.argv[4:])
    for p in files:
        wb = pc.CalamineWorkbook.from_path(str(p))
        sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names if s in want)
else:
    from xlreport.batch import run_one
    from xlreport.core.engine import ACTIONS
    from xlreport.doors import file  # noqa: F401 - imported before the first file, as a batch does
    write = what == "refresh"
    for p in files:
        r = run_one(str(p), tuple(ACTIONS) if write else (), write)
        assert r.status == 0, r.findings
"""


def instructions(n: int, what: str) -> int:
    """The instructions of one whole process handling ``n`` fresh copies of the example (callgrind's total)."""
    with tempfile.TemporaryDirectory(prefix="xlreport-instructions-") as tmp:
        for i in range(n):
            shutil.copyfile(EXAMPLE, Path(tmp) / f"enhet_{i:03d}.xlsx")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", procs.PY, "-c",
                               _WORKER, tmp, str(n), what, *SHEETS], capture_output=True, text=True,
                              env={**procs.ENV, "PYTHONPATH": str(procs.ROOT / "src")}, check=False)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"callgrind run of {what} on {n} files failed:\n{proc.stderr[-3000:]}")
    return int(m.group(1))


def per_file(n1: int, n2: int, what: str) -> float:
    return (instructions(n2, what) - instructions(n1, what)) / (n2 - n1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, nargs=2, default=(2, 12), metavar=("N1", "N2"))
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args(argv)
    n1, n2 = a.files
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    procs.prepare()
    rows = {what: per_file(n1, n2, what) for what in ("calamine", "validate", "refresh")}
    floor = rows["calamine"]
    lines = [
        (f"Measured {dt.date.today().isoformat()} on {procs.machine()} with callgrind: instructions a file, "
         f"(I({n2} files) − I({n1} files)) / {n2 - n1}, each a whole process handling the copies one "
         f"after another. {procs.COMPILED_NOTE}"),
        "",
        "| in one process, a file | instructions | / calamine |",
        "|---|---:|---:|",
    ]
    for what, label in (("calamine", "calamine reading the seven sheets (the floor)"),
                        ("validate", "`batch.run_one`, validate"), ("refresh", "`batch.run_one`, refresh")):
        lines.append(f"| {label} | {rows[what] / 1e6:.2f} M | {rows[what] / floor:.2f}× |")
    text = "\n".join(lines)
    print(text)
    if not a.no_readme:
        write_section("instructions", "Instructions a file, counted by callgrind (issue 15)", "instructions.py",
                      text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
