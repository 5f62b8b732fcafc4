"""A streaming reader of SIE 4 files, types 1–4 (spec "SIE filformat utgåva 4B").

:func:`read_sie` reads the file once, in chunks of whole lines, and keeps only what the report
needs: the identification records (#FLAGGA, #FORMAT, #SIETYP, #PROGRAM, #GEN, #FNAMN, #ORGNR,
#RAR), the chart (#KONTO, #KTYP, #DIM, #UNDERDIM, #OBJEKT), the balances (#IB, #UB, #RES,
#PSALDO, #PBUDGET with their object lists) and the vouchers (#VER with its #TRANS block) summed
per month, account and object list. Unknown records are ignored, as the spec says; #RTRANS is
followed by an identical #TRANS (so only #TRANS counts) and #BTRANS is a removed line.

Syntax: a record is a line starting with ``#LABEL``; fields are separated by spaces or tabs,
may be quoted (``"Kontor Östra"``), and a backslash escapes the next character (``\\"``). An
object list is ``{dim "obj" dim "obj"}``; ``{}`` is the account's total. Amounts use a point
(``-1234.50``) and are kept exact: vouchers in whole öre (int), balances as Decimal kronor.

Character set: PC8 (CP437) as the spec requires; UTF-8 (with or without a byte-order mark) is
detected and accepted. A file in Windows-1252, a replacement character (�) in a UTF-8 file, a
truncated file and a voucher whose lines do not sum to zero are each an error with the line.

Speed: the file is read in chunks of whole lines, as bytes. A #TRANS line whose start (label,
account, object list) has been seen before, a #VER line of the usual shape and the braces are
handled by a few bytes operations (the "fast path"); every other line is decoded as Latin-1 (one
character a byte) and tokenized in full, and its text is decoded with the detected character
set at the end. A file over :data:`PARALLEL_MIN` bytes is read in parts, split at #VER lines,
by worker processes (Linux), and the parts are combined exactly. No spreadsheet library is
imported here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mmap
import os
import re
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from ..core.chars import ascii_digits
from ..core.errors import os_error_sv
from ..records import Record, field
from .checks import (
    SIE_AVKORTAD,
    SIE_DUBBLETT,
    SIE_FIL,
    SIE_TECKEN,
    SIE_VERIFIKATION,
    SieError,
    SieFinding,
)

CHUNK = 1 << 20  # bytes read at a time (then up to the end of the line)
PARALLEL_MIN = 24 << 20  # files from this size are read in parts, one per processor
PART_MIN = 12 << 20  # no part smaller than this
MAX_LINE = 1 << 20  # a longer line is not a SIE record
MAX_PROBLEMS = 25  # reading stops after this many errors

Objects = tuple[tuple[str, str], ...]  # ((dimension, object), ...), sorted; () = the account total

_TOKENS = re.compile(r'(?P<sep>[ \t]+)|"(?P<q>(?:[^"\\]|\\.)*)(?P<end>"?)|(?P<brace>[{}])'
                     r'|(?P<bare>(?:[^ \t"{}\\]|\\.|\\$)+)')
_ESCAPE = re.compile(r"\\(.?)")  # a lone backslash at the end of a line is dropped
_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_INT = re.compile(r"[+-]?\d{1,4}\Z")
# å ä ö Å Ä Ö é in Windows-1252: Greek letters and box drawing in PC8, never in Swedish names
_ANSI = b"\xc4\xc5\xd6\xe4\xe5\xe9\xf6"
_NOT_ANSI = bytes(b for b in range(256) if b not in _ANSI)
_REPLACEMENT = "\xef\xbf\xbd"  # U+FFFD in UTF-8, as Latin-1 text
_HUNDRED = Decimal(100)


class ObjectList(tuple):
    """The raw fields of one ``{...}`` in a record."""


class _Syntax(Exception):
    """A line that cannot be tokenized (the message says why)."""


def tokenize(line: str) -> tuple[list[str | ObjectList], int]:
    """The fields of one line (object lists as :class:`ObjectList`), and the index of the
    first object list's closing brace (-1 when there is none)."""
    out: list[str | ObjectList] = []
    inner: list[str] | None = None
    close = -1
    for m in _TOKENS.finditer(line):
        if m.group("sep") is not None:
            continue
        brace = m.group("brace")
        if brace == "{":
            if inner is not None:
                raise _Syntax("en objektlista får inte stå inuti en annan ('{' två gånger)")
            inner = []
            continue
        if brace == "}":
            if inner is None:
                raise _Syntax("'}' utan '{' före")
            out.append(ObjectList(inner))
            inner = None
            if close < 0:
                close = m.start()
            continue
        if m.group("q") is not None:
            if not m.group("end"):
                raise _Syntax("ett citattecken (\") avslutas inte på raden")
            text = m.group("q")
        else:
            text = m.group("bare")
        if "\\" in text:
            text = _ESCAPE.sub(r"\1", text)
        (out if inner is None else inner).append(text)
    if inner is not None:
        raise _Syntax("objektlistan avslutas inte med '}'")
    return out, close


