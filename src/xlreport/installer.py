"""Install or remove xlreport from an offline bundle, for this user only, without admin rights.

This file is copied into every bundle as ``install.py`` (see :mod:`xlreport.bundle`) and runs
with whatever Python the PC has, before xlreport exists there: it uses the standard library only
and nothing else of xlreport. ``install.cmd`` and ``uninstall.cmd`` call it.

    python install.py install   [--root DIR] [--addin-dest DIR]
    python install.py uninstall [--root DIR] [--addin-dest DIR]

``install`` creates a virtual environment in ``ROOT\\env`` (ROOT is ``%LOCALAPPDATA%\\xlreport``
on Windows), installs xlreport into it from the bundle's ``wheels`` folder only (``--no-index
--find-links``, every pip configuration file and variable ignored, so nothing is fetched from a
network), then installs the add-in into Excel's start-up folder, configured to run that
environment's ``pythonw.exe``. An earlier environment in ROOT is replaced. ``uninstall`` removes
the add-in and the environment.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEELS = HERE / "wheels"
ADDIN = HERE / "xlreport.xlam"
VERSION_FILE = HERE / "VERSION"
MIN_PYTHON = (3, 11)


def default_root() -> Path:
    """``%LOCALAPPDATA%\\xlreport`` on Windows; ``~/.local/share/xlreport`` elsewhere."""
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "xlreport"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "xlreport"


def env_python(env: Path, windowless: bool = False) -> Path:
    if sys.platform.startswith("win"):
        return env / "Scripts" / ("pythonw.exe" if windowless else "python.exe")
    return env / "bin" / "python"


def offline_environ() -> dict[str, str]:
    """The environment for pip: no configuration file, no PIP_* variable, no proxy needed."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    environ["PIP_CONFIG_FILE"] = os.devnull
    environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    environ.pop("PYTHONPATH", None)
    return environ


def run(cmd: list[str]) -> None:
    print("  " + " ".join(f'"{c}"' if " " in c else c for c in cmd), flush=True)
    done = subprocess.run(cmd, check=False, env=offline_environ())
    if done.returncode != 0:
        raise SystemExit(f"Installationen avbröts: kommandot ovan misslyckades (slutkod {done.returncode}). "
                         "Inget annat har ändrats; kör install.cmd igen när felet är åtgärdat.")


def check_python() -> None:
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    if sys.version_info < MIN_PYTHON or not any(tag in p.name for p in WHEELS.glob("*.whl")):
        have = sorted({p.name.split("-")[2] for p in WHEELS.glob("*-cp3*-*.whl")})
        raise SystemExit(f"Python {sys.version_info[0]}.{sys.version_info[1]} kan inte användas med det här "
                         f"paketet, som har hjulfiler för {', '.join(have) or 'inga versioner'}. Installera en av "
                         "dem (python.org, \"Install for current user\") eller be IT om ett paket för din version.")


def install(root: Path, addin_dest: Path | None) -> None:
    version = VERSION_FILE.read_text(encoding="utf-8").strip()
    check_python()
    env = root / "env"
    print(f"xlreport {version}: installerar i {env}")
    if env.exists():
        if not (env / "pyvenv.cfg").is_file():
            raise SystemExit(f"{env} finns men är ingen Python-miljö; flytta eller ta bort mappen och försök igen.")
        shutil.rmtree(env)
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    python = str(env_python(env))
    run([python, "-m", "pip", "install", "--no-index", "--find-links", str(WHEELS), "--only-binary", ":all:",
         f"xlreport=={version}"])
    command = [python, "-m", "xlreport", "addin", "install", str(ADDIN),
               "--interpreter", str(env_python(env, windowless=True))]
    if addin_dest is not None:
        command += ["--dest", str(addin_dest)]
    run(command)
    print("Klart. Starta om Excel: fliken Delårsrapport finns i menybandet.")


def uninstall(root: Path, addin_dest: Path | None) -> None:
    env = root / "env"
    python = env_python(env)
    if python.is_file():
        command = [str(python), "-m", "xlreport", "addin", "remove"]
        if addin_dest is not None:
            command += ["--dest", str(addin_dest)]
        run(command)
    if (env / "pyvenv.cfg").is_file():
        shutil.rmtree(env)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
    print("xlreport är borttaget. Starta om Excel.")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="install.py", description="Installera eller ta bort xlreport (utan internet).")
    p.add_argument("action", choices=("install", "uninstall"))
    p.add_argument("--root", type=Path, help="installationsmappen (standard: %%LOCALAPPDATA%%\\xlreport)")
    p.add_argument("--addin-dest", type=Path, help="mappen för tillägget (standard: Excels startmapp)")
    args = p.parse_args(argv)
    root = args.root or default_root()
    addin_dest = args.addin_dest
    if addin_dest is None and not (sys.platform.startswith("win") or sys.platform == "darwin"):
        addin_dest = root / "addin"  # no Excel here (CI): the add-in beside the environment
    (install if args.action == "install" else uninstall)(root, addin_dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
