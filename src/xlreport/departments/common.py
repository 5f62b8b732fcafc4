"""Shared helpers: the default template, period text, safe file names, Uppgifter cells, versions."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from ..core import layout as L
from ..core.cells import Grid
from ..core.errors import DepartmentError

#: Environment variable naming the template to use when ``--template`` is not given.
TEMPLATE_ENV = "XLREPORT_TEMPLATE"


def default_template() -> Path:
    """The template to stamp: $XLREPORT_TEMPLATE, else the one installed with the package
    (``xlreport/data/mall.xlsx``), else a source checkout's ``workbooks/mall.xlsx``."""
    from ..resources import packaged

    env = os.environ.get(TEMPLATE_ENV)
    if env:
        return Path(env)
    template = packaged("data/mall.xlsx")
    if template is not None and template.is_file():
        return template
    raise DepartmentError(f"Ingen mall hittades: ange --template MALL.xlsx eller sätt {TEMPLATE_ENV}.")


# --- periods ------------------------------------------------------------------------------

_ISO = re.compile(r"^\s*(\d{4})\s*[-/.:]\s*(\d{1,2})\s*$")
_WORDS = re.compile(r"^\s*(?:([a-zåäö]+)\s*[–-]\s*)?([a-zåäö]+)\s+(\d{4})\s*$", re.IGNORECASE)


def period_text(month: int) -> str:
    """3 -> "januari–mars" (interim reports run from January)."""
    return L.MONTHS[0] if month == 1 else f"{L.MONTHS[0]}–{L.MONTHS[month - 1]}"


def month_of_period(text: str | None) -> int | None:
    """"januari–mars" -> 3 (the last month of an interim period written as :func:`period_text`
    writes it); None for anything else."""
    if not text:
        return None
    want = L.norm(str(text).replace("-", "–"))
    return next((m for m in range(1, 13) if L.norm(period_text(m)) == want), None)


def parse_period(text: str) -> tuple[int, int, str]:
    """"2020-03", "mars 2020" or "januari–mars 2020" -> (2020, 3, "januari–mars")."""
    m = _ISO.match(text)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
    else:
        w = _WORDS.match(text)
        month_name = w and w.group(2).casefold()
        if not w or month_name not in L.MONTHS:
            raise DepartmentError(f"Perioden '{text}' förstås inte: skriv t.ex. 2020-03 eller "
                                  f"'januari–mars 2020'.")
        year, month = int(w.group(3)), L.MONTHS.index(month_name) + 1
    if not 1 <= month <= 12 or not 1900 <= year <= 2999:
        raise DepartmentError(f"Perioden '{text}' är ingen giltig månad.")
    return year, month, period_text(month)


# --- file names ---------------------------------------------------------------------------

_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                       "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH"})
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_stem(name: str, max_len: int = 80) -> str:
    """An ASCII file name stem: "KLK Ekonomi och kvalitet" -> "KLK_Ekonomi_och_kvalitet"."""
    text = unicodedata.normalize("NFKD", name.translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("._-")
    text = re.sub(r"_+", "_", text)[:max_len].rstrip("._-")
    if not text:
        text = "enhet"
    if text.split(".")[0].upper() in _RESERVED:
        text += "_"
    return text


def unique_names(stems: list[str], suffix: str = ".xlsx") -> list[str]:
    """File names for ``stems``, unique without regard to case (``_2``, ``_3`` ... on a clash)."""
    taken: set[str] = set()
    out = []
    for stem in stems:
        name, n = stem + suffix, 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}_{n}{suffix}"
        taken.add(name.casefold())
        out.append(name)
    return out


# --- the sheet Uppgifter ------------------------------------------------------------------

def find_label(grid: Grid, label: str) -> tuple[int, int] | None:
    """The (row, col) of the first cell whose text is ``label`` (normalised)."""
    want = L.norm(label)
    for r, c, v in grid.cells():
        if L.norm(v) == want:
            return r, c
    return None


def meta_value(grid: Grid | None, label: str) -> Any:
    if grid is None:
        return None
    at = find_label(grid, label)
    if at is None:
        return None
    v = grid.get(at[0], at[1] + 1)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return v


def version_of(grid: Grid | None) -> str | None:
    """The Mallversion a workbook was stamped with, as text ("1.0"), or None."""
    v = meta_value(grid, L.META_VERSION)
    if v is None:
        return None
    if isinstance(v, float):
        return repr(v)
    return str(v).strip() or None


def unit_list(grid: Grid) -> tuple[tuple[int, int] | None, list[str]]:
    """The "Enheter" header cell and the names listed below it (up to the first blank)."""
    at = find_label(grid, L.META_UNITS_HEADER)
    if at is None:
        return None, []
    names, r = [], at[0] + 1
    while (v := grid.get(r, at[1])) is not None and str(v).strip():
        names.append(str(v).strip())
        r += 1
    return at, names


# --- zip entries ----------------------------------------------------------------------------

def changed_entries(base: Path, result: Path) -> set[str]:
    """Entries of ``result`` that are new or differ from ``base`` (content or time stamp)."""
    import zipfile

    with zipfile.ZipFile(base) as zb, zipfile.ZipFile(result) as zr:
        old = {i.filename: (i.CRC, i.file_size, i.date_time) for i in zb.infolist()}
        return {i.filename for i in zr.infolist() if old.get(i.filename) != (i.CRC, i.file_size, i.date_time)}


def utc_now() -> str:
    """The time now, as the Källor sheets record it: 2020-03-31T12:00:00Z."""
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_text(data: bytes) -> str:
    """A text file as Excel saves them: UTF-8 (with or without a BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")
