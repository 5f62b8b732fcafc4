"""Crash-safe writes and locks, with real processes: SIGKILL mid-write, two writers at once.

The kill test runs ``XLREPORT_KILL_COUNT`` rounds (20 by default, to keep CI short); the full
run is ``python benchmarks/kill_test.py --count 100`` (see docs/reliability.md).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from support import modules
from support.cli import finish, hold_lock, lock_held, start
from support.workbooks import variant

KILL_COUNT = int(os.environ.get("XLREPORT_KILL_COUNT", "20"))


def test_sigkill_never_leaves_a_half_written_workbook(tmp_path):
    result = modules.kill_test().run(KILL_COUNT, tmp_path / "kill", seed=20200416, lo_sample=2)
    assert result.problems == []
    assert result.damaged == 0 and result.unreadable == 0
    assert result.ended_old + result.ended_new == KILL_COUNT
    assert result.stray_at_end == 0  # the next run cleans up what a killed one left
    assert result.killed > KILL_COUNT // 2  # the kills really landed while the process ran
    if shutil.which("soffice"):
        assert result.libreoffice_checked == 2 and result.libreoffice_failed == 0


# --- the inter-process lock ---------------------------------------------------------------


def copy(tmp_path: Path) -> Path:
    return variant(tmp_path / "bok.xlsx")


def test_second_writer_refuses_after_the_timeout(tmp_path):
    path = copy(tmp_path)
    before = path.read_bytes()
    with lock_held(path, 6):
        started = time.monotonic()
        code, out = finish(start("refresh", path, env={"XLREPORT_LOCK_TIMEOUT": "1"}))
        waited = time.monotonic() - started
        assert code == 2
        assert f"{path}: fel: En annan körning av xlreport arbetar med bok.xlsx just nu (väntade 1 s)" in out
        assert 1 <= waited < 5
        assert path.read_bytes() == before
        code, _ = finish(start("validate", path))  # reading needs no lock
        assert code == 0


def test_second_writer_waits_for_the_first(tmp_path):
    path = copy(tmp_path)
    holder = hold_lock(path, 2)
    started = time.monotonic()
    code, out = finish(start("refresh", path))  # default timeout 10 s
    assert code == 0, out
    assert time.monotonic() - started >= 1.5
    holder.wait()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_concurrent_fill_and_generate_never_lose_an_update(tmp_path):
    """fill and generate at the same moment: with the lock the second reads what the first wrote.

    Without it, the slower one would write back the workbook as it was before the other's change.
    """
    for round_no in range(3):
        path = copy(tmp_path)
        procs = [start(cmd, path) for cmd in ("fill", "generate", "fill", "generate")]
        results = [finish(p) for p in procs]
        assert all(code == 0 for code, _ in results), results
        wb = CalamineWorkbook.from_path(str(path))
        income = wb.get_sheet_by_name("Resultaträkning").to_python()
        assert isinstance(income[4][4], float), f"round {round_no}: the filled deviations were lost"
        assert "Rapport" in wb.sheet_names and wb.get_sheet_by_name("Rapport").to_python()[0][0]
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_stale_temp_files_of_the_workbook_are_removed(tmp_path):
    path = copy(tmp_path)
    stale = tmp_path / ".~xlreport-bok.xlsx.k1ll3d.xlsx"  # what a killed run leaves
    stale.write_bytes(b"PK\x03\x04 half")
    other = tmp_path / ".~xlreport-annan.xlsx.abc123.xlsx"  # another workbook's: not ours to remove
    other.write_bytes(b"x")
    lock = tmp_path / ".~xlreport-bok.xlsx.lock"  # a killed run's lock file: the kernel freed the lock
    lock.write_bytes(b"")
    code, out = finish(start("refresh", path))
    assert code == 0, out
    assert not stale.exists() and not lock.exists()
    assert other.exists()


def test_validate_leaves_no_lock_file(tmp_path):
    path = copy(tmp_path)
    code, _ = finish(start("validate", path))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bok.xlsx"]


@pytest.mark.parametrize("command", ["refresh", "fill", "generate"])
def test_refresh_output_elsewhere_locks_the_output(tmp_path, command):
    src = copy(tmp_path)
    out = tmp_path / "ut" / "rapport.xlsx"
    out.parent.mkdir()
    with lock_held(out, 6):
        code, text = finish(start(command, src, "-o", out, env={"XLREPORT_LOCK_TIMEOUT": "0.5"}))
        assert code == 2 and "En annan körning av xlreport arbetar med rapport.xlsx" in text
        assert not out.exists()
