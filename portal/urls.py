"""The portal's URLs. The DocuSign sandbox has its own URLconf on its own origin (docusign_sandbox.urls)."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from outbound_events import dev_receiver
from pages import admin_dashboard
from portal import health, metrics_view

urlpatterns = [
    path("", lambda request: redirect("admin:index"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/dashboard/", admin_dashboard.site_dashboard, name="admin_dashboard"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("onboarding/", include("pages.urls")),
    path("docusign/", include("docusign_integration.urls")),
    path("_dev/webhooks/<slug:slug>/", dev_receiver.receiver, name="dev_webhook_receiver"),  # DEBUG only (404 otherwise)
    path("api/v1/", include("api.urls")),
]
