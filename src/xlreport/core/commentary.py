"""Deviation commentary: which deviations must be explained, and whether they are (``forklaringar``).

A deviation is *material* when Avvikelse helår or Avvikelse ack, rounded as the report prints it
(one decimal, halves away from zero), is at least the threshold in magnitude and not 0,0. The
threshold is ``Väsentlighetsgräns (mnkr)`` on the sheet Uppgifter, or :attr:`Config.materiality`
(1,0 mnkr) when that cell is absent or empty. Both deviations are computed from their inputs
(Prognos − Budget helår, Utfall − Budget ack), never read from the deviation cells.

* A **unit** (a row of Driftredovisning) with a material deviation is explained by text in its
  ``Kommentar`` cell or by rows of Avvikelseförklaring whose ``Enhet`` is the unit's name.
* A **row of Resultaträkning** with a material deviation is explained by its ``Kommentar``. The
  result rows are sums of the rows above them; the bottom line is explained by Avvikelseförklaring
  as a whole (the rules ``forklaring`` and ``forklaring-saknas``).
* The rows keyed to a unit add up to the unit's Avvikelse helår, within the rounding tolerance
  of the rule ``forklaring`` (every row keyed to a unit, material or not). Rows without an Enhet
  (or with the nämnd's name) belong to the nämnd; all rows together still add up to the bottom
  line's Avvikelse helår (``forklaring``).

A missing explanation is a warning (it does not stop a refresh: the figures are right, the
commentary is late); explanations that do not add up are an error, like ``forklaring``: they
would publish figures that contradict the table. Each finding about a unit or row is a
:class:`ChaseFinding`, which carries its line of the chase list (:class:`ChaseItem`): the
Kontroller sheet, ``xlreport chase`` and the Excel button all list those.
"""

from __future__ import annotations

from ..records import Record
from . import layout as L
from .cells import CellRef, a1
from .config import DEFAULT, Config
from .findings import ERROR, WARNING, Finding, RuleSpec, declare
from .model import Report, Row, Table
from .swedish import fmt_mnkr, fmt_number, round_half_up

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see xlreport.records)
if TYPE_CHECKING:
    from typing import Any

# --- the rules (group "forklaringar") ----------------------------------------------------
ENHET_SAKNAS = declare("forklaring-enhet-saknas", "forklaringar", WARNING,
                       "En enhet vars avvikelse helår eller ack är minst väsentlighetsgränsen har en förklaring: "
                       "en Kommentar i Driftredovisning eller rader i Avvikelseförklaring med enhetens namn")
RAD_SAKNAS = declare("forklaring-rad-saknas", "forklaringar", WARNING,
                     "En rad i Resultaträkning vars avvikelse helår eller ack är minst väsentlighetsgränsen har en "
                     "Kommentar")
ENHET_SUMMA = declare("forklaring-enhet-summa", "forklaringar", ERROR,
                      "En enhets rader i Avvikelseförklaring summerar till enhetens Avvikelse helår")
ENHET_OKAND = declare("forklaring-enhet-okand", "forklaringar", WARNING,
                      "Enheten som en rad i Avvikelseförklaring hör till finns i Driftredovisning")

MISSING = "saknas"  # ChaseItem.status: no explanation
UNBALANCED = "summerar-inte"  # ChaseItem.status: the unit's explanation rows do not add up


class ChaseItem(Record, frozen=True):
    """One line of the chase list: a unit or row whose explanation is missing or does not add up."""

    unit: str  # the unit's name, or the row's label in Resultaträkning
    table: str  # the table it is a row of (Driftredovisning, Resultaträkning)
    sheet: str
    cell: str  # where the explanation goes (or the deviation it must add up to)
    avvikelse_helar: float | None
    avvikelse_ack: float | None
    status: str  # MISSING or UNBALANCED
    missing: str  # Swedish: what is missing and where to write it
    explained: float | None = None  # the sum of the unit's explanation rows (UNBALANCED)
    limit: float | None = None  # the materiality threshold the deviation was measured against

    def to_dict(self) -> dict[str, Any]:
        return {"enhet": self.unit, "tabell": self.table, "blad": self.sheet, "cell": self.cell,
                "avvikelse_helar": _rounded(self.avvikelse_helar), "avvikelse_ack": _rounded(self.avvikelse_ack),
                "status": self.status, "saknas": self.missing, "forklarat": _rounded(self.explained),
                "vasentlighetsgrans": self.limit}


