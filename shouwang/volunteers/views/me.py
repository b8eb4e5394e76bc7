"""Stub: being written."""

from django.http import HttpResponse
from django.urls import path

from shouwang.core.views import capability_required


@capability_required("volunteers.serve")
def me(request):
    return HttpResponse("")


urlpatterns = [path("volunteers/me/", me, name="me")]
