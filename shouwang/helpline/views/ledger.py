"""Placeholder index (being built)."""

from django.http import HttpResponse
from django.urls import path

from shouwang.core.views import capability_required


@capability_required("helpline.take")
def index(request):
    return HttpResponse("being built")


urlpatterns = [path("helpline/", index, name="index")]
