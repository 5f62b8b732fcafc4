"""Every attribute of the worked example, rewritten in turn: never a program error.

A sweep of all parts' attributes (x, ², empty, -1, 1.5, 1e999, removed; 46,000 command runs on
three workbooks) found the defects the bad-input corpus (test_hostile.py) now names one by one.
This is the sweep kept small enough for every run: the first occurrence of each attribute of
each element of each XML part of the example, each rewritten to a value no reader can use or
removed, validated and (for two of the values) refreshed in this process through the batch
worker, which turns any exception into a "programfel" finding. An answer is any status with a
finding that is not a program error: a refusal, a finding on the cell, or a clean run.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from support.workbooks import EXAMPLE
from xlreport import batch

_START_TAG = re.compile(rb"<([\w:]+)((?:\s+[\w:]+=\"[^\"]*\")*)\s*/?>")
_ATTRIBUTE = re.compile(rb'\s([\w:]+)="([^"]*)"')
VALIDATED = ["x", "²", "", None]  # None: the attribute removed
REFRESHED = ["x", None]


def _entries() -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(EXAMPLE) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _places(data: bytes) -> list[tuple[str, int, int]]:
    """(element@attribute, start, end) of the first occurrence of each attribute of each element."""
    seen: dict[str, tuple[str, int, int]] = {}
    for tag in _START_TAG.finditer(data):
        for attr in _ATTRIBUTE.finditer(tag.group(2)):
            key = f"{tag.group(1).decode()}@{attr.group(1).decode()}"
            if key not in seen:
                # the attribute's bytes, its leading space included
                seen[key] = (key, tag.start(2) + attr.start(), tag.start(2) + attr.end())
    return list(seen.values())


ENTRIES = _entries()
PARTS = [info.filename for info, _data in ENTRIES if info.filename.endswith((".xml", ".rels"))]


def _mutated(dest: Path, part: str, start: int, end: int, value: str | None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in ENTRIES:
            if info.filename == part:
                name = re.match(rb'\s([\w:]+)="', data[start:end]).group(1)
                new = b"" if value is None else b" " + name + b'="' + value.encode() + b'"'
                data = data[:start] + new + data[end:]
            out.writestr(info, data)
    return dest


def _program_errors(result) -> list[str]:
    return [f.message for f in result.findings if f.rule == "programfel" or "oväntat fel" in f.message]


@pytest.mark.parametrize("part", PARTS)
def test_no_attribute_of_the_part_rewritten_ends_in_a_program_error(tmp_path, monkeypatch, part):
    # The suite's cross-check (XLREPORT_CHECK_READER) fails a read whenever calamine refuses a
    # workbook the scan reads, as it does a <dimension> whose ref is broken or gone, or a sheet
    # relationship without a Type: the scan reads those cells right (it never trusts the element),
    # and the question here is only whether every such file gets an answer.
    monkeypatch.setattr("xlreport.doors.file._CHECK_READER", False)
    data = {info.filename: d for info, d in ENTRIES}[part]
    places = _places(data)
    errors, runs = [], 0
    for key, start, end in places:
        for value in VALIDATED:
            path = _mutated(tmp_path / "bok.xlsx", part, start, end, value)
            runs += 1
            if found := _program_errors(batch.run_one(str(path), (), False)):
                errors.append(f"validate, {key}={value!r}: {found[0]}")
            if value in REFRESHED:
                work = tmp_path / "skriv.xlsx"
                shutil.copyfile(path, work)
                runs += 1
                if found := _program_errors(batch.run_one(str(work), ("fill", "generate"), True)):
                    errors.append(f"refresh, {key}={value!r}: {found[0]}")
    assert not errors, "\n".join(errors)
    assert runs >= len(places) * len(VALIDATED)


def test_the_sweep_covers_the_workbook():
    """Each worksheet, the workbook, its styles and strings and every relationship part is swept,
    and in all some hundreds of attributes: a change to the example cannot empty the sweep."""
    for part in ("xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml", "xl/_rels/workbook.xml.rels",
                 "[Content_Types].xml", "xl/worksheets/sheet3.xml"):
        assert part in PARTS
    assert sum(len(_places(d)) for info, d in ENTRIES if info.filename in PARTS) > 300
