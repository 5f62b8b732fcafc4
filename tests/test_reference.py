"""The worked example reproduces the published report (../shared/reference/README.md).

The expected figures below are the reference report's printed tables, typed from the
reference; the example workbook holds only the *inputs*. Every deviation and total is
computed by the tool and checked after rounding to one decimal as printed, in the cached
values that readers without a calculation engine see (python-calamine, pandas), and in
the values LibreOffice recalculates from the formulas.
"""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest
import python_calamine as pc

from support.libreoffice import convert_sheets_to_csv
from support.workbooks import EXAMPLE, variant
from xlreport.core.swedish import round_half_up
from xlreport.doors.file import process

# Resultaträkning: Avvikelse ack, Avvikelse helår (printed)
INCOME = {
    "Intäkter": (3.4, 0.0),
    "Kostnader": (12.9, 7.8),
    "varav personalkostnader": (-1.1, 0.7),
    "varav lokalkostnader": (0.0, 0.0),
    "Resultat": (16.4, 7.8),
}
# Driftredovisning: Avvikelse ack fg år, Avvikelse ack, Budget helår, Avvikelse helår (printed)
UNITS = {
    "KS/kommunledningskontoret": (-2.1, -2.2, 0.0, 0.0),
    "KLK Ledning": (0.4, 2.9, -80.5, 2.3),
    "KLK Ekonomi och kvalitet": (-0.4, -0.2, -52.7, 1.3),
    "KLK HR": (-0.9, 2.8, -85.9, 1.0),
    "KLK Välfärd": (3.7, 1.8, -17.8, 1.6),
    "KLK Näringsliv": (5.7, 8.7, -61.8, 0.0),
    "KLK Kommunikation, IT och digitalisering": (2.4, 1.5, -93.1, 0.4),
    "KLK Miljö och samhällsbyggnad": (2.6, 1.0, -37.7, 1.2),
    "Summa Kommunstyrelsen": (11.5, 16.4, -429.5, 7.8),
}
# Printed inputs of the income statement: Utfall ack fg år, Utfall ack, Budget ack, Prognos helår
INCOME_INPUTS = {
    "Intäkter": (111.7, 113.7, 110.3, 441.0),
    "Kostnader": (-99.3, -96.6, -109.5, -433.2),
    "varav personalkostnader": (-23.3, -27.5, -26.4, -107.9),
    "varav lokalkostnader": (-1.4, -1.3, -1.3, -5.2),
    "Resultat": (12.4, 17.1, 0.7, 7.8),
}


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "refreshed.xlsx"
    result = process(EXAMPLE, out=out)
    assert result.status == 0, result.findings
    assert result.written == out
    return out


def _rows(path, sheet):
    rows = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return {r[0]: r for r in rows if r and isinstance(r[0], str)}


def r1(v):
    return round_half_up(float(v), 1)


def test_income_statement_matches_reference(refreshed):
    rows = _rows(refreshed, "Resultaträkning")
    header = rows["Konto"]
    col = {h: i for i, h in enumerate(header)}
    for label, (avv, avv_year) in INCOME.items():
        row = rows[label]
        assert r1(row[col["Avvikelse ack"]]) == avv, label
        assert r1(row[col["Avvikelse helår"]]) == avv_year, label
        fg, utfall, budget, prognos = INCOME_INPUTS[label]
        assert [r1(row[col[c]]) for c in ("Utfall ack fg år", "Utfall ack", "Budget ack", "Prognos helår")] == [
            fg, utfall, budget, prognos], label


def test_unit_table_matches_reference(refreshed):
    rows = _rows(refreshed, "Driftredovisning")
    col = {h: i for i, h in enumerate(rows["Enhet"])}
    for label, printed in UNITS.items():
        row = rows[label]
        got = tuple(r1(row[col[c]]) for c in ("Avvikelse ack fg år", "Avvikelse ack", "Budget helår",
                                               "Avvikelse helår"))
        assert got == printed, label


