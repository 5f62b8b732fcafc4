"""The SIE 4 reader: syntax, character sets, vouchers, balances and every way a file can be bad.

Also the builders the import tests and benchmarks/sie.py share: :func:`sie_file` writes SIE text
as an accounting system exports it (PC8, CRLF), :func:`ledger` turns a table of amounts into the
records of each SIE type, and :func:`namnd_workbook` stamps the template for a nämnd with units.
Every file is written here, by the test; no vendor sample is copied.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from support import REPO
from xlreport.sie.checks import SieError
from xlreport.sie.parser import read_sie, tokenize

TEMPLATE = REPO / "workbooks" / "mall.xlsx"
HEAD = ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4", '#PROGRAM "Testbok" 2.1', "#GEN 20200405 AB",
        '#FNAMN "Exempel kommun"', "#ORGNR 212000-0000", "#RAR 0 20200101 20201231", "#RAR -1 20190101 20191231"]


def sie_file(path: Path, lines: list[str], *, encoding: str = "cp437", bom: bool = False,
             newline: str = "\r\n") -> Path:
    """Write ``lines`` as a SIE file (PC8 and CRLF, as Windows programs export it, by default)."""
    data = newline.join(lines).encode(encoding) + newline.encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


Amounts = dict[tuple[int, str, str | None, int], str]  # (year index, account, object, month) -> "123.45"


def ledger(amounts: Amounts, *, kind: str = "psaldo", dim: str = "1", year: int = 2020,
           budget: Amounts | None = None) -> list[str]:
    """The records of ``amounts`` (kronor as SIE writes them, SIE's sign; object None = no object):

    * ``psaldo``: #PSALDO per object and the account total ``{}`` per month (SIE type 3);
    * ``totals``: #PSALDO ``{}`` only (type 2);
    * ``vouchers``: one #VER per (year, month, object) with a #TRANS per account, balanced on 1930;
    * ``res``: #RES per year and account (type 1).

    ``budget`` the same for #PBUDGET (per object and total).
    """
    out: list[str] = []

    def balances(label: str, table: Amounts, totals_only: bool = False) -> None:
        sums: dict[tuple[int, str, int], Decimal] = {}
        for (y, account, obj, month), amount in sorted(table.items(), key=str):
            if obj is not None and not totals_only:
                out.append(f'{label} {y} {year + y}{month:02d} {account} {{{dim} "{obj}"}} {amount}')
            sums[(y, account, month)] = sums.get((y, account, month), Decimal(0)) + Decimal(amount)
        for (y, account, month), total in sorted(sums.items()):
            out.append(f"{label} {y} {year + y}{month:02d} {account} {{}} {total:.2f}")

    if kind in ("psaldo", "totals"):
        balances("#PSALDO", amounts, totals_only=kind == "totals")
    elif kind == "res":
        sums: dict[tuple[int, str], Decimal] = {}
        for (y, account, _obj, _month), amount in amounts.items():
            sums[(y, account)] = sums.get((y, account), Decimal(0)) + Decimal(amount)
        out += [f"#RES {y} {account} {total:.2f}" for (y, account), total in sorted(sums.items())]
    elif kind == "vouchers":
        groups: dict[tuple[int, int, str | None], list[tuple[str, str]]] = {}
        for (y, account, obj, month), amount in sorted(amounts.items(), key=str):
            groups.setdefault((y, month, obj), []).append((account, amount))
        for n, ((y, month, obj), lines) in enumerate(sorted(groups.items(), key=str), 1):
            objects = f'{dim} "{obj}"' if obj is not None else ""
            out += [f'#VER A {n} {year + y}{month:02d}15 "Bokföring {n}"', "{"]
            out += [f"   #TRANS {account} {{{objects}}} {amount}" for account, amount in lines]
            total = sum(Decimal(a) for _, a in lines)
            out += [f"   #TRANS 1930 {{}} {-total:.2f}", "}"]
    if budget:
        balances("#PBUDGET", budget)
    return out


def namnd_workbook(path: Path, units: list[str], period: str = "2020-03", template: Path = TEMPLATE) -> Path:
    """The template stamped for a nämnd (Kommunstyrelsen) whose list Enheter holds ``units``."""
    from xlreport.core import layout as L
    from xlreport.core.changes import CellWrite, ChangeSet
    from xlreport.departments import new
    from xlreport.departments.common import find_label, unit_list
    from xlreport.doors.file import read_grids
    from xlreport.ooxml.apply import apply_changes

    new("Kommunstyrelsen", period, template, path, kommun="Exempel kommun", namnd="Kommunstyrelsen",
        rapport="Delårsrapport 1", force=True)
    _names, grids = read_grids(path, [L.SHEET_META, L.SHEET_UNITS])
    (r, c), _listed = unit_list(grids[L.SHEET_META])
    writes = [CellWrite(L.SHEET_META, r + 1 + i, c, u) for i, u in enumerate(units)]
    ur, uc = find_label(grids[L.SHEET_UNITS], L.HEAD_UNITS)
    writes.append(CellWrite(L.SHEET_UNITS, ur + 1, uc, None))  # the row `new` gave the nämnd itself
    apply_changes(path, ChangeSet(writes=writes), out=path)
    return path


def _read(tmp_path: Path, lines: list[str], **kw):
    return read_sie(sie_file(tmp_path / "bok.se", lines, **kw))


def _fails(tmp_path: Path, lines: list[str], **kw) -> SieError:
    with pytest.raises(SieError) as err:
        _read(tmp_path, lines, **kw)
    return err.value


# --- syntax -------------------------------------------------------------------------------

def test_tokens_quotes_escapes_tabs_and_object_lists():
    tokens, close = tokenize('#TRANS\t4010  {1 "100" 6 "P 1"} -12.50 "" "Text med \\"citat\\" och \\\\"')
    assert tokens[:2] == ["#TRANS", "4010"]
    assert tuple(tokens[2]) == ("1", "100", "6", "P 1")
    assert tokens[3:] == ["-12.50", "", 'Text med "citat" och \\']
    assert close == len('#TRANS\t4010  {1 "100" 6 "P 1"')
    assert tokenize("#KONTO 3010 Försäljning")[0] == ["#KONTO", "3010", "Försäljning"]
    empty, _ = tokenize("#PSALDO 0 202001 3010 {} 5")
    assert tuple(empty[4]) == ()


@pytest.mark.parametrize("line, why", [
    ('#KONTO 3010 "Försäljning', "citattecken"),
    ("#PSALDO 0 202001 3010 {1 \"100\" 5", "objektlistan avslutas inte"),
    ("#PSALDO 0 202001 3010 {1 {2}} 5", "inuti en annan"),
])
def test_a_broken_line_is_an_error_with_its_line_number(tmp_path, line, why):
    err = _fails(tmp_path, [*HEAD, '#KONTO 1930 "Bank"', line])
    (f,) = err.findings
    assert f.line == len(HEAD) + 2 and why in f.message and f.rule == "sie-fil"
    assert f"rad {len(HEAD) + 2}" in str(err)


def test_identification_chart_and_balances(tmp_path):
    sie = _read(tmp_path, [*HEAD, '#DIM 1 "Ansvar"', '#UNDERDIM 11 "Avdelning" 1', '#OBJEKT 1 "100" "Ledning"',
                           '#KONTO 3010 "Försäljning"', "#KTYP 3010 I", "#IB 0 1930 1000.00", "#UB 0 1930 1500.50",
                           "#RES 0 3010 -500.50", "#RES -1 3010 -400", '#PSALDO 0 202001 3010 {1 "100"} -100.25 3',
                           "#PSALDO 0 202001 3010 {} -100.25", '#PBUDGET 0 202001 3010 {"1" "100"} -90',
                           "#OKAND 1 2 3", "#SRU 3010 7410"])
    assert (sie.flagga, sie.format, sie.sietyp, sie.fnamn, sie.orgnr) == ("0", "PC8", "4", "Exempel kommun",
                                                                          "212000-0000")
    assert sie.program_text() == "Testbok 2.1" and sie.generated() == "2020-04-05 AB"
    assert sie.years[0].start.isoformat() == "2020-01-01" and sie.years[-1].end.isoformat() == "2019-12-31"
    assert sie.years[0].line == 8 and sie.years[0].months()[-1] == "202012"
    assert sie.dims == {"1": "Ansvar", "11": "Avdelning"} and sie.objects == {("1", "100"): "Ledning"}
    assert sie.accounts == {"3010": "Försäljning"} and sie.account_types == {"3010": "I"}
    assert sie.ib == {(0, "1930"): Decimal("1000.00")} and sie.ub == {(0, "1930"): Decimal("1500.50")}
    assert sie.res == {(0, "3010"): Decimal("-500.50"), (-1, "3010"): Decimal(-400)}
    assert sie.psaldo == {(0, "202001", "3010", (("1", "100"),)): Decimal("-100.25"),
                          (0, "202001", "3010", ()): Decimal("-100.25")}
    assert sie.pbudget == {(0, "202001", "3010", (("1", "100"),)): Decimal(-90)}
    assert sie.encoding == "cp437" and sie.lines == len(HEAD) + 14 and len(sie.sha256) == 64


# --- vouchers -----------------------------------------------------------------------------

VOUCHERS = [*HEAD, '#OBJEKT 1 "100" "Ledning"',
            '#VER A 1 20200115 "Faktura" 20200116 "Anna"', "{",
            '   #TRANS 4010 {1 "100" 6 "P1"} 1000.00 20200115 "Material" 1 "Anna"',
            '   #TRANS 4010 {6 "P1" 1 "100"} 250.50',
            "   #TRANS 2440 {} -1250.50",
            "}",
            '#VER "B" "2" 20200220 "Lön"', "{",
            "\t#TRANS 5010 {1 100} 30000.00",
            '\t#RTRANS 5010 {1 "100"} 500.00', '\t#TRANS 5010 {1 "100"} 500.00',
            '\t#BTRANS 5010 {1 "100"} 999.00',
            "\t#TRANS\t1930\t{}\t-30500",
            "}",
            "#VER A 3 20200225", "{", '   #TRANS 4010 {1 "100" 6 "P1"} 99.5', '   #TRANS 2440 {} "-99.50"', "}",
            "#VER A 4 20190310", "{", "#TRANS 4010 {} 7.00", "#TRANS 2440 {} -7.00", "}"]


def test_vouchers_are_summed_per_month_account_and_object_list(tmp_path):
    sie = _read(tmp_path, VOUCHERS)
    led = (("1", "100"), ("6", "P1"))  # object lists are sorted by dimension
    assert sie.trans == {
        ("202001", "4010", led): Decimal("1250.50"), ("202001", "2440", ()): Decimal("-1250.50"),
        ("202002", "5010", (("1", "100"),)): Decimal("30500.00"), ("202002", "1930", ()): Decimal(-30500),
        ("202002", "4010", led): Decimal("99.50"), ("202002", "2440", ()): Decimal("-99.50"),
        ("201903", "4010", ()): Decimal("7.00"), ("201903", "2440", ()): Decimal("-7.00"),
    }
    assert (sie.vouchers, sie.transactions) == (4, 10)  # #RTRANS and #BTRANS are not transactions
    assert sie.account_lines["4010"] == len(HEAD) + 4


def test_the_fast_path_agrees_with_the_full_parse(tmp_path):
    """Many lines of the same accounts (the fast path) give what each line read in full gives."""
    lines = [*HEAD]
    for n in range(1, 301):
        amount = f"{n * 7 % 1000}.{n % 100:02d}"
        lines += [f"#VER A {n} 2020{n % 12 + 1:02d}{n % 27 + 1:02d} \"V\"", "{",
                  f'   #TRANS 4010 {{1 "{n % 3}"}} {amount} 20200101 "t"', f'   #TRANS 4010 {{1 "{n % 3}"}} -{amount}',
                  f"   #TRANS 3010 {{}} -{n}.00", f"   #TRANS 1930 {{}} {n}", "}"]
    sie = _read(tmp_path, lines)
    expect: dict = {}
    for n in range(1, 301):
        month = f"2020{n % 12 + 1:02d}"
        for key, v in (((month, "4010", (("1", str(n % 3)),)), Decimal(0)), ((month, "3010", ()), Decimal(-n)),
                       ((month, "1930", ()), Decimal(n))):
            expect[key] = expect.get(key, Decimal(0)) + v
    assert sie.trans == expect and sie.transactions == 1200


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_reading_in_parts_gives_the_same_file(tmp_path, workers):
    """A large file is read in parts at #VER lines; the result, line numbers included, is the same."""
    lines = [*HEAD, '#KONTO 4010 "Köp"']
    for n in range(1, 2001):
        lines += [f"#VER A {n} 2020{n % 12 + 1:02d}01", "{", f'   #TRANS 4010 {{1 "{n % 5}"}} {n}.25',
                  f"   #TRANS 2440 {{}} -{n}.25", "}"]
    lines.append(f"#PSALDO 0 202001 4010 {{}} {sum(n + 0.25 for n in range(12, 2001, 12)):.2f}")
    one = _read(tmp_path, lines)
    path = tmp_path / "bok.se"
    many = read_sie(path, workers=workers)
    for attr in ("trans", "psaldo", "accounts", "years", "account_lines", "object_lines", "vouchers", "transactions",
                 "lines", "sha256", "size"):
        assert getattr(many, attr) == getattr(one, attr), attr
    bad = [*lines[:-1]]
    bad[len(HEAD) + 1 + 5 * 1500 + 2] = '   #TRANS 4010 {1 "0"} 1.00'  # voucher 1501 no longer balances
    sie_file(path, bad)
    with pytest.raises(SieError) as err:
        read_sie(path, workers=workers)
    assert [f.line for f in err.value.findings] == [len(HEAD) + 2 + 5 * 1500]


@pytest.mark.parametrize("lines, rule, line, words", [
    ([*HEAD, "#VER A 1 20200115", "{", "#TRANS 4010 {} 100.00", "#TRANS 2440 {} -99.00", "}"],
     "sie-verifikation", 10, "summerar till 1,00 kr"),
    ([*HEAD, "#VER A 1 20200115", "{", "#TRANS 4010 {} 100.00", "#TRANS 2440 {} -100.00"],
     "sie-avkortad", 13, "börjar på rad 10"),
    ([*HEAD, "#VER A 1 20200115", "{", "#TRANS 4010 {} 100.00", "#VER A 2 20200116", "{", "}"],
     "sie-avkortad", 10, "avslutas inte"),
    ([*HEAD, "#TRANS 4010 {} 100.00"], "sie-fil", 10, "utanför en verifikation"),
    ([*HEAD, "#VER A 1 20200115", "#TRANS 4010 {} 100.00"], "sie-fil", 10, "följs inte av"),
    ([*HEAD, "#VER A 1 20201315", "{", "}"], "sie-fil", 10, "inget datum"),
    ([*HEAD, "#PSALDO 0 202001 3010 {} 12,50"], "sie-fil", 10, "med punkt"),
    ([*HEAD, "#PSALDO 0 202013 3010 {} 12.50"], "sie-fil", 10, "ingen månad"),
    ([*HEAD, "#PSALDO 0 20200² 3010 {} 12.50"], "sie-fil", 10, "ingen månad"),  # "²": str.isdigit, not int()
    ([*HEAD, "#PSALDO 0 202001 3010 {} 1", "#PSALDO 0 202001 3010 {} 2"], "sie-dubblett", 11, "rad 10"),
    ([*HEAD, "#RES 0 3010 1", "#RES 0 3010 2"], "sie-dubblett", 11, "rad 10"),
    (["#KSUMMA", *HEAD, '#KONTO 3010 "x"'], "sie-avkortad", 11, "KSUMMA"),
    (["Konto;Belopp", "3010;12"], "sie-fil", 1, "ingen SIE-fil"),
    (["", "   "], "sie-fil", 1, "ingen SIE-fil"),
    (["# en kommentar", "#"], "sie-fil", None, "inga SIE-poster"),
])
def test_bad_files(tmp_path, lines, rule, line, words):
    err = _fails(tmp_path, lines)
    first = err.findings[0]
    assert (first.rule, first.line) == (rule, line) and words in first.message, first.message


def _voucher(serie: str, number: str, date: str = "20200115") -> list[str]:
    return [f"#VER {serie} {number} {date}", "{", "   #TRANS 4010 {} 10.00", "   #TRANS 2440 {} -10.00", "}"]


@pytest.mark.parametrize("second", ["A 1 20200115", '"A" "1" 20200220', "A 1 20201231"])
def test_the_same_voucher_twice_is_an_error(tmp_path, second):
    """A voucher (series and number) twice in the same fiscal year would be counted twice: an
    error naming both #VER lines, found by the fast path (a known date) and the full parse alike."""
    serie, number, date = second.split()
    lines = [*HEAD, *_voucher("A", "1"), *_voucher("A", "2"), *_voucher(serie, number, date)]
    err = _fails(tmp_path, lines)
    assert [(f.rule, f.line) for f in err.findings] == [("sie-dubblett", len(HEAD) + 11)]
    assert f"Verifikation A 1 finns redan på rad {len(HEAD) + 1} (samma serie och nummer, båda daterade 2020)" in err.findings[0].message


def test_vouchers_that_are_not_the_same(tmp_path):
    """Another series, another fiscal year (#RAR -1) or no number at all: not repeats."""
    lines = [*HEAD, *_voucher("A", "1"), *_voucher("B", "1"), *_voucher("A", "1", "20190115"),
             *_voucher("A", '""'), *_voucher("A", '""'), *_voucher("A", "10")]
    sie = _read(tmp_path, lines)
    assert sie.vouchers == 6 and sie.trans[("202001", "4010", ())] == Decimal("50.00")
    assert sie.trans[("201901", "4010", ())] == Decimal("10.00")


@pytest.mark.parametrize("workers", [1, 3])
def test_the_same_voucher_in_two_parts_is_found(tmp_path, workers):
    lines = [*HEAD]
    for n in range(1, 601):
        lines += _voucher("A", str(n if n != 550 else 7), f"2020{n % 12 + 1:02d}01")
    path = sie_file(tmp_path / "bok.se", lines)
    with pytest.raises(SieError) as err:
        read_sie(path, workers=workers)
    assert [(f.rule, f.line) for f in err.value.findings] == [("sie-dubblett", len(HEAD) + 1 + 5 * 549)]
    assert f"finns redan på rad {len(HEAD) + 1 + 5 * 6}" in err.value.findings[0].message


def test_the_sum_of_a_voucher_checks_every_line_even_the_fast_ones(tmp_path):
    lines = [*HEAD]
    for n in range(1, 50):
        lines += [f"#VER A {n} 20200115", "{", "   #TRANS 4010 {} 10.00", "   #TRANS 2440 {} -10.00", "}"]
    lines += ["#VER A 50 20200115", "{", "   #TRANS 4010 {} 10.00", "   #TRANS 2440 {} -10.01", "}"]
    err = _fails(tmp_path, lines)
    assert [(f.rule, f.line) for f in err.findings] == [("sie-verifikation", len(lines) - 4)]
    assert "A 50" in err.findings[0].message


def test_an_empty_or_missing_file(tmp_path):
    (tmp_path / "tom.se").write_bytes(b"")
    with pytest.raises(SieError, match="tom"):
        read_sie(tmp_path / "tom.se")
    with pytest.raises(SieError, match="kunde inte läsas"):
        read_sie(tmp_path / "finns-inte.se")
    with pytest.raises(SieError, match="zip-fil"):
        read_sie(TEMPLATE)


# --- character sets -----------------------------------------------------------------------

NAMES = [*HEAD, '#OBJEKT 1 "20" "Förskola Ängen"', '#OBJEKT 1 "30" "Äldreomsorg Östra"', '#KONTO 5010 "Löner"']


@pytest.mark.parametrize("encoding, bom", [("cp437", False), ("utf-8", False), ("utf-8", True)])
def test_swedish_letters_in_pc8_and_utf8(tmp_path, encoding, bom):
    sie = _read(tmp_path, NAMES, encoding=encoding, bom=bom)
    assert sie.objects == {("1", "20"): "Förskola Ängen", ("1", "30"): "Äldreomsorg Östra"}
    assert sie.accounts["5010"] == "Löner" and sie.encoding == encoding and sie.bom == bom


def test_pc8_bytes_are_the_spec_s(tmp_path):
    """å ä ö Å Ä Ö in PC8 are 0x86 0x84 0x94 0x8F 0x8E 0x99."""
    path = tmp_path / "bok.se"
    path.write_bytes(b"#FLAGGA 0\r\n#SIETYP 3\r\n#KONTO 5010 \"L\x94ner \x86\x84\x8f\x8e\x99\"\r\n")
    assert read_sie(path).accounts == {"5010": "Löner åäÅÄÖ"}


def test_windows_1252_is_refused_with_its_line(tmp_path):
    err = _fails(tmp_path, NAMES, encoding="cp1252")
    (f,) = err.findings
    assert f.rule == "sie-teckenkod" and f.line == len(HEAD) + 1 and "Windows-1252" in f.message
    assert "Förskola Ängen" in f.message  # how the line reads in Windows-1252


def test_a_replacement_character_is_refused(tmp_path):
    err = _fails(tmp_path, [*NAMES, '#KONTO 6010 "Lokalhyra V\ufffdster"'], encoding="utf-8")
    (f,) = err.findings
    assert f.rule == "sie-teckenkod" and f.line == len(NAMES) + 1 and "ersättningstecknet" in f.message


def test_utf16_and_a_false_bom_are_refused(tmp_path):
    path = tmp_path / "bok.se"
    path.write_bytes("\n".join(NAMES).encode("utf-16"))
    with pytest.raises(SieError, match="UTF-16"):
        read_sie(path)
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(NAMES).encode("cp437"))
    with pytest.raises(SieError, match="BOM"):
        read_sie(path)


