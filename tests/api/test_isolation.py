"""Every request sees its key's organization only: another organization's envelopes, templates and documents are 404,
the same answer as an id that does not exist."""

from __future__ import annotations

from api.models import CachedTemplate
from tests.api.conftest import ISV_ORIGIN, document_envelope
from tests.api.test_signing_flow import sign_in_sandbox
from tests.api.test_templates import docusign_template
from tests.envelopes.conftest import api_requests


def test_a_key_gets_404_for_another_organizations_envelopes_templates_and_documents(sandbox, acme, acme_api, globex,
                                                                                    globex_api):
    theirs = globex_api.post("envelopes", document_envelope()).json()
    template_id = docusign_template(globex)
    assert globex_api.post("templates/refresh").status_code == 200
    CachedTemplate.objects.filter(template_id=template_id).update(allowed=True)
    sign_in_sandbox(sandbox, theirs["envelope_id"], "1")
    from docusign_integration.envelopes.sync import envelopes_sweep
    envelopes_sweep(globex)
    assert globex_api.get(f"envelopes/{theirs['envelope_id']}/documents/combined").status_code == 200
    envelope = f"envelopes/{theirs['envelope_id']}"
    before = api_requests().count()

    for path in (envelope, f"{envelope}/documents/combined", f"{envelope}/documents/certificate",
                 f"templates/{template_id}"):
        response = acme_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found" and response["Content-Type"] == "application/problem+json"
    for path, body in ((f"{envelope}/void", {"reason": "mine now"}), (f"{envelope}/resend", {}),
                       (f"{envelope}/sender_view", {"return_url": f"{ISV_ORIGIN}/x"}),
                       (f"{envelope}/recipients/1/signing_view", {"end_user_id": "user-42",
                                                                  "return_url": f"{ISV_ORIGIN}/x"})):
        assert acme_api.post(path, body).status_code == 404, path
    sent_from_template = acme_api.post("envelopes", {"subject": "NDA", "template_id": template_id, "recipients": [
        {"name": "Erin", "email": "erin@customer.example", "role_name": "Client"}]})
    assert sent_from_template.status_code == 400 and sent_from_template.json()["code"] == "template_not_allowed"
    assert acme_api.get("envelopes").json()["results"] == []
    assert [t["template_id"] for t in acme_api.get("templates").json()["templates"]] == []
    assert api_requests().count() == before  # nothing of Globex's was even asked of DocuSign
