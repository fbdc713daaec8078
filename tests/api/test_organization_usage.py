"""`GET /api/v1/organization/usage`: envelopes sent per month by the key's organization, from the portal's records.

Hosted and own-account clients get the same shape; every month of the range is listed (zero when none); bad months
are a 400 naming the field; DocuSign is never asked, and the query count does not grow with the range or the data.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from docusign_integration.envelopes.models.envelopes import CreatedVia, Envelope
from docusign_sandbox.models import RequestLog
from tests.api.conftest import api_for
from tests.hosting.conftest import hosted_pair, isv_account  # noqa: F401 (fixtures)

_n = 0


def sent(organization, *when: datetime | None) -> None:
    """Envelopes of `organization` sent at each `when` (None: a draft, never sent)."""
    global _n
    for moment in when:
        _n += 1
        Envelope.objects.create(organization=organization, envelope_id=f"00000000-0000-4000-8000-{_n:012d}",
                                environment=organization.environment, status="sent" if moment else "created",
                                sent_at=moment, created_via=CreatedVia.PORTAL)


def at(year: int, month: int, day: int = 3) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def test_a_hosted_client_sees_its_own_months_only_and_docusign_is_not_asked(hosted_pair):  # noqa: F811
    alpha, bravo = hosted_pair
    sent(alpha.organization, at(2026, 3), at(2026, 3), at(2026, 5), None)
    sent(bravo.organization, at(2026, 3), at(2026, 4))
    api = api_for(alpha.organization)
    calls = RequestLog.objects.count()

    response = api.get("organization/usage", {"from": "2026-02", "to": "2026-05"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "organization": alpha.organization.slug, "hosting": "hosted", "from": "2026-02", "to": "2026-05", "total": 3,
        "months": [{"month": "2026-02", "envelopes_sent": 0}, {"month": "2026-03", "envelopes_sent": 2},
                   {"month": "2026-04", "envelopes_sent": 0}, {"month": "2026-05", "envelopes_sent": 1}]}
    assert api_for(bravo.organization).get("organization/usage", {"from": "2026-03", "to": "2026-04"}).json()["months"] == [
        {"month": "2026-03", "envelopes_sent": 1}, {"month": "2026-04", "envelopes_sent": 1}]
    assert RequestLog.objects.count() == calls  # the portal's own records, no DocuSign call


@pytest.mark.django_db
def test_an_own_account_client_gets_the_same_shape_from_its_own_records_and_the_last_twelve_months_by_default():
    from tests import factories

    own, other = factories.organization("Own Co"), factories.organization("Other Co")
    now = timezone.now()
    sent(own, now, at(now.year - 3, 1))  # the old one is outside the default year
    sent(other, now)
    body = api_for(own).get("organization/usage").json()

    assert body["hosting"] == "own_account" and body["organization"] == own.slug
    assert len(body["months"]) == 12 and body["to"] == f"{now:%Y-%m}" and body["months"][-1] == {
        "month": f"{now:%Y-%m}", "envelopes_sent": 1}
    assert body["total"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-13"}, "from"), ({"to": "26-01"}, "to"), ({"from": "2026-1"}, "from"), ({"to": "0000-01"}, "to"),
    ({"from": "2026-05", "to": "2026-04"}, "from"), ({"from": "2000-01", "to": "2025-12"}, "from"),
    ({"to": "2999-01"}, "to")])
def test_bad_months_are_a_400_naming_the_field(params, field):
    from tests import factories

    response = api_for(factories.organization("Own Co")).get("organization/usage", params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_months_or_the_envelopes():
    from tests import factories

    small, big = factories.organization("Small"), factories.organization("Big")
    sent(small, at(2026, 1))
    sent(big, *(at(2026, month, day) for month in range(1, 13) for day in (1, 2, 3, 4)))
    counts = []
    for organization, params in ((small, {"from": "2026-01", "to": "2026-01"}), (big, {"from": "2017-01", "to": "2026-12"})):
        api = api_for(organization)
        api.get("organization")  # the first request of a key may warm caches; count a later one
        with CaptureQueriesContext(connection) as queries:
            assert api.get("organization/usage", params).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert sum("docusign_integration_envelope" in q["sql"] for q in queries.captured_queries) == 1


def test_a_consented_hosted_client_is_ready_with_no_setup_of_its_own(hosted_pair):  # noqa: F811
    alpha, _ = hosted_pair
    body = api_for(alpha.organization).get("organization").json()
    assert body["ready"] is True and body["checklist"]["account_setup"] == "isv_account"
