"""xlreport as IT gets it: the built wheel, the offline bundle, installed into a fresh
environment with no index, and every command run from a folder outside the checkout.

One environment for the whole session (building and installing take about half a minute):
the wheel is built from this checkout (``pip wheel``), ``xlreport bundle --platform current``
downloads its dependencies for this machine's Python (the same logic as the Windows bundle,
which needs Windows wheels), and the bundle's own ``install.py`` installs it with
``--no-index --find-links`` into a temporary ``%LOCALAPPDATA%\\xlreport``. The ``.cmd`` scripts
cannot run here; their text is checked instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import REPO
from support.fill import fill_unit
from support.workbooks import EXAMPLE, TEMPLATE, sheet_rows
from xlreport import __version__, addin
from xlreport.bundle import PYTHONS, ROOT, cmd_script


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bundle: Path
    root: Path  # the installation folder (%LOCALAPPDATA%\xlreport here)
    work: Path  # a folder outside the checkout to run the commands in

    @property
    def env(self) -> Path:
        return self.root / "env"

    def xlreport(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """The installed command, run as a user runs it: from ``work``, nothing of the checkout
        on the path."""
        exe = self.env / ("Scripts/xlreport.exe" if sys.platform.startswith("win") else "bin/xlreport")
        return subprocess.run([str(exe), *args], cwd=cwd or self.work, env=clean_env(), capture_output=True,
                              text=True, encoding="utf-8", timeout=300, check=False)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "XLREPORT_TEMPLATE")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, **kw)
    assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(base / "dist"), str(REPO)])
    (wheel,) = (base / "dist").glob("xlreport-*.whl")
    bundle = base / "bundle"
    run([sys.executable, "-m", "xlreport", "bundle", "-o", str(bundle), "--wheel", str(wheel), "--platform", "current"])
    root = base / "LocalAppData" / "xlreport"
    run([sys.executable, str(bundle / "install.py"), "install", "--root", str(root)], env=clean_env(), cwd=base)
    work = base / "arbete"
    work.mkdir()
    return Installed(wheel, bundle, root, work)


# --- the wheel ----------------------------------------------------------------------------

def test_the_wheel_carries_the_template_and_the_addin_sources(installed):
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        assert whl.read("xlreport/data/mall.xlsx") == TEMPLATE.read_bytes()  # the committed source of truth
        for source in (REPO / "macros").iterdir():
            assert whl.read(f"xlreport/macros/{source.name}") == source.read_bytes(), source.name
    modules = {f"xlreport/{p.relative_to(REPO / 'src' / 'xlreport').as_posix()}"
               for p in (REPO / "src" / "xlreport").rglob("*.py")}
    assert modules <= names, modules - names  # every module of the checkout is in the wheel
    shipped = {n for n in names if n.startswith("xlreport/") and n.endswith(".py")}
    assert shipped <= modules, shipped - modules  # and no module the checkout no longer has


def test_the_installed_package_is_not_the_checkout(installed):
    code = "import xlreport, xlreport.resources as r; print(xlreport.__file__); print(r.packaged('data/mall.xlsx'))"
    python = installed.env / ("Scripts/python.exe" if sys.platform.startswith("win") else "bin/python")
    out = run([str(python), "-c", code], cwd=installed.work, env=clean_env()).stdout.splitlines()
    assert all(str(installed.env) in line and str(REPO) not in line for line in out), out


# --- every command from any folder --------------------------------------------------------

def test_new_stamps_the_packaged_template(installed):
    done = installed.xlreport("new", "--unit", "KLK Ledning", "--period", "2020-03", "-o", "enhet.xlsx")
    assert done.returncode == 0, done.stderr
    assert "Ingen mall" not in done.stderr
    meta = sheet_rows(installed.work / "enhet.xlsx", "Uppgifter")
    assert any(row[:2] == ["Enhet", "KLK Ledning"] for row in meta)


def test_consolidate_uses_the_packaged_template(installed, tmp_path):
    units = tmp_path / "inkommet"
    units.mkdir()
    done = installed.xlreport("new", "--unit", "KLK Ledning", "--unit", "KLK HR", "--period", "2020-03",
                              "-o", str(units))
    assert done.returncode == 0, done.stderr
    for i, path in enumerate(sorted(units.glob("*.xlsx"))):
        fill_unit(path, {"Utfall ack": 10.0 + i, "Budget ack": 9.0, "Budget helår": 36.0, "Prognos helår": 38.0})
    (tmp_path / "enheter.txt").write_text("KLK Ledning\nKLK HR\n", encoding="utf-8")
    done = installed.xlreport("consolidate", str(units), "--units", str(tmp_path / "enheter.txt"),
                              "-o", "namnd.xlsx")
    assert done.returncode in (0, 1), done.stderr  # 1: the nämnd's own metadata is not filled in
    assert "Sammanställde 2 av 2 filer" in done.stdout, done.stdout
    units_sheet = sheet_rows(installed.work / "namnd.xlsx", "Driftredovisning")
    assert {"KLK Ledning", "KLK HR"} <= {row[0] for row in units_sheet if row}


def test_addin_build_finds_its_sources_in_the_package(installed):
    done = installed.xlreport("addin", "build", "-o", "tillagg.xlam")
    assert done.returncode == 0, done.stderr
    built = installed.work / "tillagg.xlam"
    assert addin.read_config(built) == addin.default_config()
    with zipfile.ZipFile(built) as z:
        assert "xl/vbaProject.bin" in z.namelist() and "customUI/customUI.xml" in z.namelist()


def test_the_example_refresh_from_a_temporary_folder(installed):
    shutil.copyfile(EXAMPLE, installed.work / "exempel.xlsx")
    done = installed.xlreport("refresh", "exempel.xlsx", "-o", "ut.xlsx")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 fel" in done.stdout and "Rapport" in done.stdout
    report = sheet_rows(installed.work / "ut.xlsx", "Rapport")
    text = " ".join(str(v) for row in report for v in row)
    assert "17,1 mnkr" in text and "+16,4 mnkr" in text


def test_the_installer_put_a_configured_addin_in_place(installed):
    placed = installed.root / "addin" / "xlreport.xlam"  # Excel's XLSTART on Windows
    interpreter = addin.read_config(placed)
    python = installed.env / ("Scripts/pythonw.exe" if sys.platform.startswith("win") else "bin/python")
    assert list(interpreter.values()) == [str(python)]


# --- the bundle ---------------------------------------------------------------------------

def test_the_bundle_holds_what_it_says(installed):
    files = {p.relative_to(installed.bundle).as_posix() for p in installed.bundle.rglob("*") if p.is_file()}
    assert {"install.cmd", "uninstall.cmd", "install.py", "xlreport.xlam", "LASMIG-IT.txt", "VERSION",
            "SHA256SUMS.txt"} <= files
    assert f"wheels/{installed.wheel.name}" in files
    sums = (installed.bundle / "SHA256SUMS.txt").read_text(encoding="utf-8").splitlines()
    assert len(sums) == len(files) - 1
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((installed.bundle / name).read_bytes()).hexdigest() == digest, name


def test_the_install_scripts_use_only_the_bundle_folder():
    for action in ("install", "uninstall"):
        text = cmd_script(action, __version__)
        assert "\r\n" in text and text.isascii()
        assert f'set "TARGET={ROOT}"' in text and ROOT == r"%LOCALAPPDATA%\xlreport"
        assert f'"%BUNDLE%install.py" {action} --root "%TARGET%"' in text
        assert 'set "BUNDLE=%~dp0"' in text
        assert not re.search(r"https?://|\\\\[A-Za-z]", text)  # no URL, no network share
        assert "py -%%V" in text and f"for %%V in ({' '.join(sorted(PYTHONS, reverse=True))})" in text
    installer = (REPO / "src" / "xlreport" / "installer.py").read_text(encoding="utf-8")
    assert '"--no-index", "--find-links", str(WHEELS)' in installer
    assert 'environ["PIP_CONFIG_FILE"] = os.devnull' in installer  # no pip configuration, no index from it
    assert 'Path(os.environ.get("LOCALAPPDATA")' in installer and '/ "xlreport"' in installer


def test_a_bundle_needs_an_empty_folder(tmp_path):
    (tmp_path / "något.txt").write_text("x", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "xlreport", "bundle", "-o", str(tmp_path)], capture_output=True,
                          text=True, encoding="utf-8", check=False)
    assert done.returncode == 2 and "inte tom" in done.stderr and "Traceback" not in done.stderr


def test_uninstall_removes_the_environment_and_the_addin(installed):
    """Last in this module: it takes away the environment the tests above use."""
    run([sys.executable, str(installed.bundle / "install.py"), "uninstall", "--root", str(installed.root)],
        env=clean_env())
    assert not installed.env.exists() and not (installed.root / "addin" / "xlreport.xlam").exists()
