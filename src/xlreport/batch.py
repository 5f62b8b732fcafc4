"""Many workbooks at once: expand files, folders and globs, run them in parallel processes.

Each file runs through :func:`xlreport.doors.file.process` in a worker process. The worker is a
top-level function, so the pool works with every start method. On Linux the workers are
forked from a parent that has already imported the engine and the file door, so a worker
starts at once instead of spending ~0.4 s importing them again (a spawned worker would); on
Windows and macOS, where fork is unavailable or unsafe, they are spawned. One bad file never
stops the batch: a worker that fails returns a result with status 2 for that file. The
batch's exit code is the worst status.
"""

from __future__ import annotations

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
            found = [c for c in sorted(p.iterdir(), key=lambda c: c.name.casefold())
                     if c.is_file() and c.suffix.lower() in SUFFIXES and not _skipped(c)]
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
    import multiprocessing
    import sys

    return "fork" if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods() \
        else "spawn"


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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context(_start_method())
    if ctx.get_start_method() == "fork":
        from .doors import file  # noqa: F401 - imported once here, inherited by every forked worker
        if write:  # the writer (and lxml, about 25 ms): a validation never imports it
            from .ooxml import apply  # noqa: F401
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_run_chunk, [str(p) for p in paths[a:b]], actions, write, out): (a, b)
                   for a, b in _chunks(len(paths), jobs, write)}
        for fut in as_completed(futures):
            a, b = futures[fut]
            try:
                done = fut.result()
            except Exception as exc:  # noqa: BLE001 - the worker process died (e.g. out of memory)
                done = [FileResult(str(p), status=UNPROCESSABLE, findings=[
                    Finding("programfel", ERROR, f"Arbetsprocessen för filen avbröts ({type(exc).__name__}); "
                                                 f"filen har inte ändrats.")]) for p in paths[a:b]]
            for i, result in enumerate(done, a):
                results[i] = result
                if on_done:
                    on_done(i, result)
    return results  # type: ignore[return-value]


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
