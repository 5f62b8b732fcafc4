"""Operation 4: the report, in Swedish, from the model; and the sheets Rapport and Kontroller.

Every figure in the text is read from the model here and formatted once; nothing is typed
twice, so the sentences cannot disagree with the tables they quote.

The report is built once, as a :class:`ReportDocument` (sections of paragraphs, lists, tables
and charts), and rendered by each output: :func:`report_sheet` lays it out as the sheet
Rapport, printable on A4 (paragraphs over the printed width with their row heights, tables
kept on one page, page breaks, header and footer, native charts over their data), and
:mod:`xlreport.export` writes the same document as Word and PDF. Both state the same
sentences and figures because both render the same objects.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import repeat
from typing import Union

from ..records import Record, field
from . import layout as L
from .cells import quote_sheet
from .changes import (
    NUMBER_FORMATS,
    PAGE_COUNT,
    PAGE_NUMBER,
    WRAP_STYLES,
    Area,
    Cell,
    Chart,
    ChartSeries,
    PageLayout,
    SheetContent,
)
from .findings import ERROR, SEVERITY_SV, WARNING, Finding, count
from .model import Report, Row, Table
from .swedish import fmt_int, fmt_mnkr, fmt_number, fmt_percent, round_half_up


def generate_report(report: Report, findings: list[Finding], movement=None) -> list[SheetContent]:
    """Rapport and Kontroller; ``movement`` (:class:`~xlreport.core.movement.Movement`, from
    ``--previous``) adds the prognosis movement since the previous report to Rapport."""
    return [report_sheet(report, findings, movement), findings_sheet(findings, report.meta.namnd)]


# --- text ---------------------------------------------------------------------------------

def _period_text(report: Report) -> str:
    m = report.meta
    period = m.period or (f"januari–{L.MONTHS[m.manad - 1]}" if m.manad else "perioden")
    return f"{period} {m.ar}" if m.ar else period


# Every word of a sentence (ökning, under målnivån, "1 person", oförändrat) follows the figures
# as the sentence and the tables print them (printed(): rounded half away from zero), never the
# unrounded values behind them.

def _whole(count: float) -> float:
    """A count as the report prints it (no decimals)."""
    return printed(count, "integer")


def _change_word(delta: float, unit_sg: str, unit_pl: str) -> str:
    shown = _whole(delta)
    n = abs(shown)
    unit = unit_sg if n == 1 else unit_pl
    if n == 0:
        return "Antalet är oförändrat jämfört med föregående år."
    return f"Det är en {'ökning' if shown > 0 else 'minskning'} med {fmt_int(n)} {unit} jämfört med föregående år."


def summary_paragraphs(report: Report) -> list[list[str]]:
    """The summary, as paragraphs of sentences: economy, staff, sick leave, commitments."""
    groups = [_economy_sentences(report), _staff_sentences(report), _sick_sentences(report),
              _commitment_sentences(report)]
    return [g for g in groups if g]


def summary_sentences(report: Report) -> list[str]:
    """The summary's sentences, in order."""
    return [s for paragraph in summary_paragraphs(report) for s in paragraph]


def _economy_sentences(report: Report) -> list[str]:
    out: list[str] = []
    m, inc = report.meta, report.income
    res, intakter = report.resultat(), inc.get(L.ROW_INTAKTER)
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
        return _leaver_sentences(report)  # the leavers' own table is complete without the staff total
    n = total.num(L.COL_TOTALT)
    forms = []
    for row in t.rows:
        v = row.num(L.COL_TOTALT)
        if v is not None and _whole(v) > 0:
            sg, pl = _FORM_WORDS.get(row.key, (row.label.lower(), row.label.lower()))
            forms.append(f"{fmt_int(v)} {sg if _whole(v) == 1 else pl}")
    s = f"Totalt antal anställda är {fmt_int(n)}"
    s += f", varav {_join(forms)}." if forms else "."
    out = [s]
    k, mn = total.num(L.COL_KVINNOR), total.num(L.COL_MAN)
    if k is not None and mn is not None:
        out.append(f"Av dessa är {fmt_int(k)} {'kvinna' if _whole(k) == 1 else 'kvinnor'} och {fmt_int(mn)} "
                   f"{'man' if _whole(mn) == 1 else 'män'}.")
    change = total.num(L.COL_FORANDRING)
    if change is None and total.num(L.COL_TOTALT_FG) is not None:
        change = _whole(n) - _whole(total.num(L.COL_TOTALT_FG))  # of the counts as the table prints them
    if change is not None:
        out.append(_change_word(change, "person", "personer"))
    return out + _leaver_sentences(report)


