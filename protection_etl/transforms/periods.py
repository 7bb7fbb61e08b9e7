"""A file's reporting period, looked for in order of reliability, and a note saying where each was found.

In order: the source's `period = "YYYY-MM"` setting; the row's own date or month column (a month name without a year
takes its year from a year column, else from the file or sheet name); a date after a label above the table ('Mois de
rapportage : septembre 2026'); a month in the file name ('avr2025', '2026-10'); the sheet name ('3w_Data_février_2022');
any other date in the title rows ('Situation … au 31 octobre 2026'); the activity's start (or end) date; and last the
month the file was received.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from protection_etl.transforms.cells import parse_count, parse_date
from protection_etl.transforms.messages import msg, nmsg
from protection_etl.transforms.privacy_cells import column_letter
from protection_etl.transforms.problems import Problem, shown_value
from protection_etl.transforms.text import is_blank
from protection_etl.transforms.titles import (
    dated_from_title,
    labelled_date,
    month_without_year,
    period_from_text,
    unread_label,
    year_from_text,
)

SETTING = msg("the source's period setting in pipeline.toml")
RECEIVED = msg("the month the file was received (nothing in the file gives its period)")


@dataclass(frozen=True)
class PeriodSetting:
    """What the configuration and the file's arrival say: the source's `period` override and the day received.

    The flows put them in the mapping as `period` ("YYYY-MM") and `received` (ISO date) before harmonising.
    """

    override: date | None = None
    received: date | None = None

    @classmethod
    def from_mapping(cls, mapping: dict) -> PeriodSetting:
        override, received = mapping.get("period"), mapping.get("received")
        return cls(date.fromisoformat(f"{override}-01") if override else None,
                   date.fromisoformat(str(received)) if received else None)


@dataclass(frozen=True)
class FilePeriod:
    """The period a file states outside its rows, with where it was found, and a year for months written alone."""

    day: date | None = None
    origin: str | None = None
    year: int | None = None
    year_origin: str | None = None
    unread: tuple[int, int, str, object] | None = None  # a period label whose value is no date (titles.unread_label)

    def unread_reason(self) -> str | None:
        """What the unreadable labelled period holds, where, and what forms are read; None when there is none."""
        if self.unread is None:
            return None
        row, column, label, value = self.unread
        return msg("the period after '{label}' above the table (cell {cell}) reads '{value}', which is not a month "
                   "or a date: write it as a month and year ('octobre 2026', 'oct-26', '10/2026', '2026-10') or a "
                   "day ('31/10/2026')", label=label, cell=column_letter(column) + str(row + 1),
                   value=shown_value(value))


def file_period(file_name: str, sheet: str | None, title_cells: list[object], labels: list[str] = (),
                stamps: list[str] = (), title_rows: list[list[object]] = ()) -> FilePeriod:
    """The period stated by a labelled title cell, the file name, the sheet name or another title date; with the
    rows above the table (`title_rows`), a period label whose value cannot be read is kept to be said."""
    stem = Path(file_name).stem
    title = dated_from_title(title_cells, "", labels, stamps)
    by_file, by_sheet = msg("the file name '{file}'", file=file_name), msg("the sheet name '{sheet}'", sheet=sheet)
    tiers = [(labelled_date(title_cells, list(labels)), msg("a labelled date above the table")),
             (period_from_text(stem), by_file),
             (period_from_text(sheet) if sheet else None, by_sheet),
             (title[0] if title else None, msg("the title rows above the table"))]
    day, origin = next(((d, o) for d, o in tiers if d), (None, None))
    years = [(year_from_text(stem), by_file),
             (year_from_text(sheet) if sheet else None, by_sheet),
             (day.year if day else None, origin)]
    year, year_origin = next(((y, o) for y, o in years if y), (None, None))
    unread = unread_label(list(title_rows), list(labels)) if tiers[0][0] is None else None
    return FilePeriod(day, origin, year, year_origin, unread)


def unread_label_notes(stated: FilePeriod, *, source: str, file_name: str, sheet: str | None) -> list[Problem]:
    """A note on the cell of a period label whose value cannot be read, when the period came from elsewhere (when
    nothing gave it, each line's problem says so instead)."""
    if stated.unread is None or stated.day is None:
        return []
    row, _, label, value = stated.unread
    return [Problem(source, file_name, msg("{why}; the period was taken from {origin} instead",
                                           why=stated.unread_reason(), origin=stated.origin),
                    sheet, row + 1, label, shown_value(value), severity="info")]


def row_period(value: object, label: str | None, *, year: object = None, year_label: str | None = None,
               stated: FilePeriod = FilePeriod(), setting: PeriodSetting = PeriodSetting(),
               activity: date | None = None) -> tuple[date | None, str | None]:
    """(period, where it came from) of one row; (None, None) when nothing gives it. ValueError for a cell that is
    neither a date nor a month name."""
    if setting.override:
        return setting.override, SETTING
    if not is_blank(value):
        month = month_without_year(value)
        if month is None:
            return parse_date(value), msg("the column '{column}'", column=label)
        if (given := _year(year)) is not None:
            return date(given, month, 1), msg("the columns '{column}' and '{year_column}'", column=label,
                                              year_column=year_label)
        if stated.year:
            return date(stated.year, month, 1), msg("the column '{column}', with the year from {origin}", column=label,
                                                    origin=stated.year_origin)
    if stated.day:
        return stated.day, stated.origin
    if activity:
        return activity, msg("the activity's start date")
    if setting.received:
        return setting.received, RECEIVED
    return None, None


def _year(value: object) -> int | None:
    try:
        year = parse_count(value)
    except ValueError:
        return None
    return year if year and 1990 <= year <= 2100 else None


def period_notes(origins: Counter[tuple[date, str]], *, source: str, file_name: str, sheet: str | None,
                 monthly: bool = True, stated: FilePeriod | None = None) -> list[Problem]:
    """One info note per period and origin: where the file's period came from, for the report; and one on the cell
    of a period label above the table whose value could not be read (`stated`)."""
    notes = unread_label_notes(stated, source=source, file_name=file_name, sheet=sheet) if stated else []
    for (day, origin), rows in sorted(origins.items()):
        shown = f"{day:%Y-%m}" if monthly else day.isoformat()
        notes.append(Problem(source, file_name, nmsg("reporting period {period} taken from {origin} ({n} row)",
                                                     "reporting period {period} taken from {origin} ({n} rows)", rows,
                                                     period=shown, origin=origin),
                             sheet, severity="info"))
    return notes
