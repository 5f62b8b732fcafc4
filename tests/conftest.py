"""Shared fixtures: the real workbooks in ../shared/fixtures and writable copies of them."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = (REPO_ROOT / ".." / "shared" / "fixtures").resolve()
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlam")


def fixture_workbooks() -> list[Path]:
    """Every workbook in the shared fixtures folder, sorted by name."""
    return sorted(p for p in FIXTURES_DIR.iterdir() if p.suffix in WORKBOOK_SUFFIXES)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES_DIR.is_dir():  # the corpus every writer must pass: missing it is a failure, not a skip
        pytest.fail(f"fixture workbooks not found at {FIXTURES_DIR}: check out ../shared beside the repository")
    return FIXTURES_DIR


@pytest.fixture
def tmp_copy(tmp_path: Path, fixtures_dir: Path) -> Callable[..., Path]:
    """Copy a fixture (by name or path) into tmp_path, writable; returns the copy's path."""

    def copy(name: str | Path, dest_name: str | None = None) -> Path:
        src = Path(name) if Path(name).is_absolute() else fixtures_dir / name
        dest = tmp_path / (dest_name or src.name)
        shutil.copyfile(src, dest)
        dest.chmod(dest.stat().st_mode | stat.S_IWUSR)
        return dest

    return copy


def raw_compressed(path: Path, name: str) -> bytes:
    """The compressed bytes of one zip entry exactly as stored in the file."""
    import struct
    import zipfile

    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        n_len, x_len = struct.unpack("<2H", header[26:30])
        f.seek(info.header_offset + 30 + n_len + x_len)
        return f.read(info.compress_size)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that needs LibreOffice fails without it: a skipped fidelity test proves nothing."""
    if item.get_closest_marker("libreoffice") is not None and shutil.which("soffice") is None:
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh", pytrace=False)
