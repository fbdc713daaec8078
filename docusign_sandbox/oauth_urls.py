"""The account server's paths (DocuSign's own: docs/docusign.md §1) and its pages, plus the pages' stylesheet.

The sandbox's origin has no staticfiles handler, so its one stylesheet is served here.
"""

from pathlib import Path

from django.urls import path
from django.views.static import serve

from . import oauth_pages, oauth_views

STATIC_DIR = Path(__file__).resolve().parent / "static" / "docusign_sandbox"

urlpatterns = [
    path("oauth/auth", oauth_pages.authorize, name="sandbox-oauth-auth"),
    path("oauth/token", oauth_views.token, name="sandbox-oauth-token"),
    path("oauth/userinfo", oauth_views.userinfo, name="sandbox-oauth-userinfo"),
    path("login", oauth_pages.sign_in, name="sandbox-sign-in"),
    path("logout", oauth_pages.logout, name="sandbox-logout"),
    path("me/connected-apps", oauth_pages.connected_apps, name="sandbox-connected-apps"),
    path("me/connected-apps/<str:client_id>/revoke", oauth_pages.revoke_connected_app,
         name="sandbox-connected-app-revoke"),
    path("organizations/<str:organization_id>/connected-apps", oauth_pages.organization_connected_apps,
         name="sandbox-organization-connected-apps"),
    path("organizations/<str:organization_id>/connected-apps/<str:client_id>/revoke",
         oauth_pages.revoke_organization_app, name="sandbox-organization-app-revoke"),
    path("static/docusign_sandbox/<path:path>", serve, {"document_root": STATIC_DIR}),
]
