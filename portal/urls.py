"""The portal's URLs. The DocuSign sandbox has its own URLconf on its own origin (docusign_sandbox.urls)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

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
    path("api/v1/", include("api.urls")),
]
