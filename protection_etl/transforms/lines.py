"""Lines of a table that are not data: a repeated header, a line pasted twice."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from protection_etl.transforms.messages import msg, nmsg
from protection_etl.transforms.problems import Problem, shown_value
from protection_etl.transforms.text import fold_text, is_blank

if TYPE_CHECKING:
    from protection_etl.transforms.located import RowContext


def repeated_header(record: dict, labels: dict[str, str]) -> bool:
    """True for a line that repeats the header's labels (a table pasted below another, a printed page's header)."""
    given = [(name, value) for name, value in record.items() if name in labels and not is_blank(value)]
    return len(given) >= 2 and all(fold_text(value) == fold_text(labels[name]) for name, value in given)


def repeated_header_notes(rows: list[int], source: str, file_name: str, sheet: str | None) -> list[Problem]:
    """One note for the lines that repeat the header, which are skipped."""
    if not rows:
        return []
    shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
    return [Problem(source, file_name, nmsg("the header is repeated on row {rows}: skipped, not read as data",
                                            "the header is repeated on rows {rows}: skipped, not read as data",
                                            len(rows), rows=shown), sheet, rows[0], severity="info")]


def repeated_line(record: dict, ctx: RowContext, seen: dict[bytes, int], cells: list[object] | None = None
                  ) -> list[Problem]:
    """A line identical to an earlier one in every cell of the sheet (`cells`, else every mapped cell) is taken for a
    copy and kept aside. Two lines that differ only in columns no field reads (a beneficiary type, an ID) are two
    lines of the file, not a copy."""
    values = list(cells) if cells is not None else [v for k, v in sorted(record.items()) if k != "_row_number"]
    folded = tuple(fold_text(v) if isinstance(v, str) else shown_value(v) for v in values)
    signature = hashlib.blake2b(repr(folded).encode(), digest_size=16).digest()  # 16 bytes kept a line, not its cells
    if signature in seen:
        return [ctx.problem(None, None, msg("this line repeats row {row} cell for cell: it is counted once",
                                            row=seen[signature]))]
    seen[signature] = ctx.row_number
    return []
