"""Numbers the Swedish way: reading what users type, writing what reports print."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

MINUS = "\u2212"  # the typographic minus used in print
_NBSP = ("\u00a0", "\u202f", "\u2009", " ")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}( \d{3})+|\d+)?([.,]\d+)?$")
_UNIT_SUFFIX = re.compile(r"\s*(mnkr|tkr|kr|%|procent)$", re.IGNORECASE)


def parse_number_text(text: str) -> float | None:
    """The number a user most probably meant by ``text``, or None if it is no number.

    Accepts Swedish forms ("12,9", "1 234,5" with normal or non-breaking spaces, "−3,2" with
    a Unicode minus, "(3,2)" for a negative amount, "3,2 mnkr") and the English decimal point.
    """
    s = text.strip()
    if not s:
        return None
    for sp in _NBSP:
        s = s.replace(sp, " ")
    s = s.replace(MINUS, "-").replace("\u2013", "-")
    s = _UNIT_SUFFIX.sub("", s).strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    s = re.sub(r"^([+-])\s+", r"\1", s)
    if not s or not _NUMBER.match(s) or not any(ch.isdigit() for ch in s):
        return None
    value = float(s.replace(" ", "").replace(",", "."))
    return -value if negative else value


def round_half_up(value: float, decimals: int = 1) -> float:
    """Round as Excel's ROUND and printed reports do: halves away from zero."""
    q = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP)
    return float(d)


def fmt_number(value: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """1234.56 -> "1 234,6"; -3.2 -> "−3,2"; sign=True gives "+4,0" for positives."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    r = round_half_up(value, decimals)
    if r == 0:
        r = 0.0  # never print "−0,0"
    body = f"{abs(r):,.{decimals}f}".replace(",", " ").replace(".", ",")
    if r < 0:
        return MINUS + body
    return ("+" + body) if sign and r > 0 else body


def fmt_mnkr(value: float | None, *, sign: bool = False) -> str:
    return f"{fmt_number(value, 1, sign=sign)} mnkr"


def fmt_percent(value: float | None) -> str:
    """Percentage points stored as 2.5 -> "2,5 %"."""
    return f"{fmt_number(value, 1)} %"


def fmt_int(value: float | None, *, sign: bool = False) -> str:
    return fmt_number(value, 0, sign=sign)
