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

    def tolerance(self, terms: int, *, percent: bool = False) -> float:
        per = self.percent_tolerance_per_term if percent else self.tolerance_per_term
        # a hair above the exact bound, so 0.05 + 0.05 is not lost to binary floating point
        return per * terms + 1e-9


DEFAULT = Config()