class Year(Record, frozen=True):
    """One #RAR record: the fiscal year ``index`` (0 this year, -1 last year) and its dates."""

    index: int
    start: dt.date
    end: dt.date
    line: int

    def months(self) -> list[str]:
        """The periods of the year, "YYYYMM", from its first month to its last."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y}{m:02d}")
            y, m = (y, m + 1) if m < 12 else (y + 1, 1)
        return out


class SieFile(Record):
    """What :func:`read_sie` keeps of a SIE file. Amounts are in kronor, SIE's sign (debit
    positive, credit negative)."""

    path: Path
    size: int = 0
    sha256: str = ""
    encoding: str = "cp437"  # "cp437" or "utf-8"
    bom: bool = False
    lines: int = 0
    flagga: str | None = None
    format: str | None = None
    sietyp: str | None = None
    program: tuple[str, ...] = ()
    gen: tuple[str, ...] = ()
    fnamn: str | None = None
    orgnr: str | None = None
    years: dict[int, Year] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # number -> name (#KONTO)
    account_types: dict[str, str] = field(default_factory=dict)  # number -> T, S, K, I (#KTYP)
    dims: dict[str, str] = field(default_factory=dict)  # dimension -> name (#DIM, #UNDERDIM)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)  # (dimension, object) -> name
    ib: dict[tuple[int, str], Decimal] = field(default_factory=dict)  # (year, account)
    ub: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    res: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    psaldo: dict[tuple[int, str, str, Objects], Decimal] = field(default_factory=dict)  # (year, "YYYYMM", ...)
    pbudget: dict[tuple[int, str, str, Objects], Decimal] = field(default_factory=dict)
    trans: dict[tuple[str, str, Objects], Decimal] = field(default_factory=dict)  # ("YYYYMM" of #VER, ...)
    vouchers: int = 0
    transactions: int = 0
    #: the first line of a record with an amount, per account and per (account, objects)
    account_lines: dict[str, int] = field(default_factory=dict)
    object_lines: dict[tuple[str, Objects], int] = field(default_factory=dict)

    @property
    def encoding_sv(self) -> str:
        return "UTF-8" + (" med BOM" if self.bom else "") if self.encoding == "utf-8" else "PC8 (CP437)"

    def program_text(self) -> str:
        return " ".join(self.program)

    def generated(self) -> str:
        """#GEN as "2020-04-02" (and its signature), or ""."""
        if not self.gen:
            return ""
        d = self.gen[0]
        date = f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and ascii_digits(d) else d
        return " ".join([date, *self.gen[1:]])


def read_sie(path: str | Path, *, workers: int | None = None) -> SieFile:
    """Read the SIE file at ``path``; raises :class:`SieError` (every problem, with its line).

    A large file is read in ``workers`` parts at once (default: one per processor, for files
    over :data:`PARALLEL_MIN` bytes), each starting at a #VER line; the parts are combined
    exactly as one reading would have found them.
    """
    return start_reading(path, workers=workers).result()


class Reading:
    """A SIE file being read: :func:`start_reading` starts it, :meth:`result` waits for it.

    With more than one part, every part is read by a worker process and the file's SHA-256 is
    computed in a thread, so the caller is free to do other work (import the workbook code)
    in the meantime; with one part, :meth:`result` reads the file.
    """

    def __init__(self, path: Path, ranges: list[tuple[int, int, int]]):
        self.path, self.ranges = path, ranges
        self.pool = self.futures = self.hasher = None
        self.digest: list[str] = []
        if len(ranges) > 1:
            import multiprocessing
            import threading
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
            try:
                self.pool = ProcessPoolExecutor(len(ranges), mp_context=ctx)
                self.futures = [self.pool.submit(_read_part, path, *r) for r in ranges]
            except (OSError, RuntimeError):  # no worker processes here (limits, a sandbox): read it in one go
                self.close()
                self.ranges = [(0, ranges[-1][1], 1)]
                return
            self.hasher = threading.Thread(target=self._hash, daemon=True)  # hashlib lets go of the GIL
            self.hasher.start()

    def _hash(self) -> None:
        with open(self.path, "rb") as f:
            self.digest.append(hashlib.file_digest(f, "sha256").hexdigest())

    def result(self) -> SieFile:
        try:
            if self.pool is None:
                sha = hashlib.sha256()
                parts = [_Reader(self.path, *self.ranges[0]).read_part(sha)]
                self.digest.append(sha.hexdigest())
            else:
                parts = []
                for r, future in zip(self.ranges, self.futures):
                    try:
                        parts.append(future.result())
                    except OSError:
                        raise
                    except Exception:  # noqa: BLE001 - a worker that died: read its part here instead
                        parts.append(_read_part(self.path, *r))
                self.hasher.join()
                if not self.digest:  # the thread could not read the file
                    self._hash()
        except OSError as exc:
            raise _unreadable(self.path, exc) from exc
        finally:
            self.close()
        return _combine(self.path, parts, self.digest[0])

    def close(self) -> None:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            pool.shutdown(wait=True, cancel_futures=True)


