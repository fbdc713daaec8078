"""The operators' commands: sync_envelopes and download_documents against the sandbox."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from docusign_integration.models import Envelope, SignedDocument
from tests.envelopes.conftest import docusign_envelope


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_sync_envelopes_sweeps_the_named_organizations_only(sandbox, acme, globex):
    docusign_envelope(acme.account_id, status="completed")
    docusign_envelope(globex.account_id, status="sent")

    output = run("sync_envelopes", "--org", acme.slug)

    assert list(Envelope.objects.values_list("organization__slug", "status")) == [(acme.slug, "completed")]
    assert output.splitlines()[-1] == "Swept 1 of 1 organizations: 1 status changes, 1 DocuSign calls, 0 failed."


def test_sync_envelopes_all_and_unknown_slugs(sandbox, acme, globex):
    docusign_envelope(globex.account_id, status="sent")
    assert "Swept 2 of 2 organizations" in run("sync_envelopes", "--all")
    with pytest.raises(CommandError, match="No client organization with slug nope"):
        run("sync_envelopes", "--org", acme.slug, "nope")


def test_download_documents_fetches_what_is_missing_once(sandbox, acme):
    docusign_envelope(acme.account_id, status="completed")
    run("sync_envelopes", "--org", acme.slug)

    assert "1 envelopes to download" in run("download_documents", "--dry-run")
    assert not SignedDocument.objects.exists()
    assert run("download_documents", "--org", acme.slug).splitlines()[-1] == "1 envelopes processed: 2 stored."
    assert run("download_documents").splitlines()[-1] == "0 envelopes processed: nothing done."
