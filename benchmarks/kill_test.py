"""Kill the writing process at random moments and prove the workbook is never half-written.

Usage::

    python benchmarks/kill_test.py --count 100            # the full test (about a minute)
    python benchmarks/kill_test.py --count 100 --lo-sample 100 --seed 7

Each round copies the example workbook (the *old* file) into a work folder, starts
``python -m xlreport refresh`` on it and sends SIGKILL: one round in three after a random
delay anywhere in a normal run, two in three while it writes (as soon as its temporary file
appears, plus a random 0-15 ms). Afterwards
the file must be byte-identical to the old workbook or to the *new* one (a clean refresh
made beforehand; ``SOURCE_DATE_EPOCH`` makes the writer's output reproducible), and
python-calamine must read it. A sample of the results is opened with LibreOffice as well.

A killed process cannot remove its temporary file; the next run on the same workbook removes
it (under the workbook's lock). The last round is therefore followed by one clean refresh,
after which no ``.~xlreport-*`` file may remain.

The tests (tests/test_killsafe.py) run this with ``XLREPORT_KILL_COUNT`` rounds (20 by
default); the figures of the last full run are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "workbooks" / "exempel_kommunstyrelsen_2020_d1.xlsx"
EPOCH = "1587000000"  # 2020-04-16: fixed zip time stamps, so the new file has one known hash
TEMP_PREFIX = ".~xlreport-"


@dataclass
class Result:
    count: int = 0
    killed: int = 0  # rounds where SIGKILL arrived before the process ended
    ended_old: int = 0  # the file was the old workbook afterwards
    ended_new: int = 0
    damaged: int = 0  # neither old nor new, or calamine could not read it: must stay 0
    unreadable: int = 0
    stray_after_kill: int = 0  # temporary files a killed process left (removed by the next run)
    stray_at_end: int = 0  # must be 0
    libreoffice_checked: int = 0
    libreoffice_failed: int = 0
    run_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONIOENCODING": "utf-8"}


def _refresh(path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xlreport", "refresh", str(path)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _readable(path: Path) -> bool:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    except Exception:  # noqa: BLE001 - any failure to read is what we count
        return False
    return True


def _strays(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


def run(count: int, folder: Path, *, seed: int | None = None, lo_sample: int = 2,
        source: Path = EXAMPLE) -> Result:
    """Run ``count`` kill rounds in ``folder``; see the module docstring."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    result = Result(count=count)
    old = folder / "old.xlsx"
    shutil.copyfile(source, old)
    new = folder / "new.xlsx"
    shutil.copyfile(source, new)
    started = time.perf_counter()
    proc = _refresh(new)
    err = proc.communicate()[1]
    duration = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"the clean refresh failed: {err.decode(errors='replace')}")
    result.run_seconds = round(duration, 3)
    old_sha, new_sha = sha(old), sha(new)
    assert old_sha != new_sha

    work = folder / "work"
    work.mkdir(exist_ok=True)
    target = work / "rapport.xlsx"
    samples: list[Path] = []
    for i in range(count):
        shutil.copyfile(old, target)
        proc = _refresh(target)
        if i % 3 == 0:  # anywhere in the run
            try:
                proc.wait(timeout=rng.uniform(0.0, 1.1) * duration)
            except subprocess.TimeoutExpired:
                pass
        else:  # while writing: as soon as the temporary file exists, plus up to 15 ms
            while proc.poll() is None and not [p for p in _strays(work) if not p.name.endswith(".lock")]:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0.0, 0.015))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            result.killed += 1
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
        digest = sha(target)
        if digest == old_sha:
            result.ended_old += 1
        elif digest == new_sha:
            result.ended_new += 1
        else:
            result.damaged += 1
            result.problems.append(f"round {i}: the file is neither the old nor the new workbook")
            shutil.copyfile(target, folder / f"damaged-{i}.xlsx")
        if not _readable(target):
            result.unreadable += 1
            result.problems.append(f"round {i}: python-calamine cannot read the file")
        result.stray_after_kill += len([p for p in _strays(work) if not p.name.endswith(".lock")])
        if len(samples) < lo_sample and (digest == new_sha or not samples):
            sample = folder / f"sample-{i}.xlsx"
            shutil.copyfile(target, sample)
            samples.append(sample)
    # One clean run: it removes what killed runs left behind.
    proc = _refresh(target)
    proc.communicate()
    result.stray_at_end = len(_strays(work))
    if result.stray_at_end:
        result.problems.append(f"left behind: {[p.name for p in _strays(work)]}")
    if samples:
        result.libreoffice_checked, result.libreoffice_failed = _libreoffice(samples)
    return result


def _libreoffice(files: list[Path]) -> tuple[int, int]:
    sys.path.insert(0, str(REPO / "tests"))
    from support import libreoffice

    if not libreoffice.available():
        return 0, 0
    outputs = libreoffice.convert(files)
    return len(files), sum(1 for f in files if outputs[f] is None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100, help="kill rounds (default 100)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--lo-sample", type=int, default=10, help="results opened with LibreOffice (default 10)")
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = p.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="xlreport-kill-"))
    result = run(args.count, folder, seed=args.seed, lo_sample=args.lo_sample)
    print(json.dumps(asdict(result), indent=1, ensure_ascii=False))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    ok = not (result.damaged or result.unreadable or result.stray_at_end or result.libreoffice_failed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
