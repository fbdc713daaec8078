"""The sandbox's own origin: DocuSign's paths (account server, eSignature REST) plus its pages.

Served by docusign_sandbox.server (runsandbox, the pytest fixture), never by the portal's URLconf.
"""

from django.urls import include, path

from . import account_info, home

urlpatterns = [
    path("", home.root, name="sandbox-home"),
    path("readme", home.readme, name="sandbox-readme"),
    path("", include("docusign_sandbox.oauth_urls")),
    path("restapi/v2.1/accounts/<str:account_id>", account_info.account),
    path("restapi/v2.1/accounts/<str:account_id>/", include("docusign_sandbox.rest_urls")),
    path("restapi/v2.1/accounts/<str:account_id>/connect", include("docusign_sandbox.connect_urls")),
    path("_sandbox/", include("docusign_sandbox.control_urls")),
    path("signing/", include("docusign_sandbox.page_urls")),
]
