"""Operation 4: the report sections and the findings sheet, in Swedish, from the model.

Every figure in the text is read from the model here and formatted once; nothing is typed
twice, so the sentences cannot disagree with the tables they quote. The output is two
:class:`~xlreport.core.changes.SheetContent` objects for the sheets the tool owns.
"""

from __future__ import annotations

import math
from collections import Counter

from . import layout as L
from .cells import quote_sheet
from .changes import WRAP_STYLES, Cell, SheetContent
from .findings import ERROR, SEVERITY_SV, WARNING, Finding, count
from .model import Report, Row, Table
from .swedish import fmt_int, fmt_mnkr, fmt_percent


def generate_report(report: Report, findings: list[Finding]) -> list[SheetContent]:
    return [report_sheet(report, findings), findings_sheet(findings, report.meta.namnd)]


# --- text ---------------------------------------------------------------------------------

def _period_text(report: Report) -> str:
    m = report.meta
    period = m.period or (f"januari–{L.MONTHS[m.manad - 1]}" if m.manad else "perioden")
    return f"{period} {m.ar}" if m.ar else period


def _change_word(delta: float, unit_sg: str, unit_pl: str) -> str:
    n = abs(round(delta))
    unit = unit_sg if n == 1 else unit_pl
    if n == 0:
        return "Antalet är oförändrat jämfört med föregående år."
    return f"Det är en {'ökning' if delta > 0 else 'minskning'} med {fmt_int(n)} {unit} jämfört med föregående år."


def summary_sentences(report: Report) -> list[str]:
    """The summary paragraph, one sentence per list item."""
    out: list[str] = []
    m, inc = report.meta, report.income
    res, intakter = inc.get(L.ROW_RESULTAT), inc.get(L.ROW_INTAKTER)
    year = m.ar or "året"
    if intakter is not None and intakter.num(L.COL_BUDGET_HELAR) is not None:
        s = f"De totala intäkterna för {year} budgeteras till {fmt_mnkr(intakter.num(L.COL_BUDGET_HELAR))}."
        if m.driftram is not None:
            s += f" Av dessa utgör driftram {fmt_mnkr(m.driftram)}."
        out.append(s)
    if res is not None and res.num(L.COL_UTFALL) is not None:
        avv = report.deviation_ack(res)
        out.append(f"Resultatet för {_period_text(report)} uppgår till {fmt_mnkr(res.num(L.COL_UTFALL))} att "
                   f"jämföra med budgeterat resultat {fmt_mnkr(res.num(L.COL_BUDGET) or 0.0)}, en avvikelse på "
                   f"{fmt_mnkr(avv, sign=True)}.")
    if res is not None and res.num(L.COL_PROGNOS) is not None:
        avv = report.deviation_year(res)
        out.append(f"Prognosen för helåret uppgår till {fmt_mnkr(res.num(L.COL_PROGNOS))} att jämföra med "
                   f"budget {fmt_mnkr(res.num(L.COL_BUDGET_HELAR) or 0.0)}, en avvikelse på "
                   f"{fmt_mnkr(avv, sign=True)}.")
    out.extend(_staff_sentences(report))
    out.extend(_sick_sentences(report))
    out.extend(_commitment_sentences(report))
    return out


_FORM_WORDS = {
    L.ROW_TILLSVIDARE: ("tillsvidareanställd", "tillsvidareanställda"),
    L.ROW_VISSTID: ("visstidsanställd", "visstidsanställda"),
    L.ROW_TIM: ("timanställd", "timanställda"),
}


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def _staff_sentences(report: Report) -> list[str]:
    t = report.staff
    total = t.total
    if total is None or total.num(L.COL_TOTALT) is None:
        return []
    n = total.num(L.COL_TOTALT)
    forms = []
    for row in t.rows:
        v = row.num(L.COL_TOTALT)
        if v is not None and v > 0:
            sg, pl = _FORM_WORDS.get(row.key, (row.label.lower(), row.label.lower()))
            forms.append(f"{fmt_int(v)} {sg if v == 1 else pl}")
    s = f"Totalt antal anställda är {fmt_int(n)}"
    s += f", varav {_join(forms)}." if forms else "."
    out = [s]
    k, mn = total.num(L.COL_KVINNOR), total.num(L.COL_MAN)
    if k is not None and mn is not None:
        out.append(f"Av dessa är {fmt_int(k)} {'kvinna' if k == 1 else 'kvinnor'} och {fmt_int(mn)} "
                   f"{'man' if mn == 1 else 'män'}.")
    change = total.num(L.COL_FORANDRING)
    if change is None and total.num(L.COL_TOTALT_FG) is not None:
        change = n - total.num(L.COL_TOTALT_FG)
    if change is not None:
        out.append(_change_word(change, "person", "personer"))
    lv = report.leavers
    if lv is not None and lv.total is not None and lv.total.num(L.COL_ANTAL) is not None:
        total_lv = lv.total.num(L.COL_ANTAL)
        parts = [_counted(r.num(L.COL_ANTAL), r.label) for r in lv.rows if r.num(L.COL_ANTAL)]
        s = f"Under perioden var det {fmt_int(total_lv)} {'avgång' if total_lv == 1 else 'avgångar'}"
        out.append(s + (f", varav {_join(parts)}." if parts else "."))
    return out