def _leaver_sentences(report: Report) -> list[str]:
    lv = report.leavers
    if lv is None or lv.total is None or lv.total.num(L.COL_ANTAL) is None:
        return []
    total_lv = lv.total.num(L.COL_ANTAL)
    parts = [_counted(r.num(L.COL_ANTAL), r.label) for r in lv.rows
             if r.num(L.COL_ANTAL) is not None and _whole(r.num(L.COL_ANTAL)) != 0]
    s = f"Under perioden var det {fmt_int(total_lv)} {'avgång' if _whole(total_lv) == 1 else 'avgångar'}"
    return [s + (f", varav {_join(parts)}." if parts else ".")]


def _counted(n: float, label: str) -> str:
    """"1 pensionsavgång", "2 pensionsavgångar": the label's singular form for one."""
    singular = {L.norm(k): v for k, v in L.SINGULAR.items()}.get(L.norm(label))
    return f"{fmt_int(n)} {singular if _whole(n) == 1 and singular else label.lower()}"


def _sick_sentences(report: Report) -> list[str]:
    row = report.sick.get(L.ROW_SJUK_TOTAL)
    value = row.num(L.COL_TOTALT) if row else None
    if value is None:
        return []
    # the words compare the percentages as the sentence prints them (one decimal): 2,96 against
    # the target 3,0 is "3,0 % … i nivå med målnivån på 3,0 %", never "under" it
    shown = printed(value, "percent")
    s = f"Sjukfrånvaron uppgår till {fmt_percent(value)}"
    target = report.meta.sjukmal
    if target is not None:
        goal = printed(target, "percent")
        rel = "under" if shown < goal else "över" if shown > goal else "i nivå med"
        s += f" vilket är {rel} målnivån på {fmt_percent(target)}"
    before = row.num(L.COL_TOTALT_FGP)
    if before is not None:
        then = printed(before, "percent")
        said = "Sjukfrånvaron är oförändrad" if shown == then else \
            f"Det är {'en minskning' if shown < then else 'en ökning'}"
        s += f". {said} jämfört med föregående period ({fmt_percent(before)})"
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


# --- the report document ------------------------------------------------------------------
#
# What the report says, once, for every output: the sheet Rapport (report_sheet below) and the
# Word/PDF document (xlreport.export) render these objects and nothing else.

Number = Union[float, int, None]  # noqa: UP007 - a runtime alias, Python 3.10
DECIMALS = {"mnkr": 1, "percent": 1, "integer": 0}  # the number styles of table values


class Paragraph(Record, frozen=True):
    text: str


class Items(Record, frozen=True):
    """A lead sentence and a list under it (the causes of the deviation)."""

    lead: str
    items: tuple[str, ...]


class TableRow(Record, frozen=True):
    label: str
    values: tuple[Number, ...]
    total: bool = False  # a total or result row: bold


class ReportTable(Record, frozen=True):
    """A table of figures: a label column headed ``head``, then ``columns``, all of one ``kind``."""

    head: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    kind: str = "mnkr"  # mnkr, percent or integer
    groups: tuple[tuple[str, int], ...] = ()  # a title over each run of value columns: (title, columns)

    def text(self, value: Number) -> str:
        """A value as the report prints it: "−1,1", "2,5", "108"; "–" for a missing percentage."""
        if value is None:
            return "–" if self.kind == "percent" else ""
        return fmt_number(value, DECIMALS[self.kind])


class ChartFigure(Record, frozen=True):
    """A chart and the figures it plots: one bar per category and series, and an optional
    target drawn as a line."""

    title: str
    head: str  # the header of the category column of its data
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[Number, ...]], ...]
    target: tuple[str, float] | None = None
    horizontal: bool = True  # horizontal bars (True) or columns
    kind: str = "mnkr"
    axis_title: str = ""

    def table(self) -> ReportTable:
        """The chart's figures as a table (the cells a spreadsheet chart plots)."""
        names = [name for name, _ in self.series] + ([self.target[0]] if self.target else [])
        rows = []
        for i, category in enumerate(self.categories):
            values = [values[i] for _, values in self.series] + ([self.target[1]] if self.target else [])
            rows.append(TableRow(category, tuple(values)))
        return ReportTable(self.head, tuple(names), tuple(rows), self.kind)


Block = Union[Paragraph, Items, ReportTable, ChartFigure]  # noqa: UP007 - a runtime alias


class Section(Record):
    heading: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 1  # 1: a chapter (Ekonomi), 2: a part of the one before (Resultaträkning)


