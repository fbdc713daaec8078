"""Client admins' onboarding pages, scoped to their own organization (mounted at /onboarding/)."""

from django.urls import path

from pages import views, views_envelopes

app_name = "onboarding"
urlpatterns = [
    path("", views.index, name="index"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("<slug:slug>/", views.checklist, name="checklist"),
    path("<slug:slug>/connect/", views.connect, name="connect"),
    path("<slug:slug>/disconnect/", views.disconnect, name="disconnect"),
    path("<slug:slug>/account/", views.account, name="account"),
    # Envelopes: sending, embedded signing, status and signed documents (pages.views_envelopes).
    path("<slug:slug>/envelopes/", views_envelopes.envelope_list, name="envelopes"),
    path("<slug:slug>/envelopes/new/", views_envelopes.envelope_new, name="envelope_new"),
    path("<slug:slug>/envelopes/return/", views_envelopes.envelope_sender_return, name="envelope_sender_return"),
    path("<slug:slug>/envelopes/<str:envelope_id>/", views_envelopes.envelope_detail, name="envelope_detail"),
    path("<slug:slug>/envelopes/<str:envelope_id>/live/", views_envelopes.envelope_live, name="envelope_live"),
    path("<slug:slug>/envelopes/<str:envelope_id>/prepare/", views_envelopes.envelope_prepare, name="envelope_prepare"),
    path("<slug:slug>/envelopes/<str:envelope_id>/sign/<str:recipient_id>/", views_envelopes.envelope_sign,
         name="envelope_sign"),
    path("<slug:slug>/envelopes/<str:envelope_id>/signed/", views_envelopes.envelope_signing_return,
         name="envelope_signing_return"),
    path("<slug:slug>/envelopes/<str:envelope_id>/documents/<str:kind>/", views_envelopes.document_download,
         name="envelope_document"),
]
