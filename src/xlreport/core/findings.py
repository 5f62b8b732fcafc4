"""Findings: one per problem, each pointing at a sheet and a cell of the user's workbook."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from .cells import CellRef

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

SEVERITY_SV = {ERROR: "Fel", WARNING: "Varning"}


@dataclass(frozen=True)
class Finding:
    """A problem found in the workbook.

    ``rule`` is a stable id (e.g. ``"summa-enheter"``) that scripts can filter on; ``message``
    is Swedish and complete on its own; ``expected``/``actual`` are the compared values when
    the rule compares values.
    """

    rule: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1, e.g. "E5"
    expected: Any = None
    actual: Any = None

    @classmethod
    def at(cls, ref: CellRef | None, rule: str, severity: Severity, message: str, *,
           expected: Any = None, actual: Any = None) -> Finding:
        return cls(rule, severity, message, ref.sheet if ref else None, ref.a1 if ref else None,
                   expected, actual)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        d = {"file": file, **asdict(self)}
        return {k: d[k] for k in ("file", "sheet", "cell", "rule", "severity", "message", "expected", "actual")}


def count(findings, severity: Severity) -> int:
    return sum(1 for f in findings if f.severity == severity)


class Counted:
    """Mixin for results that carry ``findings``: their error and warning counts."""

    findings: list[Finding]

    @property
    def errors(self) -> int:
        return count(self.findings, ERROR)

    @property
    def warnings(self) -> int:
        return count(self.findings, WARNING)