class ReportDocument(Record):
    """The whole report: title, the details it is about, and its sections."""

    title: str
    subtitle: str  # "Eskilstuna kommun · Kommunstyrelsen · … · januari–mars 2020"
    details: list[tuple[str, str]]  # (label, value): Kommun, Nämnd, Enhet, Rapport, Period
    sections: list[Section]
    notice: str | None = None  # the workbook has errors
    header: tuple[str, str, str] = ("", "", "")  # printed at the top of every page: left, centre, right
    footer: tuple[str, str, str] = ("", "", "")  # at the bottom; PAGE_NUMBER and PAGE_COUNT are fields

    def blocks(self):
        for section in self.sections:
            yield from section.blocks


def _title(report: Report) -> str:
    m = report.meta
    return " ".join(str(p) for p in (m.rapport or "Rapport", m.ar or "", "–", m.namnd or "") if p).strip(" –")


PAGE_TEXT = f"Sida {PAGE_NUMBER} av {PAGE_COUNT}"


def build_document(report: Report, findings: list[Finding] = (), movement=None) -> ReportDocument:
    """The report of ``report``, section by section, as every output renders it; with
    ``movement`` (``--previous``) the prognosis movement's section follows Ekonomi."""
    m = report.meta
    errors = count(list(findings), ERROR)
    period = _period_text(report)
    details = [(label, str(value)) for label, value in (
        ("Kommun", m.kommun), ("Nämnd", m.namnd), ("Enhet", m.enhet),
        ("Rapport", " ".join(str(p) for p in (m.rapport, m.ar) if p) or None), ("Period", period)) if value]
    sections = [Section("Sammanfattning", [Paragraph(" ".join(p)) for p in summary_paragraphs(report)])]
    sections.append(Section("Ekonomi", _economy_blocks(report)))
    if movement is not None:
        sections.append(movement.section())
    sections.append(Section("Resultaträkning (mnkr)", [income_table(report)], level=2))
    units = [unit_table(report)]
    chart = unit_chart(report)
    if chart is not None:
        units.append(chart)
    sections.append(Section("Driftredovisning för underliggande enheter (mnkr)", units, level=2))
    sections.append(Section("Personal (antal anställda)", [staff_table(report)]))
    sick = [sick_table(report)]
    chart = sick_chart(report)
    if chart is not None:
        sick.append(chart)
    sections.append(Section("Sjukfrånvaro (% av ordinarie arbetstid)", sick))
    sections.append(Section("Status åtaganden", commitment_tables(report)))
    report_name = " ".join(str(p) for p in (m.rapport, m.ar) if p)
    return ReportDocument(
        title=_title(report),
        subtitle=" · ".join(p for p in (m.kommun, m.namnd, m.enhet, period) if p),
        details=details, sections=sections,
        notice=f"Observera: arbetsboken har {errors} fel; se bladet {L.SHEET_FINDINGS}." if errors else None,
        header=(m.kommun or "", " · ".join(p for p in (m.namnd, m.enhet) if p), report_name),
        footer=(period, "", PAGE_TEXT))


def _economy_blocks(report: Report) -> list[Block]:
    res = report.resultat()
    out: list[Block] = []
    if res is not None and res.num(L.COL_PROGNOS) is not None:
        out.append(Paragraph(f"Prognosen för {report.meta.ar or 'året'} uppgår till "
                             f"{fmt_mnkr(res.num(L.COL_PROGNOS))} att jämföra med budget "
                             f"{fmt_mnkr(res.num(L.COL_BUDGET_HELAR) or 0.0)}."))
    items = [r for r in report.explanation.rows if r.num(L.COL_BELOPP) is not None]
    if items:
        from .commentary import unit_key

        keyed = [unit_key(report, r) for r in items]
        # Rows keyed to units explain those units; only rows of the nämnd's own (which the rule
        # forklaring makes add up to the deviation) may be called what the deviation "består av".
        head = "Förklaringar av enheternas avvikelser:" if all(keyed) else "Avvikelsen består av:"
        out.append(Items(head, tuple(f"{r.label}{f' ({unit})' if unit else ''} "
                                     f"{fmt_mnkr(r.num(L.COL_BELOPP), sign=True)}" for r, unit in zip(items, keyed))))
    return out


def _is_total(table: Table, row: Row) -> bool:
    return row is table.total or row.key == L.ROW_RESULTAT or row.key.startswith(L.ROW_RESULTAT + " ")


def _report_table(table: Table, columns: list[tuple[str, str]], kind: str, values=None,
                  groups: tuple[tuple[str, int], ...] = ()) -> ReportTable:
    """``table`` (its label column and ``columns``: (column, title)) as the report prints it."""
    rows = []
    for row in table.all_rows():
        figures = (values(row, col) if values else row.num(col) for col, _ in columns)
        rows.append(TableRow(row.label, tuple(printed(v, kind) for v in figures), _is_total(table, row)))
    return ReportTable(_head(table), tuple(title for _, title in columns), tuple(rows), kind, groups)


