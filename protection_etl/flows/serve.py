"""`protection-etl serve`: the nightly flow on [schedule], with a loopback Prefect server when no API is configured."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from protection_etl.config import PipelineConfig
from protection_etl.flows.api_server import (
    loopback_socket,
    loopback_url,
    owned_server,
    serve_server_command,
    server_home,
)
from protection_etl.flows.runtime import prepare_environment

DEPLOYMENT = "nightly"
log = logging.getLogger("protection_etl.serve")


class ScheduleError(ValueError):
    """[schedule] holds a cron or a timezone that Prefect refuses."""


def serve(config_path: Path, config: PipelineConfig, ui: bool = True) -> None:
    """Run the nightly flow on the schedule until Ctrl-C or SIGTERM; a failed run does not stop the schedule."""
    state_dir = config.warehouse.state_dir
    prepare_environment(state_dir)
    local = not os.environ.get("PREFECT_API_URL")
    # the server's socket is bound now: Prefect reads its settings when first imported, so the URL is set first
    sock = loopback_socket() if local else None
    if sock is not None:
        os.environ["PREFECT_API_URL"] = loopback_url(sock)
    api_url, cron, timezone = os.environ["PREFECT_API_URL"], config.schedule.cron, config.schedule.timezone
    deployment = nightly_deployment(config_path.resolve(), cron, timezone)
    with stop_on_sigterm(), local_server(state_dir, sock, ui):
        from prefect import serve as prefect_serve

        typer.echo(serving_message(cron, timezone, api_url, ui and local))
        prefect_serve(deployment, print_starting_message=False)


def serving_message(cron: str, timezone: str, api_url: str, ui: bool) -> str:
    """What `serve` prints once the server is up: the schedule in its time zone, the API and the UI."""
    lines = [f"serving the nightly flow on '{cron}', time zone {timezone}",
             f"Prefect API: {api_url}"]
    if ui:
        lines.append(f"Prefect UI: {api_url.removesuffix('/api')} (this machine only)")
    lines.append("Ctrl-C or SIGTERM stops it")
    return "\n".join(lines)


def nightly_deployment(config_path: Path, cron: str, timezone: str):
    """The `nightly` deployment: the cron in the timezone, the absolute config path as its parameter."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from protection_etl.flows.nightly import nightly

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"[schedule] timezone {timezone!r} is not an IANA time zone (e.g. Africa/Bamako)") from None
    try:
        schedule = Cron(cron, timezone=timezone)
    except ValueError as exc:
        raise ScheduleError(f"[schedule] cron {cron!r}: {exc}") from None
    return nightly.to_deployment(
        DEPLOYMENT, schedule=schedule,
        parameters={"config_path": str(config_path)},  # the trigger is read from the flow run
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so that cleanup runs (Prefect's runner installs its own once started)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def local_server(state_dir: Path, sock: socket.socket | None, ui: bool) -> Iterator[None]:
    """Prefect's server on `sock` for the block, its database and log under the state folder (none: no server)."""
    if sock is None:
        yield
        return
    command, env = serve_server_command(sock, server_home(state_dir), ui)
    with owned_server(state_dir, "serve", sock, command, env):
        yield
