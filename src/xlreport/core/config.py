"""Settings of the checks; defaults fit the template (amounts in mnkr with one decimal)."""

from __future__ import annotations

from ..records import Record, fields

# field -> (lowest, highest) allowed; None: no bound
_BOUNDS = {"decimals": (0, 6), "percent_decimals": (0, 6), "tolerance_per_term": (0, None),
           "percent_tolerance_per_term": (0, None), "tolerance_cap": (0, None), "materiality": (0, None)}


class Config(Record, frozen=True):
    """Tolerances and limits of the rules.

    Printed figures are rounded, so a sum of rounded terms may differ from its rounded total.
    A sum check allows ``tolerance_per_term`` for every figure in the equation (the addends
    and the total): half a unit of the last printed decimal, 0.05 for one decimal, and never
    more than ``tolerance_cap`` (a small unit left out must still be found).
    """

    decimals: int = 1  # decimals of amounts in mnkr
    tolerance_per_term: float = 0.05  # allowed rounding per figure in a sum
    percent_decimals: int = 1
    percent_tolerance_per_term: float = 0.05
    tolerance_cap: float = 0.2  # the most any sum may be off, however many terms
    # mnkr: a unit or income-statement row whose Avvikelse helår or ack is at least this needs an
    # explanation, unless Uppgifter gives its own Väsentlighetsgräns (mnkr)
    materiality: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            kind = int if f.type in ("int", int) else float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    (kind is int and not float(value).is_integer()):
                raise ValueError(f"{f.name} must be a number ({kind.__name__}), not {value!r}")
            lo, hi = _BOUNDS[f.name]
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValueError(f"{f.name} must be within {lo}..{hi if hi is not None else '∞'}, not {value!r}")

    def tolerance(self, terms: int, *, percent: bool = False) -> float:
        """The rounding a sum of ``terms`` figures may be off by (typed, rounded figures only: a
        formula is recomputed by the tool and matches its parts exactly)."""
        per = self.percent_tolerance_per_term if percent else self.tolerance_per_term
        # a hair above the exact bound, so 0.05 + 0.05 is not lost to binary floating point
        return min(per * terms, self.tolerance_cap) + 1e-9


DEFAULT = Config()
