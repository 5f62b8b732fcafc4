"""How `xlreport refresh` scales with the number of units, measured as whole processes.

    .venv/bin/python benchmarks/scaling.py [--units 8,800,8000] [--repeat 3] [--big-repeat 1] [--readme]

Builds the worked example with N units in the unit table (sheet Driftredovisning, one row per
unit) and the same N names in the unit list on Uppgifter, so the workbook validates with no
errors and refresh really writes. Each of the example's 8 units is split into N/8 parts whose
figures add up to the original, so every sum and the tie to Resultaträkning still hold. The
workbooks are made by ``workbooks/build.py`` (imported by path, as benchmarks/refresh.py does)
from a copy of ``workbooks/data/example.json``; nothing else of the package is imported here,
the tool runs only as ``python -m xlreport`` in a fresh process, start-up included.

Times, per size: ``xlreport validate FILE`` and ``xlreport refresh FILE -o OUT`` (median of
--repeat runs; sizes above 1,000 units use --big-repeat runs, the refresh of 8,000 units took
about 24-49 s before the fix), each through ``procs.run`` (compiled sources, the command's own
wall time and peak RSS). The growth curve (issue 15): whether refresh time and peak memory grow
monotonically and linearly with the number of units (``growth.judge``: every median within 15 %
of the fitted line).

Target (unit-table scaling): refresh of the largest size <= 12 x the refresh of the size before
it (8,000 units <= 12 x 800 units). Prints PASS or FAIL; the exit code is 1 on FAIL.
With --readme the table is written between the scaling markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib.util
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import procs  # benchmarks/procs.py
from growth import judge
from readme import write_section  # benchmarks/readme.py: the scripts run from benchmarks/

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DATA = ROOT / "workbooks" / "data" / "example.json"
TARGET = 12.0  # refresh(largest) / refresh(next size) at most this
BIG = 1000  # sizes above this many units use --big-repeat runs
TIMEOUT = 1800  # seconds for one process (the quadratic refresh of 8,000 units is ~1 min)
MIB = 1024 * 1024


def _build_module():
    spec = importlib.util.spec_from_file_location("wb_build", ROOT / "workbooks" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def unit_data(n: int, source: Path = EXAMPLE_DATA) -> dict:
    """The example's data with ``n`` units: each of its units split into parts that sum to it."""
    data = json.loads(source.read_text(encoding="utf-8"))
    base = data["units"]["rows"]
    if n < len(base):
        raise SystemExit(f"--units: at least {len(base)} units (the example's own)")
    rows = []
    for i, (name, values) in enumerate(base):
        k = n // len(base) + (1 if i < n % len(base) else 0)
        if k == 1:
            rows.append([name, values])
            continue
        part = [None if v is None else round(v / k, 4) for v in values]
        last = [None if v is None else round(v - p * (k - 1), 4) for v, p in zip(values, part)]
        rows += [[f"{name} {j + 1:04d}", part if j < k - 1 else last] for j in range(k)]
    out = copy.deepcopy(data)
    out["units"]["rows"] = rows
    return out


def make_workbook(build, folder: Path, n: int) -> Path:
    data_file = folder / f"data_{n}.json"
    data_file.write_text(json.dumps(unit_data(n), ensure_ascii=False), encoding="utf-8")
    return build.build_example(folder / f"enheter_{n}.xlsx", data_file=data_file)


