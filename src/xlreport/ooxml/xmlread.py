"""Reading package XML without lxml: a checked streaming pass, and small read-only trees.

Reading a workbook needs little of its XML: the relationships, ``workbook.xml`` (the sheets, the
calculation mode), ``styles.xml`` (the number formats) and a check that each sheet calamine will
read is well-formed. lxml is what the writer needs, to edit a part and keep every element it does
not know; importing it costs a reading command about a tenth of its time (lxml imports
``inspect`` and ``typing``). The standard library's expat parser does this part, with the same
hardening as :func:`~xlreport.ooxml.package.parse_xml`:

* a DOCTYPE or an entity declaration is refused (no entity is ever expanded, none is fetched);
* elements nest at most :data:`MAX_DEPTH` deep, libxml2's own limit without ``huge_tree``;
* malformed XML is :class:`XMLError`, which the callers turn into a Swedish message.

Trees use Clark names (``{namespace}local``) for tags and attributes, as lxml does, so code that
only reads (``el.tag``, ``el.get``, iteration, ``find``) works on either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import accumulate
from xml.parsers import expat

MAX_DEPTH = 256


class XMLError(ValueError):
    """The XML is malformed, too deeply nested, or declares a DOCTYPE (``doctype`` is then True)."""

    def __init__(self, message: str, *, doctype: bool = False) -> None:
        super().__init__(message)
        self.doctype = doctype


class Element:
    """A read-only element: ``tag``, ``attrib``, ``text`` and its child elements."""

    __slots__ = ("_children", "attrib", "tag", "text")

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text: str | None = None
        self._children: list[Element] = []

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrib.get(name, default)

    def __iter__(self) -> Iterator[Element]:
        return iter(self._children)

    def __len__(self) -> int:
        return len(self._children)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        """This element and every one below it, in document order (``tag``: only those)."""
        stack = [self]
        while stack:
            el = stack.pop()
            if tag is None or el.tag == tag:
                yield el
            stack.extend(reversed(el._children))

    def iterfind(self, path: str) -> Iterator[Element]:
        """The elements at ``path`` below this one: tags separated by ``/`` (no other syntax;
        a ``/`` inside a ``{namespace}`` is part of the tag)."""
        level: Iterable[Element] = [self]
        for step in _steps(path):
            level = [c for el in level for c in el._children if c.tag == step]
        return iter(level)

    def findall(self, path: str) -> list[Element]:
        return list(self.iterfind(path))

    def find(self, path: str) -> Element | None:
        return next(self.iterfind(path), None)

    def __repr__(self) -> str:
        return f"<Element {self.tag} at {id(self):#x}>"


def _steps(path: str) -> tuple[str, ...]:
    """The tags of ``path``, split once per path (the callers ask for the same few paths per part)."""
    steps = _STEPS_OF.get(path)
    if steps is None:
        steps = tuple(_split(path))
        if len(_STEPS_OF) < 1024:
            _STEPS_OF[path] = steps
    return steps


_STEPS_OF: dict[str, tuple[str, ...]] = {}


def _split(path: str) -> list[str]:
    steps, start, inside = [], 0, False
    for i, ch in enumerate(path):
        if ch == "{":
            inside = True
        elif ch == "}":
            inside = False
        elif ch == "/" and not inside:
            steps.append(path[start:i])
            start = i + 1
    steps.append(path[start:])
    return steps


def _clark(name: str) -> str:
    # expat with namespace_separator "}" gives "namespace}local"; lxml's form is "{namespace}local"
    return "{" + name if "}" in name else name


def _new_parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator="}")

    def refuse(*_args) -> None:
        raise XMLError("DOCTYPE or entity declaration", doctype=True)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    # an undeclared entity reference is an error, never looked up elsewhere
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


# The nesting count without a Python call per element. Once expat has accepted the bytes, every
# "<" in them starts markup (XML allows none in text or attribute values): an end tag "</", a
# start tag, or a comment, CDATA section or processing instruction ("<!", "<?"). When a piece
# holds as many ">" as "<", each ">" ends a tag, and "/>" ends a self-closing one (as Excel and
# every writer we know write a sheet: ">" in text is "&gt;"); otherwise the self-closing tags are
# found by this pattern (quoted attribute values may hold "/>" and ">", never "<"). The tags become
# marker bytes (a start tag an opening marker, an end tag or a self-closing tag's "/>" a closing
# one), and a running sum of the markers is the depth.
_SELF_CLOSING = re.compile(rb"<[^<>\"'/][^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*/>")
_OPEN, _CLOSE = b"\x01", b"\x02"  # never in XML 1.0 text, raw or as a character reference
_NOT_MARKERS = bytes(b for b in range(256) if b not in (1, 2))
_STEPS = bytes.maketrans(b"\x01\x02", b"\x01\xff")  # +1 and -1 as signed bytes
#: A whole tag at the start of the bytes (its quoted values may hold ">", never "<").
WHOLE_TAG = re.compile(rb"<[^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*>")
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml\b[^>]*\?>")


class Checker:
    """Feed a part in chunks; :meth:`close` at the end. Raises :class:`XMLError` on the way.

    expat checks the XML with no Python call per element; the nesting depth is counted on the
    bytes it accepted (the markers above). In a part with a comment, a CDATA section or a
    processing instruction (Excel writes none in a sheet), or not in UTF-8, the markers could
    miscount: :attr:`needs_exact` is then set, and the caller feeds the whole part again to a
    ``Checker(exact=True)``, which counts expat's element events.
    """

    def __init__(self, *, exact: bool = False) -> None:
        self._parser = _new_parser()
        self._carry = b""
        self._depth = 0
        self._first = True
        self.exact = exact
        #: Whether this part must be fed again, from its start, to ``Checker(exact=True)``.
        self.needs_exact = False
        if exact:
            self._count_events()

    def _count_events(self) -> None:
        depth = 0

        def start(_name: str, _attrs: object) -> None:
            nonlocal depth
            depth += 1
            if depth > MAX_DEPTH:
                raise XMLError(f"elements nested more than {MAX_DEPTH} deep")

        def end(_name: str) -> None:
            nonlocal depth
            depth -= 1

        self._parser.StartElementHandler = start
        self._parser.EndElementHandler = end

    def feed(self, chunk: bytes) -> None:
        self._parse(chunk, False)
        if self.exact or self.needs_exact:
            return
        data = self._carry + chunk if self._carry else chunk
        if self._first:  # the XML declaration is not markup to count
            if data.find(b">") < 0 and len(data) < 4096:
                self._carry = data
                return
            data = self._past_declaration(data)
        cut = data.rfind(b"<")  # the tag that may go on in the next chunk
        if cut == 0:  # one tag, then text (a long text in a cell): the tag is counted once it is whole
            m = WHOLE_TAG.match(data)
            cut = m.end() if m else 0
        if cut <= 0:
            self._carry = data if cut == 0 else b""  # a tag still open, or only text (nothing to count)
            return
        self._carry = data[cut:]
        self._count(data[:cut])

    def close(self) -> None:
        self._parse(b"", True)
        if not self.exact and not self.needs_exact:
            self._count(self._past_declaration(self._carry) if self._first else self._carry)
            self._carry = b""

    def _past_declaration(self, data: bytes) -> bytes:
        self._first = False
        m = _DECLARATION.match(data)
        return data[m.end():] if m else data

    def _count(self, piece: bytes) -> None:
        if piece.find(b"<!") >= 0 or piece.find(b"<?") >= 0 or piece.find(b"\x00") >= 0:  # or not UTF-8 (UTF-16)
            self.needs_exact = True
            return
        tags = piece.count(b"<")
        if piece.count(b">") == tags:  # every ">" ends a tag, so every "/>" ends a self-closing one
            ends = piece.count(b"</")
            if self._depth + tags - ends <= MAX_DEPTH:  # each start tag one deeper: still not too deep
                self._depth += tags - 2 * ends - piece.count(b"/>")
                return
            markers = piece.replace(b"</", _CLOSE).replace(b"<", _OPEN).replace(b"/>", _CLOSE)
        else:  # a ">" in text or in an attribute value: the self-closing tags found by their pattern
            markers = _SELF_CLOSING.sub(_OPEN + _CLOSE, piece).replace(b"</", _CLOSE).replace(b"<", _OPEN)
        markers = markers.translate(None, _NOT_MARKERS)
        opens = markers.count(_OPEN)
        if self._depth + opens > MAX_DEPTH:  # it could go too deep: follow the depth marker by marker
            steps = memoryview(markers.translate(_STEPS)).cast("b")
            if max(accumulate(steps, initial=self._depth)) > MAX_DEPTH:
                raise XMLError(f"elements nested more than {MAX_DEPTH} deep")
        self._depth += 2 * opens - len(markers)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise XMLError(str(exc)) from None
        except (LookupError, ValueError) as exc:
            raise _encoding_error(exc) from None


def parse(data: bytes) -> Element:
    """The root element of one (small) part; raises :class:`XMLError`."""
    parser = _new_parser()
    parser.buffer_text = True
    parser.ordered_attributes = False
    stack: list[Element] = []
    root: list[Element] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise XMLError(f"elements nested more than {MAX_DEPTH} deep")
        el = Element(_clark(name), {_clark(k): v for k, v in attrs.items()} if attrs else {})
        if stack:
            stack[-1]._children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        el = stack[-1] if stack else None
        if el is not None and not el._children:  # the text before the first child (lxml's .text)
            el.text = data if el.text is None else el.text + data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XMLError(str(exc)) from None
    except (LookupError, ValueError) as exc:
        raise _encoding_error(exc) from None
    return root[0]


def _encoding_error(exc: Exception) -> XMLError:
    """What expat's Parse raised for a declared encoding it cannot read: an unknown one
    (LookupError: encoding="x"), a multi-byte one (ValueError: "utf-32", "shift_jis"), or one whose
    codec fails (UnicodeError: "idna"). Our own XMLError (a ValueError: a DOCTYPE refused by a
    handler) and any other error go on as they are."""
    if isinstance(exc, XMLError) or not isinstance(exc, (LookupError, UnicodeError)) and "encoding" not in str(exc):
        raise exc
    return XMLError(f"teckenkodning som inte kan läsas ({exc})")
