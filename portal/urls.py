"""The portal's URLs. The DocuSign sandbox has its own URLconf on its own origin (docusign_sandbox.urls)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from outbound_events import dev_receiver
from tenants import admin_dashboard


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("admin:index"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/dashboard/", admin_dashboard.site_dashboard, name="admin_dashboard"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("onboarding/", include("tenants.urls")),
    path("docusign/", include("docusign_integration.urls")),
    path("_dev/webhooks/<slug:slug>/", dev_receiver.receiver, name="dev_webhook_receiver"),  # DEBUG only (404 otherwise)
]
