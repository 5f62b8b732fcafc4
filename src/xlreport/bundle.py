"""``xlreport bundle``: a folder IT can install from on a PC without internet and without admin rights.

    xlreport bundle -o DIR [--wheel XLREPORT.whl] [--python 3.11 --python 3.12 ...] [--platform win_amd64]

The folder holds:

* ``wheels/`` - xlreport's wheel and every dependency's, for Windows x64 and each supported
  Python (``pip download --only-binary=:all: --platform win_amd64 --python-version X``; pywin32
  is named explicitly, since pip judges the ``platform_system == 'Windows'`` marker of xlwings
  by the machine it runs on). ``--platform current`` downloads for the running Python instead:
  what CI installs and runs on Linux to prove the same logic end to end;
* ``xlreport.xlam`` - the add-in, configured for ``%LOCALAPPDATA%\\xlreport\\env``;
* ``install.py`` - the installer (:mod:`xlreport.installer`, standard library only), and
  ``install.cmd`` / ``uninstall.cmd``, which find a Python with the ``py`` launcher and run it;
* ``LASMIG-IT.txt`` (for IT, in Swedish), ``VERSION`` and ``SHA256SUMS.txt``.

Downloading needs the package index (or the proxy/mirror pip is configured with); installing
from the folder needs nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from .core.errors import XlreportError
from .records import Record, field

WINDOWS = "win_amd64"
CURRENT = "current"
PYTHONS = ("3.11", "3.12", "3.13")  # the versions requires-python allows and every dependency has wheels for
ROOT = r"%LOCALAPPDATA%\xlreport"

# One template for both scripts: they differ only in the action they hand install.py.
CMD_TEMPLATE = r"""@echo off
rem xlreport {version}: {title}, for this user only (no admin rights, no internet).
rem Everything comes from this folder (%~dp0); the environment lives in {root}.
setlocal
set "BUNDLE=%~dp0"
set "TARGET={root}"
set "PY="
for %%V in ({versions}) do if not defined PY py -%%V -c "" >nul 2>&1 && set "PY=py -%%V"
if not defined PY python -c "" >nul 2>&1 && set "PY=python"
if not defined PY (
  echo Hittar ingen Python {supported}. Be IT installera Python, eller installera den
  echo fran python.org med "Install for current user", och kor {script} igen.
  exit /b 1
)
%PY% "%BUNDLE%install.py" {action} --root "%TARGET%" %*
exit /b %ERRORLEVEL%
"""


class BundleError(XlreportError):
    """A bundle could not be made (no wheel, a download failed, the folder is not empty)."""


class Bundle(Record):
    folder: Path
    wheels: list[Path] = field(default_factory=list)
    pythons: tuple[str, ...] = ()
    platform: str = WINDOWS

    def describe(self) -> str:
        target = "Windows x64" if self.platform == WINDOWS else "den här datorn"
        return (f"Skrev {self.folder}: {len(self.wheels)} hjulfiler för {target}, Python "
                f"{', '.join(self.pythons)}; install.cmd installerar utan internet och utan administratörsrätt.")


def cmd_script(action: str, version: str, pythons: tuple[str, ...] = PYTHONS) -> str:
    """install.cmd (``action="install"``) or uninstall.cmd, with Windows line endings."""
    title = "installera" if action == "install" else "ta bort"
    versions = " ".join(sorted(pythons, reverse=True))
    text = CMD_TEMPLATE.format(version=version, title=title, root=ROOT, versions=versions, action=action,
                               supported=" eller ".join(pythons), script=f"{action}.cmd")
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def make(out: str | Path, *, wheel: str | Path | None = None, pythons: tuple[str, ...] | None = None,
         platform: str = WINDOWS) -> Bundle:
    """Write the bundle into ``out`` (a new or empty folder)."""
    from . import __version__, addin

    folder = Path(out)
    if folder.exists() and any(folder.iterdir()):
        raise BundleError(f"Mappen {folder} är inte tom; ange en ny mapp med -o.")
    pythons = tuple(pythons or (PYTHONS if platform == WINDOWS else (f"{sys.version_info[0]}.{sys.version_info[1]}",)))
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    own = _own_wheel(wheel, wheels)
    for python in pythons:
        _download(own, wheels, python, platform)
    addin.build(folder / "xlreport.xlam")
    shutil.copyfile(Path(__file__).with_name("installer.py"), folder / "install.py")
    for action in ("install", "uninstall"):
        (folder / f"{action}.cmd").write_bytes(cmd_script(action, __version__, pythons).encode("ascii"))
    (folder / "VERSION").write_text(__version__ + "\n", encoding="utf-8")
    (folder / "LASMIG-IT.txt").write_text(readme(__version__, pythons, platform), encoding="utf-8")
    result = Bundle(folder, sorted(wheels.glob("*.whl")), pythons, platform)
    _checksums(folder)
    return result


def _own_wheel(wheel: str | Path | None, wheels: Path) -> Path:
    """xlreport's wheel in ``wheels``: the one given, or built from the checkout we run from."""
    from .resources import checkout_root

    if wheel is not None:
        src = Path(wheel)
        if not src.is_file():
            raise BundleError(f"Hittar inte hjulfilen {src}.")
        return Path(shutil.copy2(src, wheels / src.name))
    root = checkout_root()
    if root is None:
        raise BundleError("Ange xlreports hjulfil med --wheel (den här installationen har ingen källkod att "
                          "bygga den från).")
    _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), str(root)], "bygga xlreports hjulfil")
    built = sorted(wheels.glob("xlreport-*.whl"))
    if not built:
        raise BundleError("pip byggde ingen hjulfil för xlreport.")
    return built[-1]


