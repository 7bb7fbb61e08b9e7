"""The process of a command's own Prefect server: uvicorn serving Prefect's app on a socket its owner bound.

The owner binds the loopback port and hands the bound socket over (never a port number to bind later), so no other
process can take the port while this one imports, and whatever answers on that port is this server.
Run by flows/api_server.py as: python -m protection_etl.flows.prefect_server APP FD LOG_LEVEL, APP being
Prefect's app factory (named on the command line, so that `ps` and a leftover check see a Prefect server).
"""

from __future__ import annotations

import gc
import socket
import sys

APP = "prefect.server.api.server:create_app"
IMPORT_FULL_COLLECTION_THRESHOLD = 1000  # gen-1 collections before a full one (Python's default: 10)
# Prefect's routers that a flow run's requests reach (by prefix), in the order of its first requests. FastAPI builds
# an included router's routes at the first request matched against them, router after router in the order they
# were included: the client's first call to /admin (the last of Prefect's 30) built them all, 1.2-1.4 s of every
# run's critical path, half of it the automations router, which a run never calls. Moved first, a run builds these
# only. No request reaches another route than before: each of these routers has a prefix of its own
# (tests/test_prefect_server.py).
RUN_ROUTERS = ("/flows", "/flow_runs", "/task_runs", "/admin", "/logs", "/artifacts", "/events")


def routers_a_run_reaches_first(routers: tuple) -> tuple:
    """Prefect's API routers with those of RUN_ROUTERS first, the others in their order."""
    first = [router for prefix in RUN_ROUTERS for router in routers if router.prefix == prefix]
    return (*first, *(router for router in routers if all(router is not moved for moved in first)))


def serve(app: str, fd: int, log_level: str) -> None:
    """Serve Prefect's app (settings from the environment) on the inherited socket until SIGTERM."""
    # Prefect's server modules imported with the young generations collected as usual (with the collector paused,
    # the import's cycles were never freed: 10 MB more at the peak of a nightly) but no full collection until the
    # import is done (five of them took 0.7-0.9 s of the import's 4 s of CPU, for the same memory after it), then
    # their objects set aside from later collections. No full collection after the import either: it took 0.22 s
    # to find 94 unreachable objects, and the no-op nightly's peak (this process) was the same without it
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], IMPORT_FULL_COLLECTION_THRESHOLD)
    import prefect.server.api.server
    import uvicorn

    prefect.server.api.server.API_ROUTERS = routers_a_run_reaches_first(prefect.server.api.server.API_ROUTERS)
    gc.set_threshold(*thresholds)
    gc.freeze()
    config = uvicorn.Config(app, factory=True, lifespan="on", log_level=log_level)
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
