"""The staff and sick-leave checks on workbooks as they arrive: a wrong figure is found, a right
one is not flagged.

Each case is a finding the tool once missed (the report printed a figure no check had seen) or a
false alarm it once gave on a correct workbook. Most run in memory (support.memory); the table
shapes a user makes by moving rows run as real files edited from the example (support.hostile).
"""

from __future__ import annotations

import pytest

from support.hostile import edit_sheet
from support.memory import example_door, findings_with, outcome_with, result_with
from xlreport.core import config, engine
from xlreport.core.generate import summary_sentences
from xlreport.doors.file import process

# --- rows of the Personal table around its Summa (item: a "Summa" that is not the total) ---

_SUBTOTAL = {"Personal!A7": "Summa månadsavlönade", "Personal!B7": 73, "Personal!C7": 34, "Personal!D7": 107,
             "Personal!E7": 88, "Personal!F7": 19,
             "Personal!A8": "Timanställda", "Personal!B8": 1, "Personal!C8": 0, "Personal!D8": 1,
             "Personal!E8": 1, "Personal!F8": 0,
             "Personal!A9": "Summa", "Personal!B9": 74, "Personal!C9": 34, "Personal!D9": 108,
             "Personal!E9": 89, "Personal!F9": 19}


def test_a_subtotal_inside_the_staff_table_does_not_end_it():
    """"Summa månadsavlönade" between Visstidsanställda and Timanställda: the total is the last
    Summa row, Timanställda is counted, and the subtotal is named as a row the template lacks."""
    outcome = outcome_with(_SUBTOTAL, actions=())
    staff = outcome.report.staff
    assert staff.total.row == 8 and staff.total.num("Totalt") == 108.0
    assert [r.key for r in staff.rows] == ["Tillsvidareanställda", "Visstidsanställda", "Timanställda"]
    assert {(f.rule, f.severity, f.cell) for f in outcome.findings} == {("okand-rad", "warning", "A7")}
    assert any(s.startswith("Totalt antal anställda är 108") for s in summary_sentences(outcome.report))


def test_a_template_row_below_the_staff_summa_is_an_error(tmp_path):
    """Timanställda typed below Summa (a real file, rows moved in the sheet's XML): the report
    would count 107 of 108 employees without a word; now an error names the row."""
    def edit(xml: bytes) -> bytes:
        start, end = xml.index(b'<row r="7"'), xml.index(b"</row>", xml.index(b'<row r="8"')) + len(b"</row>")
        rows = ('<row r="7"><c r="A7" t="inlineStr"><is><t>Summa</t></is></c><c r="B7"><v>73</v></c>'
                '<c r="C7"><v>34</v></c><c r="D7"><v>107</v></c><c r="E7"><v>88</v></c><c r="F7"><v>19</v></c></row>'
                '<row r="8"><c r="A8" t="inlineStr"><is><t>Timanställda</t></is></c><c r="B8"><v>1</v></c>'
                '<c r="C8"><v>0</v></c><c r="D8"><v>1</v></c><c r="E8"><v>1</v></c><c r="F8"><v>0</v></c>'
                '</row>').encode()
        return xml[:start] + rows + xml[end:]

    result = process(edit_sheet(tmp_path / "in.xlsx", "Personal", edit), (), write=False)
    assert result.status == 1
    found = {(f.rule, f.severity, f"{f.sheet}!{f.cell}") for f in result.findings}
    assert ("personal-rad-under-summa", "error", "Personal!A8") in found
    assert "Timanställda" in next(f.message for f in result.findings if f.rule == "personal-rad-under-summa")


def test_a_leaver_row_below_the_leavers_summa_is_an_error():
    found = findings_with({"Personal!A13": "Summa", "Personal!B13": 1, "Personal!A14": "Externa avgångar",
                           "Personal!B14": 2})
    assert ("personal-rad-under-summa", "error", "Personal!A14") in found


def test_the_example_tables_end_where_they_did():
    """The example's Personal table still ends at its one Summa, Avgångar at its own."""
    report = outcome_with(actions=()).report
    assert report.staff.total.row == 7 and report.leavers.total.row == 13


# --- column headers (item: a misspelt header silently dropped) -----------------------------

@pytest.mark.parametrize("cells, where, base", [
    ({"Sjukfrånvaro!G4": "Totalt fg år", "Sjukfrånvaro!H5": 5.0}, "Sjukfrånvaro!G4", "Totalt fg period"),
    ({"Personal!E4": "Totalt föregående år", "Personal!F5": 40, "Personal!F8": 41}, "Personal!E4", "Totalt fg år"),
    ({"Sjukfrånvaro!E4": "Kvinnor fg år"}, "Sjukfrånvaro!E4", "Kvinnor fg period"),
])
def test_a_misspelt_column_header_is_named(cells, where, base):
    result = result_with(cells)
    hits = [f for f in result.findings if f.rule == "kolumn-stavning"]
    assert [(f.severity, f"{f.sheet}!{f.cell}", f.expected) for f in hits] == [("warning", where, base)]
    assert f"exakt '{base}'" in hits[0].message
    if "Förändring" in base or base.startswith("Totalt"):
        assert "Förändring kontrolleras inte" in hits[0].message
    assert not any(f.rule == "forandring-utan-bas" for f in result.findings)  # one finding, not two


