"""Real SMTP servers on loopback for tests (aiosmtpd): plain, STARTTLS, implicit TLS, with or without AUTH."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.waiting import patience

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: str | None

    def message(self) -> EmailMessage:
        """The content parsed as a modern EmailMessage."""
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class CapturingHandler:
    """aiosmtpd handler that keeps every message it accepts and refuses the recipients it is told to."""

    messages: list[Received] = field(default_factory=list)
    refused_recipients: frozenset[str] = frozenset()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refused_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content or envelope.content,
                # STARTTLS fills session.ssl; with implicit TLS only the transport knows
                tls=session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                login=login,
            )
        )
        return "250 OK"


@dataclass(frozen=True)
class CertificateFiles:
    """A test CA and a server certificate it signed for localhost and 127.0.0.1, as PEM files."""

    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        """What the server presents."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that verifies the server against the test CA only (hostname checked too)."""
        return ssl.create_default_context(cafile=str(self.ca_path))


@dataclass
class SmtpServer:
    """A running server: where it listens and what it received."""

    controller: Controller
    handler: CapturingHandler
    host: str
    port: int

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def stop(self) -> None:
        self.controller.stop()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def make_certificates(directory: Path) -> CertificateFiles:
    """Generate a CA and a server certificate (localhost, 127.0.0.1) valid for one day, written to directory."""
    ca_key, ca_cert = _ca()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        _builder(name, ca_cert.subject, key)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = CertificateFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def start_smtp_server(
    *,
    starttls: CertificateFiles | None = None,
    implicit_tls: CertificateFiles | None = None,
    accept_login: tuple[str, str] | None = None,
    auth_require_tls: bool = True,
    refuse_recipients: tuple[str, ...] = (),
) -> SmtpServer:
    """Start a server on a free loopback port.

    starttls: offer STARTTLS with these certificates; implicit_tls: TLS from the first byte (SMTP_SSL);
    accept_login: require AUTH and accept only this (username, password), refusing any other.
    aiosmtpd offers AUTH only over TLS unless auth_require_tls=False. refuse_recipients get a 550 at RCPT.
    """
    handler = CapturingHandler(refused_recipients=frozenset(refuse_recipients))
    port = free_port()
    smtp_options: dict[str, Any] = {}
    if starttls:
        smtp_options["tls_context"] = starttls.server_context()
    if accept_login:
        smtp_options.update(
            authenticator=_accepting(*accept_login), auth_required=True, auth_require_tls=auth_require_tls
        )
    controller = Controller(
        handler,
        hostname=LOOPBACK,
        port=port,
        # a fixed name spares aiosmtpd a reverse DNS lookup of the machine at every connection
        server_hostname="localhost",
        ssl_context=implicit_tls.server_context() if implicit_tls else None,
        ready_timeout=patience(10),  # aiosmtpd's own 5 s is a cliff on a crowded machine
        **smtp_options,
    )
    controller.start()
    return SmtpServer(controller=controller, handler=handler, host=LOOPBACK, port=port)


@contextmanager
def running_smtp_server(**options: Any) -> Iterator[SmtpServer]:
    """start_smtp_server as a context manager that always stops the server."""
    server = start_smtp_server(**options)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP connections but never says a word (an SMTP client times out)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _accepting(username: str, password: str) -> Any:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data == (username.encode(), password.encode())
        # handled=False lets aiosmtpd answer 535 itself when the login is refused
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "protection-etl test CA")])
    cert = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
