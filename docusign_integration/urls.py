"""DocuSign's redirects back to the portal (the one OAuth redirect URI) and the consent start pages."""

from collections.abc import Mapping

from django.urls import path

from docusign_integration.connect import listener as connect_listener
from docusign_integration.consent import views as consent_views
from docusign_integration.oauth import views
from docusign_integration.oauth.authorization_code import authorization_code_callback
from docusign_integration.oauth.state import OAuthFlow
from docusign_integration.setup import views as views_setup

# Every OAuthFlow, and nothing else (tests/onboarding/test_callback_flows.py): a literal mapping, so the one redirect
# URI routes the same whichever modules a process happened to import.
CALLBACK_HANDLERS: Mapping[str, views.CallbackHandler] = {
    OAuthFlow.AUTHORIZATION_CODE: authorization_code_callback,
    OAuthFlow.CONSENT_INDIVIDUAL: consent_views.individual_consent_return,
    OAuthFlow.CONSENT_ADMIN: consent_views.admin_consent_return,
}

app_name = "docusign"
urlpatterns = [
    path("callback/", views.callback, {"handlers": CALLBACK_HANDLERS}, name="callback"),
    path("consent/<slug:slug>/<str:kind>/", consent_views.consent_start, name="consent_start"),
    path("connect/", connect_listener.connect_listener, name="connect_listener"),
    path("setup/<slug:slug>/", views_setup.account_setup, name="account_setup"),
]
