"""The real files of tests/fixtures/real: read through the file source, and the figures a person computes from them.

`tests/test_real_files.py` and `scripts/real_report.py` (`make real`) both use it. The expected figures come from
the file itself, read with pandas, never from the reader under test.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz

from protection_etl import registry
from protection_etl.flows.files import harmonise_inputs
from protection_etl.sources.inputs import RawInput
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.problems import Problem
from protection_etl.warehouse import loader

REAL_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "real"
COD_TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "global_pcodes_adm1_adm2.csv"
TABLE = {"5w": "operational_presence", "cmp": "displacement"}
SAME_NAME = 80  # two spellings of one place ('Hasbaiya', 'Hasbaya') are at least this similar


def plain(text: object) -> str:
    """A name as a person compares two spellings: no accents, case, punctuation or spacing."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return re.sub(r"[^a-z0-9]+", "", "".join(c for c in decomposed if not unicodedata.combining(c)).lower())


@dataclass(frozen=True)
class RealFile:
    """One entry of manifest.toml."""

    name: str
    kind: str
    country: str
    admin1: str
    admin2: str | None = None
    sheet: str | None = None
    periods: tuple[str, ...] = ()
    period_column: str | None = None
    sums: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return REAL_DIR / self.name


def real_files() -> list[RealFile]:
    """Every file of the manifest, in its order."""
    entries = tomllib.loads((REAL_DIR / "manifest.toml").read_text(encoding="utf-8"))["file"]
    return [RealFile(**{**e, "periods": tuple(e.get("periods", ()))}) for e in entries]


def gazetteer(country: str) -> pd.DataFrame:
    """The country's harmonised.admin frame from the fixture COD table."""
    return loader.country_gazetteer(country, COD_TABLE)


def load(real: RealFile, country_gazetteer=gazetteer) -> Batch:
    """The file through the real file source: the reader of its kind, the kind's default mapping, its country."""
    item = RawInput(Path(real.name).name, real.path.read_bytes(), str(real.path))
    return harmonise_inputs("real", registry.kind(real.kind), registry.default_mapping(real.kind), [item],
                            registry.admin_matcher(country_gazetteer(real.country)))


@dataclass
class FileFigures:
    """What pandas reads in the file: its data lines (index = the row number in the file) and their places."""

    real: RealFile
    frame: pd.DataFrame
    names: dict[int, set[str]]  # level -> the plain names of the gazetteer
    pairs: set[tuple[str, str]]  # (plain admin 1 name, plain admin 2 name) of the gazetteer

    @cached_property
    def placeable(self) -> pd.Series:
        """Lines whose place names exist in the country's P-code table (admin 2 within its admin 1, when given)."""
        one = self.frame[self.real.admin1].map(plain)
        if not self.real.admin2:
            return one.isin(self.names[1])
        two = self.frame[self.real.admin2].map(plain)
        pairs = pd.Series([(a, b) in self.pairs for a, b in zip(one, two, strict=True)], index=self.frame.index)
        return (pairs & (two != "")) | (one.isin(self.names[1]) & (two == ""))

    @cached_property
    def distinct(self) -> pd.Series:
        """Lines that are not a copy, cell for cell, of an earlier line (a copy counts once)."""
        return ~self.frame.astype(str).duplicated(keep="first")

    @cached_property
    def expected(self) -> pd.Index:
        """The lines that must land: placeable and not a copy of an earlier one."""
        return self.frame.index[self.placeable & self.distinct]

    def total(self, label: str, rows: pd.Index | None = None) -> int:
        """The sum of a count column over some lines (all by default); blanks count nothing."""
        values = self.frame[label] if rows is None else self.frame.loc[rows, label]
        return int(pd.to_numeric(values.replace({"": None}), errors="coerce").fillna(0).sum())


