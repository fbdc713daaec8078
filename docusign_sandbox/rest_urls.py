"""eSignature REST v2.1, relative to `restapi/v2.1/accounts/<account_id>/` (Connect is in connect_urls)."""

from django.urls import path

from . import account_views, custom_fields, documents, envelopes, recipients_api, templates_api, views_api, workflow

urlpatterns = [
    path("envelopes", envelopes.envelopes),
    path("envelopes/<str:envelope_id>", envelopes.envelope),
    path("envelopes/<str:envelope_id>/recipients", recipients_api.recipients),
    path("envelopes/<str:envelope_id>/custom_fields", custom_fields.envelope_custom_fields),
    path("envelopes/<str:envelope_id>/workflow", workflow.envelope_workflow),
    path("templates", templates_api.templates),
    path("templates/<str:template_id>", templates_api.template),
    path("envelopes/<str:envelope_id>/views/sender", views_api.sender_view),
    path("envelopes/<str:envelope_id>/views/recipient", views_api.recipient_view),
    path("envelopes/<str:envelope_id>/documents", documents.document_list),
    path("envelopes/<str:envelope_id>/documents/<str:document_id>", documents.document),
    path("settings", account_views.settings),
    path("users", account_views.users),
    path("users/<str:user_id>", account_views.user),
    path("permission_profiles", account_views.permission_profiles),
]
