"""How long the engine takes to recompute the workbook's own formulas (issue 10: under 5 ms).

    python benchmarks/recalc.py [--repeat 200]

Reads the worked example's sheets once with the file door (as refresh does), then times
``xlreport.core.recalc.recalculate`` alone on fresh copies of those grids: parsing and
evaluating every formula of the seven sheets the engine reads (the copy is made outside the
timed part). Prints the median and the 95th percentile in milliseconds, and PASS or FAIL
against the 5 ms target; the exit code is 1 on FAIL. The parse cache is cleared before each
run, so every run pays for parsing as a fresh process does.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "workbooks" / "exempel_kommunstyrelsen_2020_d1.xlsx"
TARGET_MS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--workbook", type=Path, default=EXAMPLE)
    args = parser.parse_args()

    from xlreport.core import formulas
    from xlreport.core.engine import SHEETS
    from xlreport.core.recalc import recalculate
    from xlreport.doors.file import read_workbook

    _names, grids, _mode = read_workbook(args.workbook, SHEETS)
    count = sum(len(g.formulas) for g in grids.values())
    times = []
    for _ in range(args.repeat):
        fresh = copy.deepcopy(grids)
        formulas._parse_cached.cache_clear()
        formulas._references_cached.cache_clear()
        started = time.perf_counter()
        result = recalculate(fresh)
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    verdict = "PASS" if median < TARGET_MS else "FAIL"
    print(f"{args.workbook.name}: {count} formulas, {result.evaluated} evaluated, {result.trusted} trusted")
    print(f"recalculate: median {median:.2f} ms, p95 {p95:.2f} ms over {args.repeat} runs "
          f"(target < {TARGET_MS:g} ms: {verdict})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
