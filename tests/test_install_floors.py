"""The dependency floors in pyproject.toml are true: the suite passes with exactly those versions.

A fresh environment gets every runtime dependency pinned at its floor (``name>=X`` becomes
``name==X``; their own dependencies resolve as pip resolves them, as for a user) plus the test
tools, and runs the tests that exercise the libraries' APIs (:data:`FLOOR_SUITE`) against the
checkout's source, without the LibreOffice checks (they test our files, not the libraries).
Needs the package index, like scripts/setup.sh.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from support import REPO

FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)$")
TOOLS = ["pytest", "xlsxwriter", "oletools", "msoffcrypto-tool"]  # the dev extra, without ruff
# The tests that exercise the libraries' APIs (calamine, lxml, xlwings' remote engine,
# openpyxl's Translator, pyOpenVBA, filelock, pandas): the rest exercise our own code the same
# way and would double CI's time for nothing the floors change.
FLOOR_SUITE = ["tests/test_engine.py", "tests/test_rules.py", "tests/test_formulas.py", "tests/test_excel.py",
               "tests/test_sheetxml.py", "tests/test_package.py", "tests/test_styles.py", "tests/test_addin.py",
               "tests/test_catalogue.py", "tests/test_cli.py", "tests/test_departments.py", "tests/test_batch.py"]


def floors() -> list[str]:
    """``name==floor`` for every runtime dependency of pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        m = FLOOR.match(requirement.split(";")[0].strip())
        assert m, f"{requirement}: every dependency needs a floor (name>=version)"
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def test_every_dependency_has_a_floor_and_python_matches_xlwings():
    pins = dict(p.split("==") for p in floors())
    assert tuple(int(x) for x in pins["xlwings"].split(".")) >= (0, 37, 5)  # Range.set_colors
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.11"  # xlwings 0.37 and python-calamine 0.9 need it


def test_the_suite_passes_against_the_floor_versions(tmp_path):
    env = tmp_path / "floors"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = str(env / ("Scripts/python.exe" if sys.platform.startswith("win") else "bin/python"))
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              *floors(), *TOOLS], capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    environ["PYTHONPATH"] = str(REPO / "src")
    args = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not libreoffice", "-W", "ignore",
            *FLOOR_SUITE]
    done = subprocess.run(args, cwd=REPO, env=environ, capture_output=True, text=True, timeout=1500, check=False)
    versions = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True, check=False).stdout
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}\nwith:\n{versions}"
