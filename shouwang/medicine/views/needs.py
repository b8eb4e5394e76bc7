"""Placeholder index (being built)."""

from django.http import HttpResponse
from django.urls import path

from shouwang.core.views import capability_required


@capability_required("medicine.deliver")
def index(request):
    return HttpResponse("being built")


urlpatterns = [path("medicine/", index, name="index")]
