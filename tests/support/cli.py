"""The command line as a user runs it: ``python -m xlreport`` in a new process, real files.

:func:`xlreport` runs the CLI to the end (optionally through a wrapper such as ``unshare -n``,
or measuring the CLI's own peak memory); :func:`start` and :func:`finish` run
it alongside the test (two writers at once, a reader that goes away). No traceback may ever
reach the user: every run checks that. :func:`hold_lock` is another process holding a
workbook's xlreport lock, as a long refresh would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


def command(*args) -> list[str]:
    """The command line of ``xlreport ARGS`` with this interpreter."""
    return [sys.executable, "-m", "xlreport", *map(str, args)]


def _env(env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    max_rss: int = 0  # bytes, with measure=True: the CLI process's own peak memory

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# A launcher between the test and the CLI: on Linux a child inherits its parent's peak RSS
# through fork and exec, so measuring the CLI as pytest's own child would count pytest. The
# launcher is small; it forks the CLI, waits for it with wait4 and writes the CLI's peak RSS.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def xlreport(*args, env: dict[str, str] | None = None, cwd=None, timeout: float = 300,
             wrapper: Sequence[str] = (), measure: bool = False, tracebacks: bool = False) -> Run:
    """Run the real CLI as a user does (a new process) and wait for it.

    ``env`` is added to this process's environment; ``wrapper`` is a command the CLI runs
    under (``["unshare", "-n"]``); ``measure`` records the CLI's peak memory in
    ``Run.max_rss``. Unless ``tracebacks`` is set, a traceback in the output fails the test.
    """
    cmd = [*wrapper, *command(*args)]
    with contextlib.ExitStack() as stack:
        rss = None
        if measure:  # the launcher runs the CLI and writes its peak RSS to a file
            rss = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xlreport-cli-"))) / "rss"
            cmd = [sys.executable, "-c", _LAUNCHER, str(rss), *cmd]
        proc = subprocess.run(cmd, capture_output=True, encoding="utf-8", env=_env(env), cwd=cwd,
                              timeout=timeout, check=False)
        max_rss = int(rss.read_text()) if rss is not None and rss.exists() else 0
    run = Run(proc.returncode, proc.stdout, proc.stderr, max_rss)
    if not tracebacks:
        assert "Traceback" not in run.output, run.stderr
    return run


def start(*args, env: dict[str, str] | None = None, text: bool = True, **kw) -> subprocess.Popen:
    """Start ``xlreport ARGS`` and return at once (stdout and stderr are pipes)."""
    return subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            encoding="utf-8" if text else None, env=_env(env), **kw)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    """Wait for a started run: its exit code and its whole output (no traceback in it)."""
    out, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in out + err, err
    return proc.returncode, out + err


# --- another run holding the lock ---------------------------------------------------------

_HOLDER = """
import sys, time
from xlreport.ooxml.atomic import workbook_lock
with workbook_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the workbook's xlreport lock (as a long refresh would); kill it when done."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@contextlib.contextmanager
def lock_held(path: Path, seconds: float = 30) -> Iterator[None]:
    """Another process holds ``path``'s xlreport lock for the duration of the block."""
    holder = hold_lock(path, seconds)
    try:
        yield
    finally:
        holder.kill()
        holder.wait()
