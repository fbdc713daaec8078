"""Connect configuration REST, mounted at `restapi/v2.1/accounts/<account_id>/connect` (docs/docusign.md §7.1).

The fixed paths come before `/<connectId>` so that `failures` and `envelopes` are never read as an id.
"""

from django.urls import path

from . import connect_views

urlpatterns = [
    path("", connect_views.configurations, name="sandbox-connect"),
    path("/failures", connect_views.failures, name="sandbox-connect-failures"),
    path("/failures/<str:failure_id>", connect_views.failure, name="sandbox-connect-failure"),
    path("/envelopes/retry_queue", connect_views.retry_queue, name="sandbox-connect-retry-queue"),
    path("/envelopes/<str:envelope_id>/retry_queue", connect_views.envelope_retry_queue,
         name="sandbox-connect-envelope-retry-queue"),
    path("/<str:connect_id>", connect_views.configuration, name="sandbox-connect-configuration"),
]
