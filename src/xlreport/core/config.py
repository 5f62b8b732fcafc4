"""Settings of the checks; defaults fit the template (amounts in mnkr with one decimal)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Config(BaseModel):
    """Tolerances and limits of the rules.

    Printed figures are rounded, so a sum of rounded terms may differ from its rounded total.
    A sum check allows ``tolerance_per_term`` for every figure in the equation (the addends
    and the total): half a unit of the last printed decimal, 0.05 for one decimal.
    """

    decimals: int = Field(1, ge=0, le=6, description="decimals of amounts in mnkr")
    tolerance_per_term: float = Field(0.05, ge=0, description="allowed rounding per figure in a sum")
    percent_decimals: int = Field(1, ge=0, le=6)
    percent_tolerance_per_term: float = Field(0.05, ge=0)
    tolerance_cap: float = Field(0.2, ge=0, description="the most any sum may be off, however many terms: "
                                                       "a small unit left out must still be found")

    def tolerance(self, terms: int, *, percent: bool = False) -> float:
        """The rounding a sum of ``terms`` figures may be off by (typed, rounded figures only: a
        formula is recomputed by the tool and matches its parts exactly)."""
        per = self.percent_tolerance_per_term if percent else self.tolerance_per_term
        # a hair above the exact bound, so 0.05 + 0.05 is not lost to binary floating point
        return min(per * terms, self.tolerance_cap) + 1e-9


DEFAULT = Config()