def printed(value: Number, kind: str) -> Number:
    """``value`` rounded as the report prints it (halves away from zero): a table states its
    figures at their printed precision, so every output shows the same digits (never "−0,0")."""
    if value is None:
        return None
    r = round_half_up(float(value), DECIMALS[kind])
    return (r + 0.0) if r else 0.0  # no negative zero


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


def income_table(report: Report) -> ReportTable:
    t = report.income
    cols = [(c, c) for c in L.INCOME_COLUMNS if c in t.columns or c in (L.COL_AVV, L.COL_AVV_HELAR)]
    return _report_table(t, cols, "mnkr", _with_deviations(report))


def unit_table(report: Report) -> ReportTable:
    t = report.units
    cols = [(c, c) for c in (L.COL_AVV_FG, L.COL_AVV, L.COL_BUDGET_HELAR, L.COL_AVV_HELAR)
            if c in t.columns or c in (L.COL_AVV, L.COL_AVV_HELAR)]
    return _report_table(t, cols, "mnkr", _with_deviations(report))


def staff_table(report: Report) -> ReportTable:
    return _report_table(report.staff, [(c, c) for c in L.STAFF_COLUMNS if c in report.staff.columns], "integer")


def sick_table(report: Report) -> ReportTable:
    """The sick-leave table, its columns grouped under the two periods they cover."""
    sick, m = report.sick, report.meta
    now, before = m.sjuk_period, m.sjuk_period_fg
    groups_of = {L.COL_KVINNOR: 0, L.COL_MAN: 0, L.COL_TOTALT: 0, L.COL_KVINNOR_FG: 1, L.COL_MAN_FG: 1,
                 L.COL_TOTALT_FGP: 1, L.COL_FORANDRING: 2}
    titles = {L.COL_KVINNOR: "Kvinnor", L.COL_MAN: "Män", L.COL_TOTALT: "Totalt", L.COL_KVINNOR_FG: "Kvinnor",
              L.COL_MAN_FG: "Män", L.COL_TOTALT_FGP: "Totalt", L.COL_FORANDRING: "Förändring"}
    cols = [(c, titles[c]) for c in L.SICK_COLUMNS if c in sick.columns]
    names = (now or "Denna period", before or "Föregående period", "")
    groups: list[list] = []
    for c, _ in cols:
        g = names[groups_of[c]]
        if groups and groups[-1][0] == g:
            groups[-1][1] += 1
        else:
            groups.append([g, 1])
    return _report_table(sick, cols, "percent", groups=tuple((g, n) for g, n in groups))


def commitment_tables(report: Report) -> list[Block]:
    by_status, n, yes, no = commitment_counts(report)
    rows = [TableRow(status, (by_status.get(status, 0),)) for status in (*L.STATUSES, "Ingen status")
            if status in L.STATUSES or by_status.get(status)]
    out: list[Block] = [ReportTable("Status", ("Antal",), (*rows, TableRow("Summa", (n,), True)), "integer")]
    if yes or no:
        out.append(ReportTable("Bedömning", ("Antal",), (
            TableRow(f"Bedöms bli klara under {report.meta.ar or 'året'}", (yes,)),
            TableRow("Bedöms inte bli klara", (no,))), "integer"))
    return out


def unit_chart(report: Report) -> ChartFigure | None:
    """Avvikelse helår per unit, largest first: what readers of the unit table look at first."""
    units = [(r.label, printed(report.deviation_year(r), "mnkr")) for r in report.units.rows]
    units = [(label, v) for label, v in units if v is not None]
    if not units:
        return None
    units.sort(key=lambda u: -u[1])
    return ChartFigure("Avvikelse helår per enhet (mnkr)", L.HEAD_UNITS, tuple(u for u, _ in units),
                       ((L.COL_AVV_HELAR, tuple(v for _, v in units)),), horizontal=True, kind="mnkr",
                       axis_title="mnkr")


def sick_chart(report: Report) -> ChartFigure | None:
    """Total sick leave this period against the last period, and the target."""
    row = report.sick.get(L.ROW_SJUK_TOTAL)
    if row is None:
        return None
    m = report.meta
    now = tuple(printed(row.num(c), "percent") for c in (L.COL_KVINNOR, L.COL_MAN, L.COL_TOTALT))
    before = tuple(printed(row.num(c), "percent") for c in (L.COL_KVINNOR_FG, L.COL_MAN_FG, L.COL_TOTALT_FGP))
    if all(v is None for v in now + before):
        return None
    target = (f"Mål {fmt_percent(m.sjukmal)}", printed(m.sjukmal, "percent")) if m.sjukmal is not None else None
    return ChartFigure("Total sjukfrånvaro mot föregående period och målet (%)", "Total sjukfrånvaro",
                       ("Kvinnor", "Män", "Totalt"),
                       ((m.sjuk_period or "Denna period", now), (m.sjuk_period_fg or "Föregående period", before)),
                       target=target, horizontal=False, kind="percent", axis_title="%")


