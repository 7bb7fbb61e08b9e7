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


def serve(app: str, fd: int, log_level: str) -> None:
    """Serve Prefect's app (settings from the environment) on the inherited socket until SIGTERM."""
    # Prefect's server modules imported with the young generations collected as usual (with the collector paused,
    # the import's cycles were never freed: 10 MB more at the peak of a nightly) but no full collection until the
    # import is done (five of them took 0.7-0.9 s of the import's 4 s of CPU, for the same memory after it), then
    # their objects set aside from later collections. No full collection after the import either: it took 0.22 s
    # to find 94 unreachable objects, and the no-op nightly's peak (this process) was the same without it
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], IMPORT_FULL_COLLECTION_THRESHOLD)
    import prefect.server.api.server  # noqa: F401
    import uvicorn

    gc.set_threshold(*thresholds)
    gc.freeze()
    config = uvicorn.Config(app, factory=True, lifespan="on", log_level=log_level)
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
