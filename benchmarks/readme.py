"""Write a benchmark's result table into benchmarks/README.md, between its two markers."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(name: str, heading: str, script: str, text: str, readme: Path = README) -> None:
    """Replace what stands between ``<!-- name:begin -->`` and ``<!-- name:end -->`` with ``text``;
    without the markers, append a section ``heading`` that names ``script``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{text}\n{end}"
    current = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + f"\n\n## {heading}\n\n`python benchmarks/{script}`\n\n{block}\n"
    readme.write_text(current, encoding="utf-8")
