"""Batch refresh and validate: many files, folders and globs, parallel processes, one report."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import python_calamine as pc

from support.cli import start, xlreport
from support.workbooks import EXAMPLE, sha, variant
from xlreport.batch import expand


def mixed_folder(tmp_path: Path) -> dict[str, Path]:
    """Good, broken and unreadable workbooks, plus files a batch must skip."""
    folder = tmp_path / "rapporter"
    folder.mkdir()
    files = {}
    for i in range(3):
        files[f"bra{i}"] = shutil.copyfile(EXAMPLE, folder / f"bra{i}.xlsx")
    files["fel"] = variant(folder / "fel.xlsx", {"Personal!D5": 99})
    files["text"] = folder / "inte.xlsx"
    files["text"].write_text("Konto;Utfall\n", encoding="utf-8")
    files["trasig"] = folder / "trasig.xlsx"
    files["trasig"].write_bytes(EXAMPLE.read_bytes()[:5000])
    (folder / "~$annan.xlsx").write_bytes(b"owner")  # Excel's lock file of another workbook
    (folder / ".~xlreport-abc.xlsx").write_bytes(b"temp")  # an interrupted write
    (folder / "anteckningar.txt").write_text("x", encoding="utf-8")
    (folder / "arkiv.xlsx").mkdir()  # a folder with a workbook's name is not a workbook
    return files


def test_expand_folders_globs_and_skips(tmp_path):
    files = mixed_folder(tmp_path)
    folder = tmp_path / "rapporter"
    got = expand([folder])
    assert [p.name for p in got] == ["bra0.xlsx", "bra1.xlsx", "bra2.xlsx", "fel.xlsx", "inte.xlsx", "trasig.xlsx"]
    assert [p.name for p in expand([str(folder / "bra*.xlsx"), files["bra1"]])] == ["bra0.xlsx", "bra1.xlsx",
                                                                                      "bra2.xlsx"]
    assert [p.name for p in expand([str(tmp_path / "**" / "fel.xlsx")])] == ["fel.xlsx"]
    assert expand([tmp_path / "saknas.xlsx"]) == [tmp_path / "saknas.xlsx"]  # reported, not dropped
    assert expand([str(folder / "inget*.xlsx")]) == [folder / "inget*.xlsx"]  # likewise a glob matching nothing


def test_a_glob_that_matches_nothing_is_reported_not_dropped(tmp_path):
    mixed_folder(tmp_path)
    folder = tmp_path / "rapporter"
    proc = xlreport("validate", folder / "bra0.xlsx", str(folder / "inget*.xlsx"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "inget*.xlsx: fel: Inga filer matchar mönstret" in proc.stdout


def test_a_reader_that_stops_early_is_not_a_program_error(tmp_path):
    """`xlreport validate MAPP --format json | head -c 10`: no "oväntat fel", no log, no traceback."""
    mixed_folder(tmp_path)
    proc = start("validate", tmp_path / "rapporter", "--format", "json", text=False)
    proc.stdout.close()  # the reader is gone before anything is written: every write fails
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr
    assert "oväntat fel" not in stderr and "Traceback" not in stderr


def test_validate_batch_in_parallel_json(tmp_path):
    files = mixed_folder(tmp_path)
    proc = xlreport("validate", tmp_path / "rapporter", "--jobs", "2", "--format", "json")
    assert proc.returncode == 2  # the worst outcome
    doc = json.loads(proc.stdout)
    assert set(doc) == {"files", "findings"}
    status = {Path(f["file"]).name: f["status"] for f in doc["files"]}
    assert status == {"bra0.xlsx": 0, "bra1.xlsx": 0, "bra2.xlsx": 0, "fel.xlsx": 1, "inte.xlsx": 2, "trasig.xlsx": 2}
    assert [Path(f["file"]).name for f in doc["files"]] == sorted(status)  # input order, not finishing order
    finding = next(f for f in doc["findings"] if f["rule"] == "personal-kon")
    assert finding["file"] == str(files["fel"]) and finding["cell"] == "D5"


def test_refresh_batch_good_files_written_bad_ones_untouched(tmp_path):
    files = mixed_folder(tmp_path)
    before = {k: sha(p) for k, p in files.items()}
    started = time.perf_counter()
    proc = xlreport("refresh", str(tmp_path / "rapporter" / "*.xlsx"), "--jobs", "2")
    assert time.perf_counter() - started < 120
    assert proc.returncode == 2
    for i in range(3):
        assert sha(files[f"bra{i}"]) != before[f"bra{i}"]
        rows = pc.CalamineWorkbook.from_path(str(files[f"bra{i}"])).get_sheet_by_name("Rapport").to_python()
        assert rows[0][0] == "Delårsrapport 1 2020 – Kommunstyrelsen"
    for k in ("fel", "text", "trasig"):
        assert sha(files[k]) == before[k], k
    # per-file lines as before, then the summary table
    line = next(x for x in proc.stdout.splitlines() if x.startswith(f"{files['fel']}: ") and "varningar;" in x)
    assert line.endswith("; inget skrevs eftersom arbetsboken har fel.")
    table = proc.stdout.split("\n\n")[-1]
    assert table.splitlines()[0].split() == ["Fil", "Fel", "Varn.", "Tid", "(s)", "Status"]
    assert "6 filer: 3 utan fel, 1 med fel, 2 kunde inte behandlas" in table
    # not a terminal: plain progress lines on stderr, one per file
    assert len([line for line in proc.stderr.splitlines() if line.startswith("[")]) == 6
    assert not list((tmp_path / "rapporter").glob(".~xlreport-*[!c].xlsx"))


def test_output_only_for_one_file(tmp_path):
    a = shutil.copyfile(EXAMPLE, tmp_path / "a.xlsx")
    b = shutil.copyfile(EXAMPLE, tmp_path / "b.xlsx")
    proc = xlreport("refresh", a, b, "-o", tmp_path / "ut.xlsx")
    assert proc.returncode == 2 and "bara användas med en arbetsbok" in proc.stderr
    assert not (tmp_path / "ut.xlsx").exists()


def test_jobs_1_and_2_give_the_same_result(tmp_path):
    for jobs in ("1", "2"):
        d = tmp_path / jobs
        d.mkdir()
        for i in range(3):
            shutil.copyfile(EXAMPLE, d / f"r{i}.xlsx")
        assert xlreport("refresh", d, "--jobs", jobs).returncode == 0
    for i in range(3):
        one = pc.CalamineWorkbook.from_path(str(tmp_path / "1" / f"r{i}.xlsx"))
        two = pc.CalamineWorkbook.from_path(str(tmp_path / "2" / f"r{i}.xlsx"))
        for name in one.sheet_names:
            assert one.get_sheet_by_name(name).to_python() == two.get_sheet_by_name(name).to_python()


def test_a_parallel_validation_never_imports_the_writer(tmp_path):
    """Forked workers inherit what the parent imported: for a validation that is the reader,
    never the writer and lxml (about 25 ms before the first file)."""
    import subprocess
    import sys

    for i in range(3):
        shutil.copyfile(EXAMPLE, tmp_path / f"enhet_{i}.xlsx")
    code = ("import sys\nfrom xlreport.batch import expand, run_batch\n"
            f"results = run_batch(expand([{str(tmp_path)!r}]), (), write=False, jobs=2)\n"
            "assert [r.status for r in results] == [0, 0, 0], [r.findings for r in results]\n"
            "print('lxml' in sys.modules, 'xlreport.ooxml.apply' in sys.modules, 'multiprocessing' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]  # nor the standard library's pool (60 ms to import)


def test_spawned_workers_give_the_same_results_as_forked_ones(tmp_path, monkeypatch):
    """Windows and macOS spawn their workers through the standard library's pool; Linux can too."""
    from xlreport import batch

    files = [shutil.copyfile(EXAMPLE, tmp_path / f"bra{i}.xlsx") for i in range(3)]
    files.append(variant(tmp_path / "fel.xlsx", {"Personal!D5": 99}))
    forked = batch.run_batch(files, (), write=False, jobs=2)
    monkeypatch.setattr(batch, "_start_method", lambda: "spawn")
    spawned = batch.run_batch(files, (), write=False, jobs=2)
    assert [(r.file, r.status, [f.message for f in r.findings]) for r in spawned] == \
        [(r.file, r.status, [f.message for f in r.findings]) for r in forked]
    assert [r.status for r in forked] == [0, 0, 0, 1]


