"""Email on failure, against real SMTP servers on loopback: plain, STARTTLS, implicit TLS, with and without login."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from protection_etl.config import NotifyConfig
from protection_etl.expectations.report import (
    QualityFailure,
    QuarantineRow,
    ReportFiles,
    RunReport,
    SourceSummary,
    write_report,
)
from protection_etl.notify import build_message, deliver, send_report, should_notify, subject_for
from tests.support.smtp_server import (
    LOOPBACK,
    CertificateFiles,
    SmtpServer,
    free_port,
    make_certificates,
    running_smtp_server,
    silent_server,
)

RUN_ID = "2026-11-30T02:00:00Z-a1b2"
USER, PASSWORD = "etl@cluster-protection.ml", "s3cret-Pa55word"
ENV = {"TEST_SMTP_USER": USER, "TEST_SMTP_PASSWORD": PASSWORD}


def source(name: str, status: str, loaded: int = 100, quarantined: int = 0) -> SourceSummary:
    return SourceSummary(name, name, status, loaded + quarantined, loaded, quarantined)


def run_report(status: str, sources: list[SourceSummary], failures: list[QualityFailure] | None = None,
               quarantine: list[QuarantineRow] | None = None) -> RunReport:
    started = datetime(2026, 11, 30, 2, 0, 7)
    return RunReport(RUN_ID, started, started.replace(minute=4), status, sources, failures or [], quarantine or [])


def failed_check(name: str, severity: str = "error", crashed: bool = False) -> QualityFailure:
    return QualityFailure(name, "gbv_incident", "expect_column_values_to_be_in_set(sex)", severity,
                          "Sex must be f, m, u or all.", 3, ("F ",), crashed)


QUARANTINED = QuarantineRow("cmp", "cmp.xlsx", "Données", 12, "Personnes", "-3", "a count, 0 or more", "warning")
CLEAN = run_report("succeeded", [source("cmp", "loaded"), source("gbvims", "loaded")])
WITH_WARNINGS = run_report(
    "succeeded with warnings",
    [source("cmp", "loaded with warnings", quarantined=1), source("gbvims", "loaded")],
    quarantine=[QUARANTINED],
)
FAILING = run_report(
    "failed",
    [source("cmp", "loaded with warnings", quarantined=1), source("gbvims", "failed", loaded=0),
     source("fivew", "refused", loaded=0)],
    failures=[failed_check("gbvims")],
    quarantine=[QUARANTINED],
)
ERROR_CHECK_ONLY = run_report("succeeded", [source("gbvims", "loaded")], failures=[failed_check("gbvims")])
CRASHED_CHECK = run_report(
    "succeeded", [source("gbvims", "loaded")], failures=[failed_check("gbvims", "warning", crashed=True)]
)
WARNING_CHECK_ONLY = run_report("succeeded", [source("gbvims", "loaded")],
                                failures=[failed_check("gbvims", "warning")])
RUN_FAILED_ALONE = run_report("failed", [])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> CertificateFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def plain_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


def files_for(report: RunReport, tmp_path: Path) -> ReportFiles:
    return write_report(report, tmp_path / "reports", "en")


def notify_config(port: int | None, **overrides) -> NotifyConfig:
    settings = {
        "on": "failure",
        "language": "en",
        "to": ["imo@cluster-protection.ml", "gbv-aor@cluster-protection.ml"],
        "sender": "etl@cluster-protection.ml",
        "smtp_host": LOOPBACK if port else None,
        "smtp_port": port or 587,
        "security": "none",
        "timeout_seconds": 5,
    }
    return NotifyConfig(**{**settings, **overrides})


def with_login(port: int, **overrides) -> NotifyConfig:
    return notify_config(port, username_env="TEST_SMTP_USER", password_env="TEST_SMTP_PASSWORD", **overrides)


# --- when to send -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "report", "expected"),
    [
        ("failure", CLEAN, False),
        ("failure", WITH_WARNINGS, False),
        ("failure", WARNING_CHECK_ONLY, False),
        ("failure", FAILING, True),
        ("failure", ERROR_CHECK_ONLY, True),
        ("failure", CRASHED_CHECK, True),
        ("failure", RUN_FAILED_ALONE, True),
        ("warnings", CLEAN, False),
        ("warnings", WITH_WARNINGS, True),
        ("warnings", WARNING_CHECK_ONLY, True),
        ("warnings", FAILING, True),
        ("always", CLEAN, True),
        ("never", FAILING, False),
    ],
    ids=[
        "failure-clean", "failure-quarantined", "failure-warning-check", "failure-failed-run",
        "failure-error-check", "failure-crashed-check", "failure-run-status", "warnings-clean",
        "warnings-quarantined", "warnings-warning-check", "warnings-failed-run", "always-clean", "never-failed",
    ],
)
def test_should_notify_follows_the_policy(policy, report, expected):
    assert should_notify(policy, report) is expected


def test_an_unknown_policy_is_an_error():
    with pytest.raises(ValueError, match="sometimes"):
        should_notify("sometimes", CLEAN)


@pytest.mark.parametrize(
    ("report", "subject"),
    [
        (FAILING, "[protection-etl] run 2026-11-30T02:00 FAILED: gbvims, fivew"),
        (WITH_WARNINGS, "[protection-etl] run 2026-11-30T02:00 SUCCEEDED WITH WARNINGS: cmp"),
        (CLEAN, "[protection-etl] run 2026-11-30T02:00 SUCCEEDED"),
    ],
    ids=["failed", "warnings", "clean"],
)
def test_the_subject_names_the_status_and_the_sources_at_fault(report, subject):
    assert subject_for(report, "en") == subject


def test_the_subject_is_in_french_by_default_and_keeps_its_prefix():
    assert subject_for(FAILING) == "[protection-etl] exécution 2026-11-30T02:00 ÉCHEC : gbvims, fivew"


# --- sending ------------------------------------------------------------------------------------------------


def test_a_failing_run_sends_one_email_with_summary_and_both_attachments(plain_server, tmp_path, outbox):
    files = files_for(FAILING, tmp_path)
    notify = notify_config(plain_server.port)

    delivery = send_report(FAILING, files, notify, outbox, env={})

    assert delivery is not None and (delivery.sent, delivery.error, delivery.outbox_path) == (True, None, None)
    assert len(plain_server.messages) == 1
    received = plain_server.messages[0]
    assert received.rcpt_tos == notify.to and received.mail_from == notify.sender
    message = received.message()
    assert message["Subject"] == "[protection-etl] run 2026-11-30T02:00 FAILED: gbvims, fivew"
    assert "Sex must be f, m, u or all." in message.get_body(("html",)).get_content()
    assert "gbvims (gbvims): failed" in message.get_body(("plain",)).get_content()
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {f"{files.html_path.name}", f"{files.quarantine_csv_path.name}"}
    assert attachments[files.html_path.name].get_content_type() == "text/html"
    csv_part = attachments[files.quarantine_csv_path.name]
    assert csv_part.get_content_type() == "text/csv"
    assert csv_part.get_payload(decode=True) == files.quarantine_csv_path.read_bytes()
    assert not outbox.exists()


def test_a_clean_run_with_on_failure_sends_nothing(plain_server, tmp_path, outbox):
    delivery = send_report(CLEAN, files_for(CLEAN, tmp_path), notify_config(plain_server.port), outbox, env={})

    assert delivery is None
    assert plain_server.messages == []
    assert not outbox.exists()


def test_on_warnings_sends_when_rows_were_quarantined(plain_server, tmp_path, outbox):
    files = files_for(WITH_WARNINGS, tmp_path)

    silent = send_report(WITH_WARNINGS, files, notify_config(plain_server.port, on="failure"), outbox, env={})
    sent = send_report(WITH_WARNINGS, files, notify_config(plain_server.port, on="warnings"), outbox, env={})

    assert silent is None
    assert sent is not None and sent.sent
    assert [m.message()["Subject"] for m in plain_server.messages] == [
        "[protection-etl] run 2026-11-30T02:00 SUCCEEDED WITH WARNINGS: cmp"
    ]


def test_a_refused_recipient_is_reported_while_the_others_get_the_email(tmp_path, outbox):
    with running_smtp_server(refuse_recipients=("gbv-aor@cluster-protection.ml",)) as server:
        notify = notify_config(server.port)
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env={})

    assert delivery.sent and delivery.outbox_path is None
    assert "refused some recipients: gbv-aor@cluster-protection.ml" in (delivery.error or "")
    assert [m.rcpt_tos for m in server.messages] == [["imo@cluster-protection.ml"]]


def test_starttls_with_a_certificate_the_client_trusts(certificates, tmp_path, outbox):
    with running_smtp_server(starttls=certificates) as server:
        message = build_message(FAILING, files_for(FAILING, tmp_path), notify_config(server.port))
        delivery = deliver(message, notify_config(server.port, security="starttls"), outbox, env={},
                           ssl_context=certificates.client_context())

    assert delivery.sent, delivery.error
    assert [m.tls for m in server.messages] == [True]


def test_starttls_refuses_a_certificate_it_does_not_trust(certificates, tmp_path, outbox):
    notify = notify_config(None, smtp_host=LOOPBACK, security="starttls")
    with running_smtp_server(starttls=certificates) as server:
        notify = notify.model_copy(update={"smtp_port": server.port})
        # the default context trusts the system's CAs only, not the test CA
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env={})

    assert not delivery.sent
    assert "TLS failed" in (delivery.error or "") and "certificate verify failed" in (delivery.error or "")
    assert server.messages == []
    assert delivery.outbox_path == outbox / "2026-11-30T02-00-00Z-a1b2.eml"
    assert delivery.outbox_path.is_file()


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(plain_server, tmp_path, outbox):
    notify = notify_config(plain_server.port, security="starttls")

    delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env={})

    assert not delivery.sent and "STARTTLS" in (delivery.error or "")
    assert plain_server.messages == []


def test_implicit_tls(certificates, tmp_path, outbox):
    with running_smtp_server(implicit_tls=certificates) as server:
        notify = notify_config(server.port, security="ssl")
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env={},
                           ssl_context=certificates.client_context())

    assert delivery.sent, delivery.error
    assert [m.tls for m in server.messages] == [True]


def test_login_with_the_credentials_from_the_environment(certificates, tmp_path, outbox):
    with running_smtp_server(starttls=certificates, accept_login=(USER, PASSWORD)) as server:
        notify = with_login(server.port, security="starttls")
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env=ENV,
                           ssl_context=certificates.client_context())

    assert delivery.sent, delivery.error
    assert [m.login for m in server.messages] == [USER]


def test_a_refused_login_keeps_the_message_in_the_outbox_without_the_password(
    certificates, tmp_path, outbox, caplog
):
    caplog.set_level(logging.DEBUG, logger="protection_etl")
    with running_smtp_server(starttls=certificates, accept_login=(USER, "another password")) as server:
        notify = with_login(server.port, security="starttls")
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env=ENV,
                           ssl_context=certificates.client_context())

    assert not delivery.sent
    assert "login refused: 535" in (delivery.error or "")
    assert server.messages == []
    assert delivery.outbox_path is not None
    eml = delivery.outbox_path.read_bytes()
    assert b"FAILED: gbvims, fivew" in eml
    assert PASSWORD.encode() not in eml
    assert PASSWORD not in (delivery.error or "")
    assert "login refused" in caplog.text and PASSWORD not in caplog.text


def test_a_server_that_is_down_leaves_the_message_in_the_outbox(tmp_path, outbox, caplog):
    notify = with_login(free_port())

    delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env=ENV)

    assert not delivery.sent
    assert "connection refused" in (delivery.error or "")
    assert delivery.outbox_path is not None and delivery.outbox_path.is_file()
    assert PASSWORD not in (delivery.error or "") and PASSWORD not in caplog.text
    assert PASSWORD.encode() not in delivery.outbox_path.read_bytes()


def test_a_server_that_never_answers_times_out_into_the_outbox(tmp_path, outbox):
    with silent_server() as port:
        notify = notify_config(port, timeout_seconds=0.3)
        delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox, env={})

    assert not delivery.sent and "no answer within 0.3 s" in (delivery.error or "")
    assert delivery.outbox_path is not None and delivery.outbox_path.is_file()


def test_a_login_configured_without_its_env_var_is_not_attempted(plain_server, tmp_path, outbox):
    notify = with_login(plain_server.port)

    delivery = deliver(build_message(FAILING, files_for(FAILING, tmp_path), notify), notify, outbox,
                       env={"TEST_SMTP_USER": USER})

    assert not delivery.sent and "TEST_SMTP_PASSWORD" in (delivery.error or "")
    assert plain_server.messages == []
    assert delivery.outbox_path is not None and delivery.outbox_path.is_file()


def test_without_smtp_host_the_message_goes_to_an_owner_only_outbox(tmp_path, outbox):
    notify = notify_config(None)

    delivery = send_report(FAILING, files_for(FAILING, tmp_path), notify, outbox, env={})

    assert delivery is not None and (delivery.sent, delivery.error) == (False, None)
    assert delivery.outbox_path == outbox / "2026-11-30T02-00-00Z-a1b2.eml"
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(delivery.outbox_path.stat().st_mode) == 0o600
    assert delivery.outbox_path.read_bytes().startswith(b"Subject: [protection-etl] run 2026-11-30T02:00 FAILED")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


ECHO_USER, ECHO_PASSWORD = "etl-user@example.org", "S3cret-pass!"
PLAIN = _b64(b"\0" + ECHO_USER.encode() + b"\0" + ECHO_PASSWORD.encode())
PLAIN_NO_AUTHZID = _b64(ECHO_USER.encode() + b"\0" + ECHO_PASSWORD.encode())
ECHOES = [
    ("the password as typed", f"535 bad credentials for {ECHO_PASSWORD}"),
    ("AUTH PLAIN", f"535 5.7.8 raw [{PLAIN}]"),
    ("AUTH PLAIN without authzid", f"535 {PLAIN_NO_AUTHZID} refused"),
    ("AUTH LOGIN user", f"334 UGFzc3dvcmQ6 after {_b64(ECHO_USER.encode())}"),
    ("AUTH LOGIN password", f"535 {_b64(ECHO_PASSWORD.encode())} rejected"),
]


@pytest.mark.parametrize("reply", [c[1] for c in ECHOES], ids=[c[0] for c in ECHOES])
def test_an_echo_of_the_login_is_redacted_in_every_form(reply):
    from protection_etl.notify import _redact

    shown = _redact(f"smtp.example.org:587 (starttls): login refused: {reply}", [ECHO_USER, ECHO_PASSWORD])
    assert ECHO_PASSWORD not in shown and ECHO_USER not in shown
    assert not any(_b64(s.encode()) in shown for s in (ECHO_USER, ECHO_PASSWORD))
    assert "smtp.example.org:587" in shown and "***" in shown
