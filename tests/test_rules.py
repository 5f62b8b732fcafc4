"""Every rule, each with a workbook that breaks it: the finding names the right rule and cell.

The cases run in memory: the example is read once by the file door's reader and each case
types its cells into a copy of the grids (support.memory). A few cases, one for each kind of
value typed, also run end to end through the file door, which must find exactly the same.
"""

from __future__ import annotations

import pytest

from support.memory import formula_cells, located, outcome_with, result_with
from support.workbooks import EXAMPLE, rename_sheet, variant
from xlreport.core.rules import RULES
from xlreport.doors.file import process

NBSP = "\u00a0"

# (case id, cells typed into the example, rule, severity, "Sheet!Cell" of the finding)
CASES = [
    ("text-decimal-comma", {"Resultaträkning!C5": "113,7"}, "tal-som-text", "error", "Resultaträkning!C5"),
    ("text-thousands-nbsp", {"Driftredovisning!F6": f"−80{NBSP}500,0"}, "tal-som-text", "error",
     "Driftredovisning!F6"),
    ("text-word", {"Driftredovisning!C7": "ca tretton"}, "inte-tal", "error", "Driftredovisning!C7"),
    ("error-value", {"Resultaträkning!G6": "#REF!"}, "felvarde", "error", "Resultaträkning!G6"),
    ("boolean", {"Resultaträkning!C6": True}, "inte-tal", "error", "Resultaträkning!C6"),
    ("cost-positive", {"Resultaträkning!C6": 96.6}, "tecken", "error", "Resultaträkning!C6"),
    ("revenue-negative", {"Resultaträkning!F5": -441.0}, "tecken", "error", "Resultaträkning!F5"),
    ("result-typed-wrong", {"Resultaträkning!C10": 20.0}, "resultat-summa", "error", "Resultaträkning!C10"),
    ("varav-exceeds", {"Resultaträkning!C7": -100.0}, "varav", "error", "Resultaträkning!C7"),
    ("unit-sum-wrong", {"Driftredovisning!C13": -90.0}, "summa-enheter", "error", "Driftredovisning!C13"),
    ("units-do-not-tie", {"Driftredovisning!G6": -77.2, "Driftredovisning!G13": -420.7}, "avstamning",
     "error", "Driftredovisning!H13"),
    ("units-in-tkr", {"Driftredovisning!F13": -429_500.0}, "belopp-enhet", "error", "Driftredovisning!F13"),
    ("amounts-in-kronor", {"Resultaträkning!F5": 441_000_000.0}, "belopp-storlek", "warning",
     "Resultaträkning!F5"),
    ("income-statement-empty", {f"Resultaträkning!{c}{r}": None for c in "BCDFG" for r in range(5, 11)},
     "avstamning", "error", "Resultaträkning!E10"),
    ("prognosis-missing", {"Resultaträkning!F9": -50.0}, "avvikelse-tom-sida", "warning", "Resultaträkning!G9"),
    ("explanation-off", {"Avvikelseförklaring!B5": 5.0, "Avvikelseförklaring!B9": 8.8}, "forklaring", "error",
     "Avvikelseförklaring!B9"),
    ("explanation-total-stale", {"Avvikelseförklaring!B5": 5.0}, "forklaring", "error",
     "Avvikelseförklaring!B9"),
    ("explanation-missing", {f"Avvikelseförklaring!B{r}": None for r in range(5, 10)}, "forklaring-saknas",
     "warning", "Avvikelseförklaring!B9"),
    ("deviation-typed", {"Resultaträkning!E5": 9.9}, "avvikelse-handskriven", "warning", "Resultaträkning!E5"),
    ("unit-renamed", {"Driftredovisning!A6": "KLK Ledningen"}, "enhet-okand", "error", "Driftredovisning!A6"),
    ("unit-row-deleted", {f"Driftredovisning!{c}11": None for c in "ABCDEFGH"}, "enhet-saknas", "error",
     "Driftredovisning!A4"),
    ("unit-duplicated", {"Driftredovisning!A7": "KLK Ledning"}, "dubblett-rad", "error", "Driftredovisning!A7"),
    ("unit-name-missing", {"Driftredovisning!A8": None}, "etikett-saknas", "error", "Driftredovisning!A8"),
    ("unknown-income-row", {"Resultaträkning!A9": "Övriga kostnader"}, "okand-rad", "warning",
     "Resultaträkning!A9"),
    ("old-template", {"Uppgifter!B13": "0.9"}, "mallversion", "error", "Uppgifter!B13"),
    ("meta-missing", {"Uppgifter!B5": None}, "uppgift-saknas", "warning", "Uppgifter!B5"),
    ("meta-wrong-type", {"Uppgifter!B8": "tjugotjugo"}, "uppgift-typ", "error", "Uppgifter!B8"),
    ("month-out-of-range", {"Uppgifter!B10": 13}, "uppgift-manad", "error", "Uppgifter!B10"),
    ("staff-gender", {"Personal!D5": 99}, "personal-kon", "error", "Personal!D5"),
    ("staff-sum", {"Personal!B8": 75}, "personal-summa", "error", "Personal!B8"),
    ("staff-change", {"Personal!F6": 2}, "personal-forandring", "error", "Personal!F6"),
    ("staff-fraction", {"Personal!B6": 4.5}, "personal-heltal", "error", "Personal!B6"),
    ("leavers-sum", {"Personal!B14": 4}, "personal-summa", "error", "Personal!B14"),
    ("sick-parts", {"Sjukfrånvaro!B6": 1.5}, "sjuk-kort-lang", "error", "Sjukfrånvaro!B5"),
    ("sick-change", {"Sjukfrånvaro!H5": 0.3}, "sjuk-forandring", "error", "Sjukfrånvaro!H5"),
    ("sick-percent-range", {"Sjukfrånvaro!C7": 120.0}, "sjuk-procent", "error", "Sjukfrånvaro!C7"),
    ("sick-fraction", {"Sjukfrånvaro!D5": 0.025}, "sjuk-procent-andel", "warning", "Sjukfrånvaro!D5"),
    ("sick-above-target", {"Uppgifter!B11": 2.0}, "sjuk-mal", "warning", "Sjukfrånvaro!D5"),
    ("sick-total-not-between", {"Sjukfrånvaro!D7": 2.9}, "sjuk-totalt-mellan", "warning", "Sjukfrånvaro!D7"),
    ("staff-change-fraction", {"Personal!F6": 1.5}, "personal-heltal", "error", "Personal!F6"),
    ("staff-total-empty", {"Personal!D8": None}, "personal-summa-tom", "warning", "Personal!D8"),
    ("staff-row-below-summa", {"Personal!A7": "Summa", "Personal!B7": 73, "Personal!C7": 34, "Personal!D7": 107,
                               "Personal!E7": 88, "Personal!F7": 19, "Personal!A8": "Timanställda", "Personal!B8": 1,
                               "Personal!C8": 0, "Personal!D8": 1, "Personal!E8": 1, "Personal!F8": 0},
     "personal-rad-under-summa", "error", "Personal!A8"),
    ("sick-parts-two-decimals", {"Sjukfrånvaro!D6": 0.85, "Sjukfrånvaro!D7": 1.75}, "sjuk-kort-lang", "error",
     "Sjukfrånvaro!D5"),
    ("sick-total-empty", {"Sjukfrånvaro!D5": "–"}, "sjuk-total-tom", "warning", "Sjukfrånvaro!D5"),
    ("sick-target-range", {"Uppgifter!B11": 130.0}, "sjuk-procent", "error", "Uppgifter!B11"),
    ("sick-total-between-printed", {"Sjukfrånvaro!D5": 3.45}, "sjuk-totalt-mellan", "warning", "Sjukfrånvaro!D5"),
    ("sick-periods-identical", {"Uppgifter!B15": "mars 2019–feb 2020"}, "sjuk-period", "warning", "Uppgifter!B15"),
    ("commitment-status", {"Åtaganden!C5": "Klar"}, "ataganden-status", "error", "Åtaganden!C5"),
    ("commitment-judgement", {"Åtaganden!D6": "Kanske"}, "ataganden-status", "error", "Åtaganden!D6"),
    ("commitment-no-status", {"Åtaganden!C7": None}, "ataganden-status-saknas", "warning", "Åtaganden!C7"),
]

