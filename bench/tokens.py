"""Benchmark: JWT grants with the portal's token cache versus one grant per call (docs/security.md TS-5).

Runs the DocuSign sandbox in-process on a loopback port with a throwaway SQLite file, then makes the same
number of DocuSign calls (GET /oauth/userinfo) twice: through `tokens.get_impersonation_token` + `http.call`,
and naively with a fresh JWT grant before every call. Grants are counted at the choke point's session.

    .venv/bin/python bench/tokens.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import setup_django, start_sandbox  # bench/ is on sys.path when a script here runs


def _start_sandbox(tmp: Path) -> tuple[object, str]:
    """The seeded sandbox, and the user id of a user who consented (so JWT grants succeed)."""
    thread, data = start_sandbox(tmp)
    user_id = next(u["user_id"] for u in data["users"] if u["email"] == "sender@initech.example")
    return thread, user_id


def _run(calls: int, get_token: Callable[[], str]) -> tuple[int, float]:
    """Make `calls` userinfo calls with tokens from `get_token`; return (JWT grants seen, seconds)."""
    from django.conf import settings

    from docusign_integration.client import http

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
        setup_django(tmp)
        thread, user_id = _start_sandbox(tmp)
        try:
            from docusign_integration.oauth import account_server as oauth
            from docusign_integration.oauth import tokens

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
