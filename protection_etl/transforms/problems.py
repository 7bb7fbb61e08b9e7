"""Row problems: where an input value was wrong and what was expected, kept as values until reported."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Severity = Literal["error", "warning", "info"]

QUARANTINE_COLUMNS = ("source", "file", "sheet", "row_number", "column_name", "value", "reason", "severity")


@dataclass(frozen=True)
class Problem:
    """One problem found in an input, located as the provider would look for it."""

    source: str
    file: str | None
    reason: str
    sheet: str | None = None
    row_number: int | None = None
    column_name: str | None = None
    value: str | None = None
    severity: Severity = "warning"

    def describe(self) -> str:
        """One line: source, file, sheet, row, column, value and what was expected."""
        where = [f"source {self.source}"]
        where += [f"file {self.file}"] if self.file else []
        where += [f"sheet {self.sheet}"] if self.sheet else []
        where += [f"row {self.row_number}"] if self.row_number is not None else []
        where += [f"column {self.column_name!r}"] if self.column_name else []
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.reason}{value}"


class InputError(Exception):
    """An input that cannot be read at all; carries the located problem (and those of other inputs, if any)."""

    def __init__(self, problem: Problem, *more: Problem):
        super().__init__("; ".join(p.describe() for p in (problem, *more)))
        self.problem = problem
        self.problems = [problem, *more]


class RefusedInput(InputError):
    """An input refused on purpose (identifying data in a GBV/CP export): neither stored nor parsed."""


def shown_value(value: object) -> str | None:
    """A cell value as the provider would recognise it: 12 not 12.0, dates as yyyy-mm-dd."""
    if value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a DataFrame with the audit.quarantine columns."""
    import pandas as pd  # here, not at the top: the CLI imports this module and pandas costs ~1 s
    rows = [asdict(p) for p in problems]
    return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS)).astype({"row_number": "Int64"})
