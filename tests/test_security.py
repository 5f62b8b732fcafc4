"""Security: no code, no network, no links followed; text stays text; XML is parsed inertly.

The refresh runs as a real process on the rich workbook of test_fidelity_example (a VBA
project, an external link, a pivot cache), under a Python audit hook installed through
``sitecustomize`` that records every attempt to start a process, open a socket, resolve a
host name, load a native library by ctypes, or open a file outside the Python installation
and the workbook's folder. A second run happens with no network at all (``unshare -n``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from support.cli import xlreport
from support.workbooks import sheet_xml, variant
from test_fidelity_example import build_rich_example
from xlreport.ooxml.package import parse_xml, pull_parser

AUDIT = r'''
import json, os, sys
_log = os.environ["XLREPORT_AUDIT_LOG"]
_allowed = tuple(p for p in os.environ["XLREPORT_AUDIT_ALLOW"].split(os.pathsep) if p)
_watch = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
          "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.bind", "ctypes.dlopen",
          "urllib.Request", "webbrowser.open", "os.startfile")

def _hook(event, args):
    if event in _watch:
        detail = repr(args)[:200]
    elif event == "open" and args and isinstance(args[0], (str, bytes)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith(_allowed) or path in ("/dev/null", "/dev/urandom"):
            return
        detail = path
    else:
        return
    with open(_log, "a") as f:
        f.write(json.dumps([event, detail]) + "\n")

sys.addaudithook(_hook)
with open(_log, "a") as f:  # proof that the hook is in place
    f.write(json.dumps(["installed", sys.argv[0]]) + "\n")
'''


@pytest.fixture(scope="module")
def rich(tmp_path_factory, fixtures_dir) -> Path:
    folder = tmp_path_factory.mktemp("security")
    return build_rich_example(folder / "rapport.xlsm")


def _allowed_paths(folder: Path) -> list[str]:
    import python_calamine

    import xlreport

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__),
             str(Path(xlreport.__file__).resolve().parent.parent), str(Path(python_calamine.__file__).parent),
             str(folder.resolve()), "/proc/", "/sys/", "/etc/localtime", "/usr/share/zoneinfo", "/etc/ld.so",
             "/lib", "/usr/lib"}
    return [os.path.realpath(p) for p in paths]


def test_refresh_runs_no_code_and_touches_no_network(tmp_path, rich):
    work = tmp_path / "bok"
    work.mkdir()
    path = work / "rapport.xlsm"
    shutil.copyfile(rich, path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(AUDIT, encoding="utf-8")
    log = tmp_path / "audit.log"
    log.write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "XLREPORT_AUDIT_LOG": str(log),
           "XLREPORT_AUDIT_ALLOW": os.pathsep.join([*_allowed_paths(work), str(log)])}
    proc = xlreport("refresh", path, env=env, timeout=120, tracebacks=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events and events[0][0] == "installed", events
    assert events[1:] == [], events
    assert not (work / "ext_source.xlsx").exists()


def test_refresh_works_without_any_network(tmp_path, rich):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], capture_output=True,
                                                         check=False).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    path = tmp_path / "rapport.xlsm"
    shutil.copyfile(rich, path)
    proc = xlreport("refresh", path, wrapper=["unshare", "-n"], timeout=120, tracebacks=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _owned_sheet_cells(path: Path, name: str) -> list[etree._Element]:
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    return sheet_xml(path, name).xpath("//m:c", namespaces=ns)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://example.com/x","Klicka")', "+SUM(1,2)", "-1+1",
                                  "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_formula_like_text_is_written_as_text(tmp_path, text):
    """A unit name and an unknown row label that look like formulas reach Rapport and Kontroller as text."""
    path = variant(tmp_path / "bok.xlsx", {"Uppgifter!A18": text, "Driftredovisning!A5": text,
                                           "Resultaträkning!A9": text})
    # Uppgifter!A18 holds the first unit of the unit list in the example
    proc = xlreport("refresh", path, timeout=120, tracebacks=True)
    assert proc.returncode == 0, proc.stdout
    seen = 0
    for sheet in ("Rapport", "Kontroller"):
        for c in _owned_sheet_cells(path, sheet):
            assert c.find("{*}f") is None, etree.tostring(c)  # the tool writes no formulas there
            value = "".join(c.itertext())
            if text in value:
                seen += 1
                assert c.get("t") == "inlineStr", etree.tostring(c)
    assert seen >= 2  # in the report (unit) and in the findings (the unknown row)


def test_hardened_parsers_expand_no_entities(tmp_path):
    """Even past the DOCTYPE refusal, the parsers neither expand entities nor read files."""
    secret = tmp_path / "secret.txt"
    secret.write_text("HEMLIGT")
    xml = (f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY y "yy">]>'
           f"<a><b>&x;&y;</b></a>").encode()
    parser = pull_parser(events=("end",))
    parser.feed(xml)
    root = parser.close()
    assert "HEMLIGT" not in "".join(root.itertext()) and "yy" not in "".join(root.itertext())
    with pytest.raises(Exception, match="DOCTYPE"):
        parse_xml(xml)
