"""Medicine pages. Each views module lists its own URL patterns."""

from shouwang.medicine.views import needs, runs

app_name = "medicine"
urlpatterns = [*needs.urlpatterns, *runs.urlpatterns]