STRUCTURE_CASES = [
    ("column-renamed", {"Resultaträkning!D4": "Budget"}, "kolumn-saknas", "Resultaträkning!A4"),
    ("summa-missing", {"Driftredovisning!A13": "Totalt"}, "summa-saknas", "Driftredovisning!A4"),
    ("row-missing", {"Resultaträkning!A5": "Intäkterna"}, "rad-saknas", "Resultaträkning!A4"),
    ("table-missing", {"Sjukfrånvaro!A4": "Frånvaro"}, "tabell-saknas", "Sjukfrånvaro!A1"),
    ("column-twice", {"Driftredovisning!I4": "Budget ack"}, "kolumn-dubblett", "Driftredovisning!I4"),
    ("version-missing", {"Uppgifter!A13": "Version"}, "uppgift-rad-saknas", "Uppgifter!A1"),
]


def _findings(cells=None, **kw):
    """The engine on the example with ``cells`` typed in, in memory (support.memory): the result,
    and its findings as (rule, severity, "Sheet!Cell")."""
    result = result_with(cells, **kw)
    return result, located(result.findings)


def _file_findings(path):
    """The same for a workbook on disk, through the file door end to end."""
    result = process(path, (), write=False)
    return result, located(result.findings)


def test_example_is_clean():
    result = process(EXAMPLE, (), write=False)
    assert result.status == 0
    assert result.findings == []


