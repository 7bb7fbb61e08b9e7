"""Email the quality report of a run to the IMO, or keep it in the outbox when it cannot be sent."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from protection_etl.config import NotifyConfig
from protection_etl.expectations.report import (
    ReportFiles,
    RunReport,
    load_run_report,
    render_summary_text,
    run_file_stem,
    write_report,
)
from protection_etl.expectations.report.labels import status_label
from protection_etl.fsutil import private_dir, write_private_file
from protection_etl.i18n import DEFAULT_LANGUAGE, translations
from protection_etl.transforms.messages import Message, msg
from protection_etl.warehouse import db, loader

log = logging.getLogger(__name__)

SUBJECT_PREFIX = "[protection-etl]"
RUN_HEADER = "X-Protection-ETL-Run"


@dataclass(frozen=True)
class Delivery:
    """What became of a message: sent, or kept in the outbox.

    error says why sending failed, or which recipients the server refused while taking it for the others.
    """

    sent: bool
    outbox_path: Path | None
    error: str | None


class NotifyError(Exception):
    """A notification that cannot be attempted as configured (no recipient, a credential missing)."""


def report_and_notify(imo_path: Path, reports_dir: Path, notify: NotifyConfig, csv_style: str,
                      run_id: str | None = None, *, force_send: bool = False) -> tuple[ReportFiles, Delivery | None]:
    """Write a run's quality report, email it as [notify].on asks (or always with force_send), record both."""
    with db.connect(imo_path) as con, db.settings(con, db.SCAN_LIMITS):  # it counts every row, month by month
        report = load_run_report(con, run_id)
    files = write_report(report, reports_dir, notify.language, csv_style)
    if force_send:
        delivery = deliver(build_message(report, files, notify), notify, notify.outbox_dir)
    else:
        delivery = send_report(report, files, notify, notify.outbox_dir)
    with db.connect(imo_path) as con:
        loader.record_report(con, report.run_id, str(files.html_path), describe_delivery(delivery))
    return files, delivery


def describe_delivery(delivery: Delivery | None) -> Message:
    """One line for audit.runs.notification (its English text) and the CLI."""
    if delivery is None:
        return msg("no email needed")
    if delivery.sent:
        return msg("email sent ({detail})", detail=delivery.error) if delivery.error else msg("email sent")
    if delivery.error is None:
        return msg("email written to the outbox {path} (no smtp_host configured)", path=delivery.outbox_path)
    return msg("email NOT sent, kept in the outbox {path}: {error}", path=delivery.outbox_path, error=delivery.error)


def should_notify(policy: str, report: RunReport) -> bool:
    """Whether [notify].on = policy asks for an email about this run.

    failure: the run, a source or an error check failed (a crashed check counts);
    warnings: also rows quarantined or a warning check failed; always; never.
    """
    if policy == "always":
        return True
    if policy == "failure":
        return report.failed
    if policy == "warnings":
        return report.failed or report.has_warnings
    if policy == "never":
        return False
    raise ValueError(f"unknown [notify].on policy {policy!r}: expected failure, warnings, always or never")


def send_report(
    report: RunReport,
    files: ReportFiles,
    notify: NotifyConfig,
    outbox_dir: Path,
    env: Mapping[str, str] = os.environ,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> Delivery | None:
    """Email the run's report when [notify].on asks for it; None when the policy wants no email for this run."""
    if not should_notify(notify.on, report):
        return None
    message = build_message(report, files, notify)
    return deliver(message, notify, outbox_dir, env, ssl_context=ssl_context)


def subject_for(report: RunReport, language: str = DEFAULT_LANGUAGE) -> str:
    """The subject line: run start, status and the sources at fault.

    e.g. "[protection-etl] run 2026-11-30T02:00 FAILED: gbvims, fivew" in English, the prefix kept in every language
    so that mail filters keep working.
    """
    tr = translations(language)
    sources = report.failing_sources() or report.warning_sources()
    subject = tr.gettext("run {started} {status}").format(
        started=f"{report.started_at:%Y-%m-%dT%H:%M}", status=status_label(tr, report.status).upper())
    at_fault = tr.gettext(": {sources}").format(sources=", ".join(sources)) if sources else ""
    return f"{SUBJECT_PREFIX} {subject}{at_fault}"


def build_message(report: RunReport, files: ReportFiles, notify: NotifyConfig) -> EmailMessage:
    """The email: summary as HTML with a plain-text alternative, the full report and the quarantine CSV attached."""
    message = EmailMessage()
    message["Subject"] = subject_for(report, notify.language)
    message["From"] = notify.sender
    message["To"] = ", ".join(notify.to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=notify.sender.rpartition("@")[2] or None)
    message[RUN_HEADER] = report.run_id
    # RFC 3834: out-of-office robots must not answer a machine
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_summary_text(report, notify.language))
    message.add_alternative(files.summary_html, subtype="html")
    message.add_attachment(
        files.html_path.read_bytes(), maintype="text", subtype="html", filename=files.html_path.name
    )
    message.add_attachment(
        files.quarantine_csv_path.read_bytes(),
        maintype="text",
        subtype="csv",
        filename=files.quarantine_csv_path.name,
    )
    return message