def test_a_change_without_its_base_column_is_named():
    """Förändring filled, Totalt fg år under a header nothing like it: the change is unchecked."""
    found = findings_with({"Personal!E4": "Antal 2019"})
    assert found == {("forandring-utan-bas", "warning", "Personal!F4")}


@pytest.mark.parametrize("cells", [
    {"Driftredovisning!I4": "Kommentarer"},  # the text column, misspelt: free text, not a figure
    {"Personal!G4": "Totalt fg år (%)", "Personal!G5": 0.5},  # the user's own column right of the table
    {"Sjukfrånvaro!I4": "Totalt fg år"},
    {"Personal!E4": None, "Personal!E5": None, "Personal!E6": None, "Personal!E7": None, "Personal!E8": None,
     "Personal!F4": None, "Personal!F5": None, "Personal!F6": None, "Personal!F7": None, "Personal!F8": None},
])
def test_columns_outside_the_template_do_not_warn(cells):
    assert not {rule for rule, _, _ in findings_with(cells)} & {"kolumn-stavning", "forandring-utan-bas"}


# --- Förändring is a whole number, counts as Excel holds them ------------------------------

def test_a_fractional_change_is_an_error_without_last_years_figure():
    cells = {f"Personal!E{r}": None for r in range(5, 9)} | {"Personal!F5": 18.5, "Personal!F6": 0.5}
    found = findings_with(cells)
    assert {("personal-heltal", "error", "Personal!F5"), ("personal-heltal", "error", "Personal!F6")} <= found
    assert found <= {("personal-heltal", "error", "Personal!F5"), ("personal-heltal", "error", "Personal!F6"),
                     ("personal-summa", "error", "Personal!F8")}


def test_a_count_with_binary_noise_is_whole():
    """=0,57*100 gives 57.00000000000001 in binary and 57 in Excel: a whole number."""
    assert findings_with({"Personal!B6": 5.000000000000001}) == set()


def test_a_negative_count_is_quoted_as_typed():
    result = result_with({"Personal!C7": -1})
    message = next(f.message for f in result.findings if f.rule == "personal-heltal")
    assert "−1 är inget antal personer" in message


# --- sums whose parts are not given, totals that are not given ------------------------------

@pytest.mark.parametrize("mark", ["–", None])
def test_only_the_summa_of_last_year_is_no_error(mark):
    """Last year's headcount known only in total (the reference gives +19 on 89): the forms'
    Totalt fg år and Förändring are "–", Summa has 89 and 19. Nothing to add up, no error."""
    cells = {f"Personal!{c}{r}": mark for c in "EF" for r in (5, 6, 7)}
    result = result_with(cells)
    assert result.status == 0 and result.findings == []


def test_an_empty_staff_total_beside_its_parts_is_named():
    found = findings_with({"Personal!D8": None})
    assert found == {("personal-summa-tom", "warning", "Personal!D8")}  # once, not twice


def test_an_empty_summa_column_beside_its_parts_is_named():
    assert findings_with({"Personal!E8": None, "Personal!F8": None}) == {
        ("personal-summa-tom", "warning", "Personal!E8"), ("personal-summa-tom", "warning", "Personal!F8")}


def test_an_empty_sick_total_beside_its_parts_is_named():
    assert findings_with({"Sjukfrånvaro!D5": "–"}) == {("sjuk-total-tom", "warning", "Sjukfrånvaro!D5")}


def test_an_empty_sick_totalt_beside_women_and_men_is_named():
    assert findings_with({"Sjukfrånvaro!D6": None}) == {
        ("sjuk-total-tom", "warning", "Sjukfrånvaro!D6"), ("sjuk-kort-lang", "error", "Sjukfrånvaro!D5")}


# --- tolerances from the figures' own decimals, comparisons as printed ----------------------

@pytest.mark.parametrize("value, decimals", [(0.85, 2), (2.5, 1), (3.0, 0), (0.1 + 0.2, 1), (1e-05, 5),
                                             (2.9000000000000004, 1), (57.00000000000001, 0)])
def test_typed_decimals(value, decimals):
    assert config.typed_decimals(value) == decimals


def test_the_tolerance_follows_the_typed_decimals():
    assert config.DEFAULT.tolerance_of([0.8, 1.7, 2.5], percent=True) == pytest.approx(0.15)
    assert config.DEFAULT.tolerance_of([0.85, 1.75, 2.5], percent=True) == pytest.approx(0.06)
    assert config.DEFAULT.tolerance_of([0.6, None, 0.6], percent=True) == pytest.approx(0.1)
    assert config.DEFAULT.tolerance_of([1.0] * 10, percent=True) == pytest.approx(config.DEFAULT.tolerance_cap)


