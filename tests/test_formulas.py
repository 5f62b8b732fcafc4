"""The pure-Python formula evaluator: parse, references and evaluate (xlreport.core.formulas)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlreport.core import formulas
from xlreport.core.formulas import NotEvaluated, Ref, evaluate, parse, references

SHEET = "Resultaträkning"


class Book:
    """A dict of cells keyed by (sheet, row, col), 0-based, that records every lookup."""

    def __init__(self, cells: dict[tuple[str, int, int], object] | None = None) -> None:
        self.cells = dict(cells or {})
        self.calls: list[tuple[str, int, int]] = []

    def set(self, a1: str, value: object, sheet: str = SHEET) -> Book:
        col = 0
        letters = a1.rstrip("0123456789")
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        self.cells[(sheet, int(a1[len(letters):]) - 1, col - 1)] = value
        return self

    def __call__(self, sheet: str, row: int, col: int) -> object:
        self.calls.append((sheet, row, col))
        return self.cells.get((sheet, row, col))


def book(**cells: object) -> Book:
    """Book with cells on SHEET given as keyword arguments: book(C5=1, C6="x")."""
    b = Book()
    for a1, value in cells.items():
        b.set(a1, value)
    return b


def ev(formula: str, lookup: Book | None = None, sheet: str = SHEET) -> float:
    return evaluate(formula, sheet, lookup if lookup is not None else Book())


def not_evaluated(formula: str, lookup: Book | None = None, sheet: str = SHEET) -> str:
    with pytest.raises(NotEvaluated) as info:
        ev(formula, lookup, sheet)
    return info.value.reason


# ---------------------------------------------------------------------------------------------
# Literals, operators, precedence


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("1+2*3", 7.0),
        ("-(2+3)*2", -10.0),
        ("10/4", 2.5),
        ("(1+2)*3", 9.0),
        ("10-4-3", 3.0),  # left-associative
        ("24/4/2", 3.0),
        ("2*3-4/2", 4.0),
        ("+5", 5.0),
        ("--5", 5.0),
        ("-+-5", 5.0),
        ("3*-2", -6.0),
        ("1-(-1)", 2.0),
        ("1.5", 1.5),
        ("1E3", 1000.0),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        (".5", 0.5),
        ("1.", 1.0),
        ("=1+1", 2.0),
        ("  = 1 +\t2 * \n3  ", 7.0),
        ("((((7))))", 7.0),
        ("50%", 0.5),
        ("200*10%", 20.0),
        ("-5%", -0.05),
        ("2^3", 8.0),
        ("2^3^2", 64.0),  # Excel: left-associative
        ("-2^2", 4.0),  # Excel: negation binds tighter than ^
        ("0-2^2", -4.0),
        ("2^-1", 0.5),
        ("(-8)^(1/1)", -8.0),
        ("TRUE+1", 2.0),
        ("FALSE*3+1", 1.0),
    ],
)
def test_arithmetic(formula: str, expected: float) -> None:
    assert ev(formula) == expected


def test_results_are_floats() -> None:
    assert type(ev("1+1")) is float
    assert type(ev("C5", book(C5=3))) is float
    assert type(ev("SUM(C5:C6)", book(C5=3, C6=4))) is float


def test_division_by_zero() -> None:
    assert not_evaluated("1/0") == "#DIV/0!"
    assert not_evaluated("C5/C6", book(C5=1)) == "#DIV/0!"  # empty C6 is 0
    assert not_evaluated("1/(2-2)") == "#DIV/0!"


def test_power_errors() -> None:
    assert not_evaluated("0^0") == "#NUM!"
    assert not_evaluated("0^-1") == "#DIV/0!"
    assert not_evaluated("(-8)^(1/3)") == "#NUM!"
    assert not_evaluated("10^400") == "#NUM!"
    assert not_evaluated("1E300*1E300") == "#NUM!"


# ---------------------------------------------------------------------------------------------
# Cell references in arithmetic


def test_cell_arithmetic() -> None:
    b = book(C5=100, C6=25.5, D5=True, D6=False)
    assert ev("C5+C6", b) == 125.5
    assert ev("C5-C6*2", b) == 49.0
    assert ev("-C5", b) == -100.0
    assert ev("C5*D5", b) == 100.0  # TRUE is 1 in arithmetic
    assert ev("C5+D6", b) == 100.0
    assert ev("C5", b) == 100.0


def test_empty_cell_is_zero() -> None:
    assert ev("C5+C6", book(C5=3)) == 3.0
    assert ev("C7") == 0.0  # =C7 with C7 empty shows 0
    assert ev("-C7") == 0.0


def test_lowercase_and_absolute_references() -> None:
    b = book(C5=1, C6=2, AB12=4)
    assert ev("c5+$C$6+c$5+$c6", b) == 6.0
    assert ev("ab12*2", b) == 8.0
    assert ev("sum($c$5:C6)", b) == 3.0


def test_text_in_arithmetic_is_not_evaluated() -> None:
    assert not_evaluated("C5+1", book(C5="–")) == "text"
    assert not_evaluated("C5+1", book(C5="12")) == "text"  # numeric text: left to the caller
    assert not_evaluated("-C5", book(C5="x")) == "text"
    assert not_evaluated("C5*2", book(C5="")) == "text"
    assert not_evaluated("C5", book(C5="abc")) == "text"


def test_boolean_result_is_not_evaluated() -> None:
    assert not_evaluated("TRUE") == "boolean result"
    assert not_evaluated("C5", book(C5=True)) == "boolean result"


def test_error_value_in_a_cell() -> None:
    for error in ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"):
        b = book(C5=error, C6=1)
        assert not_evaluated("C5+C6", b) == error
        assert not_evaluated("SUM(C5:C6)", b) == error
        assert not_evaluated("SUM(C5)", b) == error
        assert not_evaluated("N(C5)", b) == error
        assert not_evaluated("C5", b) == error


def test_text_starting_with_hash_is_text_not_an_error() -> None:
    b = book(C5="#1 Kultur", C6=2)
    assert ev("SUM(C5:C6)", b) == 2.0
    assert not_evaluated("C5+C6", b) == "text"


def test_other_cell_value_types() -> None:
    assert not_evaluated("C5+1", book(C5=float("nan")))
    assert not_evaluated("SUM(C5:C6)", book(C5=float("inf")))
    assert not_evaluated("C5+1", book(C5=10**400))
    assert not_evaluated("C5+1", book(C5=object())).startswith("unsupported cell value")
    assert ev("C5+1", book(C5=2**53)) == 2.0**53 + 1


def test_lookup_is_called_lazily_per_cell() -> None:
    b = book(C5=1, C6=2)
    ev("C5+C6", b)
    assert b.calls == [(SHEET, 4, 2), (SHEET, 5, 2)]
    b.calls.clear()
    ev("SUM(C5:D6)", b)
    assert sorted(b.calls) == [(SHEET, 4, 2), (SHEET, 4, 3), (SHEET, 5, 2), (SHEET, 5, 3)]
    b.calls.clear()
    parse("C5*7")  # parsing reads no cells
    assert b.calls == []


def test_lookup_exceptions_propagate() -> None:
    def lookup(sheet: str, row: int, col: int) -> object:
        raise KeyError((sheet, row, col))

    with pytest.raises(KeyError):
        evaluate("C5+1", SHEET, lookup)


# ---------------------------------------------------------------------------------------------
# SUM


def test_sum_of_a_range_ignores_text_booleans_and_empty_cells() -> None:
    b = book(C5=1, C6="text", C7=None, C8=True, C9=2.5, C10="12", C11=False, C12=-0.5)
    assert ev("SUM(C5:C12)", b) == 3.0


def test_sum_of_a_direct_reference_ignores_text_and_booleans() -> None:
    b = book(C5="text", C6=True, C7=4)
    assert ev("SUM(C5)", b) == 0.0
    assert ev("SUM(C5,C6,C7)", b) == 4.0
    assert ev("SUM((C5))", b) == 0.0  # a parenthesised reference is still a reference


def test_sum_literals_and_expressions_count() -> None:
    b = book(C5=1, C6=2, D5=10)
    assert ev("SUM(1,2,3)", b) == 6.0
    assert ev("SUM(C5:C6,10)", b) == 13.0
    assert ev("SUM(TRUE,1)", b) == 2.0  # a literal TRUE counts as 1
    assert ev("SUM(C5*2,D5-C6)", b) == 10.0
    assert ev("SUM(SUM(C5:C6),N(D5))", b) == 13.0
    assert ev("SUM(C5:C6)-SUM(D5)", b) == -7.0
    assert ev("SUM(C5,)", b) == 1.0  # an omitted argument adds 0


def test_sum_of_an_expression_with_text_is_not_evaluated() -> None:
    assert not_evaluated("SUM(C5+1)", book(C5="x")) == "text"
    assert not_evaluated('SUM("3")') == "text literal"


def test_sum_function_name_case_and_spaces() -> None:
    b = book(C5=1, C6=2)
    assert ev("sum(C5:C6)", b) == 3.0
    assert ev("Sum( C5 : C6 , 1 )", b) == 4.0
    assert ev("SUM (C5:C6)", b) == 3.0


def test_sum_reversed_range_is_normalised() -> None:
    b = book(C5=1, C6=2, D5=3, D6=4)
    assert ev("SUM(D6:C5)", b) == 10.0
    assert references("SUM(D6:C5)", SHEET) == [Ref(SHEET, 4, 2, 5, 3)]


def test_sum_of_a_two_dimensional_range() -> None:
    b = book(C5=1, D5=2, C6=3, D6=4, E7=100)
    assert ev("SUM(C5:D6)", b) == 10.0


def test_sum_without_arguments() -> None:
    assert not_evaluated("SUM()")


def test_sum_over_ten_thousand_cells() -> None:
    cells: dict[tuple[str, int, int], object] = {(SHEET, row, 2): float(row) for row in range(10_000)}
    cells[(SHEET, 17, 2)] = "kommentar"  # ignored
    b = Book(cells)
    expected = sum(range(10_000)) - 17
    assert ev("SUM(C1:C10000)", b) == expected
    assert len(b.calls) == 10_000


def test_sum_over_a_large_two_dimensional_range() -> None:
    cells: dict[tuple[str, int, int], object] = {
        (SHEET, row, col): 1 for row in range(1000) for col in range(10)
    }
    assert ev("SUM(A1:J1000)+1", Book(cells)) == 10_001.0


def test_long_chain_of_additions() -> None:
    cells: dict[tuple[str, int, int], object] = {(SHEET, row, 0): 1.0 for row in range(2000)}
    formula = "+".join(f"A{row}" for row in range(1, 2001))
    assert ev(formula, Book(cells)) == 2000.0


# ---------------------------------------------------------------------------------------------
# N


def test_n() -> None:
    b = book(D5=7, E5="–", F5=True, G5=False, H5=2.5)
    assert ev("N(D5)-N(E5)", b) == 7.0
    assert ev("N(E5)", b) == 0.0  # text
    assert ev("N(Z99)", b) == 0.0  # empty
    assert ev("N(F5)+N(G5)", b) == 1.0
    assert ev("n(H5)", b) == 2.5
    assert ev("N(12)", b) == 12.0
    assert ev("N(TRUE)", b) == 1.0
    assert ev("N(D5*2)", b) == 14.0
    assert ev('N("abc")', b) == 0.0  # Excel: N of text is 0
    assert ev("N(D5:D5)", b) == 7.0


def test_n_unsupported_forms() -> None:
    assert not_evaluated("N(D5:D6)").startswith("N of a multi-cell range")
    assert not_evaluated("N()")
    assert not_evaluated("N(1,2)")


# ---------------------------------------------------------------------------------------------
# Unsupported constructs


@pytest.mark.parametrize(
    "formula",
    [
        "VLOOKUP(C5,A1:B10,2,FALSE)",
        "IF(C5>0,C5,0)",
        "ROUND(C5,0)",
        "_xlfn.XLOOKUP(C5,A1:A3,B1:B3)",
        "#REF!",
        "#REF!+1",
        "Resultaträkning!#REF!",
        "#N/A",
        '"a"',
        '"a"+1',
        '"a"&"b"',
        "C5&C6",
        "C5=C6",
        "C5<>C6",
        "C5>=1",
        "C5:C6",  # a range as a single value
        "C5:C6+1",
        "SUM(-C5:C6)",  # an array operation in Excel
        "{1,2,3}",
        "SUM({1,2})",
        "Intäkter",  # a defined name
        "SUM(Intäkter)",
        "Tabell1[Belopp]",
        "SUM(Tabell1[[#Data],[Belopp]])",
        "R1C1",
        "RC[-1]",
        "R[-1]C",
        "[1]Blad1!A1",
        "SUM([Budget.xlsx]Blad1!A1:A3)",
        "'[Budget.xlsx]Blad1'!A1",
        "'C:\\mapp\\[Budget.xlsx]Blad1'!A1",
        "Blad1:Blad3!A1",
        "SUM(Blad1:Blad3!A1)",
        "'Blad 1:Blad 3'!A1",
        "A:A",
        "SUM($A:$A)",
        "SUM(Blad1!A:C)",
        "SUM(1:1)",
        "SUM($1:$3)",
        "C5 C6",  # intersection
        "SUM((C5,C6))",  # union
        "A1#",  # spilled range
        "@C5:C6",
        "SUM(C5;C6)",
        "XFE1",  # beyond the last column: a name
        "A0",
        "A1048577",
        "",
        "=",
        "1+",
        "(1+2",
        "1+2)",
        "SUM(1,2",
        "1 2",
        "C5:",
        "*2",
        '"unterminated',
        "'Blad 1!A1",
    ],
)
def test_unsupported_formulas_are_not_evaluated(formula: str) -> None:
    b = book(C5=1, C6=2)
    with pytest.raises(NotEvaluated) as info:
        evaluate(formula, SHEET, b)
    assert info.value.reason  # always a reason
    assert str(info.value) == info.value.reason


def test_specific_reasons() -> None:
    assert not_evaluated("VLOOKUP(C5,A1:B10,2,FALSE)") == "function VLOOKUP"
    assert not_evaluated("if(C5>0,1,2)") == "function IF"
    assert not_evaluated("#REF!") == "#REF!"
    assert not_evaluated("#n/a") == "#N/A"
    assert not_evaluated('"a"') == "text literal"
    assert not_evaluated("C5=1") == "operator ="
    assert not_evaluated("C5&C6") == "operator &"
    assert "3-D" in not_evaluated("'Blad 1:Blad 3'!A1")
    assert "external" in not_evaluated("[1]Blad1!A1")
    assert "array" in not_evaluated("{1,2}")
    assert not_evaluated("Intäkter") == "defined name 'Intäkter'"


def test_parse_rejects_unsupported_syntax_and_accepts_unknown_functions() -> None:
    with pytest.raises(NotEvaluated):
        parse("SUM(Intäkter)")
    with pytest.raises(NotEvaluated):
        parse("A:A")
    assert isinstance(parse("VLOOKUP(C5,A1:B10,2,FALSE)"), formulas.Call)
    assert isinstance(parse('IF(C5="",0,C5)'), formulas.Call)


# ---------------------------------------------------------------------------------------------
# parse


def test_parse_tree() -> None:
    assert parse("1+2*3") == formulas.Binary(
        "+", formulas.Number(1.0), formulas.Binary("*", formulas.Number(2.0), formulas.Number(3.0))
    )
    assert parse("=sum($C$5:c12)") == formulas.Call("SUM", (formulas.Area(None, 4, 2, 11, 2),))
    assert parse("'It''s'!B2") == formulas.Cell("It's", 1, 1)
    assert parse("-C5%") == formulas.Percent(formulas.Unary("-", formulas.Cell(None, 4, 2)))
    assert parse("IF(C5,,1)") == formulas.Call(
        "IF", (formulas.Cell(None, 4, 2), formulas.Missing(), formulas.Number(1.0))
    )


def test_parse_is_cached() -> None:
    assert parse("SUM(C5:C12)") is parse("SUM(C5:C12)")
    assert formulas._parse_cached.cache_info().hits > 0


def test_cached_failure_raises_a_fresh_exception_each_time() -> None:
    first = second = None
    with pytest.raises(NotEvaluated) as info:
        parse("SUM(Intäkter)")
    first = info.value
    with pytest.raises(NotEvaluated) as info:
        parse("SUM(Intäkter)")
    second = info.value
    assert first is not second
    assert first.reason == second.reason


def test_function_names_that_look_like_cells() -> None:
    assert isinstance(parse("LOG10(100)"), formulas.Call)  # LOG10 is also a valid cell address
    assert not_evaluated("LOG10(100)") == "function LOG10"
    assert parse("LOG10") == formulas.Cell(None, 9, 8508)


# ---------------------------------------------------------------------------------------------
# references


def test_references_single_cell() -> None:
    assert references("C5", SHEET) == [Ref(SHEET, 4, 2, 4, 2)]
    assert references("=A1", "Blad1") == [Ref("Blad1", 0, 0, 0, 0)]


def test_references_range() -> None:
    assert references("SUM(C5:C12)", SHEET) == [Ref(SHEET, 4, 2, 11, 2)]
    assert references("SUM(A1:XFD1048576)", SHEET) == [Ref(SHEET, 0, 0, 1_048_575, 16_383)]


def test_references_cross_sheet() -> None:
    refs = references("Resultaträkning!C5-Balansräkning!D7:E8", "Kontroller")
    assert refs == [Ref("Resultaträkning", 4, 2, 4, 2), Ref("Balansräkning", 6, 3, 7, 4)]


def test_references_quoted_sheet_names() -> None:
    assert references("SUM('Driftredovisning 2020'!C5:C12)", SHEET) == [
        Ref("Driftredovisning 2020", 4, 2, 11, 2)
    ]
    assert references("'Kommunens förv.''s resultat'!$B$3", SHEET) == [
        Ref("Kommunens förv.'s resultat", 2, 1, 2, 1)
    ]
    assert references("'Blad1'!A1:B2", SHEET) == [Ref("Blad1", 0, 0, 1, 1)]


def test_references_swedish_sheet_names() -> None:
    refs = references("Årsöversikt!A1+Överförmyndare!B2+'Förändring i år'!C3+Äldreomsorg!D4", "Kontroller")
    assert [r.sheet for r in refs] == ["Årsöversikt", "Överförmyndare", "Förändring i år", "Äldreomsorg"]


def test_references_lowercase_and_dollar() -> None:
    assert references("sum($c$5:c$12)+$d5", SHEET) == [Ref(SHEET, 4, 2, 11, 2), Ref(SHEET, 4, 3, 4, 3)]


def test_references_second_sheet_prefix_on_the_range_end() -> None:
    assert references("SUM(Blad1!A1:Blad1!A3)", SHEET) == [Ref("Blad1", 0, 0, 2, 0)]
    with pytest.raises(NotEvaluated):
        references("SUM(Blad1!A1:Blad2!A3)", SHEET)


def test_references_order_and_duplicates() -> None:
    assert references("C6+C5+C6+SUM(C5:C6)", SHEET) == [
        Ref(SHEET, 5, 2, 5, 2),
        Ref(SHEET, 4, 2, 4, 2),
        Ref(SHEET, 4, 2, 5, 2),
    ]


def test_references_of_formulas_that_do_not_evaluate() -> None:
    assert references('IF(C5="",0,VLOOKUP(C5,A1:B9,2,FALSE))', SHEET) == [
        Ref(SHEET, 4, 2, 4, 2),
        Ref(SHEET, 0, 0, 8, 1),
    ]
    assert references("1+2", SHEET) == []
    assert references("C5&#N/A", SHEET) == [Ref(SHEET, 4, 2, 4, 2)]


def test_references_refuse_what_they_cannot_know() -> None:
    for formula in (
        "SUM(OFFSET(A1,0,0,5,1))",
        "INDIRECT(\"A1\")",
        "SUM(#REF!,C5)",
        "Blad1!#REF!+1",
        "SUM(Intäkter)",
        "SUM(A:A)",
        "[1]Blad1!A1",
    ):
        with pytest.raises(NotEvaluated):
            references(formula, SHEET)


def test_references_on_a_cross_sheet_formula_evaluate_the_same_cells() -> None:
    b = Book().set("C5", 10, "Driftredovisning 2020").set("C6", 5, "Driftredovisning 2020").set("D1", 1)
    formula = "SUM('Driftredovisning 2020'!C5:C6)-D1"
    assert ev(formula, b) == 14.0
    assert {call[0] for call in b.calls} == {"Driftredovisning 2020", SHEET}


def test_ref_is_frozen_and_hashable() -> None:
    ref = Ref("Blad1", 0, 0, 0, 0)
    with pytest.raises(AttributeError):
        ref.top = 1  # type: ignore[misc]
    assert {ref, Ref("Blad1", 0, 0, 0, 0)} == {ref}


# ---------------------------------------------------------------------------------------------
# Imports


def test_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "import xlreport.core\n"
        "before = set(sys.modules)\n"
        "import xlreport.core.formulas\n"
        "added = {name.split('.')[0] for name in set(sys.modules) - before}\n"
        "foreign = added - set(sys.stdlib_module_names) - {'xlreport'}\n"
        "assert not foreign, foreign\n"
        "heavy = {'openpyxl', 'lxml', 'xlwings', 'pandas'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
