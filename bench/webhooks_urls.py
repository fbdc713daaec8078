"""The portal's URLs plus `bench/bare/`, a view that answers 200 and does nothing: the benchmark's ceiling."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    request.read()  # read the body like the listener does, so both pay for receiving it
    return HttpResponse(status=200)


urlpatterns = [*portal_urlpatterns, path("bench/bare/", bare)]
