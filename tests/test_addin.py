"""The Excel add-in built from macros/: its VBA read back by olevba, its ribbon, its package
parts as the specification and Excel expect them, its configuration sheet and its install."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import xlreport.doors.excel as door
from support import libreoffice
from xlreport import addin
from xlreport.cli import main

MACROS = Path(__file__).resolve().parent.parent / "macros"
CUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
# The customUI schema's nesting, for the elements the ribbon uses: element -> allowed children.
STRUCTURE = {"customUI": {"ribbon"}, "ribbon": {"tabs"}, "tabs": {"tab"}, "tab": {"group"}, "group": {"button"},
             "button": set()}
CALLBACK = re.compile(r"^Sub\s+(\w+)\s*\(\s*control\s+As\s+IRibbonControl\s*\)\s*$", re.MULTILINE | re.IGNORECASE)
KLICK = re.compile(r'^\s+Klick "(\w+)"\s*$', re.MULTILINE)
# Icons from Office's own imageMso set that we are sure of (Microsoft's published gallery). A
# button may use only these; add a name here only after seeing it in that gallery.
IMAGE_MSO = {"AcceptInvitation", "DeclineInvitation", "ReviewAcceptChange", "CalculateNow", "FileSave",
             "FileNew", "FileOpen", "FilePrint", "FileSaveAsPdfOrXps", "TableInsert", "ChartInsert", "Info",
             "FindDialog", "GoTo", "RefreshAll", "FunctionWizard", "AutoSum", "Copy", "Paste", "HappyFace",
             "ExportWord"}
AASA = "C:\\Users\\Åsa Öberg\\AppData\\Local\\xlreport\\env\\Scripts\\pythonw.exe"


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


def read_modules(path: Path) -> dict[str, str]:
    """Every VBA module of a built add-in, by name, as olevba reads it back."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {Path(vba_file).stem: code for _, _, vba_file, code in parser.extract_macros()}
    finally:
        parser.close()


def test_olevba_reads_back_every_module(built):
    read = read_modules(built)
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
                                     "Skapa rapport", "Uppdatera allt", "Nästa fynd", "Exportera rapport",
                                     "Hämta från SIE-fil", "Om xlreport", "Jämför med förra prognosen",
                                     "Rätta det som går", "Förklaringar att begära", "Kontrollera texten"])
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


def test_every_button_names_a_function_in_the_excel_door():
    """One RunPython, in Klick, which hands the door the button and both versions; every
    callback names a door entry point and every entry point has a button."""
    source = ribbon_module()
    code = [ln for ln in source.splitlines() if not ln.lstrip().startswith("'")]
    assert sum("RunPython" in ln for ln in code) == 1
    assert ("door.klick('\" & knapp & \"', '\" & XLREPORT_VERSION & _" in source
            and "\"', '\" & XLWINGS_VERSION & \"', fil=\" & PyText(valdFil) & \")\"" in source)
    buttons = KLICK.findall(source)
    assert len(buttons) == len(CALLBACK.findall(source))
    assert sorted(buttons) == sorted(door.ENTRY_POINTS)


def test_the_addin_knows_its_version(built):
    from xlreport import __version__

    read = read_modules(built)
    assert f'Public Const XLREPORT_VERSION As String = "{__version__}"' in read["xlreportVersion"]


def test_the_vba_project_stream_is_the_seven_byte_form(built):
    """[MS-OVBA] 2.3.4.1: 0x61CC, version 0xFFFF, 0x00, reserved; no performance cache."""
    import olefile

    with zipfile.ZipFile(built) as z:
        ole = olefile.OleFileIO(z.read("xl/vbaProject.bin"))
    try:
        stream = ole.openstream("VBA/_VBA_PROJECT").read()
        assert ole.exists("VBA/dir") and ole.exists("PROJECT")
    finally:
        ole.close()
    assert stream == bytes.fromhex("cc61ffff000100")


def test_icons_are_office_image_mso_names():
    root = etree.parse(str(MACROS / "customUI.xml")).getroot()
    icons = {b.get("imageMso") for b in root.iter(CUI + "button")}
    assert icons <= IMAGE_MSO, icons - IMAGE_MSO


def test_the_document_properties_are_our_own(built):
    with zipfile.ZipFile(built) as z:
        core = etree.fromstring(z.read("docProps/core.xml"))
        app = z.read("docProps/app.xml").decode("utf-8")
    dc = "{http://purl.org/dc/elements/1.1/}"
    assert core.find(f"{dc}creator").text == "xlreport"
    assert "Delårsrapport" in core.find(f"{dc}title").text
    assert "William" not in etree.tostring(core).decode() and addin.CONFIG_SHEET in app


