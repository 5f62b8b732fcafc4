"""Shared fixtures: the real workbooks in ../shared/fixtures and writable copies of them.

The helpers the tests share are in the package ``support`` (tests/support/), not here.
"""

from __future__ import annotations

import os

# Every workbook a test reads through the file door's one-pass scan is read by calamine too, and
# a difference fails the test (xlreport.doors.file._CHECK_READER); set before xlreport is imported,
# and inherited by the command-line runs the tests start.
os.environ["XLREPORT_CHECK_READER"] = "1"

import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from support.fixtures import FIXTURES_DIR, MISSING, fixture_workbooks

pytest_plugins = ["catalogue_guard"]  # every finding a test makes has a declared rule id


def _require_fixtures() -> Path:
    if not FIXTURES_DIR.is_dir():  # the corpus every writer must pass: missing it is a failure, not a skip
        pytest.fail(MISSING)
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return _require_fixtures()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fixture_workbooks(argname, names=False, suffixes=None): run the test "
                                       "once per workbook of ../shared/fixtures (its path, or with names=True its "
                                       "file name; suffixes keeps only those kinds)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``@pytest.mark.fixture_workbooks("path")``: one test per workbook of the fixture corpus.

    The folder is listed here, while collecting; without it the test is collected once and
    fails at setup with the ``fixtures_dir`` message, instead of the whole module failing to
    collect.
    """
    marker = metafunc.definition.get_closest_marker("fixture_workbooks")
    if marker is None:
        return
    (argname,) = marker.args
    if not FIXTURES_DIR.is_dir():
        metafunc.parametrize(argname, [None], ids=["fixtures-missing"])
        return
    suffixes = marker.kwargs.get("suffixes")
    paths = [p for p in fixture_workbooks() if suffixes is None or p.suffix in suffixes]
    values = [p.name for p in paths] if marker.kwargs.get("names") else paths
    metafunc.parametrize(argname, values, ids=[p.name for p in paths])


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


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that needs LibreOffice fails without it: a skipped fidelity test proves nothing.

    A test run once per fixture workbook fails without the corpus (see pytest_generate_tests).
    """
    if item.get_closest_marker("fixture_workbooks") is not None:
        _require_fixtures()
    if item.get_closest_marker("libreoffice") is not None and shutil.which("soffice") is None:
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh", pytrace=False)
