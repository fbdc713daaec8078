"""The request metrics installed with metrics on (portal/request_metrics): django-prometheus's basic series count a
request (what docs/operations.md section 10 graphs), and the ones left out for their cost are not recorded."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from prometheus_client import REGISTRY

from portal.request_metrics import RequestMetricsMiddleware


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_request_is_counted_by_method_status_and_view_with_its_latency():
    middleware = RequestMetricsMiddleware(lambda request: HttpResponse(b"ok", status=202))
    request = RequestFactory().post("/docusign/connect/", data=b"{}", content_type="application/json")
    request.resolver_match = resolve("/docusign/connect/")
    view = request.resolver_match.view_name
    series = {
        "django_http_requests_total_by_method_total": {"method": "POST"},
        "django_http_responses_total_by_status_total": {"status": "202"},
        "django_http_responses_total_by_status_view_method_total": {"status": "202", "view": view, "method": "POST"},
        "django_http_requests_latency_seconds_by_view_method_count": {"view": view, "method": "POST"},
    }
    before = {name: _value(name, **labels) for name, labels in series.items()}
    transport = _value("django_http_requests_total_by_transport_total", transport="http")

    middleware.process_request(request)
    middleware.process_view(request, None)
    middleware.process_response(request, HttpResponse(b"ok", status=202))

    assert {name: _value(name, **labels) - before[name] for name, labels in series.items()} == dict.fromkeys(series, 1)
    assert _value("django_http_requests_total_by_transport_total", transport="http") == transport  # left out
