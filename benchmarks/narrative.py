"""Precision and recall of ``xlreport check-text`` on the labelled narrative set.

``benchmarks/narrative/labelled.tsv`` holds sentences of the reference report (and sentences in
the phrasing finance staff use), each labelled ``ok`` (every figure agrees with the worked
example's tables) or ``fel`` with the one figure that disagrees. Each sentence is checked on its
own against the worked example, as one paragraph.

* a **true positive** is a finding on the labelled figure of a ``fel`` sentence;
* a **false positive** is any other finding (on an ``ok`` sentence, or on another figure);
* a **false negative** is a ``fel`` sentence without a finding on its labelled figure.

Every ``*.tsv`` of ``benchmarks/narrative/`` is a set (see benchmarks/README.md for how each was
made). Run: ``python benchmarks/narrative.py [--write-readme] [-v]``. Exit status 1 when a set's
precision or recall is below 1.0.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SET = Path(__file__).resolve().parent / "narrative" / "labelled.tsv"
EXAMPLE = ROOT / "workbooks" / "exempel_kommunstyrelsen_2020_d1.xlsx"


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    wrong: str
    source: str
    sentence: str


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    claims: int = 0  # figures tied to a table figure

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_cases(path: Path = SET) -> list[Case]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Case(r["id"], r["label"], r["wrong"] or "", r["source"], r["sentence"]) for r in rows]


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u2212", "-").strip()


def evaluate(cases: list[Case], report) -> tuple[Score, list[str]]:
    """The score over ``cases`` and one line per miss or false alarm."""
    from xlreport.core.narrative import Paragraph, check

    score, notes = Score(), []
    for case in cases:
        result = check(report, [Paragraph(case.sentence, number=1)])
        score.claims += len(result.checks)
        bad = result.contradictions
        hit = [c for c in bad if case.label == "fel" and _norm(case.wrong) in _norm(c.claim.written)]
        score.tp += 1 if hit else 0
        if case.label == "fel" and not hit:
            score.fn += 1
            notes.append(f"missed   {case.id}: {case.wrong!r} in {case.sentence}")
        for c in bad:
            if c not in hit[:1]:
                score.fp += 1
                notes.append(f"false    {case.id}: {c.message}")
    return score, notes


def example_report():
    from xlreport.doors.file import load

    return load(EXAMPLE).report


def row(name: str, cases: list[Case], score: Score) -> str:
    ok = sum(c.label == "ok" for c in cases)
    return (f"| `{name}` | {len(cases)} | {ok} | {len(cases) - ok} | {score.claims} | {score.precision:.2f} "
            f"({score.tp}/{score.tp + score.fp}) | {score.recall:.2f} ({score.tp}/{score.tp + score.fn}) |")


HEAD = ("| set | sentences | correct (`ok`) | with one wrong figure (`fel`) | figures tied and checked | precision "
        "| recall |\n|---|---:|---:|---:|---:|---:|---:|")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write-readme", action="store_true", help="write the table into benchmarks/README.md")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss and false alarm")
    args = ap.parse_args(argv)
    report = example_report()
    rows, perfect = [HEAD], True
    for path in sorted(SET.parent.glob("*.tsv")):
        cases = load_cases(path)
        score, notes = evaluate(cases, report)
        rows.append(row(path.name, cases, score))
        perfect = perfect and score.precision == 1.0 and score.recall == 1.0
        if args.verbose or notes:
            print("\n".join(f"{path.name}: {n}" for n in notes), file=sys.stderr)
    text = "\n".join(rows)
    print(text)
    if args.write_readme:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from readme import write_section

        write_section("narrative", "Text against the tables: the labelled narrative set (issue 13)", "narrative.py",
                      text)
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main())
