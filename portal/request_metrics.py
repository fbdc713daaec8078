"""django-prometheus's request metrics, the basics only: what docs/operations.md section 10 graphs and alerts on.

django-prometheus's after-middleware labels and records nine series on every request (by transport, by charset,
body-size histograms of requests and responses, views by transport and method, ...). With its per-statement
database histogram, that took metrics to about a tenth of a Connect delivery's CPU and 6-9% of the listener's rate
(bench/webhooks.py; issue 19's target: within 5%). This subclass keeps django-prometheus's own series, names and
labels for requests by method, responses by status and by status, view and method, latency by view and method,
exceptions and template responses; the before-middleware (every request, and latency including middlewares) is
django-prometheus's, unchanged.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django_prometheus.middleware import PrometheusAfterMiddleware  # type: ignore[import-untyped]
from django_prometheus.utils import Time, TimeSince  # type: ignore[import-untyped]


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        self.metrics.requests_by_method.labels(method=self._method(request)).inc()
        request.prometheus_after_middleware_event = Time()  # type: ignore[attr-defined]  # read in process_response

    def process_view(self, request: HttpRequest, view_func: Any, *view_args: Any, **view_kwargs: Any) -> None:
        return None  # requests by view are counted with their status in process_response

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        method, view, status = self._method(request), self._get_view_name(request), str(response.status_code)
        self.metrics.responses_by_status.labels(status=status).inc()
        self.metrics.responses_by_status_view_method.labels(status=status, view=view, method=method).inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is None:  # a middleware above answered before this one saw the request
            self.metrics.requests_unknown_latency.inc()
        else:
            self.metrics.requests_latency_by_view_method.labels(view=view, method=method).observe(TimeSince(started))
        return response