@pytest.mark.parametrize("case, cells, rule, severity, where", CASES, ids=[c[0] for c in CASES])
def test_rule_reports_cell(case, cells, rule, severity, where):
    result, found = _findings(cells)
    assert (rule, severity, where) in found, sorted(found)
    assert result.status == (1 if severity == "error" else 0 if not any(f.is_error for f in result.findings)
                             else 1)


def _kind(ref, value) -> str:
    """How the file door must read back a value the variant builder wrote."""
    if ref in FORMULA_CELLS:
        return "over-a-formula"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return type(value).__name__
    return "error-text" if value.startswith("#") else "text"


def _one_case_per_kind(cases):
    """The first case for each kind of value typed: text, an error value typed as text, a
    boolean, a float, an int, an emptied cell, a value typed over a formula."""
    chosen = {}
    for case in cases:
        for ref, value in case[1].items():
            chosen.setdefault(_kind(ref, value), case)
    return list({case[0]: case for case in chosen.values()}.values())


FORMULA_CELLS = formula_cells()
FILE_DOOR_CASES = _one_case_per_kind(CASES)


@pytest.mark.parametrize("case, cells, rule, severity, where", FILE_DOOR_CASES, ids=[c[0] for c in FILE_DOOR_CASES])
def test_file_door_finds_what_memory_finds(tmp_path, case, cells, rule, severity, where):
    """End to end: the variant written to disk and read back by the file door (each kind of cell
    typing once) gives the rule's finding, and exactly the result the in-memory run gives."""
    result, found = _file_findings(variant(tmp_path / "v.xlsx", cells))
    assert (rule, severity, where) in found, sorted(found)
    memory = result_with(cells)
    assert (memory.status, memory.findings) == (result.status, result.findings)


def test_file_door_finds_what_memory_finds_when_structure_is_missing(tmp_path):
    """A structure case and a renamed sheet, as files: the same status 2 and findings as in memory."""
    cells = STRUCTURE_CASES[0][1]
    renamed = {"Personal": "Personalen"}
    for path, memory in ((variant(tmp_path / "v.xlsx", cells), result_with(cells)),
                         (rename_sheet(tmp_path / "r.xlsx", "Personal", "Personalen"), result_with(renamed=renamed))):
        result = process(path, (), write=False)
        assert result.status == 2
        assert (memory.status, memory.findings) == (result.status, result.findings)