def deliver(
    message: EmailMessage,
    notify: NotifyConfig,
    outbox_dir: Path,
    env: Mapping[str, str] = os.environ,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> Delivery:
    """Send the message over SMTP; when that fails, or no smtp_host is set, write it to the outbox as .eml.

    ssl_context replaces the default certificate check (e.g. to trust a private CA); credentials are read from
    the env vars named by username_env / password_env now, at send time.
    """
    if not notify.smtp_host:
        return Delivery(sent=False, outbox_path=write_to_outbox(message, outbox_dir), error=None)
    try:
        refused = send_smtp(message, notify, env, ssl_context=ssl_context)
    except Exception as exc:  # whatever went wrong, the message is kept and the run goes on
        error = _redact(describe_failure(exc, notify), _secret_values(notify, env))
        path = write_to_outbox(message, outbox_dir)
        log.warning("email for run %s not sent: %s; kept in %s", message[RUN_HEADER], error, path)
        return Delivery(sent=False, outbox_path=path, error=error)
    if refused:
        error = f"{notify.smtp_host} refused some recipients: {', '.join(sorted(refused))}"
        log.warning("email for run %s sent, but %s", message[RUN_HEADER], error)
        return Delivery(sent=True, outbox_path=None, error=error)
    log.info("email for run %s sent to %s", message[RUN_HEADER], message["To"])
    return Delivery(sent=True, outbox_path=None, error=None)


def send_smtp(
    message: EmailMessage,
    notify: NotifyConfig,
    env: Mapping[str, str] = os.environ,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, tuple[int, bytes]]:
    """Send over SMTP with STARTTLS, implicit TLS or none, logging in when credentials are configured.

    Returns the recipients the server refused while accepting the others (smtplib raises when it refuses all).
    """
    if not notify.to:
        raise NotifyError("[notify].to lists no recipient")
    credentials = _credentials(notify, env)
    context = ssl_context or ssl.create_default_context()
    with _open_smtp(notify, context) as smtp:
        if notify.security == "starttls":
            # starttls() raises when the server does not offer it: never fall back to sending in clear
            smtp.starttls(context=context)
        if credentials:
            smtp.login(*credentials)
        return smtp.send_message(message)


def write_to_outbox(message: EmailMessage, outbox_dir: Path) -> Path:
    """Write the message as <run_id>.eml into outbox_dir (created 0700, the file 0600) and return its path."""
    outbox_dir = private_dir(Path(outbox_dir))
    path = outbox_dir / f"{run_file_stem(message[RUN_HEADER] or 'message')}.eml"
    write_private_file(path, message.as_bytes())
    return path


def describe_failure(exc: BaseException, notify: NotifyConfig) -> str:
    """One line saying which server failed and how, with no credential in it."""
    where = f"{notify.smtp_host}:{notify.smtp_port} ({notify.security})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"{where}: login refused: {_smtp_reply(exc)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where}: server replied {_smtp_reply(exc)}"
    if isinstance(exc, ssl.SSLError):
        return f"{where}: TLS failed: {exc}"
    if _caused_by(exc, TimeoutError):
        return f"{where}: no answer within {notify.timeout_seconds:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused (is the server up and the port right?)"
    return f"{where}: {type(exc).__name__}: {exc}"


def _open_smtp(notify: NotifyConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    host, port, timeout = notify.smtp_host or "", notify.smtp_port, notify.timeout_seconds
    if notify.security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    return smtplib.SMTP(host, port, timeout=timeout)


def _credentials(notify: NotifyConfig, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(username, password) from the env vars the config names; None when no login is configured."""
    names = {"username_env": notify.username_env, "password_env": notify.password_env}
    if not any(names.values()):
        return None
    missing = [f"[notify].{key} = {name!r}" for key, name in names.items() if not (name and env.get(name))]
    if missing:
        raise NotifyError(f"SMTP login configured but not set: {', '.join(missing)}")
    return env[notify.username_env or ""], env[notify.password_env or ""]


def _secret_values(notify: NotifyConfig, env: Mapping[str, str]) -> list[str]:
    names = (notify.username_env, notify.password_env)
    return [env[name] for name in names if name and env.get(name)]


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected, keeping the timeout as its context
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return any(isinstance(link, kind) for link in chain)


def _smtp_reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}".strip()


_BASE64 = re.compile(r"[A-Za-z0-9+/]{6,}={0,2}")


def _redact(text: str, secrets: list[str]) -> str:
    """The text without the credentials, as typed or as the AUTH exchange carries them (base64 of the user, the
    password, or PLAIN's '\\0user\\0password'): a server may echo what it was sent, and the credentials never leave
    this module in an error or a log line."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _BASE64.sub(lambda token: "***" if _hides_secret(token[0], secrets) else token[0], text)


def _hides_secret(token: str, secrets: list[str]) -> bool:
    """True when a base64 token decodes to an AUTH payload (PLAIN's NUL bytes) or to text holding a credential."""
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    if b"\x00" in decoded and len(decoded) >= 3:
        return True
    text = decoded.decode("utf-8", "replace")
    return any(secret and secret in text for secret in secrets)

