"""Figures from the ledger: SIE 4 files into the report workbook (``xlreport import-sie``).

* :mod:`xlreport.sie.parser` - a streaming SIE 4 reader (types 1–4), no spreadsheet library;
* :mod:`xlreport.sie.mapping` - accounts to income-statement rows (Kommun-Bas defaults, a CSV
  overrides them) and objects to the workbook's units;
* :mod:`xlreport.sie.plan` - :func:`~xlreport.sie.plan.plan_import`: the cell writes, findings
  and provenance of an import, on sheet grids, for any door (the file door, Excel);
* :mod:`xlreport.sie.importing` - :func:`~xlreport.sie.importing.import_sie`: the file door,
  a lossless atomic write under the workbook lock, then the refresh;
* :mod:`xlreport.sie.checks` - the rule ids, :class:`SieFinding` and :class:`SieError`.

The engine (``xlreport.core``) never imports this package. The submodules are imported on
first use, so ``import xlreport.sie.checks`` stays light (``xlreport rules`` lists its ids).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "read_sie": "parser", "SieFile": "parser",
    "AccountMap": "mapping", "UnitMap": "mapping",
    "plan_import": "plan", "ImportPlan": "plan", "SIE_SHEETS": "plan",
    "import_sie": "importing", "ImportResult": "importing",
    "SieError": "checks", "SieFinding": "checks",
}
__all__ = ["SIE_SHEETS", "AccountMap", "ImportPlan", "ImportResult", "SieError", "SieFile", "SieFinding",
           "UnitMap", "import_sie", "plan_import", "read_sie"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
