"""Which row of the income statement an account belongs to, and which unit an object is.

Accounts: a list of rules, each an account prefix or a range of prefixes (``5``, ``60-61``,
``4610``) and a row of Resultaträkning (Intäkter, Kostnader, one of the *varav* rows, one of the
municipal shape's financial rows, or ``-`` for "not in the income statement"). The most specific
rule that matches an account wins (the longest prefix; of equal ones, the later line). A *varav*
row is a part of Kostnader, so an account mapped to it also counts in Kostnader. The rules of a
CSV file (``--map``) come before the defaults: an account no rule of the file matches falls back
to :data:`DEFAULT_RULES`.

The defaults follow Kommun-Bas (the municipal chart of accounts, by account class): 1–2 balance
sheet (not in the income statement), 3 verksamhetens intäkter, 4–7 kostnader of which 5
personalkostnader, 46 köp av verksamhet (entreprenad och köp av huvudverksamhet) and 60–61
lokalkostnader (lokal- och markhyror, fastighetskostnader); in class 8, 80–84 (skatter,
generella statsbidrag, finansiella intäkter) are intäkter and 85 (finansiella kostnader)
kostnader. In an income statement of the municipal shape (with the rows Finansiella intäkter,
Finansiella kostnader or Finansiella poster), 84 and 85 go to those rows instead
(:func:`financial_rules`). The rest of class 8 and class 9 are used differently from one
municipality to the next: they have no default, so an amount on them is an error until a CSV
says where it goes.

Units: an object of the unit dimension is the unit whose name the CSV (``--enheter``) gives it,
else the unit with the object's name (#OBJEKT), else the unit whose name is the object's code.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core import layout as L
from ..core.chars import ascii_digits
from ..core.errors import os_error_sv
from ..departments.common import decode_text
from ..records import Record
from .checks import SIE_KARTA, SieError, SieFinding

EXCLUDED = "-"  # "not in the income statement"
_EXCLUDED_WORDS = {"-", "–", "ingen", "inget", "utanför", "utanfor", "exkludera", "ej"}
_ROWS = (L.ROW_INTAKTER, L.ROW_KOSTNADER, *L.VARAV_ROWS, *L.FINANCIAL_ROWS)
_ROW_OF = {L.norm(r): r for r in _ROWS}
_ACCOUNT_HEADERS = {"konto", "konton", "kontonummer", "kontointervall"}
_ROW_HEADERS = {"rad", "post", "rad i resultaträkning", "resultaträkning"}
_OBJECT_HEADERS = {"objekt", "objektkod", "kod", "kostnadsställe", "ansvar"}
_UNIT_HEADERS = {L.norm(L.HEAD_UNITS), "enheter"}


class Rule(Record, frozen=True):
    """Accounts ``first``..``last`` (prefixes of equal length) belong to ``row``."""

    first: str
    last: str
    row: str  # a row label of layout (L.ROW_...) or EXCLUDED
    origin: str  # "Kommun-Bas" or "konton.csv rad 4"

    def matches(self, account: str) -> bool:
        n = len(self.first)
        head = account[:n]
        return len(head) == n and self.first <= head <= self.last

    def text(self) -> str:
        span = self.first if self.first == self.last else f"{self.first}–{self.last}"
        return f"{span} {self.row}"


def _rule(span: str, row: str, origin: str = "Kommun-Bas") -> Rule:
    first, _, last = span.partition("-")
    return Rule(first, last or first, row, origin)


#: The Kommun-Bas defaults, in order (of equally specific rules the later wins).
DEFAULT_RULES: tuple[Rule, ...] = (
    _rule("1-2", EXCLUDED),
    _rule("3", L.ROW_INTAKTER),
    _rule("4-7", L.ROW_KOSTNADER),
    _rule("5", L.ROW_PERSONAL),
    _rule("46", L.ROW_KOP),
    _rule("60-61", L.ROW_LOKAL),
    _rule("80-84", L.ROW_INTAKTER),
    _rule("85", L.ROW_KOSTNADER),
)


def financial_rules(rows: set[str]) -> tuple[Rule, ...]:
    """The Kommun-Bas financial accounts for an income statement of the municipal shape (the
    labels in ``rows``): 84 (finansiella intäkter) and 85 (finansiella kostnader) go to the rows
    Finansiella intäkter and Finansiella kostnader, or both to Finansiella poster, when the
    statement has them, instead of Intäkter and Kostnader."""
    out = []
    for span, own in (("84", L.ROW_FIN_INTAKTER), ("85", L.ROW_FIN_KOSTNADER)):
        row = own if own in rows else L.ROW_FIN_POSTER if L.ROW_FIN_POSTER in rows else None
        if row is not None:
            out.append(_rule(span, row, "Kommun-Bas (finansiella poster)"))
    return tuple(out)


class Placement(Record, frozen=True):
    """Where an account goes: ``row`` is Intäkter or Kostnader (None: no rule, EXCLUDED: not in
    the income statement), ``part`` the varav row it is also part of, ``rule`` the rule."""

    row: str | None
    part: str | None = None
    rule: Rule | None = None


def _best(rules: tuple[Rule, ...], account: str) -> Rule | None:
    best = None
    for r in rules:  # later rules win ties: >=
        if r.matches(account) and (best is None or len(r.first) >= len(best.first)):
            best = r
    return best


class _FileMap:
    @classmethod
    def load(cls, spec):
        """``spec`` itself (a map), the defaults (None) or the map in a CSV file (a path)."""
        if isinstance(spec, cls):
            return spec
        return cls() if spec is None else cls.from_csv(spec)


class AccountMap(_FileMap):
    """Accounts to income-statement rows: the rules of a file first, then the defaults."""

    def __init__(self, rules: tuple[Rule, ...] = (), defaults: tuple[Rule, ...] = DEFAULT_RULES,
                 source: str | None = None):
        self.rules = tuple(rules)
        self.defaults = tuple(defaults)
        self.source = source
        self._cache: dict[str, Placement] = {}

    @classmethod
    def from_csv(cls, path: str | Path) -> AccountMap:
        """Rules from a CSV file: columns Konto and Rad (a header row is optional)."""
        path = Path(path)
        rules = []
        for n, account, row in _pairs(path, _ACCOUNT_HEADERS, _ROW_HEADERS, "Konto;Rad"):
            span = account.replace(" ", "").replace("\u2013", "-")
            first, _, last = span.partition("-")
            last = last or first
            if not (ascii_digits(first) and ascii_digits(last) and len(first) == len(last) and first <= last):
                raise _bad(path, n, f"kontot '{account}' är inget konto eller intervall. Skriv t.ex. 5, 4610 "
                                    f"eller 60-61 (lika många siffror på båda sidor).")
            target = _ROW_OF.get(L.norm(row)) or (EXCLUDED if L.norm(row) in _EXCLUDED_WORDS else None)
            if target is None:
                raise _bad(path, n, f"raden '{row}' finns inte i Resultaträkning. Skriv en av "
                                    f"{', '.join(_ROWS)} eller - (inte i resultaträkningen).")
            rules.append(Rule(first, last, target, f"{path.name} rad {n}"))
        return cls(tuple(rules), source=str(path))

    def for_statement(self, rows: set[str]) -> AccountMap:
        """This map for an income statement with the rows ``rows`` (their labels): with the
        municipal shape's financial rows, the defaults send 84 and 85 there (:func:`financial_rules`)."""
        extra = financial_rules(rows) if self.defaults == DEFAULT_RULES else ()
        return AccountMap(self.rules, self.defaults + extra, self.source) if extra else self

    def targets(self) -> set[str]:
        """Every row some rule sends accounts to (not EXCLUDED)."""
        return {r.row for r in (*self.rules, *self.defaults) if r.row != EXCLUDED}

    def place(self, account: str) -> Placement:
        got = self._cache.get(account)
        if got is None:
            rule = _best(self.rules, account) or _best(self.defaults, account)
            if rule is None:
                got = Placement(None)
            elif rule.row in L.VARAV_ROWS:
                got = Placement(L.ROW_KOSTNADER, rule.row, rule)
            else:
                got = Placement(rule.row, None, rule)
            self._cache[account] = got
        return got


