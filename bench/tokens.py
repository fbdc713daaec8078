"""Benchmark: JWT grants with the portal's token cache versus one grant per call (security checklist TS-5).

Runs the DocuSign sandbox in-process on a loopback port with a throwaway SQLite file, then makes the same
number of DocuSign calls (GET /oauth/userinfo) twice: through `tokens.get_impersonation_token` + `http.call`,
and naively with a fresh JWT grant before every call. Grants are counted at the choke point's session.

    .venv/bin/python bench/tokens.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django(tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _start_sandbox(tmp: Path) -> tuple[object, str]:
    """The sandbox on a free loopback port, seeded, with the portal's settings pointed at it."""
    from django.conf import settings

    from docusign_integration import conf
    from docusign_sandbox import server
    from docusign_sandbox.seed import seed

    thread = server.SandboxServerThread().start_and_wait()
    settings.DOCUSIGN_SANDBOX_URL = thread.url
    settings.DOCUSIGN_PRIVATE_KEY, settings.DOCUSIGN_PRIVATE_KEY_FILE = "", str(tmp / "private_key.pem")
    settings.DOCUSIGN_CLIENT_SECRET, settings.DOCUSIGN_CLIENT_SECRET_FILE = "", str(tmp / "client_secret.txt")
    conf.reset_caches()
    data = seed(integration_key=settings.DOCUSIGN_INTEGRATION_KEY, private_key_path=tmp / "private_key.pem",
                client_secret_path=tmp / "client_secret.txt", redirect_uris=[settings.DOCUSIGN_REDIRECT_URI],
                base_url=thread.url)
    user_id = next(u["user_id"] for u in data["users"] if u["email"] == "sender@initech.example")
    return thread, user_id


def _run(calls: int, get_token: Callable[[], str]) -> tuple[int, float]:
    """Make `calls` userinfo calls with tokens from `get_token`; return (JWT grants seen, seconds)."""
    from django.conf import settings

    from docusign_integration import http

    grants: list[int] = []

    def count_grants(response, *args, **kwargs):  # a requests response hook on the choke point's session
        if response.request.method == "POST" and response.request.path_url == "/oauth/token":
            grants.append(response.status_code)

    http.session.hooks["response"] = [count_grants]
    started = time.perf_counter()
    try:
        for _ in range(calls):
            http.call("GET", settings.DOCUSIGN_SANDBOX_URL + "/oauth/userinfo", environment="sandbox", bearer=get_token())
    finally:
        http.session.hooks["response"] = []
    return len(grants), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as tmp_name:
        tmp = Path(tmp_name)
        _setup_django(tmp)
        thread, user_id = _start_sandbox(tmp)
        try:
            from docusign_integration import oauth, tokens

            ours = _run(calls, lambda: tokens.get_impersonation_token("sandbox", user_id))
            naive = _run(calls, lambda: oauth.jwt_grant("sandbox", user_id).access_token)
        finally:
            thread.stop()
    print(f"{'strategy':<10}{'calls':>8}{'jwt grants':>12}{'seconds':>10}{'calls/s':>10}")
    for name, (grants, seconds) in (("cached", ours), ("naive", naive)):
        print(f"{name:<10}{calls:>8}{grants:>12}{seconds:>10.2f}{calls / seconds:>10.1f}")
    ratio = naive[0] / ours[0] if ours[0] else float("inf")
    print(f"grants_ours={ours[0]} grants_naive={naive[0]} ratio={ratio:.1f} calls={calls} seconds={ours[1]:.2f}")


if __name__ == "__main__":
    main()
