"""How numbers, times and dates are written in the report, the email and the CSV."""

from __future__ import annotations

import re
from datetime import date, datetime


def count(value: int | None) -> str:
    """A count with thousands grouped by a no-break space; None is a dash."""
    # a no-break space groups thousands the same way in French and English and never wraps inside a number
    return "—" if value is None else f"{value:,}".replace(",", "\u00a0")


def when(value: datetime | None) -> str:
    """A UTC time to the minute."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def day(value: date | None) -> str:
    """A date as ISO 8601."""
    return "—" if value is None else value.isoformat()


def run_file_stem(run_id: str) -> str:
    """A run_id made safe as a file name on any system (':' and '/' become '-').

    >>> run_file_stem("2026-11-30T02:00:00Z/ab12")
    '2026-11-30T02-00-00Z-ab12'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip(".-") or "run"
