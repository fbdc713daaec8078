"""eSignature REST v2.1, relative to `restapi/v2.1/accounts/<account_id>/` (Connect is in connect_urls)."""

from django.urls import path

from . import (
    account_views,
    brands,
    custom_fields,
    documents,
    envelopes,
    groups,
    permission_profiles,
    recipients_api,
    templates_api,
    users_api,
    views_api,
    workflow,
)

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
    path("users", users_api.users),
    path("users/<str:user_id>", users_api.user),
    path("permission_profiles", permission_profiles.permission_profiles),
    path("permission_profiles/<str:profile_id>", permission_profiles.permission_profile),
    path("groups", groups.groups),
    path("groups/<str:group_id>/users", groups.group_users),
    path("brands", brands.brands),
    path("brands/<str:brand_id>", brands.brand),
]