# --- the report sheet ---------------------------------------------------------------------
#
# Rapport prints portrait on A4, one page wide: a label column and seven value columns, whose
# widths add up to about the printed width, so a paragraph merged over all eight wraps where
# the paper ends. Each table (with its heading) is kept on one page by a page break before
# it when it would not fit on the rest of the page.

REPORT_WIDTHS = {0: 28.0, **{c: 10.0 for c in range(1, 8)}}
MAX_LABEL_WIDTH = 44.0  # the label column grows to fit the longest label up to this; longer ones wrap
PAPER_CM = {"A4": (21.0, 29.7)}
TITLE_ROW_HEIGHT = 18.75  # points: a row of the 14 pt title font, as Excel and LibreOffice make it
HEADING_ROW_HEIGHT = 15.75  # a row of the 12 pt heading font
PAGE_SLACK = 0.94  # of a page's height filled at most, for the programs' own rounding of heights
CHART_ROW = 15.0  # points: the chart's anchor rows have the default height
BAR_POINTS = 22.0  # of chart height per bar of a horizontal bar chart


def report_page(doc: ReportDocument) -> PageLayout:
    header = tuple(PageLayout.field_text(t) for t in doc.header)
    footer = tuple(t if t == PAGE_TEXT else PageLayout.field_text(t) for t in doc.footer)
    return PageLayout(header=header, footer=footer)  # type: ignore[arg-type]


class _SheetWriter:
    """Appends the rows of a document to a SheetContent and remembers which rows keep together."""

    def __init__(self, content: SheetContent):
        self.content = content
        self.last_col = max(content.col_widths)
        self.blocks: list[tuple[int, int]] = []  # (first, last) rows printed on one page
        self._open: int | None = None

    @property
    def row(self) -> int:
        return len(self.content.rows)

    def keep(self) -> None:
        """Start a run of rows kept on one page (unless it is already started)."""
        if self._open is None:
            self._open = self.row

    def close(self) -> None:
        if self._open is not None and self.row > self._open:
            self.blocks.append((self._open, self.row - 1))
        self._open = None

    def add(self, *cells) -> None:
        self.content.add(*cells)

    def blank(self) -> None:
        self.content.blank()

    def wide(self, text: str, style: str = "wrap") -> None:
        """A line of text over the whole printed width, wrapping within it."""
        r = self.row
        self.content.add(Cell(text, style))
        self.content.merges.append(Area(r, 0, r, self.last_col))

    def heading(self, text: str) -> None:
        self.keep()  # a heading stays with what it heads
        self.content.add(Cell(text, "heading"))

    def block(self, block: Block) -> None:
        self.keep()
        if isinstance(block, Paragraph):
            self.wide(block.text)
        elif isinstance(block, Items):
            self.wide(block.lead)
            for item in block.items:
                self.wide(f"– {item}")
        elif isinstance(block, ReportTable):
            self.table(block)
        elif isinstance(block, ChartFigure):
            self.chart(block)
        self.close()

    def table(self, t: ReportTable) -> Area:
        """Write ``t``; returns the area of its value cells."""
        if t.groups:
            cells: list[Cell | None] = [Cell(None, "header")]
            merges = []
            for title, n in t.groups:
                first = len(cells)
                cells += [Cell(title or None, "header")] + [Cell(None, "header")] * (n - 1)
                if n > 1:
                    merges.append(Area(self.row, first, self.row, first + n - 1))
            self.content.merges.extend(merges)
            self.add(*cells)
        self.add(Cell(t.head, "header"), *(Cell(title, "header") for title in t.columns))
        first = self.row
        for row in t.rows:
            cells = [Cell(row.label, "heading" if row.total else "wrap")]
            for v in row.values:
                if v is None and t.kind == "percent":
                    cells.append(Cell("–", "text"))  # the reference prints "–" for no value
                else:
                    cells.append(Cell(v, (t.kind + "_bold") if row.total and t.kind != "percent" else t.kind))
            self.add(*cells)
        return Area(first, 1, self.row - 1, len(t.columns))

    def chart(self, fig: ChartFigure) -> None:
        """The chart's figures as a small table, and the chart drawn below them from those cells."""
        self.add(Cell(fig.title, "heading"))
        values = self.table(fig.table())
        categories = Area(values.top, 0, values.bottom, 0)
        series = tuple(ChartSeries(name, Area(values.top, values.left + i, values.bottom, values.left + i))
                       for i, (name, _) in enumerate(fig.series))
        if fig.target is not None:
            col = values.left + len(fig.series)
            series += (ChartSeries(fig.target[0], Area(values.top, col, values.bottom, col), line=True),)
        height = max(180.0, 50.0 + BAR_POINTS * len(fig.categories) * len(fig.series)) if fig.horizontal else 180.0
        n_rows = math.ceil(height / CHART_ROW)
        top = self.row
        for _ in range(n_rows):
            self.blank()
        self.content.charts.append(Chart(fig.title, categories, series, Area(top, 0, top + n_rows - 1, self.last_col),
                                         horizontal=fig.horizontal, number_format=NUMBER_FORMATS[fig.kind],
                                         axis_title=fig.axis_title))