@pytest.mark.libreoffice
def test_libreoffice_opens_the_addin(built):
    assert libreoffice.opens(built)


def test_a_built_addin_finds_python_where_the_bundle_installs_it(built):
    assert addin.read_config(built) == {"INTERPRETER_WIN": r"%LOCALAPPDATA%\xlreport\env\Scripts\pythonw.exe"}


def test_install_and_remove(built, tmp_path):
    dest = tmp_path / "excel"
    paths = addin.install(built, dest=dest, interpreter=r"C:\Python312\pythonw.exe", platform="win32")
    assert addin.read_config(paths.addin) == {"INTERPRETER_WIN": r"C:\Python312\pythonw.exe"}
    assert addin.remove(dest=dest) == [paths.addin]
    assert not paths.addin.exists()
    assert addin.remove(dest=dest) == []


def test_a_swedish_user_name_comes_back_unchanged_as_vba_reads_it(built, tmp_path):
    """The interpreter lives in the add-in's sheet (Unicode XML, read by Excel as cell text); the
    path VBA's GetAttr then sees is the ANSI code page's (cp1252 on Swedish Windows)."""
    paths = addin.install(built, dest=tmp_path, interpreter=AASA, platform="win32")
    value = addin.read_config(paths.addin)["INTERPRETER_WIN"]
    assert value == AASA
    assert value.encode("cp1252").decode("cp1252") == AASA
    with zipfile.ZipFile(paths.addin) as z:
        assert AASA.encode("utf-8") in z.read(addin.SHEET_PART)


def test_an_interpreter_under_localappdata_is_written_with_the_variable():
    env = {"LOCALAPPDATA": r"C:\Users\Åsa Öberg\AppData\Local"}
    assert addin.windows_config_path(AASA, "win32", env) == r"%LOCALAPPDATA%\xlreport\env\Scripts\pythonw.exe"


def test_a_path_the_code_page_cannot_spell_is_refused_with_the_fix():
    path = r"C:\Users\Łukasz Żak\AppData\Local\xlreport\env\Scripts\pythonw.exe"
    assert not addin.ansi_safe(path, "win32")
    with pytest.raises(addin.AddinError) as err:
        addin.windows_config_path(path, "win32", {})
    assert "C:\\xlreport" in str(err.value) and "--interpreter" in str(err.value)


def test_install_builds_when_given_no_addin(tmp_path):
    paths = addin.install(dest=tmp_path, interpreter="/usr/bin/python3", platform="darwin")
    assert zipfile.is_zipfile(paths.addin)
    assert addin.read_config(paths.addin) == {"INTERPRETER_MAC": "/usr/bin/python3"}


def test_install_removes_the_config_file_of_an_older_version(built, tmp_path, monkeypatch):
    home = tmp_path / "home"
    legacy = home / ".xlreport" / "xlreport.conf"
    legacy.parent.mkdir(parents=True)
    legacy.write_text('"INTERPRETER_WIN","C:\\gammal\\pythonw.exe"\n', encoding="utf-8")
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))
    monkeypatch.setenv("USERPROFILE", str(home))
    installed = addin.install(built, interpreter=r"C:\Python312\pythonw.exe", platform="win32")
    assert installed.addin == tmp_path / "appdata" / "Microsoft" / "Excel" / "XLSTART" / "xlreport.xlam"
    assert installed.addin.is_file() and not legacy.exists()
    assert addin.remove(platform="win32") == [installed.addin]
    assert not legacy.parent.exists()


def test_default_paths_follow_excel_and_xlwings(tmp_path):
    win = addin.default_paths("win32", home=tmp_path, environ={"APPDATA": r"C:\U\AppData\Roaming",
                                                              "USERPROFILE": r"C:\U"})
    assert win.addin == Path(r"C:\U\AppData\Roaming") / "Microsoft" / "Excel" / "XLSTART" / "xlreport.xlam"
    assert win.legacy_config == Path(r"C:\U") / ".xlreport" / "xlreport.conf"
    mac = addin.default_paths("darwin", home=tmp_path)
    assert mac.addin.parts[-4:] == ("User Content.localized", "Startup.localized", "Excel", "xlreport.xlam")
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