def start_reading(path: str | Path, *, workers: int | None = None) -> Reading:
    """Start reading the SIE file at ``path`` (see :class:`Reading`); raises :class:`SieError`
    when the file cannot be opened."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IsADirectoryError(21, "är en mapp", str(path))
        return Reading(path, _ranges(path, size, _worker_count(size) if workers is None else workers))
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: OSError) -> SieError:
    message = f"Filen kunde inte läsas ({os_error_sv(exc)})."
    return SieError(message, file=path, findings=[SieFinding(SIE_FIL, message)])


def _pairs(objs: ObjectList) -> Objects:
    if len(objs) % 2:
        raise _Syntax(f"objektlistan {{{' '.join(objs)}}} ska bestå av par: dimension och objekt")
    return tuple(sorted(zip(objs[::2], objs[1::2])))


def _amount(text: object, what: str = "beloppet") -> Decimal:
    if not isinstance(text, str) or not _AMOUNT.match(text):
        hint = " SIE skriver belopp med punkt, t.ex. -1234.50." if isinstance(text, str) and "," in text else ""
        raise _Syntax(f"{what} '{text}' är inget tal.{hint}" if isinstance(text, str) else f"{what} saknas")
    return Decimal(text)


def _ore(amount: Decimal) -> int | Decimal:
    """Kronor -> öre, an int when whole (always, for amounts with at most two decimals)."""
    v = amount * _HUNDRED
    return int(v) if v == v.to_integral_value() else v


def _date(text: object) -> dt.date:
    if isinstance(text, str) and len(text) == 8 and ascii_digits(text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    raise _Syntax(f"datumet '{text}' är inget datum (SIE skriver ÅÅÅÅMMDD, t.ex. 20200131)")


def _year(text: object) -> int:
    if isinstance(text, str) and _INT.match(text):
        return int(text)
    raise _Syntax(f"årsnumret '{text}' är inget heltal (0 är i år, -1 förra året)")


def _period(text: object) -> str:
    if isinstance(text, str) and len(text) == 6 and ascii_digits(text) and 1 <= int(text[4:]) <= 12:
        return text
    raise _Syntax(f"perioden '{text}' är ingen månad (SIE skriver ÅÅÅÅMM, t.ex. 202003)")


def _field(tokens: list, i: int, what: str) -> str:
    v = tokens[i] if i < len(tokens) else None
    if not isinstance(v, str):
        raise _Syntax(f"{what} saknas" if v is None else f"{what} ska vara ett fält, inte en objektlista")
    return v


def _simple(token: str) -> bool:
    """A whitespace-split token that is one whole field (bare, or quoted without spaces)."""
    return token[0] != '"' or (token[-1] == '"' and len(token) > 1)


def _whole(token: bytes) -> bool:
    """:func:`_simple` for the fast path's bytes (34 is the quote)."""
    return token[0] != 34 or (token[-1] == 34 and len(token) > 1)


class _Part(Record):
    """What one reader found in its part of the file (line numbers are the file's)."""

    out: SieFile
    problems: list[SieFinding]
    first_line: int
    lines: int
    open_voucher: int  # line of a #VER whose block the part ends inside (0: none)
    pending: int  # line of a #VER whose '{' did not come
    balance_lines: dict[tuple, int]
    #: every numbered voucher's first line by series, number and year of its date (b"A\\n12\\n2020"), and the
    #: later ones (key, line)
    voucher_ids: dict[bytes, int]
    voucher_again: list[tuple[bytes, int]]
    records: int
    ksumma_open: bool
    ksumma_close: bool
    non_ascii: bool
    utf8_ok: bool
    ansi_at: tuple[int, str] | None
    replacement_at: tuple[int, str] | None


