"""The sandbox's eSignature REST over loopback HTTP, with two accounts made directly in the database.

Used by tests/sandbox/test_rest_*.py. Each test module declares a one-line `rest` fixture around
`serve_rest_sandbox()`; the sandbox is served by SandboxServerThread without the OAuth seed, and bearer
tokens come from the sandbox's own `auth.issue_access_token`.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import requests

SIMPLE_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] " \
             b"/Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
RETURN_URL = "https://portal.example/envelopes/return?ref=42"


@dataclass
class RestSandbox:
    url: str
    account_id: str
    other_account_id: str
    admin_token: str  # an account administrator of `account_id`
    sender_token: str  # a plain sender (DocuSign Sender profile) of `account_id`
    other_token: str  # a member of `other_account_id` only
    sender_user_id: str

    def call(self, method: str, path: str, token: str | None = None, account_id: str | None = None,
             **kwargs: Any) -> requests.Response:
        """An eSignature REST call: `path` is relative to `/restapi/v2.1/accounts/<account_id>`."""
        headers = {"Authorization": f"Bearer {token or self.sender_token}", **kwargs.pop("headers", {})}
        base = f"{self.url}/restapi/v2.1/accounts/{account_id or self.account_id}"
        return requests.request(method, base + path, headers=headers, timeout=30, allow_redirects=False, **kwargs)

    def create_envelope(self, **overrides: Any) -> dict:
        body = envelope_definition(**overrides)
        response = self.call("POST", "/envelopes", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def set_clock_offset(self, seconds: float) -> None:
        from docusign_sandbox.models import SandboxControl

        SandboxControl.objects.update_or_create(pk=1, defaults={"clock_offset_seconds": seconds})


def envelope_definition(status: str = "created", client_user_id: str | None = "client-7", **overrides: Any) -> dict:
    """An envelopeDefinition with one PDF, one embedded signer (Ana) and one carbon copy."""
    signer = {"email": "ana@client.example", "name": "Ana Signer", "recipientId": "1", "routingOrder": "1",
              "tabs": {"signHereTabs": [{"anchorString": "/sn1/", "anchorUnits": "pixels"}]}}
    if client_user_id is not None:
        signer["clientUserId"] = client_user_id
    body = {
        "emailSubject": "Please sign the NDA",
        "status": status,
        "documents": [{"documentBase64": base64.b64encode(SIMPLE_PDF).decode(), "name": "NDA.pdf",
                       "fileExtension": "pdf", "documentId": "1"}],
        "recipients": {"signers": [signer],
                       "carbonCopies": [{"email": "cc@client.example", "name": "Carl Copy", "recipientId": "2",
                                         "routingOrder": "2"}]},
    }
    body.update(overrides)
    return body


def recipient_view_request(**overrides: Any) -> dict:
    body = {"returnUrl": RETURN_URL, "authenticationMethod": "None", "clientUserId": "client-7",
            "email": "ana@client.example", "userName": "Ana Signer"}
    body.update(overrides)
    return body


def _make_accounts() -> dict[str, str]:
    from docusign_sandbox.auth import JWT_TOKEN_LIFETIME, issue_access_token
    from docusign_sandbox.models import Account, IntegrationKey, Membership, User

    key = IntegrationKey.objects.create(name="Partner portal")
    account = Account.objects.create(account_number="1000001", name="Client A")
    other = Account.objects.create(account_number="1000002", name="Client B")

    def member(email: str, name: str, of: Account, **membership: Any) -> User:
        user = User.objects.create(email=email, name=name, password="!")
        Membership.objects.create(user=user, account=of, is_default=True, **membership)
        return user

    admin = member("admin@client-a.example", "Alice Admin", account, is_admin=True,
                   permission_profile="Account Administrator")
    sender = member("sender@client-a.example", "Sam Sender", account)
    stranger = member("someone@client-b.example", "Bob B", other, is_admin=True)

    def token(user: User) -> str:
        return issue_access_token(user, key, "signature impersonation", "jwt", JWT_TOKEN_LIFETIME)

    return {"account_id": account.account_id, "other_account_id": other.account_id, "admin_token": token(admin),
            "sender_token": token(sender), "other_token": token(stranger), "sender_user_id": sender.user_id}


@contextlib.contextmanager
def serve_rest_sandbox() -> Iterator[RestSandbox]:
    """The sandbox on a free loopback port, sharing the test's in-memory SQLite connection."""
    from tests.sandbox_harness import serving_sandbox

    with serving_sandbox() as thread:
        yield RestSandbox(url=thread.url, **_make_accounts())


class Browser:
    """A person's browser on the sandbox's pages: keeps cookies, reads forms, presses buttons."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.page = ""
        self.url = ""

    def open(self, url: str) -> requests.Response:
        response = self.session.get(url, timeout=30, allow_redirects=False)
        self.page, self.url = response.text, url
        return response

    def press(self, action: str, **fields: str) -> requests.Response:
        """Submit the page's form with the button `action` (the CSRF token and page value are read off the page)."""
        data = {"csrfmiddlewaretoken": self._hidden("csrfmiddlewaretoken"), "page": self._hidden("page"),
                "action": action, **fields}
        response = self.session.post(self.url, data=data, timeout=30, allow_redirects=False)
        self.page = response.text
        return response

    def _hidden(self, name: str) -> str:
        match = re.search(rf'name="{name}" value="([^"]*)"', self.page)
        assert match, f"no {name} field on the page"
        return unescape(match.group(1))


def pdf_is_well_formed(content: bytes) -> bool:
    """A PDF whose trailer, cross-reference table and object offsets all agree (what a reader relies on)."""
    if not content.startswith(b"%PDF-") or not content.rstrip().endswith(b"%%EOF"):
        return False
    startxref = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", content)
    if not startxref:
        return False
    xref_at = int(startxref.group(1))
    table = re.match(rb"xref\s+0 (\d+)\s+", content[xref_at:])
    if not table:
        return False
    size = int(table.group(1))
    entries = content[xref_at + table.end():].split(b"\n")[:size]
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        if not content[offset:].startswith(b"%d 0 obj" % number):
            return False
    trailer = content[content.rindex(b"trailer"):]
    return re.search(rb"/Root \d+ 0 R", trailer) is not None and b"/Size %d" % size in trailer


def pdf_text(content: bytes) -> str:
    """The text a reader shows for the sandbox's uncompressed text PDFs: every `(...) Tj`, one per line."""
    strings = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content)
    return "\n".join(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in strings)


def docx_bytes(*paragraphs: str) -> bytes:
    """A minimal Word document (a ZIP holding word/document.xml) with one paragraph per string."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           f'wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return buffer.getvalue()
