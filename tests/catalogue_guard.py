"""A pytest plugin: every finding xlreport makes during the test session has a declared rule id.

Loaded from conftest.py (``pytest_plugins``). It wraps :class:`xlreport.core.findings.Finding`'s
``__init__`` to record the rule id and severity of every finding constructed by xlreport's own
code (findings a test builds itself, e.g. ``Finding("r", ...)`` for a layout test, are not the
tool's and are not recorded), and at the end of the session fails it when an id is not in the
catalogue or has another severity than its declaration. Production code never validates: an
undeclared id must not crash a user's run, but it fails CI here. Findings made in child
processes (the CLI tests) are not seen; tests/test_catalogue.py checks the source for those.
"""

from __future__ import annotations

import os
import sys

import pytest

import xlreport
from xlreport.core import findings as _findings

_SRC = os.path.dirname(os.path.realpath(xlreport.__file__)) + os.sep
_FINDINGS = os.path.realpath(_findings.__file__)

#: (rule id, severity) -> where xlreport first made such a finding ("file:line")
recorded: dict[tuple[str, str], str] = {}

_kind: dict[str, str] = {}  # code file name -> "findings", "xlreport" or "other" (resolved once a file)
_original_init = _findings.Finding.__init__


def _kind_of(filename: str) -> str:
    kind = _kind.get(filename)
    if kind is None:
        path = os.path.realpath(filename)
        kind = _kind[filename] = ("findings" if path == _FINDINGS else "xlreport" if path.startswith(_SRC)
                                  else "other")
    return kind


def _recording_init(self, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    frame = sys._getframe(1)
    while frame is not None and _kind_of(frame.f_code.co_filename) == "findings":
        frame = frame.f_back  # Finding.at and RuleSpec.at: the maker is their caller
    if frame is not None and _kind_of(frame.f_code.co_filename) == "xlreport":
        recorded.setdefault((self.rule, self.severity),
                            f"{os.path.relpath(frame.f_code.co_filename, _SRC)}:{frame.f_lineno}")


_recording_init.__wrapped__ = _original_init  # type: ignore[attr-defined]
_findings.Finding.__init__ = _recording_init  # type: ignore[method-assign]


def undeclared() -> list[str]:
    """One line for each recorded (id, severity) that the catalogue does not declare."""
    declared = {s.id: s.severity for s in _findings.catalogue()}
    out = []
    for (rule, severity), where in sorted(recorded.items()):
        if rule not in declared:
            out.append(f"{rule!r} ({severity}, made at {where}) is not in the rule catalogue")
        elif declared[rule] != severity:
            out.append(f"{rule!r} made as {severity} at {where}, but declared as {declared[rule]}")
    return out


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problems = undeclared()
    if not problems:
        return
    head = ("catalogue_guard: findings with rule ids that are not declared once in the catalogue "
            "(xlreport.core.findings.declare / the @rule decorator):")
    lines = [head, *(f"  {p}" for p in problems)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
