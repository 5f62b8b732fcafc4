#!/usr/bin/env bash
# Set up the development environment: .venv with xlreport in editable mode plus dev tools,
# and LibreOffice (headless Calc) for the fidelity tests. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT_UPDATED=""

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$APT_UPDATED" ]; then
        $SUDO apt-get update -qq
        APT_UPDATED=1
    fi
    $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "setup: installing python3-venv"
        apt_install python3 python3-venv
    fi
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
echo "setup: installing xlreport[dev]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

if command -v soffice >/dev/null 2>&1; then
    echo "setup: LibreOffice present ($(command -v soffice))"
else
    echo "setup: installing LibreOffice Calc (headless)"
    apt_install libreoffice-calc-nogui
fi
# The report's PDF (xlreport export --pdf) and the print tests: LibreOffice Writer, poppler's
# pdftotext/pdftoppm to read the PDFs back, and Carlito, the free font with Calibri's metrics
# (without it LibreOffice draws the workbooks' Calibri wider, and wrapped text overflows).
missing=()
dpkg -s libreoffice-writer-nogui >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi carlito || missing+=(fonts-crosextra-carlito)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt_install "${missing[@]}"
else
    echo "setup: LibreOffice Writer, pdftotext and Carlito present"
fi
echo "setup: done"
