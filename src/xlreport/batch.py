"""Many workbooks at once: expand files, folders and globs, run them in parallel processes.

Each file runs through :func:`xlreport.doors.file.process` in a worker process. On Linux the
workers are forked from a parent that has already imported the engine and the file door, so a
worker starts at once instead of spending ~0.4 s importing them again, and they are fed through
pipes of their own (:func:`_run_forked`); on Windows and macOS, where fork is unavailable or
unsafe, they are spawned by the standard library's process pool. One bad file never stops the
batch: a worker that fails returns a result with status 2 for that file, and a worker that dies
costs only the files of the task it ran. The batch's exit code is the worst status.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from .core.findings import ERROR, Finding
from .doors.file import UNPROCESSABLE, FileResult

SUFFIXES = (".xlsx", ".xlsm")
SKIP_PREFIXES = ("~$", ".~xlreport-")
_GLOB_CHARS = set("*?[")


def _skipped(path: Path) -> bool:
    return path.name.startswith(SKIP_PREFIXES)


def expand(args: Iterable[str | Path]) -> list[Path]:
    """Files, folders (their .xlsx/.xlsm files, not recursive) and globs (``**`` allowed) -> files.

    Excel's owner files (``~$...``) and xlreport's temporary files are skipped; a path that
    does not exist, or a glob that matches nothing, is kept (processing it reports the problem);
    duplicates are dropped.
    """
    out: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(p)

    for arg in args:
        text = str(arg)
        p = Path(text)
        if p.is_dir():
            # the directory's entries say which are files (no stat of each, as Path.is_file makes)
            with os.scandir(p) as entries:
                found = [p / e.name for e in sorted(entries, key=lambda e: e.name.casefold())
                         if os.path.splitext(e.name)[1].lower() in SUFFIXES
                         and not e.name.startswith(SKIP_PREFIXES) and e.is_file()]
            for child in found:
                add(child)
            if not found:
                add(p)  # reported as "a folder, not a workbook" rather than silently ignored
        elif _GLOB_CHARS & set(text) and not p.exists():
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True), key=str.casefold)]
            matches = [m for m in matches if m.is_file() and not _skipped(m)]
            for m in matches:
                add(m)
            if not matches:
                add(p)  # reported as "no file matches" rather than silently dropped
        elif not _skipped(p):
            add(p)
    return out


def version_hint(path: str | Path) -> Finding | None:
    """For a workbook the reader could not use: a finding naming its older Mallversion, if any."""
    from .core import layout as L
    from .core.errors import XlreportError
    from .departments.common import version_of
    from .doors.file import read_grids

    try:
        _names, grids = read_grids(path, [L.SHEET_META])
    except XlreportError:
        return None
    v = version_of(grids.get(L.SHEET_META))
    if v is None or v == L.TEMPLATE_VERSION:
        return None
    return Finding("mallversion", ERROR,
                   L.version_advice(v, path), L.SHEET_META, None, L.TEMPLATE_VERSION, v)


def run_one(path: str, actions: tuple[str, ...], write: bool, out: str | None = None) -> FileResult:
    """Process one file (the worker): never raises, drops the in-memory report before returning."""
    from .doors.file import process

    started = time.perf_counter()
    try:
        result = process(path, actions, out=out, write=write)
        if result.status == UNPROCESSABLE:
            hint = version_hint(path)
            if hint is not None:
                result.findings = [hint, *result.findings]
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the batch; the file is reported unprocessable
        result = FileResult(str(path), status=UNPROCESSABLE,
                            findings=[Finding("programfel", ERROR, f"Ett oväntat fel i xlreport ({type(exc).__name__}: "
                                                                    f"{exc}); filen har inte ändrats.")])
        result.seconds = time.perf_counter() - started
    result.outcome = None
    return result


def _start_method() -> str:
    """How workers start: forked on Linux (they inherit the imported engine), spawned elsewhere
    (macOS and Windows, where forking a process is unavailable or unsafe)."""
    return "fork" if sys.platform.startswith("linux") and hasattr(os, "fork") else "spawn"


def default_jobs() -> int:
    return os.cpu_count() or 1


def run_batch(paths: list[Path], actions: Collection[str], *, write: bool, out: str | None = None,
              jobs: int | None = None, on_done: Callable[[int, FileResult], None] | None = None) -> list[FileResult]:
    """Process ``paths``; results in the order of ``paths``. ``on_done(i, result)`` as each finishes."""
    from .ooxml.atomic import one_listing_per_folder

    with one_listing_per_folder():  # stale temporary files: one folder listing per process, not per file
        return _run_batch(paths, tuple(actions), write, out, jobs, on_done)


def _run_batch(paths: list[Path], actions: tuple[str, ...], write: bool, out: str | None, jobs: int | None,
               on_done: Callable[[int, FileResult], None] | None) -> list[FileResult]:
    jobs = max(1, min(jobs or default_jobs(), len(paths) or 1))
    results: list[FileResult | None] = [None] * len(paths)
    if jobs == 1:
        for i, p in enumerate(paths):
            results[i] = run_one(str(p), actions, write, out)
            if on_done:
                on_done(i, results[i])
        return results  # type: ignore[return-value]
    if _start_method() == "fork":
        from .doors import file  # noqa: F401 - imported once here, inherited by every forked worker
        if write:  # the writer (and lxml, about 25 ms): a validation never imports it
            from .ooxml import apply  # noqa: F401
        _run_forked(paths, actions, write, out, jobs, results, on_done)
    else:
        _run_pool(paths, actions, write, out, jobs, results, on_done)
    return results  # type: ignore[return-value]


def _lost(paths: list[Path], why: str) -> list[FileResult]:
    return [FileResult(str(p), status=UNPROCESSABLE, findings=[
        Finding("programfel", ERROR, f"Arbetsprocessen för filen avbröts ({why}); filen har inte ändrats.")])
        for p in paths]


def _run_pool(paths: list[Path], actions: tuple[str, ...], write: bool, out: str | None, jobs: int,
              results: list, on_done: Callable[[int, FileResult], None] | None) -> None:
    """Spawned workers (Windows, macOS): the standard library's process pool."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_run_chunk, [str(p) for p in paths[a:b]], actions, write, out): (a, b)
                   for a, b in _chunks(len(paths), jobs, write)}
        for fut in as_completed(futures):
            a, b = futures[fut]
            try:
                done = fut.result()
            except Exception as exc:  # noqa: BLE001 - the worker process died (e.g. out of memory)
                done = _lost(paths[a:b], type(exc).__name__)
            for i, result in enumerate(done, a):
                results[i] = result
                if on_done:
                    on_done(i, result)


