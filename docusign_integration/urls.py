"""DocuSign's redirects back to the portal (the one OAuth redirect URI) and the consent start pages."""

from django.urls import path

from docusign_integration.connect import listener as connect_listener
from docusign_integration.consent import views as consent_views
from docusign_integration.oauth import views
from docusign_integration.setup import views as views_setup

app_name = "docusign"
urlpatterns = [
    path("callback/", views.callback, name="callback"),
    path("consent/<slug:slug>/<str:kind>/", consent_views.consent_start, name="consent_start"),
    path("connect/", connect_listener.connect_listener, name="connect_listener"),
    path("setup/<slug:slug>/", views_setup.account_setup, name="account_setup"),
]
