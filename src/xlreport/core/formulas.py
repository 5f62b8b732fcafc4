"""A small, pure-Python evaluator for the Excel formulas of a finance template.

It understands the formulas the interim-report template and its users write in practice:
``SUM(C5:C12)``, ``C5+C6``, ``N(D5)-N(E5)``, ``'Driftredovisning 2020'!C5*2``. Everything else is
reported by raising :class:`NotEvaluated` with a short reason, so that the caller can decide what to
do (ask Excel, skip the check, report "cannot verify"); the evaluator never guesses.

Three entry points:

* :func:`parse` turns formula text (A1 syntax, with or without the leading ``=``) into a tree of
  :class:`Node` objects; results are cached, since the same formula text repeats across a workbook.
* :func:`references` lists the cells and ranges a formula reads, as :class:`Ref` values.
* :func:`evaluate` computes a formula's numeric value, reading cells through a caller-supplied
  ``lookup(sheet, row, col)`` function, called once per cell the computation needs.

Rows and columns are 0-based everywhere in this module (``A1`` is row 0, column 0).

The module uses the standard library only and does no I/O.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable, Iterator

from ..records import FrozenInstanceError
from .cells import col_index

__all__ = [
    "Area",
    "Binary",
    "Boolean",
    "Call",
    "Cell",
    "ErrorLiteral",
    "Lookup",
    "Missing",
    "Node",
    "NotEvaluated",
    "Number",
    "Percent",
    "Ref",
    "Text",
    "Unary",
    "evaluate",
    "parse",
    "references",
]

MAX_ROWS = 1_048_576
MAX_COLS = 16_384

Lookup = Callable[[str, int, int], object]
"""``lookup(sheet, row, col)`` -> the cell's value: int/float, str, bool, or None when empty."""