def xlreport(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlreport", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _fail(what: str, proc: subprocess.CompletedProcess) -> SystemExit:
    return SystemExit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def measure(path: Path, work: Path, repeat: int) -> dict[str, float]:
    """Median wall time and the largest peak RSS (bytes) of validate and refresh, interleaved."""
    out = work / f"{path.stem}-refreshed.xlsx"
    validate, refresh = [], []
    for _ in range(repeat):
        validate.append(procs.run(procs.xlreport("validate", path), timeout=TIMEOUT))
        out.unlink(missing_ok=True)
        refresh.append(procs.run(procs.xlreport("refresh", path, "-o", out), timeout=TIMEOUT))
        if not out.exists():
            raise SystemExit(f"refresh of {path.name} exited 0 but wrote no {out.name}")
    v, r = procs.Sample(validate), procs.Sample(refresh)
    return {"validate": v.median, "refresh": r.median, "validate_rss": v.max_rss, "refresh_rss": r.max_rss}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", default="8,800,2000,4000,8000", help="comma-separated unit counts, ascending")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--big-repeat", type=int, default=1, help=f"runs for sizes above {BIG:,} units")
    ap.add_argument("--readme", action="store_true", help="also write the table into benchmarks/README.md")
    a = ap.parse_args(argv)
    sizes = sorted({int(s) for s in a.units.split(",") if s.strip()})
    if len(sizes) < 2:
        raise SystemExit("--units: give at least two sizes")

    procs.prepare()  # compiled as a wheel install compiles them; children without PYTHONDONTWRITEBYTECODE

    build = _build_module()
    results: list[tuple[int, int, int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="xlreport-scaling-") as tmp:
        work = Path(tmp)
        for n in sizes:
            path = make_workbook(build, work, n)
            check = xlreport("validate", str(path))
            if check.returncode != 0:  # refresh writes nothing into a workbook with errors
                raise _fail(f"validate of the generated {n}-unit workbook", check)
            runs = a.big_repeat if n > BIG else a.repeat
            m = measure(path, work, runs)
            results.append((n, path.stat().st_size, runs, m))
            print(f"{n:,} units: validate {m['validate']:.3f} s, refresh {m['refresh']:.3f} s "
                  f"(median of {runs}), peak {m['refresh_rss'] / MIB:.0f} MiB", flush=True)

    lines = [
        (f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count() or 1} cores, "
         f"Python {platform.python_version()}; each run a fresh process (`python -m xlreport`), "
         f"median of {a.repeat} runs ({a.big_repeat} above {BIG:,} units), validate and refresh "
         f"interleaved; load average {procs.load()} at the end. {procs.COMPILED_NOTE}"),
        "",
        "| units | size | validate | refresh | refresh / validate | peak RSS validate | peak RSS refresh |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, size, _runs, m in results:
        lines.append(f"| {n:,} | {size / 1e6:.2f} MB | {m['validate']:.3f} s | {m['refresh']:.3f} s | "
                     f"{m['refresh'] / m['validate']:.1f}× | {m['validate_rss'] / MIB:.0f} MiB | "
                     f"{m['refresh_rss'] / MIB:.0f} MiB |")
    lines.append("")
    if len(results) >= 3:
        # growth.judge works per 10,000 of x: units are given as units x 10,000 / 1,000, so its
        # slope reads per 1,000 units
        for name, key, scale, unit in (("Refresh time", "refresh", 1000, "ms"),
                                       ("Refresh peak RSS", "refresh_rss", 1 / MIB, "MiB")):
            mono, lin, _steps, slope, worst = judge([(n * 10, m[key] * scale) for n, _, _, m in results])
            lines.append(f"- {name}: {slope:.1f} {unit} per 1,000 units; monotonic **{'yes' if mono else 'no'}**, "
                         f"linear **{'yes' if lin else 'no'}** (largest distance from the fitted line "
                         f"{worst:.0%}).")
        lines.append("")
    for (n0, _, _, m0), (n1, _, _, m1) in itertools.pairwise(results):
        lines.append(f"- {n1:,} / {n0:,} units ({n1 / n0:g}× the rows): refresh "
                     f"**{m1['refresh'] / m0['refresh']:.1f}×**, validate {m1['validate'] / m0['validate']:.1f}×")
    if len(results) > 2:
        (nf, _, _, mf), (nl, _, _, ml) = results[0], results[-1]
        lines.append(f"- {nl:,} / {nf:,} units ({nl / nf:g}× the rows): refresh "
                     f"{ml['refresh'] / mf['refresh']:.1f}×, validate {ml['validate'] / mf['validate']:.1f}×")
    (n0, _, _, m0), (n1, _, _, m1) = results[-2], results[-1]
    ratio = m1["refresh"] / m0["refresh"]
    ok = ratio <= TARGET
    lines += ["", (f"Target: refresh of {n1:,} units ≤ {TARGET:g}× the {n0:,}-unit refresh — "
                   f"**{ratio:.1f}×, {'PASS' if ok else 'FAIL'}**.")]
    text = "\n".join(lines)
    print()
    print(text)
    if a.readme:
        write_section("scaling", "Scaling with the number of units", "scaling.py", text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
