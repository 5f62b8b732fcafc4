"""Test support: the helpers the tests and the benchmarks share, one module a concern.

* :mod:`support.workbooks` - the repository's workbooks (EXAMPLE, TEMPLATE), variants of them
  (a value typed into a cell, a sheet renamed), their parts and hashes;
* :mod:`support.fixtures` - the shared fixture corpus in ``../shared/fixtures``;
* :mod:`support.cli` - the command line run as a user runs it (one runner), and a process that
  holds a workbook's lock;
* :mod:`support.modules` - the repository's scripts (``workbooks/build.py``, ...) loaded as modules;
* :mod:`support.memory` - the engine on the example's grids in memory (the in-memory door);
* :mod:`support.fill` - a stamped unit workbook filled with figures, as a unit's staff would;
* :mod:`support.hostile` - the builders of the bad-input corpus;
* :mod:`support.libreoffice` - LibreOffice headless, to prove another program reads our files;
* :mod:`support.excel_payload` - xlwings remote-engine payloads for the Excel door.

Only the repository root is defined here, so ``from support import libreoffice`` loads only
what it names. Benchmarks import these with ``tests/`` on ``sys.path``.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the repository root