def _counted(n: float, label: str) -> str:
    """"1 pensionsavgång", "2 pensionsavgångar": the label's singular form for one."""
    singular = {L.norm(k): v for k, v in L.SINGULAR.items()}.get(L.norm(label))
    return f"{fmt_int(n)} {singular if n == 1 and singular else label.lower()}"


def _sick_sentences(report: Report) -> list[str]:
    row = report.sick.get(L.ROW_SJUK_TOTAL)
    value = row.num(L.COL_TOTALT) if row else None
    if value is None:
        return []
    s = f"Sjukfrånvaron uppgår till {fmt_percent(value)}"
    target = report.meta.sjukmal
    if target is not None:
        rel = "under" if value < target else "över" if value > target else "lika med"
        s += f" vilket är {rel} målnivån på {fmt_percent(target)}"
    before = row.num(L.COL_TOTALT_FGP)
    if before is not None:
        diff = round(value - before, 1)
        word = "en minskning" if diff < 0 else "en ökning" if diff > 0 else "oförändrat"
        s += f". Det är {word} jämfört med föregående period ({fmt_percent(before)})"
    return [s + "."]


def commitment_counts(report: Report) -> tuple[Counter, int, int, int]:
    """(count per status, total, judged complete this year, judged not complete)."""
    rows = report.commitments.rows
    statuses = {L.norm(s): s for s in L.STATUSES}
    by_status = Counter(statuses.get(L.norm(r.text(L.COL_STATUS) or ""), "Ingen status") for r in rows)
    yes = sum(1 for r in rows if L.norm(r.text(L.COL_BEDOMNING) or "") == L.norm(L.YES))
    no = sum(1 for r in rows if L.norm(r.text(L.COL_BEDOMNING) or "") == L.norm(L.NO))
    return by_status, len(rows), yes, no


def _commitment_sentences(report: Report) -> list[str]:
    by_status, n, yes, no = commitment_counts(report)
    if not n:
        return []
    year = report.meta.ar or "året"
    out = [f"Antalet åtaganden {year} uppgår till {fmt_int(n)} stycken."]
    if yes or no:
        s = f"Av dessa bedöms {fmt_int(yes)} bli klara under {year}"
        if no:
            s += f" och {fmt_int(no)} bedöms inte bli klara {year}"
        out.append(s + ".")
    parts = [f"{fmt_int(c)} {s.lower()}" for s in (*L.STATUSES, "Ingen status") if (c := by_status.get(s))]
    out.append(f"Status: {_join(parts)}.")
    return out


# --- the report sheet ---------------------------------------------------------------------

def _title(report: Report) -> str:
    m = report.meta
    return " ".join(str(p) for p in (m.rapport or "Rapport", m.ar or "", "–", m.namnd or "") if p).strip(" –")


def report_sheet(report: Report, findings: list[Finding]) -> SheetContent:
    sheet = SheetContent(L.SHEET_REPORT, col_widths={0: 44, 1: 14, 2: 14, 3: 14, 4: 14, 5: 14, 6: 14, 7: 14})
    m = report.meta
    sheet.add(Cell(_title(report), "title"))
    sheet.add(" · ".join(p for p in (m.kommun, m.namnd, m.enhet, _period_text(report)) if p))
    errors = count(findings, ERROR)
    if errors:
        sheet.add(Cell(f"Observera: arbetsboken har {errors} fel; se bladet {L.SHEET_FINDINGS}.", "error"))
    sheet.blank()

    sheet.add(Cell("Sammanfattning", "heading"))
    for sentence in summary_sentences(report):
        sheet.add(Cell(sentence, "text"))
    sheet.blank()

    _economy(sheet, report)
    _income_table(sheet, report)
    _unit_table(sheet, report)
    _staff_tables(sheet, report)
    _commitment_table(sheet, report)
    sheet.row_heights = row_heights(sheet)
    return sheet