class NotEvaluated(Exception):
    """The formula (or a value it reads) is outside what this evaluator supports.

    ``reason`` is a short English explanation, or the Excel error value (``"#DIV/0!"``,
    ``"#N/A"``, ...) when evaluation in Excel would itself produce that error.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Value:
    """An immutable value with its fields in ``__slots__``: what ``@dataclass(frozen=True,
    slots=True)`` gives (positional or keyword ``__init__``, ``==`` and ``hash`` by type and
    fields, a dataclass-like ``repr``, no assignment), without building each class at import
    (twelve such dataclasses cost about 8 ms of every command's start-up). Unlike a
    :class:`~xlreport.records.Record` it keeps its fields in ``__slots__``: a parsed tree is cached
    for every formula text of a workbook.
    """

    __slots__ = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, got {len(args)}")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated argument {key!r}")
            values[key] = value
        if len(values) != len(names):
            missing = [n for n in names if n not in values]
            raise TypeError(f"{type(self).__name__}() missing arguments: {', '.join(missing)}")
        for key in names:
            object.__setattr__(self, key, values[key])

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__qualname__}({inner})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Ref(_Value):
    """A rectangle of cells on one sheet: 0-based, inclusive bounds.

    A single cell has ``top == bottom`` and ``left == right``. ``sheet`` is the sheet name as the
    formula spells it (quotes removed, doubled apostrophes undone), or the formula's own sheet.
    """

    __slots__ = ("sheet", "top", "left", "bottom", "right")  # noqa: RUF023 - in field order

    sheet: str
    top: int
    left: int
    bottom: int
    right: int


# ---------------------------------------------------------------------------------------------
# Syntax tree


class Node:
    """Base class of the syntax tree that :func:`parse` returns. Nodes are immutable."""

    __slots__ = ()

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        """The node's scalar value: float, bool, str (cell text) or None (empty cell)."""
        raise NotImplementedError

    def _children(self) -> tuple[Node, ...]:
        """The direct sub-nodes, for walking the tree."""
        return ()


class Number(Node, _Value):
    """A numeric literal such as ``12``, ``1.5``, ``1E3`` or ``.5``."""

    __slots__ = ("value",)

    value: float

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        return self.value


class Boolean(Node, _Value):
    """The literal ``TRUE`` or ``FALSE``."""

    __slots__ = ("value",)

    value: bool

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        return self.value


class Text(Node, _Value):
    """A string literal such as ``"a"`` (parsed so that :func:`references` works; never evaluated)."""

    __slots__ = ("value",)

    value: str

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        raise NotEvaluated("text literal")


class ErrorLiteral(Node, _Value):
    """An error literal such as ``#REF!`` or ``#N/A`` written in the formula."""

    __slots__ = ("code",)

    code: str

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        raise NotEvaluated(self.code)


class Missing(Node, _Value):
    """An omitted function argument, as in ``SUM(A1,)``."""

    __slots__ = ()

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        raise NotEvaluated("missing argument")


class Cell(Node, _Value):
    """A single-cell reference. ``sheet`` is None for the formula's own sheet."""

    __slots__ = ("sheet", "row", "col")  # noqa: RUF023 - in field order

    sheet: str | None
    row: int
    col: int

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        return _cell_value(lookup(self.sheet or sheet, self.row, self.col))


class Area(Node, _Value):
    """A rectangular range reference such as ``C5:C12``. ``sheet`` is None for the own sheet."""

    __slots__ = ("sheet", "top", "left", "bottom", "right")  # noqa: RUF023 - in field order

    sheet: str | None
    top: int
    left: int
    bottom: int
    right: int

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        raise NotEvaluated("range used as a single value")


class Unary(Node, _Value):
    """Prefix ``-`` or ``+``."""

    __slots__ = ("op", "operand")

    op: str
    operand: Node

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        value = _number(self.operand._eval(sheet, lookup))
        return -value if self.op == "-" else value

    def _children(self) -> tuple[Node, ...]:
        return (self.operand,)


class Percent(Node, _Value):
    """Postfix ``%``: the operand divided by 100."""

    __slots__ = ("operand",)

    operand: Node

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        return _number(self.operand._eval(sheet, lookup)) / 100.0

    def _children(self) -> tuple[Node, ...]:
        return (self.operand,)


class Binary(Node, _Value):
    """An infix operator: ``+ - * / ^`` are evaluated; ``& = <> < <= > >=`` are parsed only."""

    __slots__ = ("op", "left", "right")  # noqa: RUF023 - in field order

    op: str
    left: Node
    right: Node

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        # A long chain such as A1+A2+...+A2000 is a left-deep tree: fold it in a loop, not by
        # recursion, so that its length is not limited by Python's recursion limit.
        spine: list[Binary] = []
        node: Node = self
        while type(node) is Binary:
            if node.op not in _ARITHMETIC:  # type: ignore[attr-defined]
                raise NotEvaluated(f"operator {node.op}")  # type: ignore[attr-defined]
            spine.append(node)  # type: ignore[arg-type]
            node = node.left  # type: ignore[attr-defined]
        a = _number(node._eval(sheet, lookup))
        for binary in reversed(spine):
            op = binary.op
            b = _number(binary.right._eval(sheet, lookup))
            if op == "+":
                a = a + b
            elif op == "-":
                a = a - b
            elif op == "*":
                a = a * b
            elif op == "/":
                if b == 0.0:
                    raise NotEvaluated("#DIV/0!")
                a = a / b
            else:
                a = _power(a, b)
        return a

    def _children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Call(Node, _Value):
    """A function call. ``name`` is upper-case; only SUM and N are evaluated."""

    __slots__ = ("name", "args")  # noqa: RUF023 - in field order

    name: str
    args: tuple[Node, ...]

    def _eval(self, sheet: str, lookup: Lookup) -> object:
        function = _FUNCTIONS.get(self.name)
        if function is None:
            raise NotEvaluated(f"function {self.name}")
        return function(self.args, sheet, lookup)

    def _children(self) -> tuple[Node, ...]:
        return self.args


_ARITHMETIC = frozenset("+-*/^")


# ---------------------------------------------------------------------------------------------
# Values

# Excel's error values. A referenced cell holding one of these strings is taken to hold the error.
_ERROR_VALUES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!",
    "#PYTHON!",
})


def _cell_value(value: object) -> object:
    """A looked-up value normalised to float, bool, str or None; error values raise."""
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise NotEvaluated("cell value is not a finite number")
        return value
    if value is None or kind is bool:
        return value
    if kind is str:
        if value in _ERROR_VALUES:
            raise NotEvaluated(value)  # type: ignore[arg-type]
        return value
    if kind is int:
        return _finite(value)  # type: ignore[arg-type]
    return _cell_value_slow(value)