def test_the_tasks_cover_every_file_once_in_order():
    from xlreport.batch import _chunks

    for n in (0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 200, 1001):
        for jobs in (2, 3, 8):
            for write in (False, True):
                tasks = list(_chunks(n, jobs, write))
                assert [i for a, b in tasks for i in range(a, b)] == list(range(n))
                sizes = [b - a for a, b in tasks]
                assert all(1 <= s <= (1 if write else 8) for s in sizes)
                assert sizes == sorted(sizes, reverse=True)  # the workers finish together
    assert max(b - a for a, b in _chunks(200, 2, False)) == 8  # a validation: several files a task


def test_a_worker_that_dies_is_reported_for_its_files_and_the_batch_goes_on(tmp_path):
    """A real worker process dies (as out of memory would kill it) on one file of a parallel
    validation: every file still has a result, the lost ones status 2 with a message."""
    import subprocess
    import sys

    for i in range(12):
        shutil.copyfile(EXAMPLE, tmp_path / f"enhet_{i:02d}.xlsx")
    code = ("import os\nfrom xlreport import batch\n"
            "real = batch.run_one\n"
            "def run_one(path, *a, **k):\n"
            "    if path.endswith('enhet_05.xlsx'):\n"
            "        os._exit(9)\n"
            "    return real(path, *a, **k)\n"
            "batch.run_one = run_one\n"
            f"results = batch.run_batch(batch.expand([{str(tmp_path)!r}]), (), write=False, jobs=2)\n"
            "for r in results:\n"
            "    print(os.path.basename(r.file), r.status, ' '.join(f.message for f in r.findings))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [f"enhet_{i:02d}.xlsx" for i in range(12)]
    dead = [line for line in lines if line.split()[1] == "2"]
    assert any(line.startswith("enhet_05.xlsx 2 Arbetsprocessen för filen avbröts") for line in dead)
    assert all("Arbetsprocessen för filen avbröts" in line for line in dead)
    assert all(line.split()[1:] == ["0"] for line in lines if line not in dead)


def test_a_file_leaves_no_reference_cycles_behind(tmp_path):
    """Everything a file's run allocated is freed by reference counting as it ends: a cycle would
    keep the file's grids alive until a garbage collection, which in a batch freed ~140 files'
    grids at once (20-40 ms, and the run's memory and caches full of dead grids until then)."""
    import gc

    from xlreport.batch import run_one

    files = [shutil.copyfile(EXAMPLE, tmp_path / f"r{i}.xlsx") for i in range(2)]
    broken = variant(tmp_path / "fel.xlsx", {"Personal!D5": 99})
    runs = [(EXAMPLE, (), False), (files[1], ("fill", "generate"), True), (broken, (), False)]
    run_one(str(files[0]), ("fill", "generate"), True)  # first-use caches and imports are not the run's
    run_one(str(broken), (), False)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path, actions, write in runs:
            assert run_one(str(path), actions, write).status in (0, 1)
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert left == []
