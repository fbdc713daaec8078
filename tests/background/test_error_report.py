"""docs/security.md TS-8, inside a task: the dead letter's mail to ADMINS and its row carry no secret.

DEBUG is off, ADMINS set, and settings hold DATABASE_URL, CELERY_BROKER_URL, REDIS_URL and SENTRY_DSN with canary
passwords (the view-side test's `secrets` fixture). Two tasks fail while a canary refresh token sits in local
variables: the real `refresh_credential`, whose token refresh meets a transport failing in an unexpected way, and a
task whose own frame holds the token in a local variable without @sensitive_variables.
"""

from __future__ import annotations

import pytest
from celery import shared_task
from django.core import mail

from background.models import FailedTask
from docusign_integration.models import DocuSignCredential
from docusign_integration.oauth.tasks import refresh_credential
from tests.security.test_error_reports import expired_connection, secrets, transport_breaks

__all__ = ["expired_connection", "secrets", "transport_breaks"]  # fixtures shared with the view-side test


@shared_task(name="tests.background.export_with_token")
def export_with_token(credential_id: str) -> None:
    """A careless task: the refresh token in a plain local, then an error (as a storage backend might raise)."""
    refresh_token = DocuSignCredential.objects.get(pk=credential_id).get_refresh_token()
    settings_snapshot = {"refresh_token": refresh_token, "organization": "Acme"}
    raise RuntimeError(f"export failed for {settings_snapshot['organization']}")


def mail_texts() -> list[str]:
    assert len(mail.outbox) == 1
    report = mail.outbox[0]
    return [report.subject, report.body, *(content for content, _ in report.alternatives)]


def test_a_failed_refresh_task_mails_a_report_without_any_secret(expired_connection, secrets, transport_breaks,
                                                                 eager_celery):
    credential = DocuSignCredential.objects.get()

    result = refresh_credential.apply(args=[str(credential.pk)])

    assert result.failed()
    subject, body, html = mail_texts()
    assert "refresh_credential" in subject and "RuntimeError" in subject
    assert "account_server.py" in body and "account_server.py" in html  # the report shows the refresh that failed, frame by frame
    assert "Local Vars" in html  # ... with each frame's variables, cleansed
    assert not [name for text in (subject, body, html) for name in secrets.found_in(text)]
    row = FailedTask.objects.values().get()
    assert row["args"] == [str(credential.pk)]
    assert not secrets.found_in(str(row))


def test_a_local_variable_named_for_a_secret_is_hidden_without_sensitive_variables(expired_connection, secrets,
                                                                                     eager_celery):
    credential = DocuSignCredential.objects.get()

    export_with_token.apply(args=[str(credential.pk)])

    subject, body, html = mail_texts()
    assert "export_with_token" in html and "settings_snapshot" in html and "Acme" in html
    assert not [name for text in (subject, body, html) for name in secrets.found_in(text)]
    assert not secrets.found_in(str(FailedTask.objects.values().get()))


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
def test_the_task_report_is_scrubbed_whatever_debug_says(expired_connection, secrets, eager_celery, settings, debug):
    settings.DEBUG = debug
    export_with_token.apply(args=[str(DocuSignCredential.objects.get().pk)])
    assert not [name for text in mail_texts() for name in secrets.found_in(text)]
