"""XML character data without the html module: the five predefined entities and character
references, which is all XML has (``html.unescape`` knows HTML's 2,000 entities and costs a
command's start-up the import of ``html.entities``)."""

from __future__ import annotations

import re

_ENTITY = re.compile(r"&(#[xX][0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _one(m: re.Match) -> str:
    e = m.group(1)
    if e[0] != "#":
        return _NAMED[e]
    try:
        return chr(int(e[1:].replace("X", "x").replace("x", "0x"), 0) if e[1] in "xX" else int(e[1:]))
    except (ValueError, OverflowError):  # not a character (lxml refuses such a part before)
        return "\ufffd"


def unescape(text: str) -> str:
    """``&lt;``, ``&amp;``, ``&#x2212;`` … as the characters they stand for."""
    return _ENTITY.sub(_one, text) if "&" in text else text


def escape(text: str) -> str:
    """Text as XML character data writes it (``&``, ``<`` and ``>`` escaped; quotes as they are)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
