"""Process environment for Prefect and GX: local state under the project, telemetry off. Call before importing them."""

from __future__ import annotations

import os
from pathlib import Path

from protection_etl.fsutil import private_dir, private_files

QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    # a run's INFO lines reach the Prefect API (its UI shows them) and the run log; the console shows warnings only
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "true",
    # the temporary local server of a manual run can take longer than Prefect's 20 s default on a busy machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    # py-key-value (Prefect's docket) type-checks its own calls with beartype, recompiling its modules at each
    # import: a third of a second of every start of a Prefect server, for checks that only warn
    "PY_KEY_VALUE_DISABLE_BEARTYPE": "true",
}


def prepare_environment(state_dir: Path) -> None:
    """Keep Prefect's home inside the project's state folder and turn telemetry off (existing values win)."""
    private_dir(state_dir)
    os.environ.setdefault("PREFECT_HOME", str(state_dir.resolve() / "prefect"))
    os.umask(0o077)  # what Prefect writes (prefect.db, its journals) is owner-only, like the rest of the state
    home = Path(os.environ["PREFECT_HOME"])
    if home.is_dir():
        private_files(home, "*.db*")  # a database made before this rule
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    bypass_proxies_for_loopback()


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def bypass_proxies_for_loopback() -> None:
    """The Prefect server of a run or of `serve` is on loopback: a proxy the environment names (an office's
    http_proxy) must not be asked for it, by Prefect's client (httpx) or by urllib."""
    for name in ("no_proxy", "NO_PROXY"):
        hosts = [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]
        os.environ[name] = ",".join([*hosts, *(h for h in LOOPBACK_HOSTS if h not in hosts)])