def _cell_value_slow(value: object) -> object:
    """:func:`_cell_value` for subclasses (numpy scalars, str subclasses, ...)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Real):
        return _finite(value)
    if isinstance(value, str):
        return _cell_value(str(value))
    raise NotEvaluated(f"unsupported cell value of type {type(value).__name__}")


def _finite(value: numbers.Real) -> float:
    try:
        result = float(value)
    except OverflowError:
        raise NotEvaluated("cell value is not a finite number") from None
    if not math.isfinite(result):
        raise NotEvaluated("cell value is not a finite number")
    return result


def _number(value: object) -> float:
    """An operand of arithmetic: empty -> 0, bool -> 1/0, text -> NotEvaluated."""
    if type(value) is float:
        return value  # type: ignore[return-value]
    if value is None:
        return 0.0
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    raise NotEvaluated("text")


def _power(base: float, exponent: float) -> float:
    """``base ^ exponent`` with Excel's errors."""
    if base == 0.0:
        if exponent == 0.0:
            raise NotEvaluated("#NUM!")
        if exponent < 0.0:
            raise NotEvaluated("#DIV/0!")
        return 0.0
    if base < 0.0 and not exponent.is_integer():
        raise NotEvaluated("#NUM!")
    try:
        return base**exponent
    except OverflowError:
        raise NotEvaluated("#NUM!") from None


# ---------------------------------------------------------------------------------------------
# Functions


def _sum(args: tuple[Node, ...], sheet: str, lookup: Lookup) -> float:
    """SUM: numbers add up; text, booleans and empty cells read through a reference are ignored."""
    if not args:
        raise NotEvaluated("SUM without arguments")
    total = 0.0
    isfinite = math.isfinite
    for arg in args:
        kind = type(arg)
        if kind is Area or kind is Cell:
            if kind is Cell:
                top = bottom = arg.row  # type: ignore[attr-defined]
                left = right = arg.col  # type: ignore[attr-defined]
            else:
                top, left, bottom, right = arg.top, arg.left, arg.bottom, arg.right  # type: ignore[attr-defined]
            name = arg.sheet or sheet  # type: ignore[attr-defined]
            columns = range(left, right + 1)
            for row in range(top, bottom + 1):
                for col in columns:
                    value = lookup(name, row, col)
                    vtype = type(value)
                    if vtype is float:
                        if not isfinite(value):  # type: ignore[arg-type]
                            raise NotEvaluated("cell value is not a finite number")
                        total += value  # type: ignore[operator]
                    elif vtype is int:
                        total += _finite(value)  # type: ignore[arg-type]
                    elif value is None or vtype is bool:
                        continue
                    elif vtype is str:
                        if value in _ERROR_VALUES:
                            raise NotEvaluated(value)  # type: ignore[arg-type]
                    else:
                        value = _cell_value_slow(value)
                        if type(value) is float:
                            total += value  # type: ignore[operator]
        elif kind is Missing:
            continue  # SUM(A1,) counts the omitted argument as 0
        else:
            total += _number(arg._eval(sheet, lookup))  # literal TRUE counts as 1, text raises
    return total


def _n(args: tuple[Node, ...], sheet: str, lookup: Lookup) -> float:
    """N: number -> itself, TRUE/FALSE -> 1/0, text and empty -> 0; errors propagate."""
    if len(args) != 1:
        raise NotEvaluated("N takes exactly one argument")
    arg = args[0]
    kind = type(arg)
    if kind is Text:
        return 0.0  # N("abc") is 0 in Excel
    if kind is Area:
        if arg.top != arg.bottom or arg.left != arg.right:  # type: ignore[attr-defined]
            raise NotEvaluated("N of a multi-cell range")
        value = _cell_value(lookup(arg.sheet or sheet, arg.top, arg.left))  # type: ignore[attr-defined]
    else:
        value = arg._eval(sheet, lookup)
    if type(value) is float:
        return value  # type: ignore[return-value]
    if value is True:
        return 1.0
    return 0.0  # FALSE, text, empty


_FUNCTIONS: dict[str, Callable[[tuple[Node, ...], str, Lookup], float]] = {"SUM": _sum, "N": _n}

# Functions that compute references from values: references() cannot tell which cells they read.
_DYNAMIC_REFERENCE_FUNCTIONS = frozenset({"OFFSET", "INDIRECT"})


# ---------------------------------------------------------------------------------------------
# Tokenizer

