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


def serve(app: str, fd: int, log_level: str) -> None:
    """Serve Prefect's app (settings from the environment) on the inherited socket until SIGTERM."""
    # Prefect's server modules imported with the garbage collector on (paused, the import took a tenth less CPU but
    # its cycles were never freed: 10 MB more at the peak of a nightly), collected once, then their objects set aside
    # from later collections
    import prefect.server.api.server  # noqa: F401
    import uvicorn

    gc.collect()
    gc.freeze()
    config = uvicorn.Config(app, factory=True, lifespan="on", log_level=log_level)
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])
