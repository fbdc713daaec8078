"""Staff admin for envelopes and signed documents: read-only lists with constant queries, downloads for allowed staff."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from docusign_integration.envelopes.documents import documents_download
from docusign_integration.envelopes.sync import envelopes_sweep
from docusign_integration.models import Envelope, SignedDocument
from tests import factories
from tests.envelopes.conftest import docusign_envelope


def staff_client(*codenames: str) -> Client:
    staff = factories.isv_staff("staff-" + "-".join(codenames), permissions=False)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="docusign_integration",
                                                         codename__in=codenames))
    client = Client()
    client.force_login(staff)
    return client


def test_the_envelope_list_costs_the_same_queries_for_3_or_13_envelopes(sandbox, acme):
    client = staff_client("view_envelope")
    counts = []
    for batch in (3, 10):
        for _ in range(batch):
            docusign_envelope(acme.account_id, status="sent")
        envelopes_sweep(acme)
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/admin/docusign_integration/envelope/")
        assert page.status_code == 200 and b"Sent</span>" in page.content
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Envelope.objects.count() == 13


def test_staff_allowed_to_view_signed_documents_download_them_and_others_get_403(sandbox, acme):
    docusign_envelope(acme.account_id, status="completed")
    envelopes_sweep(acme)
    documents_download(Envelope.objects.get())
    document = SignedDocument.objects.get(kind="combined")
    url = f"/admin/docusign_integration/signeddocument/{document.pk}/download/"

    allowed = staff_client("view_signeddocument")
    download = allowed.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")
    assert staff_client("view_envelope").get(url).status_code == 403
    assert allowed.post("/admin/docusign_integration/signeddocument/add/").status_code == 403
