"""The Excel add-in: build ``xlreport.xlam`` from its text sources, install it, remove it.

The add-in is assembled without Excel, on any OS, and reproducibly (same sources, same bytes):

* the VBA project, written by pyOpenVBA: our ribbon callbacks (``macros/xlreport.bas``), a
  generated module ``xlreportVersion`` with the add-in's version (the handshake: every click
  tells Python which add-in and which xlwings VBA module sent it), the xlwings VBA module from
  the *installed* xlwings package (``xlwings_custom_addin.bas``, with ``PROJECT_NAME`` set to
  ``xlreport``) and the ``Dictionary`` class that module needs on macOS. The project's
  ``_VBA_PROJECT`` stream is then written in the 7-byte form [MS-OVBA] 2.3.4.1 asks writers to
  use (version 0xFFFF, no performance cache), so Excel compiles the project from its source;
* the ribbon (``macros/customUI.xml``) as the ``customUI/customUI.xml`` part;
* the workbook: pyOpenVBA's blank ``.xlam``, with our own document properties and its one sheet
  named ``xlreport.conf``: xlwings' configuration sheet (see :func:`configure`).

The sources come with the package (``xlreport/macros``, see :mod:`xlreport.resources`), so
``xlreport addin build`` works from any folder.

**Where the add-in finds Python.** xlwings' VBA (``GetConfig``) reads the interpreter from a
sheet ``xlreport.conf`` in the add-in itself before any config file, and expands environment
variables in it (``WScript.Shell.ExpandEnvironmentStrings``, which is Unicode). The add-in
therefore carries its configuration: no text file in the Windows code page (VBA's ``Input #``
reads files in the ANSI code page, so a UTF-8 file turned ``Åsa`` into ``Ã…sa``), and an
interpreter under ``%LOCALAPPDATA%`` is written as ``%LOCALAPPDATA%\\...`` so one add-in file
works for every user. xlwings checks that the interpreter exists with VBA's ``GetAttr``, which
sees the path in the ANSI code page: :func:`install` refuses (with the fix) a path that code page
cannot spell, after trying the path's 8.3 short form.
"""

from __future__ import annotations

import io
import ntpath
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .records import Record

ADDIN_NAME = "xlreport"
ADDIN_FILE = f"{ADDIN_NAME}.xlam"
PROJECT_NAME = ADDIN_NAME  # the xlwings PROJECT_NAME: names the config sheet and config file
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
RIBBON_MODULE_FILE = "xlreport.bas"
VERSION_MODULE = "xlreportVersion"
CUSTOM_UI_FILE = "customUI.xml"
CUSTOM_UI_PART = "customUI/customUI.xml"
CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
# Every zip entry gets this timestamp, so the same sources give the same bytes.
FIXED_DATE = (2020, 1, 1, 0, 0, 0)
FIXED_W3CDTF = "2020-01-01T00:00:00Z"
# [MS-OVBA] 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00, Reserved3 0x0001 (as in
# the specification's example, 3.1.1, and in xlwings' own add-ins); no PerformanceCache.
VBA_PROJECT_STREAM = bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x01, 0x00])
# Where the offline bundle's install script puts the environment (see xlreport.bundle).
BUNDLE_INTERPRETER_WIN = r"%LOCALAPPDATA%\xlreport\env\Scripts\pythonw.exe"
LEGACY_CONFIG = Path(f".{PROJECT_NAME}") / f"{PROJECT_NAME}.conf"  # written by versions before 0.1.0's handshake


class AddinError(Exception):
    """A problem the user can fix (sources or xlwings not found, folder not writable)."""


def version() -> str:
    from . import __version__

    return __version__


# --- sources ------------------------------------------------------------------------------

def macros_dir(explicit: str | Path | None = None) -> Path:
    """The folder with the add-in's text sources: ``explicit``, else the installed package's."""
    from .resources import packaged

    folder = Path(explicit) if explicit else packaged("macros")
    if folder is not None and (folder / RIBBON_MODULE_FILE).is_file() and (folder / CUSTOM_UI_FILE).is_file():
        return folder
    where = f" i {folder}" if folder is not None else ""
    raise AddinError(f"Hittar inte tilläggets källfiler (xlreport.bas och customUI.xml){where}. "
                     "Installera om xlreport, eller ange mappen med --macros.")


def xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent


