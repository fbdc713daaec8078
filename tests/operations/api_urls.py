"""The portal's URLs plus an `/api/` route, standing in for the REST API (issue 16) in the metrics tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def thing(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(status=200 if pk < 1000 else 404)


urlpatterns = [*portal_urlpatterns, path("api/v1/things/<int:pk>/", thing)]
