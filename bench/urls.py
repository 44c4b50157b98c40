"""The portal's URLs plus the bench's floor: a signed-in page that does nothing else, so
each page's time is read against what any signed-in request costs on the same machine."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


@login_required
def floor(request):
    return HttpResponse(f"signed in as user {request.user.pk}", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *portal_urlpatterns]
