"""Client admins' onboarding pages, scoped to their own organization (mounted at /onboarding/)."""

from django.urls import path

from tenants import views

app_name = "onboarding"
urlpatterns = [
    path("", views.index, name="index"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("<slug:slug>/", views.checklist, name="checklist"),
    path("<slug:slug>/connect/", views.connect, name="connect"),
    path("<slug:slug>/disconnect/", views.disconnect, name="disconnect"),
    path("<slug:slug>/account/", views.account, name="account"),
]
