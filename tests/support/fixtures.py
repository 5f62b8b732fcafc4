"""The shared fixture corpus: real Excel, LibreOffice and XlsxWriter workbooks in ../shared/fixtures.

The folder is listed when a test runs, never when it is collected: conftest's ``fixtures_dir``
fixture and its ``fixture_workbooks`` marker turn a missing corpus into a clear failure.
"""

from __future__ import annotations

from pathlib import Path

from support import REPO

FIXTURES_DIR = (REPO / ".." / "shared" / "fixtures").resolve()
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlam")
MISSING = f"fixture workbooks not found at {FIXTURES_DIR}: check out ../shared beside the repository"


def fixture_workbooks() -> list[Path]:
    """Every workbook in the shared fixtures folder, sorted by name."""
    return sorted(p for p in FIXTURES_DIR.iterdir() if p.suffix in WORKBOOK_SUFFIXES)