def _download(own: Path, wheels: Path, python: str, platform: str) -> None:
    args = ["download", "--dest", str(wheels), "--only-binary=:all:", str(own)]
    if platform != CURRENT:
        args += ["--platform", platform, "--python-version", python, "--implementation", "cp"]
        if platform.startswith("win"):
            args.append("pywin32>=224")  # xlwings' Windows-only dependency (see the module docstring)
    _pip(args, f"hämta beroendena för Python {python}")


def _pip(args: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"],
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise BundleError(f"Kunde inte {what} (pip avslutade med kod {done.returncode}): {detail[0]} "
                          "Paketindexet (eller den proxy pip är inställd på) måste nås när paketet skapas.")


def _checksums(folder: Path) -> None:
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(folder).as_posix()}")
    (folder / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def readme(version: str, pythons: tuple[str, ...], platform: str) -> str:
    target = "Windows x64" if platform == WINDOWS else f"den dator det skapades på ({sys.platform})"
    return f"""xlreport {version} - installationspaket för IT
{'=' * (len(version) + 37)}

Paketet installerar xlreport och Excel-tillägget Delårsrapport för en användare, utan
internet och utan administratörsrätt. Det gäller {target} och Python {', '.join(pythons)}.

Krav på datorn
  * Python {' eller '.join(pythons)} (python.org, "Install for current user" räcker, eller
    IT:s egen distribution). install.cmd hittar den med py-startaren eller python på PATH.
  * Excel för Windows (Microsoft 365 eller 2016 och senare) med VBA-makron tillåtna för
    filer på betrodda platser.

Installera (per användare)
  Kör install.cmd från den här mappen (dubbelklick, eller i ett kommandofönster). Den
  1. skapar en Python-miljö i {ROOT}\\env,
  2. installerar xlreport från mappen wheels (pip --no-index --find-links: inget hämtas
     från nätet, ingen pip-konfiguration eller proxy läses),
  3. lägger tillägget xlreport.xlam i %APPDATA%\\Microsoft\\Excel\\XLSTART (en betrodd plats
     i Excels standardinställning) med sökvägen till miljöns pythonw.exe i tilläggets eget
     blad xlreport.conf.
  Kör install.cmd igen för att uppgradera: miljön ersätts.

Ta bort
  uninstall.cmd tar bort tillägget och {ROOT}.

Filer
  wheels\\          xlreport och alla beroenden som hjulfiler
  xlreport.xlam    tillägget (kan också delas ut centralt, t.ex. till XLSTART)
  install.py       installationsprogrammet (bara Pythons standardbibliotek)
  install.cmd, uninstall.cmd
  SHA256SUMS.txt   kontrollsummor för varje fil

Mer för IT: docs/it.md i xlreport (betrodda platser eller signerat tillägg, Defender-regeln
som hindrar Office att starta underprocesser, proxy).
"""
