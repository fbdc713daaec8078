"""docs/security.md TS-7, TS-1 (dump) and F5: seeded secrets never leave the server.

The world (tests/security/conftest.py) seeds canaries as the client secret, an access and refresh token pair, a Connect
HMAC key, and uses the RSA private key the sandbox registered; the real token pair of a connected admin counts as secret
too. With every log record at DEBUG and every Celery message captured from the start, it sends those secrets to the
sandbox, crawls every GET route of the portal as each role, and dumps every portal table. Encryption details (AEAD,
row binding, tampering) are docs/security.md TS-1's own tests in tests/integration/test_encryption.py; error e-mails are TS-8's in
test_error_reports.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from celery.signals import before_task_publish
from django.db import connection

from docusign_integration.models import ConnectHMACKey, DocuSignCredential
from tests.security.conftest import ROLES, World, build_world
from tests.security.crawl import crawl, get_routes

TOKEN_IN_URL = re.compile(r"[?&;](code|access_token|refresh_token|id_token)=", re.IGNORECASE)
# Patterns no persona can fill: unnamed admin redirects and catch-alls, and OpenID tables the portal never writes.
EXPECTED_UNFILLABLE = re.compile(r"^admin/(.*<path:object_id>/|\(\?P<url>\.\*\)\$|social_django/(nonce|association)/)")


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, as an operator's log file would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log record of every logger (urllib3, celery, django.request ...) at DEBUG, for the whole test."""
    handler = Everything()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler.lines
    logging.getLogger().removeHandler(handler)
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