_SHEET = r"(?:'(?P<{q}>(?:[^']|'')+)'|(?P<{u}>[^\W\d][\w.]*))!"
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<op><>|<=|>=|[-+*/^%&=<>(),:])"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    # a cell, optionally sheet-qualified; not followed by a name character or "(" (LOG10( is a function)
    r"|(?:" + _SHEET.format(q="cq", u="cu") + r")?"
    r"\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[0-9]+)(?![\w.(\[!])"
    r"|(?P<name>[^\W\d][\w.]*)(?![\w.!])"
    r"|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?:" + _SHEET.format(q="eq", u="eu") + r")?(?P<err>#(?:[Nn]/[Aa]|[A-Za-z0-9/_]+[!?]))"
    r"|(?P<sheetonly>" + _SHEET.format(q="sq", u="su") + r")"
)

_UNSUPPORTED_CHARACTERS = {
    "[": "external workbook, structured or R1C1 reference",
    "{": "array constant",
    "@": "implicit intersection operator",
    "#": "spilled-range reference or unknown error literal",
    ";": "';' as separator (formulas in files use ',')",
    "!": "reference syntax",
    "$": "whole-row or whole-column reference",
    "'": "unterminated sheet name",
    '"': "unterminated string",
}

# token kinds
_NUM, _CELL, _ERR, _STR, _NAME, _OP, _END = "num", "cell", "err", "str", "name", "op", "end"

_Token = tuple[str, object, int]  # (kind, value, position)


def _sheet_name(quoted: str | None, unquoted: str | None) -> str | None:
    if quoted is not None:
        if ":" in quoted:
            raise NotEvaluated("3-D reference")
        if "[" in quoted or "]" in quoted:
            raise NotEvaluated("external workbook reference")
        return quoted.replace("''", "'")
    return unquoted


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    append = tokens.append
    pos, end = 0, len(text)
    match = _TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            ch = text[pos]
            reason = _UNSUPPORTED_CHARACTERS.get(ch, f"unexpected character {ch!r}")
            raise NotEvaluated(f"{reason} at position {pos}")
        kind = m.lastgroup
        if kind == "op":
            append((_OP, m.group("op"), pos))
        elif kind == "row":  # the cell alternative ends with the row group
            row = int(m.group("row")) - 1
            col = col_index(m.group("col"))
            if not (0 <= row < MAX_ROWS and col < MAX_COLS):  # XFE1, A0, A1048577 are names in Excel
                raise NotEvaluated(f"defined name {m.group(0)!r}")
            quoted, unquoted = m.group("cq", "cu")
            sheet = unquoted if quoted is None else _sheet_name(quoted, None)
            append((_CELL, (sheet, row, col), pos))
        elif kind == "num":
            value = float(m.group("num"))
            if not math.isfinite(value):
                raise NotEvaluated("#NUM!")
            append((_NUM, value, pos))
        elif kind == "name":
            append((_NAME, m.group("name"), pos))
        elif kind == "str":
            append((_STR, m.group("str")[1:-1].replace('""', '"'), pos))
        elif kind == "err":
            append((_ERR, m.group("err").upper(), pos))
        elif kind == "sheetonly":
            raise NotEvaluated(f"unsupported reference after {m.group(0)!r} (whole row/column or name)")
        pos = m.end()  # "ws" adds no token
    append((_END, None, end))
    return tokens


# ---------------------------------------------------------------------------------------------
# Parser: precedence climbing. Binding strength, loosest first, as in Excel:
#   comparison (= <> < <= > >=), &, + -, * /, ^, postfix %, prefix - +, then ":" (range).
# All binary operators are left-associative (Excel: 2^3^2 = 64).

_BINARY_PRECEDENCE = {
    "=": 1, "<>": 1, "<": 1, "<=": 1, ">": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
}


