#!/usr/bin/env bash
# Set up and run the main job on the bundled example: refresh the worked example workbook
# (checks, deviation formulas, report sheets) into out/, leaving the committed file untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/xlreport refresh workbooks/exempel_kommunstyrelsen_2020_d1.xlsx -o out/exempel_kommunstyrelsen_2020_d1.xlsx
echo "Klart: öppna out/exempel_kommunstyrelsen_2020_d1.xlsx (bladen Rapport och Kontroller)."