def xlwings_module_source() -> str:
    """xlwings' VBA module for custom add-ins, configured for this add-in's name."""
    path = xlwings_dir() / "xlwings_custom_addin.bas"
    if not path.is_file():
        raise AddinError(f"Hittar inte xlwings VBA-modul ({path}); installera om xlwings.")
    text = path.read_text(encoding="utf-8")
    configured, n = re.subn(r'(Public Const PROJECT_NAME As String = )"[^"]*"', rf'\1"{PROJECT_NAME}"', text)
    if n != 1:
        raise AddinError(f"Okänd version av {path.name}: hittar inte PROJECT_NAME.")
    return configured


def version_module_source(addin_version: str | None = None) -> str:
    """The generated module that tells every click which add-in sent it."""
    return (f'Attribute VB_Name = "{VERSION_MODULE}"\n'
            "' Generated by xlreport addin build: the version of xlreport this add-in was built from.\n"
            "' Each ribbon click passes it to Python, which refuses a mismatch with one message.\n"
            "Option Explicit\n\n"
            f'Public Const XLREPORT_VERSION As String = "{addin_version or version()}"\n')


class Module(Record, frozen=True):
    name: str
    source: str
    is_class: bool = False


def vba_modules(macros: Path) -> list[Module]:
    """Every module of the add-in's VBA project, in project order."""
    ours = [Module(_vb_name(p.read_text(encoding="utf-8")), p.read_text(encoding="utf-8"))
            for p in sorted(macros.glob("*.bas"))]
    ours += [Module(_vb_name(p.read_text(encoding="utf-8")), p.read_text(encoding="utf-8"), True)
             for p in sorted(macros.glob("*.cls"))]
    dictionary = (xlwings_dir() / "addin" / "Dictionary.cls").read_text(encoding="utf-8")
    return [*ours, Module(VERSION_MODULE, version_module_source()), Module("xlwings", xlwings_module_source()),
            Module("Dictionary", dictionary, True)]


def _vb_name(source: str) -> str:
    m = re.search(r'^Attribute VB_Name = "([^"]+)"', source, re.MULTILINE)
    if not m:
        raise AddinError("En VBA-modul saknar raden Attribute VB_Name.")
    return m.group(1)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


# --- build --------------------------------------------------------------------------------

def default_config() -> dict[str, str]:
    """The configuration a freshly built add-in carries: Python where the bundle installs it."""
    return {"INTERPRETER_WIN": BUNDLE_INTERPRETER_WIN}


def build(out_path: str | Path = ADDIN_FILE, *, macros: str | Path | None = None,
          config: dict[str, str] | None = None) -> Path:
    """Assemble the add-in at ``out_path`` from the sources; returns the path written."""
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    folder = macros_dir(macros)
    custom_ui = (folder / CUSTOM_UI_FILE).read_bytes()
    out = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="xlreport-addin-") as tmp:
        blank, project_file = Path(tmp) / "blank.xlam", Path(tmp) / "project.xlam"
        with ExcelFile.create_new(blank) as wb:
            project = wb.vba_project()
            for name in [m for m in project.module_names() if m.casefold().startswith("module")]:
                project.delete_module(name)
            for module in vba_modules(folder):
                kind = VBAModuleKind.other if module.is_class else VBAModuleKind.standard
                project.add_module(module.name, crlf(module.source), kind=kind)
            wb.save(project_file)
        parts = _parts(project_file.read_bytes())
    parts["xl/vbaProject.bin"] = interoperable_vba_project(parts["xl/vbaProject.bin"])
    parts.update(_custom_ui_parts(parts, custom_ui))
    parts.update(_properties())
    package = configure(_zip(parts), default_config() if config is None else config)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(package)
    return out


def interoperable_vba_project(vba_project: bytes) -> bytes:
    """The VBA project with the 7-byte ``_VBA_PROJECT`` stream: no version-bound cache, which
    Office must then ignore and rebuild from the modules' source ([MS-OVBA] 1.6)."""
    from pyopenvba.cfb import CFB

    cfb = CFB.from_bytes(vba_project)
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    return cfb.to_bytes()


