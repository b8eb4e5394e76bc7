"""Stub: being written (the staff overview; volunteers go to their own page)."""

from django.shortcuts import redirect
from django.urls import path

from shouwang.core.views import capability_required


@capability_required("volunteers.serve")
def index(request):
    return redirect("volunteers:me")


urlpatterns = [path("volunteers/", index, name="index")]