def _economy(sheet: SheetContent, report: Report) -> None:
    res = report.resultat()
    sheet.add(Cell("Ekonomi", "heading"))
    if res is not None and res.num(L.COL_PROGNOS) is not None:
        sheet.add(f"Prognosen för {report.meta.ar or 'året'} uppgår till {fmt_mnkr(res.num(L.COL_PROGNOS))} att "
                  f"jämföra med budget {fmt_mnkr(res.num(L.COL_BUDGET_HELAR) or 0.0)}.")
    items = [r for r in report.explanation.rows if r.num(L.COL_BELOPP) is not None]
    if items:
        sheet.add("Avvikelsen består av:")
        for r in items:
            sheet.add(Cell(f"{r.label} {fmt_mnkr(r.num(L.COL_BELOPP), sign=True)}"))
    sheet.blank()


def _table(sheet: SheetContent, heading: str, table: Table, columns: list[tuple[str, str]], style: str,
           values=None) -> None:
    """A copy of ``table`` (label + columns) with each figure linked to its cell."""
    sheet.add(Cell(heading, "heading"))
    sheet.add(Cell(_head(table), "header"),
              *(Cell(title, "header") for _, title in columns))
    for row in table.all_rows():
        bold = row is table.total or row.key == L.ROW_RESULTAT
        cells = [Cell(row.label, "heading" if bold else "text")]
        for col, _ in columns:
            v = values(row, col) if values else row.num(col)
            if v is None and style == "percent":
                cells.append(Cell("–", "text"))  # the reference prints "–" for no value
                continue
            cells.append(Cell(v, (style + "_bold") if bold and style in ("mnkr", "integer") else style))
        sheet.add(*cells)
    sheet.blank()


def _head(table: Table) -> str:
    return {L.SHEET_INCOME: L.HEAD_INCOME, L.SHEET_UNITS: L.HEAD_UNITS, L.SHEET_STAFF: L.HEAD_STAFF,
            L.SHEET_SICK: L.HEAD_SICK}.get(table.sheet, table.name)


def _with_deviations(report: Report):
    def value(row: Row, col: str) -> float | None:
        if col == L.COL_AVV:
            return report.deviation_ack(row)
        if col == L.COL_AVV_HELAR:
            return report.deviation_year(row)
        return row.num(col)
    return value


def _income_table(sheet: SheetContent, report: Report) -> None:
    t = report.income
    cols = [(c, c) for c in L.INCOME_COLUMNS if c in t.columns or c in (L.COL_AVV, L.COL_AVV_HELAR)]
    _table(sheet, "Resultaträkning (mnkr)", t, cols, "mnkr", _with_deviations(report))


def _unit_table(sheet: SheetContent, report: Report) -> None:
    t = report.units
    cols = [(c, c) for c in (L.COL_AVV_FG, L.COL_AVV, L.COL_BUDGET_HELAR, L.COL_AVV_HELAR)
            if c in t.columns or c in (L.COL_AVV, L.COL_AVV_HELAR)]
    _table(sheet, "Driftredovisning för underliggande enheter (mnkr)", t, cols, "mnkr", _with_deviations(report))


def _staff_tables(sheet: SheetContent, report: Report) -> None:
    cols = [(c, c) for c in L.STAFF_COLUMNS if c in report.staff.columns]
    _table(sheet, "Personal (antal anställda)", report.staff, cols, "integer")
    sick = report.sick
    m = report.meta
    now = f" {m.sjuk_period}" if m.sjuk_period else ""
    before = f" {m.sjuk_period_fg}" if m.sjuk_period_fg else ""
    titles = {L.COL_KVINNOR: f"Kvinnor{now}", L.COL_MAN: f"Män{now}", L.COL_TOTALT: f"Totalt{now}",
              L.COL_KVINNOR_FG: f"Kvinnor{before}", L.COL_MAN_FG: f"Män{before}",
              L.COL_TOTALT_FGP: f"Totalt{before}", L.COL_FORANDRING: "Förändring (procentenheter)"}
    cols = [(c, titles[c]) for c in L.SICK_COLUMNS if c in sick.columns]
    _table(sheet, "Sjukfrånvaro (% av ordinarie arbetstid)", sick, cols, "percent")


