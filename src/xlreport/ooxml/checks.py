"""The rule ids of the package layer (the lossless writer), declared once in the catalogue.

This module imports only the catalogue, so ``xlreport rules`` lists these ids without loading
the writer.
"""

from __future__ import annotations

from ..core.findings import WARNING, declare

#: A worksheet the search for formulas that read the written cells could not read (its data
#: in the file is damaged): those formulas are not counted, and Excel recalculates them anyway.
FORMELSOK = declare("formelsok", "celler", WARNING,
                    "Varje blad kan sökas igenom efter formler som läser de celler xlreport skriver")
