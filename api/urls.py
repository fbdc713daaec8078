"""`/api/v1/`: the ISV's API, its OpenAPI schema, and Swagger UI and Redoc served from the portal (no CDN)."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import views, views_account, views_webhooks

app_name = "api"

# Swagger UI and Redoc set inline styles (and Redoc runs a blob: worker): their two pages, which show no data, get
# that much more than the portal's policy (portal/middleware.py); scripts still come only from the portal itself.
DOCS_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
               "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def docs_page(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
    def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_POLICY
        return response
    return page


ENVELOPE = "envelopes/<str:envelope_id>"
WEBHOOK_ENDPOINT = "webhook_endpoints/<str:endpoint_id>"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_page(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="swagger-ui"),
    path("redoc/", docs_page(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    path("organization", views_account.OrganizationView.as_view(), name="organization"),
    path("organization/usage", views_account.UsageView.as_view(), name="organization-usage"),
    path("templates", views_account.TemplateListView.as_view(), name="templates"),
    path("templates/refresh", views_account.TemplateRefreshView.as_view(), name="templates-refresh"),
    path("templates/<str:template_id>", views_account.TemplateView.as_view(), name="template"),
    path("envelopes", views.EnvelopeListView.as_view(), name="envelopes"),
    path(ENVELOPE, views.EnvelopeView.as_view(), name="envelope"),
    path(f"{ENVELOPE}/void", views.VoidView.as_view(), name="envelope-void"),
    path(f"{ENVELOPE}/resend", views.ResendView.as_view(), name="envelope-resend"),
    path(f"{ENVELOPE}/sender_view", views.SenderView.as_view(), name="envelope-sender-view"),
    path(f"{ENVELOPE}/recipients/<str:recipient_id>/signing_view", views.SigningView.as_view(),
         name="envelope-signing-view"),
    path(f"{ENVELOPE}/recipients/<str:recipient_id>/focused_view", views.FocusedView.as_view(),
         name="envelope-focused-view"),
    path(f"{ENVELOPE}/documents/combined", views_account.DocumentView.as_view(), name="envelope-combined"),
    path(f"{ENVELOPE}/documents/certificate", views_account.CertificateView.as_view(), name="envelope-certificate"),
    path("webhook_endpoints", views_webhooks.WebhookEndpointListView.as_view(), name="webhook-endpoints"),
    path(WEBHOOK_ENDPOINT, views_webhooks.WebhookEndpointView.as_view(), name="webhook-endpoint"),
    path(f"{WEBHOOK_ENDPOINT}/rotate_secret", views_webhooks.RotateSecretView.as_view(), name="webhook-endpoint-rotate"),
    path(f"{WEBHOOK_ENDPOINT}/replay", views_webhooks.ReplayView.as_view(), name="webhook-endpoint-replay"),
]
