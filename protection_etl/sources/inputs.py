"""The inputs of a file source: fetched from a glob or a URL, or replayed from the raw zone; read; landed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protection_etl.sources import files, landing
from protection_etl.transforms.messages import msg
from protection_etl.transforms.problems import InputError, Problem
from protection_etl.transforms.text import fold_text, is_blank

Sheets = list[tuple[str | None, list[list[object]]]]


@dataclass(frozen=True)
class RawInput:
    """The bytes of one input as the source sent them."""

    name: str
    data: bytes
    origin: str


def fetch_inputs(name: str, path: str | None, url: str | None) -> list[RawInput]:
    """The source's files from its glob on disk (an absolute pattern) or downloaded from its URL."""
    if url:
        return [RawInput(files.file_name_from_url(url), files.download(url), url)]
    found = files.find_inputs(path or "")
    if not found:
        raise InputError(Problem(name, None, msg("no input file matches '{pattern}'", pattern=path), severity="error"))
    return [RawInput(p.name, p.read_bytes(), str(p)) for p in found]


def replay_inputs(name: str, raw_dir: Path, run_id: str) -> list[RawInput]:
    """The inputs a previous run landed, checked against their manifest."""
    folder = landing.find_landed_run(raw_dir, name, run_id)
    if folder is None:
        raise InputError(Problem(name, None, landing.landed_nothing(run_id), severity="error"))
    return [RawInput(f.name, f.path.read_bytes(), f.origin) for f in landing.read_landed(folder)]


def read_input(name: str, item: RawInput) -> list[files.Sheet]:
    """Every sheet of an input, hidden ones included; an unreadable file is an InputError naming it."""
    try:
        return files.read_sheets(item.name, item.data)
    except files.SourceReadError as exc:
        why = exc.why if exc.why is not None else str(exc).removeprefix(f"{item.name}: ")
        raise InputError(Problem(name, item.name, why, severity="error")) from exc


def data_sheets(name: str, file_name: str, sheets: list[files.Sheet], mapping: dict) -> tuple[Sheets, list[Problem]]:
    """The sheets to read as data, and a note for each hidden one left out: an old sheet kept hidden is not this
    month's data, unless the mapping names it under `sheets:`."""
    named = {fold_text(s) for s in mapping.get("sheets", [])}
    kept = [s for s in sheets if s.visible or fold_text(s.name) in named]
    notes = [Problem(name, file_name, msg("hidden sheet skipped: it is not read as data (name it under `sheets:` in "
                                          "the mapping to read it)"), s.name, severity="info")
             for s in sheets if s not in kept and any(any(not is_blank(c) for c in r) for r in s.rows)]
    return [(s.name, s.rows) for s in kept], notes


def modified_time(item: RawInput) -> float | None:
    """When the input's file was last changed on disk (None for a download or a replay whose origin is gone)."""
    try:
        return Path(item.origin).stat().st_mtime
    except OSError:
        return None


def land_inputs(name: str, raw_dir: Path, run_id: str, inputs: list[RawInput]) -> Path:
    """Copy every input into raw/<source>/<date>/<run_id>/ with its manifest; return the folder."""
    folder = landing.landing_dir(raw_dir, name, run_id)
    for item in inputs:
        landing.land_bytes(folder, item.name, item.data, item.origin)
    return folder
