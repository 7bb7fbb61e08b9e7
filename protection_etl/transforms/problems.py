"""Row problems: where an input value was wrong and what was expected, kept as values until reported."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from protection_etl.transforms.messages import Message, joined, msg, to_json

if TYPE_CHECKING:
    import pandas as pd

Severity = Literal["error", "warning", "info"]

QUARANTINE_COLUMNS = ("source", "file", "sheet", "row_number", "column_name", "value", "reason", "severity")
STORED_COLUMNS = (*QUARANTINE_COLUMNS, "reason_i18n")  # audit.quarantine: the reason as a message too


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

    def describe(self) -> Message:
        """One line: source, file, sheet, row, column, value and what was expected."""
        where = [msg("source {source}", source=self.source)]
        where += [msg("file {file}", file=self.file)] if self.file else []
        where += [msg("sheet {sheet}", sheet=self.sheet)] if self.sheet else []
        where += [msg("row {row}", row=self.row_number)] if self.row_number is not None else []
        where += [msg("column '{column}'", column=self.column_name)] if self.column_name else []
        value = msg(" (value '{value}')", value=self.value) if self.value is not None else ""
        return msg("{where}: {reason}{value}", where=joined(where), reason=self.reason, value=value)


class InputError(Exception):
    """An input that cannot be read at all; carries the located problem (and those of other inputs, if any)."""

    def __init__(self, problem: Problem, *more: Problem):
        super().__init__(joined([p.describe() for p in (problem, *more)], "; "))
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
    rows = [{**asdict(p), "reason": str(p.reason), "reason_i18n": to_json(p.reason)} for p in problems]
    return pd.DataFrame(rows, columns=list(STORED_COLUMNS)).astype({"row_number": "Int64"})
