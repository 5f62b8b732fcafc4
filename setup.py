"""Build step: copy the run-time files from their single source of truth into the package.

``workbooks/mall.xlsx`` (the template) and ``macros/`` (the add-in's ribbon and VBA) are edited
where they are; a wheel must still carry them, so every built package gets copies as
``xlreport/data/mall.xlsx`` and ``xlreport/macros/`` (found at run time by
:mod:`xlreport.resources`). An editable install needs no copies: it reads the checkout.
Everything else about the package is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
COPIES = {  # source in the checkout -> destination inside the package
    "workbooks/mall.xlsx": "data/mall.xlsx",
    "macros/customUI.xml": "macros/customUI.xml",
}
MACRO_GLOBS = ("*.bas", "*.cls")


def copies() -> dict[Path, str]:
    out = {HERE / src: dest for src, dest in COPIES.items()}
    for pattern in MACRO_GLOBS:
        out.update({path: f"macros/{path.name}" for path in sorted((HERE / "macros").glob(pattern))})
    return out


class build_py_with_resources(build_py):
    def run(self):
        if not getattr(self, "editable_mode", False):
            # build_py copies into build/lib but never removes: a module deleted from src/ since
            # the last build would otherwise still ship (a removed checks.py declares its rule
            # ids a second time). The package is built from the sources as they are now.
            shutil.rmtree(Path(self.build_lib) / "xlreport", ignore_errors=True)
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's own files
        for src, dest in copies().items():
            target = Path(self.build_lib) / "xlreport" / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)


setup(cmdclass={"build_py": build_py_with_resources})
