"""The Excel add-in: build ``xlreport.xlam`` from the text sources in ``macros/``, install it, remove it.

The add-in is assembled without Excel, on any OS, and reproducibly (same sources, same bytes):

* the VBA project, written by pyOpenVBA: our ribbon callbacks (``macros/xlreport.bas``), the
  xlwings VBA module from the *installed* xlwings package (``xlwings_custom_addin.bas``, with
  ``PROJECT_NAME`` set to ``xlreport`` so it reads this add-in's config) and the ``Dictionary``
  class that module needs on macOS;
* the ribbon (``macros/customUI.xml``) as the ``customUI/customUI.xml`` part with its
  relationship from the package root;
* a minimal add-in workbook (pyOpenVBA's blank ``.xlam``, captured from Excel).

``install`` copies the add-in to the folder Excel loads add-ins from at start-up and writes the
interpreter to the add-in's user config file, which xlwings' VBA reads (``GetConfig``):
``%USERPROFILE%\\.xlreport\\xlreport.conf`` on Windows and
``~/Library/Containers/com.microsoft.Excel/Data/xlreport.conf`` on macOS. ``remove`` undoes both.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ADDIN_NAME = "xlreport"
ADDIN_FILE = f"{ADDIN_NAME}.xlam"
PROJECT_NAME = ADDIN_NAME  # the xlwings PROJECT_NAME: names the config file and config sheet
RIBBON_MODULE_FILE = "xlreport.bas"
CUSTOM_UI_FILE = "customUI.xml"
CUSTOM_UI_PART = "customUI/customUI.xml"
CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
# Every zip entry gets this timestamp, so the same sources give the same bytes.
FIXED_DATE = (2020, 1, 1, 0, 0, 0)


class AddinError(Exception):
    """A problem the user can fix (sources or xlwings not found, folder not writable)."""


# --- sources ------------------------------------------------------------------------------

def macros_dir(explicit: str | Path | None = None) -> Path:
    """The folder with the add-in's text sources: ``explicit``, ./macros, or the source tree's."""
    candidates = [Path(explicit)] if explicit else [Path.cwd() / "macros",
                                                      Path(__file__).resolve().parents[2] / "macros"]
    for folder in candidates:
        if (folder / RIBBON_MODULE_FILE).is_file() and (folder / CUSTOM_UI_FILE).is_file():
            return folder
    raise AddinError("Hittar inte tilläggets källfiler (mappen macros med xlreport.bas och customUI.xml). "
                     "Kör kommandot i projektmappen eller ange mappen med --macros.")


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


@dataclass(frozen=True)
class Module:
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
    return [*ours, Module("xlwings", xlwings_module_source()), Module("Dictionary", dictionary, True)]


def _vb_name(source: str) -> str:
    m = re.search(r'^Attribute VB_Name = "([^"]+)"', source, re.MULTILINE)
    if not m:
        raise AddinError("En VBA-modul saknar raden Attribute VB_Name.")
    return m.group(1)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


# --- build --------------------------------------------------------------------------------

def build(out_path: str | Path = ADDIN_FILE, *, macros: str | Path | None = None) -> Path:
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
        package = _with_custom_ui(project_file.read_bytes(), custom_ui)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(package)
    return out


def _with_custom_ui(package: bytes, custom_ui: bytes) -> bytes:
    """The package with the ribbon part added and related from the root, rewritten reproducibly."""
    with zipfile.ZipFile(io.BytesIO(package)) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    rels = parts["_rels/.rels"].decode("utf-8")
    if CUSTOM_UI_REL not in rels:
        rel = f'<Relationship Id="rIdXlreportUI" Type="{CUSTOM_UI_REL}" Target="{CUSTOM_UI_PART}"/>'
        parts["_rels/.rels"] = rels.replace("</Relationships>", rel + "</Relationships>", 1).encode("utf-8")
    parts[CUSTOM_UI_PART] = custom_ui
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in _part_order(parts):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, parts[name])
    return buf.getvalue()


def _part_order(parts: dict[str, bytes]) -> list[str]:
    """[Content_Types].xml first (as Office writes it), the rest in a fixed order."""
    first = "[Content_Types].xml"
    return [first, *sorted(n for n in parts if n != first)]


# --- install and remove -------------------------------------------------------------------

@dataclass(frozen=True)
class Paths:
    addin: Path  # where the .xlam goes
    config: Path  # the add-in's user config file

    def describe(self) -> str:
        return f"tillägget: {self.addin}\nkonfiguration: {self.config}"


def default_paths(platform: str = sys.platform, home: Path | None = None,
                  environ: dict[str, str] | None = None) -> Paths:
    """Excel's start-up folder and the xlwings user config path for this add-in, per OS."""
    env = os.environ if environ is None else environ
    home = home or Path.home()
    if platform.startswith("win"):
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(env.get("USERPROFILE") or home)
        return Paths(appdata / "Microsoft" / "Excel" / "XLSTART" / ADDIN_FILE,
                     profile / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf")
    if platform == "darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office"
        return Paths(office / "User Content.localized" / "Startup.localized" / "Excel" / ADDIN_FILE,
                     home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / f"{PROJECT_NAME}.conf")
    raise AddinError("Excel-tillägget kan bara installeras på Windows och macOS. "
                     "Använd --dest för att välja en mapp.")


def dest_paths(dest: str | Path) -> Paths:
    """Both files in one folder (for tests, or to copy by hand)."""
    folder = Path(dest)
    return Paths(folder / ADDIN_FILE, folder / f"{PROJECT_NAME}.conf")


def config_text(interpreter: str, platform: str = sys.platform) -> str:
    """The config file as ``xlwings config create`` writes it: one ``"KEY","value"`` line, which
    xlwings' VBA reads with ``Input #``; Windows line endings on Windows."""
    key = "INTERPRETER_MAC" if platform == "darwin" else "INTERPRETER_WIN"
    line = f'"{key}","{interpreter}"\n'
    return crlf(line) if platform.startswith("win") else line


def default_interpreter(platform: str = sys.platform) -> str:
    """The Python that runs xlreport: pythonw.exe beside python.exe on Windows (no console window)."""
    exe = Path(sys.executable)
    if platform.startswith("win"):
        windowless = exe.with_name("pythonw.exe")
        if windowless.is_file():
            return str(windowless)
    return str(exe)


def install(source: str | Path | None = None, *, dest: str | Path | None = None,
            interpreter: str | None = None, platform: str = sys.platform) -> Paths:
    """Copy the add-in to Excel's start-up folder and write its config; builds it first if needed."""
    paths = dest_paths(dest) if dest else default_paths(platform)
    paths.addin.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        build(paths.addin)
    else:
        src = Path(source)
        if not src.is_file():
            raise AddinError(f"Hittar inte tillägget {src}; kör först: xlreport addin build")
        paths.addin.write_bytes(src.read_bytes())
    paths.config.parent.mkdir(parents=True, exist_ok=True)
    paths.config.write_bytes(config_text(interpreter or default_interpreter(platform), platform).encode("utf-8"))
    return paths


def remove(*, dest: str | Path | None = None, platform: str = sys.platform) -> list[Path]:
    """Delete the installed add-in and its config file; returns what was deleted."""
    paths = dest_paths(dest) if dest else default_paths(platform)
    removed = []
    for path in (paths.addin, paths.config):
        if path.is_file():
            path.unlink()
            removed.append(path)
    folder = paths.config.parent
    if folder.name == f".{PROJECT_NAME}" and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return removed