class _Reader:
    def __init__(self, path: Path, start: int = 0, end: int | None = None, first_line: int = 1):
        self.path = path
        self.start_at, self.end_at, self.first_line = start, end, first_line
        self.out = SieFile(path=path)
        self.problems: list[SieFinding] = []
        # fast path: a #TRANS line's start -> id of its (account, objects)
        self.heads: dict[bytes, int] = {}
        self.hid_of: dict[tuple[str, Objects], int] = {}
        self.head_info: list[tuple[str, Objects]] = []
        self.dates: dict[bytes, defaultdict] = {}  # #VER date field -> that month's sums {hid: öre}
        self.months: dict[str, defaultdict] = {}  # "YYYYMM" -> {hid: öre}
        self.balance_lines: dict[tuple, int] = {}
        # series, number and year of each numbered voucher (b"A\\n12\\n2020") -> its line; the repeats
        self.voucher_ids: dict[bytes, int] = {}
        self.voucher_again: list[tuple[bytes, int]] = []
        # voucher state (shared with the fast loop)
        self.bal: int | Decimal | None = None  # the open voucher's sum; None outside a block
        self.pending = 0  # line of a #VER whose '{' has not come yet
        self.vline = 0  # line of the open voucher's #VER
        self.vtext = ""
        self.pagg: dict | None = None
        self.ksumma_open = False
        self.ksumma_close = False
        self.records = 0
        # character set
        self.non_ascii = False
        self.utf8_ok = True
        self.ansi_at: tuple[int, str] | None = None
        self.replacement_at: tuple[int, str] | None = None

    # --- problems -----------------------------------------------------------------------------
    def problem(self, spec, line: int | None, message: str) -> None:
        self.problems.append(SieFinding(spec, message[:1].upper() + message[1:], line))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    # --- reading ------------------------------------------------------------------------------
    def read_part(self, sha=None) -> _Part:
        """Read bytes ``start_at``..``end_at`` (whole lines); ``sha`` is updated with them."""
        line = self.first_line
        end = self.end_at
        first = self.start_at == 0
        try:
            with open(self.path, "rb") as f:
                f.seek(self.start_at)
                pos = self.start_at
                while end is None or pos < end:
                    raw = f.read(CHUNK if end is None else min(CHUNK, end - pos))
                    if not raw:
                        break
                    if raw[-1:] != b"\n" and (end is None or pos + len(raw) < end):
                        limit = MAX_LINE if end is None else min(MAX_LINE, end - pos - len(raw))
                        rest = f.readline(limit)
                        raw += rest
                        if len(rest) >= MAX_LINE and rest[-1:] != b"\n":
                            self.problem(SIE_FIL, line + raw.count(b"\n"),
                                         "raden är längre än 1 MB: filen är ingen SIE-fil.")
                    pos += len(raw)
                    if sha is not None:
                        sha.update(raw)
                    self.out.size += len(raw)
                    if first:
                        raw = self.start(raw)
                        first = False
                    lines = _lines(self.decode(raw, line))
                    self.scan(lines, line)
                    line += len(lines)
        except _Stop:
            pass
        if self.bal is None:
            self.vline = 0
        self.collect()
        return _Part(self.out, self.problems, self.first_line, line - self.first_line, self.vline, self.pending,
                     self.balance_lines, self.voucher_ids, self.voucher_again, self.records,
                     self.ksumma_open, self.ksumma_close, self.non_ascii, self.utf8_ok, self.ansi_at, self.replacement_at)

    def collect(self) -> None:
        """The vouchers' sums by (month, account, objects), in kronor."""
        info = self.head_info
        trans = self.out.trans
        for month, sums in self.months.items():
            for hid, ore in sums.items():
                account, objects = info[hid]
                trans[(month, account, objects)] = Decimal(ore).scaleb(-2)

    def start(self, raw: bytes) -> bytes:
        """The first chunk: a byte-order mark, and whether this is a text file of records at all."""
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.problem(SIE_TECKEN, 1, "filen är skriven i UTF-16 (\"Unicode\"). SIE-filer ska vara i PC8 "
                                        "(CP437) eller UTF-8; exportera filen igen.")
            raise _Stop
        if raw.startswith(b"\xef\xbb\xbf"):
            self.out.bom = True
            raw = raw[3:]
        head = raw.lstrip()
        if b"\x00" in raw[:4096] or not head.startswith((b"#", b"{")):
            what = "en zip-fil (en Excel-arbetsbok?)" if head.startswith(b"PK") else "ingen SIE-fil"
            self.problem(SIE_FIL, 1, f"filen är {what}: en SIE-fil är text där varje rad börjar med en post "
                                     f"som #FLAGGA, #SIETYP eller #KONTO.")
            raise _Stop
        return raw

    def decode(self, raw: bytes, line: int) -> bytes:
        """Note what the chunk tells of the character set (the lines stay bytes: the fast path
        works on bytes; a line the slow path reads is decoded as Latin-1, one character a byte)."""
        if not raw.isascii():
            text = raw.decode("latin-1")
            self.non_ascii = True
            if self.utf8_ok:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.utf8_ok = False
            if self.utf8_ok:  # only a UTF-8 file can carry the replacement character
                if self.replacement_at is None and (i := text.find(_REPLACEMENT)) >= 0:
                    self.replacement_at = _line_at(text, i, line)
            elif self.ansi_at is None and (found := raw.translate(None, _NOT_ANSI)):
                i = min(raw.find(b) for b in set(found))
                self.ansi_at = _line_at(text, i, line)
        return raw

    # --- the lines ----------------------------------------------------------------------------
    def scan(self, lines: list[bytes], first: int) -> None:
        """Every line of a chunk. The fast path handles the known shapes; anything else (and any
        line the fast path doubts) goes to :meth:`slow`, which knows the whole syntax."""
        hget = self.heads.get
        dget = self.dates.get
        ids, again = self.voucher_ids, self.voucher_again
        bal, pending, vline, vtext, pagg = self.bal, self.pending, self.vline, self.vtext, self.pagg
        ntrans = nother = nver = 0  # a line's number is first + ntrans + nother
        for line in lines:
            head, _sep, tail = line.partition(b"} ")
            hid = hget(head)
            if hid is not None:
                amt = tail.partition(b" ")[0]
                try:
                    if amt[-3] == 46:  # "." at the öre: b"-1234.50" -> -123450
                        a = int(amt.replace(b".", b"", 1))
                        bal += a  # TypeError outside a voucher: the slow path says so
                        pagg[hid] += a
                        ntrans += 1
                        continue
                except (IndexError, TypeError, ValueError):
                    pass
            else:
                s = line.strip()
                if not s:
                    nother += 1
                    continue
                c = s[0]
                if c == 123:  # {
                    if s == b"{" and pending and bal is None:
                        bal, vline, pending = 0, pending, 0
                        nother += 1
                        continue
                elif c == 125:  # }
                    if s == b"}" and bal is not None:
                        if bal:
                            self.unbalanced(vline, vtext, bal)
                        bal = None
                        nother += 1
                        continue
                elif c == 35 and s.startswith(b"#VER") and bal is None and not pending and b"\\" not in s:
                    parts = s.split(None, 4)
                    # serie and number each one field: bare, or quoted (34) without a space inside
                    if len(parts) > 3 and _whole(parts[1]) and _whole(parts[2]):
                        month = dget(parts[3])
                        if month is not None:
                            pagg, pending, vtext = month, first + ntrans + nother, s
                            serie, number, day = parts[1], parts[2], parts[3]
                            if number[0] == 34 or serie[0] == 34 or day[0] == 34:  # quoted: the text
                                serie, number, day = serie.strip(b'"'), number.strip(b'"'), day.strip(b'"')
                            if number:  # a voucher without a number is numbered by the receiver
                                vid = b"%b\n%b\n%b" % (serie, number, day[:4])  # no line holds a line break
                                if ids.setdefault(vid, pending) != pending:  # one look-up: a line is unique
                                    again.append((vid, pending))
                            nver += 1
                            nother += 1
                            continue
            self.bal, self.pending, self.vline, self.vtext, self.pagg = bal, pending, vline, vtext, pagg
            self.slow(line, first + ntrans + nother)
            nother += 1
            bal, pending, vline, vtext, pagg = self.bal, self.pending, self.vline, self.vtext, self.pagg
        self.bal, self.pending, self.vline, self.vtext, self.pagg = bal, pending, vline, vtext, pagg
        self.out.transactions += ntrans
        self.out.vouchers += nver

    def slow(self, raw: bytes, n: int) -> None:
        line = raw.decode("latin-1")
        s = line.strip()
        if not s:
            return
        if s == "{":
            if self.pending and self.bal is None:
                self.bal, self.vline, self.pending = 0, self.pending, 0
            else:
                self.problem(SIE_FIL, n, "'{' utan #VER före: en verifikations rader ska stå mellan '{' och '}' "
                                         "direkt efter #VER-raden.")
            return
        if s == "}":
            if self.bal is None:
                self.problem(SIE_FIL, n, "'}' utan '{' före.")
            else:
                if self.bal:
                    self.unbalanced(self.vline, self.vtext, self.bal)
                self.bal = None
            return
        if not s.startswith("#"):
            return  # not a record: ignored, as unknown records are
        try:
            tokens, close = tokenize(s)
        except _Syntax as exc:
            self.problem(SIE_FIL, n, f"{s.split(None, 1)[0]}: {exc}.")
            return
        label = str(tokens[0]).upper()
        handler = _HANDLERS.get(label)
        if self.pending:
            self.problem(SIE_FIL, self.pending, "#VER följs inte av '{': en verifikation ska ha sina #TRANS-rader "
                                                "mellan '{' och '}' direkt efter #VER-raden.")
            self.pending = 0
        if handler is None:
            return  # an unknown record: ignored (the spec)
        self.records += 1
        try:
            handler(self, tokens, n, s, close, line)
        except _Syntax as exc:
            self.problem(SIE_FIL, n, f"{label}: {exc}.")

    def unbalanced(self, vline: int, vtext: str | bytes, bal) -> None:
        try:
            tokens, _ = tokenize(vtext.decode("latin-1") if isinstance(vtext, bytes) else vtext)
            name = " ".join(str(t) for t in tokens[1:3] if isinstance(t, str) and t)
        except _Syntax:
            name = ""
        diff = Decimal(bal).scaleb(-2)
        self.problem(SIE_VERIFIKATION, vline, f"verifikation {name or '(utan nummer)'} balanserar inte: dess "
                                              f"#TRANS-rader summerar till {_kr(diff)} kr, inte 0. Filen är "
                                              f"felaktig eller ofullständig; exportera den igen.")

    # --- records --------------------------------------------------------------------------------
    def _ver(self, tokens, n, s, close, line) -> None:
        if self.bal is not None:
            self.problem(SIE_AVKORTAD, self.vline, "verifikationen avslutas inte med '}' före nästa #VER "
                                                   f"(rad {n}).")
            self.bal = None
        serie = _field(tokens, 1, "serien")
        number = _field(tokens, 2, "verifikationsnumret")
        date_field = _field(tokens, 3, "verifikationsdatumet")
        date = _date(date_field)
        if number:  # a voucher without a number is numbered by the receiver: never a repeat
            vid = f"{serie}\n{number}\n{date_field[:4]}".encode("latin-1")
            if vid in self.voucher_ids:
                self.voucher_again.append((vid, n))
            else:
                self.voucher_ids[vid] = n
        key = f"{date.year}{date.month:02d}"
        month = self.months.get(key)
        if month is None:
            month = self.months[key] = defaultdict(int)
        parts = s.split(None, 4)
        if "\\" not in s and len(parts) > 3 and _simple(parts[1]) and _simple(parts[2]) and \
                parts[3].strip('"') == tokens[3]:
            self.dates[parts[3].encode("latin-1")] = month  # the fast path knows this date field now
        self.pagg, self.pending, self.vtext = month, n, s
        self.out.vouchers += 1

    def _trans(self, tokens, n, s, close, line) -> None:
        if self.bal is None:
            self.problem(SIE_FIL, n, "#TRANS utanför en verifikation: raden ska stå mellan '{' och '}' efter "
                                     "en #VER-rad.")
            return
        account = _field(tokens, 1, "kontot")
        if len(tokens) > 2 and isinstance(tokens[2], ObjectList):
            objects, amount_at = _pairs(tokens[2]), 3
        else:
            objects, amount_at = (), 2  # an old file without the object list
        amount = _amount(tokens[amount_at] if len(tokens) > amount_at else None)
        key = (account, objects)
        hid = self.hid_of.get(key)
        if hid is None:
            hid = self.hid_of[key] = len(self.head_info)
            self.head_info.append(key)
            self.out.account_lines.setdefault(account, n)
            self.out.object_lines.setdefault(key, n)
        a = _ore(amount)
        self.bal += a
        self.pagg[hid] += a
        self.out.transactions += 1
        # The fast path may take the next line with the same start (indentation, label, account,
        # object list) when it splits as this one did: the list closes at the first "} " and
        # the amount is the next field, as it is.
        head, sep, tail = line.partition("} ")
        lead = len(line) - len(line.lstrip())
        if sep and amount_at == 3 and len(head) == lead + close and tail.partition(" ")[0] == tokens[3]:
            self.heads[head.encode("latin-1")] = hid

    def _skip(self, tokens, n, s, close, line) -> None:
        if self.bal is None:
            self.problem(SIE_FIL, n, f"{tokens[0]} utanför en verifikation.")

    def _balance(self, tokens, n, s, close, line, *, store: str) -> None:
        year = _year(_field(tokens, 1, "årsnumret"))
        period = _period(_field(tokens, 2, "perioden"))
        account = _field(tokens, 3, "kontot")
        if len(tokens) > 4 and isinstance(tokens[4], ObjectList):
            objects, amount_at = _pairs(tokens[4]), 5
        else:
            objects, amount_at = (), 4
        amount = _amount(tokens[amount_at] if len(tokens) > amount_at else None, "saldot")
        key = (year, period, account, objects)
        target = getattr(self.out, store)
        bkey = (store, *key)
        if bkey in self.balance_lines:
            self.problem(SIE_DUBBLETT, n, f"{_balance_name(bkey)} finns redan på rad {self.balance_lines[bkey]}.")
            return
        self.balance_lines[bkey] = n
        target[key] = amount
        self.out.account_lines.setdefault(account, n)
        self.out.object_lines.setdefault((account, objects), n)

    def _year_balance(self, tokens, n, s, close, line, *, store: str) -> None:
        year = _year(_field(tokens, 1, "årsnumret"))
        account = _field(tokens, 2, "kontot")
        amount = _amount(tokens[3] if len(tokens) > 3 else None, "saldot")
        target = getattr(self.out, store)
        bkey = (store, year, account)
        if bkey in self.balance_lines:
            self.problem(SIE_DUBBLETT, n, f"{_balance_name(bkey)} finns redan på rad {self.balance_lines[bkey]}.")
            return
        self.balance_lines[bkey] = n
        target[(year, account)] = amount
        if store == "res":
            self.out.account_lines.setdefault(account, n)

    def _rar(self, tokens, n, s, close, line) -> None:
        index = _year(_field(tokens, 1, "årsnumret"))
        start, end = _date(_field(tokens, 2, "startdatumet")), _date(_field(tokens, 3, "slutdatumet"))
        if end < start:
            raise _Syntax(f"räkenskapsåret slutar ({end}) före det börjar ({start})")
        self.out.years[index] = Year(index, start, end, n)

    def _text(self, tokens, n, s, close, line, *, attr: str) -> None:
        setattr(self.out, attr, _field(tokens, 1, "värdet"))

    def _tuple(self, tokens, n, s, close, line, *, attr: str) -> None:
        setattr(self.out, attr, tuple(t for t in tokens[1:] if isinstance(t, str)))

    def _konto(self, tokens, n, s, close, line) -> None:
        self.out.accounts[_field(tokens, 1, "kontot")] = tokens[2] if len(tokens) > 2 and isinstance(tokens[2], str) \
            else ""

    def _ktyp(self, tokens, n, s, close, line) -> None:
        self.out.account_types[_field(tokens, 1, "kontot")] = _field(tokens, 2, "kontotypen").upper()

    def _dim(self, tokens, n, s, close, line) -> None:
        self.out.dims[_field(tokens, 1, "dimensionen")] = tokens[2] if len(tokens) > 2 and isinstance(tokens[2], str) \
            else ""

    def _objekt(self, tokens, n, s, close, line) -> None:
        dim, obj = _field(tokens, 1, "dimensionen"), _field(tokens, 2, "objektet")
        self.out.objects[(dim, obj)] = tokens[3] if len(tokens) > 3 and isinstance(tokens[3], str) else ""

    def _ksumma(self, tokens, n, s, close, line) -> None:
        if len(tokens) > 1:
            self.ksumma_close = True
        else:
            self.ksumma_open = True


