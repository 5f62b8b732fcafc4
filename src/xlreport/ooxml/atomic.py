"""Writing a result safely: the workbook lock, temporary files beside the target, atomic rename.

A result is built in a temporary file in the target's folder, fsynced, given the original's
owner and permissions, and renamed over the target in one step; a killed run leaves at most a
temporary file, which the next run under the lock removes. Excel's owner file (``~$name``) and
a read-only target are refused before any work.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import os
import stat
import time
from pathlib import Path

from ..core.errors import WorkbookLocked, WriteFailed, os_error_sv

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from .edit import PackageEdit

TEMP_PREFIX = ".~xlreport-"


def _locked_by_excel(target: Path) -> Path | None:
    owner = target.with_name("~$" + target.name)
    return owner if owner.exists() else None


def refuse_unwritable(target: str | Path) -> None:
    """Refuse to write ``target`` while Excel has it open (its owner file ``~$name`` exists) or
    when it is marked read-only. Call before any work: nothing has been written yet."""
    target = Path(target)
    owner = _locked_by_excel(target)
    if owner is not None:
        raise WorkbookLocked(f"Arbetsboken är öppen i Excel ({owner.name}). Stäng den i Excel och "
                             "försök igen.", file=target)
    _refuse_read_only(target)


def _refuse_read_only(target: Path) -> None:
    """A workbook marked read-only is not written, even by root (Excel would not save it either)."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return  # a new output file
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteFailed(f"Arbetsboken {target.name} är skrivskyddad och skrivs inte. Ta bort skrivskyddet "
                          "eller skriv resultatet till en annan fil med -o; originalet är oförändrat",
                          file=target)


def _copy_permissions(source: Path, tmp: Path) -> None:
    st = source.stat()
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(tmp, st.st_uid, st.st_gid)


