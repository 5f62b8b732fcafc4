"""Time `xlreport import-sie` on a generated SIE 4 file against reading its lines, in one run.

The file: 1,000,000 #TRANS lines (``--trans``) in vouchers of 2 to 41 lines, as a ledger export
has them (supplier invoices, payroll, allocations), each line with an object list of two
dimensions (ansvar and verksamhet), a transaction date and a text with an invoice number and a
supplier (å/ä/ö), e.g. ``#TRANS 4610 {1 "1100" 2 "310"} 12345.67 20200315 "Köp av plats 48213
Omsorgsgruppen Sverige AB"`` (about 90 bytes a line); PC8 (CP437) with CRLF line ends; twelve
months of #PBUDGET per unit; no period balances, so the import sums the vouchers.
The workbook: the template stamped for a nämnd with the file's eight units.

Floor, measured in the same run and the same way (a fresh process each time, start-up
included): Python reading the file's lines (``for line in open(path, encoding="cp437")``), the
least any Python program that looks at every line must do. Target (issue 14): the import, from
reading the SIE file to the refreshed workbook, at most 3x the floor. Peak memory: the maximum
resident set of the largest process of the import (the command, or one of the worker processes
that read a large file in parts, one per processor).

    python benchmarks/sie.py [--trans 1000000] [--repeat 5] [--no-readme]

Writes its table between the markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
TARGET = 3.0

UNITS = ["Ledning", "Ekonomi och kvalitet", "HR", "Välfärd", "Näringsliv", "Kommunikation och IT",
         "Miljö och samhällsbyggnad", "Överförmyndare"]
ACCOUNTS = {"3010": "Försäljning", "3110": "Taxor och avgifter", "3510": "Bidrag", "4610": "Köp av verksamhet",
            "4630": "Entreprenad", "5010": "Löner", "5410": "Sociala avgifter", "6010": "Lokalhyra",
            "6110": "Fastighetskostnader", "6410": "Förbrukningsmaterial", "7010": "Konsulter",
            "7610": "Avskrivningar", "2440": "Leverantörsskulder", "1930": "Bank"}
SUPPLIERS = ["Städbolaget i Mälardalen AB", "Skolmat i Norden AB", "Fastighets AB Ängsgården", "Kontorsvaror Öst AB",
             "Omsorgsgruppen Sverige AB", "Konsultbyrån Åkerlund & Co", "Eskilstuna Energi och Miljö AB"]
TEXTS = ["Leverantörsfaktura", "Lön", "Hyra lokal", "Köp av plats", "Försäljning", "Omföring ansvar", "Städning"]
FLOOR = 'import sys\nwith open(sys.argv[1], encoding="cp437") as f:\n    n = sum(1 for _ in f)\n'


def generate(path: Path, n_trans: int, seed: int = 2020) -> tuple[int, int]:
    """Write the SIE file; returns (vouchers, #TRANS lines)."""
    rnd = random.Random(seed)
    codes = [str(1100 + 10 * i) for i in range(len(UNITS))]
    verk = ["310", "320", "410", "450", "810"]
    result_accounts = [a for a in ACCOUNTS if a[0] in "34567"]
    head = ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4", '#PROGRAM "xlreport benchmark" 1.0', "#GEN 20200405",
            '#FNAMN "Exempel kommun"', "#RAR 0 20200101 20201231", "#RAR -1 20190101 20191231",
            '#DIM 1 "Ansvar"', '#DIM 2 "Verksamhet"']
    head += [f'#KONTO {a} "{n}"' for a, n in ACCOUNTS.items()]
    head += [f'#OBJEKT 1 "{c}" "{u}"' for c, u in zip(codes, UNITS)]
    for m in range(1, 13):
        for a in result_accounts:
            total = 0
            for c in codes:
                v = rnd.randint(10_000, 2_000_000) * (-100 if a[0] == "3" else 100)
                total += v
                head.append(f'#PBUDGET 0 2020{m:02d} {a} {{1 "{c}"}} {v / 100:.2f}')
            head.append(f"#PBUDGET 0 2020{m:02d} {a} {{}} {total / 100:.2f}")
    vouchers = n = 0
    with open(path, "w", encoding="cp437", newline="\r\n") as f:
        f.write("\n".join(head) + "\n")
        while n < n_trans:
            vouchers += 1
            k = min(rnd.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 12, 20, 40)), n_trans - n - 1) or 1
            d = f"2020{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
            lines = [f'#VER "A" "{vouchers}" {d} "{rnd.choice(TEXTS)} {vouchers}" {d}', "{"]
            total = 0
            for _ in range(k):
                account = rnd.choice(result_accounts)
                a = rnd.randint(100, 5_000_000) * (-1 if account[0] == "3" else 1)  # revenue is credit
                total += a
                lines.append(f'   #TRANS {account} {{1 "{rnd.choice(codes)}" 2 "{rnd.choice(verk)}"}} {a / 100:.2f} {d} '
                             f'"{rnd.choice(TEXTS)} {rnd.randrange(10**6)} {rnd.choice(SUPPLIERS)}"')
            lines.append(f'   #TRANS 2440 {{}} {-total / 100:.2f} {d} "Motkonto"')
            lines.append("}")
            f.write("\n".join(lines) + "\n")
            n += k + 1
    return vouchers, n


