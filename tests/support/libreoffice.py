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
    work = Path(tempfile.mkdtemp(prefix="xlreport-lo-"))
    inputs = {}
    for i, f in enumerate(files):
        link = work / f"in{i}_{f.stem}{f.suffix}"
        shutil.copyfile(f, link)
        inputs[f] = link
    outdir = work / "out"
    _soffice(["--convert-to", to, "--outdir", str(outdir), *[str(p) for p in inputs.values()]],
             work / f"profile-{uuid.uuid4().hex}", timeout)
    ext = to.split(":", 1)[0]
    result = {}
    for f, link in inputs.items():
        out = outdir / f"{link.stem}.{ext}"
        result[f] = out if out.exists() and out.stat().st_size > 0 else None
    return result


def _soffice(args: list[str], profile: Path, timeout: float) -> None:
    """Run soffice headless with a private profile, one instance at a time."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is not installed; run scripts/setup.sh")
    cmd = [SOFFICE, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation=file://{profile}",
           f"--infilter={XLSX_FILTER}", *args]
    with _thread_lock, open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# A profile with OOXMLRecalcMode = 0 ("always recalculate"): LibreOffice normally trusts the
# cached values of an .xlsx; this makes it compute every formula itself.
_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
# CSV filter: comma, double quote, UTF-8, ...; the last token -1 writes every sheet to its own file
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def convert_sheets_to_csv(path: Path, outdir: Path, *, recalc: bool = True, timeout: float = 180) -> dict[str, Path]:
    """Export each sheet of ``path`` (recalculated by LibreOffice) to ``outdir``: {sheet: csv}."""
    profile = Path(tempfile.mkdtemp(prefix="xlreport-lo-profile-")) / uuid.uuid4().hex
    if recalc:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    _soffice(["--convert-to", _CSV_ALL_SHEETS, "--outdir", str(outdir), str(path)], profile, timeout)
    prefix = f"{path.stem}-"
    return {p.stem[len(prefix):]: p for p in outdir.glob(f"{path.stem}-*.csv")}


def opens(path: Path, timeout: float = 120) -> bool:
    """Whether LibreOffice opens ``path`` (converting it to csv succeeds)."""
    return convert([path], timeout=timeout)[path] is not None


def libreoffice_agrees(path: Path, tmp: Path, sheets: tuple[str, ...] = ("Resultaträkning", "Driftredovisning"),
                       at_least: int = 10) -> dict[str, Path]:
    """LibreOffice recalculates every formula of ``path``; each number it shows equals the value
    the tool cached, to the printed decimal (more than ``at_least`` numbers a sheet); returns
    LibreOffice's CSV of each sheet."""
    import csv

    from support.workbooks import sheet_rows
    from xlreport.core.swedish import parse_number_text

    csvs = convert_sheets_to_csv(path, tmp / "lo", recalc=True)
    for sheet in sheets:
        cached = sheet_rows(path, sheet)
        with open(csvs[sheet], encoding="utf-8") as f:
            shown = list(csv.reader(f))
        compared = 0
        for r, line in enumerate(shown):
            for c, text in enumerate(line):
                ours = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
                theirs = parse_number_text(text) if text else None
                if isinstance(ours, float) and theirs is not None:
                    assert round(ours, 1) == round(theirs, 1), (sheet, r, c, ours, text)
                    compared += 1
        assert compared > at_least, sheet
    return csvs
