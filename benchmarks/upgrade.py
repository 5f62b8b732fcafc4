"""Growth curve: `xlreport upgrade` of a 0.9 workbook with a ledger of 10k to 200k rows (issue 15).

    .venv/bin/python benchmarks/upgrade.py [--rows 10000,20000,50000,100000,200000] [--repeat 3]
                                           [--no-readme]

Each workbook is the 0.9 example (workbooks/build.py ``build_legacy_example``, the fixture the
upgrade tests use) plus the user's own ledger sheet ("Huvudbok", refresh.py's ``ledger``), which
upgrade copies into the new template as XML: its cells restyled, its shared strings made inline.
Per size, each a fresh process through procs.py's launcher (wall time, CPU time and peak RSS):
``python -m xlreport upgrade FILE -o OUT`` and the floor, python-calamine reading every sheet of
the workbook (refresh.py's ``CALAMINE``: upgrade must at least go through every cell of the
ledger), interleaved run by run, in rounds. Growth is judged as growth.py judges it.

No issue sets a number for upgrade. What this guards is the growth: an upgrade used to read every
sheet's values (the ledger's too) and copy the ledger through an lxml tree of its cells, which cost
941 MiB and 22 s at 100,000 rows, and would not have fitted a laptop's memory at 500,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

import procs
from growth import curve_lines, judge
from readme import write_section
from refresh import CALAMINE, _build_module, ledger

MIB = 1024 * 1024


def build(path: Path, rows: int) -> Path:
    """The 0.9 example with a ledger of ``rows`` rows as a sheet of the user's own."""
    b = _build_module()
    add, plain_build = ledger(rows), b._build

    def with_ledger(out, data, extra, layout):
        def both(wb):
            extra(wb)
            add(wb)
        return plain_build(out, data, both, layout)

    b._build = with_ledger
    try:
        return b.build_legacy_example(path)
    finally:
        b._build = plain_build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="10000,20000,50000,100000,200000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args(argv)
    sizes = sorted({int(s) for s in a.rows.split(",") if s.strip()})

    procs.prepare()
    load_before = procs.load()
    work = Path(tempfile.mkdtemp(prefix="xlreport-upgrade-"))
    results = []
    try:
        paths = {n: build(work / f"gammal_{n}.xlsx", n) for n in sizes}
        out = work / "ny.xlsx"
        tool: dict[int, list] = {n: [] for n in sizes}
        floor: dict[int, list] = {n: [] for n in sizes}
        for _ in range(a.repeat):
            for n in sizes:
                out.unlink(missing_ok=True)
                tool[n].append(procs.run(procs.xlreport("upgrade", paths[n], "-o", out), timeout=1800))
                if not out.exists() or "egna blad: " not in tool[n][-1].stdout or "Huvudbok" not in tool[n][-1].stdout:
                    raise SystemExit(f"upgrade of {paths[n].name} did not carry the ledger:\n{tool[n][-1].stdout}")
                floor[n].append(procs.run([procs.PY, "-c", CALAMINE, str(paths[n])]))
        for n in sizes:
            r, f = procs.Sample(tool[n]), procs.Sample(floor[n])
            results.append((n, paths[n].stat().st_size, r, f))
            print(f"{n:>7,} rows: upgrade {r.median:.3f} s, {r.max_rss / MIB:.0f} MiB; calamine {f.median:.3f} s",
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    curves = {
        "Wall time": judge([(n, r.median) for n, _, r, _ in results]),
        "CPU time": judge([(n, r.cpu) for n, _, r, _ in results]),
        "Peak RSS": judge([(n, r.max_rss / MIB) for n, _, r, _ in results]),
    }
    wall, cpu, rss = curves.values()
    lines = [
        (f"Measured {dt.date.today().isoformat()} on {procs.machine()}; load average {load_before} at the "
         f"start, {procs.load()} at the end. Each run a fresh process (fork/wait4 launcher), median of "
         f"{a.repeat} runs, in rounds, the tool and its floor interleaved. {procs.COMPILED_NOTE}"),
        "",
        ("| ledger rows | file | upgrade (median, range) | CPU | peak RSS | calamine, every sheet | "
         "upgrade / floor | step / fitted slope (wall, CPU, RSS) |"),
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, (n, size, r, f) in enumerate(results):
        step = "" if i == 0 else f"{wall[2][i - 1]:.2f}×, {cpu[2][i - 1]:.2f}×, {rss[2][i - 1]:.2f}×"
        lines.append(f"| {n:,} | {size / 1e6:.1f} MB | {r.median:.2f} s ({r.low:.2f}–{r.high:.2f}) | {r.cpu:.2f} s "
                     f"| {r.max_rss / MIB:.0f} MiB | {f.median:.2f} s | {r.median / f.median:.2f}× | {step} |")
    lines += [
        "",
        (f"Fitted slopes: {wall[3] * 1000:.0f} ms wall, {cpu[3] * 1000:.0f} ms CPU and {rss[3]:.1f} MiB per "
         f"10,000 ledger rows."),
        "",
    ]
    lines += curve_lines(curves, targets=False)
    text = "\n".join(lines)
    print(text)
    if not a.no_readme:
        write_section("upgrade", "Upgrade with the user's own ledger (issue 15)", "upgrade.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
