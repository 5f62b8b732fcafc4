"""The report's text against its tables: every figure a sentence states, tied to the model's figure.

Staff write the narrative (the summary, the economy, the staff sections) by hand and quote the
tables in it; published reports most often go wrong there (the reference report says "108
tillsvidareanställda" where the table has 98 of 108). This module finds the *claims* a text makes
about figures the model knows and compares each with the figure, at the rounding the text uses.

How a claim is tied to a figure (conservative: a number the module cannot tie is never flagged):

* **The number and its unit** give the kind: ``mnkr`` / ``miljoner kronor`` / ``tkr`` (an amount),
  ``%`` / ``procent`` (sick leave), a count noun right after the number (``tillsvidareanställda``,
  ``kvinnor``, ``avgångar``, ``åtaganden``, ``stycken`` with its noun earlier in the sentence),
  a year in a fixed construction ("för 2020 budgeteras", "samma period 2019"), a month range
  ("perioden januari–mars").
* **The words around it** pick the figure: the words before the number (back to the previous
  figure of the sentence) first, else the words after it; a row term (``intäkter``, a unit's
  full name, an explanation's label, ``driftram``, ``målnivån``) and a column term (``utfall``,
  ``budget``, ``prognos``, ``avvikelse``, ``föregående år``).
* **Every figure the words allow is a candidate.** A claim is right when it agrees with any
  candidate, and a contradiction only when it agrees with none: the message names the nearest
  candidate ("98, Personal!D5").
* A change ("en ökning med 19 personer") is compared with the table's Förändring, with its sign;
  an amount after a change verb ("förbättrats med 1,2 mnkr") is not tied (the tables have no
  such figure; the amounts before the verb are). "0,5 procentenheter lägre än målnivån" is the
  sick leave's distance to the target, not a change. "under målnivån", "en ökning/minskning
  jämfört med", "har ökat från A till B", "överskott/underskott", "positiv/negativ avvikelse",
  "positivt/negativt resultat" are checked against the figures' order and sign; an amount with
  those words is a deviation or the result, never a net cost.
* A unit is named by its full name or its distinctive words ("HR" for "KLK HR"); a sentence
  about a unit the tables do not have ("Avdelningen Kultur") is not tied to the nämnd's figures.

The module is pure: the doors give it paragraphs (cells of a text sheet, paragraphs of a Word
document) and the model; :mod:`xlreport.narrative` is the command around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..records import Record, field, replace
from . import layout as L
from .cells import CellRef
from .findings import CATALOGUE, ERROR, Finding, declare
from .model import Report, Row, Table
from .swedish import fmt_number, round_half_up

# --- the rules ------------------------------------------------------------------------------
TEXT_BELOPP = declare("text-belopp", "text", ERROR, "Ett belopp i texten (mnkr, tkr) stämmer med tabellerna")
TEXT_PROCENT = declare("text-procent", "text", ERROR, "En sjukfrånvaro eller ett mål i texten stämmer med tabellen")
TEXT_ANTAL = declare("text-antal", "text", ERROR,
                     "Ett antal i texten (anställda, kvinnor och män, avgångar, åtaganden) stämmer med tabellerna")
TEXT_FORANDRING = declare("text-forandring", "text", ERROR,
                          "En förändring i texten (\"en ökning med 19\") stämmer med tabellens Förändring")
TEXT_AR = declare("text-ar", "text", ERROR, "Året i texten är rapportens år (eller året före, där texten jämför)")
TEXT_PERIOD = declare("text-period", "text", ERROR, "Perioden och månaden i texten är rapportens")
TEXT_RIKTNING = declare("text-riktning", "text", ERROR,
                        "Ord som ökning/minskning, under/över målnivån och överskott/underskott stämmer med siffrorna")

TEXT_SAKNAS = declare("text-saknas", "text", ERROR,
                      "Texten att kontrollera finns och går att läsa (bladet Text eller ett Word-dokument)")

AMOUNT, PERCENT, COUNT, CHANGE, YEAR, MONTH = "belopp", "procent", "antal", "förändring", "år", "månad"


class Paragraph(Record, frozen=True):
    """One paragraph of the user's text: a cell of a text sheet (``ref``) or a paragraph of a
    document (``number``, counted from 1 over the non-empty paragraphs)."""

    text: str
    ref: CellRef | None = None
    number: int | None = None

    def where(self) -> str:
        if self.ref is not None:
            return f"{self.ref.sheet}!{self.ref.a1}"
        return f"stycke {self.number}" if self.number is not None else ""


class Figure(Record, frozen=True):
    """A figure of the model that a text may quote."""

    kind: str
    value: float
    label: str  # Swedish: what the figure is ("Tillsvidareanställda, Totalt")
    ref: CellRef | None  # the cell it comes from (None for a computed figure)
    decimals: int = 1  # how the tables print it

    def source(self) -> str:
        return f"{self.label}, {self.ref.sheet}!{self.ref.a1}" if self.ref else self.label


class Claim(Record, frozen=True):
    """A figure stated in the text."""

    paragraph: Paragraph
    sentence: str
    written: str  # the number as the text writes it, with its unit ("108 tillsvidareanställda")
    value: float
    decimals: int  # the decimals the text uses
    kind: str
    signed: bool  # the text gives a sign (+4,0; −1,1; "en minskning med")
    approximate: bool = False  # "cirka 19 miljoner kronor": agrees within 5 % (or one unit of its last digit)
    bound: int = 0  # "knappt 8" (-1: the figure is at most 8), "drygt 16" (+1: at least 16), within that tolerance


class Check(Record, frozen=True):
    """One claim with the figures it may mean; ``ok`` is False for a contradiction."""

    claim: Claim
    candidates: tuple[Figure, ...]
    ok: bool
    message: str = ""
    rule: str = ""

    @property
    def figure(self) -> Figure | None:
        return self.candidates[0] if self.candidates else None

    def finding(self) -> Finding:
        p = self.claim.paragraph
        text = self.message if p.ref is not None else f"{p.where().capitalize()}: {self.message}"
        f = self.figure
        return CATALOGUE[self.rule].at(p.ref, text, expected=f.value if f else None, actual=self.claim.value)

    def to_dict(self) -> dict:
        c, f = self.claim, self.figure
        return {"where": c.paragraph.where(), "sheet": c.paragraph.ref.sheet if c.paragraph.ref else None,
                "cell": c.paragraph.ref.a1 if c.paragraph.ref else None, "paragraph": c.paragraph.number,
                "sentence": c.sentence, "written": c.written, "value": c.value, "kind": c.kind,
                "ok": self.ok, "rule": self.rule or None, "message": self.message or None,
                "figure": f.value if f else None, "figure_label": f.label if f else None,
                "figure_cell": f"{f.ref.sheet}!{f.ref.a1}" if f and f.ref else None}


class TextResult(Record):
    """Every claim found in the text, tied or not, and the contradictions among them."""

    checks: list[Check] = field(default_factory=list)
    untied: list[Claim] = field(default_factory=list)

    @property
    def contradictions(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def findings(self) -> list[Finding]:
        return [c.finding() for c in self.contradictions]


# --- the words -------------------------------------------------------------------------------
_MONTHS_RE = "|".join([*L.MONTHS, "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dec"])
_MONTH_NO = {**{m: i + 1 for i, m in enumerate(L.MONTHS)},
             **{a: i + 1 for i, a in enumerate(("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt",
                                                "nov", "dec"))}, "sept": 9}
_SPACES = "[ \u00a0\u202f\u2009]"
# A number as Swedish text writes it: an optional sign, thousands groups, a decimal comma.
_NUMBER = re.compile(
    rf"(?<![\w.,/:\-–−\u2011])(?P<sign>[+\-−–\u2011]{_SPACES}?)?(?<![\d])(?P<int>\d{{1,3}}(?:{_SPACES}\d{{3}})+(?!\d)|\d+)"
    rf"(?:,(?P<dec>\d+))?(?![\d]|,\d|[.:/]\d|-\w)")
_AMOUNT_UNIT = re.compile(rf"{_SPACES}?(?P<unit>mnkr|mkr|msek|miljoner kronor|miljoner kr\b|miljoner|"
                          rf"milj\.?{_SPACES}?(?:kronor|kr)\b|tkr|tusen kronor)\b", re.IGNORECASE)
# Forms that state an amount or a percentage but are never checked (listed as untied): a range
# ("5-6 mnkr", "2,5–3 %") and a decimal point ("119.7 mnkr", "119.700 tkr": a point may be a
# decimal point or a thousands separator). Only with a unit right after them.
_INT = rf"(?:\d{{1,3}}(?:{_SPACES}\d{{3}})+(?!\d)|\d+)"
_LOOSE = re.compile(rf"(?<![\w.,/:\-–−\u2011])(?:{_INT}(?:[.,]\d+)*{_SPACES}?[-–]{_SPACES}?{_INT}(?:[.,]\d+)*"
                    rf"|\d+(?:\.\d+)+(?:,\d+)?)(?![\d.,]?\d)")
# accounting parentheses: "(2,3) mnkr" is −2,3 mnkr; "17,1 (12,4) mnkr" is a figure and, in the
# parentheses, the year before's (both untied)
_CLOSE_PAREN = re.compile(r"\)")
_PERCENT_UNIT = re.compile(rf"{_SPACES}?(?P<unit>%|procentenheter|procent\b)", re.IGNORECASE)
_YEAR = re.compile(r"^(19|20)\d\d$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9\"'»(])|\n+")

# Count nouns: the first word after the number (or, for "stycken", the nearest noun before it).
_STAFF_NOUNS = (
    (re.compile(r"^tillsvidareanställ"), (L.ROW_TILLSVIDARE, L.COL_TOTALT)),
    (re.compile(r"^visstidsanställ"), (L.ROW_VISSTID, L.COL_TOTALT)),
    (re.compile(r"^timanställ"), (L.ROW_TIM, L.COL_TOTALT)),
    (re.compile(r"^kvinn"), (None, L.COL_KVINNOR)),
    (re.compile(r"^män$|^man$"), (None, L.COL_MAN)),
    (re.compile(r"^(medarbetare|anställda|anställd|personer|tjänster|årsarbetare)$"), (None, L.COL_TOTALT)),
)
_LEAVER_NOUNS = ((re.compile(r"^pensionsavgång"), L.ROW_PENSION), (re.compile(r"^extern"), L.ROW_EXTERN),
                 (re.compile(r"^avgång"), None))
_COMMITMENT_NOUN = re.compile(r"^åtagand")
_PART_OF = re.compile(r"\s+av\s+(de\s+|dessa\s+|nämndens\s+|totalt\s+)?\d+(?=\s)(?P<noun>\s+[a-zåäö]+)?")
_PART_BEFORE = re.compile(r"\b\d+\s+av\s+(de\s+|dessa\s+|nämndens\s+|totalt\s+)?$")
_GENERIC_COUNT = re.compile(r"^(st|stycken|styck)$")
_CHANGE_BEFORE = re.compile(r"(ökning|ökningen|ökat|ökade|minskning|minskningen|minskat|minskade|sänkning|sänkt|"
                            r"höjning|höjt|förbättr\w*|försämr\w*|förändring\w*)\b[^.]*?\b(med|på)\s*$")
_MOVED = re.compile(r"\b(förbättr|försämr|förändr)\w*")
_MOVED_RIGHT_AFTER = re.compile(r"^[\s)]*(?:(?:har|hade|är|var|blev)\s+(?:en\s+|ett\s+)?)?(förbättr|försämr|förändr)\w*")
_ROUGHLY = {"ca", "cirka", "omkring", "ungefär", "drygt", "knappt", "nästan", "runt"}
_APPROXIMATE = re.compile(r"\b(ca|cirka|omkring|ungefär|drygt|knappt|nästan|minst|högst|runt|uppemot|över|"
                         r"under|mer än|mindre än|fler än|färre än)\.?\s*$")
_DOWN = re.compile(r"\b(minskning|minskningen|minskat|minskade|sänkning|sänkt|sjunkit|sjönk|lägre|färre)\b")
_UP = re.compile(r"\b(ökning|ökningen|ökat|ökade|höjning|höjt|stigit|steg|högre|fler)\b")
_LEFT = re.compile(r"^\s*\w*\s*\b(slutat|slutade|lämnat|lämnade|avgått|avgick|gått i pension|gick i pension)\b")
_LEFT_BEFORE = re.compile(r"\b(slutat|slutade|lämnat|lämnade|avgått|avgick)\s*$")
_PRIOR_WORDS = re.compile(r"\bföregående år\w*|\bförra året\b|\bi fjol\b|\bfg år\b")
_DONE = re.compile(r"(?<!inte )(?<!ej )\b(bli|blir) klar")
_NOT_DONE = re.compile(r"\b(inte|ej)( bedöms| beräknas| väntas| förväntas)? (att )?(bli|blir) klar")
_STATUS_WORDS = ((re.compile(r"^pågår|^pågående"), L.STATUS_PAGAR), (re.compile(r"^försenad|^försenat"),
                                                                   L.STATUS_FORSENAT),
                 (re.compile(r"^avslutad|^klara/avslutade|^klart/avslutat"), L.STATUS_KLART))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zåäöéü/]+", text.lower())


def _label_text(text: str) -> str:
    """A label normalised for finding it in a sentence: lower case, no dots ("m.m." = "mm"),
    other punctuation as space."""
    t = L.norm(text).replace(".", "")
    return " ".join(re.findall(r"[a-zåäöéü0-9/]+", t))


def _has_label(segment: str, label: str) -> bool:
    lab = _label_text(label)
    return bool(lab) and re.search(rf"(?<![\wåäö/]){re.escape(lab)}(?![\wåäö])", _label_text(segment)) is not None


# --- the figures the model knows ------------------------------------------------------------
class _Amounts(Record):
    """The amount figures, by row: (row key or entity, column) -> Figure."""

    rows: dict[str, dict[str, Figure]] = field(default_factory=dict)  # income rows and the bottom line
    units: dict[str, dict[str, Figure]] = field(default_factory=dict)  # unit name -> column -> figure
    # the explanations: (label, the unit the row is keyed to or None, its Belopp)
    posts: list[tuple[str, str | None, Figure]] = field(default_factory=list)
    driftram: Figure | None = None
    # unit name -> its distinctive words ("KLK HR" -> "hr"): the name without the words that
    # begin the other units' names too ("KLK"); only for names no other unit shares
    short: dict[str, str] = field(default_factory=dict)
    # the abbreviations the tables use ("KLK", "KS"): a sentence naming another ("BUF") is about
    # something the tables do not name
    known: set[str] = field(default_factory=set)


_INCOME_COLUMNS = (L.COL_UTFALL_FG, L.COL_UTFALL, L.COL_BUDGET, L.COL_AVV, L.COL_BUDGET_HELAR, L.COL_PROGNOS,
                   L.COL_AVV_HELAR)


def _row_figures(report: Report, table: Table, row: Row, name: str) -> dict[str, Figure]:
    out = {}
    for col in _INCOME_COLUMNS:
        if col == L.COL_AVV:
            value = report.deviation_ack(row)
        elif col == L.COL_AVV_HELAR:
            value = report.deviation_year(row)
        elif col == L.COL_UTFALL_FG and not table.has(col) and table.has(L.COL_AVV_FG):
            continue
        else:
            value = row.num(col) if table.has(col) else None
        if value is not None:
            ref = table.ref(row, col) if table.has(col) else None
            out[col] = Figure(AMOUNT, value, f"{name}, {col}", ref)
    if table.has(L.COL_AVV_FG) and row.num(L.COL_AVV_FG) is not None:
        out[L.COL_AVV_FG] = Figure(AMOUNT, row.num(L.COL_AVV_FG), f"{name}, {L.COL_AVV_FG}", table.ref(row, L.COL_AVV_FG))
    return out


def _amounts(report: Report) -> _Amounts:
    a = _Amounts()
    for row in report.income.rows:
        if row.key in L.RESULT_ROWS and row is not report.resultat():
            continue
        key = "resultat" if row is report.resultat() else row.key
        a.rows[key] = _row_figures(report, report.income, row, row.label)
    for row in report.units.rows:
        a.units[row.label] = _row_figures(report, report.units, row, row.label)
    if report.units.total is not None:
        a.units[report.units.total.label] = _row_figures(report, report.units, report.units.total,
                                                         report.units.total.label)
    a.short = _short_names([row.label for row in report.units.rows])
    a.known = {w for text in [*a.units, report.meta.namnd or "", report.meta.enhet or ""]
               for w in re.findall(r"[A-ZÅÄÖ]{2,}", text)}
    from .commentary import unit_key

    for row in report.explanation.rows:
        if row.num(L.COL_BELOPP) is not None and not L.norm(row.label).startswith("summa"):
            unit = unit_key(report, row)
            a.posts.append((row.label, unit, Figure(AMOUNT, row.num(L.COL_BELOPP),
                                                    f"{row.label}{f' ({unit})' if unit else ''}, {L.COL_BELOPP}",
                                                    report.explanation.ref(row, L.COL_BELOPP))))
    total = report.units.total
    result, units_total = a.rows.get("resultat"), a.units.get(total.label) if total is not None else None
    if result is not None and units_total and L.COL_AVV_FG not in result and L.COL_AVV_FG in units_total and \
            L.COL_AVV in result and L.COL_AVV in units_total and \
            round_half_up(result[L.COL_AVV].value, 1) == round_half_up(units_total[L.COL_AVV].value, 1):
        # the bottom line's deviation the year before is the unit table's total's ("Avvikelsen för perioden
        # är 16,4 mnkr, att jämföra med 11,5 mnkr samma period 2019"), when both tables have the same deviation
        result[L.COL_AVV_FG] = units_total[L.COL_AVV_FG]
    m = report.meta
    if m.driftram is not None:
        a.driftram = Figure(AMOUNT, m.driftram, L.META_DRIFTRAM, m.cells.get("driftram"))
    return a


def _short_names(names: list[str]) -> dict[str, str]:
    """Each unit's distinctive words: its name without the leading words that other units'
    names have too ("KLK Kommunikation, IT och digitalisering" -> "kommunikation it och
    digitalisering"), when no other unit's short name is the same."""
    tokens = {name: _label_text(name).split() for name in names}
    shared = {w for name, ws in tokens.items() for w in ws
              if any(w in other for o, other in tokens.items() if o != name)}
    out = {}
    for name, ws in tokens.items():
        i = 0
        while i < len(ws) - 1 and ws[i] in shared:
            i += 1
        if 0 < i and not any(w in shared for w in ws[i:i + 1]):
            out[name] = " ".join(ws[i:])
    counts: dict[str, int] = {}
    for short in out.values():
        counts[short] = counts.get(short, 0) + 1
    return {name: short for name, short in out.items() if counts[short] == 1}


def _has_short(segment: str, short: str) -> bool:
    """The segment names a unit by its short name, its last word also in its definite or
    genitive form ("Ledningen", "HR:s")."""
    return re.search(rf"(?<![\wåäö/]){re.escape(short)}(en|et|ens|ets|s)?(?![\wåäö/])",
                     _label_text(segment)) is not None


def _staff(report: Report, row_key: str | None, col: str) -> Figure | None:
    t = report.staff
    row = t.total if row_key is None else t.get(row_key)
    if row is None or not t.has(col) or row.num(col) is None:
        return None
    label = f"{row.label} anställda" if row is t.total else row.label
    return Figure(COUNT, row.num(col), f"{label}, {col}", t.ref(row, col), 0)


def _leavers(report: Report, row_key: str | None) -> Figure | None:
    t = report.leavers
    if t is None:
        return None
    row = t.total if row_key is None else t.get(row_key)
    if row is None or row.num(L.COL_ANTAL) is None:
        if row_key is None and t.rows:  # no Summa row: the sum of the rows
            total = sum(r.num(L.COL_ANTAL) or 0 for r in t.rows)
            return Figure(COUNT, total, "Avgångar, summa", None, 0)
        return None
    return Figure(COUNT, row.num(L.COL_ANTAL), f"{row.label}, {L.COL_ANTAL}", t.ref(row, L.COL_ANTAL), 0)


def _commitments(report: Report, what: str) -> Figure | None:
    rows = report.commitments.rows
    if not rows:
        return None
    head = report.commitments.header_ref()
    if what == "total":
        return Figure(COUNT, len(rows), "Åtaganden, antal", head, 0)
    if what in ("ja", "nej"):
        want = L.YES if what == "ja" else L.NO
        n = sum(1 for r in rows if L.norm(r.text(L.COL_BEDOMNING) or "") == L.norm(want))
        label = "Åtaganden som bedöms bli klara under året" if what == "ja" else "Åtaganden som inte bedöms bli klara"
        return Figure(COUNT, n, label, head, 0)
    n = sum(1 for r in rows if L.norm(r.text(L.COL_STATUS) or "") == L.norm(what))
    return Figure(COUNT, n, f"Åtaganden med status {what}", head, 0)


def _areas(report: Report, sentence: str) -> list[Figure]:
    """The commitments of each area (Område) the sentence names."""
    t = report.commitments
    if not t.has(L.COL_OMRADE):
        return []
    counts: dict[str, int] = {}
    for r in t.rows:
        area = r.text(L.COL_OMRADE)
        if area:
            counts[area] = counts.get(area, 0) + 1
    return [Figure(COUNT, n, f"Åtaganden inom {area}", t.header_ref(), 0) for area, n in counts.items()
            if _has_label(sentence, area)]


def _sick(report: Report, row_key: str, col: str) -> Figure | None:
    t = report.sick
    row = t.get(row_key)
    if row is None or not t.has(col) or row.num(col) is None:
        return None
    return Figure(PERCENT, row.num(col), f"{row.label}, {col}", t.ref(row, col))


def _target(report: Report) -> Figure | None:
    m = report.meta
    return None if m.sjukmal is None else Figure(PERCENT, m.sjukmal, L.META_SJUKMAL, m.cells.get("sjukmal"))


# --- reading the text -----------------------------------------------------------------------
def sentences(text: str) -> list[str]:
    """The sentences of a paragraph (a full stop followed by a capital letter or a figure)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class _Number(Record):
    start: int
    end: int  # end of the number and its unit
    value: float
    decimals: int
    signed: bool
    unit: str  # "mnkr", "tkr", "%", "pe" (procentenheter) or ""
    written: str
    loose: bool = False  # a form that is never checked (a range, a decimal point): untied


def _unit(sentence: str, end: int) -> tuple[str, int]:
    u = _AMOUNT_UNIT.match(sentence, end) or _PERCENT_UNIT.match(sentence, end)
    if not u:
        return "", end
    word = u.group("unit").lower()
    if u.re is _AMOUNT_UNIT:
        return ("tkr" if word in ("tkr", "tusen kronor") else "mnkr"), u.end()
    return ("pe" if word == "procentenheter" else "%"), u.end()


def _numbers(sentence: str) -> list[_Number]:
    out = []
    loose = []
    for m in _LOOSE.finditer(sentence):
        unit, end = _unit(sentence, m.end())
        if unit:
            first = re.match(rf"{_INT}", m.group()).group()
            loose.append(_Number(m.start(), end, float(re.sub(_SPACES, "", first)), 0, False, unit,
                                 sentence[m.start():end], True))
    matches = [m for m in _NUMBER.finditer(sentence) if not any(m.start() < o.end and o.start < m.end() for o in loose)]
    for i, m in enumerate(matches):
        digits = re.sub(_SPACES, "", m.group("int"))
        dec = m.group("dec") or ""
        value = float(f"{digits}.{dec}" if dec else digits)
        sign = (m.group("sign") or "").strip()
        if sign in ("-", "−", "–", "\u2011"):
            value = -value
        start, (unit, end) = m.start(), _unit(sentence, m.end())
        signed, is_loose = bool(sign), False
        close = _CLOSE_PAREN.match(sentence, m.end())
        if not unit and close and start and sentence[start - 1] == "(":
            unit, end = _unit(sentence, close.end())
            if unit in ("mnkr", "tkr"):
                start -= 1
                prior = i and re.fullmatch(rf"{_SPACES}*", sentence[matches[i - 1].end():start])
                if sign or prior:  # "(+2,3) mnkr", "17,1 (12,4) mnkr": not checked
                    is_loose = True
                    if prior and out and out[-1].start == matches[i - 1].start() and not out[-1].unit:
                        o = out[-1]
                        out[-1] = replace(o, end=o.end, unit=unit, written=o.written + sentence[o.end:end],
                                          loose=True)
                else:  # "(2,3) mnkr": −2,3 mnkr
                    value, signed = -value, True
            else:
                unit, end = "", m.end()
        out.append(_Number(start, end, value, len(dec), signed, unit, sentence[start:end], is_loose))
    return sorted(out + loose, key=lambda n: n.start)


def _agrees(claim: float, decimals: int, signed: bool, figure: float, approximate: bool = False,
            bound: int = 0) -> bool:
    """The claim agrees with the figure at the text's rounding (an unsigned amount is compared
    with the figure's size: "kostnaderna uppgår till 96,6 mnkr" for −96,6); an approximate claim
    ("cirka 17", "knappt 8") within 5 % of itself or one unit of its last digit, and on the side
    its word says (``bound``: "knappt 8" is at most 8, "drygt 16" at least 16)."""
    f = figure if signed else abs(figure)
    c = claim if signed else abs(claim)
    if approximate:
        if bound and (f - c) * bound < -1e-9:
            return False
        return abs(f - c) <= max(10 ** -decimals, 0.05 * abs(c)) + 1e-9
    return abs(round_half_up(f, decimals) - c) < 10 ** -(decimals + 3)


class _Sentence:
    """One sentence with its numbers; segments are the words between a number and its
    neighbours."""

    def __init__(self, text: str, previous: str):
        self.text = text
        self.low = text.lower()
        self.previous = previous.lower()
        self.numbers = _numbers(text)
        # the segments around a figure end at the neighbouring amounts and percentages (a year or
        # "delår 1" in between does not cut the words that say what the figure is)
        self.split = [n for n in self.numbers if n.unit]

    def before(self, n: _Number) -> str:
        start = 0
        for o in self.split:
            if o.end <= n.start:
                start = o.end
        return self.low[start:n.start]

    def after(self, n: _Number) -> str:
        end = len(self.low)
        for o in self.split:
            if o.start >= n.end:
                end = o.start
                break
        return self.low[n.end:end]

    def words_after(self, n: _Number, k: int = 3) -> list[str]:
        return _words(self.low[n.end:])[:k]


def check_text(report: Report, paragraphs: Iterable[Paragraph]) -> TextResult:
    """Every claim of ``paragraphs`` about a figure of ``report``, checked."""
    result = TextResult()
    amounts = _amounts(report)
    for p in paragraphs:
        previous = ""
        for s in sentences(p.text):
            sent = _Sentence(s, previous)
            paired = _respective(amounts, sent)
            for i, n in enumerate(sent.numbers):
                if i not in paired:
                    _check_number(report, amounts, p, sent, n, result)
                    continue
                # "X och Y visar 2,8 respektive 1,8 mnkr": checked as "X visar 2,8 mnkr", filed under the sentence
                text, start = paired[i]
                own = _Sentence(text, previous)
                alone = TextResult()
                _check_number(report, amounts, p, own, next(o for o in own.numbers if o.start == start), alone)
                result.untied.extend(replace(c, sentence=s) for c in alone.untied)
                result.checks.extend(replace(c, claim=replace(c.claim, sentence=s), message=c.message.replace(
                    f"\u201d{text}\u201d", f"\u201d{s}\u201d")) for c in alone.checks)
            previous = s
    return result


_RESPEKTIVE = re.compile(rf"{_SPACES}*respektive{_SPACES}+$")
_LIST_GAP = re.compile(rf"{_SPACES}*,{_SPACES}*$")
_NAME_SEPARATOR = re.compile(r",\s*|\s+(?:och|samt)\s+")


def _respective(a: _Amounts, s: _Sentence) -> dict[int, tuple[str, int]]:
    """The numbers of "A och B … 2,8 respektive 1,8 mnkr", each with the sentence it states:
    number index -> (the sentence with only that name and that number, with the last number's
    unit, and where the number starts in it). The names pair with the numbers in order; when
    they do not (not as many names as numbers), each number gets the unit and the names stay."""
    nums, text = s.numbers, s.text
    out: dict[int, tuple[str, int]] = {}
    i = 0
    while i < len(nums) - 1:
        if not _RESPEKTIVE.search(text[nums[i].end:nums[i + 1].start]) or nums[i + 1].unit not in ("mnkr", "tkr", "%"):
            i += 1
            continue
        first, last = i, i + 1
        while first > 0 and _LIST_GAP.fullmatch(text[nums[first - 1].end:nums[first].start]):
            first -= 1
        group = list(range(first, last + 1))
        unit = nums[last]
        if any(nums[k].unit not in ("", unit.unit) for k in group):
            i = last + 1
            continue
        digits = re.match(r"[^a-zA-ZåäöÅÄÖ%]*", unit.written)
        unit_text = unit.written[len(digits.group().rstrip()):] if digits else ""
        clause = max([o.end for o in s.split if o.end <= nums[first].start], default=0)
        names = _names(a, text[clause:nums[first].start], unit.unit, len(group))
        head = text[:nums[first].start] if names is None else None
        for j, k in enumerate(group):
            n = nums[k]
            written = n.written if n.unit else n.written.rstrip() + unit_text
            if names is not None:
                (start0, _), (start, end), end_last = names[0], names[j], names[-1][1]
                head = text[:clause + start0] + text[clause + start:clause + end] + text[clause + end_last:nums[first].start]
            out[k] = (head + written + text[unit.end:], len(head))
        i = last + 1
    return out


def _names(a: _Amounts, prefix: str, unit: str, count: int) -> list[tuple[int, int]] | None:
    """The spans of the ``count`` names listed last in ``prefix`` ("KLK Välfärd och KLK HR
    visar överskott på"): each the fewest words that name one row, a unit or an explanation
    (a woman/men or a kort/lång word for a percentage); None unless there are that many."""
    def names_one(words: str) -> bool:
        low = words.lower()
        if unit == "%":
            return len(re.findall(r"\bkvinn\w*|\bmän(nen|nens|s)?\b|\b(kort|lång)\w*", low)) == 1
        rows = _entities(a, low)
        return rows is not None and len(rows) == 1

    spans, start = [], 0
    for sep in [*_NAME_SEPARATOR.finditer(prefix), None]:
        end = sep.start() if sep else len(prefix)
        chunk = prefix[start:end]
        words = list(re.finditer(r"\S+", chunk))
        found = None
        for w in range(len(words)):  # the fewest words from the chunk's start that name one thing
            stop = words[w].end()
            if names_one(chunk[:stop]):
                first = max(b for b in range(w + 1) if names_one(chunk[words[b].start():stop]))
                found = (start + words[first].start(), start + stop)
                break
        spans.append(found)
        start = sep.end() if sep else len(prefix)
    named = [sp for sp in spans if sp is not None]
    # the names are the list right before the numbers: the last ``count`` chunks, each named
    if len(spans) < count or any(sp is None for sp in spans[-count:]) or len(named) != count:
        return None
    return spans[-count:]


def _check_number(report: Report, amounts: _Amounts, p: Paragraph, s: _Sentence, n: _Number,
                  result: TextResult) -> None:
    if n.loose:  # "5-6 mnkr", "119.7 mnkr", "17,1 (12,4) mnkr": a figure, but not one to check
        result.untied.append(_claim(p, s, n, AMOUNT if n.unit in ("mnkr", "tkr") else PERCENT))
        return
    before, after = s.before(n), s.after(n)
    rough = _APPROXIMATE.search(before)
    if rough and not (rough.group(1) in _ROUGHLY and n.unit in ("mnkr", "tkr")):
        # "minst 5 000 personer", "över 3 %": a bound, not a figure of the tables
        result.untied.append(_claim(p, s, n, ""))
        return
    is_change = bool(_CHANGE_BEFORE.search(before))
    if n.unit in ("mnkr", "tkr"):
        # the tables have no "changed by" amounts: not tied ("förbättrats med 1,2 mnkr sedan
        # februari, främst inom KLK HR (+0,8 mnkr)": both are movements); only the amounts after
        # the verb, or right before it ("KLK HR (+0,8 mnkr) har förbättrat"): a list of explanations
        # before "… förbättrar ekonomin med 300 miljoner kronor" is checked
        moved = _MOVED.search(s.low[:n.start]) or _MOVED_RIGHT_AFTER.match(after)
        if is_change or (moved and not _columns(before)):
            result.untied.append(_claim(p, s, n, AMOUNT))
            return
        value = n.value / 1000 if n.unit == "tkr" else n.value
        decimals = n.decimals + (3 if n.unit == "tkr" else 0)
        written = f"{rough.group(1)} {n.written}" if rough else n.written
        bound = 0 if not rough else -1 if rough.group(1) in ("knappt", "nästan") else 1 if rough.group(1) == "drygt" else 0
        claim = Claim(p, s.text, written, value, decimals, AMOUNT, n.signed, approximate=bool(rough), bound=bound)
        if _COMPARED.match(after) or _EXCEEDS.search(before):
            # "3,4 mnkr mer än budget", "överstiger budget med 3,4 mnkr": the row's deviation
            rows = _entities(amounts, s.low[:n.start]) or [amounts.rows.get("resultat", {})]
            segment = s.low[:n.start] + after
            cols = [c for c in _columns("avvikelse " + segment) if c in (L.COL_AVV, L.COL_AVV_HELAR)]
            _decide(result, claim, _pick(rows, cols), TEXT_BELOPP.id)
            return
        prior = _prior_year(report)
        candidates = _amount_candidates(amounts, prior(s.low[:n.start]), prior(before), prior(after),
                                        _unnamed_subject(amounts, s.text[:n.start]))
        said = _said_sign(before, after)
        if said is not None:  # a surplus or a deviation is a deviation (or the result), never a net cost
            candidates = [c for c in candidates if _is_deviation(amounts, c)]
        _decide(result, claim, candidates, TEXT_BELOPP.id)
        _direction_of_result(result, claim, said, candidates)
        return
    if n.unit in ("%", "pe"):
        _check_percent(report, p, s, n, before, after, is_change, result)
        return
    if n.decimals == 0 and not n.signed:
        if _YEAR.match(str(int(n.value))):
            _check_year(report, p, s, n, before, after, result)
            return
        _check_count(report, p, s, n, before, after, is_change, result)


def _claim(p: Paragraph, s: _Sentence, n: _Number, kind: str, value: float | None = None,
           signed: bool | None = None) -> Claim:
    return Claim(p, s.text, n.written, n.value if value is None else value, n.decimals, kind,
                 n.signed if signed is None else signed)


def _shown(value: float, claim: Claim) -> str:
    if claim.kind in (YEAR, MONTH):
        return str(int(value))
    if claim.kind == AMOUNT and re.search(r"tkr|tusen", claim.written):
        return fmt_number(value * 1000 if claim.signed else abs(value) * 1000, max(claim.decimals - 3, 0),
                          sign=claim.signed) + " tkr"
    decimals = max(claim.decimals, 1) if claim.approximate else claim.decimals  # "drygt 8": the table's 7,8
    return fmt_number(value if claim.signed else abs(value), decimals, sign=claim.signed)


def _decide(result: TextResult, claim: Claim, candidates: Sequence[Figure], rule: str,
            elsewhere: Sequence[Figure] = ()) -> None:
    """A check of ``claim`` against ``candidates`` (nearest first); ``elsewhere`` are figures of
    the same kind that the message names when the claimed value is one of them (the text has
    the total where it means a part)."""
    candidates = tuple(c for c in candidates if c is not None)
    if not candidates:
        result.untied.append(claim)
        return
    agreeing = next((c for c in candidates if _agrees(claim.value, claim.decimals, claim.signed, c.value,
                                                      claim.approximate, claim.bound)), None)
    if agreeing is not None:  # the figure that agrees first: the one --alla and the JSON name
        result.checks.append(Check(claim, (agreeing, *(c for c in candidates if c is not agreeing)), True))
        return
    best = candidates[0]
    shown = _shown(best.value, claim)
    others = [c for c in candidates[1:] if c.value != best.value][:2]
    also = "" if not others else " (eller " + ", ".join(f"{_shown(c.value, claim)}: {c.source()}" for c in others) + ")"
    same = next((f for f in elsewhere if f not in candidates and _agrees(claim.value, claim.decimals, claim.signed,
                                                                         f.value)), None)
    there = f" {_shown(same.value, claim)} är {same.source()}." if same is not None else ""
    if claim.bound and _agrees(claim.value, claim.decimals, claim.signed, best.value, True):  # near, on the wrong side
        limit = fmt_number(abs(claim.value) if not claim.signed else claim.value, claim.decimals, sign=claim.signed)
        there += f" \u201d{claim.written.split()[0]}\u201d säger att talet är {'högst' if claim.bound < 0 else 'minst'} {limit}."
    has = {YEAR: "året före rapportens år är" if best.label.startswith("År −") else "rapportens år är",
           MONTH: "rapportens månad är"}.get(claim.kind, "tabellen har")
    message = (f"texten säger \u201d{claim.written.strip()}\u201d, men {has} {shown} ({best.source()}){also}."
               f"{there} Meningen: \u201d{claim.sentence}\u201d")
    result.checks.append(Check(claim, candidates, False, message[0].upper() + message[1:], rule))


# --- amounts --------------------------------------------------------------------------------
_ROW_TERMS = (
    (re.compile(r"\bintäkt(en|er|erna|ernas)?\b"), L.ROW_INTAKTER),
    (re.compile(r"\bkostnad(en|er|erna|ernas)?\b|\bnettokostnad(en|er|erna)?\b"), L.ROW_KOSTNADER),
    (re.compile(r"\bpersonalkostnad(en|er|erna|ernas)?\b"), L.ROW_PERSONAL),
    (re.compile(r"\blokalkostnad(en|er|erna|ernas)?\b"), L.ROW_LOKAL),
    (re.compile(r"\bköp av verksamhet\b"), L.ROW_KOP),
)
_COMPARED = re.compile(r"^[\s,]*((mer|mindre|högre|lägre|bättre|sämre) än|över|under) (budget\w*|planerat|beräknat)")
_EXCEEDS = re.compile(r"\b(överstig|understig|överskrid|underskrid)\w*\s+(den\s+)?(budget\w*|planerat|beräknat)"
                      r"(\s+[\wåäö]+){0,3}?\s+(med|på)\s*$")
_RESULT_TERM = re.compile(r"\b(delårs|helårs|års)?resultat(et)?\b")
_SURPLUS = re.compile(r"\böverskott(et)?\b|\bunderskott(et)?\b")
# the sentence (or paragraph) explains the deviation: its items may be named by a word of their label
_EXPLAINED = re.compile(r"\bavvikelse\w*|\bförklar\w*|\bbestår av\b|\bberor på\b")
# the year before the report's (written so by _prior_year: "samma period 2019" is "samma period föregående år")
_PRIOR_COLUMNS = re.compile(r"\bföregående år\b|\bförra året\b|\bfg år\b")
_COL_TERMS = (
    (re.compile(r"\bprognos\w*|\bberäknas\b|\bbedöms\b|\bförväntas\b|\bhelårsresultat\w*|\bårsresultat\w*"),
     (L.COL_PROGNOS,)),
    (re.compile(r"avvikelse\w*|\böverskott(et)?\b|\bunderskott(et)?\b"), (L.COL_AVV_HELAR, L.COL_AVV)),
    (re.compile(r"\bbudget\w*"), (L.COL_BUDGET_HELAR, L.COL_BUDGET)),
    (re.compile(r"\butfall\w*|\bhittills\b|\bför perioden\b|\bunder perioden\b|\bperiodens\b|\bdelårsresultat\w*"
                rf"|\b({_MONTHS_RE})\s*[-–]\s*({_MONTHS_RE})\b|\b({_MONTHS_RE}) ({_MONTHS_RE})\b"), (L.COL_UTFALL,)),
    (_PRIOR_COLUMNS, (L.COL_UTFALL_FG, L.COL_AVV_FG)),
)
_YEAR_WORDS = re.compile(r"helår\w*|\bhela året\b|\bför året\b|prognos|\bårets(?! (tre|fyra|första|\w+ första))"
                         r"|\bårsskiftet\b|\bårsresultat")
_PERIOD_WORDS = re.compile(rf"\bperiod\w*|\bdelårs\w*|\btill och med ({_MONTHS_RE})\b|\bt\s?o\s?m ({_MONTHS_RE})\b|\bhittills\b|\back\w*|\butfall\w*|\bmånader\b|\bkvartal\w*|\btertial\w*"
                           rf"|\bper ({_MONTHS_RE})\b|\b({_MONTHS_RE})\s*[-–]\s*({_MONTHS_RE})\b")


def _columns(segment: str, context: str = "") -> list[str]:
    """The columns the column terms of ``segment`` name; ack or helår by the words of the
    segment, else by those of ``context`` (the words right after the number: "ett överskott på
    16,4 mnkr vid årets slut")."""
    cols: list[str] = []
    for rx, names in _COL_TERMS:
        m = rx.search(segment)
        if m:
            cols.extend(c for c in names if c not in cols)
    if not cols:
        return cols
    # Budget and Avvikelse are ack or helår: the words decide when they can.
    year, period = bool(_YEAR_WORDS.search(segment)), bool(_PERIOD_WORDS.search(segment))
    if not (year or period) and context:
        year, period = bool(_YEAR_WORDS.search(context)), bool(_PERIOD_WORDS.search(context))
    if year and not period:
        cols = [c for c in cols if c not in (L.COL_BUDGET, L.COL_AVV)] or cols
    elif period and not year:
        cols = [c for c in cols if c not in (L.COL_BUDGET_HELAR, L.COL_AVV_HELAR)] or cols
    if context and not _PRIOR_COLUMNS.search(segment) and _PRIOR_COLUMNS.search(context):
        # "en avvikelse på 5,7 mnkr samma period 2019": the words right after the number say it
        # is the year before's deviation or outcome
        cols = list(dict.fromkeys(_PRIOR_OF.get(c, c) for c in cols))
    return cols


_PRIOR_OF = {L.COL_AVV: L.COL_AVV_FG, L.COL_UTFALL: L.COL_UTFALL_FG}


def _amount_candidates(a: _Amounts, prefix: str, before: str, after: str, unnamed: bool = False) -> list[Figure]:
    """The figures an amount may mean, nearest first.

    The row: named in the words before the number; else the sentence's subject named earlier
    ("Kostnaderna uppgår till 96,6 mnkr mot budgeterade 109,5 mnkr"); else an income-statement
    row named after it ("17,1 mnkr att jämföra med budgeterat resultat"); else, when the words say
    surplus, deficit or a column, the bottom line, unless the sentence names a unit the tables do
    not have (``unnamed``: "Avdelningen Kultur visar ett överskott på 7,8 mnkr" is not checked).
    The columns: the column terms before the number, else every figure of the row (a claim must
    then agree with one of them)."""
    # a sentence that explains the deviation ("Överskottet beror på bredbandsutbyggnad (1,0 mnkr) och
    # verksamhetsutveckling (4,0 mnkr)") may name each item by a word of its label, right before its figure
    explained = bool(_EXPLAINED.search(prefix) or _EXPLAINED.search(after))
    rows = _entities(a, after[m.end():]) if (m := _NAMED_AFTER.match(after)) else None
    if rows is None or not any("" in r for r in rows) and not _named(a, after[m.end():]):
        rows = _entities(a, before, explained=explained)
    if rows is None:
        rows = _entities(a, prefix, explained=explained)
    if rows is None:
        rows = _entities(a, after, names=False)
    if rows is not None:
        cols = _columns(before, _near(after))
        if not cols and _entities(a, before) is not None:  # "uppgår till 109,5 mnkr för perioden"
            cols = _columns(_near(after)) if _OWN_PERIOD.match(after) else []
        elif not cols:
            cols = _columns(after)
        return _pick(rows, cols)
    if unnamed:
        return []
    for segment in (before, after):
        cols = _columns(segment, _near(after) if segment is before else "")
        if not cols and _COMPOUND_PROGNOSIS.search(segment):  # "Helårsprognosen pekar på 9,9 mnkr"
            cols = [L.COL_PROGNOS]
        if (cols or _SURPLUS.search(segment)) and not _other_subject(segment) and "resultat" in a.rows:
            return _pick([a.rows["resultat"]], cols)
    return []


# the words right after an amount that say its column ("109,5 mnkr för perioden", "… hittills i år")
_OWN_PERIOD = re.compile(rf"^[\s,]*(för|under) (perioden|helåret|hela året|året|januari\s*[-–]\s*({_MONTHS_RE}))\b"
                         r"|^[\s,]*hittills\b")


# a compound ("helårsprognosen"): the prognosis of the bottom line when the sentence names no row
# (after a row's deviation, "medan helårsprognosen visar +0,7 mnkr" is that row's deviation too)
_COMPOUND_PROGNOSIS = re.compile(r"\b\w+prognos\w*")


def _near(after: str) -> str:
    """The words right after an amount, up to the end of its clause."""
    return re.split(r"[,;]|\b(och|men|medan|samt|vilket|mot|jämfört)\b", after, maxsplit=1)[0][:40]


def _prior_year(report: Report):
    """A function that writes the year before the report's as "föregående år", and "för" the
    report's year as "för helåret", the words the column terms know ("Resultatet för
    januari–mars 2019 uppgick till 12,4 mnkr")."""
    if report.meta.ar is None:
        return lambda text: text
    year = re.compile(rf"\b{report.meta.ar - 1}\b")
    this = re.compile(rf"\bför (år )?{report.meta.ar}\b(?!\s*[-–])")  # "ett överskott på 7,8 mnkr för 2020"
    # "januari–mars 2019": last year's period, not this year's (the month range alone says Utfall ack)
    months = re.compile(rf"\b(?:{_MONTHS_RE})\s*(?:[-–]\s*|\s)(?:{_MONTHS_RE})\s+{report.meta.ar - 1}\b")
    return lambda text: this.sub("för helåret", year.sub("föregående år", months.sub("föregående år", text)))


_NAMED_AFTER = re.compile(r"^[\s)]*(av|avser|för|inom)\s+")


def _named(a: _Amounts, segment: str) -> bool:
    """The segment names a unit or an explanation (not only an income-statement row)."""
    rows = _entities(a, segment)
    return rows is not None and (any("" in r for r in rows) or any(r in a.units.values() for r in rows))


_UNIT_NOUN = re.compile(r"\b[a-zåäö]*(avdelning|sektion|stab)(en|ens)?\b|\b[a-zåäö]*enhet(en|ens)?\b")
_NOT_NAMES = {"MNKR", "MKR", "TKR", "MSEK", "SEK", "KR"}


def _unnamed_subject(a: _Amounts, text: str) -> bool:
    """The text before a figure names a unit the tables do not have: a department noun
    ("avdelningen", "IT-enheten", "staben") or an abbreviation that no unit's name, the nämnd's
    or the förvaltning's has ("BUF")."""
    if _UNIT_NOUN.search(text.lower()):
        return True
    return any(w not in a.known and w not in _NOT_NAMES for w in re.findall(r"(?<![\wåäöÅÄÖ])[A-ZÅÄÖ]{2,6}(?![a-zåäö])",
                                                                           text))


def _other_subject(segment: str) -> bool:
    """Words that make an amount about something the tables do not hold (investments, a
    commitment's goal)."""
    return bool(re.search(r"\binvester\w*|\bexploater\w*|\bsparkrav\w*|\beffektiviser\w*|\bkoncern\w*", segment))


def _entities(a: _Amounts, segment: str, *, names: bool = True, explained: bool = False) -> list[dict[str, Figure]] | None:
    """The rows a segment names, most specific first: a unit's or an explanation's name,
    driftram, an income-statement row, the result. None when it names none. ``names=False``:
    only the income statement's rows (a unit or an explanation is named before its figure).
    ``explained``: the sentence explains the deviation, so an explanation may be named by one
    word of its label (see :func:`_post_words`), as the segment's own words allow too."""
    if names:
        units = [(name, figs) for name, figs in a.units.items() if _has_label(segment, name)] or \
            [(name, a.units[name]) for name, short in a.short.items() if _has_short(segment, short)]
        posts = [(unit, f) for label, unit, f in a.posts if _has_post(segment, label)]
        if not posts and (explained or _EXPLAINED.search(segment)):
            words = _post_words(a)
            posts = [(unit, f) for label, unit, f in a.posts if label in words and _has_post(segment, words[label])]
        if posts:  # an explanation is more specific than its unit ("Utbildningar (KLK HR) +0,6 mnkr")
            named = {L.norm(n) for n, _ in units}
            return [{"": f} for unit, f in posts if not named or unit is None or L.norm(unit) in named] or \
                [{"": f} for _, f in posts]
        if units:
            return [figs for _, figs in units]
        if a.driftram is not None and re.search(r"\bdriftram\w*", segment):
            return [{"": a.driftram}]
    rows = [a.rows[key] for rx, key in _ROW_TERMS if rx.search(segment) and key in a.rows]
    # "personalkostnader" is more specific than "kostnader" (and never matches it: \b)
    if rows:
        return rows
    if _RESULT_TERM.search(segment) and "resultat" in a.rows:
        return [a.rows["resultat"]]
    return None


def _has_post(segment: str, label: str) -> bool:
    """The segment names an explanation by its label, its last word also in the definite form
    ("Bredbandsutbyggnaden" for "Bredbandsutbyggnad", "utbildningarna")."""
    lab = _label_text(label)
    return bool(lab) and re.search(rf"(?<![\wåäö/]){re.escape(lab)}(en|et|n|t|na|ens|ets|nas)?(?![\wåäö])",
                                   _label_text(segment)) is not None


def _post_words(a: _Amounts) -> dict[str, str]:
    """For each explanation, one long word of its label that no other explanation or unit has
    ("verksamhetsutveckling" for "Olika former av verksamhetsutveckling"): a list that shortens
    the labels still names them."""
    def words(label: str) -> set[str]:
        return {w for w in _label_text(label).split() if len(w) >= 9}

    out = {}
    labels = {label for label, _, _ in a.posts}
    for label in labels:
        others = set().union(*(words(o) for o in [*labels, *a.units] if o != label))
        own = sorted(words(label) - others, key=len, reverse=True)
        if own:
            out[label] = own[0]
    return out


def _pick(rows: list[dict[str, Figure]], cols: list[str]) -> list[Figure]:
    out = []
    for figs in rows:
        if "" in figs:  # an entity with one figure (an explanation, driftram)
            out.append(figs[""])
            continue
        # no column term: every figure of the row (a claim must agree with one of them)
        for c in cols or list(figs):
            if c in figs:
                out.append(figs[c])
    return out


_DEVIATION_COLUMNS = (L.COL_AVV, L.COL_AVV_HELAR, L.COL_AVV_FG)
# Words that give an amount its sign: a positive deviation is favourable (Avvikelse = Utfall −
# Budget, costs negative), a surplus is a positive deviation or result.
_SIGN_WORDS = re.compile(r"\b(?P<word>överskott|underskott)(et)?\b"
                         r"|\b(?P<adj>positiv|negativ)(a|t)?\s+(?P<noun>avvikelse|resultat)\w*"
                         r"|\b(?P<noun2>avvikelse|resultat)(en|et)?\s+(är|blir|blev|var|visar sig vara)\s+"
                         r"(?P<adj2>positiv|negativ)(a|t)?\b")
_SIGN_AFTER = re.compile(r"^[\s,]*(i|som|i form av|i ett|i en)?\s*(?=överskott|underskott|positiv|negativ)")


class _Said(Record, frozen=True):
    """What the words say an amount is: ``positive`` and the phrase ("en negativ avvikelse")."""

    positive: bool
    noun: str  # "överskott", "avvikelse" or "resultat"


def _said_sign(before: str, after: str) -> _Said | None:
    """The nearest words that give the amount a sign: before it ("ett underskott på 2,2 mnkr",
    "en positiv avvikelse på"), or right after it ("2,9 mnkr i överskott")."""
    found = list(_SIGN_WORDS.finditer(before))
    if not found and (m := _SIGN_AFTER.match(after)):
        found = list(_SIGN_WORDS.finditer(after[m.end():m.end() + 30]))[:1]
    if not found:
        return None
    m = found[-1]
    if m.group("word"):
        return _Said(m.group("word") == "överskott", "överskott")
    adj, noun = m.group("adj") or m.group("adj2"), m.group("noun") or m.group("noun2")
    return _Said(adj == "positiv", noun)


def _said_text(positive: bool, noun: str) -> str:
    if noun == "överskott":
        return "ett överskott" if positive else "ett underskott"
    adjective = "positiv" if positive else "negativ"
    return f"en {adjective} avvikelse" if noun == "avvikelse" else f"ett {adjective}t resultat"


def _is_deviation(a: _Amounts, fig: Figure) -> bool:
    """The figure is a deviation (a row's or unit's Avvikelse, an explanation's Belopp) or a
    figure of the result row: what a surplus, a deficit or a positive deviation can be."""
    if any(fig is f for f in a.rows.get("resultat", {}).values()) or any(fig is f for _, _, f in a.posts):
        return True
    return any(figs.get(c) is fig for figs in (*a.rows.values(), *a.units.values()) for c in _DEVIATION_COLUMNS)


def _direction_of_result(result: TextResult, claim: Claim, said: _Said | None, candidates: Sequence[Figure]) -> None:
    """"ett underskott på 2,2 mnkr", "en positiv avvikelse på 2,2 mnkr" for a figure of the
    other sign (``candidates`` are deviations or the result, see :func:`_is_deviation`)."""
    if said is None or not candidates or claim.signed:
        return
    agreeing = [c for c in candidates if _agrees(claim.value, claim.decimals, False, c.value)]
    # the figure the words are about: a deviation for "avvikelse", the result row for "resultat"
    fig = next((c for c in agreeing if (said.noun == "avvikelse") == any(k in c.label for k in _DEVIATION_COLUMNS)),
               agreeing[0] if agreeing else None)
    if fig is None or round_half_up(fig.value, claim.decimals) == 0 or said.positive == (fig.value > 0):
        return
    result.checks.append(Check(claim, (fig,), False, f"Texten kallar {claim.written.strip()} "
                               f"{_said_text(said.positive, said.noun)}, men {fig.source()} är "
                               f"{fmt_number(fig.value, claim.decimals, sign=True)}: "
                               f"{_said_text(fig.value > 0, said.noun)}. Meningen: \u201d{claim.sentence}\u201d",
                               TEXT_RIKTNING.id))


# --- sick leave -----------------------------------------------------------------------------
_MEN = re.compile(r"\bmän(nen|nens|s)?\b")
_SICK_TOPIC = re.compile(r"sjukfrånvar|sjuktal")
_TARGET = re.compile(r"\bmål\w*")
_PRIOR = re.compile(r"\bföregående\b|\bförra\b|\bfg\b|\bfrån\s*$|\bi fjol\b|\bjämfört med\b[^.]*$")


def _check_percent(report: Report, p: Paragraph, s: _Sentence, n: _Number, before: str, after: str,
                   is_change: bool, result: TextResult) -> None:
    if not (_SICK_TOPIC.search(s.low) or _SICK_TOPIC.search(s.previous)):
        result.untied.append(_claim(p, s, n, PERCENT))
        return
    near = before[-60:]
    if n.unit == "pe" and (to := _TO_TARGET.match(after)):  # "0,5 procentenheter lägre än målnivån"
        _check_distance_to_target(report, p, s, n, to, result)
        return
    if n.unit == "pe" or is_change:
        fig = _sick(report, _sick_row(s.low), L.COL_FORANDRING)
        signed = n.signed or bool(_DOWN.search(before) or _UP.search(before))
        value = -abs(n.value) if _DOWN.search(before) and not n.signed else n.value
        _decide(result, _claim(p, s, n, CHANGE, value, signed), [fig], TEXT_FORANDRING.id)
        return
    if _TARGET.search(near.split(",")[-1] if "," in near else near):
        candidates = [_target(report)]
    else:
        row = _sick_row(s.low[:n.start]) if _sick_row(s.low[:n.start]) != L.ROW_SJUK_TOTAL else _sick_row(s.low)
        prior = bool(_PRIOR.search(near)) or bool(re.search(r"\bföregående\b|\bförra\b|\bfg\b", s.low[:n.start])
                                                 and "(" in s.text[max(0, n.start - 2):n.start])
        segment = before + " " + after[:30]
        if _FROM_TO.match(before):  # "Kvinnornas sjukfrånvaro har ökat från 3,1 % till 3,4 %": the same women
            segment = s.low[:n.start] + " " + after[:30]
        cols = _sick_columns(segment, prior)
        candidates = [_sick(report, row, c) for c in cols]
    claim = _claim(p, s, n, PERCENT)
    _decide(result, claim, candidates, TEXT_PROCENT.id)
    _direction_of_sick(report, result, claim, s, n)


# the words right after a difference in procentenheter that make it the distance to the target
_TO_TARGET = re.compile(r"^\s*(?P<word>lägre än|högre än|under|över|från|ifrån|kvar till)\s+"
                        r"(?:(?:det|den|nämndens|kommunens|förvaltningens|kontorets)\s+)?mål\w*")


def _check_distance_to_target(report: Report, p: Paragraph, s: _Sentence, n: _Number, to: re.Match,
                              result: TextResult) -> None:
    """"2,5 % vilket är 0,5 procentenheter lägre än målnivån": the sick leave minus the target as the
    tables print them (of the women or men the words before name), signed by "lägre/under" and
    "högre/över"; "från målet" is the size. Not tied without a target, for the short or long sick
    leave (the target is the total's) or without the figure."""
    target = _target(report)
    word = to.group("word")
    sign = -1 if word in ("lägre än", "under") else 1 if word in ("högre än", "över") else 0
    value = n.value if n.signed else (sign or 1) * abs(n.value)
    claim = Claim(p, s.text, s.text[n.start:n.end + to.end()], value, n.decimals, PERCENT, n.signed or bool(sign))
    candidates = []
    # the target is the total sick leave's: a distance of the short or long sick leave is not tied
    total = _sick_row(s.low[:n.start]) == L.ROW_SJUK_TOTAL and target is not None
    for col in _sick_columns(s.low[:n.start], False) if total else ():
        fig = _sick(report, L.ROW_SJUK_TOTAL, col)
        if fig is not None:
            have, goal = round_half_up(fig.value, 1), round_half_up(target.value, 1)
            candidates.append(Figure(PERCENT, round(have - goal, 6),
                                     f"{fig.source()} ({fmt_number(have, 1)}) minus {target.source()} "
                                     f"({fmt_number(goal, 1)})", None))
    _decide(result, claim, candidates, TEXT_PROCENT.id)


# the second figure of "från A till B" (or "till B från A"): the words before A are its words too
_FROM_TO = re.compile(r"^[\s,]*(från|till)\s*$")


def _sick_row(text: str) -> str:
    """The sick-leave row the last "kort"/"lång" word of ``text`` names (Total without one)."""
    found = [m for m in re.finditer(r"\b(kort|lång)\w*", text)]
    if not found:
        return L.ROW_SJUK_TOTAL
    return L.ROW_SJUK_KORT if found[-1].group(1) == "kort" else L.ROW_SJUK_LANG


def _sick_columns(segment: str, prior: bool) -> list[str]:
    women, men = bool(re.search(r"\bkvinn\w*", segment)), bool(_MEN.search(segment))
    cols = []
    if women:
        cols.append(L.COL_KVINNOR_FG if prior else L.COL_KVINNOR)
    if men:
        cols.append(L.COL_MAN_FG if prior else L.COL_MAN)
    if not cols:
        cols.append(L.COL_TOTALT_FGP if prior else L.COL_TOTALT)
    return cols


_UP_VERBS = ("ökat", "ökade", "ökar", "ökning", "stigit", "steg", "stiger", "höjts")
_CHANGE_VERB = re.compile(r"\b(ökat|ökade|ökar|ökning|stigit|steg|stiger|höjts|minskat|minskade|minskar|minskning|"
                          r"sjunkit|sjönk|sjunker|sänkts)\b")


def _said_change(word: str) -> str:
    """What the text says of the sick leave, as the message quotes it ("Texten säger att
    sjukfrånvaron har ökat")."""
    if word.endswith("ing"):
        return f"Texten kallar sjukfrånvaron en {word}"
    if word in ("lägre", "högre"):
        return f"Texten säger att sjukfrånvaron är {word}"
    if word.endswith(("at", "it", "ts")):
        return f"Texten säger att sjukfrånvaron har {word}"
    return f"Texten säger att sjukfrånvaron {word}"


def _direction_of_sick(report: Report, result: TextResult, claim: Claim, s: _Sentence, n: _Number) -> None:
    """"under/över målnivån" and "en ökning/minskning jämfört med föregående" right after the
    current total."""
    total = _sick(report, L.ROW_SJUK_TOTAL, L.COL_TOTALT)
    if total is None or not _agrees(claim.value, claim.decimals, False, total.value):
        return
    tail = s.after(n)[:80]
    target = _target(report)
    m = re.search(r"\b(under|över|lägre än|högre än)\s+(mål\w*)", tail)
    if m and target is not None and total.value != target.value:
        says_below = m.group(1) in ("under", "lägre än")
        if says_below != (total.value < target.value):
            right = "under" if total.value < target.value else "över"
            result.checks.append(Check(claim, (target,), False, f"Texten säger att sjukfrånvaron {claim.written.strip()} "
                                       f"är {m.group(1)} {m.group(2)}, men den är {right} målet "
                                       f"{fmt_number(target.value, 1)} % ({target.source()}). "
                                       f"Meningen: \u201d{claim.sentence}\u201d", TEXT_RIKTNING.id))
    # the verb before the figure ("har ökat från 2,6 % till 2,5 %", "ökade … och uppgår till 2,5 %")
    head = s.low[:n.start]
    topic = [m.end() for m in _SICK_TOPIC.finditer(head)]
    verb = None
    if topic and not re.search(r"\b(kort|lång|kvinn)\w*", head) and not _MEN.search(head):  # the total's own verb
        verb = next((m for m in reversed(list(_CHANGE_VERB.finditer(head, topic[0])))), None)
        if verb is not None and re.search(r"\b(men|medan|samtidigt|trots)\b|,(?!\d)", head[verb.end():]):
            verb = None  # the verb is another clause's
    start = re.search(rf"\bfrån\s+(?P<a>\d+(?:,\d+)?){_SPACES}?(%|procent)?\s+till\s*$", head) if verb else None
    if verb is not None and start is not None:  # "från A till B": B − A is the change the text states
        a = float(start.group("a").replace(",", "."))
        up = verb.group(1) in _UP_VERBS
        if round_half_up(claim.value - a, 1) != 0 and (claim.value > a) != up:
            change = _sick(report, L.ROW_SJUK_TOTAL, L.COL_FORANDRING)
            table = "" if change is None else f" ({change.source()}: {fmt_number(change.value, 1, sign=True)})"
            result.checks.append(Check(claim, (change or total,), False, f"{_said_change(verb.group(1))} från "
                                       f"{start.group('a')} % till {claim.written.strip()}, men det är en "
                                       f"{'minskning' if claim.value < a else 'ökning'}{table}. "
                                       f"Meningen: \u201d{claim.sentence}\u201d", TEXT_RIKTNING.id))
            return
    change = _sick(report, L.ROW_SJUK_TOTAL, L.COL_FORANDRING)
    if change is None or round_half_up(change.value, 1) == 0:
        return
    # "lägre än målet", "högre än snittet": a comparison, not a change
    tail = re.sub(r"\b(lägre|högre|fler|färre)\s+än\s+(?!(föregående|förra|i fjol|fg|samma|motsvarande)\b)", " ", tail)
    down, up = _DOWN.search(tail), _UP.search(tail)
    if not (down or up) and verb is not None:
        down, up = (None, verb) if verb.group(1) in _UP_VERBS else (verb, None)
    if (down and change.value > 0) or (up and change.value < 0):
        said = _said_change((down or up).group(1))
        result.checks.append(Check(claim, (change,), False, f"{said}, men "
                                   f"Förändring är {fmt_number(change.value, 1, sign=True)} ({change.source()}). "
                                   f"Meningen: \u201d{claim.sentence}\u201d", TEXT_RIKTNING.id))


# --- counts ---------------------------------------------------------------------------------
def _check_count(report: Report, p: Paragraph, s: _Sentence, n: _Number, before: str, after: str,
                 is_change: bool, result: TextResult) -> None:
    words = s.words_after(n, 3)
    head = words[0] if words else ""
    if _GENERIC_COUNT.match(head):  # "108 stycken": the noun follows ("106 st anställda") or is earlier
        rest = " ".join(words[1:])
        if len(words) > 1 and _count_noun(words[1]):
            head = words[1]
        else:
            head = next((w for w in reversed(_words(s.low[:n.start])) if _count_noun(w)), "")
    else:
        rest = " ".join(words)
    if is_change:
        _check_staff_change(report, p, s, n, before, head, result)
        return
    if _more_than_before(report, p, s, n, result):  # "29 fler medarbetare än samma period 2019"
        return
    subject = _COUNT_SUBJECT.search(s.low[:n.start])
    own = _count_noun(head) is not None
    if subject and _staff_row(subject.group("noun"))[0] and (
            not own or _staff_row(head) == (True, None) and _staff_row(subject.group("noun"))[1] is not None):
        # "Totalt antal anställda är 108", "Antalet tillsvidareanställda är 98 personer": the subject's noun
        if subject.group("verb") == "från" and not re.match(r"\s+till\b", s.low[n.end:]):
            result.untied.append(_claim(p, s, n, COUNT))  # "från 89 i december till": another time
            return
        head, rest = subject.group("noun"), ""
        subject = None if own else subject  # "98 personer": the claim is written with its noun
    else:
        subject = None
    candidates: list[Figure | None] = []
    kind = _count_noun(head)
    # "19 av 24 åtaganden bedöms bli klara": 24 is the whole, 19 the part the status words are about
    whole = bool(_PART_BEFORE.search(s.low[:n.start]))
    part = _PART_OF.match(s.low[n.end:])
    start = n.end
    if part and _COMMITMENT_NOUN.search((part.group("noun") or "").strip()):
        kind, start = "commitments", n.end + part.end()
        rest = " ".join(_words(s.low[start:])[:3])
    following = [o.start for o in s.numbers if o.start >= start and not _YEAR.match(str(int(abs(o.value))))]
    tail = s.low[start:min([start + 60, *following])]  # up to the next figure: "19 bli klara ... 5 stycken"
    if whole and kind == "commitments":
        tail = rest = ""
    if kind == "staff" and (_LEFT.search(tail) or _LEFT_BEFORE.search(before)):  # "3 medarbetare har slutat"
        candidates.append(_leavers(report, None))
    elif kind == "staff":
        row, col = next(v for rx, v in _STAFF_NOUNS if rx.search(head))
        split = _split_of(report, s, n, col) if row is None and col != L.COL_TOTALT else None
        if split is not None:  # "98 tillsvidareanställda varav 68 kvinnor": the split of the whole before it
            candidates.extend(split)
        elif row is None and col != L.COL_TOTALT:  # kvinnor, män: of the total, or of a form the sentence names
            candidates.append(_staff(report, None, col))
            for rx, (form, _) in _STAFF_NOUNS[:3]:
                if any(rx.search(w) for w in _words(s.low)):
                    candidates.append(_staff(report, form, col))
        elif subject and subject.group("verb") == "från":  # "har ökat från 89 till 108": the year before
            candidates.append(_staff(report, row, L.COL_TOTALT_FG))
        else:
            candidates.append(_staff(report, row, col))
        if _PRIOR_WORDS.search(_prior_year(report)(s.low)) and col == L.COL_TOTALT:  # "föregående år hade kontoret 89"
            candidates.append(_staff(report, row, L.COL_TOTALT_FG))
    elif kind == "leavers":
        key = next(v for rx, v in _LEAVER_NOUNS if rx.search(head))
        candidates.append(_leavers(report, key))
    elif kind == "commitments" or (_NOT_DONE.search(tail) or _DONE.search(tail) or _status_word(rest)):
        if _NOT_DONE.search(tail):
            candidates.append(_commitments(report, "nej"))
        if _DONE.search(_NOT_DONE.sub(" ", tail)):
            candidates.append(_commitments(report, "ja"))
        status = _status_word(rest)
        if status:
            candidates.append(_commitments(report, status))
        if kind == "commitments" and not candidates and part:  # "19 av 24 åtaganden" with no status
            result.untied.append(_claim(p, s, n, COUNT))
            return
        if kind == "commitments" and not candidates:
            areas = _areas(report, s.low)
            candidates.extend(areas or [_commitments(report, "total")])
        if not candidates:
            result.untied.append(_claim(p, s, n, COUNT))
            return
        if not (kind == "commitments" or re.search(r"åtagand", s.low + s.previous)):
            result.untied.append(_claim(p, s, n, COUNT))
            return
    else:
        result.untied.append(_claim(p, s, n, COUNT))
        return
    noun = re.match(r"\s*[\wåäö/]+", s.text[n.end:]) if kind is not None and start == n.end and not subject else None
    claim = Claim(p, s.text, s.text[n.start:start + (noun.end() if noun else 0)], n.value, 0, COUNT, False)
    _decide(result, claim, candidates, TEXT_ANTAL.id, _all_counts(report) if kind == "staff" else ())


_VARAV = re.compile(r"\bvarav\b")
# "Av de 9 visstidsanställda är 5 kvinnor": the whole named in the same sentence
_OF_THE = re.compile(r"\bav\s+(?:de|dessa|nämndens|kontorets|förvaltningens)\s+(?:(?P<n>\d+)\s+)?(?P<noun>[a-zåäö]+)"
                     r"\s+(?:är|var)\s+(?:\d+\s+[a-zåäö]+\s+(?:och|samt)\s+)?$")


def _staff_row(word: str) -> tuple[bool, str | None]:
    """(``word`` is a staff noun, the row it names: a form, or None for the total)."""
    for rx, (row, col) in _STAFF_NOUNS:
        if rx.search(word):
            return col == L.COL_TOTALT, row
    return False, None


def _split_of(report: Report, s: _Sentence, n: _Number, col: str) -> list[Figure] | None:
    """The figures a women/men count split after "varav" (or "av de 9 visstidsanställda är")
    may mean: that column of the row the whole before it names ("98 tillsvidareanställda
    medarbetare varav 68 kvinnor och 30 män": Tillsvidareanställda). When the whole as written
    is another row's Totalt ("108 tillsvidareanställda varav 74 kvinnor", 108 being all staff),
    the whole's number is the error (flagged on it) and that row's split is a candidate too.
    None when the sentence does not split a staff whole: the caller's candidates."""
    head = s.low[:n.start]
    whole_value = None
    if (of := _OF_THE.search(head)) is not None:
        is_staff, row = _staff_row(of.group("noun"))
        if not is_staff:
            return None
        whole_value = float(of.group("n")) if of.group("n") else None
    else:
        varav = [m.start() for m in _VARAV.finditer(head)]
        if not varav or re.search(r"[.;:]", head[varav[-1]:]):
            return None
        cut = varav[-1]
        whole = [o for o in s.numbers if o.end <= cut and not o.unit and o.decimals == 0]
        if whole and re.fullmatch(r"[\s,]*([a-zåäö]+[\s,]+){0,2}", head[whole[-1].end:cut] + " ") is None:
            whole = []  # the last number is not the whole right before "varav"
        if whole:
            after = _words(head[whole[-1].end:cut])
            after = [w for w in after if not _GENERIC_COUNT.match(w)]
            noun = after[0] if after else None
            if noun is None:  # "Antalet tillsvidareanställda är 98, varav": the noun before the number
                noun = next((w for w in reversed(_words(head[:whole[-1].start])) if _staff_row(w)[0]), None)
            whole_value = whole[-1].value
        else:
            noun = next((w for w in reversed(_words(head[:cut])) if _staff_row(w)[0]), None)
        if noun is None:
            return None
        is_staff, row = _staff_row(noun)
        if not is_staff:
            return None
    out = [_staff(report, row, col)]
    total = _staff(report, row, L.COL_TOTALT)
    if whole_value is not None and total is not None and total.value != whole_value:
        for r in report.staff.all_rows():
            key = None if r is report.staff.total else r.key
            other = _staff(report, key, L.COL_TOTALT)
            if key != row and other is not None and other.value == whole_value:
                out.append(_staff(report, key, col))
    return [f for f in out if f is not None] or None


# the staff noun before a count: "Totalt antal anställda är 118", "Antalet anställda har ökat från 89 till 108"
_COUNT_SUBJECT = re.compile(r"\b(?:totalt\s+antal|antal(?:et)?|totalt)\s+(?P<noun>[a-zåäö]+)(?:\s+[a-zåäö0-9]+){0,8}?"
                            r"\s+(?P<verb>är|var|blir|uppgår till|uppgick till|till|från)\s*$")
# "29 fler medarbetare än samma period 2019", "är 18 fler än föregående år": a change
_MORE_THAN = re.compile(r"^\s+(?P<word>fler|färre)\s+(?:(?P<noun>[a-zåäö]+)\s+)?än\s+"
                        r"(?:vid\s+)?(?:samma|motsvarande)\s+(?:period|tid)\s+(?:i fjol|föregående år|förra året)"
                        r"|^\s+(?P<word2>fler|färre)\s+(?:(?P<noun2>[a-zåäö]+)\s+)?än\s+(?:föregående år|förra året|i fjol)\b")


def _more_than_before(report: Report, p: Paragraph, s: _Sentence, n: _Number, result: TextResult) -> bool:
    """"29 fler medarbetare än samma period 2019" (the noun after "fler" or the subject before
    the number) against the row's Förändring; False when the words are not such a change."""
    m = _MORE_THAN.match(_prior_year(report)(s.low[n.end:]))
    if m is None:
        return False
    word, noun = m.group("word") or m.group("word2"), m.group("noun") or m.group("noun2")
    if noun is None:  # "Antalet anställda är 108. Det är 19 fler än föregående år"
        noun = next((w for w in [*reversed(_words(s.low[:n.start])), *reversed(_words(s.previous))]
                     if _count_noun(w)), None)
    is_staff, row = _staff_row(noun or "")
    if not is_staff and not (noun and row is not None):
        result.untied.append(_claim(p, s, n, CHANGE))  # "5 fler kvinnor än": the tables have no such change
        return True
    value = -n.value if word == "färre" else n.value
    words = s.text[n.start:n.end + m.end("noun" if m.group("noun") else "noun2" if m.group("noun2") else "word"
                                          if m.group("word") else "word2")]
    claim = Claim(p, s.text, words, value, 0, CHANGE, True)
    _decide(result, claim, [_staff(report, row, L.COL_FORANDRING)], TEXT_FORANDRING.id)
    return True


def _all_counts(report: Report) -> list[Figure]:
    out = [_staff(report, r.key if r is not report.staff.total else None, c)
           for r in report.staff.all_rows() for c in (L.COL_KVINNOR, L.COL_MAN, L.COL_TOTALT)]
    return [f for f in out if f is not None]


def _count_noun(word: str) -> str | None:
    if any(rx.search(word) for rx, _ in _STAFF_NOUNS):
        return "staff"
    if any(rx.search(word) for rx, _ in _LEAVER_NOUNS):
        return "leavers"
    if _COMMITMENT_NOUN.search(word):
        return "commitments"
    return None


def _status_word(rest: str) -> str | None:
    for w in rest.split():
        for rx, status in _STATUS_WORDS:
            if rx.search(w):
                return status
    return None


def _check_staff_change(report: Report, p: Paragraph, s: _Sentence, n: _Number, before: str, head: str,
                        result: TextResult) -> None:
    subject = next((w for w in reversed(_words(s.low[:n.start])) if _count_noun(w)), "")
    if _count_noun(head) is None:  # no noun after the number: the subject named before it
        head = subject
    elif _staff_row(head) == (True, None) and _staff_row(subject)[1] is not None:
        # "Antalet tillsvidareanställda har ökat med 18 personer": the subject's form, not the total
        head = subject
    if _count_noun(head) != "staff":
        result.untied.append(_claim(p, s, n, CHANGE))
        return
    row, _col = next(v for rx, v in _STAFF_NOUNS if rx.search(head))
    sign = -1 if _DOWN.search(before) else 1
    signed = bool(_DOWN.search(before) or _UP.search(before))
    _decide(result, _claim(p, s, n, CHANGE, sign * n.value, signed), [_staff(report, row, L.COL_FORANDRING)],
            TEXT_FORANDRING.id)


# --- years and periods ------------------------------------------------------------------------
# The constructions where a year is the report's year, or the year before it; any other year
# (a plan "2020–2023", a move "under 2019", a future "delår 1 2021") is not tied.
_YEAR_OF_REPORT = (
    re.compile(r"\b(budget\w*|prognos\w*|resultat\w*|utfall\w*|intäkt\w*|kostnad\w*) för (år )?$"),
    re.compile(r"\båtaganden(a)? (för )?(år )?$"),
    re.compile(r"\b(bli|blir) klara (under |till )?(år )?$"),
    re.compile(rf"\b(perioden |för |under )(januari|jan)(\s*[-–]\s*|\s+)({_MONTHS_RE}) $"),
)
_YEAR_BUDGETED = re.compile(r"^ (budgeteras|budgeterades|budgeterats)\b")
_YEAR_BEFORE = re.compile(r"\bsamma period (i fjol |föregående år |förra året )?$")


def _check_year(report: Report, p: Paragraph, s: _Sentence, n: _Number, before: str, after: str,
                result: TextResult) -> None:
    ar = report.meta.ar
    if ar is None:
        return
    head = s.low[max(0, n.start - 40):n.start]
    tail = s.low[n.end:n.end + 20]
    ref = report.meta.cells.get("ar")
    if _YEAR_BEFORE.search(head):
        _decide(result, _claim(p, s, n, YEAR), [Figure(YEAR, ar - 1, "År − 1", ref, 0)],
                TEXT_AR.id)
    elif _YEAR_OF_REPORT[-1].search(head):  # "januari–mars 2019": this period, or last year's
        _decide(result, _claim(p, s, n, YEAR), [Figure(YEAR, ar, "År", ref, 0), Figure(YEAR, ar - 1, "År − 1", ref, 0)],
                TEXT_AR.id)
    elif any(rx.search(head) for rx in _YEAR_OF_REPORT) or (head.endswith("för ") and _YEAR_BUDGETED.search(tail)):
        _decide(result, _claim(p, s, n, YEAR), [Figure(YEAR, ar, "År", ref, 0)], TEXT_AR.id)
    else:
        result.untied.append(_claim(p, s, n, YEAR))


_RANGE = re.compile(rf"\b(?:perioden|för|under perioden|under)\s+(?P<a>{_MONTHS_RE})\s*(?:[-–]\s*|\s)(?P<b>{_MONTHS_RE})\b")
_PER_MONTH = re.compile(rf"\bper (?P<m>{_MONTHS_RE})\b(?!\s+\d{{4}}\s*[-–])")


def check_periods(report: Report, paragraphs: Iterable[Paragraph]) -> list[Check]:
    """The month ranges ("perioden januari–mars") and "per mars" of the text against Månad."""
    manad = report.meta.manad
    if manad is None:
        return []
    ref = report.meta.cells.get("manad")
    want = L.MONTHS[manad - 1]
    fig = Figure(MONTH, manad, f"{L.META_MANAD} ({want})", ref, 0)
    out = []
    for p in paragraphs:
        for s in sentences(p.text):
            low = s.lower()
            for m in [*_RANGE.finditer(low), *_PER_MONTH.finditer(low)]:
                month = _MONTH_NO[m.group("b") if "b" in m.groupdict() else m.group("m")]
                written = s[m.start():m.end()]
                claim = Claim(p, s, written, month, 0, MONTH, False)
                if month == manad:
                    out.append(Check(claim, (fig,), True))
                else:
                    out.append(Check(claim, (fig,), False, f"Texten säger \u201d{written.strip()}\u201d, men rapporten "
                                     f"gäller till och med {want} ({fig.source()}). Meningen: \u201d{s}\u201d",
                                     TEXT_PERIOD.id))
    return out


def check(report: Report, paragraphs: Sequence[Paragraph]) -> TextResult:
    """The whole check: figures, years, periods."""
    result = check_text(report, paragraphs)
    result.checks.extend(check_periods(report, paragraphs))
    return result

