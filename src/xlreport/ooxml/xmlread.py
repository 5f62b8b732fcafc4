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

from collections.abc import Iterable, Iterator
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


def _steps(path: str) -> list[str]:
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


class Checker:
    """Feed a part in chunks; :meth:`close` at the end. Raises :class:`XMLError` on the way."""

    def __init__(self) -> None:
        self._parser = _new_parser()
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

    def close(self) -> None:
        self._parse(b"", True)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise XMLError(str(exc)) from None


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
    return root[0]