def _commitment_table(sheet: SheetContent, report: Report) -> None:
    by_status, n, yes, no = commitment_counts(report)
    sheet.add(Cell("Status åtaganden", "heading"))
    sheet.add(Cell("Status", "header"), Cell("Antal", "header"))
    for status in (*L.STATUSES, "Ingen status"):
        if status in L.STATUSES or by_status.get(status):
            sheet.add(Cell(status), Cell(by_status.get(status, 0), "integer"))
    sheet.add(Cell("Summa", "heading"), Cell(n, "integer_bold"))
    if yes or no:
        sheet.blank()
        sheet.add(Cell(f"Bedöms bli klara under {report.meta.ar or 'året'}", "text"), Cell(yes, "integer"))
        sheet.add(Cell("Bedöms inte bli klara", "text"), Cell(no, "integer"))


# --- the findings sheet -------------------------------------------------------------------

FINDINGS_HEADER = ("Allvarlighet", "Blad", "Cell", "Regel", "Meddelande", "Förväntat", "Faktiskt")


def findings_sheet(findings: list[Finding], namnd: str | None = None) -> SheetContent:
    sheet = SheetContent(L.SHEET_FINDINGS, col_widths={0: 13, 1: 20, 2: 8, 3: 22, 4: 90, 5: 14, 6: 14})
    sheet.add(Cell("Kontroller" + (f" – {namnd}" if namnd else ""), "title"))
    e, w = count(findings, ERROR), count(findings, WARNING)
    if not findings:
        sheet.add("Inga fel och inga varningar.")
        sheet.row_heights = row_heights(sheet)
        return sheet
    sheet.add(f"{e} fel och {w} {'varning' if w == 1 else 'varningar'}. Klicka på cellen för att gå dit.")
    sheet.blank()
    sheet.add(*(Cell(h, "header") for h in FINDINGS_HEADER))
    for f in sorted(findings, key=lambda f: (f.severity != ERROR, f.sheet or "", _cell_key(f.cell))):
        link = f"{quote_sheet(f.sheet)}!{f.cell}" if f.sheet and f.cell else None
        sheet.add(Cell(SEVERITY_SV[f.severity], "error" if f.is_error else "warning"), Cell(f.sheet),
                  Cell(f.cell, "link" if link else "text", link=link), Cell(f.rule), Cell(f.message, "wrap"),
                  _plain(f.expected), _plain(f.actual))
    sheet.row_heights = row_heights(sheet)
    return sheet


def _cell_key(cell: str | None) -> tuple[int, str]:
    if not cell:
        return (0, "")
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits or 0), cell)


def _plain(v) -> Cell:
    if isinstance(v, float):
        return Cell(v, "mnkr" if not float(v).is_integer() else "integer")
    return Cell(v if v is None or isinstance(v, (int, bool)) else str(v))


# --- row heights --------------------------------------------------------------------------
#
# Neither Excel nor LibreOffice reliably grows a row for wrapped text when it opens a file, so
# each door sets the height of every row that needs more than one line. A column's width is
# measured in digits of the default font; the estimate counts every character, bold or not, as
# one digit and leaves one to the cell's margins. Letters are on average narrower than a digit
# in Calibri and in DejaVu Sans (LibreOffice's stand-in for Calibri), bold ones about as wide,
# spaces much narrower: the estimate errs towards a line too many, never a line too few.

LINE_HEIGHT = 15.0  # points: one line of the default 11 pt font (Excel's default row height)
MAX_ROW_HEIGHT = 409.0  # points: Excel's largest row height
DEFAULT_COL_WIDTH = 8.43  # characters: a column without a width of its own
_MARGIN = 1.0  # characters of a column taken by the cell's left and right margins


def wrapped_lines(text: str, width: float) -> int:
    """The lines ``text`` takes in a wrapping cell ``width`` characters wide.

    Words are wrapped greedily at spaces, as Excel does; a line break in the text starts a new
    line, and a word longer than a line is broken across lines.
    """
    room = max(width - _MARGIN, 1.0)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0  # characters on the current line
        for word in filter(None, paragraph.split(" ")):  # not at a no-break space
            if used and used + 1 + len(word) <= room:
                used += 1 + len(word)
                continue
            if used:
                lines += 1
            extra = max(math.ceil(len(word) / room) - 1, 0)  # a word too long for a line
            lines += extra
            used = len(word) - extra * room
    return lines


def row_heights(content: SheetContent) -> dict[int, float]:
    """Row -> height in points, for each row of ``content`` whose wrapping cells need more than
    one line; the cell that needs the most lines sets the height."""
    heights: dict[int, float] = {}
    for r, row in enumerate(content.rows):
        lines = max((wrapped_lines(cell.value, content.col_widths.get(c, DEFAULT_COL_WIDTH))
                     for c, cell in enumerate(row)
                     if cell is not None and cell.style in WRAP_STYLES and isinstance(cell.value, str)),
                    default=1)
        if lines > 1:
            heights[r] = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)
    return heights
