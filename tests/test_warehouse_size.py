"""The IMO database grows with what it records, not with the number of transactions that recorded it."""

from __future__ import annotations

from protection_etl.warehouse import db

COLUMNS = 12  # about as wide as audit.source_loads
WRITES_A_NIGHT = 20  # small transactions of a nightly run: one audit row each (sources, pages, outcomes)
NIGHTS = 4


def write_a_night(con, night: int) -> None:
    """A nightly's audit rows, one small transaction each, then the checkpoint at the end of the run."""
    values = ", ".join(f"'night {night} column {c}'" for c in range(COLUMNS - 1))
    for write in range(WRITES_A_NIGHT):
        with db.transaction(con):
            con.execute(f"insert into audit_like values ({night * WRITES_A_NIGHT + write}, {values})")
    con.execute("checkpoint")


def test_small_transactions_night_after_night_do_not_grow_the_file_by_blocks(tmp_path):
    path = tmp_path / "protection.duckdb"
    columns = ", ".join(["id integer", *(f"c{c} varchar" for c in range(COLUMNS - 1))])
    with db.connect(path) as con:
        con.execute(f"create table audit_like ({columns})")
        write_a_night(con, 0)
        first = path.stat().st_size
        for night in range(1, NIGHTS):
            write_a_night(con, night)
        after = path.stat().st_size
    # 240 rows of a dozen short strings fit in a few blocks: a file that grew by a block per column per transaction
    # (a row group each, never merged) would be megabytes larger every night
    assert after <= first + 2 * 262_144, f"{first:,} -> {after:,} bytes after {NIGHTS - 1} more nights"