def _run_forked(paths: list[Path], actions: tuple[str, ...], write: bool, out: str | None, jobs: int,
                results: list, on_done: Callable[[int, FileResult], None] | None) -> None:
    """Forked workers (Linux), each fed tasks through a pipe of its own as it finishes the last.

    Not ``concurrent.futures``: its import (multiprocessing, queues, threads) and its pool's start
    and shutdown cost 75-95 ms of the parent's time before the first file and after the last,
    time the two workers cannot share, which at 5 ms a file is a tenth of a 200-file validation
    on two cores. Here a task is a pickled list of paths, a result a pickled list of results, each
    sent with its length. A worker that dies (out of memory, killed) loses only its own task:
    those files get status 2, and the others go on.
    """
    import pickle
    import select

    tasks = iter(_chunks(len(paths), jobs, write))
    workers: dict[int, list] = {}  # result pipe -> [pid, task pipe, the task it runs (a, b) or None]
    try:
        for _ in range(jobs):
            task_r, task_w = os.pipe()
            result_r, result_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                code = 1
                try:
                    os.close(task_w)
                    os.close(result_r)
                    for fd, (_pid, other_w, _task) in workers.items():
                        os.close(fd)
                        os.close(other_w)
                    _serve(task_r, result_w, actions, write, out)
                    code = 0
                finally:
                    os._exit(code)
            os.close(task_r)
            os.close(result_w)
            workers[result_r] = [pid, task_w, None]
        for fd in list(workers):
            _give(workers, fd, tasks, paths)
        while busy := [fd for fd, w in workers.items() if w[2] is not None]:
            for fd in select.select(busy, [], [])[0]:
                a, b = workers[fd][2]
                message = _receive(fd)
                if message is None:  # the worker died with this task
                    pid = workers.pop(fd)[0]
                    os.close(fd)
                    done = _lost(paths[a:b], f"slutkod {os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}")
                else:
                    done = pickle.loads(message)
                    _give(workers, fd, tasks, paths)
                for i, result in enumerate(done, a):
                    results[i] = result
                    if on_done:
                        on_done(i, result)
        lost = [(a, b) for a, b in tasks]  # every worker died: what no one could run
        for a, b in lost:
            for i, result in enumerate(_lost(paths[a:b], "inga arbetsprocesser kvar"), a):
                results[i] = result
                if on_done:
                    on_done(i, result)
    finally:
        for fd, (pid, task_w, _task) in workers.items():
            for end in (task_w, fd):  # an end-of-file on its task pipe: the worker stops
                with contextlib.suppress(OSError):
                    os.close(end)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _give(workers: dict[int, list], fd: int, tasks: Iterator[tuple[int, int]], paths: list[Path]) -> None:
    """Send the worker at result pipe ``fd`` its next task, or nothing (it waits for the end)."""
    import pickle

    task = next(tasks, None)
    workers[fd][2] = task
    if task is not None:
        a, b = task
        _send(workers[fd][1], pickle.dumps([str(p) for p in paths[a:b]]))


