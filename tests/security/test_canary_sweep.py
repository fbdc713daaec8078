"""docs/security.md TS-7, TS-1 (dump) and F5: seeded secrets never leave the server.

The world (tests/security/conftest.py) seeds canaries as the client secret, an access and refresh token pair, a Connect
HMAC key, and uses the RSA private key the sandbox registered; the real token pair of a connected admin counts as secret
too. With every log record at DEBUG and every Celery message captured from the start, it sends those secrets to the
sandbox, crawls every GET route of the portal as each role, and dumps every portal table. The access logs
(runserver's `django.server`, `django.request`'s 4xx/5xx lines, gunicorn's access log in the documented format) are
swept for a DocuSign callback's code and state and for invitation and password-reset tokens. Encryption details (AEAD,
row binding, tampering) are docs/security.md TS-1's own tests in tests/integration/test_encryption.py; error e-mails are TS-8's in
test_error_reports.py.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from celery.signals import before_task_publish
from django.core import mail
from django.db import connection

from docusign_integration.models import ConnectHMACKey, DocuSignCredential
from portal.log_format import RedactedJsonFormatter
from portal.request_id import RequestIdFilter
from tenants import services
from tenants.models import MembershipRole
from tests import factories
from tests.security.conftest import ROLES, World, build_world, canary
from tests.security.crawl import crawl, get_routes
from tests.security.portal_server import serving_portal

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"

TOKEN_IN_URL = re.compile(r"[?&;](code|access_token|refresh_token|id_token)=", re.IGNORECASE)
# Patterns no persona can fill: unnamed admin redirects and catch-alls, and OpenID tables the portal never writes.
EXPECTED_UNFILLABLE = re.compile(r"^admin/(.*<path:object_id>/|\(\?P<url>\.\*\)\$|social_django/(nonce|association)/)")


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, as an operator's log file would show it: as a plain line,
    and as production's JSON line with its request id (settings.LOGGING's "json" formatter; docs/operations.md section 10)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.json = RedactedJsonFormatter()
        self.request_id = RequestIdFilter()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.request_id.filter(record)
        self.lines.append(self.json.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log record of every logger (urllib3, celery, django.request ...) at DEBUG, for the whole test."""
    handler = Everything()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    levels = {logger: logger.level for logger in loggers}
    # The root's handler, and each logger that does not propagate to it (django.server: runserver's access log).
    holders = [logging.getLogger(), *(logger for logger in loggers if not logger.propagate)]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    for logger in holders:
        logger.addHandler(handler)
    yield handler.lines
    for logger in holders:
        logger.removeHandler(handler)
    for logger, level in levels.items():
        logger.setLevel(level)


@pytest.fixture
def task_messages() -> Iterator[list[str]]:
    """Every Celery message published (body, headers and properties), as the broker would store it."""
    messages: list[str] = []

    def keep(sender=None, body=None, headers=None, properties=None, **kwargs) -> None:
        messages.append(f"{sender} body={body!r} headers={headers!r} properties={properties!r}")

    before_task_publish.connect(keep, weak=False)
    yield messages
    before_task_publish.disconnect(keep)


@pytest.fixture
def swept_world(log_lines, task_messages, sandbox, settings, monkeypatch, media_root) -> World:
    # Built after the captures are in place, so seeding, connecting and syncing are swept as well.
    return build_world(sandbox, settings, monkeypatch)


def portal_table_dump() -> str:
    """Every row of every portal table as text (the sandbox's tables are DocuSign's side, not the portal's)."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith("docusign_sandbox_"):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            rows += [f"{table}: {row!r}" for row in cursor.fetchall()]
    return "\n".join(rows)


def test_no_secret_reaches_a_log_a_task_message_a_response_or_the_database(swept_world, log_lines, task_messages):
    world = swept_world
    secrets = world.secrets
    leaks: list[str] = []

    visits = list(crawl(world, ROLES))
    for visit in visits:
        leaks += [f"{visit}: {name}" for name in secrets.found_in(visit.exposed)]
        if TOKEN_IN_URL.search(visit.exposed):
            leaks.append(f"{visit}: a URL carries a token parameter")
    leaks += [f"log: {name}" for line in log_lines for name in secrets.found_in(line)]
    leaks += [f"task message: {name}" for message in task_messages for name in secrets.found_in(message)]
    dump = portal_table_dump()
    leaks += [f"database dump: {name}" for name in secrets.found_in(dump)]

    assert not leaks, "\n".join(leaks)
    # The sweep looked where the secrets were: pages of every role, real traffic, messages and the encrypted rows.
    _, unfillable = get_routes(world)
    assert all(EXPECTED_UNFILLABLE.match(route) for route in unfillable), unfillable
    assert {visit.role for visit in visits if visit.response.status_code == 200} == set(ROLES)
    assert any("docusign_call" in line and "/oauth/token" in line for line in log_lines)
    assert any("process" in message for message in task_messages), task_messages
    credential, key = world.canary_credential, ConnectHMACKey.objects.get(organization=world.org_a)
    assert credential.get_access_token() == secrets.access_token and key.get_secret() == secrets.hmac_secret
    for ciphertext in (DocuSignCredential.objects.get(pk=credential.pk).refresh_token_ciphertext, key.secret_ciphertext):
        assert ciphertext in dump
    print(f"F5: {len(secrets.needles)} secrets, {len(visits)} responses, {len(log_lines)} log records, "
          f"{len(task_messages)} task messages, {dump.count(chr(10)) + 1} database rows: 0 occurrences")



def _invitation_token() -> str:
    """A live invitation's token, taken from its e-mail as the invitee would."""
    services.invitation_send(acting_user=factories.isv_staff("staff"), organization=factories.organization("Acme"),
                             email="invitee@acme.example", role=MembershipRole.MEMBER)
    link = mail.outbox[-1].body
    return link[link.index("/onboarding/invitations/"):].split()[0].split("/")[3]


