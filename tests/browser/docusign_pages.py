"""The sandbox's DocuSign pages as a person goes through them in the browser."""

from __future__ import annotations


def sign_in_and_allow(page, sandbox, email: str) -> None:
    """On DocuSign's sign-in page (already open): sign in as the seeded `email`, then allow the ISV's app."""
    page.wait_for_url(f"{sandbox.url}/oauth/auth?**")
    page.locator("#email").fill(email)
    page.locator("#password").fill(sandbox.user(email)["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
