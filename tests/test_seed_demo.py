"""`make run`'s demo seed: a staff sign-in, the sandbox's partner HMAC keys and two client organizations, idempotently."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from docusign_integration.models import ConnectHMACKey
from tenants.models import ClientOrganization


def test_seed_demo_twice_gives_one_staff_user_two_organizations_and_the_partner_keys_once(sandbox, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    password = (tmp_path / "demo_staff_password.txt").read_text()
    assert f"password {password!r}" in first.getvalue()
    assert f"password {password!r}" in second.getvalue()  # the stored password is kept
    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff and staff.check_password(password)
    assert sorted(ClientOrganization.objects.values_list("slug", "system_user__email")) == [
        ("acme", "system@acme.example"), ("initech", "sender@initech.example")]
    assert ConnectHMACKey.objects.filter(environment="sandbox").count() == len(sandbox.seed["hmac_keys"])