def _parts(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as src:
        return {info.filename: src.read(info) for info in src.infolist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    """The parts as a package, written reproducibly: [Content_Types].xml first, as Office does."""
    first = "[Content_Types].xml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in [first, *sorted(n for n in parts if n != first)]:
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, parts[name])
    return buf.getvalue()


def _custom_ui_parts(parts: dict[str, bytes], custom_ui: bytes) -> dict[str, bytes]:
    """The ribbon part, and the root relationships pointing at it."""
    rels = parts["_rels/.rels"].decode("utf-8")
    if CUSTOM_UI_REL not in rels:
        rel = f'<Relationship Id="rIdXlreportUI" Type="{CUSTOM_UI_REL}" Target="{CUSTOM_UI_PART}"/>'
        rels = rels.replace("</Relationships>", rel + "</Relationships>", 1)
    return {"_rels/.rels": rels.encode("utf-8"), CUSTOM_UI_PART: custom_ui}


def _properties() -> dict[str, bytes]:
    """Our own document properties (the blank workbook came with its author's)."""
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:title>xlreport – fliken Delårsrapport</dc:title>"
            "<dc:subject>Excel-tillägg för delårsrapporten</dc:subject>"
            "<dc:creator>xlreport</dc:creator>"
            f"<cp:keywords>xlreport {escape(version())}</cp:keywords>"
            "<dc:description>Byggt av xlreport addin build från källfilerna i paketet xlreport.</dc:description>"
            "<cp:lastModifiedBy>xlreport</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_W3CDTF}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_W3CDTF}</dcterms:modified>'
            "</cp:coreProperties>")
    app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
           '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
           "</vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs>"
           f'<TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>{CONFIG_SHEET}</vt:lpstr></vt:vector>'
           "</TitlesOfParts><Company>xlreport</Company><LinksUpToDate>false</LinksUpToDate>"
           "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
           "<AppVersion>16.0300</AppVersion></Properties>")
    return {"docProps/core.xml": core.encode("utf-8"), "docProps/app.xml": app.encode("utf-8")}


# --- the configuration sheet --------------------------------------------------------------

SHEET_PART = "xl/worksheets/sheet1.xml"
_SHEET_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def configure(package: bytes, config: dict[str, str]) -> bytes:
    """The add-in with its one sheet named ``xlreport.conf`` holding ``config``: key in column A,
    value in column B, one row each, as xlwings' ``GetConfigFromSheet`` reads it."""
    parts = _parts(package)
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
        f'<c r="B{i}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c></row>'
        for i, (key, value) in enumerate(config.items(), start=1))
    extent = f"A1:B{len(config)}" if config else "A1"
    parts[SHEET_PART] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         f'<worksheet {_SHEET_NS}><sheetPr codeName="Sheet1"/><dimension ref="{extent}"/>'
                         '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
                         '<sheetFormatPr defaultRowHeight="14.5"/><cols><col min="1" max="1" width="20" '
                         'customWidth="1"/><col min="2" max="2" width="80" customWidth="1"/></cols>'
                         f"<sheetData>{rows}</sheetData>"
                         '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                         "</worksheet>").encode()
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    workbook, n = re.subn(r'(<sheet name=")[^"]*(")', rf"\g<1>{CONFIG_SHEET}\g<2>", workbook, count=1)
    if n != 1:
        raise AddinError("Tillägget saknar sitt blad; bygg det igen med xlreport addin build.")
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    return _zip(parts)


def read_config(path: str | Path) -> dict[str, str]:
    """The configuration sheet of a built add-in, read as a spreadsheet reader (and Excel) reads it."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(CONFIG_SHEET)
    return {str(row[0]): str(row[1]) for row in sheet.to_python() if row and row[0]}


# --- install and remove -------------------------------------------------------------------

class Paths(Record, frozen=True):
    addin: Path  # where the .xlam goes
    legacy_config: Path | None = None  # the config file earlier versions wrote (removed)

    def describe(self) -> str:
        return f"tillägget: {self.addin}"


def default_paths(platform: str = sys.platform, home: Path | None = None,
                  environ: dict[str, str] | None = None) -> Paths:
    """Excel's start-up folder for this user (a trusted location by default), per OS."""
    env = os.environ if environ is None else environ
    home = home or Path.home()
    if platform.startswith("win"):
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(env.get("USERPROFILE") or home)
        return Paths(appdata / "Microsoft" / "Excel" / "XLSTART" / ADDIN_FILE, profile / LEGACY_CONFIG)
    if platform == "darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office"
        return Paths(office / "User Content.localized" / "Startup.localized" / "Excel" / ADDIN_FILE,
                     home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / f"{PROJECT_NAME}.conf")
    raise AddinError("Excel-tillägget kan bara installeras på Windows och macOS. "
                     "Använd --dest för att välja en mapp.")


def dest_paths(dest: str | Path) -> Paths:
    """The add-in in a folder of one's choice (for tests, or to copy by hand)."""
    return Paths(Path(dest) / ADDIN_FILE)


def default_interpreter(platform: str = sys.platform) -> str:
    """The Python that runs xlreport: pythonw.exe beside python.exe on Windows (no console window)."""
    exe = Path(sys.executable)
    if platform.startswith("win"):
        windowless = exe.with_name("pythonw.exe")
        if windowless.is_file():
            return str(windowless)
    return str(exe)