def _rounded(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


class ChaseFinding(Finding):
    """A finding that is also a line of the chase list (``chase``)."""

    def __init__(self, spec: RuleSpec, ref: CellRef, message: str, chase: ChaseItem, *, expected: Any = None,
                 actual: Any = None):
        super().__init__(spec.id, spec.severity, message, ref.sheet, ref.a1, expected, actual)
        object.__setattr__(self, "chase", chase)  # a frozen record: set once, here


def threshold(report: Report, config: Config = DEFAULT) -> float:
    """The materiality threshold in mnkr: Uppgifter's, else the configured default."""
    v = report.meta.vasentlighet
    return v if v is not None else config.materiality


def is_material(value: float | None, limit: float, decimals: int = 1) -> bool:
    """|value|, rounded as printed, is at least ``limit`` (and not 0)."""
    if value is None:
        return False
    shown = round_half_up(abs(value), decimals)
    return shown > 0 and shown >= limit - 1e-9


def chase_items(findings: list[Finding]) -> list[ChaseItem]:
    """The chase list carried by ``findings``, in the order of the tables."""
    return [f.chase for f in findings if isinstance(getattr(f, "chase", None), ChaseItem)]


def check_explanations(report: Report, config: Config = DEFAULT) -> list[Finding]:
    """Every finding of the group ``forklaringar`` (see the module docstring)."""
    limit = threshold(report, config)
    out: list[Finding] = []
    keyed = _keyed_rows(report, out)
    for row in report.units.rows:
        out.extend(_unit(report, row, keyed.get(L.norm(row.label), []), limit, config))
    for row in report.income.rows:
        if row.key not in L.RESULT_ROWS:
            out.extend(_income_row(report, row, limit, config))
    return out


def _mn(v: float | None) -> str:
    return fmt_mnkr(v, sign=True)


def _material_text(helar: float | None, ack: float | None, limit: float, decimals: int) -> str:
    parts = [f"{col} {_mn(v)}" for col, v in ((L.COL_AVV_HELAR, helar), (L.COL_AVV, ack))
             if is_material(v, limit, decimals)]
    return f"{' och '.join(parts)} når väsentlighetsgränsen {fmt_mnkr(limit)}"


def unit_key(report: Report, row: Row) -> str | None:
    """The Enhet a row of Avvikelseförklaring is keyed to, or None for a row of the nämnd's (no
    Enhet, or the nämnd's name, or the unit table's Summa label)."""
    key = row.texts.get(L.COL_ENHET)
    if key is None:
        return None
    nämnd = {L.norm(report.meta.namnd), L.norm(L.ROW_SUMMA)}
    if report.units.total is not None:
        nämnd.add(L.norm(report.units.total.label))
    return None if L.norm(key) in nämnd else key


def _keyed_rows(report: Report, out: list[Finding]) -> dict[str, list[Row]]:
    """Avvikelseförklaring's rows by the unit they are keyed to (normalised name); a key that is
    no unit gets a finding."""
    t = report.explanation
    if L.COL_ENHET not in t.text_columns:
        return {}
    units = {L.norm(r.label): r.label for r in report.units.rows}
    keyed: dict[str, list[Row]] = {}
    for row in t.rows:
        key = unit_key(report, row)
        if key is None:
            continue
        if L.norm(key) not in units:
            import difflib  # only for a key that names no unit

            close = difflib.get_close_matches(key, list(units.values()), n=1, cutoff=0.6)
            hint = f" Menade du '{close[0]}'?" if close else ""
            out.append(ENHET_OKAND.at(t.ref(row, L.COL_ENHET), f"Raden '{row.label}' i {t.name} hör till enheten "
                                      f"'{key}', som inte finns i {report.units.name}; den förklarar ingen enhets "
                                      f"avvikelse.{hint}", expected=close[0] if close else None, actual=key))
            continue
        keyed.setdefault(L.norm(key), []).append(row)
    return keyed


def _where_unit(report: Report, row: Row) -> tuple[CellRef, str]:
    """The cell a missing unit explanation points at, and the sentence that says where to write it."""
    t, e = report.units, report.explanation
    by_rows = f"rader i {e.name} med {L.COL_ENHET} '{row.label}'"
    if L.COL_KOMMENTAR in t.text_columns:
        ref = t.ref(row, L.COL_KOMMENTAR)
        if L.COL_ENHET in e.text_columns:
            return ref, f"Skriv en kommentar i {ref.sheet}!{ref.a1} eller {by_rows}."
        return ref, f"Skriv en kommentar i {ref.sheet}!{ref.a1}."
    ref = t.ref(row)
    if L.COL_ENHET in e.text_columns:
        return ref, f"Skriv {by_rows}."
    return ref, (f"Arbetsboken har ingen kolumn för förklaringen: {_add_column(t, L.COL_KOMMENTAR)} och skriv "
                 f"förklaringen på enhetens rad (eller lägg till kolumnen '{L.COL_ENHET}' i {e.name} och skriv "
                 f"{by_rows}).")


def _add_column(t: Table, header: str) -> str:
    free = t.free_col if t.free_col is not None else max([t.label_col, *t.columns.values()]) + 1
    return (f"lägg till kolumnen '{header}' i {t.name} (rubriken i rubrikraden, rad {t.header_row + 1}, "
            f"t.ex. i {a1(t.header_row, free)})")


def _unit(report: Report, row: Row, keyed: list[Row], limit: float, config: Config) -> list[Finding]:
    t, e = report.units, report.explanation
    helar, ack = report.deviation_year(row), report.deviation_ack(row)
    decimals = config.decimals
    if keyed:
        if helar is None or any(L.COL_BELOPP in r.invalid for r in keyed):
            return []  # a figure it needs is empty or unreadable (that cell has its own finding)
        amounts = [r.num(L.COL_BELOPP) or 0.0 for r in keyed]
        s = sum(amounts)
        if abs(s - helar) <= config.tolerance(len(keyed) + 1):
            return []
        ref = t.ref(row, L.COL_AVV_HELAR)
        rows = ", ".join(str(r.row + 1) for r in keyed)
        what = (f"raderna i {e.name} med {L.COL_ENHET} '{row.label}' (rad {rows}) summerar till {_mn(s)}, "
                f"inte till enhetens {L.COL_AVV_HELAR} {_mn(helar)} (skillnad {_mn(s - helar)})")
        item = ChaseItem(row.label, t.name, ref.sheet, ref.a1, helar, ack, UNBALANCED,
                         f"Förklaringarna summerar inte: {what}.", explained=s, limit=limit)
        return [ChaseFinding(ENHET_SUMMA, ref, f"{row.label}: {what}. Rätta beloppen eller enheten på raderna.",
                             item, expected=round(helar, 6), actual=round(s, 6))]
    if not (is_material(helar, limit, decimals) or is_material(ack, limit, decimals)):
        return []
    if row.texts.get(L.COL_KOMMENTAR):
        return []
    ref, where = _where_unit(report, row)
    item = ChaseItem(row.label, t.name, ref.sheet, ref.a1, helar, ack, MISSING, f"Förklaring saknas. {where}",
                     limit=limit)
    return [ChaseFinding(ENHET_SAKNAS, ref, f"{row.label}: {_material_text(helar, ack, limit, decimals)}, men "
                                            f"enheten har ingen förklaring. {where}", item)]


def _income_row(report: Report, row: Row, limit: float, config: Config) -> list[Finding]:
    t = report.income
    helar, ack = report.deviation_year(row), report.deviation_ack(row)
    if not (is_material(helar, limit, config.decimals) or is_material(ack, limit, config.decimals)):
        return []
    if row.texts.get(L.COL_KOMMENTAR):
        return []
    if L.COL_KOMMENTAR in t.text_columns:
        ref = t.ref(row, L.COL_KOMMENTAR)
        where = f"Skriv en kommentar i {ref.sheet}!{ref.a1}."
    else:
        ref = t.ref(row)
        where = f"Arbetsboken har ingen kolumn för kommentaren: {_add_column(t, L.COL_KOMMENTAR)} och skriv den där."
    item = ChaseItem(row.label, t.name, ref.sheet, ref.a1, helar, ack, MISSING, f"Kommentar saknas. {where}",
                     limit=limit)
    return [ChaseFinding(RAD_SAKNAS, ref, f"{row.label}: {_material_text(helar, ack, limit, config.decimals)}, men "
                                          f"raden har ingen kommentar. {where}", item)]


# --- the list as text and as CSV (pure: the commands write the bytes) ------------------------

STATUS_SV = {MISSING: "Förklaring saknas", UNBALANCED: "Summerar inte"}


def csv_number(v: float | None, decimals: int = 1) -> str:
    """A number as Swedish Excel reads it from a CSV file: decimal comma, hyphen-minus, no spaces."""
    if v is None:
        return ""
    r = round_half_up(v, decimals) or 0.0  # never "-0,0"
    return f"{r:.{decimals}f}".replace(".", ",")


def chase_note(items: list[ChaseItem]) -> str:
    """The sentence above the chase list: how many, and the threshold."""
    limits = sorted({i.limit for i in items if i.limit is not None})
    gräns = f" (väsentlighetsgräns {fmt_mnkr(limits[0])})" if len(limits) == 1 else ""
    n = len(items)
    return (f"{n} {'enhet eller rad' if n == 1 else 'enheter eller rader'} med väsentlig avvikelse{gräns} "
            f"saknar förklaring eller har förklaringar som inte summerar.")


def item_line(item: ChaseItem) -> str:
    """One line of the chase list for the console."""
    return (f"{item.sheet}!{item.cell}: {item.unit}: {L.COL_AVV_HELAR} {fmt_number(item.avvikelse_helar, 1)}, "
            f"{L.COL_AVV} {fmt_number(item.avvikelse_ack, 1)} mnkr: {item.missing}")

