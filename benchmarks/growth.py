"""Growth curve: `xlreport refresh` on the example with a ledger of 10k to 500k rows (issue 15).

    .venv/bin/python benchmarks/growth.py [--rows 10000,20000,50000,100000,200000,500000]
                                          [--repeat 5] [--big-repeat 3] [--no-readme]

Each workbook is the worked example plus a ledger sheet ("Huvudbok", built by refresh.py's
``ledger``), a sheet refresh carries but does not read. Per size, each a fresh process through
procs.py's launcher (the command's own wall time and peak RSS): ``python -m xlreport refresh FILE
-o OUT`` and the floor, python-calamine reading the same seven sheets refresh reads (refresh.py's
``CALAMINE_SAME``), interleaved run by run so both see the same load. Sizes above 50,000 rows
use --big-repeat runs.

How growth is judged, for wall time, CPU time (user + system, from wait4: less disturbed by other
work on the machine) and peak RSS: *monotonic* when the median increases from each size to the
next; *linear* when every size's median lies within ±15 % of the least-squares line a + b·rows
fitted to all sizes (a fixed cost, start-up, plus a cost per row). The table also shows each
step's cost per 10,000 added rows as a multiple of the fitted slope b, so a reader can see where
the curve bends; a small step (10k → 20k adds about as much as the run-to-run noise) is not
judged on its own.

Issue 15's targets: refresh with 50,000 rows ≤ 4× the same-seven-sheets floor; cost and peak
memory linear and monotonic from 10k to 500k rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import sys
import tempfile
from pathlib import Path

import procs
from readme import write_section
from refresh import CALAMINE_SAME, SHEETS, _build_module, ledger

TARGET_50K = 4.0
FIT = 0.15  # linear: every median within this fraction of the fitted line
MIB = 1024 * 1024


def judge(points: list[tuple[int, float]]) -> tuple[bool, bool, list[float], float, float]:
    """(monotonic, linear, each step's slope as a multiple of the fitted one, fitted slope per 10k
    rows, largest relative residual) of ``points`` = [(rows, value)], ascending rows."""
    xs, ys = [n / 10_000 for n, _ in points], [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    icept = my - slope * mx
    worst = max(abs(y - (icept + slope * x)) / y for x, y in zip(xs, ys))
    steps = [((b - a) / (m - n)) / slope if slope else float("inf")
             for (n, a), (m, b) in itertools.pairwise(zip(xs, ys))]
    monotonic = all(b > a for a, b in itertools.pairwise(ys))
    return monotonic, slope > 0 and worst <= FIT, steps, slope, worst


def curve_lines(curves: dict[str, tuple], *, targets: bool = True) -> list[str]:
    """A line per curve (name -> :func:`judge`'s result): monotonic, linear, and (``targets``) met."""
    return [f"- {name}: monotonic **{'yes' if mono else 'no'}**, linear **{'yes' if lin else 'no'}** (largest "
            f"distance from the fitted line {worst:.0%})" + (f" — {'met' if mono and lin else 'not met'}." if targets
                                                             else ".")
            for name, (mono, lin, _steps, _slope, worst) in curves.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="10000,20000,50000,100000,200000,500000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--big-repeat", type=int, default=3, help="runs for sizes above 50,000 rows")
    ap.add_argument("--no-readme", action="store_true")
    a = ap.parse_args(argv)
    sizes = sorted({int(s) for s in a.rows.split(",") if s.strip()})

    procs.prepare()
    build = _build_module()
    load_before = procs.load()
    work = Path(tempfile.mkdtemp(prefix="xlreport-growth-"))
    results = []
    try:
        paths = {n: build.build_example(work / f"huvudbok_{n}.xlsx", extra=ledger(n)) for n in sizes}
        out = work / "ut.xlsx"
        repeats = {n: a.repeat if n <= 50_000 else a.big_repeat for n in sizes}
        refresh: dict[int, list] = {n: [] for n in sizes}
        floor: dict[int, list] = {n: [] for n in sizes}
        # in rounds, every size once a round: the machine's speed drifts over minutes, and a size
        # measured at a fast moment would bend the curve
        for i in range(max(repeats.values())):
            for n in sizes:
                if i >= repeats[n]:
                    continue
                out.unlink(missing_ok=True)  # the tool and its floor interleaved, under the same load
                refresh[n].append(procs.run(procs.xlreport("refresh", paths[n], "-o", out)))
                if not out.exists():
                    raise SystemExit(f"refresh of {paths[n].name} exited 0 but wrote nothing")
                floor[n].append(procs.run([procs.PY, "-c", CALAMINE_SAME, str(paths[n]), "|".join(SHEETS)]))
        for n in sizes:
            r, f = procs.Sample(refresh[n]), procs.Sample(floor[n])
            results.append((n, paths[n].stat().st_size, repeats[n], r, f))
            print(f"{n:>7,} rows: refresh {r.median:.3f} s ({r.low:.3f}–{r.high:.3f}), "
                  f"{r.max_rss / MIB:.0f} MiB; calamine 7 sheets {f.median:.3f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    curves = {
        "Wall time": judge([(n, r.median) for n, _, _, r, _ in results]),
        "CPU time": judge([(n, r.cpu) for n, _, _, r, _ in results]),
        "Peak RSS": judge([(n, r.max_rss / MIB) for n, _, _, r, _ in results]),
    }
    wall, cpu, rss = curves.values()
    lines = [
        (f"Measured {dt.date.today().isoformat()} on {procs.machine()}; load average {load_before} at the "
         f"start, {procs.load()} at the end. Each run a fresh process, the command's own wall time, CPU time "
         f"and peak RSS (fork/wait4 launcher); median of {a.repeat} runs up to 50,000 rows, {a.big_repeat} "
         f"above, run in rounds (every size once a round) with the tool and its floor interleaved. "
         f"{procs.COMPILED_NOTE}"),
        "",
        ("| ledger rows | file | refresh (median, range) | CPU | peak RSS | calamine, same 7 sheets | "
         "refresh / floor | s per 10k rows | step / fitted slope (wall, CPU, RSS) |"),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, (n, size, _rep, r, f) in enumerate(results):
        step = "" if i == 0 else f"{wall[2][i - 1]:.2f}×, {cpu[2][i - 1]:.2f}×, {rss[2][i - 1]:.2f}×"
        lines.append(f"| {n:,} | {size / 1e6:.1f} MB | {r.median:.3f} s ({r.low:.3f}–{r.high:.3f}) | "
                     f"{r.cpu:.3f} s | {r.max_rss / MIB:.0f} MiB | {f.median:.3f} s | "
                     f"{r.median / f.median:.2f}× | {r.median / (n / 10_000):.3f} s | {step} |")
    at50 = next(((r.median / f.median) for n, _, _, r, f in results if n == 50_000), None)
    lines += [
        "",
        (f"Fitted slopes: {wall[3] * 1000:.1f} ms wall, {cpu[3] * 1000:.1f} ms CPU and {rss[3]:.2f} MiB per "
         f"10,000 ledger rows. \"s per 10k rows\" is the whole run divided by the size (start-up included, "
         f"so it falls as the ledger grows); \"step\" is the cost each step adds per 10,000 rows as a "
         f"multiple of the fitted slope."),
        "",
    ]
    if at50 is not None:
        lines.append(f"- Refresh with 50,000 rows ≤ {TARGET_50K:g}× calamine reading the same seven sheets: "
                     f"**{at50:.2f}×, {'met' if at50 <= TARGET_50K else 'not met'}**.")
    lines += curve_lines(curves)
    text = "\n".join(lines)
    print(text)
    if not a.no_readme:
        write_section("growth", "Growth with the ledger's size (issue 15)", "growth.py", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
