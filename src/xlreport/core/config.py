"""Settings of the checks; defaults fit the template (amounts in mnkr with one decimal)."""

from __future__ import annotations

from ..records import Record, fields
from .swedish import held_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from collections.abc import Iterable

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

    def tolerance_of(self, figures: Iterable[float | None], *, percent: bool = False) -> float:
        """The rounding the equation of ``figures`` (its parts and its total) may be off by, from
        the decimals each figure carries as typed (:func:`typed_decimals`): one with no more than the
        printed decimals allows ``tolerance_per_term`` (0,05 for 2,5), one with more allows half a
        unit of its own last decimal (0,005 for 0,85: it was rounded there, not at the printed
        decimal). An empty figure is no value and allows nothing. Never more than
        ``tolerance_cap``. A number format that shows fewer decimals (0,85 shown 0,9) does not
        change what the cell holds: the figure is checked as it is stored."""
        per, printed = (self.percent_tolerance_per_term, self.percent_decimals) if percent else \
            (self.tolerance_per_term, self.decimals)
        total = 0.0
        for v in figures:
            if v is not None:
                d = typed_decimals(v)
                total += per if d <= printed else 0.5 * 10.0 ** -d
        return min(total, self.tolerance_cap) + 1e-9


def typed_decimals(value: float) -> int:
    """The decimals ``value`` carries: those of its shortest decimal text at 15 significant digits,
    as Excel holds it (0.85 has 2, 2.5 has 1, 3.0 has none; 0.1 + 0.2 is 0.3, with 1). A float
    does not keep what was typed: 2,50 is 2.5, with one decimal."""
    value = float(value)
    if value.is_integer():
        return 0
    mantissa, _, exponent = held_text(value).partition("e")
    decimals = len(mantissa.partition(".")[2]) - (int(exponent) if exponent else 0)
    return max(decimals, 0)


DEFAULT = Config()
