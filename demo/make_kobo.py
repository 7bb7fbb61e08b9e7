"""Record the demo KoBo pages: synthetic protection-monitoring submissions served by the loopback KoBo server.

The pages are read through the pipeline's own KoBo client, the way a nightly run reads them (form and versions,
keyset data pages, the _id/_uuid sweep, the refetch of an edited submission), and written with their manifest to
demo/kobo/protection_monitoring/, which the demo replays as a KoBo source with no network and no token.
Submissions are dated September-October 2026; three name a Taoudénit cercle the gazetteer does not have and one
has an impossible incident date, so the quality report has something to show. Between the paging and the sweep one
submission is corrected on KoBo and one deleted, as happens on a live server.

Run: .venv/bin/python demo/make_kobo.py   (the pages are committed; re-run only to change them)
"""

from __future__ import annotations

import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the loopback server lives with the tests

from protection_etl.sources import landing  # noqa: E402
from protection_etl.sources.kobo import KoboClient, KoboEndpoint  # noqa: E402
from protection_etl.sources.kobo_feeds import LiveFeed  # noqa: E402
from tests.support import kobo_forms as forms  # noqa: E402
from tests.support.kobo_server import KoboServer  # noqa: E402

TARGET = REPO / "demo" / "kobo" / "protection_monitoring"
SOURCE = "protection_monitoring"
COUNT = 250
PAGE_SIZE = 100
FIRST = forms.V2_FROM_INDEX - 30  # the first 30 come from a phone still on form version 1 (date in `localisation`)
START, END = datetime(2026, 9, 1, 7, 30), datetime(2026, 10, 31, 17, 0)
EARLIEST_INCIDENT = date(2026, 9, 1)
UNKNOWN_CERCLES = {12: "boujbeha", 131: "foum_elba", 207: "achouratt"}  # Taoudénit cercles, not in the gazetteer
IMPOSSIBLE_DATE = {88: "31/09/2026"}
CORRECTED, DELETED = 40, 61  # positions of the submission corrected and the one deleted after the paging


def demo_submission(submission_id: int) -> dict:
    """The synthetic submission re-dated into September-October 2026, with the deliberate problems."""
    record = forms.SyntheticSubmissions(seed=2026).by_id(submission_id)
    position = forms.submission_index(submission_id) - FIRST
    submitted = START + (END - START) * position / COUNT + timedelta(seconds=submission_id % 3_000)
    incident = max(EARLIEST_INCIDENT, (submitted - timedelta(days=submission_id % 13)).date())
    date_path = "incident/date_incident" if record["__version__"] == forms.V2 else "localisation/date_incident"
    record.update({
        "_submission_time": submitted.isoformat(), "end": _kobo_time(submitted - timedelta(minutes=12)),
        "start": _kobo_time(submitted - timedelta(minutes=55)), "today": submitted.date().isoformat(),
        "identification/date_collecte": submitted.date().isoformat(), date_path: incident.isoformat(),
        "mois_incident": incident.isoformat()[:7],
    })
    if position in UNKNOWN_CERCLES:
        record.update({"localisation/region": "tombouctou", "localisation/cercle": UNKNOWN_CERCLES[position]})
    if position in IMPOSSIBLE_DATE:
        record[date_path] = IMPOSSIBLE_DATE[position]
    return record


def _kobo_time(moment: datetime) -> str:
    return f"{moment.isoformat()}.000+00:00"


def land(name: str, data: bytes, origin: str) -> None:
    # The loopback port changes from run to run: keep only the request path in the manifest.
    parts = urlsplit(origin)
    request = f"{parts.path}?{parts.query}" if parts.query else parts.path
    landing.land_bytes(TARGET, name, data, f"loopback KoBo (demo/make_kobo.py) {request}")


def main() -> None:
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    with KoboServer() as server:
        forms.install_protection_form(server, COUNT, start=FIRST, produce=demo_submission)
        endpoint = KoboEndpoint(SOURCE, server.base_url, forms.ASSET_UID, server.token, page_size=PAGE_SIZE)
        feed = LiveFeed(KoboClient(endpoint))
        try:
            for name, data, origin in feed.form_files():
                land(name, data, origin)
            read: dict[int, str] = {}
            for page in feed.data(None):
                land(page.name, page.raw, page.origin)
                read.update((r["_id"], r["_uuid"]) for r in page.results)
            ids = server.submission_ids(forms.ASSET_UID)
            server.edit_submission(forms.ASSET_UID, ids[CORRECTED], {"incident/type_violation": "extorsion"})
            server.delete_submission(forms.ASSET_UID, ids[DELETED])
            swept: dict[int, str] = {}
            for page in feed.ids():
                land(page.name, page.raw, page.origin)
                swept.update((r["_id"], r["_uuid"]) for r in page.results)
            edited = sorted(i for i, uuid in swept.items() if read.get(i) not in (None, uuid))
            for page in feed.fetch(edited):
                land(page.name, page.raw, page.origin)
        finally:
            feed.close()
    print(f"{TARGET.relative_to(REPO)}: {len(read)} submissions, {len(edited)} edited, 1 deleted after the paging")


if __name__ == "__main__":
    main()
