"""The Excel add-in built from macros/: its VBA read back by olevba, its ribbon, its install."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import libreoffice
import xlreport.doors.excel as door
from xlreport import addin
from xlreport.cli import main

MACROS = Path(__file__).resolve().parent.parent / "macros"
CUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
# The customUI schema's nesting, for the elements the ribbon uses: element -> allowed children.
STRUCTURE = {"customUI": {"ribbon"}, "ribbon": {"tabs"}, "tabs": {"tab"}, "tab": {"group"}, "group": {"button"},
             "button": set()}
CALLBACK = re.compile(r"^Sub\s+(\w+)\s*\(\s*control\s+As\s+IRibbonControl\s*\)\s*$", re.MULTILINE | re.IGNORECASE)
RUN_PYTHON = re.compile(r'RunPython\s+"import xlreport\.doors\.excel as door; door\.(\w+)\(\)"')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return addin.build(tmp_path_factory.mktemp("addin") / "xlreport.xlam")


def ribbon_module() -> str:
    return (MACROS / "xlreport.bas").read_text(encoding="utf-8")


def code_only(source: str) -> list[str]:
    """Source lines without the export header and attribute lines, trailing space and blank ends."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("VERSION 1.0 CLASS"):
        lines = lines[lines.index("END") + 1:]
    lines = [ln.rstrip() for ln in lines if not ln.startswith("Attribute VB_")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_build_is_reproducible(built, tmp_path):
    again = addin.build(tmp_path / "again.xlam")
    assert again.read_bytes() == built.read_bytes()


def test_olevba_reads_back_every_module(built):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(built))
    try:
        read = {Path(vba_file).stem: code for _, _, vba_file, code in parser.extract_macros()}
    finally:
        parser.close()
    sources = {m.name: m.source for m in addin.vba_modules(MACROS)}
    assert set(sources) <= set(read)
    for name, source in sources.items():
        assert code_only(read[name]) == code_only(source), name


def test_the_xlwings_module_is_configured_for_this_addin(built):
    source = addin.xlwings_module_source()
    assert 'Public Const PROJECT_NAME As String = "xlreport"' in source
    assert "Public Function RunPython(" in source


def test_the_package_has_the_ribbon_and_its_relationship(built):
    with zipfile.ZipFile(built) as z:
        assert z.read("customUI/customUI.xml") == (MACROS / "customUI.xml").read_bytes()
        rels = etree.fromstring(z.read("_rels/.rels"))
        types = etree.fromstring(z.read("[Content_Types].xml"))
        assert "xl/vbaProject.bin" in z.namelist()
    targets = {r.get("Type"): r.get("Target") for r in rels}
    assert targets[addin.CUSTOM_UI_REL] == "customUI/customUI.xml"
    main_type = {o.get("PartName"): o.get("ContentType") for o in types if o.get("PartName")}
    assert main_type["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"


def test_the_ribbon_is_well_formed():
    root = etree.parse(str(MACROS / "customUI.xml")).getroot()
    assert root.tag == CUI + "customUI"
    for element in root.iter(etree.Element):
        name = element.tag.removeprefix(CUI)
        assert element.tag.startswith(CUI) and name in STRUCTURE, element.tag
        for child in element:
            if isinstance(child.tag, str):
                assert child.tag.removeprefix(CUI) in STRUCTURE[name], (name, child.tag)
    ids = [e.get("id") for e in root.iter(etree.Element) if e.get("id")]
    assert len(ids) == len(set(ids))
    tab = root.find(f".//{CUI}tab")
    assert tab.get("label") == "Delårsrapport"
    labels = [b.get("label") for b in root.iter(CUI + "button")]
    assert sorted(labels) == sorted(["Kontrollera", "Beräkna avvikelser", "Kontrollera personal",
                                     "Skapa rapport", "Uppdatera allt", "Nästa fynd"])
    for b in root.iter(CUI + "button"):
        assert b.get("imageMso") and b.get("onAction")


def test_every_on_action_names_a_ribbon_callback():
    source = ribbon_module()
    module = re.search(r'^Attribute VB_Name = "(\w+)"', source, re.MULTILINE).group(1)
    callbacks = set(CALLBACK.findall(source))
    root = etree.parse(str(MACROS / "customUI.xml")).getroot()
    actions = [b.get("onAction") for b in root.iter(CUI + "button")]
    for action in actions:
        mod, _, sub = action.rpartition(".")
        assert mod in ("", module), action
        assert sub in callbacks, action
    assert {a.rpartition(".")[2] for a in actions} == callbacks


def test_every_run_python_names_a_function_in_the_excel_door():
    commands = RUN_PYTHON.findall(ribbon_module())
    code = [ln for ln in ribbon_module().splitlines() if not ln.lstrip().startswith("'")]
    assert len(commands) == sum("RunPython" in ln for ln in code)
    for name in commands:
        assert callable(getattr(door, name, None)), name
    assert sorted(commands) == sorted(door.ENTRY_POINTS)


@pytest.mark.libreoffice
def test_libreoffice_opens_the_addin(built):
    assert libreoffice.opens(built)


def test_install_and_remove(built, tmp_path):
    dest = tmp_path / "excel"
    paths = addin.install(built, dest=dest, interpreter=r"C:\Python312\pythonw.exe", platform="win32")
    assert paths.addin.read_bytes() == built.read_bytes()
    assert paths.config.read_bytes() == b'"INTERPRETER_WIN","C:\\Python312\\pythonw.exe"\r\n'
    assert addin.remove(dest=dest) == [paths.addin, paths.config]
    assert not paths.addin.exists() and not paths.config.exists()
    assert addin.remove(dest=dest) == []


def test_install_builds_when_given_no_addin(tmp_path):
    paths = addin.install(dest=tmp_path, interpreter="/usr/bin/python3", platform="darwin")
    assert zipfile.is_zipfile(paths.addin)
    assert paths.config.read_bytes() == b'"INTERPRETER_MAC","/usr/bin/python3"\n'


def test_default_paths_follow_excel_and_xlwings(tmp_path):
    win = addin.default_paths("win32", home=tmp_path, environ={"APPDATA": r"C:\U\AppData\Roaming",
                                                              "USERPROFILE": r"C:\U"})
    assert win.addin == Path(r"C:\U\AppData\Roaming") / "Microsoft" / "Excel" / "XLSTART" / "xlreport.xlam"
    assert win.config == Path(r"C:\U") / ".xlreport" / "xlreport.conf"
    mac = addin.default_paths("darwin", home=tmp_path)
    assert mac.addin.parts[-4:] == ("User Content.localized", "Startup.localized", "Excel", "xlreport.xlam")
    assert mac.config == tmp_path / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlreport.conf"
    with pytest.raises(addin.AddinError):
        addin.default_paths("linux", home=tmp_path)


def test_cli_addin_commands(tmp_path, capsys):
    out = tmp_path / "x.xlam"
    assert main(["addin", "build", "-o", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    assert main(["addin", "install", str(out), "--dest", str(tmp_path / "inst")]) == 0
    assert (tmp_path / "inst" / "xlreport.xlam").exists()
    assert main(["addin", "remove", "--dest", str(tmp_path / "inst")]) == 0
    assert not (tmp_path / "inst" / "xlreport.xlam").exists()
    assert main(["addin", "install", str(tmp_path / "saknas.xlam"), "--dest", str(tmp_path)]) == 2
    assert "kör först" in capsys.readouterr().err
