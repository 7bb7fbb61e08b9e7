"""Where a spreadsheet row sits and what is wrong with it: located problems, count cells, places, total rows."""

from __future__ import annotations

from dataclasses import dataclass, replace

from protection_etl.transforms.admin import AdminMatcher, Match, Place, PlaceColumns
from protection_etl.transforms.cells import parse_count
from protection_etl.transforms.headers import SexAgeLabels
from protection_etl.transforms.labels import FieldSpec
from protection_etl.transforms.messages import alternatives, joined, msg, reason
from protection_etl.transforms.problems import Problem, Severity, shown_value
from protection_etl.transforms.sheets import FoundTable, best_partial_header, missing_required
from protection_etl.transforms.text import clean_text, is_blank

Sheets = list[tuple[str | None, list[list[object]]]]
PLACE = PlaceColumns(region="region", cercle="cercle", commune="commune", region_pcode="region_pcode",
                     cercle_pcode="cercle_pcode", commune_pcode="commune_pcode")


# --- located problems and cells ----------------------------------------------------------------------------------

PROVENANCE = ("_file", "_sheet", "_row_number")


@dataclass(frozen=True)
class RowContext:
    """Where a row sits, to locate its problems."""

    source: str
    file: str
    sheet: str | None
    row_number: int
    labels: dict[str, str]

    def provenance(self) -> dict[str, object]:
        """Where a harmonised row came from; carried beside it until the load, to locate quality failures."""
        return {"_file": self.file, "_sheet": self.sheet, "_row_number": self.row_number}

    def problem(self, column: str | None, value: object, reason: str, severity: Severity = "warning") -> Problem:
        label = self.labels.get(column, column) if column else None
        return Problem(self.source, self.file, reason, self.sheet, self.row_number, label, shown_value(value), severity)


def table_labels(table: FoundTable) -> dict[str, str]:
    """Each field's header label as the provider wrote it."""
    return {name: table.header.labels[col] for name, col in table.header.columns.items()}


def provider_name(record: dict, level: str) -> str | None:
    """The place as the provider wrote it at `level` (region, cercle, commune): its name, else its P-code."""
    return clean_text(record.get(level)) or clean_text(record.get(f"{level}_pcode"))


def count_cell(record: dict, name: str, ctx: RowContext, problems: list[Problem]) -> int | None:
    """A count of 0 or more from a cell (None when blank); an unreadable or negative one becomes a problem."""
    try:
        count = parse_count(record.get(name))
    except ValueError as exc:
        problems.append(ctx.problem(name, record.get(name), reason(exc)))
        return None
    if count is not None and count < 0:
        problems.append(ctx.problem(name, record.get(name), msg("expected a count of 0 or more")))
        return None
    return count


def place_problems(place: Place, ctx: RowContext) -> list[Problem]:
    """Place names that matched no unit of the gazetteer."""
    return [ctx.problem(column, value, why) for column, value, why in place.problems]


def place_notes(place: Place, ctx: RowContext, matcher: AdminMatcher) -> list[Problem]:
    """Place names matched by similarity, and P-codes and names that disagreed, to be reported as info."""
    return ([similarity_note(ctx, column, match, matcher) for column, match in place.fuzzy]
            + [ctx.problem(column, value, note, "info") for column, value, note in place.notes])


def similarity_note(ctx: RowContext, column: str, match: Match, matcher: AdminMatcher) -> Problem:
    """An info note saying which unit a name was matched to by similarity, and how closely."""
    return ctx.problem(column, match.provided, msg("matched by similarity to {pcode} {name} ({score}%)",
                                                   pcode=match.pcode, name=matcher.name_of(match.pcode),
                                                   score=format(match.score, ".0f")), "info")


# --- total rows --------------------------------------------------------------------------------------------------

def context_for_totals(source: str, file_name: str, table: FoundTable) -> RowContext:
    """Locates problems found on a sheet's (last) total row."""
    row = int(table.totals["_row_number"].iloc[-1]) if not table.totals.empty else 0
    return RowContext(source, file_name, table.sheet, row, table_labels(table))


def check_totals(table: FoundTable, ctx: RowContext, columns: list[str], severity: Severity = "warning"
                 ) -> list[Problem]:
    """A total line is dropped; when it disagrees with the sum of the lines above, or cannot be read, say so.

    With several total lines (sub-totals, then 'Total général'), the last one is checked against every line.
    """
    if table.totals.empty:
        return []
    problems = []
    for column in columns:
        if column not in table.totals:
            continue
        label, cell = ctx.labels.get(column, column), table.totals[column].iloc[-1]
        try:
            stated = parse_count(cell)
        except ValueError as exc:  # '#DIV/0!' on the total line: the lines are still counted, the total is not
            problems.append(Problem(ctx.source, ctx.file, msg("the total row cannot be checked: {why}",
                                                              why=reason(exc)), ctx.sheet,
                                    ctx.row_number, label, shown_value(cell), severity=severity))
            continue
        try:
            summed = sum(parse_count(v) or 0 for v in table.data[column])
        except ValueError:
            continue  # the unreadable line is a problem of its own
        if stated is not None and stated != summed:
            problems.append(Problem(ctx.source, ctx.file, msg("the total row says {stated} but the lines add up to "
                                                              "{summed}", stated=stated, summed=summed), ctx.sheet,
                                    ctx.row_number, label, str(stated), severity=severity))
    return problems


def missing_columns_problem(sheets: Sheets, specs: list[FieldSpec], *, source: str, file_name: str, what: str,
                            scan: int, two_rows: bool = False, sex_age: SexAgeLabels | None = None) -> Problem:
    """Why no sheet qualified: no data at all, or which required columns the best sheet lacks."""
    if not any(any(not is_blank(c) for row in rows for c in row) for _, rows in sheets):
        return Problem(source, file_name, msg("the file has no data"), severity="error")
    sheet, header = best_partial_header(sheets, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
    missing = missing_required(specs, header.columns if header else {})
    wanted = joined([msg("{field} (e.g. {examples})", field=s.name, examples=alternatives(
        [*s.synonyms[:2], *s.hxl[:1]])) for s in missing], "; ")
    return Problem(source, file_name, msg("none of the sheets has the expected {what} columns: missing {wanted}",
                                          what=what, wanted=wanted), sheet=sheet, severity="error")


def place_columns(matcher: AdminMatcher) -> PlaceColumns:
    """The place columns to resolve: communes only where the gazetteer has them (many COD tables stop at admin 2)."""
    if (matcher.gazetteer["level"].astype(int) >= 3).any():
        return PLACE
    return replace(PLACE, commune=None, commune_pcode=None)


def unplaced_notes(table: FoundTable, places: PlaceColumns, source: str, file_name: str) -> list[Problem]:
    """An info note for each commune column left aside because the gazetteer has no communes."""
    labels = table_labels(table)
    return [Problem(source, file_name, msg("column '{column}' was not used: the country's P-code table has no admin 3 "
                                           "level, so lines are placed by their admin 2", column=labels[name]),
                    table.sheet, table.header.row + 1,
                    labels[name], severity="info")
            for name in ("commune", "commune_pcode") if name in labels and getattr(places, name) is None]
