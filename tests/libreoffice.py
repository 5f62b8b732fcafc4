"""Open workbooks with LibreOffice headless, to prove that another program can read what we write.

soffice instances that share a user profile collide, so every call uses its own throw-away
profile and calls are serialised with a lock (a thread lock and a file lock, for parallel test
runs). Several files are converted in one soffice call, which is far faster than one per file.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# LibreOffice picks no import filter for .xlam by extension; the OOXML one reads it fine.
XLSX_FILTER = "Calc MS Excel 2007 XML"
LOCK_FILE = Path(tempfile.gettempdir()) / "xlreport-soffice.lock"
_thread_lock = threading.Lock()


def available() -> bool:
    return SOFFICE is not None


def convert(files: list[Path], to: str = "csv", timeout: float = 120) -> dict[Path, Path | None]:
    """Convert each file with LibreOffice; map each input to its output, or None if it did not open.

    For csv only the first sheet is exported. Inputs may share a stem: each is linked into a
    private folder under a unique name first.
    """
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is not installed; run scripts/setup.sh")
    work = Path(tempfile.mkdtemp(prefix="xlreport-lo-"))
    inputs = {}
    for i, f in enumerate(files):
        link = work / f"in{i}_{f.stem}{f.suffix}"
        shutil.copyfile(f, link)
        inputs[f] = link
    outdir = work / "out"
    profile = f"file://{work}/profile-{uuid.uuid4().hex}"
    cmd = [SOFFICE, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={profile}",
           f"--infilter={XLSX_FILTER}", "--convert-to", to, "--outdir", str(outdir),
           *[str(p) for p in inputs.values()]]
    with _thread_lock, open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    ext = to.split(":", 1)[0]
    result = {}
    for f, link in inputs.items():
        out = outdir / f"{link.stem}.{ext}"
        result[f] = out if out.exists() and out.stat().st_size > 0 else None
    return result


def opens(path: Path, timeout: float = 120) -> bool:
    """Whether LibreOffice opens ``path`` (converting it to csv succeeds)."""
    return convert([path], timeout=timeout)[path] is not None
