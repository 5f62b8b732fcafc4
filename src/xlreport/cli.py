"""The ``xlreport`` command line.

Start-up is kept light: this module imports only the standard library at the top, and each
command imports what it needs when it runs, so ``xlreport --help`` answers at once.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 a file could not be processed.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from .core.errors import OK as EXIT_OK
from .core.errors import UNPROCESSABLE as EXIT_UNPROCESSABLE

DESCRIPTION = """\
Kontrollera och fyll i delårsrapportens arbetsbok.

  refresh   kontrollera, fyll i avvikelser och skriv rapportbladen (allt)
  validate  bara kontrollera, skriver ingenting
  fill      fyll i avvikelsekolumnerna (Avvikelse ack, Avvikelse helår)
  generate  skriv bladen Rapport och Kontroller
  rules     lista kontrollerna
  new       skapa mallar stämplade för enheterna
  upgrade   flytta en arbetsbok till den nuvarande mallversionen
  consolidate  sammanställ enheternas arbetsböcker i nämndens
  import-sie  hämta utfall och budget från bokföringens SIE-fil till arbetsboken
  check-text  kontrollera siffrorna i rapportens text mot tabellerna
  fix       rätta det som går: tal sparade som text, osynliga tecken i namn, andelar i stället för procent
  chase     lista förklaringar att begära: väsentliga avvikelser utan förklaring (CSV för Excel)
  export    skriv rapporten som Word- och PDF-dokument (med diagram)
  addin     bygg, installera eller ta bort Excel-tillägget (menyfliken Delårsrapport)
  bundle    skapa ett installationspaket för IT (utan internet, utan administratörsrätt)

refresh och validate tar flera filer, mappar och mönster; --jobs N kör dem parallellt.
refresh, generate och export tar --previous FÖRRA.xlsx: prognosens förändring sedan förra rapporten.

Inget skrivs i en arbetsbok som har fel: rätta felen och kör igen.
Slutkod: 0 inga fel, 1 fel hittades, 2 filen kunde inte läsas."""


def _terminal_width() -> int:
    """The help's width as argparse computes it, without ``shutil`` (argparse builds a help
    formatter for every option it adds, and the formatter imports shutil for this: about 9 ms of
    every command's start-up with what shutil imports)."""
    import os

    try:
        return int(os.environ["COLUMNS"]) - 2
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns - 2
    except (AttributeError, ValueError, OSError):
        return 78


class _Help(argparse.HelpFormatter):
    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, width or _terminal_width())