# --- what the reader may import, and what may import it ------------------------------------

def _modules_after(code: str) -> list[str]:
    import subprocess
    import sys

    probe = (f"import sys\nsys.path.insert(0, {str(REPO / 'tests')!r})\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & "
             "{'openpyxl', 'xlwings', 'lxml', 'python_calamine', 'pandas'}), "
             "sorted(m for m in sys.modules if m.startswith('xlreport.sie')))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return run.stdout.strip()


def test_the_reader_loads_no_spreadsheet_library(tmp_path):
    path = sie_file(tmp_path / "bok.se", [*HEAD, "#PSALDO 0 202001 3010 {} -1.00"])
    libraries, _sie = _modules_after(f"from xlreport.sie.parser import read_sie; read_sie({str(path)!r})").split("] ")
    assert libraries == "["


def test_the_engine_loads_no_sie_code():
    out = _modules_after("from support.memory import example_grids\n"
                         "from xlreport.core import engine\n"
                         "names, grids = example_grids(); engine.run(grids, names)")
    assert out.endswith("[]"), out


def test_voucher_headers_the_fast_path_must_not_take(tmp_path):
    """A #VER whose series is quoted with a space, or has too few fields, is read in full."""
    lines = [*HEAD, '#VER A 1 20200115', "{", "#TRANS 4010 {} 1.00", "#TRANS 2440 {} -1.00", "}",
             '#VER "A B" 20200115 20200301 "text"', "{", "#TRANS 4010 {} 2.00", "#TRANS 2440 {} -2.00", "}",
             '#VER "" "" 20200116', "{", "#TRANS 4010 {} 3.00", "#TRANS 2440 {} -3.00", "}"]
    sie = _read(tmp_path, lines)
    assert sie.trans[("202001", "4010", ())] == Decimal("4.00") and sie.trans[("202003", "4010", ())] == Decimal("2.00")
    assert sie.vouchers == 3
    err = _fails(tmp_path, [*HEAD, "#VER", "{", "}"])
    assert err.findings[0].rule == "sie-fil" and err.findings[0].line == len(HEAD) + 1
