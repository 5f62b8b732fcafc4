"""Let LibreOffice recalculate a workbook and export every sheet as CSV.

LibreOffice normally trusts the cached values of an .xlsx; a fresh profile with
``OOXMLRecalcMode = 0`` ("always recalculate") makes it compute every formula itself, so the
CSV shows what an independent calculation engine makes of the formulas we wrote.
"""

from __future__ import annotations

import fcntl
import subprocess
import tempfile
import uuid
from pathlib import Path

from libreoffice import LOCK_FILE, SOFFICE, XLSX_FILTER, _thread_lock

_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""

# CSV filter: comma, double quote, UTF-8, ..., last token -1 = every sheet to its own file
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def convert_sheets_to_csv(path: Path, outdir: Path, *, recalc: bool = True, timeout: float = 180) -> dict[str, Path]:
    """Export each sheet of ``path`` to ``outdir``; returns {sheet name: csv path}."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is not installed; run scripts/setup.sh")
    profile = Path(tempfile.mkdtemp(prefix="xlreport-lo-profile-")) / uuid.uuid4().hex
    if recalc:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE, encoding="utf-8")
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [SOFFICE, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation=file://{profile}",
           f"--infilter={XLSX_FILTER}", "--convert-to", _CSV_ALL_SHEETS, "--outdir", str(outdir), str(path)]
    with _thread_lock, open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    prefix = f"{path.stem}-"
    return {p.stem[len(prefix):]: p for p in outdir.glob(f"{path.stem}-*.csv")}
