"""The repository's scripts loaded as modules: the workbook builders and the benchmarks.

They are not part of the package (``workbooks/build.py`` writes the committed workbooks,
``benchmarks/kill_test.py`` is also run on its own), so they are loaded by path, once a session.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from types import ModuleType

from support import REPO


@functools.cache
def script(relpath: str) -> ModuleType:
    """The script at ``relpath`` (from the repository root) as a module, loaded once."""
    name = "repo_" + re.sub(r"\W", "_", relpath.removesuffix(".py"))
    spec = importlib.util.spec_from_file_location(name, REPO / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build() -> ModuleType:
    """``workbooks/build.py``: the template and the worked example, from workbooks/data."""
    return script("workbooks/build.py")


def build_legacy() -> ModuleType:
    """``workbooks/build_legacy.py``: the template version 0.9 fixture in tests/data."""
    return script("workbooks/build_legacy.py")


def kill_test() -> ModuleType:
    """``benchmarks/kill_test.py``: SIGKILL during refreshes."""
    return script("benchmarks/kill_test.py")