def test_pandas_sees_the_deviations(refreshed):
    df = pd.read_excel(refreshed, sheet_name="Driftredovisning", header=3, engine="calamine").set_index("Enhet")
    assert r1(df.loc["Summa Kommunstyrelsen", "Avvikelse ack"]) == 16.4
    assert r1(df.loc["KLK Ledning", "Avvikelse helår"]) == 2.3


def test_summary_states_the_reference_figures(refreshed):
    text = " ".join(str(c) for r in pc.CalamineWorkbook.from_path(str(refreshed))
                    .get_sheet_by_name("Rapport").to_python() for c in r if isinstance(c, str))
    for phrase in (
        "budgeteras till 441,0 mnkr", "driftram 407,2 mnkr",
        "uppgår till 17,1 mnkr", "avvikelse på +16,4 mnkr",
        "Prognosen för helåret uppgår till 7,8 mnkr", "avvikelse på +7,8 mnkr",
        "Totalt antal anställda är 108, varav 98 tillsvidareanställda, 9 visstidsanställda och 1 timanställd.",
        "74 kvinnor och 34 män", "ökning med 19 personer",
        "3 avgångar, varav 1 pensionsavgång och 2 externa avgångar",
        "Sjukfrånvaron uppgår till 2,5 % vilket är under målnivån på 3,0 %",
        "minskning jämfört med föregående period (2,6 %)",
        "Antalet åtaganden 2020 uppgår till 24 stycken", "19 bli klara under 2020", "5 bedöms inte bli klara",
        "Olika former av verksamhetsutveckling +4,0 mnkr", "Övrigt +1,8 mnkr",
    ):
        assert phrase in text, phrase


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_same_numbers(refreshed, tmp_path):
    """LibreOffice opens the written file, recalculates every formula, and agrees with the cache."""
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice is not installed: run scripts/setup.sh")
    csvs = convert_sheets_to_csv(refreshed, tmp_path, recalc=True)
    with open(csvs["Driftredovisning"], encoding="utf-8") as f:
        rows = {r[0]: r for r in csv.reader(f) if r}
    col = {h: i for i, h in enumerate(rows["Enhet"])}
    for label, printed in UNITS.items():
        got = tuple(r1(rows[label][col[c]]) for c in ("Avvikelse ack fg år", "Avvikelse ack", "Budget helår",
                                                       "Avvikelse helår"))
        assert got == printed, label


@pytest.mark.libreoffice
def test_dash_for_no_value_gives_a_formula_that_recalculates(tmp_path):
    """'–' in an input cell means no value: Excel and LibreOffice must compute what the cache says.

    Text in arithmetic is #VALUE! in a spreadsheet, so ``C9-D9`` with D9 = '–' would show an
    error the moment Excel recalculates (the tool asks it to, on open), while the cache says −1,0.
    """
    wb = variant(tmp_path / "streck.xlsx", {"Resultaträkning!C9": -1.0, "Resultaträkning!D9": "–",
                                            "Driftredovisning!D5": "–", "Driftredovisning!F5": "–"})
    result = process(wb)
    assert result.status == 0, result.findings
    cached = _rows(wb, "Resultaträkning")["varav köp av verksamhet"]
    assert cached[4] == -1.0
    csvs = convert_sheets_to_csv(wb, tmp_path / "csv", recalc=True)
    for sheet in ("Resultaträkning", "Driftredovisning"):
        cached_rows = _rows(wb, sheet)
        with open(csvs[sheet], encoding="utf-8") as f:
            for r in csv.reader(f):
                if r and r[0] in cached_rows and isinstance(cached_rows[r[0]][4], float):
                    for col in (4, 7):
                        want = cached_rows[r[0]][col]
                        assert "#VALUE" not in r[col], (sheet, r[0], r[col])
                        if isinstance(want, float):
                            assert abs(float(r[col]) - want) < 1e-9, (sheet, r[0], col)