class UnitMap(_FileMap):
    """Objects of the unit dimension to the workbook's units."""

    def __init__(self, by_code: dict[str, tuple[str, int]] | None = None, source: str | None = None):
        self.by_code = dict(by_code or {})  # object code -> (unit, line of the file)
        self.source = source

    @classmethod
    def from_csv(cls, path: str | Path) -> UnitMap:
        """Columns Objekt and Enhet (a header row is optional)."""
        path = Path(path)
        out: dict[str, tuple[str, int]] = {}
        for n, code, unit in _pairs(path, _OBJECT_HEADERS, _UNIT_HEADERS, "Objekt;Enhet"):
            if code in out and L.norm(out[code][0]) != L.norm(unit):
                raise _bad(path, n, f"objektet '{code}' står redan på rad {out[code][1]} (enheten '{out[code][0]}').")
            out[code] = (unit, n)
        return cls(out, source=str(path))

    def unit_of(self, code: str, name: str | None, units: dict[str, str]) -> tuple[str | None, int | None]:
        """The unit (its name as in ``units``: normalised name -> name) of object ``code`` and
        the line of the CSV that says so (None when the name or code matched)."""
        mapped = self.by_code.get(code)
        if mapped is not None:
            return units.get(L.norm(mapped[0])), mapped[1]
        for key in (name, code):
            if key and L.norm(key) in units:
                return units[L.norm(key)], None
        return None, None


def _bad(path: Path, line: int | None, message: str) -> SieError:
    message = message[:1].upper() + message[1:]
    finding = SieFinding(SIE_KARTA, message, line, source=str(path))
    where = f"rad {line}: " if line is not None else ""
    return SieError(f"{where}{message}", file=path, findings=[finding])


def _pairs(path: Path, first_headers: set[str], second_headers: set[str], example: str):
    """(line, first, second) for every data row of a two-column CSV file (; , or tab)."""
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise _bad(path, None, f"filen kunde inte läsas ({os_error_sv(exc)}).") from exc
    sample = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = max(";\t,", key=sample.count) if any(d in sample for d in ";\t,") else ";"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    seen_data = False
    for row in reader:
        n = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not seen_data and L.norm(cells[0]) in first_headers:
            if len(cells) < 2 or L.norm(cells[1]) not in second_headers:
                raise _bad(path, n, f"rubrikraden ska vara {example}.")
            seen_data = True
            continue
        seen_data = True
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise _bad(path, n, f"raden ska ha två värden, som {example.replace(';', delimiter)} "
                                f"(avgränsade med '{delimiter}').")
        yield n, cells[0], cells[1]