def label_width(doc: ReportDocument) -> float:
    """The label column's width: the longest label of a table or chart on one line (a total in
    the heading font), at least the layout's width and at most :data:`MAX_LABEL_WIDTH`.

    A wider column costs the printed size a little (the sheet is fitted to the page's width);
    labels that wrap would make the number of row heights the Excel door sets grow with the
    number of units."""
    widest = 0.0
    for block in doc.blocks():
        table = block.table() if isinstance(block, ChartFigure) else block
        if isinstance(table, ReportTable):
            for row in table.rows:
                size = 12 / 11 if row.total else 1.0
                widest = max(widest, text_width(row.label, bold=row.total) * size)
    return min(max(REPORT_WIDTHS[0], math.ceil(widest + _MARGIN)), MAX_LABEL_WIDTH)


def generate_sheet(doc: ReportDocument) -> SheetContent:
    """Lay ``doc`` out as the sheet Rapport (see the comment above)."""
    sheet = SheetContent(L.SHEET_REPORT, col_widths={**REPORT_WIDTHS, 0: label_width(doc)}, page=report_page(doc))
    w = _SheetWriter(sheet)
    w.keep()
    sheet.add(Cell(doc.title, "title"))
    w.wide(doc.subtitle, "text")
    if doc.notice:
        w.wide(doc.notice, "error")
    w.close()
    w.blank()
    for section in doc.sections:
        w.heading(section.heading)
        for block in section.blocks:
            w.block(block)
            w.blank()
        w.close()
    while sheet.rows and not sheet.rows[-1]:
        sheet.rows.pop()
    # paragraphs get the height they need at the narrowest layout, whatever the labels' width,
    # so their heights (and the Excel door's calls) do not depend on the names of the units
    sheet.row_heights = row_heights(sheet, merged_width=sum(REPORT_WIDTHS.values()))
    sheet.row_breaks = page_breaks(sheet, w.blocks)
    return sheet


def report_sheet(report: Report, findings: list[Finding], movement=None) -> SheetContent:
    return generate_sheet(build_document(report, findings, movement))


# --- pages --------------------------------------------------------------------------------

def column_points(chars: float) -> float:
    """The printed width in points of a column ``chars`` characters wide (Excel's rule for the
    default 11 pt Calibri: 7 pixels a character and 5 of margin, at 96 pixels an inch)."""
    return math.trunc(chars * 7 + 5) * 0.75


def print_scale(content: SheetContent) -> float:
    """The scale that fits the sheet's columns to the page's width (at most 1)."""
    page = content.page or PageLayout()
    n_cols = max([len(r) for r in content.rows] + [max(content.col_widths, default=-1) + 1])
    width = sum(column_points(content.col_widths.get(c, DEFAULT_COL_WIDTH)) for c in range(n_cols))
    paper_w = PAPER_CM[page.paper][0 if page.portrait else 1]
    room = (paper_w - page.margins_cm[0] - page.margins_cm[1]) / 2.54 * 72
    if not page.fit_to_width or width <= room:
        return 1.0
    return math.floor(100 * room / width) / 100  # the programs scale in whole percent


def page_room(content: SheetContent) -> float:
    """Points of rows (at the sheet's own size) that fit on one printed page."""
    page = content.page or PageLayout()
    paper_h = PAPER_CM[page.paper][1] if page.portrait else PAPER_CM[page.paper][0]
    room = (paper_h - page.margins_cm[2] - page.margins_cm[3]) / 2.54 * 72
    if page.title_rows is not None:
        room -= sum(row_height(content, r) for r in range(page.title_rows[0], page.title_rows[1] + 1))
    return room / print_scale(content) * PAGE_SLACK


