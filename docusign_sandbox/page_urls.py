"""The one-time view URLs' pages (mounted under `signing/` by docusign_sandbox.urls)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("send/<str:token>", pages.sending_page, name="sandbox_sending_page"),
    path("sign/<str:token>", pages.signing_page, name="sandbox_signing_page"),
]