def test_every_rule_has_a_breaking_case():
    covered = {c[2] for c in CASES}
    assert {r.id for r in RULES} <= covered


@pytest.mark.parametrize("version, advice", [("0.9", "xlreport upgrade"), ("2.0", "nyare version av xlreport"),
                                             ("10.0", "nyare version av xlreport")])
def test_template_version_advice_depends_on_older_or_newer(version, advice):
    """An older workbook is upgraded; a newer one needs a newer xlreport (upgrade refuses it)."""
    result = result_with({"Uppgifter!B13": version})
    message = next(f.message for f in result.findings if f.rule == "mallversion")
    assert advice in message and f"mallversion {version}" in message


def test_text_number_says_what_was_meant():
    result = result_with({"Resultaträkning!C5": "1 234,5", "Resultaträkning!D5": "(3,2)",
                          "Resultaträkning!F5": "3,2 mnkr", "Resultaträkning!G5": "12.9"})
    meant = {f.cell: f.expected for f in result.findings if f.rule == "tal-som-text"}
    assert meant == {"C5": 1234.5, "D5": -3.2, "F5": 3.2, "G5": 12.9}
    msg = next(f.message for f in result.findings if f.cell == "C5")
    assert "Menade du 1 234,5?" in msg and "Intäkter / Utfall ack" in msg


@pytest.mark.parametrize("mark", ["–", "-", "—", "\u2212", "", None])
def test_no_value_marks_are_not_errors(mark):
    # Lång sjukfrånvaro for men is "–" in the reference: no value, not an error.
    result = result_with({"Sjukfrånvaro!C7": mark})
    assert result.status == 0 and result.findings == []


@pytest.mark.parametrize("case, cells, rule, where", STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES])
def test_structure_problem_is_unprocessable(case, cells, rule, where):
    result, found = _findings(cells)
    assert result.status == 2
    assert (rule, "error", where) in found, sorted(found)


def test_missing_sheet_is_unprocessable():
    result, found = _findings(renamed={"Personal": "Personalen"})
    assert result.status == 2
    assert ("blad-saknas", "error", "Personal!A1") in found
    assert "Personalen" in result.findings[0].message  # the message lists the sheets that are there


def test_all_findings_in_one_pass():
    chosen = ["error-value", "cost-positive", "unit-sum-wrong", "explanation-off", "deviation-typed",
              "unit-renamed", "staff-gender", "sick-change", "commitment-status", "old-template"]
    cases = [c for c in CASES if c[0] in chosen]
    _, found = _findings({c: v for case in cases for c, v in case[1].items()})
    assert {(case[2], case[3], case[4]) for case in cases} <= found


def test_labels_match_regardless_of_case_and_spaces():
    result = result_with({"Resultaträkning!A6": "  KOSTNADER ", "Resultaträkning!C4": "utfall  ack",
                          "Driftredovisning!A6": "KLK  ledning"})
    assert result.status == 0, result.findings


def test_first_metadata_label_counts():
    """Last year's details typed below the current ones do not replace them in the report."""
    report = outcome_with({"Uppgifter!A30": "År", "Uppgifter!B30": 2019.0,
                           "Uppgifter!A31": "Period", "Uppgifter!B31": "helår"}).report
    assert (report.meta.ar, report.meta.period) == (2020, "januari–mars")
    assert report.meta.cells["ar"].a1 == "B8"


def test_table_ends_where_the_next_table_of_its_kind_starts():
    """Last year's commitments pasted right below this year's (no blank row) are not counted."""
    outcome = outcome_with({"Åtaganden!A29": "Åtagande", "Åtaganden!B29": "Område",
                            "Åtaganden!C29": "Status", "Åtaganden!D29": "Klart under året",
                            "Åtaganden!A30": "Förra årets åtagande", "Åtaganden!C30": "Avslutat"})
    assert [f for f in outcome.findings if f.sheet == "Åtaganden"] == []
    assert len(outcome.report.commitments.rows) == 24