class _Stop(Exception):
    """Enough problems: stop reading."""


def _lines(raw: bytes) -> list[bytes]:
    """The lines of a chunk (which ends with its last line's end), LF or CRLF."""
    if b"\r" not in raw:
        lines = raw.split(b"\n")
    elif raw.count(b"\r\n") == raw.count(b"\n"):  # all CRLF, as Windows programs write: no copy
        lines = raw.split(b"\r\n")
    else:
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def _line_at(text: str, index: int, first: int) -> tuple[int, str]:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return first + text.count("\n", 0, index), text[start:end if end >= 0 else len(text)].strip()


def _shown(latin1: str, encoding: str, limit: int = 60) -> str:
    s = latin1.encode("latin-1").decode(encoding, "replace")
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _balance_name(key: tuple) -> str:
    """("psaldo", 0, "202001", "3010", ()) -> "#PSALDO för år 0, period 202001, konto 3010 och objekt {}"."""
    if len(key) == 3:
        store, year, account = key
        return f"#{store.upper()} för år {year} och konto {account}"
    store, year, period, account, objects = key
    obj = " ".join(f'{d} "{o}"' for d, o in objects)
    return f"#{store.upper()} för år {year}, period {period}, konto {account} och objekt {{{obj}}}"


def _kr(amount: Decimal) -> str:
    """1234567.5 -> "1 234 567,50" (kronor, two decimals, a Unicode minus)."""
    text = f"{abs(amount):,.2f}".replace(",", " ").replace(".", ",")
    return ("\u2212" if amount < 0 else "") + text


