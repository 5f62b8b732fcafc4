"""The ``xlreport`` command line.

Start-up is kept light: this module imports only the standard library at the top, and each
command imports what it needs when it runs, so ``xlreport --help`` answers at once.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 a file could not be processed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import traceback
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_UNPROCESSABLE = 0, 1, 2

DESCRIPTION = """\
Kontrollera och fyll i delårsrapportens arbetsbok.

  refresh   kontrollera, fyll i avvikelser och skriv rapportbladen (allt)
  validate  bara kontrollera, skriver ingenting
  fill      fyll i avvikelsekolumnerna (Avvikelse ack, Avvikelse helår)
  generate  skriv bladen Rapport och Kontroller
  rules     lista kontrollerna

Inget skrivs i en arbetsbok som har fel: rätta felen och kör igen.
Slutkod: 0 inga fel, 1 fel hittades, 2 filen kunde inte läsas."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xlreport", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="store_true", help="visa version")
    sub = p.add_subparsers(dest="command", metavar="KOMMANDO")

    def writer(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("path", metavar="ARBETSBOK", help="arbetsboken (.xlsx/.xlsm)")
        sp.add_argument("-o", "--output", metavar="UT", help="skriv resultatet hit i stället för i arbetsboken")
        sp.add_argument("--format", choices=("text", "json"), default="text", help="utdata: text eller json")
        return sp

    writer("refresh", "kontrollera, fyll i avvikelser och skriv rapportbladen")
    writer("fill", "kontrollera och fyll i avvikelsekolumnerna")
    writer("generate", "kontrollera och skriv bladen Rapport och Kontroller")
    v = sub.add_parser("validate", help="kontrollera, skriver ingenting",
                       description="Kör alla kontroller och skriv ut fynden; arbetsboken ändras inte.")
    v.add_argument("paths", nargs="+", metavar="ARBETSBOK")
    v.add_argument("--format", choices=("text", "json"), default="text")
    sub.add_parser("rules", help="lista kontrollerna")
    return p


_ACTIONS = {"refresh": ("fill", "generate"), "fill": ("fill",), "generate": ("generate",)}


def main(argv: list[str] | None = None) -> int:
    _utf8_streams()
    args = _parser().parse_args(argv)
    if args.version:
        from . import __version__

        print(f"xlreport {__version__}")
        return EXIT_OK
    if args.command is None:
        _parser().print_help()
        return EXIT_OK
    try:
        if args.command == "rules":
            return _rules()
        if args.command == "validate":
            return _run(args.paths, (), write=False, fmt=args.format)
        return _run([args.path], _ACTIONS[args.command], write=True, fmt=args.format, out=args.output)
    except KeyboardInterrupt:
        print("Avbrutet.", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - a bug, not a user error: short message, details in a log file
        log = Path(tempfile.gettempdir()) / "xlreport-fel.log"
        try:
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f" Detaljer finns i {log}."
        except OSError:
            where = ""
        print(f"Ett oväntat fel uppstod i xlreport (ett programfel, inte ditt fel).{where} "
              f"Arbetsboken har inte ändrats.", file=sys.stderr)
        return EXIT_UNPROCESSABLE


def _run(paths: list[str], actions, *, write: bool, fmt: str, out: str | None = None) -> int:
    from .files import process

    results = [process(p, actions, out=out, write=write) for p in paths]
    if fmt == "json":
        doc = {
            "files": [{"file": r.file, "status": r.status, "errors": r.errors, "warnings": r.warnings,
                       "written": str(r.written) if r.written else None} for r in results],
            "findings": [f.to_dict(r.file) for r in results for f in r.findings],
        }
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        for r in results:
            _print_text(r, actions, write)
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
    elif write and r.errors:
        summary += "; inget skrevs eftersom arbetsboken har fel."
    else:
        summary += "."
    print(summary)


def _rules() -> int:
    from .rules import RULES

    for r in RULES:
        print(f"{r.id:24} {r.group:10} {r.description}")
    return EXIT_OK


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass


if __name__ == "__main__":
    sys.exit(main())