def row_height(content: SheetContent, r: int) -> float:
    """The height a row prints at: its own, or what its largest font makes it."""
    if r in content.row_heights:
        return content.row_heights[r]
    styles = {c.style for c in content.rows[r] if c is not None} if r < len(content.rows) else set()
    if "title" in styles:
        return TITLE_ROW_HEIGHT
    if "heading" in styles:
        return HEADING_ROW_HEIGHT
    return LINE_HEIGHT


def page_breaks(content: SheetContent, blocks: list[tuple[int, int]]) -> list[int]:
    """The rows that start a new page so that no block of rows is split over two pages.

    A block taller than a page cannot be kept together; the printing program breaks it itself.
    """
    room = page_room(content)
    starts = {first: last for first, last in blocks}
    breaks, used, r = [], 0.0, 0
    while r < len(content.rows):
        last = starts.get(r, r)
        height = sum(row_height(content, i) for i in range(r, last + 1))
        if used and used + height > room:
            if not content.rows[r]:  # a blank row does not start a page: it ends the last one
                r += 1
                continue
            breaks.append(r)
            used = 0.0
        used += height
        while used > room:
            used -= room
        r = last + 1
    return breaks


# --- the findings sheet -------------------------------------------------------------------

FINDINGS_HEADER = ("Allvarlighet", "Blad", "Cell", "Regel", "Meddelande", "Förväntat", "Faktiskt")


# Kontroller prints portrait on A4 like Rapport: the message column wraps within the page, and
# the table's header row is printed at the top of every page.
FINDINGS_WIDTHS = {0: 11, 1: 15, 2: 7, 3: 16, 4: 44, 5: 10, 6: 10}
FINDINGS_HEADER_ROW = 3


def findings_page(namnd: str | None) -> PageLayout:
    return PageLayout(header=(L.SHEET_FINDINGS, PageLayout.field_text(namnd or ""), ""),
                      footer=("", "", PAGE_TEXT), title_rows=(FINDINGS_HEADER_ROW, FINDINGS_HEADER_ROW))


def findings_sheet(findings: list[Finding], namnd: str | None = None) -> SheetContent:
    sheet = SheetContent(L.SHEET_FINDINGS, col_widths=dict(FINDINGS_WIDTHS), page=findings_page(namnd))
    sheet.add(Cell("Kontroller" + (f" – {namnd}" if namnd else ""), "title"))
    e, w = count(findings, ERROR), count(findings, WARNING)
    if not findings:
        sheet.add("Inga fel och inga varningar.")
        sheet.page = PageLayout(header=sheet.page.header, footer=sheet.page.footer)  # no table, no title rows
        sheet.row_heights = row_heights(sheet)
        return sheet
    sheet.add(f"{e} fel och {w} {'varning' if w == 1 else 'varningar'}. Klicka på cellen för att gå dit.")
    sheet.blank()
    sheet.add(*(Cell(h, "header") for h in FINDINGS_HEADER))
    for f in sorted(findings, key=lambda f: (f.severity != ERROR, f.sheet or "", _cell_key(f.cell))):
        link = f"{quote_sheet(f.sheet)}!{f.cell}" if f.sheet and f.cell else None
        sheet.add(Cell(SEVERITY_SV[f.severity], "error" if f.is_error else "warning"), Cell(f.sheet, "wrap"),
                  Cell(f.cell, "link" if link else "text", link=link), Cell(f.rule, "wrap"), Cell(f.message, "wrap"),
                  _plain(f.expected), _plain(f.actual))
    _chase_section(sheet, findings)
    sheet.row_heights = row_heights(sheet)
    return sheet


#: The chase list below the findings, in the findings' columns (status, sheet, cell, unit, what, figures).
CHASE_TITLE = "Förklaringar att begära"
CHASE_HEADER = ("Status", "Blad", "Cell", "Enhet / rad", "Vad saknas", "Avvikelse helår", "Avvikelse ack")


def _chase_section(sheet: SheetContent, findings: list[Finding]) -> None:
    """The units and rows whose material deviation lacks an explanation (or whose explanations do
    not add up): the list central finance sends out, one line each (``xlreport chase``)."""
    from .commentary import STATUS_SV, UNBALANCED, chase_items, chase_note

    items = chase_items(findings)
    if not items:
        return
    sheet.blank()
    sheet.add(Cell(CHASE_TITLE, "heading"))
    sheet.add(Cell(chase_note(items), "text"))
    sheet.add(*(Cell(h, "header") for h in CHASE_HEADER))
    for item in items:
        link = f"{quote_sheet(item.sheet)}!{item.cell}"
        sheet.add(Cell(STATUS_SV[item.status], "error" if item.status == UNBALANCED else "warning"),
                  Cell(item.sheet, "wrap"), Cell(item.cell, "link", link=link), Cell(item.unit, "wrap"),
                  Cell(item.missing, "wrap"), _plain(item.avvikelse_helar), _plain(item.avvikelse_ack))