def _serve(task_r: int, result_w: int, actions: tuple[str, ...], write: bool, out: str | None) -> None:
    """A forked worker: run each task it is sent, send back its results, stop at end of file."""
    import pickle

    while (message := _receive(task_r)) is not None:
        _send(result_w, pickle.dumps(_run_chunk(pickle.loads(message), actions, write, out)))


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes | None:
    """One message (its length, then its bytes); None at end of file, or if the sender died in it."""
    head = _read_exactly(fd, 8)
    if head is None:
        return None
    return _read_exactly(fd, int.from_bytes(head, "little"))


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


_CHUNK_MAX = 8


def _chunks(n: int, jobs: int, write: bool) -> Iterator[tuple[int, int]]:
    """The index ranges the workers take, in order.

    Each task is a round trip through the pool, about 0.7 ms of the parent's CPU, which on two
    cores is taken from the workers: with one file a task, a 200-file validation spent about 7 %
    of its CPU there. A validation therefore sends up to 8 files a task, fewer as the files run
    out (a quarter of each worker's share of what is left), so that the workers finish together.
    A write keeps one file a task: if a worker dies, the files it had already written must not be
    reported as unchanged with the one it died on (and a write's 20-30 ms dwarfs the round trip).
    """
    start = 0
    while start < n:
        end = start + (1 if write else max(1, min(_CHUNK_MAX, (n - start) // (4 * jobs))))
        yield start, end
        start = end


def _run_chunk(paths: list[str], actions: tuple[str, ...], write: bool, out: str | None) -> list[FileResult]:
    return [run_one(p, actions, write, out) for p in paths]


# --- progress and summary -----------------------------------------------------------------


class Progress:
    """A progress bar on a terminal (stderr), plain lines otherwise; silent for one file."""

    def __init__(self, total: int, stream=None, *, enabled: bool = True):
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and total > 1
        self.done = 0
        self.started = time.perf_counter()

    def __call__(self, _i: int, r: FileResult) -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.tty:
            width = 30
            filled = width * self.done // self.total
            name = Path(r.file).name
            name = name if len(name) <= 40 else name[:37] + "..."
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {name:<40}")
            if self.done == self.total:
                self.stream.write(f"\r{' ' * (width + 55)}\r")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {r.file}: {r.errors} fel, {r.warnings} varn. "
                              f"({r.seconds:.2f} s)\n")
        self.stream.flush()


def summary_table(results: list[FileResult], wall: float) -> str:
    """A plain-text table: file, errors, warnings, time; and the totals."""
    names = [r.file for r in results]
    w = max([len("Fil"), *(len(n) for n in names)])
    lines = [f"{'Fil':<{w}}  {'Fel':>5}  {'Varn.':>5}  {'Tid (s)':>7}  Status", "-" * (w + 34)]
    status = {0: "ok", 1: "fel", 2: "ej behandlad"}
    for r in results:
        lines.append(f"{r.file:<{w}}  {r.errors:>5}  {r.warnings:>5}  {r.seconds:>7.2f}  {status.get(r.status, r.status)}")
    lines.append("-" * (w + 34))
    errors = sum(r.errors for r in results)
    warnings = sum(r.warnings for r in results)
    by = {s: sum(1 for r in results if r.status == s) for s in (0, 1, 2)}
    lines.append(f"{len(results)} filer: {by[0]} utan fel, {by[1]} med fel, {by[2]} kunde inte behandlas; "
                 f"{errors} fel och {warnings} varningar; {wall:.1f} s.")
    return "\n".join(lines)