def _default_permissions(tmp: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_failed(target: Path, exc: OSError) -> WriteFailed:
    return WriteFailed(f"Kunde inte skriva {target.name} ({os_error_sv(exc)}); originalet är "
                       "oförändrat", file=target)


def write_atomically(edit: PackageEdit, target: str | Path) -> None:
    """Write ``edit`` to a temp file beside ``target``, then rename it into place."""
    target = Path(target)
    with atomic_output(target, synced=True) as tmp:
        try:
            edit.write(tmp)  # fsyncs what it writes
        except OSError as exc:
            raise _write_failed(target, exc) from exc


def temp_beside(target: Path, suffix: str | None = None) -> Path:
    """A new empty temporary file beside ``target``, named ``.~xlreport-<name>.<random><suffix>``
    (``suffix`` defaults to the target's), so that :func:`remove_stale_temp_files` removes it
    if the run is killed. The caller removes it when done."""
    try:
        fd, tmp_name = _mkstemp(temp_prefix(target), target.suffix if suffix is None else suffix, target.parent)
    except OSError as exc:
        raise _write_failed(target, exc) from exc
    os.close(fd)
    return Path(tmp_name)


_O_TEMP = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _mkstemp(prefix: str, suffix: str, folder: Path) -> tuple[int, str]:
    """``tempfile.mkstemp`` (a new file, mode 0600, a random name), without importing tempfile
    (which imports shutil, random and bz2: about 6 ms of a refresh's start-up)."""
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{os.urandom(5).hex()}{suffix}")
        try:
            return os.open(path, _O_TEMP, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


@contextlib.contextmanager
def atomic_output(target: str | Path, suffix: str | None = None, *, synced: bool = False):
    """Yield a temporary file beside ``target`` to build the result in; when the block ends
    without an exception, the file is fsynced (unless ``synced``: the block did it), given the
    original's owner, group and permission bits (or the default ones for a new file) and
    renamed over ``target`` in one step, and the folder is fsynced. On any exception the temporary file is removed and ``target`` is untouched.

    The temporary file is named by :func:`temp_beside`; hold :func:`workbook_lock` of ``target``
    around the block so two processes never interleave.
    """
    target = Path(target)
    tmp = temp_beside(target, suffix)
    try:
        yield tmp
        try:
            if not synced:
                _fsync_file(tmp)
            if target.exists():
                _copy_permissions(target, tmp)
            else:
                _default_permissions(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise _write_failed(target, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def temp_prefix(target: Path) -> str:
    """Temporary files for ``target`` are named ``.~xlreport-<name>.<random><suffix>``."""
    return f"{TEMP_PREFIX}{target.name}."


# --- inter-process lock and stale temporary files -----------------------------------------

LOCK_TIMEOUT = 10.0  # seconds; XLREPORT_LOCK_TIMEOUT changes it
LOCK_SUFFIX = ".lock"


def lock_path(target: Path) -> Path:
    """The lock file beside the workbook: ``.~xlreport-<name>.lock`` (removed after each run)."""
    return target.with_name(f"{TEMP_PREFIX}{target.name}{LOCK_SUFFIX}")


def lock_timeout() -> float:
    raw = os.environ.get("XLREPORT_LOCK_TIMEOUT", "").strip().replace(",", ".")
    try:
        value = float(raw) if raw else LOCK_TIMEOUT
    except ValueError:
        return LOCK_TIMEOUT
    return max(value, 0.0)


@contextlib.contextmanager
def workbook_lock(target: str | Path, timeout: float | None = None, *, clean: bool = True):
    """Hold the xlreport lock of ``target`` from reading to writing.

    A second xlreport process that wants the same workbook waits up to ``timeout`` seconds
    (default :data:`LOCK_TIMEOUT`, or ``XLREPORT_LOCK_TIMEOUT``), then refuses with
    :class:`WorkbookLocked`. While the lock is held, temporary files of this workbook that a
    killed run left behind are removed (unless ``clean`` is False: a batch removes them once
    per folder with :func:`remove_stale_temp_files_in`). In a folder where no lock file can be
    made, nothing can be written either: the run goes on unlocked and the write fails with a
    clear message.
    """
    target = Path(target)
    timeout = lock_timeout() if timeout is None else timeout
    path = lock_path(target)
    deadline = time.monotonic() + timeout
    while True:
        lock = _Flock(path) if os.name != "nt" else _WindowsLock(path)
        try:
            acquired = lock.acquire(max(deadline - time.monotonic(), 0.0))
        except OSError:
            yield  # read-only folder: the write itself will fail and say so
            return
        if not acquired:
            raise WorkbookLocked(f"En annan körning av xlreport arbetar med {target.name} just nu (väntade "
                                 f"{timeout:g} s). Försök igen när den är klar.", file=target)
        if _holds_current_file(lock, path):
            break
        lock.release()  # the previous holder removed the file we locked: lock the new one
    try:
        if clean:
            remove_stale_temp_files(target)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still held: a waiting process sees the unlinked inode and retries
        lock.release()


class _Flock:
    """The lock on POSIX: ``flock`` on the lock file, as filelock's Unix lock does, without
    importing filelock (about 35 ms of a write's start-up: it imports logging, typing, hashlib
    and more). ``acquire`` raises OSError when the lock file cannot be made (a read-only folder)."""

    POLL = 0.05  # seconds between attempts while another process holds the lock

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float) -> bool:
        import fcntl

        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    return False
                time.sleep(min(self.POLL, max(deadline - time.monotonic(), 0.0)))
                continue
            self.fd = fd
            return True

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


class _WindowsLock:
    """The lock on Windows: filelock's, the well-tried part on the platform our users are on,
    which the tests here cannot run."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = None

    @property
    def fd(self) -> int | None:
        return getattr(getattr(self.lock, "_context", None), "lock_file_fd", None)

    def acquire(self, timeout: float) -> bool:
        from filelock import FileLock, Timeout

        self.lock = FileLock(str(self.path), timeout=timeout)
        try:
            self.lock.acquire()
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def _holds_current_file(lock: _Flock | _WindowsLock, path: Path) -> bool:
    """Whether the locked descriptor is still the file at ``path`` (a holder unlinks it when done)."""
    fd = lock.fd
    try:
        if fd is None:
            return path.exists()
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def is_stale_temp_name(name: str, target: Path) -> bool:
    """Whether ``name`` (in ``target``'s folder) is a temporary file of a run on ``target``.

    That is ``target``'s own temporary files (:func:`temp_beside`), and every file of a run on
    one of those (``consolidate`` and ``upgrade`` build their result in a temporary file and
    refresh or edit it there, all under ``target``'s lock): its temporary and lock files.
    """
    prefix = temp_prefix(target)
    if name.startswith(TEMP_PREFIX + prefix):
        return True
    return name.startswith(prefix) and name.endswith(target.suffix) and not name.endswith(LOCK_SUFFIX)


# folder -> the sorted names of its xlreport temporary files, while :func:`one_listing_per_folder`
# is in force (a batch); None: every call lists the folder.
_listings: dict[str, list[str]] | None = None


@contextlib.contextmanager
def one_listing_per_folder():
    """Within the block, :func:`remove_stale_temp_files` lists each folder once, not once per file.

    A batch of n files in one folder otherwise lists the folder n times (a cost that grows with
    the square of the folder). A temporary file that a run killed during the block leaves behind
    is removed by the next run, as always. Forked batch workers each keep their own listings.
    """
    global _listings
    previous, _listings = _listings, {}
    try:
        yield
    finally:
        _listings = previous


def _temp_names(folder: Path) -> list[str]:
    """The sorted names in ``folder`` that start with :data:`TEMP_PREFIX`."""
    key = os.path.abspath(folder)
    if _listings is not None and key in _listings:
        return _listings[key]
    try:
        # names only (no DirEntry per file) and a list, not a generator: this runs over the
        # whole folder, which may hold thousands of files
        names = sorted([name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)])
    except OSError:
        names = []
    if _listings is not None:
        _listings[key] = names
    return names


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` left by a killed run; call only while holding the lock."""
    removed = []
    names = _temp_names(target.parent)
    for prefix in (TEMP_PREFIX + temp_prefix(target), temp_prefix(target)):
        i = bisect.bisect_left(names, prefix)
        while i < len(names) and names[i].startswith(prefix):
            name, i = names[i], i + 1
            if not is_stale_temp_name(name, target):
                continue
            path = target.parent / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    os.unlink(path)
                    removed.append(path)
    return removed
