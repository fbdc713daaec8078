"""Sites: each seeded account has its own `base_uri`, userinfo names it, and the wrong site is refused."""

from __future__ import annotations

import pytest
import requests

from docusign_sandbox.seed import ACME, INITECH
from tests.sandbox import assertion, jwt_grant

pytestmark = pytest.mark.django_db(transaction=True)


def _token(sandbox) -> str:
    return jwt_grant(sandbox, assertion(sandbox)).json()["access_token"]  # sender@initech.example


def _settings_at(origin: str, token: str) -> requests.Response:
    return requests.get(f"{origin}/restapi/v2.1/accounts/{INITECH.account_id}/settings",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_the_seed_puts_accounts_on_two_loopback_sites(sandbox):
    localhost = sandbox.url.replace("127.0.0.1", "localhost")

    assert sandbox.site(ACME.account_id) == sandbox.url
    assert sandbox.site(INITECH.account_id) == localhost


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_userinfo_names_the_accounts_own_site_whatever_host_it_is_asked_at(sandbox, host):
    token = _token(sandbox)

    response = requests.get(f"{sandbox.url.replace('127.0.0.1', host)}/oauth/userinfo",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert [a["base_uri"] for a in response.json()["accounts"]] == [sandbox.site(INITECH.account_id)]


def test_a_call_at_the_accounts_site_is_answered(sandbox):
    assert _settings_at(sandbox.site(INITECH.account_id), _token(sandbox)).status_code == 200


def test_a_call_at_another_accounts_site_is_refused_in_docusigns_json(sandbox):
    response = _settings_at(sandbox.site(ACME.account_id), _token(sandbox))

    assert response.status_code == 401
    assert response.json()["errorCode"] == "USER_AUTHENTICATION_FAILED"


def test_the_console_shows_each_accounts_site_brands_and_its_users_profiles(sandbox):
    from docusign_sandbox.models import Account, Brand, Membership

    globex = Account.objects.get(name="Globex HR")
    Brand.objects.create(account=globex, name="Globex Blue", is_sending_default=True)
    Membership.objects.filter(account=globex).update(permission_profile="Account Administrator",
                                                     user_status="Closed")

    page = requests.get(f"{sandbox.url}/_sandbox/", timeout=10).text

    assert sandbox.site(globex.account_id) in page and sandbox.site(ACME.account_id) in page
    assert "Globex Blue (sending default)" in page
    assert "Account Administrator <span class=\"error\">(Closed)</span>" in page


def test_userinfo_leaves_out_an_account_the_user_was_closed_in(sandbox):
    from docusign_sandbox.models import Membership

    token = _token(sandbox)
    Membership.objects.filter(account__account_id=INITECH.account_id).update(user_status="Closed")

    response = requests.get(f"{sandbox.url}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert response.json()["accounts"] == []


def test_the_control_api_moves_an_account_to_another_site(sandbox):
    token, localhost = _token(sandbox), sandbox.url.replace("127.0.0.1", "localhost")

    moved = requests.post(f"{sandbox.url}/_sandbox/site", timeout=10,
                          json={"account_id": INITECH.account_id, "base_uri": f"{sandbox.url}/"})
    info = requests.get(f"{sandbox.url}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert moved.json() == {"account_id": INITECH.account_id, "base_uri": sandbox.url}
    assert info.json()["accounts"][0]["base_uri"] == sandbox.url
    assert _settings_at(sandbox.url, token).status_code == 200
    assert _settings_at(localhost, token).json()["errorCode"] == "USER_AUTHENTICATION_FAILED"


@pytest.mark.parametrize("base_uri", ["ftp://localhost:1", "http://localhost:1/restapi", "http://u:p@localhost:1", 7])
def test_the_control_api_refuses_a_site_that_is_not_a_bare_origin(sandbox, base_uri):
    response = requests.post(f"{sandbox.url}/_sandbox/site", timeout=10,
                             json={"account_id": INITECH.account_id, "base_uri": base_uri})

    assert response.status_code == 400
    assert sandbox.site(INITECH.account_id) == sandbox.url.replace("127.0.0.1", "localhost")
    from docusign_sandbox.models import Account
    assert Account.objects.get(account_id=INITECH.account_id).base_uri == sandbox.site(INITECH.account_id)
