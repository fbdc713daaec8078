"""Accepting an emailed invitation: signed, expiring, single-use; bad links change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from tenants import services
from tenants.models import AuditEvent, ClientMembership, Invitation, MembershipRole
from tests import factories

PASSWORD = "a-long-portal-passphrase-7"


@pytest.fixture
def invite(people, django_capture_on_commit_callbacks):
    """Send an invitation the way ISV staff do, and return the path of the link in the email."""
    def send(email: str = "new.admin@client.example", role: str = MembershipRole.ADMIN) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_send(acting_user=people.staff, organization=people.org_a, email=email, role=role)
        body = mail.outbox[-1].body
        return body[body.index("/onboarding/invitations/"):].split()[0]
    return send


def test_a_new_invitee_sets_a_password_and_lands_on_the_checklist(people, invite):
    link = invite()
    client = Client()
    assert b"Choose a password" in client.get(link).content

    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 302 and response["Location"] == f"/onboarding/{people.org_a.slug}/"
    user = get_user_model().objects.get(email="new.admin@client.example")
    assert user.check_password(PASSWORD)
    assert ClientMembership.objects.get(user=user, organization=people.org_a).role == MembershipRole.ADMIN
    assert AuditEvent.objects.filter(action="invitation.accept", organization=people.org_a).count() == 1
    assert client.get(response["Location"]).status_code == 200


def test_an_invitee_with_a_portal_account_signs_in_with_it(people, invite):
    existing = factories.user("existing")
    link = invite(email=existing.email)
    client = Client()
    assert b"already have a portal account" in client.get(link).content

    assert client.post(link, {"password": "wrong"}).status_code == 200
    response = client.post(link, {"password": factories.PASSWORD})

    assert response.status_code == 302
    assert ClientMembership.objects.filter(user=existing, organization=people.org_a).exists()


def test_a_weak_or_mismatched_password_is_refused_and_nothing_is_created(invite):
    link = invite()
    client = Client()

    weak = client.post(link, {"password1": "password", "password2": "password"})
    mismatched = client.post(link, {"password1": PASSWORD, "password2": PASSWORD + "x"})

    assert weak.status_code == mismatched.status_code == 200
    assert b"too common" in weak.content and b"The two passwords differ." in mismatched.content
    assert not get_user_model().objects.filter(email="new.admin@client.example").exists()


def test_a_used_invitation_shows_a_clear_page_and_changes_nothing(invite):
    link = invite()
    Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})
    memberships = ClientMembership.objects.count()

    again = Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})

    assert again.status_code == 410 and b"already been used" in again.content
    assert ClientMembership.objects.count() == memberships


def test_an_expired_invitation_shows_a_clear_page_and_changes_nothing(invite):
    link = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 410 and b"has expired" in response.content
    assert not get_user_model().objects.filter(email="new.admin@client.example").exists()


def test_a_tampered_invitation_link_shows_a_clear_page_and_changes_nothing(invite):
    link = invite()
    tampered = link[:-2] + ("x" if link[-2] != "x" else "y") + "/"

    response = Client().post(tampered, {"password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 404 and b"not valid" in response.content
    assert Invitation.objects.get().accepted_at is None
    assert not get_user_model().objects.filter(email="new.admin@client.example").exists()


def test_an_invitee_signs_in_later_with_their_email_in_any_case(people, invite):
    link = invite(email="New.Admin@Client.example")
    Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})

    client = Client()
    response = client.post("/accounts/login/", {"username": "NEW.ADMIN@client.EXAMPLE", "password": PASSWORD})

    assert response.status_code == 302, response.content.decode()[-1500:]
    assert client.get(f"/onboarding/{people.org_a.slug}/").status_code == 200


def test_a_second_invitation_to_the_same_email_in_another_case_is_refused_with_a_message(people, invite):
    invite(email="dora@client.example")

    with pytest.raises(ValidationError) as refused:
        services.invitation_send(acting_user=people.staff, organization=people.org_a, email="Dora@Client.EXAMPLE",
                                 role=MembershipRole.ADMIN)

    assert "An invitation to dora@client.example is pending already" in str(refused.value)
    assert Invitation.objects.filter(organization=people.org_a).count() == 1


def test_re_inviting_a_member_says_they_are_a_member_already(people, invite):
    link = invite(email="erin@client.example")
    Client().post(link, {"password1": PASSWORD, "password2": PASSWORD})

    with pytest.raises(ValidationError) as refused:
        services.invitation_send(acting_user=people.staff, organization=people.org_a, email="ERIN@client.example",
                                 role=MembershipRole.MEMBER)

    assert "erin@client.example is already a member of Organization A (client admin)" in str(refused.value)


def test_a_revoked_invitation_can_be_sent_again_to_the_same_email(people, invite):
    from tenants.invitations import invitation_revoke

    invite(email="fay@client.example")
    invitation_revoke(acting_user=people.staff, invitation=Invitation.objects.get(email="fay@client.example"))

    link = invite(email="FAY@client.example")  # not refused: the pending one was withdrawn

    assert Client().get(link).status_code == 200