def workbook(path: Path) -> Path:
    """The template stamped for a nämnd whose Enheter list holds the file's units (as the tests
    build it)."""
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
    from test_sie_files import namnd_workbook

    return namnd_workbook(path, UNITS)


def run(cmd: list[str]) -> tuple[float, int, float]:
    """Wall time, peak resident memory (bytes) and CPU time (user + system, the process and the
    worker processes it waited for) of ``cmd`` as a fresh process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    return seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-readme", action="store_true", help="print only, do not update README.md")
    args = ap.parse_args(argv)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True,
                   stdout=subprocess.DEVNULL)  # as `pip install` does (see refresh.py)
    work = Path(tempfile.mkdtemp(prefix="xlreport-bench-sie-"))
    try:
        sie = work / "huvudbok.se"
        vouchers, trans = generate(sie, args.trans)
        book = workbook(work / "rapport.xlsx")
        with open(sie, "rb") as f:
            lines = sum(1 for _ in f)
        py = sys.executable
        floor_cmd = [py, "-c", FLOOR, str(sie)]
        import_cmd = [py, "-m", "xlreport", "import-sie", str(sie), str(book), "-o", str(work / "ut.xlsx")]
        floors, imports, rss, cpu_floor, cpu_import = [], [], [], [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine
            seconds, _peak, cpu = run(floor_cmd)
            floors.append(seconds)
            cpu_floor.append(cpu)
            seconds, peak, cpu = run(import_cmd)
            imports.append(seconds)
            rss.append(peak)
            cpu_import.append(cpu)
            print(f"floor {floors[-1]:.3f} s, import {seconds:.3f} s (cpu {cpu:.2f} s), peak {peak / 2**20:.0f} MiB",
                  flush=True)
        size = sie.stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor, imp = statistics.median(floors), statistics.median(imports)
    ratio = imp / floor
    best = min(i / f for i, f in zip(imports, floors))
    cpu_ratio = statistics.median(cpu_import) / statistics.median(cpu_floor)
    header = (f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count() or 1} cores, "
              f"Python {platform.python_version()}; median of {args.repeat} interleaved runs, each a fresh process "
              f"(start-up included).")
    row = (f"| {trans:,} #TRANS in {vouchers:,} vouchers, {size / 1e6:.0f} MB | {lines:,} | {imp:.2f} s | "
           f"{floor:.2f} s | {ratio:.2f}× (best run {best:.2f}×) | {cpu_ratio:.2f}× | {max(rss) / 2**20:.0f} MiB |")
    verdict = (f"Target: the import at most {TARGET:g}× the floor (median) — **{ratio:.2f}×, "
               f"{'PASS' if ratio <= TARGET else 'FAIL'}** (best run {best:.2f}×, "
               f"{'PASS' if best <= TARGET else 'FAIL'}).")
    table = ("| SIE file | lines | import-sie | reading its lines (floor) | import / floor | CPU import / floor "
             "| peak memory (largest process) |\n|---|---|---|---|---|---|---|")
    text = f"{header}\n\n{table}\n{row}\n\n{verdict}"
    print(text)
    if not args.no_readme:
        write_section("sie", "Import from SIE (issue 14)", "sie.py", text)
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
