"""Departments: stamped templates, template versions, and consolidation of unit workbooks.

* :func:`new` / :func:`new_many` write copies of the template stamped for a unit;
* :func:`upgrade` moves a workbook made from an older template version into the current one;
* :func:`consolidate` reads the units' workbooks and writes the nämnd's unit table and income
  statement into the central workbook.

See ``docs/departments.md`` for the walk-through. Nothing here saves a workbook through a
spreadsheet library: every write goes through the lossless package writer. The submodules are
imported on first use, so ``import xlreport.departments.common`` stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "new": "stamp", "new_many": "stamp", "read_unit_list": "stamp", "StampResult": "stamp",
    "upgrade": "upgrading", "UpgradeResult": "upgrading",
    "consolidate": "consolidation", "ConsolidationResult": "consolidation", "read_unit": "consolidation",
}
__all__ = ["ConsolidationResult", "StampResult", "UpgradeResult", "consolidate", "new", "new_many",
           "read_unit", "read_unit_list", "upgrade"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