def _cell_key(cell: str | None) -> tuple[int, str]:
    if not cell:
        return (0, "")
    digits = "".join(ch for ch in cell if "0" <= ch <= "9")
    return (int(digits or 0), cell)


def _plain(v) -> Cell:
    if isinstance(v, float):
        return Cell(v, "mnkr" if not float(v).is_integer() else "integer")
    if v is None or isinstance(v, (int, bool)):
        return Cell(v)
    return Cell(str(v), "wrap")  # text stays within its column, on the page


# --- row heights --------------------------------------------------------------------------
#
# Neither Excel nor LibreOffice reliably grows a row for wrapped text when it opens a file (and
# neither ever does for merged cells), so each door sets the height of every row that needs
# more than one line. A column's width is measured in digits of the default font (11 pt
# Calibri, whose metrics LibreOffice's Carlito shares); each character counts with its own
# advance width in that font, a line break goes at a space (Excel's rule) and a word wider than
# a line is broken across lines. A margin of one digit per cell and a few per cent on every
# width keep the estimate on the side of a line too many, never a line too few.

LINE_HEIGHT = 15.0  # points: one line of the default 11 pt font (Excel's default row height)
MAX_ROW_HEIGHT = 409.0  # points: Excel's largest row height
DEFAULT_COL_WIDTH = 8.43  # characters: a column without a width of its own
_MARGIN = 1.0  # characters of a column taken by the cell's left and right margins
_SAFETY = 1.04  # on every measured width: rounding of glyph positions, kerning
_BOLD = 1.03  # bold Calibri is this much wider

# Advance widths in Calibri (regular), in digit widths, grouped; other characters count as 1.1.
_WIDTHS = {0.45: "il '", 0.47: "j", 0.5: ",I.", 0.53: ";:", 0.6: "f-()", 0.64: "!J", 0.66: "t", 0.69: "r",
           0.77: "s/\"", 0.78: "z", 0.83: "cL", 0.85: "x", 0.9: "vyk", 0.92: "FS?Zg", 0.95: "aåä",
           0.98: "ETYÉeé–−+*§•", 1.0: "0123456789", 1.04: "PXKbdhnopquöüC", 1.07: "BR", 1.14: "VAÅÄ",
           1.24: "DHG", 1.31: "NUÜOÖQ", 1.41: "&w%", 1.58: "m", 1.76: "MW@"}
CHAR_WIDTH = {ch: w for w, chars in _WIDTHS.items() for ch in chars}


def text_width(text: str, bold: bool = False) -> float:
    """The width of ``text`` in the default font, in digits (a column's unit of width)."""
    width = sum(map(CHAR_WIDTH.get, text, repeat(1.1))) * _SAFETY  # CHAR_WIDTH.get(ch, 1.1) of each ch
    return width * _BOLD if bold else width


def wrapped_lines(text: str, width: float, bold: bool = False) -> int:
    """The lines ``text`` takes in a wrapping cell ``width`` characters wide.

    Words are wrapped greedily at spaces, as Excel does; a line break in the text starts a new
    line, and a word longer than a line is broken across lines.
    """
    room = max(width - _MARGIN, 1.0)
    space = text_width(" ", bold)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0  # width taken on the current line
        for word in filter(None, paragraph.split(" ")):  # not at a no-break space
            w = text_width(word, bold)
            if used and used + space + w <= room:
                used += space + w
                continue
            if used:
                lines += 1
            extra = max(math.ceil(w / room) - 1, 0)  # a word too long for a line
            lines += extra
            used = w - extra * room
    return lines


def row_heights(content: SheetContent, merged_width: float | None = None) -> dict[int, float]:
    """Row -> height in points, for each row of ``content`` whose wrapping cells need more than
    one line; the cell that needs the most lines sets the height. A cell merged over several
    columns of one row wraps within their widths together (or within ``merged_width``, when
    given and narrower)."""
    spans = {(m.top, m.left): m.right for m in content.merges if m.top == m.bottom}
    heights: dict[int, float] = {}

    def width(r: int, c: int) -> float:
        w = sum(content.col_widths.get(i, DEFAULT_COL_WIDTH) for i in range(c, spans.get((r, c), c) + 1))
        return min(w, merged_width) if merged_width is not None and (r, c) in spans else w

    for r, row in enumerate(content.rows):
        lines = max((wrapped_lines(cell.value, width(r, c), bold=cell.style == "header")
                     for c, cell in enumerate(row)
                     if cell is not None and cell.style in WRAP_STYLES and isinstance(cell.value, str)),
                    default=1)
        if lines > 1:
            heights[r] = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)
    return heights