_HANDLERS = {
    "#VER": _Reader._ver,
    "#TRANS": _Reader._trans,
    "#RTRANS": _Reader._skip,
    "#BTRANS": _Reader._skip,
    "#PSALDO": lambda self, *a: self._balance(*a, store="psaldo"),
    "#PBUDGET": lambda self, *a: self._balance(*a, store="pbudget"),
    "#IB": lambda self, *a: self._year_balance(*a, store="ib"),
    "#UB": lambda self, *a: self._year_balance(*a, store="ub"),
    "#RES": lambda self, *a: self._year_balance(*a, store="res"),
    "#RAR": _Reader._rar,
    "#FLAGGA": lambda self, *a: self._text(*a, attr="flagga"),
    "#FORMAT": lambda self, *a: self._text(*a, attr="format"),
    "#SIETYP": lambda self, *a: self._text(*a, attr="sietyp"),
    "#FNAMN": lambda self, *a: self._text(*a, attr="fnamn"),
    "#ORGNR": lambda self, *a: self._text(*a, attr="orgnr"),
    "#PROGRAM": lambda self, *a: self._tuple(*a, attr="program"),
    "#GEN": lambda self, *a: self._tuple(*a, attr="gen"),
    "#KONTO": _Reader._konto,
    "#KTYP": _Reader._ktyp,
    "#DIM": _Reader._dim,
    "#UNDERDIM": _Reader._dim,
    "#OBJEKT": _Reader._objekt,
    "#KSUMMA": _Reader._ksumma,
}


