"""Whole-process timing for the benchmarks: compiled sources, a clean environment, peak memory.

* :func:`prepare` byte-compiles ``src/xlreport`` once (``python -m compileall -q``), as ``pip
  install`` does for a wheel. This machine sets ``PYTHONDONTWRITEBYTECODE=1``, so without it an
  edited module would be recompiled in every process and start-up would measure the compiler.
* :data:`ENV` is this process's environment without ``PYTHONDONTWRITEBYTECODE``: every child runs
  as an installed tool would.
* :func:`run` starts a command through a small launcher that forks it, waits for it with
  ``wait4`` and reports the command's own wall time (fork to exit) and peak RSS. On Linux a
  child inherits its parent's peak RSS through fork and exec, so measuring the command as this
  script's own child would count this script (the same idea as ``tests/support/cli.py``).
* :func:`sample` runs a command N times: median seconds, the spread, and the largest peak RSS.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONIOENCODING"] = "utf-8"

# argv: result file, then the command. The launcher's own start-up is outside the measurement.
_LAUNCHER = """
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - t
with open(sys.argv[1], "w") as f:
    json.dump({"seconds": elapsed, "max_rss": usage.ru_maxrss * 1024, "cpu": usage.ru_utime + usage.ru_stime}, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def prepare() -> None:
    """Byte-compile the package's sources (see the module docstring)."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src" / "xlreport")], check=True,
                   stdout=subprocess.DEVNULL, env=ENV)


@dataclass
class Run:
    seconds: float
    max_rss: int  # bytes
    cpu: float
    returncode: int
    stdout: str
    stderr: str


def run(cmd: list[str], ok: tuple[int, ...] = (0,), timeout: float = 600) -> Run:
    """Run ``cmd`` once through the launcher; fail loudly unless its exit code is in ``ok``."""
    with tempfile.TemporaryDirectory(prefix="xlreport-bench-run-") as tmp:
        out = Path(tmp) / "usage.json"
        proc = subprocess.run([PY, "-c", _LAUNCHER, str(out), *cmd], capture_output=True, text=True,
                              encoding="utf-8", env=ENV, timeout=timeout, check=False)
        if proc.returncode not in ok or "Traceback" in proc.stderr:
            raise SystemExit(f"{cmd} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        usage = json.loads(out.read_text())
    return Run(usage["seconds"], usage["max_rss"], usage["cpu"], proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Sample:
    runs: list[Run]

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def low(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def high(self) -> float:
        return max(r.seconds for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def max_rss(self) -> int:
        return max(r.max_rss for r in self.runs)


def sample(cmd: list[str], repeat: int, before=None, ok: tuple[int, ...] = (0,)) -> Sample:
    """``cmd`` run ``repeat`` times (``before()`` ahead of each run, untimed)."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(run(cmd, ok))
    return Sample(runs)


def xlreport(*args: str) -> list[str]:
    return [PY, "-m", "xlreport", *map(str, args)]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count() or 1} cores, Python {platform.python_version()}"


COMPILED_NOTE = ("Sources byte-compiled first (`python -m compileall -q src/xlreport`, as a wheel install "
                 "does) and every child run with `PYTHONDONTWRITEBYTECODE` unset, since this machine sets it.")
