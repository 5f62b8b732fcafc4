"""Build the older-version fixture (template 0.9) that tests ``xlreport upgrade``.

Usage::

    python workbooks/build_legacy.py            # writes tests/data/exempel_mallversion_0_9.xlsx
    python workbooks/build_legacy.py --out DIR

Byte-identical on every run, like the template (see build.py); tests/test_departments.py
rebuilds it and compares it with the committed file.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "tests" / "data"


def _build_module():
    spec = importlib.util.spec_from_file_location("wb_build", HERE / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build(out_dir: Path | str = DEFAULT_OUT) -> Path:
    b = _build_module()
    return b.build_legacy_example(Path(out_dir) / b.LEGACY_NAME)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: tests/data/)")
    print(build(parser.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
