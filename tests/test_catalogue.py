"""The rule catalogue: every id the tool can put on a finding is declared once, and listed.

Three nets catch an undeclared id: ``xlreport rules`` (through the real CLI) lists the whole
catalogue; a scan of the source finds every string literal used as a rule id; and the plugin
tests/catalogue_guard.py fails the session when any test makes xlreport produce a finding
whose id (or severity) is not declared.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import catalogue_guard
import xlreport
from xlreport.core import findings as F
from xlreport.core.rules import RULES

SRC = Path(xlreport.__file__).resolve().parent
SEVERITIES = {"error", "warning"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlreport", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=60, check=False)


@functools.cache
def _listed() -> tuple[dict, ...]:
    """``xlreport rules --format json`` in a fresh process: the catalogue as users see it."""
    run = _cli("rules", "--format", "json")
    assert run.returncode == 0, run.stderr
    return tuple(json.loads(run.stdout))


def _declared() -> dict[str, F.RuleSpec]:
    """The catalogue as listed (a fresh process), as declarations; in this process the tests
    may have imported more modules, whose declarations the listing would not see."""
    return {e["id"]: F.RuleSpec(**e) for e in _listed()}


# --- the listing --------------------------------------------------------------------------

def test_rules_json_lists_the_catalogue():
    entries = _listed()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for e in entries:
        assert set(e) == {"id", "group", "severity", "description"}, e
        assert e["group"] in F.GROUPS, e
        assert e["severity"] in SEVERITIES, e
        assert isinstance(e["description"], str) and e["description"].strip(), e
    # the checks, the reader's checks and the file-level errors are all there
    assert {"summa-enheter", "tal-som-text", "blad-saknas", "enhet-saknas", "ej-arbetsbok", "struktur"} <= set(ids)


def test_rules_text_table_has_every_id_with_swedish_severity():
    run = _cli("rules")
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line.split() for line in run.stdout.splitlines()[1:] if line.strip()}
    assert set(lines) == set(_declared())
    for rule_id, spec in _declared().items():
        words = lines[rule_id]
        assert words[1] == spec.group and words[2] == {"error": "fel", "warning": "varning"}[spec.severity]


def test_rules_command_stays_light():
    """``xlreport rules`` answers at once: it does not load the workbook libraries."""
    code = ("import contextlib, io, sys\n"
            "from xlreport.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['rules', '--format', 'json'])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pandas', 'openpyxl', 'lxml', 'python_calamine', 'calamine', 'xlwings'}))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# --- the declarations ---------------------------------------------------------------------

def test_every_module_declares_where_the_listing_sees_it():
    """Importing all of xlreport declares nothing that ``xlreport rules`` (a fresh process)
    does not list: rule ids are declared in xlreport.core or in a package's checks module."""
    for mod in pkgutil.walk_packages(xlreport.__path__, "xlreport."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    assert set(F.CATALOGUE) - set(_declared()) == set(), "declared where catalogue() does not import"
    assert set(_declared()) == {s.id for s in F.catalogue()}


def test_registered_rules_are_declared_once():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    declared = {s.id: s for s in F.catalogue()}
    for r in RULES:
        assert declared[r.id] is r.spec
        assert _declared()[r.id] == r.spec
        assert r.group in {"mall", "ekonomi", "ataganden", "personal"}
    with pytest.raises(ValueError, match="declared twice"):
        F.declare(RULES[0].id, RULES[0].group, RULES[0].severity, "igen")


def test_staff_rules_are_the_personal_group():
    """The Excel door's Kontrollera personal filters on ``group == "personal"``."""
    staff = {r.id for r in RULES if r.group == "personal"}
    assert staff == {s.id for s in F.catalogue() if s.group == "personal"}
    assert {i for i in staff if not i.startswith(("personal-", "sjuk-"))} == set()


def test_declared_severities_match_the_findings():
    """A finding made through a declaration carries the declaration's id and severity."""
    from xlreport.core.cells import CellRef
    from xlreport.core.reader import read_number

    _, finding = read_number("12,5", CellRef("Resultaträkning", 4, 2), "Intäkter / Utfall ack")
    spec = _declared()["tal-som-text"]
    assert (finding.rule, finding.severity, finding.cell) == (spec.id, spec.severity, "C5")


# --- the source ---------------------------------------------------------------------------

def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _callee(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    names = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    return names[1:] if method and names else names


def _rule_literals(tree: ast.Module) -> Iterator[tuple[str, int, str | None, str]]:
    """(id, line, severity name or None, how) for every string literal used as a rule id.

    Looks at ``Finding(id, SEVERITY, ...)``, ``Finding.at(ref, id, SEVERITY, ...)``, a class's
    ``rule = "id"``, a ``rule=`` keyword, a parameter ``rule`` with a default, the argument in
    the ``rule`` position of a call to a function of the same module that has such a parameter
    (``result.add(file, WARNING, message, "konsolidering-tom")``), and comparisons with ``.rule``.
    """
    takes_rule: dict[str, list[str]] = {}  # function name -> its parameters (without self)
    for parent in ast.walk(tree):
        for node in ast.iter_child_nodes(parent):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = _params(node, isinstance(parent, ast.ClassDef))
                if "rule" in params:
                    takes_rule[node.name] = params
                    args = node.args
                    defaults = dict(zip([a.arg for a in args.args][-len(args.defaults):], args.defaults)) \
                        if args.defaults else {}
                    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
                    if (v := _str(defaults.get("rule"))) is not None:
                        yield v, node.lineno, None, f"default of {node.name}(rule=...)"
            elif isinstance(node, ast.Assign) and isinstance(parent, ast.ClassDef) and \
                    any(isinstance(t, ast.Name) and t.id == "rule" for t in node.targets) and \
                    (v := _str(node.value)) is not None:
                yield v, node.lineno, "ERROR", f"{parent.name}.rule"  # the doors make findings of it as errors

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _callee(node)
            is_at = isinstance(node.func, ast.Attribute) and node.func.attr == "at" and \
                isinstance(node.func.value, ast.Name) and node.func.value.id == "Finding"
            if name == "Finding" or is_at:
                params = ["ref", "rule", "severity"] if is_at else ["rule", "severity"]
            else:
                params = takes_rule.get(name or "")
            if params is None:
                continue
            bound = dict(zip(params, node.args))
            bound.update({k.arg: k.value for k in node.keywords if k.arg})
            if (v := _str(bound.get("rule"))) is not None:
                sev = bound.get("severity")
                yield v, node.lineno, sev.id if isinstance(sev, ast.Name) else None, f"{name}(...)"
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "rule" for s in sides):
                for s in sides:
                    for c in (s.elts if isinstance(s, (ast.Tuple, ast.List, ast.Set)) else [s]):
                        if (v := _str(c)) is not None:
                            yield v, node.lineno, None, "compared with .rule"


def _source_literals() -> list[tuple[str, str, str | None, str]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for rule_id, line, severity, how in _rule_literals(tree):
            out.append((rule_id, f"{path.relative_to(SRC)}:{line}", severity, how))
    return out


def test_every_rule_id_in_the_source_is_declared():
    declared = _declared()
    found = _source_literals()
    assert {"ej-arbetsbok", "avdelning", "programfel", "mallversion", "konsolidering-period",
            "konsolidering-tom", "okand-rad"} <= {f[0] for f in found}  # the scan sees them all
    undeclared = [f for f in found if f[0] not in declared]
    assert undeclared == [], "rule ids used in src/xlreport but not declared in the catalogue"
    wrong = [f for f in found if f[2] in ("ERROR", "WARNING") and declared[f[0]].severity != f[2].lower()]
    assert wrong == [], "findings made with another severity than their rule's declaration"


def test_the_checks_take_id_and_severity_from_their_declaration():
    """rules.py and reader.py never write a rule id into a finding: the declaration does."""
    for name in ("core/rules.py", "core/reader.py"):
        tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
        calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and (
            _callee(n) == "Finding" or (isinstance(n.func, ast.Attribute) and n.func.attr == "at"
                                        and isinstance(n.func.value, ast.Name) and n.func.value.id == "Finding"))]
        assert calls == [], f"{name} makes findings by hand at lines {calls}"


# --- the guard ----------------------------------------------------------------------------

def test_the_session_guard_is_loaded_and_records():
    from xlreport.core.cells import CellRef
    from xlreport.core.findings import Finding
    from xlreport.core.reader import read_number

    assert getattr(Finding.__init__, "__wrapped__", None) is not None, "tests/catalogue_guard.py is not loaded"
    read_number(True, CellRef("Personal", 4, 1), "Tillsvidare / Kvinnor")
    assert ("inte-tal", "error") in catalogue_guard.recorded
    Finding("inget-sadant-id", "error", "Gjord av ett test, inte av xlreport.")  # not recorded: not the tool's
    assert ("inget-sadant-id", "error") not in catalogue_guard.recorded
    assert catalogue_guard.undeclared() == []
