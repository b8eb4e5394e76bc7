"""Placeholder index (being built)."""

from django.http import HttpResponse
from django.urls import path

from shouwang.core.views import capability_required


@capability_required("care.view")
def index(request):
    return HttpResponse("being built")


urlpatterns = [path("care/", index, name="index")]