def test_no_code_state_or_invitation_token_reaches_an_access_log(transactional_db, log_lines):
    code, state, error_description, error_uri, unknown_token = (canary() for _ in range(5))
    # (The password reset link itself, /accounts/reset/<uidb64>/<token>/, is left out: at DEBUG, django.template
    # logs the page's request, path included, in a VariableDoesNotExist traceback; the gunicorn test below has it.)
    live_token = _invitation_token()
    needles = {"code": code, "state": state, "error_description": error_description, "error_uri": error_uri,
               "unknown invitation token":
               unknown_token, "invitation token": live_token}

    with serving_portal() as portal:
        answers = [
            requests.get(f"{portal.url}/docusign/callback/", params={"code": code, "state": state},
                         allow_redirects=False, timeout=10),
            requests.get(f"{portal.url}/docusign/callback/", allow_redirects=False, timeout=10,
                         params={"error": "access_denied", "error_description": error_description, "state": state,
                                 "error_uri": f"https://account-d.docusign.com/?{error_uri}"}),  # any parameter
            requests.get(f"{portal.url}/onboarding/invitations/{unknown_token}/", timeout=10),
            requests.get(f"{portal.url}/onboarding/invitations/{live_token}/", timeout=10),
            requests.post(f"{portal.url}/onboarding/invitations/{live_token}/", timeout=10),  # no CSRF token: 403
            requests.get(f"{portal.url}/docusign/callback/?code={code}&state={state}", timeout=10,
                         headers={"Transfer-Encoding": "chunked"}),  # refused before routing: 411
        ]

    assert [a.status_code for a in answers] == [400, 400, 404, 200, 403, 411], [a.status_code for a in answers]
    ours = f"DEBUG urllib3.connectionpool {portal.url} "  # this test's own HTTP client, not the portal
    log_lines = [line for line in log_lines if not line.startswith(ours)]
    access_lines = [line for line in log_lines if " django.server " in line]
    warnings = [line for line in log_lines if " django.request " in line or " django.security.csrf " in line]
    assert len(access_lines) == len(answers) and len(warnings) >= 4, (access_lines, warnings)
    leaks = [f"{name}: {line}" for line in log_lines for name, needle in needles.items() if needle in line]
    assert not leaks, "\n".join(leaks)
    assert any("/docusign/callback/?code=[redacted]&state=[redacted]" in line for line in access_lines), access_lines
    assert any("/onboarding/invitations/[redacted]/" in line for line in warnings), warnings


def _documented_gunicorn_options() -> list[str]:
    """The web process's command in docs/operations.md, section 1, as a shell would split it."""
    line = next(line for line in OPERATIONS_DOC.read_text().splitlines() if line.startswith("| web |"))
    return shlex.split(line.split("`")[1])[2:]


def test_gunicorns_access_log_in_the_documented_format_holds_no_code_state_or_token(tmp_path):
    from gunicorn.config import Config

    code, state, token = canary(), canary(), canary()
    config = Config()
    options = _documented_gunicorn_options()
    for name in ("--access-logformat", "--logger-class"):
        assert name in options, f"docs/operations.md's web command lacks {name}"
        config.set(name.lstrip("-").replace("-", "_").replace("access_logformat", "access_log_format"),
                   options[options.index(name) + 1])
    config.set("accesslog", str(tmp_path / "access.log"))
    log = config.logger_class(config)
    for path, query in (("/docusign/callback/", f"code={code}&state={state}"),
                        (f"/onboarding/invitations/{token}/", ""), (f"/accounts/reset/MQ/{token}/", "")):
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"{path}?{query}" if query else path, "PATH_INFO": path,
                   "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_REFERER": f"https://portal.example{path}?{query}", "HTTP_USER_AGENT": "Mozilla/5.0"}
        response = SimpleNamespace(status="400 Bad Request", sent=100, headers=[("Location", f"/next/?state={state}")])
        log.access(response, SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])]), environ,
                   timedelta(milliseconds=12))
    for handler in log.access_log.handlers:
        handler.flush()

    lines = (tmp_path / "access.log").read_text().splitlines()
    assert len(lines) == 3 and "/docusign/callback/" in lines[0] and "/onboarding/invitations/" in lines[1], lines
    assert not [line for line in lines if code in line or state in line or token in line], lines
