"""What "Setup DocuSign account" pushes (the setup profile) and what the portal last saw on each account.

The profile is one row, seeded from settings.DOCUSIGN_SETUP_PROFILE and editable by ISV staff in the admin.
`AccountSetupState` is per client organization; the admin changelist and the onboarding checklist read it
instead of asking DocuSign, and `account_setup` locks it so two pushes for one account never run together.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

# JSON SIM event names (docs/docusign.md §7.2): the profile may only subscribe to events DocuSign knows.
SIM_EVENTS = frozenset({
    "envelope-created", "envelope-sent", "envelope-resent", "envelope-delivered", "envelope-completed",
    "envelope-declined", "envelope-voided", "recipient-authenticationfailed", "recipient-autoresponded",
    "recipient-declined", "recipient-delivered", "recipient-completed", "recipient-sent", "recipient-resent",
    "template-created", "template-modified", "template-deleted", "envelope-corrected", "envelope-purge",
    "envelope-deleted", "envelope-discard", "recipient-reassign", "recipient-delegate", "recipient-finish-later",
    "click-agreed", "click-declined",
})
# The portal owns these: the name and listener URL identify its configuration, connectId is DocuSign's.
RESERVED_CONNECT_FIELDS = frozenset({"name", "urlToPublishTo", "connectId"})


class SetupProfile(models.Model):
    """The Connect configuration and account settings the ISV pushes to every client account (one row)."""

    connect_name = models.CharField(
        "Connect configuration name", max_length=100,
        help_text="With the listener URL, this is how the portal recognises its own configuration on an account.",
    )
    connect_configuration = models.JSONField(
        help_text="connectCustomConfiguration fields besides name and urlToPublishTo, in DocuSign's string forms.",
    )
    account_settings = models.JSONField(help_text="accountSettingsInformation properties to push: names to string values.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="docusign_setup_profile_single_row")]

    def __str__(self) -> str:
        return f"Setup profile ({self.connect_name})"

    @classmethod
    def load(cls) -> SetupProfile:
        """The profile, created from settings.DOCUSIGN_SETUP_PROFILE the first time it is needed."""
        defaults = settings.DOCUSIGN_SETUP_PROFILE
        profile, _ = cls.objects.get_or_create(pk=1, defaults={
            "connect_name": defaults["connect_name"],
            "connect_configuration": defaults["connect_configuration"],
            "account_settings": defaults["account_settings"],
        })
        return profile

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if problem := _connect_problem(self.connect_configuration):
            errors["connect_configuration"] = problem
        if not isinstance(self.account_settings, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.account_settings.items()):
            errors["account_settings"] = 'DocuSign account settings are strings: write {"attachCompletedEnvelope": "true"}.'
        if errors:
            raise ValidationError(errors)


def _connect_problem(configuration: Any) -> str:
    """Why `configuration` cannot be pushed, or "" when it can."""
    if not isinstance(configuration, dict):
        return "Enter a JSON object of connectCustomConfiguration fields."
    if reserved := sorted(RESERVED_CONNECT_FIELDS & configuration.keys()):
        return f"Leave out {', '.join(reserved)}: the portal sets them."
    events = configuration.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        return "List the JSON SIM events to publish in \"events\"."
    if unknown := sorted(set(events) - SIM_EVENTS):
        return f"DocuSign has no JSON SIM event {', '.join(unknown)}."
    return ""


class SetupStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    IN_SYNC = "in_sync", "In sync"
    DRIFTED = "drifted", "Drifted"
    MISSING = "missing", "Not set up"
    ERROR = "error", "Needs attention"


class AccountSetupState(models.Model):
    """What the last push or check found on one organization's DocuSign account."""

    organization = models.OneToOneField("tenants.ClientOrganization", on_delete=models.CASCADE, related_name="account_setup")
    status = models.CharField(max_length=20, choices=SetupStatus.choices, default=SetupStatus.UNKNOWN)
    drift = models.JSONField(default=list, blank=True, help_text="The profile fields whose value on the account differs.")
    connect_id = models.CharField("Connect configuration id", max_length=20, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last time DocuSign was asked.")
    pushed_at = models.DateTimeField(null=True, blank=True, help_text="Last time a push succeeded.")
    last_error = models.CharField(max_length=500, blank=True, help_text="What went wrong last, in words a person can act on.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "DocuSign account setup"

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_status_display()}"
