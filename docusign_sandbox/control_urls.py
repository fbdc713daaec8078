"""The sandbox's control API (JSON) and console (HTML), mounted at `_sandbox/`; loopback clients only."""

from django.urls import path, re_path

from . import console, console_actions, console_templates, control_sites, control_views

urlpatterns = [
    path("", console.overview, name="sandbox-console"),
    path("console/envelopes", console.envelopes, name="sandbox-console-envelopes"),
    re_path(r"^console/envelopes/(?P<envelope_id>[^/]+)/recipients/(?P<recipient_id>[^/]+)/(?P<action>sign|decline)$",
            console_actions.recipient_act, name="sandbox-console-recipient"),
    path("console/templates", console_templates.templates, name="sandbox-console-templates"),
    path("console/connect", console.connect, name="sandbox-console-connect"),
    path("console/requests", console.requests_tail, name="sandbox-console-requests"),
    path("faults", control_views.faults_view, name="sandbox-control-faults"),
    path("requests", control_views.requests_view, name="sandbox-control-requests"),
    path("clock", control_views.clock_view, name="sandbox-control-clock"),
    re_path(r"^recipients/(?P<envelope_id>[^/]+)/(?P<recipient_id>[^/]+)/(?P<action>sign|decline|deliver)$",
            control_views.recipient_action, name="sandbox-control-recipient"),
    path("connect/drop", control_views.connect_drop, name="sandbox-control-connect-drop"),
    path("connect/flush", control_views.connect_flush, name="sandbox-control-connect-flush"),
    path("connect/deliveries", control_views.connect_deliveries, name="sandbox-control-connect-deliveries"),
    path("rate-limit", control_views.rate_limit, name="sandbox-control-rate-limit"),
    path("site", control_sites.site, name="sandbox-control-site"),
]
