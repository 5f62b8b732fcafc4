"""The in-memory door: a workbook as sheet grids, for callers (and tests) that hold the values.

It implements the engine's :class:`~xlreport.core.engine.Door` contract without a file or Excel:
:meth:`MemoryDoor.read` hands out copies of its grids, :meth:`MemoryDoor.apply` puts the written
values back into them (a formula's cached value, an owned sheet's cell values) and keeps every
change set it was given, so a caller can look at what a file or Excel door would have written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from ..core.cells import Grid
from ..core.changes import ChangeSet
from ..core.layout import norm


class MemoryDoor:
    def __init__(self, grids: Mapping[str, Grid], sheet_names: Sequence[str] | None = None, *,
                 interactive: bool = False):
        self.grids = dict(grids)
        self.sheet_names = list(sheet_names) if sheet_names is not None else list(self.grids)
        self.interactive = interactive
        self.applied: list[ChangeSet] = []

    def read(self, sheets: Sequence[str]) -> tuple[list[str], dict[str, Grid]]:
        wanted = {norm(s) for s in sheets}
        return list(self.sheet_names), {name: copy.deepcopy(grid) for name, grid in self.grids.items()
                                        if norm(name) in wanted}

    def apply(self, changes: ChangeSet) -> ChangeSet:
        for w in changes.writes:
            self.grids[w.sheet].set(w.row, w.col, w.value)
        for content in changes.sheets:
            name = next((n for n in self.sheet_names if n.casefold() == content.name.casefold()), None)
            if name is None:
                name = content.name
                self.sheet_names.append(name)
            values = [[None if c is None else c.value for c in row] for row in content.rows]
            self.grids[name] = Grid(name=name, values=values)
        self.applied.append(changes)
        return changes
