"""The template's vocabulary: every sheet name, header and row label the tool looks for.

This module is the single place where the Swedish terms of the report template live. The
reader finds structure by these names (never by fixed cell addresses), the workbook builder
writes them, and the report generator quotes them. Matching is done on *normalised* text
(see :func:`norm`): case, surrounding and repeated white space, and non-breaking spaces do not
matter, so "  intäkter " finds the ``Intäkter`` row.
"""

from __future__ import annotations

import re
import unicodedata

from .chars import ascii_digits

TEMPLATE_VERSION = "1.0"


def version_key(version: str) -> tuple[int, ...] | None:
    """"1.0" -> (1, 0) and "0.9" -> (0, 9), to tell an older Mallversion from a newer one; None
    when it is not a version number."""
    parts = str(version).strip().split(".")
    if not all(ascii_digits(p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def version_advice(version: str, path: object = None) -> str:
    """What a user should do about a workbook of Mallversion ``version`` (not the current one)."""
    found, current = version_key(version), version_key(TEMPLATE_VERSION)
    if found is not None and current is not None and found > current:
        return (f"Arbetsboken är gjord från mallversion {version}, som är nyare än verktygets version "
                f"{TEMPLATE_VERSION}. Använd en nyare version av xlreport.")
    command = f'xlreport upgrade "{path}"' if path is not None else "xlreport upgrade"
    return (f"Arbetsboken är gjord från mallversion {version}, men verktyget använder version "
            f"{TEMPLATE_VERSION}. Flytta över uppgifterna till den nya mallen: {command}.")

# --- sheets -------------------------------------------------------------------------------
SHEET_META = "Uppgifter"
SHEET_INCOME = "Resultaträkning"
SHEET_UNITS = "Driftredovisning"
SHEET_EXPLANATION = "Avvikelseförklaring"
SHEET_STAFF = "Personal"
SHEET_SICK = "Sjukfrånvaro"
SHEET_COMMITMENTS = "Åtaganden"

# Sheets the tool owns: it rewrites them whole on every run, nothing else is ever replaced.
SHEET_REPORT = "Rapport"
SHEET_FINDINGS = "Kontroller"
OWNED_SHEETS = (SHEET_REPORT, SHEET_FINDINGS)

REQUIRED_SHEETS = (
    SHEET_META,
    SHEET_INCOME,
    SHEET_UNITS,
    SHEET_EXPLANATION,
    SHEET_STAFF,
    SHEET_SICK,
    SHEET_COMMITMENTS,
)

# --- metadata (sheet Uppgifter: label in one column, value in the next) -------------------
META_KOMMUN = "Kommun"
META_NAMND = "Nämnd"
META_ENHET = "Enhet"
META_RAPPORT = "Rapport"
META_AR = "År"
META_PERIOD = "Period"
META_MANAD = "Månad"  # last month of the period, 1-12 (3 = januari-mars)
META_SJUKMAL = "Mål sjukfrånvaro (%)"
META_DRIFTRAM = "Driftram (mnkr)"
META_VERSION = "Mallversion"
META_SJUK_PERIOD = "Sjukfrånvaro period"  # e.g. "mars 2019–feb 2020" (rolling 12 months)
META_SJUK_PERIOD_FG = "Sjukfrånvaro fg period"
META_UNITS_HEADER = "Enheter"  # header of the list of the nämnd's units, one per row below it
# a deviation at or above it (mnkr, helår or ack) needs an explanation; empty: config.materiality
META_VASENTLIGHET = "Väsentlighetsgräns (mnkr)"

# --- column headers (finance tables) ------------------------------------------------------
COL_UTFALL_FG = "Utfall ack fg år"
COL_UTFALL = "Utfall ack"
COL_BUDGET = "Budget ack"
COL_AVV = "Avvikelse ack"
COL_BUDGET_HELAR = "Budget helår"
COL_PROGNOS = "Prognos helår"
COL_AVV_HELAR = "Avvikelse helår"
COL_AVV_FG = "Avvikelse ack fg år"

# First-column headers that mark where each table starts.
HEAD_INCOME = "Konto"
HEAD_UNITS = "Enhet"
HEAD_EXPLANATION = "Post"
HEAD_STAFF = "Anställningsform"
HEAD_LEAVERS = "Avgångar"
HEAD_SICK = "Sjukfrånvaro"
HEAD_COMMITMENTS = "Åtagande"

# --- income statement rows ----------------------------------------------------------------
ROW_INTAKTER = "Intäkter"
ROW_KOSTNADER = "Kostnader"
ROW_PERSONAL = "varav personalkostnader"
ROW_LOKAL = "varav lokalkostnader"
ROW_KOP = "varav köp av verksamhet"
ROW_RESULTAT = "Resultat"
VARAV_ROWS = (ROW_PERSONAL, ROW_LOKAL, ROW_KOP)
# The shapes municipalities give the income statement below Kostnader (each row optional):
ROW_RESULTAT_FORE = "Resultat före finansiella poster"
ROW_FIN_INTAKTER = "Finansiella intäkter"
ROW_FIN_KOSTNADER = "Finansiella kostnader"
ROW_FIN_POSTER = "Finansiella poster"
ROW_JAMFORELSE = "Jämförelsestörande poster"
ROW_RESULTAT_EFTER = "Resultat efter finansiella poster"
FINANCIAL_ROWS = (ROW_FIN_INTAKTER, ROW_FIN_KOSTNADER, ROW_FIN_POSTER, ROW_JAMFORELSE)
#: Rows that are a result: the one lowest in the table is the bottom line the report states.
RESULT_ROWS = (ROW_RESULTAT_FORE, ROW_RESULTAT, ROW_RESULTAT_EFTER)
#: The template's own rows, in order.
TEMPLATE_INCOME_ROWS = (ROW_INTAKTER, ROW_KOSTNADER, *VARAV_ROWS, ROW_RESULTAT)
INCOME_ROWS = (ROW_INTAKTER, ROW_KOSTNADER, *VARAV_ROWS, ROW_RESULTAT_FORE, *FINANCIAL_ROWS, ROW_RESULTAT,
               ROW_RESULTAT_EFTER)
REQUIRED_INCOME_ROWS = (ROW_INTAKTER, ROW_KOSTNADER)  # and at least one of RESULT_ROWS
INCOME_COLUMNS = (COL_UTFALL_FG, COL_UTFALL, COL_BUDGET, COL_AVV, COL_BUDGET_HELAR, COL_PROGNOS, COL_AVV_HELAR)
INCOME_REQUIRED_COLUMNS = (COL_UTFALL, COL_BUDGET, COL_AVV, COL_BUDGET_HELAR, COL_PROGNOS, COL_AVV_HELAR)

# Row labels that begin with these words are accepted as the same row
# ("Resultat inkl över-/underskott" is the reference report's label), unless the label is
# another row's exactly ("Resultat före finansiella poster" is never "Resultat").
ROW_PREFIXES = {ROW_RESULTAT: "resultat"}

# --- unit table ---------------------------------------------------------------------------
ROW_SUMMA = "Summa"  # "Summa" or "Summa <nämnd>"
UNIT_COLUMNS = (COL_AVV_FG, COL_UTFALL, COL_BUDGET, COL_AVV, COL_BUDGET_HELAR, COL_PROGNOS, COL_AVV_HELAR)
UNIT_REQUIRED_COLUMNS = INCOME_REQUIRED_COLUMNS

# --- explanation of the full-year deviation -----------------------------------------------
COL_BELOPP = "Belopp"  # mnkr, positive = favourable
EXPLANATION_COLUMNS = (COL_BELOPP,)

# --- commentary (optional text columns: workbooks without them keep working) ---------------
COL_KOMMENTAR = "Kommentar"  # Resultaträkning and Driftredovisning: why a row deviates
COL_ENHET = "Enhet"  # Avvikelseförklaring: the unit an explanation row belongs to (empty: the nämnd)
INCOME_TEXT_COLUMNS = (COL_KOMMENTAR,)
UNIT_TEXT_COLUMNS = (COL_KOMMENTAR,)
EXPLANATION_TEXT_COLUMNS = (COL_ENHET,)

# --- staff --------------------------------------------------------------------------------
COL_KVINNOR = "Kvinnor"
COL_MAN = "Män"
COL_TOTALT = "Totalt"
COL_TOTALT_FG = "Totalt fg år"
COL_FORANDRING = "Förändring"
STAFF_COLUMNS = (COL_KVINNOR, COL_MAN, COL_TOTALT, COL_TOTALT_FG, COL_FORANDRING)
ROW_TILLSVIDARE = "Tillsvidareanställda"
ROW_VISSTID = "Visstidsanställda"
ROW_TIM = "Timanställda"
STAFF_FORMS = (ROW_TILLSVIDARE, ROW_VISSTID, ROW_TIM)

COL_ANTAL = "Antal"
ROW_PENSION = "Pensionsavgångar"
ROW_EXTERN = "Externa avgångar"
LEAVER_ROWS = (ROW_PENSION, ROW_EXTERN)
# singular forms for the report text ("1 pensionsavgång")
SINGULAR = {ROW_PENSION: "pensionsavgång", ROW_EXTERN: "extern avgång"}
LEAVERS_COLUMNS = (COL_ANTAL,)

# --- sick leave ---------------------------------------------------------------------------
COL_KVINNOR_FG = "Kvinnor fg period"
COL_MAN_FG = "Män fg period"
COL_TOTALT_FGP = "Totalt fg period"
SICK_COLUMNS = (COL_KVINNOR, COL_MAN, COL_TOTALT, COL_KVINNOR_FG, COL_MAN_FG, COL_TOTALT_FGP, COL_FORANDRING)
SICK_PERCENT_COLUMNS = SICK_COLUMNS[:-1]
ROW_SJUK_TOTAL = "Total sjukfrånvaro"
ROW_SJUK_KORT = "Kort sjukfrånvaro"
ROW_SJUK_LANG = "Lång sjukfrånvaro"
SICK_ROWS = (ROW_SJUK_TOTAL, ROW_SJUK_KORT, ROW_SJUK_LANG)
# "Kort sjukfrånvaro (0–14 dagar)" is accepted for "Kort sjukfrånvaro".
SICK_PREFIXES = {ROW_SJUK_TOTAL: "total sjukfrånvaro", ROW_SJUK_KORT: "kort sjukfrånvaro", ROW_SJUK_LANG: "lång sjukfrånvaro"}

# --- commitments --------------------------------------------------------------------------
COL_OMRADE = "Område"
COL_STATUS = "Status"
COL_BEDOMNING = "Klart under året"
COMMITMENT_COLUMNS = (COL_OMRADE, COL_STATUS, COL_BEDOMNING)
STATUS_EJ_PABORJAD = "Ej påbörjad"
STATUS_PAGAR = "Pågår"
STATUS_KLART = "Klart/avslutat"
STATUS_FORSENAT = "Försenat"
STATUSES = (STATUS_EJ_PABORJAD, STATUS_PAGAR, STATUS_KLART, STATUS_FORSENAT)
YES, NO = "Ja", "Nej"

# A cell holding one of these means "no value" (the reference prints "–" for none).
NO_VALUE_MARKS = frozenset({"", "–", "-", "—", "−"})

MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)

_SPACE = re.compile(r"\s+")


class _Normalised(dict):
    """Each text's normalised form, computed the first time it is asked for (``NORMED[text]``)."""

    def __missing__(self, text: str) -> str:
        found = _SPACE.sub(" ", unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u2011", "-"))
        found = found.strip().casefold()
        if len(self) < 50_000:  # the labels of a run repeat: each is normalised once
            self[text] = found
        return found


#: ``NORMED[text]`` is ``norm(text)`` for a str, looked up without a call: for the loops that
#: normalise every text cell of a sheet.
NORMED = _Normalised()


def norm(text: object) -> str:
    """Normalise a label for matching: NFC, case-folded, white space collapsed."""
    return NORMED[text] if isinstance(text, str) else ""
