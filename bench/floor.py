"""The floor a KoBo load is measured against: keyset pages -> one NDJSON file -> one DuckDB load, nothing else.

No landing, no harmonisation, no checks, no audit: every field of every submission is written as it came and
loaded in one `read_json`. Prints one JSON line: submissions, seconds.
Run: .venv/bin/python bench/floor.py URL ASSET_UID FOLDER  (the token in $BENCH_KOBO_TOKEN)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb
import requests


def pages(url: str, asset: str, token: str):
    """Every submission page, keyset on _id at KoBo's maximum page size."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    last = None
    while True:
        query = {"_id": {"$gt": last}} if last is not None else {}
        params = {"format": "json", "limit": "1000", "sort": '{"_id":1}', "query": json.dumps(query)}
        body = session.get(f"{url}/api/v2/assets/{asset}/data/", params=params, timeout=120).json()
        yield body["results"]
        if not body["results"] or body.get("next") is None:
            return
        last = body["results"][-1]["_id"]


def main() -> None:
    url, asset, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    started = time.perf_counter()
    ndjson = folder / "submissions.ndjson"
    count = 0
    with ndjson.open("w", encoding="utf-8") as out:
        for results in pages(url.rstrip("/"), asset, os.environ["BENCH_KOBO_TOKEN"]):
            out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
            count += len(results)
    with duckdb.connect(str(folder / "floor.duckdb")) as con:
        con.execute("create table submissions as select * from read_json(?, format = 'newline_delimited', "
                    "union_by_name = true)", [str(ndjson)])
        [(loaded,)] = con.execute("select count(*) from submissions").fetchall()
    print(json.dumps({"submissions": loaded, "read": count, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