def file_figures(real: RealFile) -> FileFigures:
    """The file read with pandas: the header is the first row holding the admin 1 label; an HXL row under it and
    blank lines are left out."""
    if real.path.suffix == ".csv":
        grid = pd.read_csv(real.path, header=None, dtype=str, keep_default_na=False)
    else:
        grid = pd.read_excel(real.path, sheet_name=real.sheet or 0, header=None, engine="calamine", dtype=object)
    grid.index = grid.index + 1  # row numbers as in the file
    header = next(i for i, row in grid.iterrows() if real.admin1 in [str(c) for c in row])
    frame = grid.loc[header + 1:].copy()
    frame.columns = [str(c) for c in grid.loc[header]]
    frame = frame.loc[:, ~frame.columns.duplicated()].fillna("")
    frame = frame[~frame.apply(lambda r: all(str(v).strip() == "" for v in r), axis=1)]
    if len(frame) and str(frame.iloc[0][real.admin1]).startswith("#"):
        frame = frame.iloc[1:]
    units = gazetteer(real.country)
    names = {level: {plain(n) for n in units.loc[units.level == level, "name"]} for level in (1, 2)}
    by_code = dict(zip(units.pcode, units.name, strict=True))
    twos = units[units.level == 2]
    pairs = {(plain(by_code.get(p, "")), plain(n)) for p, n in zip(twos.parent_pcode, twos.name, strict=True)}
    return FileFigures(real, frame, names, pairs)


@dataclass(frozen=True)
class Outcome:
    """What the reader did with a file, line by line."""

    batch: Batch
    figures: FileFigures

    @cached_property
    def quarantined(self) -> set[int]:
        """Row numbers of the lines kept aside (a warning on them)."""
        return {p.row_number for p in self.batch.problems if p.severity == "warning" and p.row_number is not None}

    @cached_property
    def landed(self) -> pd.Index:
        return self.figures.frame.index.difference(pd.Index(sorted(self.quarantined)))

    def reasons(self) -> Counter[str]:
        """Lines kept aside, by the first words of their reason."""
        first: dict[int, str] = {}
        for p in self.batch.problems:
            if p.severity == "warning" and p.row_number is not None:
                reason = re.sub(r"row \d+", "an earlier row", p.reason.split(":")[0])
                first.setdefault(p.row_number, f"{reason} ({p.column_name})" if p.column_name else reason)
        return Counter(first.values())

    def landed_sum(self, target: str) -> int:
        """A harmonised total: 'operational_presence.reached_total', or 'displacement.<group>' (persons, all)."""
        table, column = target.split(".")
        frame = self.batch.tables[table]
        if table == "displacement":
            everyone = frame[(frame.sex == "all") & (frame.disability == "all") & (frame.population_group == column)]
            return int(everyone["persons"].sum())
        return int(frame[column].fillna(0).sum())

    def periods(self) -> set[str]:
        table = self.batch.tables[TABLE[self.figures.real.kind]]
        column = "reference_date" if "reference_date" in table else "period_start"
        days = {d for d in table[column] if isinstance(d, date)}
        return {f"{d:%Y-%m}" for d in days} if column == "period_start" else {d.isoformat() for d in days}

    def expected_periods(self) -> set[str]:
        real = self.figures.real
        if not real.period_column:
            return set(real.periods)
        values = self.figures.frame.loc[self.landed, real.period_column]
        shown = "%Y-%m" if real.kind == "5w" else "%Y-%m-%d"
        return {pd.Timestamp(v).strftime(shown) for v in values if str(v).strip()}

    def silent_wrong_places(self) -> list[int]:
        """Landed 5W lines whose admin 2 (else admin 1) P-code names another place than the file, with no note."""
        table = self.batch.tables.get("operational_presence")
        if table is None or table.empty:
            return []
        units = gazetteer(self.figures.real.country)
        name_of = dict(zip(units.pcode, units.name, strict=True))
        noted = {n.row_number for n in self.batch.notes if n.row_number is not None and n.column_name}
        wrong = []
        for row in table.to_dict("records"):
            level = "2" if isinstance(row["provider_admin2_name"], str) else "1"
            given, pcode = row[f"provider_admin{level}_name"], row[f"admin{level}_pcode"]
            same = fuzz.ratio(plain(name_of.get(pcode, "")), plain(given)) >= SAME_NAME if isinstance(given, str) else 1
            if not same and row["_row_number"] not in noted:
                wrong.append(row["_row_number"])
        return wrong


def outcome(real: RealFile) -> Outcome:
    return Outcome(load(real), file_figures(real))


def data_reason(problem: Problem) -> bool:
    """True for a quarantine reason about the data: located on a line, naming a cell or a repeated line."""
    return problem.row_number is not None and bool(problem.column_name or "repeats" in problem.reason)
