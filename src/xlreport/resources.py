"""The files xlreport needs at run time, found where the installation keeps them.

An installed wheel carries them inside the package (``xlreport/data/mall.xlsx``,
``xlreport/macros/``), put there by the build (``setup.py``) from the checkout's single source
of truth (``workbooks/mall.xlsx``, ``macros/``). An editable install or a source checkout has no
copies: the files are read from the checkout itself. :func:`packaged` looks in that order, with
:mod:`importlib.resources`, so every command works from any folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Inside the package (wheel) -> where the same file lives in a source checkout.
CHECKOUT = {
    "data/mall.xlsx": "workbooks/mall.xlsx",
    "macros": "macros",
}
REPO = Path(__file__).resolve().parents[2]  # the checkout's root, when running from one


def packaged(name: str) -> Path | None:
    """The file or folder ``name`` (a key of :data:`CHECKOUT`), or None when neither the
    package nor a checkout has it."""
    inside = resources.files("xlreport").joinpath(*name.split("/"))
    for path in (Path(str(inside)), REPO / CHECKOUT[name]):
        if path.exists():
            return path
    return None


def checkout_root() -> Path | None:
    """The source checkout xlreport runs from (it has pyproject.toml), or None for a wheel."""
    return REPO if (REPO / "pyproject.toml").is_file() and (REPO / "src" / "xlreport").is_dir() else None
