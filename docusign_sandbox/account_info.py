"""Account information: `GET /restapi/v2.1/accounts/{accountId}`, which DocuSign's examples call before nearly anything.

The fields are those of DocuSign's `accountInformation` (the SDK's AccountInformation model), every scalar a
string. The plan is a developer (demo) account's: DocuSign names it DEVCENTER_DEMO_APRIL2013. The billing period
is the current calendar month of the sandbox clock; envelopes sent counts the account's envelopes sent in it.
`include_account_settings=true` adds `accountSettings`.
Reference: https://developers.docusign.com/docs/esign-rest-api/reference/accounts/accounts/get/
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import clock
from .account_views import account_settings
from .api import Caller, json_response, rest_endpoint
from .models import Account, Envelope

PLAN_NAME = "DEVCENTER_DEMO_APRIL2013"  # DocuSign's developer account plan
ENVELOPES_ALLOWED = "Unlimited"  # UNVERIFIED: developer accounts send without a quota (their documents watermarked)


def _month(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


def account_information(account: Account, *, with_settings: bool = False) -> dict[str, object]:
    now = clock.now()
    start, end = _month(now)
    sent = Envelope.objects.filter(account=account, sent_at__gte=start, sent_at__lt=end).count()
    created = account.memberships.order_by("user__created").values_list("user__created", flat=True).first() or now
    data: dict[str, object] = {
        "accountIdGuid": account.account_id, "accountName": account.name,
        "externalAccountId": account.account_number,
        # A stable id per account: the sandbox has no plan catalogue.
        "currentPlanId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"docusign-sandbox-plan/{account.account_id}")),
        "planName": PLAN_NAME, "planClassification": "partner", "planStartDate": clock.iso(created),
        "planEndDate": clock.iso(created + timedelta(days=3650)),
        "billingPeriodStartDate": clock.iso(start), "billingPeriodEndDate": clock.iso(end - timedelta(seconds=1)),
        "billingPeriodDaysRemaining": str((end - now).days), "billingPeriodEnvelopesSent": str(sent),
        "billingPeriodEnvelopesAllowed": ENVELOPES_ALLOWED, "canUpgrade": "false", "connectPermission": "full",
        "createdDate": clock.iso(created), "currencyCode": "USD", "distributorCode": "DEVCENTER_DEMO_APRIL2013",
        "docuSignLandingUrl": "", "envelopeSendingBlocked": "false", "envelopeUnitPrice": "$0.00",
        "forgottenPasswordQuestionsCount": "1", "isDowngrade": "false", "paymentMethod": "purchase_order",
        "seatsAllowed": "unlimited", "seatsInUse": str(account.memberships.filter(user__is_active=True).count()),
        "status21CFRPart11": "false",  # 21 CFR Part 11 is a paid add-on a developer account does not have
        "suspensionStatus": "", "allowTransactionRooms": "false", "useDisplayAppliance": "false",
    }
    if with_settings:
        data["accountSettings"] = account_settings(account)
    return {key: value for key, value in data.items() if value != ""}


@rest_endpoint
@require_GET
def account(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GET /accounts/{accountId}[?include_account_settings=true]: accountInformation."""
    with_settings = request.GET.get("include_account_settings", "").lower() == "true"
    return json_response(account_information(caller.account, with_settings=with_settings))
