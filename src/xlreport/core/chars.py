"""Characters a cell can hold that a person does not see: invisible ones and odd spaces.

A name copied from Word, a web page or an e-mail often carries a soft hyphen (U+00AD), a
zero-width space or a non-breaking space. The cell looks right, but the text differs from the
same name typed by hand, so a unit "is missing" and a number "is text". The rules name such
characters (:data:`INVISIBLE`), the number parser ignores them, and ``xlreport fix`` removes
them (:func:`clean`) without changing what the cell shows.
"""

from __future__ import annotations

#: Characters that do not show in a cell but make two names differ (Swedish names for messages).
INVISIBLE = {"\u200b": "nollbreddsmellanslag", "\u200c": "osynlig bindning (ZWNJ)", "\u200d": "osynlig bindning (ZWJ)",
             "\u2060": "osynligt ordbindetecken", "\ufeff": "osynligt BOM-tecken", "\u00ad": "mjukt bindestreck",
             "\u180e": "osynligt mongoliskt vokalavskiljningstecken"}

#: Spaces that show as an ordinary space (and the tab), with their Swedish names.
SPACES = {"\u00a0": "hårt mellanslag", "\u202f": "smalt hårt mellanslag", "\u2009": "tunt mellanslag",
          "\u2007": "siffermellanslag", "\u2002": "brett mellanslag", "\u2003": "brett mellanslag",
          "\u3000": "brett mellanslag", "\t": "tabbtecken"}

# str.translate tables, not regular expressions: a character class holding characters above
# U+00FF costs the re compiler about 0.5-1 ms (it builds a 65,536-entry map), paid at every start
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
_PLAIN_SPACES = {ord(ch): " " for ch in SPACES}


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is a whole number written in the digits 0-9: str.isdigit alone also takes
    "²", which int() refuses, and other scripts' digits, which no file format writes in a number."""
    return text.isascii() and text.isdigit()


def visible(text: str) -> str:
    """``text`` without its invisible characters."""
    return text.translate(_DROP_INVISIBLE)


def invisible_in(text: str) -> str | None:
    """The first invisible character of ``text``, or None."""
    return next((ch for ch in text if ch in INVISIBLE), None)


def clean(text: str) -> str:
    """What the cell shows, as plain text: invisible characters removed, every odd space an
    ordinary one, runs of spaces one space, no space at the start or end of a line. Line breaks
    the user typed (Alt+Enter) are kept."""
    lines = [" ".join(filter(None, visible(line).translate(_PLAIN_SPACES).split(" ")))  # runs -> one space
             for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def what_changed(before: str, after: str) -> list[str]:
    """In Swedish, what :func:`clean` did to ``before`` (to give as the reason of a fix)."""
    out = []
    for ch, name in INVISIBLE.items():
        if ch in before:
            out.append(f"osynligt tecken borttaget ({name}, U+{ord(ch):04X})")
    for ch, name in SPACES.items():
        if ch in before:
            out.append(f"{name} (U+{ord(ch):04X}) ersatt med vanligt mellanslag")
    plain = visible(before).translate(_PLAIN_SPACES)
    lines = plain.split("\n")
    if any(line != line.strip(" ") for line in lines) or plain != plain.strip("\n"):
        out.append("mellanslag i början eller slutet borttaget")
    if any("  " in line.strip(" ") for line in lines):
        out.append("dubbla mellanslag ersatta med ett")
    if not out and before != after:
        out.append("osynliga tecken borttagna")
    return out


def shown_text(text: str) -> str:
    """``text`` quoted for a message with its invisible characters and odd spaces made visible:
    'KLK⟨U+00AD⟩HR'."""
    def mark(ch: str) -> str:
        return f"⟨U+{ord(ch):04X}⟩" if ch in INVISIBLE or (ch in SPACES and ch != "\t") else (
            "⟨tab⟩" if ch == "\t" else "⏎" if ch == "\n" else ch)
    return "'" + "".join(mark(ch) for ch in text) + "'"
