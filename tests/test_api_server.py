"""A command's own Prefect server: its port is never free for another process, and an API that stops answering
is one line naming the server's log. A stand-in HTTP server on the handed-over socket plays the server (no Prefect)."""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
from pathlib import Path

import httpx
import pytest

from protection_etl.flows.api_server import ServerError, api_unreachable, loopback_socket, owned_server
from tests.support.waiting import wait_for

# serves `count` requests on the socket whose descriptor it inherited, answering "stand-in", then exits with 3
STAND_IN = """
import socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Reply(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "8"); self.end_headers()
        self.wfile.write(b"stand-in")
    def log_message(self, *args): pass
server = HTTPServer(("127.0.0.1", 0), Reply, bind_and_activate=False)
server.socket.close()
server.socket = socket.socket(fileno=int(sys.argv[1]))
server.server_activate()
for _ in range(int(sys.argv[2])):
    server.handle_request()
sys.exit(3)
"""


def stand_in(sock: socket.socket, requests: int) -> list[str]:
    return [sys.executable, "-c", STAND_IN, str(sock.fileno()), str(requests)]


def test_no_other_process_can_take_the_port_while_the_server_starts_so_its_health_check_reaches_it(tmp_path):
    sock = loopback_socket()
    port = sock.getsockname()[1]
    refused: list[OSError] = []

    def another_process_binds_the_port() -> None:  # what a port released before the server's bind allowed
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                other.bind(("127.0.0.1", port))
            except OSError as exc:
                refused.append(exc)

    with owned_server(tmp_path, "run", sock, stand_in(sock, 2), {},
                      while_starting=another_process_binds_the_port) as api_url:
        assert api_url == f"http://127.0.0.1:{port}/api"
        with urllib.request.urlopen(f"{api_url}/admin/version", timeout=30) as reply:
            assert reply.read() == b"stand-in"
    assert refused, "another socket could bind the server's port"


def test_a_server_that_exits_after_its_health_check_is_one_line_naming_its_log(tmp_path):
    sock = loopback_socket()
    with pytest.raises(ServerError) as raised, owned_server(tmp_path, "run", sock, stand_in(sock, 1), {}) as api_url:
        server = json.loads((tmp_path / "prefect" / "run-server.json").read_text())["server"]
        wait_for(lambda: exited(server), 60, "the stand-in's exit after its one answer")
        raise RuntimeError(f"Failed to reach API at {api_url}/")  # what Prefect's client then raises
    log = tmp_path / "prefect" / "run-server.log"
    assert str(raised.value) == f"the Prefect server exited with code 3 while in use; see {log}"


def exited(pid: int) -> bool:
    """A child that exited and is not yet reaped (a zombie)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def _connect_error() -> Exception:
    try:
        raise httpx.ConnectError("All connection attempts failed")
    except httpx.ConnectError as cause:
        try:
            raise RuntimeError("Failed to reach API at http://127.0.0.1:1/api/") from cause
        except RuntimeError as exc:
            return exc


@pytest.mark.parametrize(("exc", "unreachable"), [
    (_connect_error(), True),
    (httpx.ConnectError("refused"), True),
    (RuntimeError("Found incompatible versions: client: 3.9.1, server: 2.0.0"), False),
    (ValueError("a bug"), False),
], ids=["prefect-version-check", "httpx-connect", "version-mismatch", "other"])
def test_what_counts_as_the_api_not_answering(exc, unreachable):
    assert api_unreachable(exc) is unreachable


def test_a_configured_api_that_does_not_answer_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    from protection_etl.flows import api_server

    monkeypatch.setattr(api_server, "_configured_api_url", lambda: "http://127.0.0.1:9/api")
    with pytest.raises(ServerError, match=r"^the Prefect API given by PREFECT_API_URL does not answer "
                                          r"\(http://127\.0\.0\.1:9/api\): start that server, or unset"), \
            api_server.api_for_run(tmp_path):
        raise _connect_error()