class _RawHelp(_Help, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose sub-commands' parsers use :class:`_Help` too."""

    def __init__(self, *args, formatter_class=_Help, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


class _Skipped:
    """What :class:`_Commands` gives for a command that is not run: it takes every call."""

    def __getattr__(self, name):
        return self._take

    def _take(self, *args, **kwargs):
        return self


class _Commands:
    """The sub-command registry, building only the parser of ``only`` (when given): building
    all of them costs every command about 12 ms (argparse looks up a translation for every
    string it is given)."""

    def __init__(self, sub, only: str | None):
        self.sub, self.only, self.found = sub, only, False

    def add_parser(self, name: str, **kwargs):
        if self.only is not None and name != self.only:
            return _Skipped()
        self.found = True
        return self.sub.add_parser(name, **kwargs)


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``only``, just that command's (all of them when it is no
    command: the help, the message for an unknown command)."""
    p = _Parser(prog="xlreport", description=DESCRIPTION, formatter_class=_RawHelp)
    p.add_argument("--version", action="store_true", help="visa version")
    sub = _Commands(p.add_subparsers(dest="command", metavar="KOMMANDO", prog="xlreport"), only)
    _commands(sub)
    return p if only is None or sub.found else _parser()


def _commands(sub) -> None:

    def writer(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("paths", nargs="+", metavar="ARBETSBOK",
                        help="arbetsböcker (.xlsx/.xlsm), mappar eller mönster som 'enheter/*.xlsx'")
        sp.add_argument("-o", "--output", metavar="UT",
                        help="skriv resultatet hit i stället för i arbetsboken (bara med en fil)")
        sp.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")
        _jobs_option(sp)
        return sp

    _previous_option(writer("refresh", "kontrollera, fyll i avvikelser och skriv rapportbladen"))
    writer("fill", "kontrollera och fyll i avvikelsekolumnerna")
    _previous_option(writer("generate", "kontrollera och skriv bladen Rapport och Kontroller"))
    v = sub.add_parser("validate", help="kontrollera, skriver ingenting",
                       description="Kör alla kontroller och skriv ut fynden; arbetsboken ändras inte.")
    v.add_argument("paths", nargs="+", metavar="ARBETSBOK", help="arbetsböcker, mappar eller mönster")
    v.add_argument("--format", choices=("text", "json"), default="text")
    _jobs_option(v)
    _departments_parsers(sub)  # --- new, upgrade, consolidate (xlreport.departments) ---
    r = sub.add_parser("rules", help="lista kontrollerna",
                       description="Lista varje regel som ett fynd kan ha: id, grupp, allvarlighet och vad den "
                                   "kontrollerar.")
    r.add_argument("--format", choices=("text", "json"), default="text", help="utdata: en tabell eller json")
    _addin_parser(sub)  # --- Excel add-in (xlreport.addin), see _addin_parser below ---
    _bundle_parser(sub)  # --- offline bundle for IT (xlreport.bundle) ---
    _export_parser(sub)  # --- the report as Word/PDF (xlreport.export), see _export_parser below ---
    _sie_parser(sub)  # --- figures from the ledger (xlreport.sie), see _sie_parser below ---
    _text_parser(sub)  # --- the text against the tables (xlreport.narrative), see _text_parser below ---
    _fix_parser(sub)  # --- safe conversions (xlreport.core.fixes), see _fix_parser below ---
    _chase_parser(sub)  # --- the chase list (xlreport.commentary), see _chase_parser below ---


def _emit(result, fmt: str) -> int:
    """Print a command's result (its ``lines()``, or ``to_dict()`` as JSON); its status is the exit code."""
    if fmt == "json":
        import json  # only for --format json

        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        for line in result.lines():
            print(line)
    return result.status


# --- the report as Word and PDF: `xlreport export` (delegates to xlreport.export) ----------

def _export_parser(sub) -> None:
    e = sub.add_parser("export", help="skriv rapporten som Word- och PDF-dokument",
                       description="Skriv delårsrapporten som ett dokument att publicera: sammanfattning, ekonomi, "
                                   "tabellerna, personal, sjukfrånvaro, åtaganden och diagram, med samma meningar och "
                                   "siffror som bladet Rapport. Arbetsboken ändras inte. Utan --docx och --pdf skrivs "
                                   "en Word-fil bredvid arbetsboken.")
    e.add_argument("path", metavar="ARBETSBOK")
    e.add_argument("--docx", metavar="UT.docx", help="skriv Word-dokumentet hit")
    e.add_argument("--pdf", metavar="UT.pdf", help="skriv PDF-filen hit (kräver LibreOffice)")
    e.add_argument("--mall", metavar="MALL.docx", help="kommunens Word-mall (.docx/.dotx): dess stilar, sidhuvud, "
                                                        "sidfot och första sida")
    _previous_option(e)
    e.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")


def _export(args) -> int:
    from .core.errors import FINDINGS, XlreportError
    from .export import export_workbook

    docx = args.docx
    if docx is None and args.pdf is None:
        docx = str(Path(args.path).with_suffix(".docx"))
    from .core.movement import refused

    try:
        r = export_workbook(args.path, docx=docx, pdf=args.pdf, template=args.mall, previous=args.previous)
    except XlreportError as exc:
        print(f"xlreport export: {exc}", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    status = (EXIT_UNPROCESSABLE if refused(r.findings) else FINDINGS) if r.errors else EXIT_OK
    if args.format == "json":
        doc = {"file": r.file, "status": status, "errors": r.errors, "warnings": r.warnings,
               "written": [str(p) for p in r.written], "findings": [f.to_dict(r.file) for f in r.findings],
               **({"movement": r.movement.to_dict() if r.movement else None} if args.previous else {})}
        import json  # only for --format json

        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
        return status
    for f in r.findings:
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
        print(f"{r.file}: {where + ': ' if where else ''}{'fel' if f.is_error else 'varning'}: {f.message} [{f.rule}]")
    if r.errors:
        print(f"{r.file}: {r.errors} fel; ingen rapport skrevs. Rätta felen och kör igen.")
        return status
    if r.movement is not None:
        print(f"{r.file}: {r.movement.text()}")
    print(f"{r.file}: skrev {' och '.join(str(p) for p in r.written)}.")
    return EXIT_OK

# --- end of export block -----------------------------------------------------------------------


# --- figures from the ledger: `xlreport import-sie` (delegates to xlreport.sie) ------------

def _sie_parser(sub) -> None:
    s = sub.add_parser("import-sie", help="hämta utfall och budget från en SIE-fil (bokföringens export)",
                       description="Läs en SIE 4-fil (typ 1–4) från bokföringen och fyll i Utfall ack, Utfall ack fg "
                                   "år, Budget ack och Budget helår i Resultaträkning och på enheternas rader i "
                                   "Driftredovisning; kör sedan refresh. Kontona, raderna och enheterna stäms av på "
                                   "öret. Inget skrivs om något är fel.")
    s.add_argument("sie", metavar="SIE-FIL", help="filen från bokföringen, t.ex. huvudbok.se")
    s.add_argument("workbook", metavar="ARBETSBOK", help="rapportens arbetsbok (.xlsx/.xlsm)")
    s.add_argument("--map", metavar="KONTON.csv", help="vilken rad i Resultaträkning kontona hör till (Konto;Rad); "
                                                       "annars Kommun-Bas standard")
    s.add_argument("--enheter", metavar="ENHETER.csv", help="vilken enhet objekten hör till (Objekt;Enhet); annars "
                                                            "objektets namn")
    s.add_argument("--dimension", default="1", metavar="DIM", help="dimensionen vars objekt är enheterna (standard 1, "
                                                                   "kostnadsställe)")
    s.add_argument("--decimaler", type=int, choices=range(7), metavar="N",
                   help="decimaler i mnkr (standard 2, en mer än mallen visar)")
    s.add_argument("-o", "--output", metavar="UT", help="skriv resultatet hit i stället för i arbetsboken")
    s.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")


def _import_sie(args) -> int:
    from .sie.importing import import_sie

    r = import_sie(args.sie, args.workbook, args.output, accounts=args.map, units=args.enheter,
                   dimension=args.dimension, decimals=args.decimaler)
    return _emit(r, args.format)

# --- end of SIE block ------------------------------------------------------------------------

# --- the text against the tables: `xlreport check-text` (delegates to xlreport.narrative) ---

def _text_parser(sub) -> None:
    t = sub.add_parser("check-text", help="kontrollera siffrorna i rapportens text mot tabellerna",
                       description="Hitta varje siffra som texten anger om tabellernas figurer (belopp i mnkr och "
                                   "tkr, sjukfrånvaro och mål, antal anställda, kvinnor och män, förändringar, "
                                   "avgångar, åtaganden, år och period) och jämför den med tabellen, med den "
                                   "avrundning texten använder. Texten är ett blad i arbetsboken (Text eller "
                                   "Förvaltningsberättelse, ett stycke per cell) eller ett Word-dokument. Inget "
                                   "skrivs. Siffror som inte går att knyta till en tabell flaggas inte.")
    t.add_argument("text", metavar="TEXT", help="arbetsboken med textbladet, eller Word-dokumentet (.docx)")
    t.add_argument("--mot", metavar="ARBETSBOK", help="arbetsboken med tabellerna (standard: TEXT själv)")
    t.add_argument("--blad", metavar="BLAD", help="textbladet (standard: Text, Förvaltningsberättelse, ...)")
    t.add_argument("--alla", action="store_true", help="visa också varje siffra som stämmer")
    t.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")


def _check_text(args) -> int:
    from .core.errors import FINDINGS, XlreportError
    from .narrative import check_text_file

    try:
        r = check_text_file(args.text, args.mot, sheet=args.blad)
    except XlreportError as exc:
        print(f"xlreport check-text: {exc}", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    if args.format == "json":
        import json  # only for --format json

        json.dump(r.to_dict(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        if args.alla:
            for c in r.result.checks:
                if c.ok:
                    f = c.figure
                    print(f"{r.text_file}: {c.claim.paragraph.where()}: stämmer: {c.claim.written.strip()} "
                          f"({f.source() if f else ''})")
        for line in r.lines():
            print(line)
    return FINDINGS if r.errors else EXIT_OK

# --- end of check-text block -------------------------------------------------------------------


# --- safe conversions: `xlreport fix` (delegates to xlreport.doors.file_fix) -------------------

def _fix_parser(sub) -> None:
    f = sub.add_parser("fix", help="rätta det som går att rätta säkert (tal sparade som text, osynliga tecken, ...)",
                       description="Rätta det som bara kan betyda en sak: tal sparade som text ('113,7', '1 234,5', "
                                   "'3,2-', '(3,2)'), osynliga tecken och extra mellanslag i namn och rubriker (samma "
                                   "namn överallt där enheten står) och sjukfrånvaro sparad som andel (0,025) där "
                                   "kolumnens Kort + Lång = Total visar att procent (2,5) menas. Formler ändras aldrig; "
                                   "det som är oklart lämnas och listas. Skriver som refresh: atomärt, inget annat i "
                                   "arbetsboken ändras.")
    f.add_argument("path", metavar="ARBETSBOK")
    f.add_argument("--dry-run", action="store_true", help="visa varje cell före → efter, skriv ingenting")
    f.add_argument("-o", "--output", metavar="UT", help="skriv resultatet hit i stället för i arbetsboken")
    f.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")


def _fix(args) -> int:
    from .doors.file_fix import fix_file

    r = fix_file(args.path, args.output, dry_run=args.dry_run)
    return _emit(r, args.format)

# --- end of fix block ---------------------------------------------------------------------------


# --- the chase list: `xlreport chase` (delegates to xlreport.commentary.chase) -----------------

def _chase_parser(sub) -> None:
    c = sub.add_parser("chase", help="lista förklaringar att begära (väsentliga avvikelser utan förklaring)",
                       description="Lista varje enhet och rad i Resultaträkning vars avvikelse helår eller ack når "
                                   "väsentlighetsgränsen (Uppgifter, annars 1,0 mnkr) men saknar förklaring "
                                   "(Kommentar, eller rader i Avvikelseförklaring med enhetens namn i Enhet), eller "
                                   "vars förklaringar inte summerar till avvikelsen. Arbetsböckerna ändras inte.")
    c.add_argument("paths", nargs="+", metavar="ARBETSBOK", help="arbetsböcker, mappar eller mönster")
    c.add_argument("--csv", metavar="UT.csv", help="skriv listan som CSV för Excel (semikolon, decimalkomma, UTF-8)")
    c.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")


def _chase(args) -> int:
    from .commentary.chase import chase, summary, text_lines, write_csv
    from .core.errors import FINDINGS, XlreportError

    results = chase(args.paths)
    status = max([r.status for r in results] + [EXIT_OK])
    status = EXIT_UNPROCESSABLE if status == EXIT_UNPROCESSABLE else FINDINGS if status else EXIT_OK
    written = None
    if args.csv:
        try:
            written = write_csv(results, args.csv)
        except XlreportError as exc:
            print(f"xlreport chase: {exc}", file=sys.stderr)
            return EXIT_UNPROCESSABLE
    if args.format == "json":
        doc = {"files": [r.to_dict() for r in results], "status": status,
               "items": sum(len(r.items) for r in results), "csv": str(written) if written else None}
        import json  # only for --format json

        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
        return status
    for line in text_lines(results):
        print(line)
    print(summary(results) + (f" Listan är sparad i {written}." if written else ""))
    return status

# --- end of chase block -------------------------------------------------------------------------


# --- Excel add-in: `xlreport addin build|install|remove` (delegates to xlreport.addin) ------

def _addin_parser(sub) -> None:
    a = sub.add_parser("addin", help="bygg, installera eller ta bort Excel-tillägget",
                       description="Excel-tillägget xlreport.xlam (fliken Delårsrapport).")
    cmds = a.add_subparsers(dest="addin_command", metavar="ÅTGÄRD", required=True, prog="xlreport addin")
    b = cmds.add_parser("build", help="bygg xlreport.xlam från källfilerna i macros/")
    b.add_argument("-o", "--output", default="xlreport.xlam", metavar="UT", help="filen att skriva")
    b.add_argument("--macros", metavar="MAPP", help="mappen med källfilerna (standard: ./macros)")
    i = cmds.add_parser("install", help="installera tillägget så att Excel laddar det vid start")
    i.add_argument("addin", nargs="?", metavar="XLAM", help="ett byggt tillägg (standard: bygg ett nytt)")
    i.add_argument("--dest", metavar="MAPP", help="lägg tillägget och konfigurationen i denna mapp")
    i.add_argument("--interpreter", metavar="PYTHON", help="Python-tolken Excel ska använda")
    r = cmds.add_parser("remove", help="ta bort det installerade tillägget och dess konfiguration")
    r.add_argument("--dest", metavar="MAPP", help="mappen som angavs vid install")


def _addin(args) -> int:
    from . import addin

    try:
        if args.addin_command == "build":
            print(f"Skrev {addin.build(args.output, macros=args.macros)}")
        elif args.addin_command == "install":
            paths = addin.install(args.addin, dest=args.dest, interpreter=args.interpreter)
            print(f"Installerade\n{paths.describe()}\nStarta om Excel så visas fliken Delårsrapport.")
        else:
            removed = addin.remove(dest=args.dest)
            print("\n".join(f"Tog bort {p}" for p in removed) or "Inget att ta bort.")
    except (addin.AddinError, OSError) as exc:
        print(f"xlreport addin: {exc}", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    return EXIT_OK

# --- end of Excel add-in block ----------------------------------------------------------------


# --- offline bundle: `xlreport bundle -o DIR` (delegates to xlreport.bundle) -----------------

def _bundle_parser(sub) -> None:
    b = sub.add_parser("bundle", help="skapa ett installationspaket för IT (utan internet, utan administratörsrätt)",
                       description="Skriv en mapp med xlreport, alla beroenden för Windows x64, tillägget och "
                                   "install.cmd, som installerar för en användare utan internet och utan "
                                   "administratörsrätt. Hämtningen kräver paketindexet (eller pip:s proxy).")
    b.add_argument("-o", "--output", required=True, metavar="MAPP", help="en ny eller tom mapp")
    b.add_argument("--wheel", metavar="WHL", help="xlreports hjulfil (standard: bygg den från källkoden)")
    b.add_argument("--python", action="append", metavar="X.Y", help="Python-version (kan upprepas; "
                   "standard: 3.11, 3.12 och 3.13)")
    b.add_argument("--platform", default="win_amd64", metavar="PLATTFORM",
                   help="win_amd64 (standard) eller current (den här datorn, för test)")


def _bundle(args) -> int:
    from .addin import AddinError
    from .bundle import make
    from .core.errors import XlreportError

    try:
        result = make(args.output, wheel=args.wheel, pythons=tuple(args.python or ()) or None,
                      platform=args.platform)
    except (XlreportError, AddinError, OSError) as exc:
        print(f"xlreport bundle: {exc}", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    print(result.describe())
    return EXIT_OK

# --- end of bundle block ------------------------------------------------------------------------


# --- batch and departments: --jobs, `new`, `upgrade`, `consolidate` (xlreport.batch/.departments) --

def _previous_option(sp) -> None:  # --previous block: the prognosis movement (xlreport.core.movement)
    sp.add_argument("--previous", metavar="FÖRRA.xlsx",
                    help="förra rapportens arbetsbok (samma nämnd och år, tidigare månad): Rapport får "
                         "prognosens förändring sedan dess (bara med en arbetsbok; den filen ändras inte)")


def _jobs_option(sp) -> None:
    sp.add_argument("-j", "--jobs", type=int, metavar="N",
                    help="antal parallella processer (standard: antalet kärnor)")


def _departments_parsers(sub) -> None:
    n = sub.add_parser("new", help="skapa en mall stämplad för en enhet (eller en per enhet i en lista)",
                       description="Skriv en kopia av mallen med kommun, nämnd, enhet, period och mallversion "
                                   "ifyllda. Mallen själv ändras inte.")
    n.add_argument("--unit", action="append", metavar="ENHET", help="enhetens namn (kan upprepas)")
    n.add_argument("--units", metavar="LISTA", help="lista med enheter: .txt (en per rad), .csv (kolumnen "
                   "Enhet) eller .xlsx (listan Enheter, eller --sheet)")
    n.add_argument("--sheet", metavar="BLAD", help="bladet i en .xlsx-lista")
    n.add_argument("--period", required=True, metavar="PERIOD", help="t.ex. 2020-03 eller 'januari–mars 2020'")
    n.add_argument("--template", metavar="MALL", help="mallen (standard: workbooks/mall.xlsx)")
    n.add_argument("--kommun", metavar="KOMMUN")
    n.add_argument("--namnd", "--nämnd", dest="namnd", metavar="NÄMND")
    n.add_argument("--rapport", metavar="RAPPORT", help="t.ex. 'Delårsrapport 1'")
    n.add_argument("-o", "--output", required=True, metavar="UT", help="filen (en enhet) eller mappen (flera)")
    n.add_argument("--force", action="store_true", help="skriv över befintliga filer")
    u = sub.add_parser("upgrade", help="flytta en arbetsbok från en äldre mallversion till den nuvarande",
                       description="Flytta uppgifterna (värden, kommentarer, egna blad) till den nuvarande mallen.")
    u.add_argument("path", metavar="ARBETSBOK")
    u.add_argument("-o", "--output", metavar="UT", help="skriv hit (standard: ersätt arbetsboken)")
    u.add_argument("--template", metavar="MALL", help="den nuvarande mallen (standard: workbooks/mall.xlsx)")
    c = sub.add_parser("consolidate", help="sammanställ enheternas arbetsböcker i nämndens",
                       description="Läs enheternas arbetsböcker och skriv Driftredovisning, Resultaträkning och "
                                   "bladet Källor i nämndens arbetsbok; kör sedan refresh på den.")
    c.add_argument("paths", nargs="+", metavar="FIL_ELLER_MAPP")
    c.add_argument("-o", "--output", required=True, metavar="NÄMND.xlsx")
    c.add_argument("--into", metavar="BEFINTLIG.xlsx", help="utgå från denna arbetsbok i stället för mallen")
    c.add_argument("--template", metavar="MALL")
    c.add_argument("--units", metavar="LISTA", help="nämndens enheter (annars listan Enheter i arbetsboken)")
    c.add_argument("--include-errors", action="store_true", help="ta med enheter vars filer har fel")
    c.add_argument("-j", "--jobs", type=int, metavar="N", help="läs enheterna i N parallella processer (standard: 1)")
    c.add_argument("--format", choices=("text", "json"), default="text")


def _new(args) -> int:
    from .departments import new, new_many, read_unit_list

    units = list(args.unit or [])
    if args.units:
        units += read_unit_list(args.units, args.sheet)
    common = {"kommun": args.kommun, "namnd": args.namnd, "rapport": args.rapport, "force": args.force}
    if len(units) == 1 and not args.units and not Path(args.output).is_dir():
        made = [new(units[0], args.period, args.template, args.output, **common)]
    else:
        if not units:  # the nämnd's list on the template's Uppgifter
            from .departments.common import default_template

            units = read_unit_list(args.template or default_template())
        made = new_many(units, args.period, args.template, args.output, **common)
    for m in made:
        print(f"{m.path}: {m.unit} (mallversion {m.version})")
    print(f"Skrev {len(made)} {'fil' if len(made) == 1 else 'filer'}.")
    return EXIT_OK


def _upgrade(args) -> int:
    from .departments.upgrading import upgrade

    r = upgrade(args.path, args.output, template=args.template)
    for line in r.lines():
        print(line)
    return EXIT_OK


def _consolidate(args) -> int:
    from .departments.consolidation import consolidate
    from .departments.stamp import read_unit_list

    units = read_unit_list(args.units) if args.units else None
    r = consolidate(args.paths, args.output, into=args.into, template=args.template, units=units,
                    include_errors=args.include_errors, jobs=args.jobs)
    notes = [(file, f) for file, f in r.notes]
    for s in r.sources:
        notes += [(str(s.path), f) for f in s.findings if f.is_error]
    central = r.central
    if central is not None:
        notes += [(central.file, f) for f in central.findings]
    if args.format == "json":
        doc = {"output": str(r.out) if r.out else None, "status": r.status,
               "files": [{"file": str(s.path), "unit": s.unit, "status": s.status, "errors": s.errors,
                          "warnings": s.warnings, "included": s.included, "sha256": s.sha256} for s in r.sources],
               "findings": [f.to_dict(file) for file, f in notes]}
        import json  # only for --format json

        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
        return r.status
    for file, f in notes:
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
        sev = "fel" if f.is_error else "varning"
        print(f"{file + ': ' if file else ''}{where + ': ' if where else ''}{sev}: {f.message} [{f.rule}]")
    print(r.summary())
    return r.status

# --- end of batch and departments block ------------------------------------------------------


_ACTIONS = {"refresh": ("fill", "generate"), "fill": ("fill",), "generate": ("generate",)}


def main(argv: list[str] | None = None) -> int:
    """The command line: ``argv`` (default ``sys.argv[1:]``) -> the exit code."""
    if argv is None:
        # Run as the program (the console script, python -m xlreport): a short-lived process whose
        # objects are freed by reference counting (a refresh's collections find no cycles), so
        # the collector runs after 50,000 allocations instead of Python's 700. Interleaved A/B
        # runs: validate of the example 126 -> 118 ms, a 4,000-unit refresh 2.77 -> 2.68 s.
        gc.set_threshold(50_000, 20, 20)
    code = _main(argv)
    if argv is None:
        # The process ends next, and the interpreter's last garbage collection would visit every
        # object the run left behind (a tenth of a validate's time): nothing left matters at exit.
        gc.freeze()
    return code


def _main(argv: list[str] | None) -> int:
    _utf8_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    first = argv[0] if argv and not argv[0].startswith("-") else None
    args = _parser(first).parse_args(argv)
    if args.version:
        from . import __version__

        print(f"xlreport {__version__}")
        return EXIT_OK
    if args.command is None:
        _parser().print_help()
        return EXIT_OK
    try:
        if args.command == "rules":
            return _rules(args.format)
        if args.command == "addin":  # Excel add-in block
            return _addin(args)
        if args.command == "bundle":  # offline bundle block
            return _bundle(args)
        if args.command == "export":  # export block
            return _export(args)
        if args.command == "import-sie":  # SIE block
            return _import_sie(args)
        if args.command == "check-text":  # check-text block
            return _check_text(args)
        if args.command == "fix":  # fix block
            return _fix(args)
        if args.command == "chase":  # chase block
            return _chase(args)
        if args.command in ("new", "upgrade", "consolidate"):
            return _departments(args)
        if args.command == "validate":
            return _run(args.paths, (), write=False, fmt=args.format, jobs=args.jobs)
        return _run(args.paths, _ACTIONS[args.command], write=True, fmt=args.format, out=args.output,
                    jobs=args.jobs, previous=getattr(args, "previous", None))
    except KeyboardInterrupt:
        print("Avbrutet.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`xlreport validate ... | head`): not an error of
        # ours; results were already written, so say nothing more and stop as a pipe does
        _silence_stdout()
        return 141
    except Exception:  # noqa: BLE001 - a bug, not a user error: short message, details in a log file
        import tempfile  # here, not at the top: together about 9 ms of every command's start-up
        import traceback

        log = Path(tempfile.gettempdir()) / "xlreport-fel.log"
        try:
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f" Detaljer finns i {log}."
        except OSError:
            where = ""
        print(f"Ett oväntat fel uppstod i xlreport (ett programfel, inte ditt fel).{where} "
              f"Arbetsboken har inte ändrats.", file=sys.stderr)
        return EXIT_UNPROCESSABLE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit does not fail a second time."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _departments(args) -> int:
    from .core.errors import XlreportError

    try:
        return {"new": _new, "upgrade": _upgrade, "consolidate": _consolidate}[args.command](args)
    except XlreportError as exc:
        print(f"xlreport {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNPROCESSABLE


def _run(paths: list[str], actions, *, write: bool, fmt: str, out: str | None = None,
         jobs: int | None = None, previous: str | None = None) -> int:
    import time

    from .batch import Progress, expand, run_batch, summary_table

    files = expand(paths)
    if out is not None and len(files) != 1:
        print(f"xlreport: -o/--output kan bara användas med en arbetsbok ({len(files)} angavs).", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    if not files:
        print("xlreport: inga arbetsböcker hittades.", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    if jobs is not None and jobs < 1:
        print("xlreport: --jobs ska vara minst 1.", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    if previous is not None and len(files) != 1:  # --previous block
        print(f"xlreport: --previous kan bara användas med en arbetsbok ({len(files)} angavs).", file=sys.stderr)
        return EXIT_UNPROCESSABLE
    started = time.perf_counter()
    progress = Progress(len(files), enabled=fmt == "text" or sys.stderr.isatty())
    if previous is not None:  # --previous block: one workbook, compared with the previous report's
        from .doors.file import process

        results = [process(files[0], actions, out=out, write=write, previous=previous)]
    else:
        results = run_batch(files, actions, write=write, out=out, jobs=jobs, on_done=progress)
    if fmt == "json":
        doc = {
            "files": [{"file": r.file, "status": r.status, "errors": r.errors, "warnings": r.warnings,
                       "written": str(r.written) if r.written else None, "seconds": round(r.seconds, 3),
                       "dependent_formulas": r.dependent_formulas,
                       **({"movement": r.movement.to_dict() if r.movement else None} if previous else {})}
                      for r in results],
            "findings": [f.to_dict(r.file) for r in results for f in r.findings],
        }
        import json  # only for --format json

        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        for r in results:
            _print_text(r, actions, write)
            if getattr(r, "movement", None) is not None:  # --previous block
                print(f"{r.file}: {r.movement.text()}")
        if len(results) > 1:
            print()
            print(summary_table(results, time.perf_counter() - started))
    return max((r.status for r in results), default=EXIT_OK)


def _print_text(r, actions, write: bool) -> None:
    for f in r.findings:
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
        sev = "fel" if f.is_error else "varning"
        print(f"{r.file}: {where + ': ' if where else ''}{sev}: {f.message} [{f.rule}]")
    summary = f"{r.file}: {r.errors} fel, {r.warnings} {'varning' if r.warnings == 1 else 'varningar'}"
    if r.status == EXIT_UNPROCESSABLE:
        summary += "; filen kunde inte behandlas och har inte ändrats."
    elif r.written:
        parts = []
        if r.cells_written:
            parts.append(f"{r.cells_written} avvikelseceller")
        if r.sheets_written:
            parts.append("bladen " + " och ".join(r.sheets_written))
        summary += f"; skrev {' och '.join(parts)} till {r.written}."
        if r.dependent_formulas:
            summary += (f" {r.dependent_formulas} formler som beror på de skrivna cellerna "
                        "räknas om när arbetsboken öppnas i Excel.")
    elif write and r.errors:
        summary += "; inget skrevs eftersom arbetsboken har fel."
    else:
        summary += "."
    print(summary)


def _rules(fmt: str = "text") -> int:
    from .core.findings import SEVERITY_SV, catalogue

    specs = catalogue()
    if fmt == "json":
        import json  # only for --format json

        print(json.dumps([s.to_dict() for s in specs], ensure_ascii=False, indent=2))
        return EXIT_OK
    rows = [("regel", "grupp", "allvarlighet", "kontrollerar"),
            *((s.id, s.group, SEVERITY_SV[s.severity].lower(), s.description) for s in specs)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(f"{cell:{w}}" for cell, w in zip(row, widths)) + "  " + row[3])
    return EXIT_OK


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass


if __name__ == "__main__":
    sys.exit(main())