def test_two_decimal_sick_figures_are_held_to_two_decimals():
    """Kort 0,85 + Lång 1,75 = 2,60 against Total 2,5: off by 0,10, more than their rounding."""
    result = result_with({"Sjukfrånvaro!D6": 0.85, "Sjukfrånvaro!D7": 1.75})
    hit = next(f for f in result.findings if f.rule == "sjuk-kort-lang")
    assert hit.cell == "D5" and "0,85 + 1,75 = 2,60" in hit.message


def test_two_decimal_sick_figures_that_add_up_are_clean():
    assert findings_with({"Sjukfrånvaro!D6": 0.84, "Sjukfrånvaro!D7": 1.66}) == set()


def test_a_target_met_as_printed_is_not_above_it():
    """Total 3,04 prints 3,0, the target 3,0: the sentence says "i nivå med", so no warning."""
    outcome = outcome_with({"Sjukfrånvaro!D5": 3.04, "Sjukfrånvaro!D7": 2.24, "Sjukfrånvaro!H5": 0.4,
                            "Sjukfrånvaro!H7": 0.9}, actions=())
    assert outcome.findings == []
    assert any("i nivå med målnivån på 3,0 %" in s for s in summary_sentences(outcome.report))


def test_a_target_exceeded_as_printed_is_above_it():
    assert ("sjuk-mal", "warning", "Sjukfrånvaro!D5") in findings_with(
        {"Sjukfrånvaro!D5": 3.05, "Sjukfrånvaro!D7": 2.25, "Sjukfrånvaro!H5": 0.45, "Sjukfrånvaro!H7": 0.95})


def test_a_small_percentage_the_column_proves_is_no_fraction():
    """Män: Kort 0,5 + Lång 0,1 = Total 0,6: the 0,1 is a percentage, as xlreport fix reads it."""
    result = result_with({"Sjukfrånvaro!C6": 0.5, "Sjukfrånvaro!C7": 0.1})
    assert result.status == 0 and result.findings == []


def test_a_column_of_fractions_still_warns():
    """Every figure of the column a fraction: the column proves nothing."""
    found = findings_with({"Sjukfrånvaro!C5": 0.006, "Sjukfrånvaro!C6": 0.006})
    assert {("sjuk-procent-andel", "warning", "Sjukfrånvaro!C5"),
            ("sjuk-procent-andel", "warning", "Sjukfrånvaro!C6")} <= found


# --- the target and the periods on Uppgifter -----------------------------------------------

def test_a_target_read_from_a_percent_format_is_range_checked():
    """3 in a cell formatted 0,0 % shows 300,0 %: no target."""
    door = example_door({"Uppgifter!B11": 3})
    door.grids["Uppgifter"].formats[(10, 1)] = "0.0%"
    outcome = engine.process(door, actions=())
    hit = next(f for f in outcome.findings if f.rule == "sjuk-procent")
    assert (hit.severity, hit.sheet, hit.cell) == ("error", "Uppgifter", "B11")
    assert "300,0 %" in hit.message and "procent" in hit.message


@pytest.mark.parametrize("value", [-3.0, 130.0])
def test_a_target_outside_0_to_100_is_an_error(value):
    assert ("sjuk-procent", "error", "Uppgifter!B11") in findings_with({"Uppgifter!B11": value})


@pytest.mark.parametrize("now, before, where", [
    ("mars 2018–feb 2019", "mars 2019–feb 2020", "Uppgifter!B15"),  # swapped
    ("mars 2019–feb 2020", "mars 2019–februari 2020", "Uppgifter!B15"),  # the same, written two ways
    ("mars 2021–feb 2022", "mars 2018–feb 2019", "Uppgifter!B14"),  # after the report's March 2020
])
def test_sick_periods_in_the_wrong_order_or_after_the_report_warn(now, before, where):
    found = findings_with({"Uppgifter!B14": now, "Uppgifter!B15": before})
    assert ("sjuk-period", "warning", where) in found


@pytest.mark.parametrize("now, before", [
    ("mars 2019–feb 2020", "mars 2018–feb 2019"),  # the example's
    ("jan 2020–mars 2020", "jan 2019–mars 2019"),  # ending with the report's month
    ("rullande 12 månader", "föregående 12 månader"),  # not month names: not judged
    (None, None),
])
def test_sick_periods_in_order_do_not_warn(now, before):
    assert findings_with({"Uppgifter!B14": now, "Uppgifter!B15": before}) == set()


def test_a_note_below_the_staff_summa_is_not_its_total():
    """A text line starting with "Summa" right below the table, without figures, is a note."""
    outcome = outcome_with({"Personal!A9": "Summa enligt HR-systemet den 31 mars"}, actions=())
    assert outcome.report.staff.total.row == 7 and outcome.findings == []
