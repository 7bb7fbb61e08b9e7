"""Prefect task options: what is retried and what runs once."""

from __future__ import annotations

import requests
from prefect.cache_policies import NO_CACHE


def _is_transient(task, task_run, state) -> bool:
    """Retry network trouble, not a missing file or a bad sheet."""
    try:
        state.result()
    except (requests.ConnectionError, requests.Timeout, TimeoutError, ConnectionError):
        return True
    except Exception:
        return False
    return False


# fetching and landing: network trouble is retried with back-off
RETRY_TRANSIENT = {"cache_policy": NO_CACHE, "retries": 3, "retry_delay_seconds": [2, 10, 30],
                   "retry_condition_fn": _is_transient}
# everything else runs once, never cached: a retry would not change the outcome, or (KoBo) the client retries each
# request itself, honouring Retry-After
NO_RETRY = {"cache_policy": NO_CACHE}
