"""Make broken variants of the example workbook, the way a user would break it.

Variants are written with the project's own lossless writer (typing a value into a cell), or
by renaming a sheet in the package: never through openpyxl, which would empty every formula's
cached value and so break the workbook in ways no user does.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

from xlreport.core.cells import parse_a1
from xlreport.core.changes import CellWrite, ChangeSet
from xlreport.ooxml.apply import apply_changes

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "workbooks" / "exempel_kommunstyrelsen_2020_d1.xlsx"
TEMPLATE = REPO / "workbooks" / "mall.xlsx"


def variant(dest: Path, cells: dict[str, Any] | None = None, src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` with ``cells`` typed in: {"Sheet!A1": value}; None empties the cell."""
    shutil.copyfile(src, dest)
    if cells:
        writes = []
        for ref, value in cells.items():
            sheet, addr = ref.rsplit("!", 1)
            row, col = parse_a1(addr)
            writes.append(CellWrite(sheet, row, col, value))
        apply_changes(dest, ChangeSet(writes=writes), out=dest)
    return dest


def rename_sheet(dest: Path, old: str, new: str, src: Path = EXAMPLE) -> Path:
    """A copy of ``src`` whose sheet ``old`` is called ``new`` (workbook.xml edited in place)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                text, n = re.subn(f'name="{re.escape(old)}"', f'name="{new}"', text)
                assert n == 1, f"sheet {old} not found"
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dest


def xlreport(*args, cwd=None, timeout: float = 300):
    """Run the real CLI as a user does (a new process); no traceback may ever reach the user."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "xlreport", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, check=False)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_HOLDER = """
import sys, time
from xlreport.ooxml.atomic import workbook_lock
with workbook_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(path: Path, seconds: float):
    """Another process holding the workbook's xlreport lock (as a long refresh would); kill it when done."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc
