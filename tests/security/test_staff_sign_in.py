"""Staff sign-in: throttled per username and client address (django-axes), two-factor with TOTP when required (django-otp).

The admin site's login page and the client admins' own sign-in page are both throttled; a spoofed X-Forwarded-For
never changes the address that counts unless the deployment says it sits behind that many proxies.
"""

from __future__ import annotations

import base64
import io
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tenants.models import AuditEvent
from tests import factories

ADMIN_LOGIN = "/admin/login/?next=/admin/"
CLIENT_LOGIN = "/accounts/login/"
LOCKED = "Too many failed sign-in attempts"


def sign_in(client: Client, url: str, username: str, password: str, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def fail_five_times(client: Client, url: str, username: str, **extra) -> None:
    for attempt in range(5):
        response = sign_in(client, url, username, "not-the-password", **extra)
        assert response.status_code in (200, 429), (attempt, response.status_code)


# --- Throttling (django-axes) ----------------------------------------------------------------------------------


def test_after_five_wrong_passwords_the_right_one_is_refused_with_a_clear_message(db):
    staff = factories.isv_staff()
    client = Client()
    fail_five_times(client, ADMIN_LOGIN, staff.username)

    response = sign_in(client, ADMIN_LOGIN, staff.username, factories.PASSWORD)

    assert response.status_code == 429
    page = response.content.decode().replace("\xa0", " ")
    assert LOCKED in page and "paused for 1 hour" in page
    assert client.get("/admin/").status_code == 302  # not signed in


def test_the_lockout_is_per_username_and_address_so_others_are_unaffected(db):
    staff, colleague = factories.isv_staff(), factories.isv_staff("colleague")
    fail_five_times(Client(), ADMIN_LOGIN, staff.username)

    other_address = sign_in(Client(REMOTE_ADDR="198.51.100.20"), ADMIN_LOGIN, staff.username, factories.PASSWORD)
    other_user = sign_in(Client(), ADMIN_LOGIN, colleague.username, factories.PASSWORD)

    assert other_address.status_code == 302 and other_address["Location"] == "/admin/"
    assert other_user.status_code == 302 and other_user["Location"] == "/admin/"


def test_changing_the_case_of_the_username_does_not_escape_the_lockout(db):
    """Sign-in ignores the case of the name (portal/auth_backends.py), so the failures of every spelling count together."""
    factories.isv_staff("dana@isv.example")
    client = Client()
    for attempt, spelling in enumerate(["Dana@isv.example", "DANA@isv.example", "dana@ISV.example", "dAna@isv.example",
                                        "daNa@isv.example"]):
        assert sign_in(client, ADMIN_LOGIN, spelling, "not-the-password").status_code in (200, 429), attempt

    assert sign_in(client, ADMIN_LOGIN, "DaNa@Isv.Example", factories.PASSWORD).status_code == 429


def test_a_spoofed_x_forwarded_for_does_not_escape_the_lockout_without_a_trusted_proxy(db):
    staff = factories.isv_staff()
    client = Client()
    for attempt in range(5):
        sign_in(client, ADMIN_LOGIN, staff.username, "not-the-password", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")

    response = sign_in(client, ADMIN_LOGIN, staff.username, factories.PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_behind_one_trusted_proxy_the_address_the_proxy_saw_counts_and_a_spoofed_prefix_does_not(db, settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    staff = factories.isv_staff()
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for attempt in range(5):  # the attacker at 203.0.113.5 prepends a different address to each request
        sign_in(proxy, ADMIN_LOGIN, staff.username, "not-the-password",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}, 203.0.113.5")

    attacker = sign_in(proxy, ADMIN_LOGIN, staff.username, factories.PASSWORD,
                       HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.5")
    colleague = sign_in(Client(REMOTE_ADDR="10.0.0.1"), ADMIN_LOGIN, staff.username, factories.PASSWORD,
                        HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert attacker.status_code == 429
    assert colleague.status_code == 302


def test_the_client_admins_sign_in_page_is_throttled_too(db):
    organization = factories.organization("Acme")
    person = factories.client_admin("admin-acme", organization)
    client = Client()
    fail_five_times(client, CLIENT_LOGIN, person.username)

    response = sign_in(client, CLIENT_LOGIN, person.username, factories.PASSWORD)

    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert sign_in(Client(REMOTE_ADDR="198.51.100.20"), CLIENT_LOGIN, person.username, factories.PASSWORD).status_code == 302


# --- Two-factor for staff (django-otp) ------------------------------------------------------------------------


@pytest.fixture
def otp_required(settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = True


def devices_of(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice  # the app is installed with two-factor

    return TOTPDevice.objects.filter(user=user)


def enrol(user) -> tuple:
    """`manage.py staff_totp EMAIL`; returns the TOTP device and the otpauth:// URI it printed."""
    out = io.StringIO()
    call_command("staff_totp", user.email, stdout=out)
    uri = next(line.strip() for line in out.getvalue().splitlines() if line.strip().startswith("otpauth://"))
    return devices_of(user).get(), uri


def token_for(device) -> str:
    """The current TOTP token, computed from the device's key with django-otp's own RFC 6238 helper."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


@pytest.mark.usefixtures("otp_required")
@pytest.mark.parametrize("path", ["/admin/", "/admin/tenants/clientorganization/", "/admin/dashboard/"])
def test_with_otp_required_a_password_only_session_is_sent_to_the_otp_sign_in(db, path):
    client = Client()
    client.force_login(factories.isv_staff())

    response = client.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    login_page = client.get(response["Location"]).content.decode()
    assert 'name="otp_token"' in login_page


@pytest.mark.usefixtures("otp_required")
def test_with_otp_required_the_right_password_without_a_device_does_not_open_the_admin(db):
    staff = factories.isv_staff()
    client = Client()

    response = client.post(ADMIN_LOGIN, {"username": staff.username, "password": factories.PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302


@pytest.mark.usefixtures("otp_required")
def test_with_otp_required_the_password_and_a_totp_token_open_the_admin_and_the_dashboard(db):
    staff = factories.isv_staff()
    device, _ = enrol(staff)
    client = Client()

    response = client.post(ADMIN_LOGIN, {"username": staff.username, "password": factories.PASSWORD,
                                         "otp_token": token_for(device)})

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/dashboard/").status_code == 200


@pytest.mark.usefixtures("otp_required")
def test_with_otp_required_a_wrong_token_does_not_open_the_admin(db):
    staff = factories.isv_staff()
    device, _ = enrol(staff)
    client = Client()
    wrong = f"{(int(token_for(device)) + 1) % 10 ** device.digits:0{device.digits}d}"

    response = client.post(ADMIN_LOGIN, {"username": staff.username, "password": factories.PASSWORD, "otp_token": wrong})

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_with_otp_off_a_password_session_opens_the_admin(db, settings):
    settings.PORTAL_STAFF_REQUIRE_OTP = False
    client = Client()
    client.force_login(factories.isv_staff())

    assert client.get("/admin/").status_code == 200


# --- Enrolling a device: manage.py staff_totp ----------------------------------------------------------------


def test_staff_totp_prints_an_otpauth_uri_whose_secret_is_the_device_key_and_logs_no_secret(db, caplog):
    staff = factories.isv_staff()
    caplog.set_level(logging.DEBUG)

    device, uri = enrol(staff)

    parsed = urlsplit(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    secret = parse_qs(parsed.query)["secret"][0]
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    assert device.confirmed
    assert secret not in caplog.text and device.key not in caplog.text
    event = AuditEvent.objects.get(action="staff.totp_enrolled")
    assert secret not in repr(event.after) and device.key not in repr(event.after)


def test_staff_totp_refuses_a_second_device_unless_replace_and_refuses_non_staff(db):
    staff = factories.isv_staff()
    first, _ = enrol(staff)

    with pytest.raises(CommandError, match="already has"):
        call_command("staff_totp", staff.email, stdout=io.StringIO())
    call_command("staff_totp", staff.email, "--replace", stdout=io.StringIO())
    assert [device.pk for device in devices_of(staff)] != [first.pk]
    assert devices_of(staff).count() == 1

    member = factories.user("not-staff")
    with pytest.raises(CommandError, match="not ISV staff"):
        call_command("staff_totp", member.email, stdout=io.StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("staff_totp", "nobody@example.com", stdout=io.StringIO())


def test_only_superusers_see_or_add_totp_devices_in_the_admin(db):
    from django.contrib.auth.models import Permission

    staff = factories.isv_staff()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="otp_totp"))
    enrol(staff)
    superuser = factories.user("root", is_staff=True, is_superuser=True)
    as_staff, as_superuser = Client(), Client()
    as_staff.force_login(staff)
    as_superuser.force_login(superuser)

    assert as_staff.get("/admin/otp_totp/totpdevice/").status_code == 403
    assert as_staff.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert as_superuser.get("/admin/otp_totp/totpdevice/").status_code == 200
