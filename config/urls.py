from django.http import HttpResponse
from django.urls import include, path
from django.views.i18n import set_language

from config.api import api
from shouwang.registry.views import home


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", home, name="home"),
    path("", include("shouwang.registry.urls")),
    path("accounts/", include("shouwang.accounts.urls")),
    path("grids/", include("shouwang.grids.urls")),
    path("", include("shouwang.residents.urls")),
    path("", include("shouwang.queues.urls")),
    path("", include("shouwang.supplies.relief.urls")),
    path("", include("shouwang.screening.urls")),
    path("", include("shouwang.supplies.buying.urls")),
    path("", include("shouwang.supplies.materials.urls")),
    path("", include("shouwang.control.urls")),
    path("", include("shouwang.checkpoints.urls")),
    path("", include("shouwang.volunteers.urls")),
    path("", include("shouwang.helpline.urls")),
    path("", include("shouwang.medicine.urls")),
    path("", include("shouwang.care.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
]
