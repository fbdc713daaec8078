"""docs/security.md TS-8: the error e-mail an unexpected exception sends to ADMINS carries no secret.

The exception is injected where the sandbox cannot produce one (requests' session itself fails in an unexpected way)
in the middle of a token refresh, so the frames on the way hold the refresh token, the client secret and the Basic
credentials; settings hold connection strings with canary passwords. Both the plain-text report Django mails by
default and the HTML report (AdminEmailHandler(include_html=True), which shows every frame's local variables) are read.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils.log import AdminEmailHandler

from docusign_integration.client import http
from docusign_integration.oauth import credentials
from docusign_integration.oauth.account_server import TokenResponse, UserAccount, UserInfo
from tenants import services
from tests import factories
from tests.security.conftest import Secrets, canary

ACCOUNT_ID = str(uuid.uuid4())


@pytest.fixture
def secrets(settings) -> Secrets:
    """Canary secrets, plus settings whose values embed canary passwords."""
    seeded = Secrets()
    settings.DEBUG = False
    settings.ADMINS = [("Portal operators", "operators@isv.example")]
    settings.DOCUSIGN_CLIENT_SECRET = seeded.client_secret
    for name, template in (("CELERY_BROKER_URL", "redis://:{}@broker.internal:6379/0"),
                           ("REDIS_URL", "redis://:{}@cache.internal:6379/1"),
                           ("DATABASE_URL", "postgres://portal:{}@db.internal:5432/portal"),
                           ("SENTRY_DSN", "https://{}@sentry.internal/4")):
        value = canary()
        setattr(settings, name, template.format(value))
        seeded.issued_tokens.append(value)  # reported under "issued token N": any canary found is a leak
    return seeded


@pytest.fixture
def expired_connection(db, secrets):
    """A client admin whose DocuSign connection (canary tokens) must be refreshed on its next use."""
    organization = factories.organization("Acme Corp", account_id=ACCOUNT_ID)
    admin = factories.client_admin("admin-a", organization)
    tokens = TokenResponse(access_token=secrets.access_token, expires_in=60, refresh_token=secrets.refresh_token,
                           scope="signature extended")
    person = UserInfo(sub=str(uuid.uuid4()), name="Ada Admin", email="ada@acme.example",
                      accounts=[UserAccount(ACCOUNT_ID, "Acme Corp", "http://127.0.0.1:9", True)])
    credential = credentials.credential_store(acting_user=admin, organization=organization, tokens=tokens, userinfo=person,
                                              environment="sandbox")
    assert credential.needs_refresh(credential.expires_at - timedelta(seconds=1))
    return organization, admin


@pytest.fixture
def transport_breaks(monkeypatch) -> None:
    """requests' session fails with an error the portal does not expect (not a RequestException)."""
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection pool is in an inconsistent state")

    monkeypatch.setattr(http.session, "request", broken)


def mail_admins_handler() -> AdminEmailHandler:
    return next(h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler))


@pytest.mark.parametrize("include_html", [False, True], ids=["text report", "html report"])
def test_the_error_mail_of_a_failed_refresh_holds_no_secret(expired_connection, secrets, transport_breaks, monkeypatch,
                                                            include_html):
    monkeypatch.setattr(mail_admins_handler(), "include_html", include_html)
    organization, admin = expired_connection
    browser = Client(raise_request_exception=False)
    browser.force_login(admin)

    response = browser.post(f"/onboarding/{organization.slug}/account/", {"account_id": ACCOUNT_ID})

    assert response.status_code == 500
    assert len(mail.outbox) == 1
    report = mail.outbox[0]
    texts = [report.body, *(content for content, _ in getattr(report, "alternatives", []))]
    assert "RuntimeError" in texts[-1] and "account_server.py" in texts[-1]  # the report is about the refresh that failed
    assert len(texts) == (2 if include_html else 1)
    leaks = [name for text in texts for name in secrets.found_in(text)]
    assert not leaks


@pytest.fixture
def invitation_link(db, secrets, django_capture_on_commit_callbacks) -> str:
    """The path of a pending invitation's link, as the invitee finds it in the e-mail."""
    organization = factories.organization("Acme Corp")
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(acting_user=None, organization=organization, email="new.admin@acme.example", role="admin")
    body = mail.outbox.pop().body
    return body[body.index("/onboarding/invitations/"):].split()[0]


@pytest.mark.parametrize("include_html", [False, True], ids=["text report", "html report"])
def test_the_error_mail_of_a_failed_invitation_holds_no_portal_password(invitation_link, secrets, monkeypatch, include_html):
    monkeypatch.setattr(mail_admins_handler(), "include_html", include_html)

    def session_store_down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the session store is unreachable")

    monkeypatch.setattr("pages.views.login", session_store_down)  # django.contrib.auth.login: a fault, not our code
    password = secrets.client_secret  # a canary as the chosen portal password

    response = Client(raise_request_exception=False).post(invitation_link, {"password1": password, "password2": password})

    assert response.status_code == 500
    report = mail.outbox[-1]
    texts = [report.body, *(content for content, _ in getattr(report, "alternatives", []))]
    assert "password1" in texts[0]  # the POST section is there, its values replaced
    assert not [name for text in texts for name in secrets.found_in(text)]