def interpreter_config(interpreter: str, platform: str = sys.platform,
                       environ: dict[str, str] | None = None) -> dict[str, str]:
    """The configuration sheet's rows for ``interpreter`` on ``platform``."""
    if platform == "darwin":
        return {"INTERPRETER_MAC": interpreter}
    return {"INTERPRETER_WIN": windows_config_path(interpreter, platform, environ)}


def windows_config_path(interpreter: str, platform: str = sys.platform,
                        environ: dict[str, str] | None = None) -> str:
    """``interpreter`` as the add-in's sheet should hold it on Windows.

    Under %LOCALAPPDATA% it is written with the variable, so the add-in works for any user. The
    expanded path must survive VBA's ANSI view of it (``GetAttr`` in xlwings' ``FileExists``):
    a path the code page cannot spell is replaced by its 8.3 short form, or refused."""
    env = os.environ if environ is None else environ
    local = env.get("LOCALAPPDATA", "")
    value = interpreter
    if local and ntpath.normcase(interpreter).startswith(ntpath.normcase(local.rstrip("\\/")) + "\\"):
        value = "%LOCALAPPDATA%" + interpreter[len(local.rstrip("\\/")):]
    if ansi_safe(interpreter, platform):
        return value
    short = _short_path(interpreter) if platform.startswith("win") and sys.platform.startswith("win") else None
    if short and ansi_safe(short, platform):
        return short
    raise AddinError(f"Sökvägen till Python ({interpreter}) innehåller tecken som Excels makron inte kan läsa "
                     "(de läser sökvägar i Windows teckentabell). Installera xlreport i en mapp vars namn bara "
                     "har tecken som finns i svenska Windows, t.ex. C:\\xlreport, och ange den med --interpreter, "
                     "eller be IT aktivera korta filnamn (8.3) på enheten.")


def ansi_encoding(platform: str = sys.platform) -> str:
    """The code page VBA's file functions use: the ANSI code page on Windows (cp1252 on Swedish
    Windows; Python's "mbcs" is exactly it), cp1252 when building for Windows elsewhere."""
    return "mbcs" if platform.startswith("win") and sys.platform.startswith("win") else "cp1252"


def ansi_safe(path: str, platform: str = sys.platform) -> bool:
    """``path`` comes back unchanged when encoded to and decoded from VBA's code page."""
    encoding = ansi_encoding(platform)
    try:
        return path.encode(encoding, errors="strict").decode(encoding) == path
    except UnicodeError:
        return False


def _short_path(path: str) -> str | None:
    """The 8.3 short form of an existing path (Windows only), or None."""
    import ctypes

    buf = ctypes.create_unicode_buffer(32768)
    n = ctypes.windll.kernel32.GetShortPathNameW(path, buf, len(buf))  # type: ignore[attr-defined]
    return buf.value if 0 < n < len(buf) else None


def install(source: str | Path | None = None, *, dest: str | Path | None = None,
            interpreter: str | None = None, platform: str = sys.platform) -> Paths:
    """Copy the add-in to Excel's start-up folder, configured to run ``interpreter`` (by default
    the Python running this); builds it first when no ``source`` is given."""
    paths = dest_paths(dest) if dest else default_paths(platform)
    config = interpreter_config(interpreter or default_interpreter(platform), platform)
    if source is None:
        with tempfile.TemporaryDirectory(prefix="xlreport-addin-") as tmp:
            package = build(Path(tmp) / ADDIN_FILE).read_bytes()
    else:
        src = Path(source)
        if not src.is_file():
            raise AddinError(f"Hittar inte tillägget {src}; kör först: xlreport addin build")
        package = src.read_bytes()
    try:
        configured = configure(package, config)
    except (zipfile.BadZipFile, KeyError):
        raise AddinError(f"{source} är inget tillägg byggt av xlreport; kör: xlreport addin build") from None
    paths.addin.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = paths.addin.with_name(f".~{paths.addin.name}")
    tmp_file.write_bytes(configured)
    os.replace(tmp_file, paths.addin)  # Excel never sees half a file
    if paths.legacy_config is not None and paths.legacy_config.is_file():
        paths.legacy_config.unlink()  # the add-in's own sheet is read first; an old file only confuses
    return paths


def remove(*, dest: str | Path | None = None, platform: str = sys.platform) -> list[Path]:
    """Delete the installed add-in (and a config file an earlier version wrote); returns what
    was deleted."""
    paths = dest_paths(dest) if dest else default_paths(platform)
    removed = []
    for path in (paths.addin, paths.legacy_config):
        if path is not None and path.is_file():
            path.unlink()
            removed.append(path)
    folder = paths.legacy_config.parent if paths.legacy_config else None
    if folder is not None and folder.name == f".{PROJECT_NAME}" and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return removed
