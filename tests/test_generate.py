"""The report text: Swedish number formats, and sentences that follow the figures they quote."""

from __future__ import annotations

import pytest

from test_engine import example_grids
from xlreport import engine
from xlreport.generate import summary_sentences
from xlreport.numbers import MINUS, fmt_mnkr, fmt_number, fmt_percent, parse_number_text


@pytest.mark.parametrize("value, text", [
    (7.8, "7,8"), (-1.1, f"{MINUS}1,1"), (1234.56, "1 234,6"), (-0.04, "0,0"), (0.05, "0,1"),
    (2.25, "2,3"), (-2.25, f"{MINUS}2,3"), (16.370000000000005, "16,4"), (None, "–"),
])
def test_fmt_number(value, text):
    assert fmt_number(value, 1) == text


def test_units_and_signs():
    assert fmt_mnkr(7.8, sign=True) == "+7,8 mnkr"
    assert fmt_mnkr(-3.2, sign=True) == f"{MINUS}3,2 mnkr"
    assert fmt_mnkr(0.0, sign=True) == "0,0 mnkr"
    assert fmt_percent(2.5) == "2,5 %"


@pytest.mark.parametrize("text, value", [
    ("12,9", 12.9), ("1 234,5", 1234.5), ("1\u00a0234,5", 1234.5), ("1\u202f234,5", 1234.5),
    (f"{MINUS}3,2", -3.2), ("-3,2", -3.2), ("(3,2)", -3.2), ("3,2 mnkr", 3.2), ("12.9", 12.9),
    ("2,5 %", 2.5), ("+4,0", 4.0), ("abc", None), ("", None), ("1,2,3", None), ("12,9 kr/st", None),
])
def test_parse_number_text(text, value):
    assert parse_number_text(text) == value


def _run(edit):
    names, grids = example_grids()
    edit(grids)
    out = engine.run(grids, names)
    return out, " ".join(summary_sentences(out.report))


def test_negative_result_gets_a_minus_sign():
    def edit(g):  # Intäkter below budget; Resultat (a formula in the workbook) follows
        rows = g["Resultaträkning"].values
        rows[4][2], rows[9][2] = 95.0, 95.0 - 96.6  # Utfall ack
        rows[4][6], rows[9][6] = 430.0, 430.0 - 433.2  # Prognos helår

    _, text = _run(edit)
    assert (f"uppgår till {MINUS}1,6 mnkr att jämföra med budgeterat resultat 0,7 mnkr, en avvikelse på "
            f"{MINUS}2,3 mnkr") in text
    assert (f"Prognosen för helåret uppgår till {MINUS}3,2 mnkr att jämföra med budget 0,0 mnkr, en avvikelse "
            f"på {MINUS}3,2 mnkr") in text


def test_sick_leave_above_target_and_fewer_staff():
    def edit(g):
        g["Uppgifter"].values[10][1] = 2.0  # Mål sjukfrånvaro (%)
        staff = g["Personal"].values
        staff[7][4] = 109  # Summa, Totalt fg år
        staff[7][5] = -1  # Förändring

    out, text = _run(edit)
    assert "Sjukfrånvaron uppgår till 2,5 % vilket är över målnivån på 2,0 %" in text
    assert "Det är en minskning med 1 person jämfört med föregående år." in text
    assert {f.rule for f in out.findings} >= {"sjuk-mal", "personal-summa"}