# --- reading in parts, and combining them -------------------------------------------------------

def _worker_count(size: int) -> int:
    """Parts for a file of ``size`` bytes: one per processor for a large file, on Linux (where a
    worker is a fork of this process; elsewhere a spawned worker would start Python anew, and
    in Excel's Python that is not worth the risk)."""
    if size < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8, size // PART_MIN))


def _ranges(path: Path, size: int, n: int) -> list[tuple[int, int, int | None]]:
    """(start, end, first line) of up to ``n`` parts, each but the first starting at a #VER line
    (outside any voucher block in a valid file; a file without vouchers at any line). The first
    line of a later part is None: its worker counts the lines before it."""
    if n <= 1 or size < 2:
        return [(0, size, 1)]
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        vouchers = mm.find(b"\n#VER") >= 0
        marker = b"\n#VER" if vouchers else b"\n"
        cuts = [0]
        for k in range(1, n):
            i = mm.find(marker, max(size * k // n, cuts[-1]))
            if i < 0 or i + 1 >= size:
                break
            cuts.append(i + 1)
    ends = [*cuts[1:], size]
    return [(a, b, 1 if a == 0 else None) for a, b in zip(cuts, ends)]


def _read_part(path: Path, start: int, end: int, first_line: int | None) -> _Part:
    if first_line is None:  # the lines before this part
        first_line = 1
        with open(path, "rb") as f:
            left = start
            while left > 0:
                block = f.read(min(CHUNK * 8, left))
                if not block:
                    break
                first_line += block.count(b"\n")
                left -= len(block)
    return _Reader(path, start, end, first_line).read_part()


def _combine(path: Path, parts: list[_Part], digest: str) -> SieFile:
    """One :class:`SieFile` from the parts, as reading the file in one go would have made it."""
    out = SieFile(path=path, sha256=digest)
    problems: list[SieFinding] = []
    balance_lines: dict[tuple, int] = {}
    voucher_ids: dict[bytes, int] = {}
    voucher_again: list[tuple[bytes, int]] = []
    for i, part in enumerate(parts):
        o = part.out
        problems += part.problems
        out.size += o.size
        out.lines += part.lines
        out.bom = out.bom or o.bom
        for attr in ("flagga", "format", "sietyp", "fnamn", "orgnr"):
            if getattr(o, attr) is not None:
                setattr(out, attr, getattr(o, attr))
        out.program, out.gen = o.program or out.program, o.gen or out.gen
        for attr in ("years", "accounts", "account_types", "dims", "objects"):
            getattr(out, attr).update(getattr(o, attr))
        for key, line in part.balance_lines.items():
            if key in balance_lines:  # the same balance in two parts
                problems.append(SieFinding(SIE_DUBBLETT, f"{_balance_name(key)} finns redan på rad "
                                                         f"{balance_lines[key]}.", line))
            else:
                balance_lines[key] = line
        for vid, line in part.voucher_ids.items():
            if vid in voucher_ids:  # the same voucher in two parts
                voucher_again.append((vid, line))
            else:
                voucher_ids[vid] = line
        voucher_again += part.voucher_again
        for attr in ("ib", "ub", "res", "psaldo", "pbudget"):
            getattr(out, attr).update(getattr(o, attr))
        for key, amount in o.trans.items():
            out.trans[key] = out.trans.get(key, Decimal(0)) + amount
        out.vouchers += o.vouchers
        out.transactions += o.transactions
        for key, line in o.account_lines.items():
            out.account_lines.setdefault(key, line)
        for key, line in o.object_lines.items():
            out.object_lines.setdefault(key, line)
        if i + 1 < len(parts):  # a part ends where the next #VER starts
            nxt = parts[i + 1].first_line
            if part.open_voucher:
                problems.append(SieFinding(SIE_AVKORTAD, f"Verifikationen avslutas inte med '}}' före nästa #VER "
                                                         f"(rad {nxt}).", part.open_voucher))
            elif part.pending:
                problems.append(SieFinding(SIE_FIL, "#VER följs inte av '{': en verifikation ska ha sina #TRANS-rader "
                                                    "mellan '{' och '}' direkt efter #VER-raden.", part.pending))
    last = parts[-1]
    if out.size == 0:
        raise SieError("Filen är tom.", file=path, findings=[SieFinding(SIE_FIL, "Filen är tom.")])
    if last.open_voucher or last.pending:
        problems.append(SieFinding(SIE_AVKORTAD, f"Filen slutar mitt i verifikationen som börjar på rad "
                                                 f"{last.open_voucher or last.pending}: filen är avkortad (inte hela "
                                                 f"filen kom med). Exportera den igen.", out.lines))
    elif parts[0].ksumma_open and not any(p.ksumma_close for p in parts):
        problems.append(SieFinding(SIE_AVKORTAD, "Filen börjar med #KSUMMA men slutar inte med #KSUMMA och en "
                                                 "kontrollsumma: filen är avkortad. Exportera den igen.", out.lines))
    if not any(p.records for p in parts) and not problems:
        problems.append(SieFinding(SIE_FIL, "Filen har inga SIE-poster (#FLAGGA, #SIETYP, #RAR, #KONTO, ...): den är "
                                            "ingen SIE-fil."))
    non_ascii = any(p.non_ascii for p in parts)
    utf8_ok = all(p.utf8_ok for p in parts)
    problems += _charset(out, non_ascii, utf8_ok, next((p.ansi_at for p in parts if p.ansi_at), None),
                         next((p.replacement_at for p in parts if p.replacement_at), None))
    problems += _repeated_vouchers(out, voucher_ids, voucher_again)  # named in the file's character set
    if problems:
        problems.sort(key=lambda f: (f.line is None, f.line or 0))
        problems = problems[:MAX_PROBLEMS]
        first = problems[0]
        where = f"rad {first.line}: " if first.line is not None else ""
        more = f" (och {len(problems) - 1} fel till)" if len(problems) > 1 else ""
        raise SieError(f"{where}{first.message}{more}", file=path, findings=problems)
    if non_ascii:
        _recode(out)
    return out


def _repeated_vouchers(out: SieFile, first: dict[bytes, int], again: list[tuple[bytes, int]]) -> list[SieFinding]:
    """A voucher number used twice in a series in the same year (of the voucher dates): the same
    voucher read twice (a file appended to itself, a batch sent again) would be counted twice.
    The spec numbers vouchers per series; one without a number (\"\") is numbered by the program
    that reads the file, so it is never a repeat."""
    problems = []
    for vid, line in sorted(again, key=lambda t: t[1]):
        serie, number, year = (_shown(v.decode("latin-1"), out.encoding) for v in vid.split(b"\n", 2))
        problems.append(SieFinding(SIE_DUBBLETT, f"Verifikation {serie} {number} finns redan på rad {first[vid]} "
                                                 f"(samma serie och nummer, båda daterade {year}): en verifikation "
                                                 f"får bara finnas en gång, annars räknas den två gånger. Filen är "
                                                 f"felaktig (kanske två exporter i samma fil); exportera den igen.",
                                   line))
    return problems


def _charset(out: SieFile, non_ascii: bool, utf8_ok: bool, ansi_at, replacement_at) -> list[SieFinding]:
    """Decide the character set (sets ``out.encoding``); the problems with it."""
    if out.bom and not utf8_ok:
        return [SieFinding(SIE_TECKEN, "Filen börjar med UTF-8-märket (BOM) men är inte skriven i UTF-8. Exportera "
                                       "den igen, i PC8 (CP437) som SIE kräver.")]
    out.encoding = "utf-8" if out.bom or (non_ascii and utf8_ok) else "cp437"
    if out.encoding == "utf-8" and replacement_at is not None:
        n, text = replacement_at
        return [SieFinding(SIE_TECKEN, f"Raden innehåller ersättningstecknet � ('{_shown(text, 'utf-8')}'): tecken har "
                                       f"gått förlorade när filen konverterades. Exportera filen igen direkt från "
                                       f"bokföringen.", n)]
    if out.encoding == "cp437" and ansi_at is not None:
        n, text = ansi_at
        return [SieFinding(SIE_TECKEN, f"Filen verkar vara skriven i Windows-1252 (ANSI), inte i PC8 (CP437) som SIE "
                                       f"kräver: raden blir '{_shown(text, 'cp437')}' i PC8 men "
                                       f"'{_shown(text, 'cp1252')}' i Windows-1252. Exportera filen igen i PC8, "
                                       f"eller spara om den med rätt teckenuppsättning.", n)]
    return []


def _recode(out: SieFile) -> None:
    """Decode every kept text with the file's character set (it was read as Latin-1)."""
    enc = out.encoding

    def fix(s: str) -> str:
        return s if s.isascii() else s.encode("latin-1").decode(enc, "replace")

    def objs(o: Objects) -> Objects:
        return tuple((fix(d), fix(x)) for d, x in o)

    for attr in ("flagga", "format", "sietyp", "fnamn", "orgnr"):
        if (v := getattr(out, attr)) is not None:
            setattr(out, attr, fix(v))
    out.program = tuple(map(fix, out.program))
    out.gen = tuple(map(fix, out.gen))
    out.accounts = {fix(k): fix(v) for k, v in out.accounts.items()}
    out.account_types = {fix(k): v for k, v in out.account_types.items()}
    out.dims = {fix(k): fix(v) for k, v in out.dims.items()}
    out.objects = {(fix(d), fix(o)): fix(v) for (d, o), v in out.objects.items()}
    for attr in ("ib", "ub", "res"):
        setattr(out, attr, {(y, fix(a)): v for (y, a), v in getattr(out, attr).items()})
    for attr in ("psaldo", "pbudget"):
        setattr(out, attr, {(y, p, fix(a), objs(o)): v for (y, p, a, o), v in getattr(out, attr).items()})
    out.trans = {(p, fix(a), objs(o)): v for (p, a, o), v in out.trans.items()}
    out.account_lines = {fix(a): n for a, n in out.account_lines.items()}
    out.object_lines = {(fix(a), objs(o)): n for (a, o), n in out.object_lines.items()}