class _Parser:
    __slots__ = ("index", "tokens")

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def fail(self, what: str) -> NotEvaluated:
        kind, value, pos = self.tokens[self.index]
        if kind == _END:
            return NotEvaluated(f"{what}: formula ends early")
        if kind == _CELL or kind == _NAME:
            return NotEvaluated(f"{what} reference or name at position {pos} (intersection is not supported)")
        return NotEvaluated(f"{what} {value!r} at position {pos}")

    def parse(self) -> Node:
        if self.tokens[0][0] == _END:
            raise NotEvaluated("empty formula")
        node = self.expression(0)
        if self.tokens[self.index][0] != _END:
            raise self.fail("unexpected")
        return node

    def expression(self, min_precedence: int) -> Node:
        """Operand, then binary operators binding at least ``min_precedence``, and postfix %."""
        node = self.operand()
        tokens = self.tokens
        while True:
            kind, op, _ = tokens[self.index]
            if kind != _OP:
                return node
            if op == "%":
                self.index += 1
                node = Percent(node)
                continue
            precedence = _BINARY_PRECEDENCE.get(op)  # type: ignore[call-overload]
            if precedence is None or precedence < min_precedence:
                return node
            self.index += 1
            node = Binary(op, node, self.expression(precedence + 1))  # type: ignore[arg-type]

    def operand(self) -> Node:
        """Prefix - and + (binding tighter than every binary operator), then a primary."""
        kind, value, pos = self.tokens[self.index]
        self.index += 1
        if kind == _OP:
            if value == "-" or value == "+":
                return Unary(value, self.operand())  # type: ignore[arg-type]
            if value == "(":
                node = self.expression(0)
                kind, value, _ = self.tokens[self.index]
                if value != ")" or kind != _OP:
                    if value == "," and kind == _OP:
                        raise NotEvaluated("union of references")
                    raise self.fail("expected ')', got")
                self.index += 1
                return node
        elif kind == _CELL:
            return self.reference(value)  # type: ignore[arg-type]
        elif kind == _NUM:
            return Number(value)  # type: ignore[arg-type]
        elif kind == _NAME:
            return self.name(value, pos)  # type: ignore[arg-type]
        elif kind == _STR:
            return Text(value)  # type: ignore[arg-type]
        elif kind == _ERR:
            return ErrorLiteral(value)  # type: ignore[arg-type]
        self.index -= 1
        raise self.fail("unexpected")

    def is_op(self, op: str) -> bool:
        kind, value, _ = self.tokens[self.index]
        return kind == _OP and value == op

    def reference(self, start: tuple[str | None, int, int]) -> Node:
        sheet, row, col = start
        if not self.is_op(":"):
            return Cell(sheet, row, col)
        self.index += 1
        kind, value, _ = self.tokens[self.index]
        if kind != _CELL:
            raise self.fail("unsupported range end")
        self.index += 1
        sheet2, row2, col2 = value  # type: ignore[misc]
        if sheet2 is not None and sheet2 != sheet:
            raise NotEvaluated("range spanning two sheet prefixes")
        if self.is_op(":"):
            raise NotEvaluated("chained range operator")
        return Area(sheet, min(row, row2), min(col, col2), max(row, row2), max(col, col2))

    def name(self, name: str, pos: int) -> Node:
        if self.is_op("("):
            self.index += 1
            return Call(name.upper(), self.arguments())
        upper = name.upper()
        if upper == "TRUE" or upper == "FALSE":
            return Boolean(upper == "TRUE")
        if self.is_op(":"):
            raise NotEvaluated(f"whole-column, 3-D or name range at position {pos}")
        raise NotEvaluated(f"defined name {name!r}")

    def arguments(self) -> tuple[Node, ...]:
        if self.is_op(")"):
            self.index += 1
            return ()
        args: list[Node] = []
        while True:
            if self.is_op(",") or self.is_op(")"):
                args.append(Missing())
            else:
                args.append(self.expression(0))
            if self.is_op(")"):
                self.index += 1
                return tuple(args)
            if not self.is_op(","):
                raise self.fail("expected ',' or ')', got")
            self.index += 1


# ---------------------------------------------------------------------------------------------
# Public API


@functools.lru_cache(maxsize=8192)
def _parse_cached(formula: str) -> Node | NotEvaluated:
    text = formula.strip()
    text = text.removeprefix("=")
    try:
        return _Parser(_tokenize(text)).parse()
    except NotEvaluated as exc:
        return exc  # cached too; parse() raises a fresh exception each time
    except RecursionError:
        return NotEvaluated("formula nested too deeply")


def parse(formula: str) -> Node:
    """Parse Excel A1 formula text (a leading ``=`` is optional) into a :class:`Node` tree.

    Accepted: numbers, ``TRUE``/``FALSE``, cell and range references (optionally
    sheet-qualified, quoted or not, ``$`` ignored, any letter case), ``+ - * / ^``, prefix
    ``- +``, postfix ``%``, parentheses, and function calls of any name. String literals, error
    literals, ``&`` and comparisons are parsed too (so :func:`references` works on such formulas)
    but :func:`evaluate` rejects them.

    Raises :class:`NotEvaluated` for syntax outside that: defined names, whole-row/column
    references, 3-D references, external workbook references, structured (table) references,
    R1C1 references, array constants, unions and intersections, and malformed formulas.
    Results, including failures, are cached per formula text.
    """
    result = _parse_cached(formula)
    if isinstance(result, NotEvaluated):
        raise NotEvaluated(result.reason)
    return result


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current._children()))


