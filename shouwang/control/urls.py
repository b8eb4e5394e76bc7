"""Area control's pages. Each views module lists its own URL patterns (`urlpatterns`)."""

from shouwang.control.views import history, notices, places, proposals

app_name = "control"
urlpatterns = [
    *places.urlpatterns,
    *proposals.urlpatterns,
    *history.urlpatterns,
    *notices.urlpatterns,
]
