"""Numbers the Swedish way: reading what users type, writing what reports print."""

from __future__ import annotations

import math
import re

from ..records import Record
from .chars import visible

MINUS = "\u2212"  # the typographic minus used in print
_NBSP = ("\u00a0", "\u202f", "\u2009", "\u2007", " ")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}( \d{3})+|\d+)?([.,]\d+)?$")
_UNIT_SUFFIX = re.compile(r"\s*(mnkr|tkr|kr|%|procent)$", re.IGNORECASE)
# one separator with exactly three digits after it, and at most three before: "1.234", "12,500"
_GROUP_OR_DECIMAL = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")


class NumberText(Record, frozen=True):
    """How a text reads as a number (:func:`read_number_text`)."""

    value: float  # in the text's own unit ("3,2 tkr" is 3.2)
    decimals: int  # decimals written ("12,50" has 2)
    unit: str | None  # "mnkr", "tkr", "kr" or "%" when the text ends with one, else None
    #: a lone separator with three digits after it ("1.234", "12,500"): a decimal separator
    #: or a thousands separator, the text does not say which
    grouping_unclear: bool = False


def read_number_text(text: str) -> NumberText | None:
    """The number a user most probably meant by ``text``, or None if it is no number.

    Accepts Swedish forms ("12,9", "1 234,5" with normal, non-breaking (U+00A0), narrow
    (U+202F) or thin spaces, "−3,2" with a Unicode minus, "3,2-" with a trailing minus as
    ledger exports write it, "(3,2)" for a negative amount, "3,2 mnkr") and the English
    decimal point; invisible characters (a soft hyphen, a zero-width space) are ignored.
    """
    s = visible(text).strip()
    if not s:
        return None
    for sp in _NBSP:
        s = s.replace(sp, " ")
    s = s.replace(MINUS, "-").replace("\u2013", "-").strip()
    m = _UNIT_SUFFIX.search(s)
    unit = None
    if m:
        unit = "%" if m.group(1).lower() in ("%", "procent") else m.group(1).lower()
        s = s[:m.start()].strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    elif s.endswith("-") and not s.startswith(("-", "+")):
        negative, s = True, s[:-1].rstrip()
    if negative and s[:1] in ("-", "+"):
        return None  # "(-3,2)", "-3,2-": two signs, no telling what was meant
    s = re.sub(r"^([+-])\s+", r"\1", s)
    if not s or not _NUMBER.match(s) or not any(ch.isdigit() for ch in s):
        return None
    value = float(s.replace(" ", "").replace(",", "."))
    sep = max(s.rfind(","), s.rfind("."))
    decimals = len(s) - sep - 1 if sep >= 0 else 0
    return NumberText(-value if negative else value, decimals, unit, bool(_GROUP_OR_DECIMAL.match(s)))


def parse_number_text(text: str) -> float | None:
    """The number a user most probably meant by ``text`` (:func:`read_number_text`), or None."""
    r = read_number_text(text)
    return None if r is None else r.value


def held_text(value: float) -> str:
    """A float's decimal text as Excel holds and shows it: its shortest text (repr), cut to 15
    significant digits when longer (−18,53 − (−21,48) is 2.9499999999999993 in binary, "2.95" here)."""
    text = repr(float(value))
    if len(text) > 16 and len(text.lstrip("-0.").replace(".", "").partition("e")[0]) > 15:
        return f"{value:.15g}"
    return text


def round_half_up(value: float, decimals: int = 1) -> float:
    """Round as Excel's ROUND and printed reports do: halves away from zero, on the value as
    Excel holds it, to 15 significant digits.

    Excel shows and rounds a number at 15 significant digits, so the difference 2,95 that
    −18,53 − (−21,48) gives in binary, 2.9499999999999993, is 3,0 in a cell formatted 0,0 and
    in ROUND(…;1); rounding the binary value would print 2,9. So the float's shortest decimal
    text (its repr) is cut to 15 significant digits first when it is longer, then rounded digit
    by digit: what ``Decimal(f"{value:.15g}").quantize(...)`` with ROUND_HALF_UP gives (the tests
    hold the two equal), without importing decimal (3 M of the 205 M instructions a one-file
    validation costs)."""
    if not -1e15 < value < 1e15:  # no decimals left to round beyond 15 digits (nor in inf, nan), and
        return value  # Decimal's 28-digit context refuses to quantize such a number
    text = held_text(value)
    if "e" in text or decimals < 0:  # below 1e-4 (written with an exponent), or rounding to tens
        return _round_decimal(text, decimals)
    whole, _, fraction = text.lstrip("-").partition(".")
    if len(fraction) <= decimals:
        return float(text)
    scaled = int(whole + fraction[:decimals]) + (fraction[decimals] >= "5")  # the first digit cut decides
    rounded = scaled / 10**decimals  # int / int: correctly rounded, however many digits
    return -rounded if text[0] == "-" else rounded


def _round_decimal(text: str, decimals: int) -> float:
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


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