@functools.lru_cache(maxsize=8192)
def _references_cached(formula: str) -> tuple[tuple[str | None, int, int, int, int], ...] | NotEvaluated:
    try:
        tree = parse(formula)
    except NotEvaluated as exc:
        return exc
    found: dict[tuple[str | None, int, int, int, int], None] = {}
    for node in _walk(tree):
        kind = type(node)
        if kind is Cell:
            found[(node.sheet, node.row, node.col, node.row, node.col)] = None  # type: ignore[attr-defined]
        elif kind is Area:
            found[(node.sheet, node.top, node.left, node.bottom, node.right)] = None  # type: ignore[attr-defined]
        elif kind is Call and node.name in _DYNAMIC_REFERENCE_FUNCTIONS:  # type: ignore[attr-defined]
            return NotEvaluated(f"function {node.name} computes its references")  # type: ignore[attr-defined]
        elif kind is ErrorLiteral and node.code == "#REF!":  # type: ignore[attr-defined]
            return NotEvaluated("#REF!")
    return tuple(found)


def references(formula: str, sheet: str) -> list[Ref]:
    """The cells and ranges ``formula`` (written on ``sheet``) reads, in order of first appearance.

    Each distinct reference appears once. A reference without a sheet prefix gets ``sheet``;
    one with a prefix gets the name as written (quotes removed, ``''`` undone, case kept).
    A range is normalised so that ``top <= bottom`` and ``left <= right``.

    Raises :class:`NotEvaluated` when the formula does not parse (see :func:`parse`), contains a
    ``#REF!`` literal (a reference was lost), or calls OFFSET or INDIRECT (references computed at
    run time). Unknown functions are otherwise fine: their reference arguments are listed.
    """
    return list(_refs_on(formula, sheet))


@functools.lru_cache(maxsize=8192)
def _refs_on(formula: str, sheet: str) -> tuple[Ref, ...]:
    """:func:`references` as a tuple of (immutable) refs, cached like the parse: the template's Summa
    formulas are the same text in every workbook, and building the refs cost more than finding them."""
    result = _references_cached(formula)
    if isinstance(result, NotEvaluated):
        raise NotEvaluated(result.reason)
    return tuple(Ref(name or sheet, top, left, bottom, right) for name, top, left, bottom, right in result)


def evaluate(formula: str, sheet: str, lookup: Lookup) -> float:
    """The numeric value of ``formula`` written on ``sheet``, as Excel would compute it.

    ``lookup(sheet, row, col)`` (0-based row and column) returns a cell's value as the caller
    knows it: int/float, str (text, or an Excel error value such as ``"#N/A"``), bool, or None
    for an empty cell. It is called once for each cell the computation reads, when it reads it;
    exceptions it raises propagate unchanged.

    Semantics follow Excel: in ``SUM`` text, booleans and empty cells read through a reference
    (range or single cell) are ignored, while literal numbers and nested expressions count; ``N``
    maps numbers to themselves, TRUE/FALSE to 1/0, text and empty to 0; in arithmetic an empty
    cell is 0 and a boolean 1/0.

    Raises :class:`NotEvaluated` for anything else: syntax :func:`parse` rejects, functions other
    than SUM and N, text in arithmetic (``reason`` ``"text"``; Excel would try to convert numeric
    text, this evaluator does not), string and error literals, comparisons and ``&``, a range used
    as a single value, a boolean or text result, and Excel errors (``#DIV/0!``, ``#NUM!`` and error
    values read from cells), with the error as ``reason``.
    """
    tree = parse(formula)
    try:
        value = tree._eval(sheet, lookup)
    except RecursionError:
        raise NotEvaluated("formula nested too deeply") from None
    if type(value) is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise NotEvaluated("#NUM!")
        return value  # type: ignore[return-value]
    if value is None:
        return 0.0  # =A1 with A1 empty shows 0
    if type(value) is bool:
        raise NotEvaluated("boolean result")
    raise NotEvaluated("text")
