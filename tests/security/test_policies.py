"""docs/security.md OA-8 (minimal scopes, no password grant, no DocuSign password field) and DP-4 (JSON-only Celery,
TLS always verified).

Already covered elsewhere: the connect request's scope is exactly "signature extended" (tests/onboarding/
test_connect.py) and the JWT assertion's is exactly "signature impersonation" (tests/integration/test_client_jwt.py);
the sandbox refuses a password grant (tests/sandbox/test_oauth_jwt.py). Here the repository-wide static checks, the
password inputs of every page, the consent link's scope and pickle refused by the app's Celery.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from kombu import Consumer, Queue
from kombu.exceptions import ContentDisallowed

from portal.celery import app as celery_app
from tests.security.conftest import ROLES
from tests.security.crawl import crawl

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_INPUT = re.compile(r"<input[^>]*type=\"password\"", re.IGNORECASE)
# The portal's own password (sign-in, invitation, password change), Django's user admin, and the HMAC key's
# write-only input: never a DocuSign password, which the portal does not ask for.
PASSWORD_PAGES = {
    "login", "password_change", "onboarding:invitation_accept", "admin:login", "admin:password_change",
    "admin:auth_user_add", "admin:auth_user_password_change", "admin:docusign_integration_connecthmackey_add",
}


def python_files_matching(pattern: str) -> list[str]:
    """`git grep` over every tracked Python file (the sandbox, bench and commands included)."""
    result = subprocess.run(["git", "grep", "-n", "-E", pattern, "--", "*.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    return [line for line in result.stdout.splitlines() if not line.startswith("tests/security/")]


def test_no_python_in_the_repository_uses_the_password_grant():
    hits = python_files_matching(r"grant_type[\"']?\s*[:=]\s*[\"']?password")
    # The sandbox's own test sends one to prove DocuSign's side refuses it.
    assert [hit.split(":")[0] for hit in hits] == ["tests/sandbox/test_oauth_jwt.py"]


def test_no_docusign_or_organization_page_has_a_password_input(world):
    with_password = {(visit.route.name, visit.url) for visit in crawl(world, ROLES)
                     if PASSWORD_INPUT.search(visit.body.decode("utf-8", "replace"))}

    assert not [url for _, url in with_password if url.startswith(("/docusign/", f"/onboarding/{world.org_a.slug}/"))]
    assert {name for name, _ in with_password} <= PASSWORD_PAGES, with_password
    assert {"login", "onboarding:invitation_accept"} <= {name for name, _ in with_password}


def test_the_consent_link_asks_for_signature_impersonation_only(world):
    response = world.client("admin_a").get(f"/docusign/consent/{world.org_a.slug}/individual/")

    assert parse_qs(urlsplit(response["Location"]).query)["scope"] == ["signature impersonation"]


def test_celery_accepts_and_sends_json_only():
    conf = celery_app.conf
    assert list(conf.accept_content) == ["json"]
    assert conf.task_serializer == "json"
    assert conf.result_accept_content in (None, ["json"]) and conf.result_serializer == "json"


def test_a_pickled_message_is_refused_by_the_app_s_consumer():
    queue = Queue("security-pickle-probe", routing_key="security-pickle-probe")
    refused, decoded = [], []
    with celery_app.connection_for_write() as connection:
        producer = connection.Producer()
        producer.publish({"task": "os.system", "args": ["true"]}, serializer="pickle", routing_key=queue.routing_key,
                         declare=[queue])
        with Consumer(connection, [queue], accept=celery_app.conf.accept_content,
                      callbacks=[lambda body, message: decoded.append(body)],
                      on_decode_error=lambda message, exc: (refused.append(exc), message.reject())):
            connection.drain_events(timeout=2)

    assert decoded == []
    assert len(refused) == 1 and isinstance(refused[0], ContentDisallowed)
